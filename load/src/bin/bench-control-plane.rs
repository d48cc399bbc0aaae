//! `bench-control-plane`: the control-plane scale benchmark. For each route count it writes that
//! many HTTPRoutes (every tenth in an APK `API` with a RateLimitPolicy and the default
//! authentication) into the embedded gateway's folder and measures, against a real Envoy over
//! Delta xDS: reload → Envoy's ACK, the reload's own work, what went over the wire, the control
//! plane's peak memory and Envoy's memory. At the largest count it then changes one route and
//! measures reload → ACK → the request answering the new way, and what the Delta push carried;
//! that reload names the changed file, as the folder watcher's events do.
//!
//! Then the floor (`--no-floor` skips it, `--floor-only` measures only it, at every count):
//! the same Envoy over the same Delta xDS server, given the cheapest table of as many virtual
//! hosts by a control plane that does nothing but publish, changing one route the same way.
//!
//! ```sh
//! cargo run --release -p portcullis-load --bin bench-control-plane -- --routes 10,100,1000,10000
//! cargo run --release -p portcullis-load --bin bench-control-plane -- --routes 1000,10000 --floor-only
//! ```
//!
//! Writes `reports/bench-control-plane.{md,json}`. Exits 1 when something fails (a reload, an
//! ACK, a request answering the wrong way); a missed target is reported, not a failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use portcullis_load::bench::scale_baseline::{self, ScaleReport, ScaleThresholds};
use portcullis_model::{CONTROLLER_NAME, FolderCache, ObjectKey, Snapshot, load_dir};
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, filter::Targets};

/// As in `portcullis` itself: glibc's per-thread arenas keep freed memory resident under
/// tokio's threads; mimalloc returns it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "bench-control-plane/floor.rs"]
mod floor;
#[path = "bench-control-plane/stages.rs"]
mod stages;
use floor::{Floor, Shape};
use stages::{Breakdown, Recorder};

/// The Gateway every route attaches to (`namespace/name`) and its declared port.
const GATEWAY: &str = "scale/edge";
const GATEWAY_PORT: i32 = 80;
/// Services the routes share: one echo backend each.
const SERVICES: usize = 10;
/// The route changed at the largest count; not a multiple of ten, so not an API's (no token).
const CHANGED_ROUTE: usize = 1;
/// How long Envoy may take to apply anything.
const APPLY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a changed route may take to answer the new way after its ACK.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Targets from the issue (speed targets live in benchmarks, never in tests).
const TARGET_APPLY_ROUTES: usize = 10_000;
const TARGET_APPLY: Duration = Duration::from_secs(2);
const TARGET_MEMORY_MIB: f64 = 200.0;
const TARGET_CHANGE: Duration = Duration::from_millis(100);

/// Route tables (RDS) and virtual hosts (VHDS): what one changed route may push.
const ROUTE_TYPES: [&str; 2] = [
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "type.googleapis.com/envoy.config.route.v3.VirtualHost",
];

#[derive(Parser, Debug)]
#[command(
    name = "bench-control-plane",
    about = "Control-plane scale: N HTTPRoutes → Envoy ACK time, memory, xDS bytes; one change at the \
             largest N over Delta xDS"
)]
struct Args {
    /// Route counts to measure, ascending
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000,10000")]
    routes: Vec<usize>,
    /// Measurements per count (median and min–max are reported)
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Plain HTTPRoutes only (no APIs, rate limits or authentication)
    #[arg(long)]
    no_apis: bool,
    /// Where the reports go
    #[arg(long, default_value = "reports")]
    out_dir: PathBuf,
    /// Envoy's log level
    #[arg(long, default_value = "warning")]
    envoy_log_level: String,
    /// Skip the floor (Envoy alone with a minimal table of as many hosts)
    #[arg(long)]
    no_floor: bool,
    /// Measure only the floor, at every count of --routes
    #[arg(long, conflicts_with = "no_floor")]
    floor_only: bool,
    /// Compare with a previous `bench-control-plane.json`: reload → ACK, peak memory and bytes
    /// pushed per route count, and one change's time and bytes; exit 1 when one rose past its
    /// threshold (or nothing was measured in both runs)
    #[arg(long, value_name = "JSON", conflicts_with = "floor_only")]
    baseline: Option<PathBuf>,
    /// With --baseline: the largest allowed rise of a time, percent
    #[arg(long, value_name = "PCT", default_value_t = ScaleThresholds::default().max_time_rise_pct, requires = "baseline")]
    max_time_rise: f64,
    /// With --baseline: the largest allowed rise of memory or bytes pushed, percent
    #[arg(long, value_name = "PCT", default_value_t = ScaleThresholds::default().max_size_rise_pct, requires = "baseline")]
    max_size_rise: f64,
}

