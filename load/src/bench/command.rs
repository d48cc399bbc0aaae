//! What every benchmark command shares: parse its options, run, print the table, write the
//! Markdown and JSON reports, and fail when the run found problems.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

/// A benchmark's report.
pub trait BenchmarkReport: serde::Serialize {
    /// The report as a Markdown table with its findings.
    fn markdown(&self) -> String;
    /// What went wrong (failed requests, checks that did not hold); empty when all is well.
    fn problems(&self) -> &[String];
}

/// Writes the report as Markdown and JSON into `dir` (created if need be) under `files`
/// (`[markdown, json]`); returns their paths.
pub fn write_files<R: BenchmarkReport>(report: &R, dir: &Path, files: [&str; 2]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let markdown = dir.join(files[0]);
    std::fs::write(&markdown, report.markdown())
        .with_context(|| format!("writing {}", markdown.display()))?;
    let json = dir.join(files[1]);
    let text = serde_json::to_string_pretty(report).context("serialising the report")?;
    std::fs::write(&json, text + "\n").with_context(|| format!("writing {}", json.display()))?;
    Ok(vec![markdown, json])
}

/// A benchmark command: `parse` the arguments (help is not a failure), `run`, print the table,
/// write the reports into the folder `out_dir` gives, and exit with failure when the run could
/// not complete or found problems.
pub async fn run_command<O, R, Fut>(
    command: &str,
    parse: impl FnOnce() -> Result<O, clap::Error>,
    out_dir: impl Fn(&O) -> PathBuf,
    files: [&str; 2],
    run: impl FnOnce(O) -> Fut,
) -> ExitCode
where
    R: BenchmarkReport,
    Fut: Future<Output = Result<R>>,
{
    let options = match parse() {
        Ok(options) => options,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let dir = out_dir(&options);
    let report = match run(options).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("{command}: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    println!("\n{}", report.markdown());
    match write_files(&report, &dir, files) {
        Ok(paths) => {
            for path in paths {
                println!("report: {}", path.display());
            }
        }
        Err(error) => {
            eprintln!("{command}: {error:#}");
            return ExitCode::FAILURE;
        }
    }
    if report.problems().is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("{command}: {} problems, see above", report.problems().len());
        ExitCode::FAILURE
    }
}
