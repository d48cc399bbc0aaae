//! Load tests with [goose] against the embedded gateway: the control plane, the xDS server,
//! echo backends and a real Envoy, all on loopback.
//!
//! [`run`] starts the gateway on the resources this crate ships (unless goose's `--host` names
//! another target), runs the chosen [`suites`] one after another (each a goose attack with its
//! own reports), shuts the gateway down, writes the [`report`] summary (Markdown and versioned
//! JSON) and compares it with a previous one ([`report::baseline`]).
//!
//! [`bench::run`] is the rate-limit benchmark (`bench-rate-limit`): the same Envoy route with no
//! limit, with the in-memory limiter and with the limiter counting in Redis, and the limiter
//! alone over gRPC.

pub mod bench;
pub mod gateway;
pub mod memory;
pub mod report;
pub mod scenario;
pub mod suites;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser};
use goose::config::{GooseConfiguration, RUN_FOLDER};
use goose::prelude::*;

pub use gateway::{GatewayOptions, LocalGateway};
use report::baseline::{Comparison, Thresholds};
use report::{RunReport, SuiteStats};
pub use suites::{Credentials, HostMap, Suite, SuiteArg, SuiteContext};
use suites::{Observations, Observed};
pub use summary::Summary;

/// The reports of the plain-routing suite when no `--report-file` is given (every suite's are
/// `reports/load-<scenario>.{html,json}`).
pub const DEFAULT_REPORTS: [&str; 2] = [
    "reports/load-plain-routing.html",
    "reports/load-plain-routing.json",
];

/// How long each suite's attack runs, in seconds, when neither `--run-time`, `--iterations`
/// nor `--test-plan` says.
pub const DEFAULT_RUN_TIME_SECS: usize = 10;

/// The command line: goose's own options, plus a few of ours.
#[derive(Parser)]
#[command(
    name = "portcullis-load",
    about = "Load-test portcullis: starts the embedded gateway (real Envoy, enforcer, limiter, \
             echo backends) on the resources this crate ships and runs goose suites against it",
    long_about = "Load-test portcullis: starts the embedded gateway (real Envoy, enforcer, \
                  limiter, echo backends) on the resources this crate ships (load/resources) \
                  and runs the chosen suites (--suite) one after another against its listener, \
                  each a goose attack of its own. Every goose option below is passed through to \
                  each attack.\n\n\
                  Defaults that differ from goose's: the host is the embedded gateway's \
                  listener; --run-time is 10s per suite; --increase-rate is --users (all users \
                  start within a second); the telnet controller is off; reports go to \
                  reports/load-<scenario>.{html,json}, and a summary of every suite to \
                  <first report's folder>/load-summary.{md,json}.\n\n\
                  With --host URL, no gateway is started and the suites run against URL, which \
                  must serve the same resources (--write-resources DIR writes them); the \
                  protected suites then need --bearer-token and/or --api-key.\n\n\
                  With --kubeconfig, the suites' resources are applied to that cluster (with an \
                  echo Deployment for each of their Services) for the gateway of \
                  --gateway-class, and the suites run against the Gateway load/edge at its \
                  status address (or --gateway-address); credentials as with --host.",
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
    /// The suites to run, one after another (repeat or separate with commas)
    #[arg(
        long = "suite",
        help_heading = "Portcullis",
        value_enum,
        value_delimiter = ',',
        default_value = "plain"
    )]
    pub suites: Vec<SuiteArg>,
    /// With --host: the access token the jwt and mixed suites send (without "Bearer ")
    #[arg(long, help_heading = "Portcullis", value_name = "TOKEN")]
    pub bearer_token: Option<String>,
    /// With --host: the API key the api-key and mixed suites send (header ApiKey)
    #[arg(long, help_heading = "Portcullis", value_name = "KEY")]
    pub api_key: Option<String>,
    /// Send HOST as the Host header where the shipped resources say SHIPPED (repeatable)
    #[arg(
        long = "host-header",
        help_heading = "Portcullis",
        value_name = "SHIPPED=HOST",
        value_parser = suites::target::parse_host_header
    )]
    pub host_headers: Vec<(String, String)>,
    /// Generated hostnames of the many-hosts suite (each with 3 paths)
    #[arg(long, help_heading = "Portcullis", value_name = "N", default_value_t = suites::resources::DEFAULT_MANY_HOSTS)]
    pub many_hosts: usize,
    /// Apply the suites' resources to this cluster and run against its gateway
    #[arg(
        long,
        help_heading = "Portcullis",
        value_name = "PATH",
        conflicts_with = "host"
    )]
    pub kubeconfig: Option<PathBuf>,
    /// With --kubeconfig: the GatewayClass of the gateway under test
    #[arg(
        long,
        help_heading = "Portcullis",
        value_name = "NAME",
        default_value = "portcullis",
        requires = "kubeconfig"
    )]
    pub gateway_class: String,
    /// With --kubeconfig: where load/edge's port 80 is reached when its status address is not
    /// reachable from here (a port-forward, a kind port mapping)
    #[arg(
        long,
        help_heading = "Portcullis",
        value_name = "HOST:PORT",
        requires = "kubeconfig"
    )]
    pub gateway_address: Option<String>,
    /// With --kubeconfig: the image of the echo Deployments
    #[arg(long, help_heading = "Portcullis", value_name = "IMAGE", default_value = suites::cluster::ECHO_IMAGE, requires = "kubeconfig")]
    pub echo_image: String,
    /// Write the resources every suite needs (with --many-hosts routes) into DIR and exit
    #[arg(long, help_heading = "Portcullis", value_name = "DIR")]
    pub write_resources: Option<PathBuf>,
    /// Where the summary goes: PATH.md and PATH.json [default: beside the first report, load-summary]
    #[arg(long, help_heading = "Portcullis", value_name = "PATH")]
    pub summary: Option<PathBuf>,
    /// Compare with a summary JSON a previous run wrote; exit 1 past the thresholds
    #[arg(long, help_heading = "Portcullis", value_name = "PREVIOUS.json")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: the largest allowed drop of a suite's requests/s, percent
    #[arg(long, help_heading = "Portcullis", value_name = "PCT", default_value_t = Thresholds::default().max_throughput_drop_pct)]
    pub max_throughput_drop: f64,
    /// With --baseline: the largest allowed rise of a suite's p99, percent
    #[arg(long, help_heading = "Portcullis", value_name = "PCT", default_value_t = Thresholds::default().max_p99_rise_pct)]
    pub max_p99_rise: f64,
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

    /// The suites chosen.
    pub fn selected_suites(&self) -> Vec<Suite> {
        suites::selected(&self.suites)
    }

    /// The `--baseline` thresholds.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            max_throughput_drop_pct: self.max_throughput_drop,
            max_p99_rise_pct: self.max_p99_rise,
        }
    }

    fn check(&self) -> Result<()> {
        for (name, value) in [
            ("--max-throughput-drop", self.max_throughput_drop),
            ("--max-p99-rise", self.max_p99_rise),
        ] {
            anyhow::ensure!(
                value.is_finite() && value >= 0.0,
                "{name} must be a percentage of 0 or more, not {value}"
            );
        }
        anyhow::ensure!(self.many_hosts <= 100_000, "--many-hosts must be at most 100000");
        Ok(())
    }
}

