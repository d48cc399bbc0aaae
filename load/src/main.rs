//! `portcullis-load`: a goose attack on the embedded gateway. See [`portcullis_load::LoadArgs`].
//!
//! `portcullis-load bench-rate-limit [OPTIONS]` runs the rate-limit benchmark instead (see
//! [`portcullis_load::bench`]); so does the `bench-rate-limit` binary.

use std::process::ExitCode;

use portcullis_load::{LoadArgs, bench, init_tracing, run};

#[tokio::main]
async fn main() -> ExitCode {
    // goose takes no positional arguments, so a first one naming the benchmark is unambiguous.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == bench::COMMAND)
    {
        init_tracing();
        return bench::cli(std::env::args_os().skip(1)).await;
    }
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
