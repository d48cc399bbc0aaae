//! `bench-gateway` (`portcullis bench`, issue 6): what the reference gateway costs against bare
//! Envoy and Envoy's native filters, in one run, on one machine, to one echo backend:
//!
//! 1. a static Envoy with only the router;
//! 2. the same static Envoy with `jwt_authn` (the benchmark IdP's JWKS inline) and
//!    `local_ratelimit` (a token bucket too large to throttle: it measures the cost);
//! 3. the embedded gateway: an APK API with APK's default Authentication (OAuth2, mandatory:
//!    ext_authz to the enforcer) and a RateLimitPolicy too high to throttle (the limiter,
//!    counting in memory);
//! 4. the same on a second gateway whose limiter counts in Redis (a Valkey started for the
//!    run);
//! 5. the static Envoy with `ext_authz` and `ratelimit` calling services that answer at once
//!    ([`crate::bench::noop`]): the floor of (3), what the two calls cost in Envoy whatever
//!    the services do.
//!
//! Every request carries the same token, which (2)–(4) verify against the same key. Before
//! measuring, each configuration is checked: 401 without a token and with a forged one, 200
//! with the token, and the counters of its filters moved (jwt_authn, local_ratelimit, the
//! enforcer's check calls, the limiter's decisions, the no-op services' calls). The five alternate `--repeats` times
//! ([`http::attack`]); every run must be answered 2xx and its filters must have been called
//! for every request, or the run fails. Requests/s, p50/p99/p99.9 and CPU seconds per 1,000
//! requests (this process, the Envoys, Redis) are reported with their ratio to (1) in the same
//! repeat; the issue's targets are PASS or MISS, never failed on.

pub mod baseline;
pub mod issuer;
pub mod report;
pub mod resources;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use hyper::header::HeaderValue;
use portcullis_echo::{EchoIdentity, EchoServer, pod_name};
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy};
use portcullis_translate::envoy::security::ENFORCER_CLUSTER;

use crate::bench::command::write_files;
use crate::bench::cpu::{self, Processes};
use crate::bench::http::{self, HttpTarget, Refusals};
use crate::bench::report::{Machine, thousands};
use crate::bench::sample::Sample;
use crate::bench::static_envoy::{self, GrpcCluster, LOCAL_RATE_LIMIT_PREFIX, StaticEnvoy, StaticListener};
use crate::bench::{noop, redis};
pub use baseline::{Baseline, BaselineComparison, BaselineError, Thresholds};
use issuer::BenchIssuer;
pub use report::{Calls, Configuration, GatewayReport, LoadAverage, Row, Run, Settings, Target};

/// The name of the binary (and of the `portcullis-load` subcommand).
pub const COMMAND: &str = "bench-gateway";

/// The files written, in `--out-dir`.
pub const REPORT_FILES: [&str; 2] = ["bench-gateway.md", "bench-gateway.json"];

/// `local_ratelimit`'s bucket: a billion tokens a second is never drained here.
const LOCAL_RATE_LIMIT_TOKENS: u32 = 1_000_000_000;

/// The static Envoy's cluster of the no-op ext_authz service.
const NOOP_AUTHZ_CLUSTER: &str = "noop_authz";
/// The static Envoy's cluster of the no-op rate-limit service.
const NOOP_RATE_LIMIT_CLUSTER: &str = "noop_rate_limit";

