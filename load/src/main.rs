//! `portcullis-load`: goose suites against the embedded gateway. See
//! [`portcullis_load::LoadArgs`].
//!
//! `portcullis-load bench-rate-limit [OPTIONS]` runs the rate-limit benchmark instead (see
//! [`portcullis_load::bench`]); so does the `bench-rate-limit` binary.

use std::process::ExitCode;

use portcullis_load::suites::resources;
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
    if let Some(dir) = &args.write_resources {
        return match resources::write(dir, args.many_hosts) {
            Ok(files) => {
                for file in files {
                    println!("{}", file.display());
                }
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("portcullis-load: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    let informational = args.informational();
    match run(args).await {
        Ok(_) if informational => ExitCode::SUCCESS,
        Ok(outcome) => {
            println!("\nportcullis-load against {}:", outcome.target);
            for run in &outcome.runs {
                print!("[{}] {}", run.suite.name(), run.summary);
            }
            for report in outcome
                .reports
                .iter()
                .map(String::as_str)
                .chain(outcome.summary_files.iter().filter_map(|p| p.to_str()))
            {
                println!("report: {report}");
            }
            if let Some(comparison) = &outcome.comparison {
                println!("\nAgainst the baseline:\n\n{}", comparison.markdown());
            }
            if outcome.summary.total.failures > 0 {
                eprintln!(
                    "portcullis-load: {} requests failed",
                    outcome.summary.total.failures
                );
            }
            if outcome.comparison.as_ref().is_some_and(|c| c.failed()) {
                eprintln!("portcullis-load: the run regressed against the baseline");
            }
            if outcome.failed() {
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
