//! `portcullis`: run the reference gateway, check resources offline, run the conformance suites.

mod conformance;
mod deployer;
mod kube_client;
mod run;
mod scenarios;
mod translate;

use clap::{Parser, Subcommand};

/// A reference API gateway for Kubernetes, and the harness that proves it.
#[derive(Parser, Debug)]
#[command(name = "portcullis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the gateway (control plane + Envoy) on a folder of resources or a Kubernetes cluster.
    Run(run::RunArgs),
    /// Show offline what the gateway would do with a folder of resources.
    Translate(translate::TranslateArgs),
    /// Run every conformance suite against the embedded gateway, or a cluster (--kubeconfig).
    Conformance(conformance::ConformanceArgs),
    /// Import test collections from other tools as conformance scenarios.
    Scenarios(scenarios::ScenariosArgs),
    /// Serve APK's Config Service and Deployer, deploying APIs into a Kubernetes cluster.
    Deployer(deployer::DeployerArgs),
    /// Benchmark the gateway against bare Envoy and Envoy's native filters, alternating.
    Bench(portcullis_load::bench::gateway::GatewayBenchOptions),
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            init_tracing("info");
            run::run(args).await
        }
        Command::Translate(args) => {
            init_tracing("warn");
            translate::translate(args)
        }
        Command::Conformance(args) => {
            init_tracing("warn");
            conformance::conformance(args).await
        }
        Command::Scenarios(args) => {
            init_tracing("warn");
            scenarios::scenarios(args)
        }
        Command::Deployer(args) => {
            init_tracing("info");
            deployer::deployer(args).await
        }
        Command::Bench(options) => {
            init_tracing("warn");
            let report = portcullis_load::bench::gateway::run(&options).await?;
            println!("{}", report.markdown());
            for path in portcullis_load::bench::gateway::write(&report, &options.out_dir)? {
                println!("report: {}", path.display());
            }
            anyhow::ensure!(
                report.ok(),
                "{} problems: {}",
                report.problems.len(),
                report.problems.join("; ")
            );
            Ok(())
        }
    }
}