/// The command line.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "bench-gateway",
    about = "Benchmark the reference gateway against bare Envoy and Envoy's native filters: \
             router only, jwt_authn + local_ratelimit, enforcer + limiter in memory, and in Redis",
    long_about = "Benchmark the reference gateway in one run, on one machine, to one echo \
                  backend: (1) a static Envoy with only the router, (2) the same with Envoy's \
                  jwt_authn and local_ratelimit, (3) the embedded gateway with an APK API \
                  requiring OAuth2 (the enforcer) and a RateLimitPolicy (the limiter in \
                  memory), (4) the same with the limiter's counters in Redis, (5) the static \
                  Envoy calling no-op ext_authz and rate-limit services (the floor of (3)). \
                  Alternated 1,2,3,4,5,1,2,… Reports requests/s, p50/p99/p99.9 latency and CPU seconds \
                  per 1,000 requests, each with its ratio to (1), and the targets of issue 6 \
                  (PASS/MISS). Prints a Markdown table and writes it, with JSON, to \
                  OUT_DIR/bench-gateway.{md,json}. Fails if any request got anything but a 2xx \
                  or a filter was not called for every request. With --baseline FILE (a previous \
                  bench-gateway.json), compares each of (2)–(5) by its ratio to (1) with the \
                  same ratio in FILE, adds the comparison to the table and the reports, and \
                  fails (after writing them) when a requests/s ratio dropped more than \
                  --max-throughput-drop % or a p99 ratio rose more than --max-p99-rise %, or \
                  when no ratio could be compared; (1)'s own numbers are shown, not judged.",
    disable_version_flag = true
)]
pub struct GatewayBenchOptions {
    /// Concurrent users (keep-alive connections) per run
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    /// Measured seconds per run
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Runs of each configuration
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Seconds of load before each run's measurement starts (not counted)
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Where the reports go
    #[arg(long, default_value = "reports")]
    pub out_dir: PathBuf,
    /// Envoy's log level (every Envoy)
    #[arg(long, value_name = "LEVEL", default_value = "warning")]
    pub envoy_log_level: String,
    /// A previous run's bench-gateway.json to compare with: (2)–(5) are judged by their ratio
    /// to (1) (requests/s and p99); the command fails, after writing the reports, when one
    /// regressed. Read before the benchmark starts
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With --baseline: the largest allowed drop of a configuration's requests/s ratio to (1),
    /// percent of the baseline's ratio
    #[arg(long, value_name = "PCT", default_value_t = 10.0, requires = "baseline")]
    pub max_throughput_drop: f64,
    /// With --baseline: the largest allowed rise of a configuration's p99 ratio to (1), percent
    /// of the baseline's ratio
    #[arg(long, value_name = "PCT", default_value_t = 25.0, requires = "baseline")]
    pub max_p99_rise: f64,
}

impl GatewayBenchOptions {
    /// Parses `args` (the program name first).
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::try_parse_from(args)
    }

    fn check(&self) -> Result<()> {
        if !(1..=10_000).contains(&self.users) {
            bail!("--users must be 1 to 10000, not {}", self.users);
        }
        if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
            bail!(
                "--seconds must be more than 0 and at most 3600, not {}",
                self.seconds
            );
        }
        if !(self.warmup >= 0.0 && self.warmup <= 600.0) {
            bail!("--warmup must be 0 to 600, not {}", self.warmup);
        }
        if !(1..=100).contains(&self.repeats) {
            bail!("--repeats must be 1 to 100, not {}", self.repeats);
        }
        for (flag, pct) in [
            ("--max-throughput-drop", self.max_throughput_drop),
            ("--max-p99-rise", self.max_p99_rise),
        ] {
            if !(pct.is_finite() && pct >= 0.0) {
                bail!("{flag} must be a percentage of at least 0, not {pct}");
            }
        }
        Ok(())
    }

    /// The thresholds of `--max-throughput-drop` and `--max-p99-rise`.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            max_throughput_drop_pct: self.max_throughput_drop,
            max_p99_rise_pct: self.max_p99_rise,
        }
    }

    /// The options checked and `--baseline` read: what must hold before minutes of running.
    fn prepare(&self) -> Result<Option<Baseline>> {
        self.check()?;
        Ok(self.baseline.as_deref().map(Baseline::read).transpose()?)
    }
}

