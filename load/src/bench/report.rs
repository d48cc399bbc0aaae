//! The benchmark's results: per-run samples, per-configuration rows, targets, machine, and
//! their Markdown and JSON forms.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::cpu::CpuUse;

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Configuration {
    /// (1) The route without a rate limit.
    Unlimited,
    /// (2) The limited route, counters in memory.
    InMemory,
    /// (3) The limited route, counters in Redis.
    Redis,
    /// (4) The limiter alone over gRPC.
    LimiterAlone,
    /// (5) A static Envoy routing to the same echo backend, no rate limit: the control of (6).
    StaticControl,
    /// (6) The static Envoy with the `ratelimit` filter asking a service that answers OK at
    /// once: the floor of any rate-limit service, what the call costs in Envoy.
    RlsFloor,
}

impl Configuration {
    /// The five measured through Envoy, in the order they alternate.
    pub const THROUGH_ENVOY: [Configuration; 5] = [
        Configuration::Unlimited,
        Configuration::InMemory,
        Configuration::Redis,
        Configuration::StaticControl,
        Configuration::RlsFloor,
    ];

    /// What its throughput is held against: (1) for the gateway's routes and the static
    /// Envoy's control, (5) for the floor, nothing for the limiter alone.
    pub fn baseline(self) -> Option<Configuration> {
        match self {
            Configuration::LimiterAlone => None,
            Configuration::RlsFloor => Some(Configuration::StaticControl),
            _ => Some(Configuration::Unlimited),
        }
    }

    /// Whether every request asks a rate-limit service.
    pub fn asks(self) -> bool {
        !matches!(self, Configuration::Unlimited | Configuration::StaticControl)
    }

    /// Its number in the table.
    pub fn number(self) -> usize {
        match self {
            Configuration::Unlimited => 1,
            Configuration::InMemory => 2,
            Configuration::Redis => 3,
            Configuration::LimiterAlone => 4,
            Configuration::StaticControl => 5,
            Configuration::RlsFloor => 6,
        }
    }

    /// What the table calls it.
    pub fn label(self) -> &'static str {
        match self {
            Configuration::Unlimited => "Envoy route, no rate limit",
            Configuration::InMemory => "Envoy route, limiter in memory",
            Configuration::Redis => "Envoy route, limiter in Redis",
            Configuration::LimiterAlone => "limiter alone, gRPC (in memory)",
            Configuration::StaticControl => "static Envoy, no rate limit (control of 6)",
            Configuration::RlsFloor => "static Envoy, ratelimit to a no-op service (floor)",
        }
    }

    /// What its throughput counts.
    pub fn unit(self) -> &'static str {
        match self {
            Configuration::LimiterAlone => "decisions/s",
            _ => "requests/s",
        }
    }
}

/// The limiter's counters over one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LimiterCounts {
    /// Decisions made (warm-up included).
    pub decisions: u64,
    /// Failed calls to the counter store (each answered fail-open).
    pub store_errors: u64,
    /// Descriptors that matched no limit.
    pub no_match: u64,
}

/// One run of one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// Which repeat (from 1).
    pub repeat: usize,
    /// The measured window, seconds.
    pub seconds: f64,
    /// Requests completed in it.
    pub requests: u64,
    /// Requests per second (decisions per second for the limiter alone).
    pub per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
    /// Requests that failed, warm-up included.
    pub failures: u64,
    /// Answers over the limit (429 / OVER_LIMIT), warm-up included.
    pub throttled: u64,
    /// Requests completed in the warm-up (not counted).
    pub warmup_requests: u64,
    /// Answers in the window, by HTTP status or RLS code.
    pub outcomes: BTreeMap<String, u64>,
    /// Why requests failed.
    pub errors: BTreeMap<String, u64>,
    /// The limiter behind the route, if any: what it counted meanwhile.
    pub limiter: Option<LimiterCounts>,
    /// For the limiter alone: CPU seconds its server threads spent in the measured window.
    pub server_cpu_seconds: Option<f64>,
    /// Where the machine's CPU went in the measured window.
    pub cpu: Option<CpuUse>,
}

