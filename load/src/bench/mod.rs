//! `bench-rate-limit`: what asking the rate-limit service costs, in one run.
//!
//! Through the same real Envoy path to the same echo backend:
//!
//! 1. a route without a rate limit;
//! 2. a route limited by the in-memory limiter, so high (1,000,000,000 a minute) that nothing
//!    is throttled: every request asks the limiter and is allowed;
//! 3. the same limited route on a second gateway whose limiter counts in Redis (a Valkey
//!    started for the run on a free loopback port).
//!
//! 5. a static Envoy (the same binary, [`static_envoy`]) routing to the same echo backend;
//! 6. that static Envoy with the `ratelimit` filter asking a service that answers OK at once
//!    ([`noop`]): the floor of any rate-limit service, what the call itself costs in Envoy.
//!
//! (1) and (2) are two hostnames of one gateway. The five alternate (1, 2, 3, 5, 6, 1, …) so
//! that drift hits each alike; every run is `users` keep-alive connections sending GETs back to
//! back ([`http::attack`]). Then, with the gateways stopped:
//!
//! 4. the limiter alone: an in-memory limiter with the same config, served over gRPC and asked
//!    the question Envoy asks for the limited route by concurrent tonic clients
//!    ([`grpc::limiter_alone`]).
//!
//! Every answer is checked: a failed request, a 429, a limited answer without the limiter's
//! `RateLimit-Limit` header (the limiter was not asked, or failed open), a limiter store error
//! — each fails the run. Targets (Redis keeps ≥ 90 % of (1)'s throughput; the limiter alone
//! makes ≥ 50,000 decisions/s) are reported PASS or MISS, never failed on.

pub mod auth;
pub mod command;
pub mod cpu;
pub mod gateway;
pub mod grpc;
pub mod http;
pub mod noop;
pub mod redis;
pub mod report;
pub mod sample;
pub mod scale_baseline;
pub mod static_envoy;
pub mod tally;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use portcullis_limiter::StatsSnapshot;

use crate::gateway::{GatewayOptions, LocalGateway, RATE_LIMIT};
use cpu::Processes;
use http::HttpTarget;
pub use report::{BenchReport, Configuration, LimiterCounts, Machine, Row, Sample, Settings, Spread};
use tally::Tally;

/// The subcommand of `portcullis-load` (and the name of the separate binary).
pub const COMMAND: &str = "bench-rate-limit";

/// The route without a limit (see `load/resources/rate-limit.yaml`).
pub const OPEN_HOST: &str = "open.bench.example";
/// The route whose API is limited.
pub const LIMITED_HOST: &str = "limited.bench.example";

/// The files written, in `--out-dir`.
pub const REPORT_FILES: [&str; 2] = ["bench-rate-limit.md", "bench-rate-limit.json"];

/// The command line.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "bench-rate-limit",
    about = "Benchmark rate limiting through a real Envoy: no limit, the in-memory limiter, the \
             limiter in Redis, and the limiter alone over gRPC",
    long_about = "Benchmark rate limiting through a real Envoy, in one run: (1) a route without a \
                  limit, (2) a route limited by the in-memory limiter (1,000,000,000 a minute: \
                  nothing is throttled, every request asks), (3) the same route with the \
                  limiter's counters in a Valkey started for the run, (5) a static Envoy without \
                  a limit and (6) with the ratelimit filter asking a no-op service (the floor), \
                  alternated 1,2,3,5,6,1,…; then (4) the limiter alone over gRPC. Prints a Markdown table and writes it, \
                  with JSON, to OUT_DIR/bench-rate-limit.{md,json}. Fails if any request failed, \
                  was throttled, or was not counted by the limiter.",
    disable_version_flag = true
)]
pub struct BenchOptions {
    /// Concurrent users (keep-alive connections) per run through Envoy
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
    /// Concurrent gRPC clients of the limiter alone [default: --users]
    #[arg(long)]
    pub grpc_tasks: Option<usize>,
    /// HTTP/2 connections they share [default: the CPUs, as Envoy opens one per worker]
    #[arg(long)]
    pub grpc_connections: Option<usize>,
    /// Worker threads of the limiter's own runtime in the limiter-alone runs
    #[arg(long, default_value_t = 1)]
    pub grpc_server_threads: usize,
    /// Where the reports go
    #[arg(long, default_value = "reports")]
    pub out_dir: PathBuf,
    /// Envoy's log level
    #[arg(long, value_name = "LEVEL", default_value = "warning")]
    pub envoy_log_level: String,
}

