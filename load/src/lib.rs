//! Load tests with [goose] against the embedded gateway: the control plane, the xDS server,
//! echo backends and a real Envoy, all on loopback.
//!
//! [`run`] starts the gateway on the resources this crate ships (unless goose's `--host` names
//! another target), runs the plain-routing scenario, writes goose's reports, shuts the gateway
//! down and returns goose's metrics with a [`Summary`].
//!
//! [`bench::run`] is the rate-limit benchmark (`bench-rate-limit`): the same Envoy route with no
//! limit, with the in-memory limiter and with the limiter counting in Redis, and the limiter
//! alone over gRPC.

pub mod bench;
pub mod gateway;
pub mod scenario;
pub mod summary;

use std::path::Path;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser};
use goose::config::{GooseConfiguration, RUN_FOLDER};
use goose::prelude::*;

pub use gateway::{GatewayOptions, LocalGateway};
pub use summary::Summary;

/// The reports written when no `--report-file` is given.
pub const DEFAULT_REPORTS: [&str; 2] = [
    "reports/load-plain-routing.html",
    "reports/load-plain-routing.json",
];

/// How long the attack runs, in seconds, when neither `--run-time`, `--iterations` nor
/// `--test-plan` says.
pub const DEFAULT_RUN_TIME_SECS: usize = 10;

/// The command line: goose's own options, plus a few of ours.
#[derive(Parser)]
#[command(
    name = "portcullis-load",
    about = "Load-test portcullis: starts the embedded gateway (real Envoy, echo backends) on the \
             resources this crate ships and runs a goose attack against it",
    long_about = "Load-test portcullis: starts the embedded gateway (real Envoy, echo backends) on \
                  the resources this crate ships (load/resources) and runs a goose attack against \
                  its listener. Every goose option below is passed through to goose.\n\n\
                  Defaults that differ from goose's: the host is the embedded gateway's listener; \
                  --run-time is 10s; --increase-rate is --users (all users start within a \
                  second); the telnet controller is off; reports go to \
                  reports/load-plain-routing.{html,json}.\n\n\
                  With --host URL, no gateway is started and the attack runs against URL (which \
                  must serve the same routes: see load/resources/plain-routing.yaml).",
    disable_version_flag = true,
    args_override_self = true,
    allow_negative_numbers = true
)]
pub struct LoadArgs {
    /// Program Envoy with State-of-the-World xDS instead of Delta
    #[arg(long, help_heading = "Portcullis")]
    pub sotw: bool,
    /// Envoy's log level
    #[arg(
        long,
        help_heading = "Portcullis",
        value_name = "LEVEL",
        default_value = "warning"
    )]
    pub envoy_log_level: String,
    /// goose's options.
    #[command(flatten)]
    pub goose: GooseConfiguration,
    /// Whether `--test-plan` was given (goose keeps that field private).
    #[arg(skip)]
    test_plan_given: bool,
}

impl LoadArgs {
    /// Parses `args` (the program name first).
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command().try_get_matches_from(args)?;
        let mut parsed = Self::from_arg_matches(&matches)?;
        // `--test-plan` has no default value, so present means given.
        parsed.test_plan_given = matches!(matches.try_get_raw("test_plan"), Ok(Some(_)));
        Ok(parsed)
    }

    /// Parses the process's command line; prints help or the error and exits on failure.
    pub fn parse_env_or_exit() -> Self {
        Self::try_parse_args(std::env::args_os()).unwrap_or_else(|e| e.exit())
    }

    /// Whether goose only prints something and exits (`--version`, `--list`,
    /// `--scenarios-list`, `--render-report`): no gateway is needed then.
    pub fn informational(&self) -> bool {
        self.goose.version
            || self.goose.list
            || self.goose.scenarios_list
            || self.goose.render_report.is_some()
    }
}

/// What a run produced.
pub struct Outcome {
    /// The URL attacked.
    pub target: String,
    /// The reports written.
    pub reports: Vec<String>,
    /// goose's metrics.
    pub metrics: GooseMetrics,
    /// The short summary.
    pub summary: Summary,
}