impl Sample {
    /// For the limiter alone: server CPU microseconds per decision.
    pub fn server_cpu_us_per_request(&self) -> Option<f64> {
        let cpu = self.server_cpu_seconds?;
        (self.requests > 0).then(|| cpu * 1e6 / self.requests as f64)
    }
}

/// The low, middle and high value of a set of repeats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The lowest.
    pub min: f64,
    /// The highest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; zeros for none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() {
            return Spread::default();
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Spread {
            median,
            min: values[0],
            max: values[n - 1],
        }
    }
}

/// One configuration over every repeat.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Its number, 1 to 4.
    pub number: usize,
    /// Which.
    pub configuration: Configuration,
    /// What the table calls it.
    pub label: String,
    /// What `per_second` counts.
    pub unit: String,
    /// Throughput over the repeats.
    pub per_second: Spread,
    /// Median latency over the repeats, milliseconds.
    pub p50_ms: Spread,
    /// 99th percentile latency over the repeats, milliseconds.
    pub p99_ms: Spread,
    /// Median throughput over configuration (1)'s; `None` for the limiter alone.
    pub ratio_to_unlimited: Option<f64>,
    /// Requests counted over every repeat.
    pub requests: u64,
    /// Failed requests over every repeat.
    pub failures: u64,
    /// Throttled answers over every repeat.
    pub throttled: u64,
    /// For the limiter alone: server CPU microseconds per decision over the repeats.
    pub server_cpu_us_per_request: Option<Spread>,
    /// Where the CPU went: the median of each share over the repeats.
    pub cpu: Option<CpuUse>,
    /// Every repeat.
    pub samples: Vec<Sample>,
}

impl Row {
    /// The row of `configuration` from its samples; `base` is the median throughput of its
    /// [`Configuration::baseline`].
    pub fn new(configuration: Configuration, samples: Vec<Sample>, base: Option<f64>) -> Self {
        let per_second = Spread::of(samples.iter().map(|s| s.per_second));
        let ratio_to_unlimited = match base {
            Some(base) if base > 0.0 => Some(per_second.median / base),
            _ => None,
        };
        Row {
            number: configuration.number(),
            configuration,
            label: configuration.label().to_string(),
            unit: configuration.unit().to_string(),
            per_second,
            p50_ms: Spread::of(samples.iter().map(|s| s.p50_ms)),
            p99_ms: Spread::of(samples.iter().map(|s| s.p99_ms)),
            ratio_to_unlimited,
            requests: samples.iter().map(|s| s.requests).sum(),
            failures: samples.iter().map(|s| s.failures).sum(),
            throttled: samples.iter().map(|s| s.throttled).sum(),
            server_cpu_us_per_request: {
                let per: Vec<f64> = samples
                    .iter()
                    .filter_map(Sample::server_cpu_us_per_request)
                    .collect();
                (!per.is_empty()).then(|| Spread::of(per))
            },
            cpu: CpuUse::median_of(samples.iter().filter_map(|s| s.cpu)),
            samples,
        }
    }
}

/// A goal the benchmark reports against (never fails on).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// What it asks.
    pub goal: String,
    /// The least value that passes.
    pub threshold: f64,
    /// What was measured.
    pub measured: f64,
    /// `measured >= threshold`.
    pub pass: bool,
}

impl Target {
    fn new(goal: impl Into<String>, threshold: f64, measured: f64) -> Self {
        Target {
            goal: goal.into(),
            threshold,
            measured,
            pass: measured >= threshold,
        }
    }
}

/// Where it ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Machine {
    /// CPUs available to the process (as `nproc`).
    pub nproc: usize,
    /// The first `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// Envoy's version.
    pub envoy: String,
    /// The Redis server's version.
    pub redis: String,
}

impl Machine {
    /// nproc and the CPU model of this machine; versions are filled in by the run.
    pub fn this() -> Self {
        let nproc = std::thread::available_parallelism().map_or(0, usize::from);
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| cpu_model(&text))
            .unwrap_or_else(|| "unknown".to_string());
        Machine {
            nproc,
            cpu_model,
            ..Machine::default()
        }
    }
}

