//! `portcullis conformance`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use portcullis_conformance::embedded::EmbeddedDriver;
use portcullis_conformance::{RunOptions, run_conformance};

/// Options of `portcullis conformance`.
#[derive(Args, Debug)]
pub struct ConformanceArgs {
    /// The features folder.
    #[arg(long, default_value = "features")]
    features: PathBuf,
    /// Where to write the upstream ConformanceReport (YAML).
    #[arg(long, default_value = "reports/conformance-report.yaml")]
    report: PathBuf,
    /// Where to write JUnit XML.
    #[arg(long, default_value = "reports/junit.xml")]
    junit: PathBuf,
    /// Only scenarios whose name contains this.
    #[arg(long)]
    scenario: Option<String>,
}

/// Starts the embedded gateway and runs the suites.
pub async fn conformance(args: ConformanceArgs) -> anyhow::Result<()> {
    eprintln!("starting the embedded gateway (Envoy, xDS, echo backends)…");
    let driver = Arc::new(
        EmbeddedDriver::start()
            .await
            .context("starting the embedded gateway")?,
    );
    let options = RunOptions {
        features_dir: args.features,
        report: Some(args.report.clone()),
        junit: Some(args.junit.clone()),
        name_filter: args.scenario,
    };
    let summary = run_conformance(driver.clone(), &options).await?;
    println!("\n{}", summary.table());
    println!(
        "report: {}\njunit:  {}",
        args.report.display(),
        args.junit.display()
    );
    println!(
        "{} passed, {} failed, {} skipped",
        summary.passed(),
        summary.failed(),
        summary.not_supported()
    );
    if let Ok(driver) = Arc::try_unwrap(driver) {
        driver.shutdown().await?;
    }
    anyhow::ensure!(summary.failed() == 0, "{} scenarios failed", summary.failed());
    Ok(())
}