/// Runs the benchmark and returns its report; does not write it. An `Err` means it could not
/// run (Envoy, Redis or a gateway did not start, a configuration failed its check before the
/// first run); failed requests and uncalled filters during the runs end up in
/// [`GatewayReport::problems`].
pub async fn run(options: &GatewayBenchOptions) -> Result<GatewayReport> {
    options.check()?;
    let (binary, version) = tokio::task::spawn_blocking(|| {
        portcullis_envoy::resolve_envoy().and_then(|(binary, _)| {
            let version = portcullis_envoy::envoy_version(&binary)?;
            Ok((binary, version))
        })
    })
    .await
    .context("resolving Envoy")??;
    let mut machine = Machine::this();
    machine.envoy = version;
    // Generating an RSA key takes a while; not on the async threads.
    let issuer = tokio::task::spawn_blocking(BenchIssuer::generate)
        .await
        .context("generating the IdP's key")??;
    let forged = tokio::task::spawn_blocking(issuer::forged)
        .await
        .context("forging a token")??;
    let echo = EchoServer::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        EchoIdentity {
            namespace: "bench".to_string(),
            service: "echo".to_string(),
            pod: pod_name("echo", 0),
        },
    )
    .await
    .context("starting the echo backend")?;
    let (redis, redis_version) = match redis::start().await {
        Ok(started) => started,
        Err(error) => {
            echo.shutdown().await;
            return Err(error);
        }
    };
    machine.redis = redis_version;
    eprintln!(
        "{COMMAND}: echo backend on {}, Redis server {} on {}",
        echo.local_addr(),
        machine.redis,
        redis.addr()
    );
    let setup = Setup {
        options,
        binary: &binary,
        issuer: &issuer,
        forged,
        echo: echo.local_addr(),
        redis_url: redis.url(),
    };
    let result = setup.with_gateways().await;
    redis::stop(redis, COMMAND).await;
    echo.shutdown().await;
    let (runs, load_before, load_after) = result?;
    let settings = Settings {
        users: options.users,
        seconds: options.seconds,
        warmup_seconds: options.warmup,
        repeats: options.repeats,
        order: format!("(1)–(5) alternated ×{}", options.repeats),
        load_before,
        load_after,
    };
    Ok(GatewayReport::new(machine, settings, runs, Vec::new()))
}

type Runs = BTreeMap<Configuration, Vec<Run>>;

/// What every stage of the run needs.
struct Setup<'a> {
    options: &'a GatewayBenchOptions,
    binary: &'a Path,
    issuer: &'a BenchIssuer,
    forged: HeaderValue,
    echo: SocketAddr,
    redis_url: String,
}