/// One suite's attack.
pub struct SuiteRun {
    /// The suite.
    pub suite: Suite,
    /// goose's metrics.
    pub metrics: GooseMetrics,
    /// Its short summary.
    pub summary: Summary,
    /// What the echo backends confirmed.
    pub observed: Observations,
    /// goose's reports written.
    pub reports: Vec<String>,
}

impl SuiteRun {
    /// Its numbers for the summary file.
    pub fn stats(&self) -> SuiteStats {
        SuiteStats::new(
            self.suite.name(),
            self.suite.scenario_name(),
            &self.summary,
            self.observed.distinct_hosts,
        )
    }
}

/// What a run produced.
pub struct Outcome {
    /// The URL attacked.
    pub target: String,
    /// goose's reports written, every suite's.
    pub reports: Vec<String>,
    /// Every suite's requests pooled.
    pub summary: Summary,
    /// Each suite's attack, in the order they ran.
    pub runs: Vec<SuiteRun>,
    /// The summary file's content.
    pub report: RunReport,
    /// The summary files written (Markdown, JSON).
    pub summary_files: Vec<PathBuf>,
    /// The comparison with `--baseline`.
    pub comparison: Option<Comparison>,
}

impl Outcome {
    /// Whether the run should fail: a failed request, or a regression past `--baseline`'s
    /// thresholds.
    pub fn failed(&self) -> bool {
        self.summary.total.failures > 0 || self.comparison.as_ref().is_some_and(Comparison::failed)
    }
}