/// The `model name` (x86) or, failing that, `Model`/`CPU part` (Arm) of /proc/cpuinfo.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Model", "CPU part"].iter().find_map(|field| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == *field && !value.trim().is_empty()).then(|| value.trim().to_string())
        })
    })
}

/// How the run was set up.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// Concurrent users (connections) per attack through Envoy.
    pub users: usize,
    /// Measured seconds per run.
    pub seconds: f64,
    /// Warm-up seconds before each run (not counted).
    pub warmup_seconds: f64,
    /// Runs per configuration.
    pub repeats: usize,
    /// Concurrent gRPC clients of the limiter alone.
    pub grpc_tasks: usize,
    /// HTTP/2 connections they share.
    pub grpc_connections: usize,
    /// Worker threads of the limiter's own runtime.
    pub grpc_server_threads: usize,
    /// The order the runs went in.
    pub order: String,
}

/// Everything the benchmark found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// Where it ran.
    pub machine: Machine,
    /// How.
    pub settings: Settings,
    /// One per configuration, 1 to 4.
    pub rows: Vec<Row>,
    /// The goals, PASS or MISS.
    pub targets: Vec<Target>,
    /// What makes the run fail: failed requests, 429s, limiter store errors. Empty if none.
    pub problems: Vec<String>,
}

/// Redis-backed limiting keeps at least this share of the unlimited route's throughput.
pub const REDIS_RATIO_TARGET: f64 = 0.9;
/// The limiter alone makes at least this many decisions per second.
pub const LIMITER_ALONE_TARGET: f64 = 50_000.0;

impl BenchReport {
    /// The report of `samples` (configuration → its runs, in repeat order).
    pub fn new(
        machine: Machine,
        settings: Settings,
        samples: BTreeMap<usize, Vec<Sample>>,
        mut problems: Vec<String>,
    ) -> Self {
        let all = [
            Configuration::Unlimited,
            Configuration::InMemory,
            Configuration::Redis,
            Configuration::LimiterAlone,
            Configuration::StaticControl,
            Configuration::RlsFloor,
        ];
        let mut samples = samples;
        let median = |samples: &BTreeMap<usize, Vec<Sample>>, c: Configuration| {
            samples
                .get(&c.number())
                .map(|s| Spread::of(s.iter().map(|s| s.per_second)).median)
        };
        let bases: Vec<Option<f64>> = all
            .iter()
            .map(|c| c.baseline().and_then(|b| median(&samples, b)))
            .collect();
        let rows: Vec<Row> = all
            .iter()
            .zip(bases)
            .map(|(c, base)| Row::new(*c, samples.remove(&c.number()).unwrap_or_default(), base))
            .collect();
        for row in &rows {
            if row.samples.is_empty() {
                problems.push(format!("({}) {}: not measured", row.number, row.label));
            }
            for sample in &row.samples {
                let run = format!("({}) {}, repeat {}", row.number, row.label, sample.repeat);
                if sample.failures > 0 {
                    let reasons: Vec<String> =
                        sample.errors.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
                    problems.push(format!(
                        "{run}: {} failed requests ({})",
                        sample.failures,
                        reasons.join("; ")
                    ));
                }
                if sample.throttled > 0 {
                    problems.push(format!("{run}: {} answers over the limit", sample.throttled));
                }
                if sample.requests == 0 {
                    problems.push(format!("{run}: no request completed"));
                }
                if let Some(limiter) = sample.limiter {
                    if limiter.store_errors > 0 {
                        problems.push(format!(
                            "{run}: {} counter store errors (answered fail-open)",
                            limiter.store_errors
                        ));
                    }
                    if limiter.no_match > 0 {
                        problems.push(format!(
                            "{run}: {} descriptors matched no limit",
                            limiter.no_match
                        ));
                    }
                    let asked = row.configuration.asks();
                    if asked && limiter.decisions < sample.requests {
                        problems.push(format!(
                            "{run}: the limiter decided {} times for {} requests",
                            limiter.decisions, sample.requests
                        ));
                    }
                    if !asked && limiter.decisions > 0 {
                        problems.push(format!(
                            "{run}: the limiter was asked {} times for the unlimited route",
                            limiter.decisions
                        ));
                    }
                }
            }
        }
        let redis_ratio = rows
            .iter()
            .find(|r| r.configuration == Configuration::Redis)
            .and_then(|r| r.ratio_to_unlimited)
            .unwrap_or(0.0);
        let alone = rows
            .iter()
            .find(|r| r.configuration == Configuration::LimiterAlone)
            .map_or(0.0, |r| r.per_second.median);
        let targets = vec![
            Target::new(
                "Redis-backed limiting keeps ≥ 90 % of the unlimited route's requests/s, (3)/(1)",
                REDIS_RATIO_TARGET,
                redis_ratio,
            ),
            Target::new(
                "limiter alone ≥ 50,000 decisions/s, (4)",
                LIMITER_ALONE_TARGET,
                alone,
            ),
        ];
        BenchReport {
            machine,
            settings,
            rows,
            targets,
            problems,
        }
    }