/// Logs as the other tools do (`PORTCULLIS_LOG`, default `warn`), plus the stage recorder on
/// the control plane's and the xDS server's debug milestones.
fn init_tracing() -> Recorder {
    let recorder = Recorder::default();
    let filter = EnvFilter::try_from_env("PORTCULLIS_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let milestones = Targets::new()
        .with_target("portcullis_operator::control", tracing::Level::DEBUG)
        .with_target("portcullis_xds", tracing::Level::DEBUG);
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(recorder.clone().with_filter(milestones));
    if let Err(error) = tracing::subscriber::set_global_default(subscriber) {
        eprintln!("bench-control-plane: no gateway logs: {error}");
    }
    recorder
}

#[tokio::main]
async fn main() -> ExitCode {
    portcullis_load::memory::keep_resident_memory_low();
    let recorder = init_tracing();
    let args = Args::parse();
    // A baseline that cannot be compared is an error before the run, not after it.
    let baseline = match args.baseline.as_deref().map(ScaleReport::read).transpose() {
        Ok(baseline) => baseline,
        Err(error) => {
            eprintln!("bench-control-plane: {error}");
            return ExitCode::FAILURE;
        }
    };
    match run(&args, &recorder).await {
        Ok(report) => {
            let mut failed = report.failures.clone();
            match write_reports(&report, &args.out_dir) {
                Ok(paths) => {
                    print!("{}", markdown(&report));
                    for path in paths {
                        eprintln!("bench-control-plane: wrote {}", path.display());
                    }
                }
                Err(error) => {
                    eprintln!("bench-control-plane: {error:#}");
                    return ExitCode::FAILURE;
                }
            }
            if let Some(baseline) = &baseline {
                match against_baseline(&args, baseline, &report) {
                    Ok(regressed) => failed.extend(regressed),
                    Err(error) => {
                        eprintln!("bench-control-plane: {error:#}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            if failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                for failure in failed {
                    eprintln!("bench-control-plane: FAILED: {failure}");
                }
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("bench-control-plane: {error:#}");
            ExitCode::FAILURE
        }
    }
}

// ---------- resources ----------

/// The Gateway, its class and the shared Services.
fn base_yaml() -> String {
    let mut out = String::from(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: portcullis}\n\
         spec: {controllerName: portcullis.dev/gateway-controller}\n---\n\
         apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: scale}\n\
         spec:\n  gatewayClassName: portcullis\n  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n",
    );
    for s in 0..SERVICES {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{s}, namespace: scale}}\n\
             spec:\n  ports: [{{name: http, port: 8080}}]\n"
        );
    }
    out
}

/// Route `i` (its own hostname, two rules, the first matching `prefix`); with `apis`, every
/// tenth route belongs to an API with a RateLimitPolicy and the default authentication.
fn route_yaml(i: usize, prefix: &str, apis: bool) -> String {
    let svc = i % SERVICES;
    let mut out = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n\
         metadata: {{name: route-{i}, namespace: scale}}\nspec:\n  parentRefs: [{{name: edge}}]\n\
         \x20 hostnames: [{host}]\n  rules:\n\
         \x20 - matches: [{{path: {{type: PathPrefix, value: {prefix}}}}}]\n\
         \x20   backendRefs: [{{name: svc-{svc}, port: 8080}}]\n\
         \x20 - matches: [{{path: {{type: Exact, value: /health}}, method: GET}}]\n\
         \x20   filters:\n\
         \x20   - type: RequestHeaderModifier\n\
         \x20     requestHeaderModifier: {{set: [{{name: x-route, value: route-{i}}}]}}\n\
         \x20   backendRefs: [{{name: svc-{svc}, port: 8080}}]\n",
        host = host(i)
    );
    if apis && i.is_multiple_of(10) {
        let _ = write!(
            out,
            "---\napiVersion: dp.wso2.com/v1alpha3\nkind: API\nmetadata: {{name: api-{i}, namespace: scale}}\n\
             spec:\n  apiName: api-{i}\n  apiVersion: \"1.0\"\n  basePath: {base}\n  apiType: REST\n\
             \x20 production: [{{routeRefs: [route-{i}]}}]\n---\n\
             apiVersion: dp.wso2.com/v1alpha3\nkind: RateLimitPolicy\nmetadata: {{name: rl-{i}, namespace: scale}}\n\
             spec:\n  default: {{api: {{requestsPerUnit: 100, unit: Minute}}}}\n\
             \x20 targetRef: {{group: dp.wso2.com, kind: API, name: api-{i}}}\n",
            base = api_base(i)
        );
    }
    out
}

fn host(i: usize) -> String {
    format!("r{i}.scale.example")
}

fn api_base(i: usize) -> String {
    format!("/api-{i}/1.0")
}

fn route_file(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("route-{i:05}.yaml"))
}

/// Replaces the routes folder with `n` routes, one file each.
fn write_routes(dir: &Path, n: usize, apis: bool) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for i in 0..n {
        let path = route_file(dir, i);
        std::fs::write(&path, route_yaml(i, "/items", apis))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

// ---------- memory ----------

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Samples this process's RSS every few milliseconds and keeps the maximum; also resets the
/// kernel's high-water mark (`VmHWM`) so it covers only the measured window.
struct PeakRss {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
    hwm_reset: bool,
}

impl PeakRss {
    fn start() -> Self {
        // "5" resets the peak RSS to the current RSS (proc(5), clear_refs).
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(status_kib("self", "VmRSS").unwrap_or(0)));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(rss) = status_kib("self", "VmRSS") {
                    p.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        PeakRss {
            stop,
            peak,
            thread: Some(thread),
            hwm_reset,
        }
    }

    /// The peak in KiB: the kernel's high-water mark when it could be reset, else the samples'.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let sampled = self.peak.load(Ordering::Relaxed);
        match (self.hwm_reset, status_kib("self", "VmHWM")) {
            (true, Some(hwm)) => hwm.max(sampled),
            _ => sampled,
        }
    }
}

/// Envoy's memory: RSS from `/proc`, and tcmalloc's view from the admin `/memory` endpoint.
#[derive(Clone, Copy, Debug, Default, Serialize)]
struct EnvoyMemory {
    rss_kib: u64,
    allocated_bytes: u64,
    heap_size_bytes: u64,
}