/// Starts the embedded gateway (unless `--host` is given), runs each suite, shuts the gateway
/// down, writes the summary and compares it with `--baseline`.
pub async fn run(args: LoadArgs) -> Result<Outcome> {
    args.check()?;
    let selected = args.selected_suites();
    let informational = args.informational();
    let baseline = match &args.baseline {
        // Read first: a bad baseline should not cost a run.
        Some(path) if !informational => Some(RunReport::read(path)?),
        _ => None,
    };
    let thresholds = args.thresholds();
    let LoadArgs {
        sotw,
        envoy_log_level,
        bearer_token,
        api_key,
        host_headers,
        many_hosts,
        summary: summary_stem,
        goose: mut config,
        test_plan_given,
        kubeconfig,
        gateway_class,
        gateway_address,
        echo_image,
        ..
    } = args;
    let mut context = SuiteContext {
        credentials: Credentials {
            bearer_token,
            api_key,
        },
        hosts: HostMap::new(host_headers),
        many_hosts,
    };
    if informational {
        let observed = Arc::new(Observed::default());
        let mut attack = GooseAttack::initialize_with_config(config)?;
        for suite in &selected {
            attack = attack.register_scenario(suite.scenario(&context, &observed)?);
        }
        attack.execute().await.context("running goose")?;
        return Ok(Outcome {
            target: String::new(),
            reports: Vec::new(),
            summary: Summary::default(),
            runs: Vec::new(),
            report: RunReport::new("", false, Vec::new()),
            summary_files: Vec::new(),
            comparison: None,
        });
    }

    if let Some(kubeconfig) = kubeconfig {
        let with_apis = selected.iter().any(|s| s.needs_apis());
        let cluster = ClusterTarget {
            kubeconfig,
            gateway_class,
            gateway_address,
            echo_image,
        };
        config.host = Some(cluster.prepare(many_hosts, with_apis).await?);
    }
    let options = GatewayOptions {
        delta: !sotw,
        envoy_log_level,
        ..GatewayOptions::default()
    };
    let gateway = match &config.host {
        Some(_) => None,
        None if selected.iter().any(|s| s.needs_suite_resources()) => {
            Some(LocalGateway::start_suites(options, many_hosts).await?)
        }
        None => Some(LocalGateway::start(options).await?),
    };
    let target = match (&gateway, &config.host) {
        (Some(gateway), _) => gateway.url().to_string(),
        (None, host) => host.clone().unwrap_or_default(),
    };
    if let Some(gateway) = &gateway {
        eprintln!(
            "portcullis-load: embedded gateway {} listening on {} (Envoy from {:?})",
            gateway::GATEWAY,
            gateway.url(),
            gateway.gateway().envoy_source()
        );
        if let Some(idp) = gateway.gateway().idp() {
            context.credentials = Credentials::mint(idp)?;
        }
    }

    let result = attack_all(
        &selected,
        &mut config,
        &context,
        gateway.as_ref().map(|g| g.url()),
        test_plan_given,
    )
    .await;
    if let Some(gateway) = gateway {
        let shutdown = gateway.shutdown().await;
        if result.is_ok() {
            shutdown?;
        } else if let Err(error) = shutdown {
            eprintln!("portcullis-load: shutting the gateway down: {error:#}");
        }
    }
    let runs = result?;

    let report = RunReport::new(
        &target,
        target_is_embedded(&config),
        runs.iter().map(SuiteRun::stats).collect(),
    );
    let reports: Vec<String> = runs.iter().flat_map(|r| r.reports.iter().cloned()).collect();
    let stem = summary_stem.unwrap_or_else(|| default_summary_stem(&reports));
    let summary_files = report.write(&stem)?.to_vec();
    let comparison = baseline.map(|baseline| report::baseline::compare(&baseline, &report, thresholds));
    Ok(Outcome {
        target,
        reports,
        summary: Summary::from_runs(runs.iter().map(|r| &r.metrics)),
        runs,
        report,
        summary_files,
        comparison,
    })
}

/// A gateway on a cluster: where the suites' resources go and how its Gateway is reached.
struct ClusterTarget {
    kubeconfig: PathBuf,
    gateway_class: String,
    gateway_address: Option<String>,
    echo_image: String,
}

impl ClusterTarget {
    /// Applies the suites' resources (waiting until the gateway programmed them, as the
    /// conformance harness does) and returns the URL of the Gateway `load/edge`.
    async fn prepare(&self, many_hosts: usize, with_apis: bool) -> Result<String> {
        use portcullis_conformance::Driver;
        use portcullis_conformance::cluster::{ClusterDriver, ClusterOptions, GatewayAddressOverride};
        let mut options = ClusterOptions::default();
        if let Some(address) = &self.gateway_address {
            let spec = format!("{}:{}={address}", gateway::GATEWAY, gateway::GATEWAY_PORT);
            options.gateway_addresses.push(
                spec.parse::<GatewayAddressOverride>()
                    .map_err(|e| anyhow::anyhow!("--gateway-address: {e}"))?,
            );
        }
        // Echo pods take a while to pull and start on a fresh cluster.
        options.settle_timeout = std::time::Duration::from_secs(300);
        let driver =
            ClusterDriver::connect(Some(self.kubeconfig.clone()), self.gateway_class.clone(), options)
                .await
                .with_context(|| format!("connecting to the cluster of {}", self.kubeconfig.display()))?;
        for (name, yaml) in suites::cluster::manifests(many_hosts, with_apis, &self.echo_image)? {
            eprintln!("portcullis-load: applying {name} to the cluster");
            driver
                .apply(&name, &yaml)
                .await
                .with_context(|| format!("applying {name}"))?;
        }
        let address = driver
            .gateway_address(gateway::GATEWAY, gateway::GATEWAY_PORT)
            .await
            .with_context(|| format!("finding the address of Gateway {}", gateway::GATEWAY))?;
        eprintln!(
            "portcullis-load: Gateway {} of class {} at {address} (the resources stay; `kubectl delete namespace load` removes them)",
            gateway::GATEWAY,
            self.gateway_class
        );
        Ok(format!("http://{address}"))
    }
}