    /// Whether every request was answered as expected.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let s = &self.settings;
        let _ = writeln!(out, "# Rate-limit benchmark\n");
        let _ = writeln!(
            out,
            "Machine: {} CPUs (nproc), {}; Envoy {}; Redis server {}.  ",
            m.nproc, m.cpu_model, m.envoy, m.redis
        );
        let _ = writeln!(
            out,
            "Settings: {} users (keep-alive HTTP/1.1 connections, closed loop) per run, {} s measured \
             after {} s of warm-up, {} repeats, order {}; limiter alone: {} gRPC tasks over {} \
             HTTP/2 connections, server on {} thread(s) of its own. Load generator, echo backend \
             and rate-limit service share this process; Envoy and Redis run beside it on the same \
             CPUs.\n",
            s.users,
            number(s.seconds),
            number(s.warmup_seconds),
            s.repeats,
            s.order,
            s.grpc_tasks,
            s.grpc_connections,
            s.grpc_server_threads,
        );
        let _ = writeln!(
            out,
            "| # | configuration | throughput (median) | min–max | p50 ms | p99 ms (median) | p99 min–max | vs base |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
        for row in &self.rows {
            let ratio = row
                .ratio_to_unlimited
                .map_or_else(|| "–".to_string(), |r| format!("{:.1} %", r * 100.0));
            let _ = writeln!(
                out,
                "| {} | {} | {} {} | {}–{} | {:.2} | {:.2} | {:.2}–{:.2} | {} |",
                row.number,
                row.label,
                thousands(row.per_second.median),
                row.unit,
                thousands(row.per_second.min),
                thousands(row.per_second.max),
                row.p50_ms.median,
                row.p99_ms.median,
                row.p99_ms.min,
                row.p99_ms.max,
                ratio,
            );
        }
        if self.rows.iter().any(|r| r.cpu.is_some()) {
            let _ = writeln!(
                out,
                "\nWhere the CPU went (median over the repeats, in cores of {}):\n",
                m.nproc
            );
            let _ = writeln!(
                out,
                "| # | machine busy | this process (load generator, echo, limiter) | Envoy | other (Redis, …) | busy CPU µs per request |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
            for row in &self.rows {
                let Some(cpu) = row.cpu else { continue };
                let busy_cores = cpu.machine_busy * m.nproc as f64;
                let per_request = if row.per_second.median > 0.0 {
                    format!("{:.0}", busy_cores * 1e6 / row.per_second.median)
                } else {
                    "–".to_string()
                };
                let _ = writeln!(
                    out,
                    "| {} | {:.0} % | {:.2} | {:.2} | {:.2} | {per_request} |",
                    row.number,
                    cpu.machine_busy * 100.0,
                    cpu.process_cores,
                    cpu.envoy_cores,
                    cpu.other_cores,
                );
            }
        }
        if let Some(alone) = self
            .rows
            .iter()
            .find(|r| r.configuration == Configuration::LimiterAlone)
            && let Some(cpu) = alone.server_cpu_us_per_request
            && cpu.median > 0.0
        {
            let busy = alone.per_second.median * cpu.median / 1e6;
            let _ = writeln!(
                out,
                "\n(4) The limiter's server spent {:.1} µs of CPU per decision ({:.1}–{:.1}), busy {:.0} % \
                 of one core: ≈ {} decisions/s per core of limiter; its gRPC clients, in the same \
                 process, used the rest.",
                cpu.median,
                cpu.min,
                cpu.max,
                busy * 100.0,
                thousands(1e6 / cpu.median),
            );
        }
        let _ = writeln!(
            out,
            "\n\"vs base\" is the median throughput over (1)'s, and for (6) over (5)'s: the same \
             static Envoy without the filter."
        );
        let ratio = |c: Configuration| {
            self.rows
                .iter()
                .find(|r| r.configuration == c)
                .and_then(|r| r.ratio_to_unlimited)
        };
        if let (Some(floor), Some(redis)) = (ratio(Configuration::RlsFloor), ratio(Configuration::Redis)) {
            let _ = writeln!(
                out,
                "\nThe floor: with a rate-limit service that answers at once, Envoy keeps {:.1} % of \
                 its throughput without the call, (6)/(5); the limiter in Redis keeps {:.1} %, (3)/(1). \
                 No rate-limit service asked once per request keeps more than the floor on this machine.",
                floor * 100.0,
                redis * 100.0
            );
        }
        let _ = writeln!(out, "\nTargets:\n");
        for target in &self.targets {
            let verdict = if target.pass { "PASS" } else { "MISS" };
            let measured = if target.threshold < 10.0 {
                format!("{:.1} %", target.measured * 100.0)
            } else {
                format!("{}/s", thousands(target.measured))
            };
            let _ = writeln!(out, "- {verdict}: {} — measured {measured}", target.goal);
        }
        let requests: u64 = self.rows.iter().map(|r| r.requests).sum();
        let _ = writeln!(out);
        if self.problems.is_empty() {
            let _ = writeln!(
                out,
                "Every one of {} counted requests (and every warm-up request) was answered as \
                 expected: 200 (OK from the limiter), the limiter's headers on limited routes, no \
                 429, no limiter store error.",
                thousands(requests as f64)
            );
        } else {
            let _ = writeln!(out, "FAILED:\n");
            for problem in &self.problems {
                let _ = writeln!(out, "- {problem}");
            }
        }
        out
    }
}

/// `12345.6` as `12,346`.
pub fn thousands(value: f64) -> String {
    let rounded = value.round();
    if !rounded.is_finite() {
        return value.to_string();
    }
    let digits = format!("{}", rounded.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// A number of seconds without a needless `.0`.
pub(crate) fn number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

impl crate::bench::command::BenchmarkReport for BenchReport {
    fn markdown(&self) -> String {
        BenchReport::markdown(self)
    }

    fn problems(&self) -> &[String] {
        &self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(repeat: usize, per_second: f64, p99_ms: f64) -> Sample {
        Sample {
            repeat,
            seconds: 1.0,
            requests: per_second as u64,
            per_second,
            p50_ms: p99_ms / 2.0,
            p99_ms,
            max_ms: p99_ms * 2.0,
            failures: 0,
            throttled: 0,
            warmup_requests: 0,
            outcomes: BTreeMap::from([("200".to_string(), per_second as u64)]),
            errors: BTreeMap::new(),
            limiter: None,
            server_cpu_seconds: None,
            cpu: Some(CpuUse {
                machine_busy: 0.5,
                process_cores: 0.6,
                envoy_cores: 0.3,
                helper_cores: 0.0,
                other_cores: 0.1,
            }),
        }
    }

    fn made(redis: f64, alone: f64) -> BenchReport {
        let samples = BTreeMap::from([
            (
                1,
                vec![
                    sample(1, 1000.0, 2.0),
                    sample(2, 1200.0, 3.0),
                    sample(3, 1100.0, 2.5),
                ],
            ),
            (2, vec![sample(1, 990.0, 2.0)]),
            (3, vec![sample(1, redis, 4.0)]),
            (
                4,
                vec![Sample {
                    server_cpu_seconds: Some(alone / 50_000.0),
                    ..sample(1, alone, 0.5)
                }],
            ),
            (5, vec![sample(1, 2000.0, 1.5)]),
            (6, vec![sample(1, 1300.0, 2.5)]),
        ]);
        BenchReport::new(
            Machine::default(),
            Settings {
                users: 2,
                seconds: 1.0,
                warmup_seconds: 0.5,
                repeats: 1,
                grpc_tasks: 2,
                grpc_connections: 1,
                grpc_server_threads: 1,
                order: "1,2,3".into(),
            },
            samples,
            Vec::new(),
        )
    }

    #[test]
    fn spreads_take_the_median_and_extremes() {
        assert_eq!(
            Spread::of([3.0, 1.0, 2.0]),
            Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            }
        );
        assert_eq!(Spread::of([4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert_eq!(Spread::of([]), Spread::default());
    }

    #[test]
    fn rows_compare_with_the_unlimited_median_and_targets_are_judged() {
        let report = made(1000.0, 40_000.0);
        assert_eq!(report.rows.len(), 6);
        assert_eq!(report.rows[0].per_second.median, 1100.0);
        assert_eq!(report.rows[0].ratio_to_unlimited, Some(1.0));
        assert_eq!(report.rows[2].ratio_to_unlimited, Some(1000.0 / 1100.0));
        assert_eq!(report.rows[3].ratio_to_unlimited, None);
        assert_eq!(report.rows[4].ratio_to_unlimited, Some(2000.0 / 1100.0));
        assert_eq!(
            report.rows[5].ratio_to_unlimited,
            Some(0.65),
            "the floor is held against (5)"
        );
        assert!(report.targets[0].pass);
        assert!(!report.targets[1].pass);
        assert!(report.ok());
        let markdown = report.markdown();
        assert!(markdown.contains("| 1 | Envoy route, no rate limit | 1,100 requests/s | 1,000–1,200 |"));
        assert!(markdown.contains("| 4 | limiter alone, gRPC (in memory) | 40,000 decisions/s |"));
        assert!(markdown.contains("- PASS: Redis-backed"));
        assert!(markdown.contains("- MISS: limiter alone"));
        assert_eq!(
            report.rows[3].server_cpu_us_per_request.map(|s| s.median),
            Some(20.0)
        );
        assert!(markdown.contains("20.0 µs of CPU per decision"), "{markdown}");
        assert!(markdown.contains("≈ 50,000 decisions/s per core"), "{markdown}");
        assert!(
            markdown.contains("Envoy keeps 65.0 % of its throughput without the call, (6)/(5); the limiter in Redis keeps 90.9 %"),
            "{markdown}"
        );
        // Half of 0 CPUs (the default machine) per request: 0 µs.
        assert!(
            markdown.contains("| 1 | 50 % | 0.60 | 0.30 | 0.10 | 0 |"),
            "{markdown}"
        );
        assert!(!made(900.0, 60_000.0).targets[0].pass);
    }

    #[test]
    fn failures_throttling_and_store_errors_are_problems() {
        let mut failed = sample(1, 10.0, 1.0);
        failed.failures = 2;
        failed.throttled = 1;
        failed.errors.insert("429 Too Many Requests".into(), 1);
        let mut fail_open = sample(1, 10.0, 1.0);
        fail_open.limiter = Some(LimiterCounts {
            decisions: 5,
            store_errors: 3,
            no_match: 0,
        });
        let samples = BTreeMap::from([(2, vec![failed]), (3, vec![fail_open])]);
        let report = BenchReport::new(Machine::default(), made(1.0, 1.0).settings, samples, Vec::new());
        assert!(!report.ok());
        let all = report.problems.join("\n");
        assert!(
            all.contains("2 failed requests (429 Too Many Requests ×1)"),
            "{all}"
        );
        assert!(all.contains("1 answers over the limit"), "{all}");
        assert!(all.contains("3 counter store errors"), "{all}");
        assert!(all.contains("decided 5 times for 10 requests"), "{all}");
        assert!(
            all.contains("(1) Envoy route, no rate limit: not measured"),
            "{all}"
        );
        assert!(report.markdown().contains("FAILED:"));
    }

    #[test]
    fn numbers_are_grouped_and_cpus_named() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.6), "1,000");
        assert_eq!(thousands(0.0), "0");
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n").as_deref(),
            Some("AMD EPYC 7B13")
        );
        assert_eq!(cpu_model("processor : 0\n"), None);
    }
}