async fn envoy_memory(gateway: &EmbeddedGateway) -> Result<EnvoyMemory> {
    let envoy = gateway.envoy().context("Envoy is not running")?;
    let pid = envoy.pid().context("Envoy has no pid")?;
    let rss_kib = status_kib(&pid.to_string(), "VmRSS").context("reading Envoy's VmRSS")?;
    let body = envoy.admin_get("/memory").await.context("Envoy admin /memory")?;
    let json: serde_json::Value = serde_json::from_str(&body).context("parsing Envoy's /memory")?;
    // Envoy prints 64-bit integers as JSON strings.
    let field = |name: &str| -> u64 {
        match &json[name] {
            serde_json::Value::String(s) => s.parse().unwrap_or(0),
            serde_json::Value::Number(n) => n.as_u64().unwrap_or(0),
            _ => 0,
        }
    };
    Ok(EnvoyMemory {
        rss_kib,
        allocated_bytes: field("allocated"),
        heap_size_bytes: field("heap_size"),
    })
}

// ---------- HTTP ----------

/// GET `path` on `host` through Envoy; returns the status code.
async fn get(addr: SocketAddr, host: &str, path: &str) -> Result<u16> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .context("request timed out")?
        .with_context(|| format!("GET http://{host}{path} via {addr}"))?;
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("no status line in {head:?}"))
}

/// Polls until `host` `path` answers `want`; returns when it first did.
async fn poll_until(addr: SocketAddr, host: &str, path: &str, want: u16) -> Result<Instant> {
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    loop {
        let status = get(addr, host, path).await?;
        if status == want {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("http://{host}{path} still answers {status} instead of {want}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ---------- statistics ----------

/// Median and spread of repeated measurements.
#[derive(Clone, Copy, Debug, Default, Serialize)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Spread::default();
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }

    fn show(&self, decimals: usize) -> String {
        format!(
            "{:.d$} ({:.d$}–{:.d$})",
            self.median,
            self.min,
            self.max,
            d = decimals
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What a push sent, per type (short name) and in total.
#[derive(Clone, Debug, Default, Serialize)]
struct Pushed {
    responses: u64,
    resources: u64,
    removals: u64,
    bytes: u64,
    by_type: BTreeMap<String, [u64; 3]>,
}

fn short_type(type_url: &str) -> String {
    type_url.rsplit('.').next().unwrap_or(type_url).to_string()
}

/// The difference of two `sent_counts` readings.
fn pushed<C: Copy>(
    before: &BTreeMap<String, C>,
    after: &BTreeMap<String, C>,
    fields: impl Fn(&C) -> [u64; 4],
) -> Pushed {
    let mut out = Pushed::default();
    for (type_url, now) in after {
        let now = fields(now);
        let was = before.get(type_url).map(&fields).unwrap_or_default();
        let d: Vec<u64> = now.iter().zip(was).map(|(n, w)| n.saturating_sub(w)).collect();
        if d.iter().all(|v| *v == 0) {
            continue;
        }
        out.responses += d[0];
        out.resources += d[1];
        out.removals += d[2];
        out.bytes += d[3];
        out.by_type.insert(short_type(type_url), [d[1], d[2], d[3]]);
    }
    out
}

// ---------- the run ----------

/// One measurement of N routes.
#[derive(Clone, Debug, Serialize)]
struct Sample {
    /// `reload` start → Envoy ACKed the version.
    apply_ms: f64,
    /// `reload` alone: read + parse the folder, translate, hash and publish.
    reload_ms: f64,
    /// Reading and parsing the same folder (`load_dir` + `Snapshot::from_report`), separately.
    parse_ms: f64,
    /// What the Delta push carried.
    pushed: Pushed,
    /// Control-plane (this process) peak RSS during the reload and the wait.
    peak_rss_kib: u64,
    /// Envoy's memory after the ACK.
    envoy: EnvoyMemory,
}

/// The summary of one route count.
#[derive(Clone, Debug, Serialize)]
struct Scale {
    routes: usize,
    apis: usize,
    samples: Vec<Sample>,
    apply_ms: Spread,
    reload_ms: Spread,
    parse_ms: Spread,
    /// `reload − parse`: translation, hashing and publishing (derived).
    translate_publish_ms: Spread,
    pushed_bytes: Spread,
    peak_rss_mib: Spread,
    envoy_rss_mib: Spread,
    envoy_allocated_mib: Spread,
}

/// One changed route at the largest count.
#[derive(Clone, Debug, Serialize)]
struct ChangeSample {
    /// `reload` start → Envoy ACKed the version.
    ack_ms: f64,
    /// `reload` start → the route first answered on its new path.
    answer_ms: f64,
    pushed: Pushed,
    /// Where `ack_ms` went.
    stages: Breakdown,
}

/// The stages of a change (see [`Breakdown`]), plus `translate` timed alone on the same
/// folder (most of `snapshot_translate_ms`).
#[derive(Clone, Debug, Serialize)]
struct StageSpreads {
    folder_ms: Spread,
    snapshot_translate_ms: Spread,
    hash_ms: Spread,
    diff_ms: Spread,
    envoy_ms: Spread,
    translate_ms: Spread,
}

#[derive(Clone, Debug, Serialize)]
struct Change {
    routes: usize,
    samples: Vec<ChangeSample>,
    ack_ms: Spread,
    answer_ms: Spread,
    /// Resources the Delta pushes carried per change (all types); 1 means only the changed
    /// route table.
    resources_per_change: Spread,
    bytes_per_change: Spread,
    stages: StageSpreads,
}

#[derive(Clone, Debug, Serialize)]
struct Target {
    name: String,
    target: String,
    measured: String,
    met: Option<bool>,
    /// A floor shown beside a target: neither met nor missed.
    floor: bool,
}

#[derive(Clone, Debug, Serialize)]
struct Machine {
    cpus: usize,
    cpu_model: String,
    load_average_start: String,
    load_average_end: String,
    envoy: String,
}

#[derive(Clone, Debug, Serialize)]
struct Report {
    machine: Machine,
    repeats: usize,
    xds: &'static str,
    scales: Vec<Scale>,
    change: Option<Change>,
    /// Envoy alone with a minimal table, by table size (see [`floor`]).
    floors: Vec<Floor>,
    targets: Vec<Target>,
    checks: Vec<String>,
    failures: Vec<String>,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")?
                    .split(':')
                    .nth(1)
                    .map(|m| m.trim().to_string())
            })
        })
        .unwrap_or_else(|| "unknown".to_string())
}

async fn run(args: &Args, recorder: &Recorder) -> Result<Report> {
    ensure!(args.repeats > 0, "--repeats must be at least 1");
    ensure!(!args.routes.is_empty(), "--routes names no count");
    let mut counts = args.routes.clone();
    counts.sort_unstable();
    counts.dedup();
    let apis = !args.no_apis;
    let load_start = load_average();

    let (scales, change, mut checks, mut failures, mut envoy) = if args.floor_only {
        (Vec::new(), None, Vec::new(), Vec::new(), None)
    } else {
        let (scales, change, checks, failures, envoy) = gateway_run(args, &counts, apis, recorder).await?;
        (scales, change, checks, failures, Some(envoy))
    };
    // After the gateway's run (one Envoy at a time): the floor at the largest count; alone, at
    // every count.
    let floor_counts: Vec<usize> = match (args.floor_only, args.no_floor) {
        (true, _) => counts.clone(),
        (false, true) => Vec::new(),
        (false, false) => counts.last().copied().into_iter().collect(),
    };
    let floor_counts: Vec<usize> = floor_counts.into_iter().filter(|&n| n > CHANGED_ROUTE).collect();
    ensure!(
        !args.floor_only || !floor_counts.is_empty(),
        "--floor-only needs a count above {CHANGED_ROUTE}"
    );
    let mut floors = Vec::new();
    if !floor_counts.is_empty() {
        match floor::measure(&floor_counts, args.repeats, apis, &args.envoy_log_level).await {
            Ok(run) => {
                floors = run.floors;
                checks.extend(run.checks);
                failures.extend(run.failures);
                envoy.get_or_insert(run.envoy);
            }
            Err(error) => failures.push(format!("floor: {error:#}")),
        }
    }

    let targets = targets(&scales, change.as_ref(), &floors);
    Ok(Report {
        machine: Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model: cpu_model(),
            load_average_start: load_start,
            load_average_end: load_average(),
            envoy: envoy.unwrap_or_default(),
        },
        repeats: args.repeats,
        xds: "Delta",
        scales,
        change,
        floors,
        targets,
        checks,
        failures,
    })
}