impl Setup<'_> {
    /// Starts the two gateways and the static Envoy, measures, stops them.
    async fn with_gateways(&self) -> Result<(Runs, Option<LoadAverage>, Option<LoadAverage>)> {
        let folder = tempfile::Builder::new()
            .prefix("portcullis-bench-gateway-")
            .tempdir()
            .context("creating a resource folder")?;
        let yaml = resources::yaml(self.echo, self.issuer.certificate_pem());
        std::fs::write(folder.path().join(resources::FILE_NAME), yaml).context("writing the resources")?;
        let memory = self
            .gateway(folder.path(), None)
            .await
            .context("starting the gateway with the limiter in memory")?;
        let shared = match self.gateway(folder.path(), Some(self.redis_url.clone())).await {
            Ok(shared) => shared,
            Err(error) => {
                stop(memory).await;
                return Err(error.context("starting the gateway with the limiter in Redis"));
            }
        };
        let result = self.with_static_envoy(&memory, &shared).await;
        stop(memory).await;
        stop(shared).await;
        result
    }

    /// The embedded gateway on `folder`, its limiter counting in `redis_url` if given.
    async fn gateway(&self, folder: &Path, redis_url: Option<String>) -> Result<Gateway> {
        let mut embedded = EmbeddedOptions::new(folder.to_path_buf());
        embedded.port_policy = PortPolicy::AlwaysFree;
        embedded.envoy_log_level = self.options.envoy_log_level.clone();
        embedded.redis_url = redis_url;
        // The folder is ours and never changes.
        embedded.watch = false;
        let gateway = EmbeddedGateway::start(embedded)
            .await
            .context("starting the embedded gateway")?;
        let (name, port) = resources::GATEWAY;
        let listener = resources::check(&gateway).and_then(|()| {
            gateway
                .listener_address(name, port)
                .with_context(|| format!("Gateway {name} has no listener on port {port}"))
        });
        match listener {
            Ok(listener) => Ok(Gateway { gateway, listener }),
            Err(error) => {
                if let Err(shutdown) = gateway.shutdown().await {
                    eprintln!("{COMMAND}: stopping a gateway: {shutdown}");
                }
                Err(error)
            }
        }
    }

    /// Starts the no-op services of (5), then the static Envoy; measures; stops them.
    async fn with_static_envoy(
        &self,
        memory: &Gateway,
        shared: &Gateway,
    ) -> Result<(Runs, Option<LoadAverage>, Option<LoadAverage>)> {
        let authorizer = noop::NoopService::start(noop::NoopKind::Authorizer).await?;
        let rate_limiter = match noop::NoopService::start(noop::NoopKind::RateLimiter).await {
            Ok(service) => service,
            Err(error) => {
                authorizer.stop().await;
                return Err(error);
            }
        };
        let services = [
            GrpcCluster {
                name: NOOP_AUTHZ_CLUSTER,
                address: authorizer.address(),
            },
            GrpcCluster {
                name: NOOP_RATE_LIMIT_CLUSTER,
                address: rate_limiter.address(),
            },
        ];
        let result = self.with_static_envoy_and(memory, shared, &services).await;
        authorizer.stop().await;
        rate_limiter.stop().await;
        result
    }

    /// Starts the static Envoy, its floor listener calling `services`; measures; stops it.
    async fn with_static_envoy_and(
        &self,
        memory: &Gateway,
        shared: &Gateway,
        services: &[GrpcCluster],
    ) -> Result<(Runs, Option<LoadAverage>, Option<LoadAverage>)> {
        let bare = static_envoy::free_loopback()?;
        let native = static_envoy::free_loopback()?;
        let floor = static_envoy::free_loopback()?;
        let listeners = [
            StaticListener {
                name: "bare".into(),
                address: bare,
                filters: Vec::new(),
                rate_limits: Vec::new(),
            },
            StaticListener {
                name: "native".into(),
                address: native,
                filters: vec![
                    static_envoy::jwt_authn(issuer::ISSUER, &self.issuer.jwks(), None),
                    static_envoy::local_ratelimit(LOCAL_RATE_LIMIT_TOKENS),
                ],
                rate_limits: Vec::new(),
            },
            StaticListener {
                name: "floor".into(),
                address: floor,
                filters: vec![
                    static_envoy::ext_authz(NOOP_AUTHZ_CLUSTER),
                    static_envoy::ratelimit(NOOP_RATE_LIMIT_CLUSTER, "bench"),
                ],
                rate_limits: vec![static_envoy::generic_rate_limit("bench")],
            },
        ];
        let bootstrap = static_envoy::bootstrap("portcullis-bench-gateway", self.echo, &listeners, services);
        let envoy = StaticEnvoy::start(self.binary, &bootstrap, &self.options.envoy_log_level).await?;
        eprintln!(
            "{COMMAND}: static Envoy on {bare} (router only), {native} (jwt_authn + local_ratelimit) \
             and {floor} (no-op ext_authz + rate-limit services); gateways on {} (limiter in memory) \
             and {} (limiter in Redis)",
            memory.listener, shared.listener
        );
        let token = self.issuer.token()?;
        let result = self
            .measure(&envoy, [bare, native, floor], memory, shared, token)
            .await;
        let result = result.map_err(|e| e.context(format!("static Envoy's log:\n{}", envoy.log_tail())));
        if let Err(error) = envoy.stop().await {
            eprintln!("{COMMAND}: {error:#}");
        }
        result
    }

    /// Checks the five configurations, then runs them in turn, `repeats` times; `statics` are
    /// the static Envoy's bare, native and floor listeners.
    async fn measure(
        &self,
        envoy: &StaticEnvoy,
        statics: [SocketAddr; 3],
        memory: &Gateway,
        shared: &Gateway,
        token: HeaderValue,
    ) -> Result<(Runs, Option<LoadAverage>, Option<LoadAverage>)> {
        let [bare, native, floor] = statics;
        let tokens = Arc::new(vec![token]);
        // Every configuration gets the same request, token included: only the filters differ.
        let target = |address, limited| {
            HttpTarget::new(address, resources::HOST, resources::PATH)
                .with_tokens(tokens.clone())
                .with_limit_header(limited)
        };
        let secured = Refusals {
            without_token: Some(401),
            forged: Some(self.forged.clone()),
        };
        let open = Refusals {
            without_token: Some(200),
            forged: None,
        };
        let plan = [
            (Configuration::BareEnvoy, target(bare, false), open, Meter::None),
            (
                Configuration::NativeFilters,
                target(native, false),
                secured.clone(),
                Meter::Native(envoy),
            ),
            (
                Configuration::GatewayInMemory,
                target(memory.listener, true),
                secured.clone(),
                Meter::Gateway(&memory.gateway),
            ),
            (
                Configuration::GatewayRedis,
                target(shared.listener, true),
                secured,
                Meter::Gateway(&shared.gateway),
            ),
            // The no-op authorizer only looks for a credential: a forged token passes.
            (
                Configuration::CallsFloor,
                target(floor, false),
                Refusals {
                    without_token: Some(401),
                    forged: None,
                },
                Meter::Floor(envoy),
            ),
        ];
        for (configuration, target, refusals, meter) in &plan {
            let at = || format!("checking ({}) {}", configuration.number(), configuration.label());
            let before = meter.read().await.with_context(at)?;
            http::probe(target, refusals).await.with_context(at)?;
            let moved = before.delta(meter.read().await.with_context(at)?);
            let idle = moved.idle();
            if !idle.is_empty() {
                bail!(
                    "{}: its filters did not count the probe: {}",
                    at(),
                    idle.join(", ")
                );
            }
        }
        eprintln!(
            "{COMMAND}: every configuration answers 200 with the token; (2)–(5) 401 without it \
             and (2)–(4) to a forged one; jwt_authn, local_ratelimit, the enforcer, the limiter and \
             the no-op services counted"
        );
        let envoys: Vec<u32> = [
            envoy.pid(),
            memory.gateway.envoy().and_then(|e| e.pid()),
            shared.gateway.envoy().and_then(|e| e.pid()),
        ]
        .into_iter()
        .flatten()
        .collect();
        // Redis (and whatever else this process started): the rest of the process tree.
        let helpers = cpu::descendants()
            .into_iter()
            .filter(|pid| !envoys.contains(pid))
            .collect();
        let processes = Processes { envoys, helpers };
        let load_before = LoadAverage::now();
        let mut runs = Runs::new();
        let repeats = self.options.repeats;
        for repeat in 1..=repeats {
            for (configuration, target, _, meter) in &plan {
                let at = || {
                    format!(
                        "running ({}) {}, repeat {repeat}",
                        configuration.number(),
                        configuration.label()
                    )
                };
                let before = meter.read().await.with_context(at)?;
                let (tally, cpu) = http::attack(
                    target,
                    self.options.users,
                    Duration::from_secs_f64(self.options.warmup),
                    Duration::from_secs_f64(self.options.seconds),
                    processes.clone(),
                )
                .await
                .with_context(at)?;
                let calls = before.delta(meter.read().await.with_context(at)?);
                let sample = Sample::new(repeat, tally, cpu);
                eprintln!(
                    "{COMMAND}: ({}) {}, repeat {repeat}/{repeats}: {} req/s, p50 {:.2} ms, p99 {:.2} ms, \
                     p99.9 {:.2} ms, {} failed",
                    configuration.number(),
                    configuration.label(),
                    thousands(sample.per_second),
                    sample.p50_ms,
                    sample.p99_ms,
                    sample.p999_ms,
                    sample.failures,
                );
                runs.entry(*configuration)
                    .or_default()
                    .push(Run { sample, calls });
            }
        }
        Ok((runs, load_before, LoadAverage::now()))
    }
}