/// Starts the embedded gateway (unless `--host` is given), runs the attack, shuts the gateway
/// down and returns the metrics.
pub async fn run(args: LoadArgs) -> Result<Outcome> {
    let informational = args.informational();
    let LoadArgs {
        sotw,
        envoy_log_level,
        goose: mut config,
        test_plan_given,
    } = args;
    if config.report_file.is_empty() && !config.no_metrics && !informational {
        config.report_file = DEFAULT_REPORTS.iter().map(|r| r.to_string()).collect();
    }
    for report in &config.report_file {
        create_parent(report)?;
    }
    let reports = config
        .report_file
        .iter()
        .filter(|r| r.as_str() != RUN_FOLDER)
        .cloned()
        .collect();

    let gateway = match (&config.host, informational) {
        (None, false) => Some(
            LocalGateway::start(GatewayOptions {
                delta: !sotw,
                envoy_log_level,
                redis_url: None,
            })
            .await?,
        ),
        _ => None,
    };
    let target = match (&gateway, &config.host) {
        (Some(gateway), _) => gateway.url().to_string(),
        (None, Some(host)) => host.clone(),
        (None, None) => String::new(),
    };
    if let Some(gateway) = &gateway {
        eprintln!(
            "portcullis-load: embedded gateway {} listening on {} (Envoy from {:?})",
            gateway::GATEWAY,
            gateway.url(),
            gateway.gateway().envoy_source()
        );
    }

    let result = attack(config, gateway.as_ref().map(|g| g.url()), test_plan_given).await;
    if let Some(gateway) = gateway {
        let shutdown = gateway.shutdown().await;
        if result.is_ok() {
            shutdown?;
        } else if let Err(error) = shutdown {
            eprintln!("portcullis-load: shutting the gateway down: {error:#}");
        }
    }
    let metrics = result?;
    let summary = Summary::from_metrics(&metrics);
    Ok(Outcome {
        target,
        reports,
        metrics,
        summary,
    })
}

/// Runs the plain-routing scenario against `host` (or goose's `--host`) with our defaults.
async fn attack(
    config: GooseConfiguration,
    host: Option<&str>,
    test_plan_given: bool,
) -> Result<GooseMetrics> {
    let users = config.users;
    let run_time_given = config.run_time.is_some() || config.iterations.is_some() || test_plan_given;
    let ramp_given = config.increase_rate.is_some() || config.increase_time.is_some() || test_plan_given;
    let mut attack = GooseAttack::initialize_with_config(config)?
        .register_scenario(scenario::plain_routing())
        // The telnet controller would listen on 127.0.0.1:5116; two runs side by side collide.
        .set_default(GooseDefault::NoTelnet, true)?;
    if let Some(host) = host {
        attack = attack.set_default(GooseDefault::Host, host)?;
    }
    if !run_time_given {
        attack = attack.set_default(GooseDefault::RunTime, DEFAULT_RUN_TIME_SECS)?;
    }
    if let (Some(users), false) = (users, ramp_given) {
        attack = attack.set_default(GooseDefault::IncreaseRate, users.max(1).to_string().as_str())?;
    }
    attack.execute().await.context("running the goose attack")
}

/// Sends the gateway's logs (tracing) to stderr, filtered by `PORTCULLIS_LOG` (default `warn`).
/// goose keeps its own logger for the `log` crate, so no bridge from `log` to tracing is
/// installed.
pub fn init_tracing() {
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

fn create_parent(report: &str) -> Result<()> {
    if report == RUN_FOLDER {
        return Ok(());
    }
    match Path::new(report).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> LoadArgs {
        match LoadArgs::try_parse_args(std::iter::once("portcullis-load").chain(args.iter().copied())) {
            Ok(args) => args,
            Err(error) => panic!("{args:?}: {error}"),
        }
    }

    #[test]
    fn goose_options_pass_through() {
        let args = parse(&["--users", "20", "--run-time", "10s", "-r", "5", "--sotw"]);
        assert_eq!(args.goose.users, Some(20));
        assert_eq!(args.goose.run_time.as_deref(), Some("10s"));
        assert_eq!(args.goose.increase_rate.as_deref(), Some("5"));
        assert!(args.sotw);
        assert!(!args.test_plan_given);
        assert!(args.goose.host.is_none());
        assert!(!args.informational());
        // The last of a repeated option wins, so `just load --users 50` overrides its default.
        assert_eq!(parse(&["--users", "20", "--users", "50"]).goose.users, Some(50));
    }

    #[test]
    fn a_test_plan_and_a_host_are_noticed() {
        let args = parse(&["--test-plan", "2,1s;0,1s", "--host", "http://127.0.0.1:8080"]);
        assert!(args.test_plan_given);
        assert_eq!(args.goose.host.as_deref(), Some("http://127.0.0.1:8080"));
        assert!(parse(&["--list"]).informational());
    }

    #[test]
    fn unknown_options_are_refused() {
        assert!(LoadArgs::try_parse_args(["portcullis-load", "--hatch-rate", "5"]).is_err());
    }
}