/// The gateway's run: every count, then one change at the largest; also where Envoy came from.
async fn gateway_run(
    args: &Args,
    counts: &[usize],
    apis: bool,
    recorder: &Recorder,
) -> Result<(Vec<Scale>, Option<Change>, Vec<String>, Vec<String>, String)> {
    let folder = tempfile::Builder::new()
        .prefix("bench-control-plane-")
        .tempdir()
        .context("creating the resource folder")?;
    let routes_dir = folder.path().join("routes");
    std::fs::write(folder.path().join("base.yaml"), base_yaml()).context("writing base.yaml")?;
    let mut options = EmbeddedOptions::new(folder.path().to_path_buf());
    options.port_policy = PortPolicy::AlwaysFree;
    options.echo_backends = true;
    options.watch = false;
    options.delta = true;
    options.envoy_log_level = args.envoy_log_level.clone();
    let gateway = EmbeddedGateway::start(options)
        .await
        .context("starting the embedded gateway")?;
    let result = measure(args, &gateway, &routes_dir, counts, apis, recorder).await;
    let envoy = format!("{:?}", gateway.envoy_source());
    let shutdown = gateway.shutdown().await;
    let (scales, change, checks, failures) = result?;
    shutdown.context("shutting the gateway down")?;
    Ok((scales, change, checks, failures, envoy))
}

type Measured = (Vec<Scale>, Option<Change>, Vec<String>, Vec<String>);

async fn measure(
    args: &Args,
    gateway: &EmbeddedGateway,
    routes_dir: &Path,
    counts: &[usize],
    apis: bool,
    recorder: &Recorder,
) -> Result<Measured> {
    let addr = gateway
        .listener_address(GATEWAY, GATEWAY_PORT)
        .context("the Gateway's listener has no address")?;
    let folder = gateway
        .control()
        .resources_dir()
        .context("the benchmark gateway reads a folder")?
        .to_path_buf();
    let mut scales = Vec::new();
    let mut checks = Vec::new();
    let mut failures = Vec::new();
    for &n in counts {
        let mut samples = Vec::new();
        for repeat in 0..args.repeats {
            // Start from no routes, so every sample measures the same 0 → N push.
            write_routes(routes_dir, 0, apis)?;
            gateway.reload_and_wait().await.context("clearing the routes")?;
            write_routes(routes_dir, n, apis)?;
            let sample = apply(gateway, &folder)
                .await
                .with_context(|| format!("{n} routes"))?;
            eprintln!(
                "bench-control-plane: {n} routes, run {}: ACK after {:.1} ms (reload {:.1} ms), \
                 {} bytes pushed, peak RSS {:.1} MiB, Envoy RSS {:.1} MiB",
                repeat + 1,
                sample.apply_ms,
                sample.reload_ms,
                sample.pushed.bytes,
                mib(sample.peak_rss_kib),
                mib(sample.envoy.rss_kib)
            );
            samples.push(sample);
        }
        // The last sample's routes are live: prove they route (and that API routes ask for
        // credentials).
        if n > CHANGED_ROUTE {
            match get(addr, &host(CHANGED_ROUTE), "/items/x").await {
                Ok(200) => checks.push(format!("{n} routes: route-{CHANGED_ROUTE} answers 200")),
                other => failures.push(format!("{n} routes: route-{CHANGED_ROUTE} answered {other:?}")),
            }
        }
        if apis && n > 0 {
            let path = format!("{}/items/x", api_base(0));
            match get(addr, &host(0), &path).await {
                Ok(401) => checks.push(format!("{n} routes: API route-0 without a token answers 401")),
                other => failures.push(format!(
                    "{n} routes: API route-0 without a token answered {other:?}"
                )),
            }
        }
        scales.push(summarise(n, apis, samples));
    }

    let change = match counts.last() {
        Some(&n) if n > CHANGED_ROUTE => {
            let change = change_one(args, gateway, routes_dir, n, apis, recorder, &mut failures);
            Some(change.await?)
        }
        _ => None,
    };
    Ok((scales, change, checks, failures))
}