fn target_is_embedded(config: &GooseConfiguration) -> bool {
    config.host.is_none()
}

/// `load-summary` in the folder of the first report (`reports/` without one).
fn default_summary_stem(reports: &[String]) -> PathBuf {
    let folder = reports
        .first()
        .and_then(|r| Path::new(r).parent())
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("reports"), Path::to_path_buf);
    folder.join("load-summary")
}

/// Runs `suites` one after another, each with its own reports.
async fn attack_all(
    suites: &[Suite],
    config: &mut GooseConfiguration,
    context: &SuiteContext,
    host: Option<&str>,
    test_plan_given: bool,
) -> Result<Vec<SuiteRun>> {
    context.check(suites)?;
    let given = std::mem::take(&mut config.report_file);
    let mut runs = Vec::new();
    for suite in suites {
        let mut config = config.clone();
        if !config.no_metrics {
            config.report_file = report_files(&given, *suite, suites.len() > 1);
        }
        for report in &config.report_file {
            create_parent(report)?;
        }
        eprintln!("portcullis-load: suite {}", suite.name());
        let run = run_suite(*suite, config, context, host, test_plan_given)
            .await
            .with_context(|| format!("the {} suite", suite.name()))?;
        runs.push(run);
    }
    Ok(runs)
}

/// The reports of `suite`: the given ones (with `-<scenario>` before the extension when
/// several suites run, so they do not overwrite each other), or `reports/load-<scenario>.*`.
fn report_files(given: &[String], suite: Suite, several: bool) -> Vec<String> {
    if given.is_empty() {
        return ["html", "json"]
            .iter()
            .map(|ext| format!("reports/load-{}.{ext}", suite.scenario_name()))
            .collect();
    }
    given
        .iter()
        .map(|report| {
            if !several || report == RUN_FOLDER {
                return report.clone();
            }
            let path = Path::new(report);
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = match path.extension() {
                Some(ext) => format!("{stem}-{}.{}", suite.scenario_name(), ext.to_string_lossy()),
                None => format!("{stem}-{}", suite.scenario_name()),
            };
            path.with_file_name(name).to_string_lossy().into_owned()
        })
        .collect()
}

/// Runs one suite's attack against `host` (or goose's `--host`) with our defaults.
pub async fn run_suite(
    suite: Suite,
    config: GooseConfiguration,
    context: &SuiteContext,
    host: Option<&str>,
    test_plan_given: bool,
) -> Result<SuiteRun> {
    let users = config.users;
    let run_time_given = config.run_time.is_some() || config.iterations.is_some() || test_plan_given;
    let ramp_given = config.increase_rate.is_some() || config.increase_time.is_some() || test_plan_given;
    let reports = config
        .report_file
        .iter()
        .filter(|r| r.as_str() != RUN_FOLDER)
        .cloned()
        .collect();
    let observed = Arc::new(Observed::default());
    let mut attack = GooseAttack::initialize_with_config(config)?
        .register_scenario(suite.scenario(context, &observed)?)
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
    let metrics = attack.execute().await.context("running the goose attack")?;
    Ok(SuiteRun {
        suite,
        summary: Summary::from_metrics(&metrics),
        metrics,
        observed: observed.snapshot(),
        reports,
    })
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
    fn a_cluster_target_excludes_a_url_and_its_options_need_it() {
        let args = parse(&["--kubeconfig", "kind/kubeconfig", "--gateway-class", "eg"]);
        assert_eq!(args.kubeconfig.as_deref(), Some(Path::new("kind/kubeconfig")));
        assert_eq!(args.gateway_class, "eg");
        let refused = |extra: &[&str]| {
            LoadArgs::try_parse_args(std::iter::once("portcullis-load").chain(extra.iter().copied())).is_err()
        };
        assert!(refused(&["--kubeconfig", "k", "--host", "http://127.0.0.1:8080"]));
        assert!(refused(&["--gateway-class", "eg"]));
        assert!(refused(&["--gateway-address", "127.0.0.1:8080"]));
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