impl BenchOptions {
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
        if self.grpc_tasks() == 0 || self.grpc_tasks() > 10_000 {
            bail!("--grpc-tasks must be 1 to 10000");
        }
        if self.grpc_connections() == 0 || self.grpc_connections() > 1_000 {
            bail!("--grpc-connections must be 1 to 1000");
        }
        if !(1..=64).contains(&self.grpc_server_threads) {
            bail!("--grpc-server-threads must be 1 to 64");
        }
        Ok(())
    }

    fn grpc_tasks(&self) -> usize {
        self.grpc_tasks.unwrap_or(self.users)
    }

    fn grpc_connections(&self) -> usize {
        self.grpc_connections
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
    }

    fn clients(&self) -> grpc::Clients {
        grpc::Clients {
            tasks: self.grpc_tasks(),
            connections: self.grpc_connections(),
            server_threads: self.grpc_server_threads,
        }
    }

    fn measure(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }

    fn warmup(&self) -> Duration {
        Duration::from_secs_f64(self.warmup)
    }
}

/// Runs the benchmark and returns its report; does not write it. An `Err` means it could not
/// run (Valkey, Envoy or a gateway did not start, a route answered wrongly before the first
/// run); failed requests during the runs end up in [`BenchReport::problems`].
pub async fn run(options: &BenchOptions) -> Result<BenchReport> {
    options.check()?;
    let mut machine = Machine::this();

    let (binary, version) = tokio::task::spawn_blocking(|| {
        portcullis_envoy::resolve_envoy().and_then(|(binary, _)| {
            let version = portcullis_envoy::envoy_version(&binary)?;
            Ok((binary, version))
        })
    })
    .await
    .context("asking Envoy its version")??;
    machine.envoy = version;
    let (redis, version) = redis::start().await?;
    machine.redis = version;
    eprintln!("{COMMAND}: Redis server {} on {}", machine.redis, redis.addr());

    let result = with_gateways(options, &binary, &redis.url()).await;
    redis::stop(redis, COMMAND).await;
    let (mut samples, config) = result?;

    let request = grpc::request_for(&config).context("the gateway pushed no limit with a value")?;
    let clients = options.clients();
    for repeat in 1..=options.repeats {
        let run = grpc::limiter_alone(
            (*config).clone(),
            request.clone(),
            clients,
            options.warmup(),
            options.measure(),
        )
        .await
        .with_context(|| format!("running the limiter alone, repeat {repeat}"))?;
        let mut sample = sample(repeat, run.tally, Some(counts(run.stats)), grpc::code_name);
        sample.server_cpu_seconds = run.server_cpu.map(|cpu| cpu.as_secs_f64());
        sample.cpu = run.cpu;
        progress(Configuration::LimiterAlone, repeat, options.repeats, &sample);
        samples
            .entry(Configuration::LimiterAlone.number())
            .or_default()
            .push(sample);
    }

    let settings = Settings {
        users: options.users,
        seconds: options.seconds,
        warmup_seconds: options.warmup,
        repeats: options.repeats,
        grpc_tasks: clients.tasks,
        grpc_connections: clients.connections,
        grpc_server_threads: clients.server_threads,
        order: format!(
            "(1),(2),(3),(5),(6) alternated ×{} through Envoy, then (4) ×{}",
            options.repeats, options.repeats
        ),
    };
    Ok(BenchReport::new(machine, settings, samples, Vec::new()))
}