/// A running embedded gateway and its Gateway's listener.
struct Gateway {
    gateway: EmbeddedGateway,
    listener: SocketAddr,
}

async fn stop(gateway: Gateway) {
    if let Err(error) = gateway.gateway.shutdown().await {
        eprintln!("{COMMAND}: stopping a gateway: {error}");
    }
}

/// Where a configuration's filters keep their counts.
enum Meter<'a> {
    /// Bare Envoy: no filter to count.
    None,
    /// The static Envoy's `jwt_authn` and `local_ratelimit` counters.
    Native(&'a StaticEnvoy),
    /// The gateway's Envoy's calls to the enforcer, and its limiter's stats.
    Gateway(&'a EmbeddedGateway),
    /// The static Envoy's calls to the no-op services.
    Floor(&'a StaticEnvoy),
}

impl Meter<'_> {
    /// The totals now.
    async fn read(&self) -> Result<Calls> {
        match self {
            Meter::None => Ok(Calls::default()),
            Meter::Native(envoy) => {
                let jwt = "jwt_authn.allowed";
                let local = format!("{LOCAL_RATE_LIMIT_PREFIX}.http_local_rate_limit.ok");
                let counters = envoy
                    .counters(&format!(
                        "{}$|{}$",
                        http::regex_escape(jwt),
                        http::regex_escape(&local)
                    ))
                    .await?;
                let sum = |suffix: &str| {
                    counters
                        .iter()
                        .filter(|(n, _)| n.ends_with(suffix))
                        .map(|(_, v)| v)
                        .sum()
                };
                Ok(Calls {
                    jwt_authn_allowed: Some(sum(jwt)),
                    local_rate_limit_ok: Some(sum(&local)),
                    ..Calls::default()
                })
            }
            Meter::Gateway(gateway) => {
                let envoy = gateway.envoy().context("the gateway has no Envoy")?;
                let enforcer_calls = http::cluster_requests(envoy.admin_address(), ENFORCER_CLUSTER).await?;
                let stats = gateway.limiter().stats().snapshot();
                Ok(Calls {
                    enforcer_calls: Some(enforcer_calls),
                    limiter_decisions: Some(stats.decisions),
                    limiter_store_errors: Some(stats.store_errors),
                    ..Calls::default()
                })
            }
            Meter::Floor(envoy) => Ok(Calls {
                noop_authz_calls: Some(http::cluster_requests(envoy.admin(), NOOP_AUTHZ_CLUSTER).await?),
                noop_rate_limit_calls: Some(
                    http::cluster_requests(envoy.admin(), NOOP_RATE_LIMIT_CLUSTER).await?,
                ),
                ..Calls::default()
            }),
        }
    }
}

impl Calls {
    /// What was counted between `self` and `after`.
    fn delta(self, after: Calls) -> Calls {
        let minus = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a.unwrap_or(0)));
        Calls {
            jwt_authn_allowed: minus(self.jwt_authn_allowed, after.jwt_authn_allowed),
            local_rate_limit_ok: minus(self.local_rate_limit_ok, after.local_rate_limit_ok),
            enforcer_calls: minus(self.enforcer_calls, after.enforcer_calls),
            limiter_decisions: minus(self.limiter_decisions, after.limiter_decisions),
            limiter_store_errors: minus(self.limiter_store_errors, after.limiter_store_errors),
            noop_authz_calls: minus(self.noop_authz_calls, after.noop_authz_calls),
            noop_rate_limit_calls: minus(self.noop_rate_limit_calls, after.noop_rate_limit_calls),
        }
    }

    /// The filters that counted nothing.
    fn idle(&self) -> Vec<&'static str> {
        [
            ("jwt_authn", self.jwt_authn_allowed),
            ("local_ratelimit", self.local_rate_limit_ok),
            ("the enforcer", self.enforcer_calls),
            ("the limiter", self.limiter_decisions),
            ("the no-op ext_authz service", self.noop_authz_calls),
            ("the no-op rate-limit service", self.noop_rate_limit_calls),
        ]
        .into_iter()
        .filter(|(_, count)| *count == Some(0))
        .map(|(name, _)| name)
        .collect()
    }
}

