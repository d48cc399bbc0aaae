//! `cargo test` runs the whole Gateway API suite against the embedded gateway with real Envoy.

use std::path::PathBuf;
use std::sync::Arc;

use portcullis_conformance::embedded::EmbeddedDriver;
use portcullis_conformance::{RunOptions, run_conformance};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let features_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../features");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/conformance");
    let driver = Arc::new(EmbeddedDriver::start().await?);
    let options = RunOptions {
        features_dir,
        report: Some(out.join("report.yaml")),
        junit: Some(out.join("junit.xml")),
        name_filter: std::env::var("PORTCULLIS_SCENARIO").ok(),
    };
    let summary = run_conformance(driver.clone(), &options).await?;
    println!("{}", summary.table());
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
    anyhow::ensure!(summary.passed() > 0, "no scenario ran");
    Ok(())
}