type Samples = BTreeMap<usize, Vec<Sample>>;

/// Starts the two gateways, runs (1)–(3), stops them; returns the samples and the limiter
/// config the gateway pushed.
async fn with_gateways(
    options: &BenchOptions,
    binary: &Path,
    redis_url: &str,
) -> Result<(Samples, std::sync::Arc<portcullis_limiter::LimiterConfig>)> {
    let gateway_options = GatewayOptions {
        envoy_log_level: options.envoy_log_level.clone(),
        ..GatewayOptions::default()
    };
    let memory = LocalGateway::start_on(RATE_LIMIT, gateway_options.clone())
        .await
        .context("starting the gateway with in-memory limits")?;
    let shared = match LocalGateway::start_on(
        RATE_LIMIT,
        GatewayOptions {
            redis_url: Some(redis_url.to_string()),
            ..gateway_options
        },
    )
    .await
    {
        Ok(shared) => shared,
        Err(error) => {
            stop(memory).await;
            return Err(error.context("starting the gateway with limits in Redis"));
        }
    };
    eprintln!(
        "{COMMAND}: gateways on {} (in-memory limits) and {} (limits in Redis), Envoy from {:?}",
        memory.address(),
        shared.address(),
        memory.gateway().envoy_source()
    );
    let config = memory.gateway().limiter().config();
    let result = with_static_envoy(options, binary, &memory, &shared).await;
    stop(memory).await;
    stop(shared).await;
    Ok((result?, config))
}

async fn stop(gateway: LocalGateway) {
    if let Err(error) = gateway.shutdown().await {
        eprintln!("{COMMAND}: stopping a gateway: {error:#}");
    }
}

/// Runs (1), (2), (3) in turn, `repeats` times.
/// The echo Service of the shipped resources.
const ECHO_SERVICE: &str = "bench/echo";
/// The static Envoy's cluster of the no-op rate-limit service.
const NOOP_RATE_LIMIT_CLUSTER: &str = "noop_rate_limit";

/// Starts the no-op rate-limit service and a static Envoy to the gateways' echo backend
/// (listeners for (5) and (6)), measures everything through Envoy, stops them.
async fn with_static_envoy(
    options: &BenchOptions,
    binary: &Path,
    memory: &LocalGateway,
    shared: &LocalGateway,
) -> Result<Samples> {
    let echo = *memory
        .gateway()
        .view()
        .echo_backends
        .get(ECHO_SERVICE)
        .with_context(|| format!("no echo backend for {ECHO_SERVICE}"))?;
    let service = noop::NoopService::start(noop::NoopKind::RateLimiter).await?;
    let cluster = static_envoy::GrpcCluster {
        name: NOOP_RATE_LIMIT_CLUSTER,
        address: service.address(),
    };
    let result = async {
        let control = static_envoy::free_loopback()?;
        let floor = static_envoy::free_loopback()?;
        let listeners = [
            static_envoy::StaticListener {
                name: "control".into(),
                address: control,
                filters: Vec::new(),
                rate_limits: Vec::new(),
            },
            static_envoy::StaticListener {
                name: "floor".into(),
                address: floor,
                filters: vec![static_envoy::ratelimit(NOOP_RATE_LIMIT_CLUSTER, "bench")],
                rate_limits: vec![static_envoy::generic_rate_limit("bench")],
            },
        ];
        let bootstrap = static_envoy::bootstrap("portcullis-bench-rate-limit", echo, &listeners, &[cluster]);
        let envoy = static_envoy::StaticEnvoy::start(binary, &bootstrap, &options.envoy_log_level).await?;
        eprintln!(
            "{COMMAND}: static Envoy on {control} (no limit) and {floor} (ratelimit to a no-op service)"
        );
        let result = through_envoy(options, memory, shared, &envoy, [control, floor]).await;
        let result = result.map_err(|e| e.context(format!("static Envoy's log:\n{}", envoy.log_tail())));
        if let Err(error) = envoy.stop().await {
            eprintln!("{COMMAND}: {error:#}");
        }
        result
    }
    .await;
    service.stop().await;
    result
}