/// Reloads the folder (holding `n` routes) and waits for Envoy's ACK, measuring everything.
async fn apply(gateway: &EmbeddedGateway, folder: &Path) -> Result<Sample> {
    let before = gateway.xds().sent_counts();
    let rss = PeakRss::start();
    let start = Instant::now();
    let version = gateway.control().reload().await.context("reload")?;
    let reloaded = start.elapsed();
    gateway
        .xds()
        .wait_until_applied(version, APPLY_TIMEOUT)
        .await
        .context("waiting for Envoy's ACK")?;
    let applied = start.elapsed();
    let peak_rss_kib = rss.finish();
    let after = gateway.xds().sent_counts();
    let envoy = envoy_memory(gateway).await?;

    let dir = folder.to_path_buf();
    let parse = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let report = load_dir(&dir);
        let (snapshot, errors) = Snapshot::from_report(&report);
        (start.elapsed(), snapshot.http_routes.len(), errors.len())
    })
    .await
    .context("parsing the folder")?;
    let (parse_time, _, errors) = parse;
    ensure!(errors == 0, "{errors} errors loading the generated resources");

    Ok(Sample {
        apply_ms: ms(applied),
        reload_ms: ms(reloaded),
        parse_ms: ms(parse_time),
        pushed: pushed(&before, &after, |c| {
            [c.responses, c.resources, c.removals, c.bytes]
        }),
        peak_rss_kib,
        envoy,
    })
}

fn summarise(routes: usize, apis: bool, samples: Vec<Sample>) -> Scale {
    let of = |f: &dyn Fn(&Sample) -> f64| Spread::of(&samples.iter().map(f).collect::<Vec<_>>());
    Scale {
        routes,
        apis: if apis { routes.div_ceil(10) } else { 0 },
        apply_ms: of(&|s| s.apply_ms),
        reload_ms: of(&|s| s.reload_ms),
        parse_ms: of(&|s| s.parse_ms),
        translate_publish_ms: of(&|s| (s.reload_ms - s.parse_ms).max(0.0)),
        pushed_bytes: of(&|s| s.pushed.bytes as f64),
        peak_rss_mib: of(&|s| mib(s.peak_rss_kib)),
        envoy_rss_mib: of(&|s| mib(s.envoy.rss_kib)),
        envoy_allocated_mib: of(&|s| s.envoy.allocated_bytes as f64 / (1024.0 * 1024.0)),
        samples,
    }
}

/// Changes one route's path `repeats` times at `n` routes and measures each change.
async fn change_one(
    args: &Args,
    gateway: &EmbeddedGateway,
    routes_dir: &Path,
    n: usize,
    apis: bool,
    recorder: &Recorder,
    failures: &mut Vec<String>,
) -> Result<Change> {
    let addr = gateway
        .listener_address(GATEWAY, GATEWAY_PORT)
        .context("the Gateway's listener has no address")?;
    let host = host(CHANGED_ROUTE);
    let file = route_file(routes_dir, CHANGED_ROUTE);
    let mut samples = Vec::new();
    let mut old_prefix = "/items".to_string();
    for k in 1..=args.repeats {
        let prefix = format!("/items-v{k}");
        std::fs::write(&file, route_yaml(CHANGED_ROUTE, &prefix, apis))
            .with_context(|| format!("writing {}", file.display()))?;
        let new_path = format!("{prefix}/x");
        let before = gateway.xds().sent_counts();
        recorder.clear();
        let start = Instant::now();
        // As the folder watcher does: the event names the changed file.
        let version = gateway
            .control()
            .reload_changed(vec![file.clone()])
            .await
            .context("reload after the change")?;
        gateway
            .xds()
            .wait_until_applied(version, APPLY_TIMEOUT)
            .await
            .context("waiting for Envoy's ACK of the change")?;
        let acked = start.elapsed();
        let stages = Breakdown::of(start, &recorder.take());
        let answered = poll_until(addr, &host, &new_path, 200)
            .await?
            .duration_since(start);
        let after = gateway.xds().sent_counts();
        // The old path must be gone: it matched only the changed rule.
        match get(addr, &host, &format!("{old_prefix}/x")).await {
            Ok(404) => {}
            other => failures.push(format!(
                "change {k}: the old path {old_prefix} answered {other:?}"
            )),
        }
        let pushed = pushed(&before, &after, |c| {
            [c.responses, c.resources, c.removals, c.bytes]
        });
        // One route table (whole) or one virtual host (VHDS), nothing else.
        if pushed
            .by_type
            .keys()
            .any(|t| !ROUTE_TYPES.iter().any(|r| t == &short_type(r)))
            || pushed.resources != 1
        {
            failures.push(format!(
                "change {k}: Delta pushed more than the changed route table: {:?}",
                pushed.by_type
            ));
        }
        eprintln!(
            "bench-control-plane: change {k} at {n} routes: ACK after {:.1} ms, answered after {:.1} ms, \
             pushed {} resources / {} bytes; {stages:?}",
            ms(acked),
            ms(answered),
            pushed.resources,
            pushed.bytes
        );
        samples.push(ChangeSample {
            ack_ms: ms(acked),
            answer_ms: ms(answered),
            pushed,
            stages,
        });
        old_prefix = prefix;
    }
    let offline = translate_alone(gateway, addr, args.repeats).await?;
    let of = |f: &dyn Fn(&ChangeSample) -> f64| Spread::of(&samples.iter().map(f).collect::<Vec<_>>());
    Ok(Change {
        stages: StageSpreads {
            folder_ms: of(&|s| s.stages.folder_ms),
            snapshot_translate_ms: of(&|s| s.stages.snapshot_translate_ms),
            hash_ms: of(&|s| s.stages.hash_ms),
            diff_ms: of(&|s| s.stages.diff_ms),
            envoy_ms: of(&|s| s.stages.envoy_ms),
            translate_ms: offline,
        },
        routes: n,
        ack_ms: of(&|s| s.ack_ms),
        answer_ms: of(&|s| s.answer_ms),
        resources_per_change: of(&|s| s.pushed.resources as f64),
        bytes_per_change: of(&|s| s.pushed.bytes as f64),
        samples,
    })
}

