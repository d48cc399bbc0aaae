//! `portcullis-load`: a goose attack on the embedded gateway. See [`portcullis_load::LoadArgs`].

use std::process::ExitCode;

use portcullis_load::{LoadArgs, run};

/// Logs of the gateway (tracing) go to stderr; goose keeps its own logger for the `log` crate,
/// so no bridge from `log` to tracing is installed.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .finish();
    if let Err(error) = tracing::subscriber::set_global_default(subscriber) {
        eprintln!("portcullis-load: no gateway logs: {error}");
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = LoadArgs::parse_env_or_exit();
    init_tracing();
    let informational = args.informational();
    match run(args).await {
        Ok(_) if informational => ExitCode::SUCCESS,
        Ok(outcome) => {
            println!("\nportcullis-load against {}:", outcome.target);
            print!("{}", outcome.summary);
            for report in &outcome.reports {
                println!("report: {report}");
            }
            if outcome.summary.total.failures > 0 {
                eprintln!(
                    "portcullis-load: {} requests failed",
                    outcome.summary.total.failures
                );
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("portcullis-load: {error:#}");
            ExitCode::FAILURE
        }
    }
}