/// Where a run's rate-limit decisions are counted.
enum Counter<'a> {
    /// The gateway's limiter.
    Limiter(&'a LocalGateway),
    /// The static Envoy's calls to the no-op service.
    Floor(&'a static_envoy::StaticEnvoy),
    /// Nothing is asked.
    None,
}

impl Counter<'_> {
    /// The limiter's stats now (for the floor, only `decisions`: the calls Envoy made).
    async fn read(&self) -> Result<Option<StatsSnapshot>> {
        Ok(match self {
            Counter::Limiter(gateway) => Some(gateway.gateway().limiter().stats().snapshot()),
            Counter::Floor(envoy) => Some(StatsSnapshot {
                decisions: http::cluster_requests(envoy.admin(), NOOP_RATE_LIMIT_CLUSTER).await?,
                ..StatsSnapshot::default()
            }),
            Counter::None => None,
        })
    }
}

async fn through_envoy(
    options: &BenchOptions,
    memory: &LocalGateway,
    shared: &LocalGateway,
    envoy: &static_envoy::StaticEnvoy,
    [control, floor]: [std::net::SocketAddr; 2],
) -> Result<Samples> {
    let route = |gateway: &LocalGateway, host, limited| {
        HttpTarget::new(gateway.address(), host, "/").with_limit_header(limited)
    };
    let at = |address| HttpTarget::new(address, OPEN_HOST, "/");
    let runs = [
        (
            Configuration::Unlimited,
            Counter::Limiter(memory),
            route(memory, OPEN_HOST, false),
        ),
        (
            Configuration::InMemory,
            Counter::Limiter(memory),
            route(memory, LIMITED_HOST, true),
        ),
        (
            Configuration::Redis,
            Counter::Limiter(shared),
            route(shared, LIMITED_HOST, true),
        ),
        (Configuration::StaticControl, Counter::None, at(control)),
        (Configuration::RlsFloor, Counter::Floor(envoy), at(floor)),
    ];
    for (configuration, _, target) in &runs {
        http::probe(target, &http::Refusals::default())
            .await
            .with_context(|| format!("checking ({}) {}", configuration.number(), configuration.label()))?;
    }
    let mut samples = Samples::new();
    // Both Envoys count as Envoy: the idle one's share shows it is idle.
    let envoys: Vec<u32> = [memory, shared]
        .iter()
        .filter_map(|g| g.gateway().envoy().and_then(|e| e.pid()))
        .chain(envoy.pid())
        .collect();
    for repeat in 1..=options.repeats {
        for (configuration, counter, target) in &runs {
            let before = counter.read().await?;
            let (tally, cpu) = http::attack(
                target,
                options.users,
                options.warmup(),
                options.measure(),
                Processes::envoys(envoys.clone()),
            )
            .await
            .with_context(|| {
                format!(
                    "running ({}) {}, repeat {repeat}",
                    configuration.number(),
                    configuration.label()
                )
            })?;
            let after = counter.read().await?;
            let counted = before
                .zip(after)
                .map(|(before, after)| counts(delta(before, after)));
            let mut sample = sample(repeat, tally, counted, |status| status.to_string());
            sample.cpu = cpu;
            progress(*configuration, repeat, options.repeats, &sample);
            samples.entry(configuration.number()).or_default().push(sample);
        }
    }
    Ok(samples)
}

fn delta(before: StatsSnapshot, after: StatsSnapshot) -> StatsSnapshot {
    StatsSnapshot {
        decisions: after.decisions.saturating_sub(before.decisions),
        over_limit: after.over_limit.saturating_sub(before.over_limit),
        shadow_over_limit: after.shadow_over_limit.saturating_sub(before.shadow_over_limit),
        no_match: after.no_match.saturating_sub(before.no_match),
        store_errors: after.store_errors.saturating_sub(before.store_errors),
        over_limit_cache_hits: after
            .over_limit_cache_hits
            .saturating_sub(before.over_limit_cache_hits),
    }
}