/// Times `translate` alone, `repeats` times, over the gateway's folder as it stands (the echo
/// backends' EndpointSlices, which the control plane adds, are missing; they are ten small
/// objects).
async fn translate_alone(gateway: &EmbeddedGateway, addr: SocketAddr, repeats: usize) -> Result<Spread> {
    let dir = gateway
        .control()
        .resources_dir()
        .context("the benchmark gateway reads a folder")?
        .to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut folder = FolderCache::new(dir);
        folder.refresh();
        let mut translate = Vec::new();
        let (gateway_ns, gateway_name) = GATEWAY.split_once('/').unwrap_or(("", GATEWAY));
        let ports: portcullis_translate::PortMap =
            [((ObjectKey::new(gateway_ns, gateway_name), GATEWAY_PORT), addr)].into();
        for _ in 0..repeats {
            let start = Instant::now();
            let translation = portcullis_translate::translate(&portcullis_translate::TranslateInput {
                snapshot: folder.snapshot(),
                controller_name: CONTROLLER_NAME,
                also_serves: None,
                port_map: &ports,
            });
            translate.push(ms(start.elapsed()));
            drop(translation);
        }
        Spread::of(&translate)
    })
    .await
    .context("timing translate")
}

fn targets(scales: &[Scale], change: Option<&Change>, floors: &[Floor]) -> Vec<Target> {
    let at = scales.iter().find(|s| s.routes == TARGET_APPLY_ROUTES);
    let mut out = vec![
        Target {
            name: format!("{TARGET_APPLY_ROUTES} routes: reload → Envoy ACK"),
            target: format!("< {} ms", TARGET_APPLY.as_millis()),
            measured: at.map_or("not measured".into(), |s| {
                format!("{:.0} ms (median)", s.apply_ms.median)
            }),
            met: at.map(|s| s.apply_ms.median < ms(TARGET_APPLY)),
            floor: false,
        },
        Target {
            name: format!("{TARGET_APPLY_ROUTES} routes: control-plane peak RSS"),
            target: format!("< {TARGET_MEMORY_MIB:.0} MiB"),
            measured: at.map_or("not measured".into(), |s| {
                format!("{:.1} MiB (median)", s.peak_rss_mib.median)
            }),
            met: at.map(|s| s.peak_rss_mib.median < TARGET_MEMORY_MIB),
            floor: false,
        },
    ];
    let change = change.filter(|c| c.routes == TARGET_APPLY_ROUTES);
    out.push(Target {
        name: format!("one changed route at {TARGET_APPLY_ROUTES}: reload → new answer"),
        target: format!("< {} ms", TARGET_CHANGE.as_millis()),
        measured: change.map_or("not measured".into(), |c| {
            format!("{:.1} ms (median)", c.answer_ms.median)
        }),
        met: change.map(|c| c.answer_ms.median < ms(TARGET_CHANGE)),
        floor: false,
    });
    for shape in [Shape::Minimal, Shape::Translator] {
        let floor = floors
            .iter()
            .find(|f| f.shape == shape && f.hosts == TARGET_APPLY_ROUTES);
        out.push(Target {
            name: format!(
                "Envoy alone, {} {TARGET_APPLY_ROUTES}-host table: one change → answer",
                shape.describe()
            ),
            target: "–".into(),
            measured: floor.map_or("not measured".into(), |f| {
                format!("{:.1} ms (median)", f.answer_ms.median)
            }),
            met: None,
            floor: true,
        });
    }
    out.push(Target {
        name: format!("one changed route at {TARGET_APPLY_ROUTES}: Delta pushes only what changed"),
        target: "1 resource (the route table or, with VHDS, the virtual host holding the route)".into(),
        measured: change.map_or("not measured".into(), |c| {
            format!(
                "{:.0} resource(s), {:.0} bytes",
                c.resources_per_change.median, c.bytes_per_change.median
            )
        }),
        met: change.map(|c| c.resources_per_change.max <= 1.0),
        floor: false,
    });
    out
}

// ---------- reports ----------