/// Writes the report's Markdown and JSON files into `dir` (created if need be); returns
/// their paths.
pub fn write(report: &GatewayReport, dir: &Path) -> Result<Vec<PathBuf>> {
    write_files(report, dir, REPORT_FILES)
}

/// The whole command: check the options and read `--baseline` (before the benchmark starts),
/// run, compare with the baseline, print the table, write the reports; then fail if any
/// request failed or a filter was not called, or if a configuration regressed against the
/// baseline (or none could be compared). A MISS does not fail.
pub async fn command(options: &GatewayBenchOptions) -> Result<GatewayReport> {
    let baseline = options.prepare()?;
    let mut report = run(options).await?;
    if let Some(baseline) = &baseline {
        report.baseline = Some(baseline::compare(baseline, &report, options.thresholds()));
    }
    println!("\n{}", report.markdown());
    for path in write(&report, &options.out_dir)? {
        println!("report: {}", path.display());
    }
    let mut failures = Vec::new();
    if !report.ok() {
        failures.push(format!(
            "{} problems: {}",
            report.problems.len(),
            report.problems.join("; ")
        ));
    }
    failures.extend(report.baseline_failure());
    if !failures.is_empty() {
        bail!("{}", failures.join("; and "));
    }
    Ok(report)
}

/// [`command`] on parsed options, its error printed.
pub async fn execute(options: GatewayBenchOptions) -> ExitCode {
    match command(&options).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{COMMAND}: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// [`execute`] on `args` (program name first); `--help` prints the help and succeeds.
pub async fn cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match GatewayBenchOptions::try_parse_args(args) {
        Ok(options) => execute(options).await,
        Err(error) => {
            let _ = error.print();
            if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<GatewayBenchOptions, clap::Error> {
        GatewayBenchOptions::try_parse_args(std::iter::once(COMMAND).chain(args.iter().copied()))
    }

    #[test]
    fn defaults_and_nonsense() -> Result<()> {
        let options = parse(&[])?;
        assert_eq!((options.users, options.seconds, options.repeats), (20, 5.0, 3));
        assert_eq!(options.out_dir, PathBuf::from("reports"));
        options.check()?;
        let options = parse(&[
            "--users",
            "1",
            "--seconds",
            "1",
            "--repeats",
            "1",
            "--warmup",
            "0",
        ])?;
        options.check()?;
        assert!(parse(&["--users", "0"])?.check().is_err());
        assert!(parse(&["--seconds", "NaN"])?.check().is_err());
        assert!(parse(&["--repeats", "0"])?.check().is_err());
        assert!(parse(&["--fresh-tokens", "4"]).is_err());
        Ok(())
    }

    #[test]
    fn thresholds_come_from_the_flags() -> Result<()> {
        let options = parse(&["--baseline", "old.json"])?;
        assert_eq!(options.baseline, Some(PathBuf::from("old.json")));
        assert_eq!(options.thresholds(), Thresholds::default());
        assert_eq!((options.max_throughput_drop, options.max_p99_rise), (10.0, 25.0));
        let options = parse(&[
            "--baseline",
            "old.json",
            "--max-throughput-drop",
            "5",
            "--max-p99-rise",
            "40.5",
        ])?;
        options.check()?;
        assert_eq!(
            options.thresholds(),
            Thresholds {
                max_throughput_drop_pct: 5.0,
                max_p99_rise_pct: 40.5
            }
        );
        assert_eq!(parse(&[])?.baseline, None);
        // A threshold without a baseline would silently do nothing.
        assert!(parse(&["--max-p99-rise", "5"]).is_err());
        assert!(
            parse(&["--baseline", "b", "--max-throughput-drop=-1"])?
                .check()
                .is_err()
        );
        assert!(
            parse(&["--baseline", "b", "--max-p99-rise", "inf"])?
                .check()
                .is_err()
        );
        Ok(())
    }

    /// A bad `--baseline` fails at once: no benchmark runs, no report is written.
    #[tokio::test]
    async fn a_bad_baseline_fails_before_the_benchmark() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("reports");
        let bad = dir.path().join("bad.json");
        std::fs::write(
            &bad,
            r#"{"rows": [{"configuration": "bare-envoy", "per_second": []}]}"#,
        )?;
        let missing = dir.path().join("missing.json");
        for (baseline, expected) in [
            (
                &missing,
                format!("baseline {}: cannot read it: No such file", missing.display()),
            ),
            (
                &bad,
                format!(
                    "baseline {}: not a bench-gateway report: rows[0].per_second: expected an object, \
                     found an array",
                    bad.display()
                ),
            ),
        ] {
            let options = GatewayBenchOptions::try_parse_args([
                COMMAND.as_ref(),
                "--out-dir".as_ref(),
                out.as_os_str(),
                "--baseline".as_ref(),
                baseline.as_os_str(),
            ])?;
            let error = match command(&options).await {
                Ok(_) => bail!("the benchmark ran with the baseline {}", baseline.display()),
                Err(error) => format!("{error:#}"),
            };
            assert!(error.starts_with(&expected), "{error}");
            assert!(!out.exists(), "reports were written");
        }
        Ok(())
    }

    /// `portcullis bench` embeds the options as a clap subcommand.
    #[test]
    fn the_options_are_a_subcommand() -> Result<()> {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(subcommand)]
            command: Sub,
        }
        #[derive(clap::Subcommand)]
        enum Sub {
            Bench(GatewayBenchOptions),
        }
        let cli = Cli::try_parse_from(["portcullis", "bench", "--users", "3", "--repeats", "2"])?;
        let Sub::Bench(options) = cli.command;
        assert_eq!((options.users, options.repeats), (3, 2));
        Ok(())
    }

    #[test]
    fn calls_are_differences_and_idle_filters_named() {
        let before = Calls {
            enforcer_calls: Some(5),
            limiter_decisions: Some(7),
            limiter_store_errors: Some(0),
            ..Calls::default()
        };
        let after = Calls {
            enforcer_calls: Some(9),
            limiter_decisions: Some(7),
            limiter_store_errors: Some(0),
            ..Calls::default()
        };
        let moved = before.delta(after);
        assert_eq!(moved.enforcer_calls, Some(4));
        assert_eq!(moved.jwt_authn_allowed, None);
        assert_eq!(moved.idle(), ["the limiter"]);
        assert!(Calls::default().delta(Calls::default()).idle().is_empty());
    }
}