fn counts(stats: StatsSnapshot) -> LimiterCounts {
    LimiterCounts {
        decisions: stats.decisions,
        store_errors: stats.store_errors,
        no_match: stats.no_match,
    }
}

fn sample(
    repeat: usize,
    mut tally: Tally,
    limiter: Option<LimiterCounts>,
    name: fn(i32) -> String,
) -> Sample {
    tally.finish();
    Sample {
        repeat,
        seconds: tally.seconds(),
        requests: tally.requests,
        per_second: tally.per_second(),
        p50_ms: tally.percentile_ms(0.5),
        p99_ms: tally.percentile_ms(0.99),
        max_ms: tally.percentile_ms(1.0),
        failures: tally.failures,
        throttled: tally.throttled,
        warmup_requests: tally.warmup_requests,
        outcomes: tally.outcomes.iter().map(|(code, n)| (name(*code), *n)).collect(),
        errors: tally.errors,
        limiter,
        server_cpu_seconds: None,
        cpu: None,
    }
}

fn progress(configuration: Configuration, repeat: usize, repeats: usize, sample: &Sample) {
    eprintln!(
        "{COMMAND}: ({}) {}, repeat {repeat}/{repeats}: {} {}, p50 {:.2} ms, p99 {:.2} ms, {} failed",
        configuration.number(),
        configuration.label(),
        report::thousands(sample.per_second),
        configuration.unit(),
        sample.p50_ms,
        sample.p99_ms,
        sample.failures,
    );
}

/// Writes the report's Markdown and JSON files into `dir` (created if need be); returns
/// their paths.
pub fn write(report: &BenchReport, dir: &Path) -> Result<Vec<PathBuf>> {
    command::write_files(report, dir, REPORT_FILES)
}

/// The whole command: parse `args` (program name first), run, print the table, write the
/// reports. Fails if the benchmark could not run or any request failed.
pub async fn cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    command::run_command(
        COMMAND,
        || BenchOptions::try_parse_args(args),
        |options| options.out_dir.clone(),
        REPORT_FILES,
        |options| async move { run(&options).await },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<BenchOptions, clap::Error> {
        BenchOptions::try_parse_args(std::iter::once(COMMAND).chain(args.iter().copied()))
    }

    #[test]
    fn defaults_and_options() -> Result<()> {
        let options = parse(&[])?;
        assert_eq!((options.users, options.seconds, options.repeats), (20, 5.0, 3));
        assert_eq!(options.grpc_tasks(), 20);
        assert!(options.grpc_connections() >= 1);
        assert_eq!(options.out_dir, PathBuf::from("reports"));
        options.check()?;
        let options = parse(&[
            "--users",
            "2",
            "--seconds",
            "0.5",
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--grpc-tasks",
            "4",
            "--grpc-connections",
            "1",
        ])?;
        assert_eq!(options.measure(), Duration::from_millis(500));
        assert_eq!((options.grpc_tasks(), options.grpc_connections()), (4, 1));
        assert_eq!(options.clients().server_threads, 1);
        options.check()?;
        Ok(())
    }

    #[test]
    fn nonsense_is_refused() -> Result<()> {
        assert!(parse(&["--users", "0"])?.check().is_err());
        assert!(parse(&["--seconds", "0"])?.check().is_err());
        assert!(parse(&["--seconds", "NaN"])?.check().is_err());
        assert!(parse(&["--repeats", "0"])?.check().is_err());
        assert!(parse(&["--warmup", "-1"]).is_err() || parse(&["--warmup", "-1"])?.check().is_err());
        assert!(parse(&["--run-time", "5s"]).is_err());
        Ok(())
    }
}