fn markdown(report: &Report) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let _ = writeln!(md, "# bench-control-plane\n");
    let _ = writeln!(
        md,
        "Machine: {} CPUs ({}), load average {} at start, {} at end. Envoy: {}. xDS: {}. \
         Median (min–max) of {} runs.\n",
        m.cpus, m.cpu_model, m.load_average_start, m.load_average_end, m.envoy, report.xds, report.repeats
    );
    if !report.scales.is_empty() {
        scales_markdown(&mut md, &report.scales);
    }
    if let Some(c) = &report.change {
        let _ = writeln!(md, "\n## One changed route at {} routes\n", c.routes);
        let _ = writeln!(
            md,
            "| reload → ACK (ms) | reload → new answer (ms) | resources pushed | bytes pushed |"
        );
        let _ = writeln!(md, "|---|---|---|---|");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            c.ack_ms.show(1),
            c.answer_ms.show(1),
            c.resources_per_change.show(0),
            c.bytes_per_change.show(0)
        );
        let st = &c.stages;
        let _ = writeln!(
            md,
            "\nWhere reload → ACK goes (ms): folder refresh of the changed file and snapshot update {}; \
             echo sync + translate + compare {} (translate alone {}); hash {}; Delta diff {}; \
             Envoy apply → ACK {}.",
            st.folder_ms.show(1),
            st.snapshot_translate_ms.show(1),
            st.translate_ms.show(1),
            st.hash_ms.show(1),
            st.diff_ms.show(1),
            st.envoy_ms.show(1),
        );
        if let Some(sample) = c.samples.first() {
            let _ = writeln!(
                md,
                "\nPushed per type (resources, removals, bytes): {:?}",
                sample.pushed.by_type
            );
        }
    }
    if !report.floors.is_empty() {
        floor_markdown(&mut md, &report.floors);
    }
    let _ = writeln!(md, "\n## Targets\n");
    let _ = writeln!(md, "| target | wanted | measured | |\n|---|---|---|---|");
    for t in &report.targets {
        let verdict = match (t.floor, t.met) {
            (true, _) => "floor",
            (false, Some(true)) => "met",
            (false, Some(false)) => "MISSED",
            (false, None) => "–",
        };
        let _ = writeln!(md, "| {} | {} | {} | {} |", t.name, t.target, t.measured, verdict);
    }
    let _ = writeln!(md, "\n## Checks\n");
    for c in &report.checks {
        let _ = writeln!(md, "- ok: {c}");
    }
    for f in &report.failures {
        let _ = writeln!(md, "- FAILED: {f}");
    }
    md
}

/// The table of route counts.
fn scales_markdown(md: &mut String, scales: &[Scale]) {
    let _ = writeln!(
        md,
        "| routes | APIs | reload → ACK (ms) | reload (ms) | read+parse (ms) | translate+publish (ms) | \
         pushed (KiB) | CP peak RSS (MiB) | Envoy RSS (MiB) | Envoy allocated (MiB) |"
    );
    let _ = writeln!(md, "|---:|---:|---|---|---|---|---|---|---|---|");
    for s in scales {
        let kib = Spread {
            median: s.pushed_bytes.median / 1024.0,
            min: s.pushed_bytes.min / 1024.0,
            max: s.pushed_bytes.max / 1024.0,
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.routes,
            s.apis,
            s.apply_ms.show(1),
            s.reload_ms.show(1),
            s.parse_ms.show(1),
            s.translate_publish_ms.show(1),
            kib.show(0),
            s.peak_rss_mib.show(1),
            s.envoy_rss_mib.show(1),
            s.envoy_allocated_mib.show(1),
        );
    }
}

/// The "Floor: Envoy alone" section.
fn floor_markdown(md: &mut String, floors: &[Floor]) {
    let _ = writeln!(md, "\n## Floor: Envoy alone\n");
    let _ = writeln!(
        md,
        "The same Envoy and Delta xDS server, fed by a control plane that only publishes. Minimal \
         table: one listener (RDS over ADS, router only), one cluster, and one route table of N \
         virtual hosts `r<i>.scale.example` with one route each (`/items` → the cluster), built \
         directly with envoy-types. Translator's table: the translator's resources for N of this \
         benchmark's HTTPRoutes, translated before the clock starts. One change rewrites host \
         r{CHANGED_ROUTE}'s prefix and publishes the whole table (publish = the xDS server hashing it). \
         Envoy's memory is read after each load, the translator's tables after the minimal ones.\n"
    );
    let _ = writeln!(
        md,
        "| table | virtual hosts | table (KiB) | 0 → N hosts → ACK (ms) | one change: publish (ms) | \
         publish → ACK (ms) | publish → new answer (ms) | Envoy RSS (MiB) | Envoy allocated (MiB) |"
    );
    let _ = writeln!(md, "|---|---:|---:|---|---|---|---|---:|---:|");
    for f in floors {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {:.1} | {:.1} |",
            f.shape.describe(),
            f.hosts,
            f.table_bytes as f64 / 1024.0,
            f.load_ack_ms.show(1),
            f.publish_ms.show(1),
            f.ack_ms.show(1),
            f.answer_ms.show(1),
            f.envoy_rss_mib,
            f.envoy_allocated_mib,
        );
    }
}

/// Compares this run with `baseline`: prints the table, writes it next to the reports, and
/// returns what regressed (as failures).
fn against_baseline(args: &Args, baseline: &ScaleReport, report: &Report) -> Result<Vec<String>> {
    let text = serde_json::to_string(report).context("serialising the report")?;
    let current = ScaleReport::parse("this run", &text)?;
    let thresholds = ScaleThresholds {
        max_time_rise_pct: args.max_time_rise,
        max_size_rise_pct: args.max_size_rise,
    };
    let comparison = scale_baseline::compare(baseline, &current, thresholds);
    let table = comparison.markdown();
    println!("\n## Against the baseline\n\n{table}");
    let path = args.out_dir.join("bench-control-plane-baseline.md");
    std::fs::write(&path, format!("# Against the baseline\n\n{table}"))
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench-control-plane: wrote {}", path.display());
    let mut regressed: Vec<String> = comparison
        .regressions()
        .iter()
        .map(|m| {
            format!(
                "regressed against the baseline: {} ({:.1} → {:.1})",
                m.measure, m.values.0, m.values.1
            )
        })
        .collect();
    if comparison.measures.is_empty() {
        regressed.push("nothing measured in both this run and the baseline".to_string());
    }
    Ok(regressed)
}

