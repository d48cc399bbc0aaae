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
    /// Print the CustomResourceDefinitions of the APK kinds portcullis serves (YAML, for
    /// `kubectl apply --server-side -f -`).
    Crds,
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

/// Writes every CRD to stdout; a reader that stops early (`| head`) is not an error.
fn print_crds() -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for crd in portcullis_model::crds::apk_crds() {
        let written = write!(out, "---\n{}", serde_yaml::to_string(&crd)?);
        match written {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
    }
    Ok(())
}

/// glibc's per-thread arenas keep freed memory resident under tokio's threads and fragment
/// with the control plane's large, short-lived translations; mimalloc returns it and
/// allocates faster (the translator is allocation-bound).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    portcullis_load::memory::keep_resident_memory_low();
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
        Command::Crds => print_crds(),
        Command::Bench(options) => {
            init_tracing("warn");
            // Reads --baseline before running; fails after writing the reports on problems or
            // a regression against the baseline.
            portcullis_load::bench::gateway::command(&options).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("portcullis").chain(args.iter().copied()))
    }

    #[test]
    fn the_kind_deployment_args_parse() {
        let manifest =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../kind/portcullis.yaml"))
                .expect("kind/portcullis.yaml");
        let deployment = serde_yaml::Deserializer::from_str(&manifest)
            .map(|doc| <serde_yaml::Value as serde::Deserialize>::deserialize(doc).expect("YAML"))
            .find(|doc| doc["kind"] == "Deployment")
            .expect("a Deployment");
        let args: Vec<&str> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
            .as_sequence()
            .expect("args")
            .iter()
            .filter_map(serde_yaml::Value::as_str)
            .collect();
        let cli = parse(&args).expect("the manifest's args parse");
        assert!(matches!(cli.command, Command::Run(_)));
    }

    #[test]
    fn run_takes_exactly_one_source_and_cluster_options_only_with_a_cluster() {
        assert!(parse(&["run", "--resources", "."]).is_ok());
        assert!(parse(&["run", "--kubeconfig", "k", "--namespace", "apps"]).is_ok());
        assert!(parse(&["run", "--in-cluster", "--rediscover-every", "30"]).is_ok());
        for wrong in [
            &["run"][..],
            &["run", "--resources", ".", "--kubeconfig", "k"],
            &["run", "--kubeconfig", "k", "--in-cluster"],
            &["run", "--resources", ".", "--namespace", "apps"],
            &["run", "--resources", ".", "--rediscover-every", "30"],
            &["run", "--in-cluster", "--rediscover-every", "0"],
        ] {
            assert!(parse(wrong).is_err(), "{wrong:?} was accepted");
        }
    }
}
