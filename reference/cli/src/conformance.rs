//! `portcullis conformance`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use portcullis_conformance::cluster::{
    ClusterDriver, ClusterOptions, DEFAULT_FEATURES, GatewayAddressOverride, REFERENCE_CLASS,
};
use portcullis_conformance::embedded::EmbeddedDriver;
use portcullis_conformance::{Driver, RunOptions, RunSummary, run_conformance};

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
    /// Run against the gateway on the cluster of this kubeconfig (its current context) instead
    /// of the embedded gateway.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The cluster's GatewayClass; the suites' Gateways are moved to it.
    #[arg(long, value_name = "NAME", default_value = REFERENCE_CLASS, requires = "kubeconfig")]
    gateway_class: String,
    /// The upstream features the cluster's gateway claims (comma-separated; default: Gateway,
    /// HTTPRoute, ReferenceGrant). Scenarios needing others are reported as not supported.
    #[arg(long, value_name = "A,B", value_delimiter = ',', requires = "kubeconfig")]
    supported_features: Vec<String>,
    /// Where a Gateway's port is reachable when its status address is not (a port-forward, a
    /// kind port mapping): `namespace/name:port=host:port`. Repeatable.
    #[arg(long, value_name = "NS/NAME:PORT=HOST:PORT", requires = "kubeconfig")]
    gateway_address: Vec<GatewayAddressOverride>,
}

/// Runs the suites against the embedded gateway, or against a cluster's gateway.
pub async fn conformance(args: ConformanceArgs) -> anyhow::Result<()> {
    let options = RunOptions {
        features_dir: args.features.clone(),
        report: Some(args.report.clone()),
        junit: Some(args.junit.clone()),
        name_filter: args.scenario.clone(),
    };
    let summary = match &args.kubeconfig {
        Some(kubeconfig) => {
            let features = if args.supported_features.is_empty() {
                DEFAULT_FEATURES.iter().map(|f| f.to_string()).collect()
            } else {
                args.supported_features
                    .iter()
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty())
                    .collect()
            };
            let cluster_options = ClusterOptions {
                supported_features: features,
                gateway_addresses: args.gateway_address.clone(),
                ..ClusterOptions::default()
            };
            if args.gateway_class == REFERENCE_CLASS {
                eprintln!(
                    "warning: GatewayClass {REFERENCE_CLASS} has no in-cluster controller yet; \
                     pass --gateway-class with the class of the gateway installed on the cluster"
                );
            }
            eprintln!(
                "connecting to the cluster of {} (GatewayClass {})…",
                kubeconfig.display(),
                args.gateway_class
            );
            let driver = ClusterDriver::connect(
                Some(kubeconfig.clone()),
                args.gateway_class.clone(),
                cluster_options,
            )
            .await
            .with_context(|| format!("connecting with {}", kubeconfig.display()))?;
            let driver: Arc<dyn Driver> = Arc::new(driver);
            run_conformance(driver, &options).await?
        }
        None => {
            eprintln!("starting the embedded gateway (Envoy, xDS, echo backends)…");
            let driver = Arc::new(
                EmbeddedDriver::start()
                    .await
                    .context("starting the embedded gateway")?,
            );
            let summary = run_conformance(driver.clone(), &options).await?;
            if let Ok(driver) = Arc::try_unwrap(driver) {
                driver.shutdown().await?;
            }
            summary
        }
    };
    print_summary(&args, &summary);
    anyhow::ensure!(summary.failed() == 0, "{} scenarios failed", summary.failed());
    Ok(())
}

fn print_summary(args: &ConformanceArgs, summary: &RunSummary) {
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
}