fn write_reports(report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let md = dir.join("bench-control-plane.md");
    std::fs::write(&md, markdown(report)).with_context(|| format!("writing {}", md.display()))?;
    let json = dir.join("bench-control-plane.json");
    let text = serde_json::to_string_pretty(report).context("serialising the report")?;
    std::fs::write(&json, text + "\n").with_context(|| format!("writing {}", json.display()))?;
    Ok(vec![md, json])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_resources_load_without_errors() {
        let mut yaml = base_yaml();
        for i in 0..20 {
            yaml.push_str("---\n");
            yaml.push_str(&route_yaml(i, "/items", true));
        }
        let report = portcullis_model::parse_documents("gen.yaml", &yaml);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let (snapshot, errors) = Snapshot::from_report(&report);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(snapshot.http_routes.len(), 20);
    }

    fn floor_at(shape: Shape, hosts: usize, answer_ms: f64) -> Floor {
        let change = floor::FloorChange {
            publish_ms: 10.0,
            ack_ms: answer_ms - 5.0,
            answer_ms,
        };
        Floor {
            shape,
            hosts,
            table_bytes: hosts * 60,
            load_ack_ms: Spread::of(&[400.0, 420.0]),
            envoy_rss_mib: 80.5,
            envoy_allocated_mib: 40.25,
            publish_ms: Spread::of(&[change.publish_ms]),
            ack_ms: Spread::of(&[change.ack_ms]),
            answer_ms: Spread::of(&[change.answer_ms]),
            changes: vec![change],
        }
    }

    fn report_with(floors: Vec<Floor>) -> Report {
        Report {
            machine: Machine {
                cpus: 2,
                cpu_model: "test".into(),
                load_average_start: "0.00".into(),
                load_average_end: "0.00".into(),
                envoy: "Path".into(),
            },
            repeats: 1,
            xds: "Delta",
            scales: Vec::new(),
            change: None,
            targets: targets(&[], None, &floors),
            floors,
            checks: Vec::new(),
            failures: Vec::new(),
        }
    }

    #[test]
    fn report_shows_the_floor_and_sets_it_beside_the_change_target() {
        let report = report_with(vec![
            floor_at(Shape::Minimal, 1_000, 50.0),
            floor_at(Shape::Minimal, 10_000, 345.5),
            floor_at(Shape::Translator, 10_000, 400.0),
        ]);
        let md = markdown(&report);
        assert!(md.contains("## Floor: Envoy alone"), "{md}");
        assert!(
            !md.contains("| routes | APIs |"),
            "no scales, no table of them: {md}"
        );
        assert!(
            md.contains(
                "| minimal | 1000 | 59 | 410.0 (400.0–420.0) | 10.0 (10.0–10.0) | 45.0 (45.0–45.0) |"
            ),
            "{md}"
        );
        assert!(md.contains("| translator's | 10000 | 586 |"), "{md}");
        assert!(
            md.contains(
                "| Envoy alone, minimal 10000-host table: one change → answer | – | 345.5 ms (median) | floor |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| Envoy alone, translator's 10000-host table: one change → answer | – | 400.0 ms"),
            "{md}"
        );
        let json = serde_json::to_value(&report).expect("the report serialises");
        assert_eq!(json["floors"][1]["hosts"], 10_000);
        assert_eq!(json["floors"][2]["shape"], "translator");
        assert_eq!(json["floors"][1]["answer_ms"]["median"], 345.5);
        assert_eq!(json["floors"][0]["load_ack_ms"]["max"], 420.0);
    }

    #[test]
    fn a_written_report_reads_back_as_a_baseline_and_matches_itself() {
        let sample = Sample {
            apply_ms: 1_140.0,
            reload_ms: 900.0,
            parse_ms: 450.0,
            pushed: Pushed {
                responses: 4,
                resources: 24,
                removals: 0,
                bytes: 4_600_000,
                by_type: BTreeMap::new(),
            },
            peak_rss_kib: 170 * 1024,
            envoy: EnvoyMemory {
                rss_kib: 200 * 1024,
                allocated_bytes: 0,
                heap_size_bytes: 0,
            },
        };
        let mut report = report_with(Vec::new());
        report.scales = vec![summarise(10_000, true, vec![sample])];
        let text = serde_json::to_string(&report).expect("the report serialises");
        let read = ScaleReport::parse("report.json", &text).expect("a report reads back as a baseline");
        assert_eq!(read.scales.len(), 1);
        let scale = &read.scales[0];
        assert_eq!((scale.routes, scale.apis), (10_000, 1_000));
        assert_eq!(scale.apply_ms.median, 1_140.0);
        assert_eq!(scale.peak_rss_mib.median, 170.0);
        assert_eq!(scale.pushed_bytes.median, 4_600_000.0);
        let same = scale_baseline::compare(&read, &read, ScaleThresholds::default());
        assert!(!same.failed(), "{}", same.markdown());
        assert_eq!(same.measures.len(), 3);
    }

    #[test]
    fn report_without_a_floor_has_no_floor_section() {
        let md = markdown(&report_with(Vec::new()));
        assert!(!md.contains("## Floor"), "{md}");
        assert!(
            md.contains("one change → answer | – | not measured | floor |"),
            "{md}"
        );
    }

    #[test]
    fn spread_is_median_min_max() {
        let s = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of(&[1.0, 4.0]).median, 2.5);
    }
}
