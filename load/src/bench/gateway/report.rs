//! The gateway benchmark's results: per-run samples with the filters' call counts, rows with
//! their ratios to bare Envoy (paired by repeat, so a spread is the spread of the ratio), the
//! issue's targets, and their Markdown and JSON forms.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::baseline::BaselineComparison;
use crate::bench::cpu::CpuUse;
use crate::bench::report::{Machine, Spread, number, thousands};
use crate::bench::sample::Sample;

/// What is measured; its kebab-case name is its identity in the JSON report (and in a
/// `--baseline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Configuration {
    /// (1) A static Envoy with only the router.
    BareEnvoy,
    /// (2) The same static Envoy with `jwt_authn` and `local_ratelimit`.
    NativeFilters,
    /// (3) The embedded gateway: ext_authz to the enforcer, rate limit from the limiter in
    /// memory.
    GatewayInMemory,
    /// (4) The same with the limiter's counters in Redis.
    GatewayRedis,
    /// (5) The static Envoy with `ext_authz` and `ratelimit` calling services that answer at
    /// once: the floor of (3), what the two calls cost whatever the services do.
    CallsFloor,
}

impl Configuration {
    /// Every configuration, in the order they alternate.
    pub const ALL: [Configuration; 5] = [
        Configuration::BareEnvoy,
        Configuration::NativeFilters,
        Configuration::GatewayInMemory,
        Configuration::GatewayRedis,
        Configuration::CallsFloor,
    ];

    /// Its number in the table.
    pub fn number(self) -> usize {
        match self {
            Configuration::BareEnvoy => 1,
            Configuration::NativeFilters => 2,
            Configuration::GatewayInMemory => 3,
            Configuration::GatewayRedis => 4,
            Configuration::CallsFloor => 5,
        }
    }

    /// What the table calls it.
    pub fn label(self) -> &'static str {
        match self {
            Configuration::BareEnvoy => "bare Envoy (router only)",
            Configuration::NativeFilters => "Envoy + jwt_authn + local_ratelimit",
            Configuration::GatewayInMemory => "portcullis: enforcer + limiter in memory",
            Configuration::GatewayRedis => "portcullis: enforcer + limiter in Redis",
            Configuration::CallsFloor => "Envoy + ext_authz + ratelimit to no-op services (floor of 3)",
        }
    }
}

/// What the filters in a configuration's path counted during one run (warm-up included);
/// `None` where the configuration has no such filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    /// (2) Requests `jwt_authn` let through.
    pub jwt_authn_allowed: Option<u64>,
    /// (2) Requests `local_ratelimit` counted and let through.
    pub local_rate_limit_ok: Option<u64>,
    /// (3), (4) Check calls Envoy made to the enforcer (its cluster's upstream requests).
    pub enforcer_calls: Option<u64>,
    /// (3), (4) Decisions of the limiter behind the gateway.
    pub limiter_decisions: Option<u64>,
    /// (3), (4) Failed calls to the limiter's counter store (each answered fail-open).
    pub limiter_store_errors: Option<u64>,
    /// (5) Check calls to the no-op ext_authz service.
    pub noop_authz_calls: Option<u64>,
    /// (5) Calls to the no-op rate-limit service.
    pub noop_rate_limit_calls: Option<u64>,
}

impl Calls {
    /// Why the counts show a filter was skipped for some requests; empty if none was.
    fn shortfalls(&self, requests: u64) -> Vec<String> {
        let mut out = Vec::new();
        for (name, count) in [
            ("jwt_authn allowed", self.jwt_authn_allowed),
            ("local_ratelimit counted", self.local_rate_limit_ok),
            ("the enforcer was asked", self.enforcer_calls),
            ("the limiter decided", self.limiter_decisions),
            ("the no-op ext_authz service was asked", self.noop_authz_calls),
            (
                "the no-op rate-limit service was asked",
                self.noop_rate_limit_calls,
            ),
        ] {
            if let Some(count) = count
                && count < requests
            {
                out.push(format!("{name} {count} times for {requests} requests"));
            }
        }
        if let Some(errors) = self.limiter_store_errors
            && errors > 0
        {
            out.push(format!("{errors} counter store errors (answered fail-open)"));
        }
        out
    }
}

/// One run of one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// Throughput, latencies, failures, CPU.
    #[serde(flatten)]
    pub sample: Sample,
    /// What the filters counted.
    pub calls: Calls,
}

impl Run {
    /// CPU seconds of this process, the Envoys and Redis per 1,000 requests.
    pub fn cpu_seconds_per_1k(&self) -> Option<f64> {
        let cpu = self.sample.cpu?;
        let requests = self.sample.requests;
        (requests > 0).then(|| cpu.tree_cores() * self.sample.seconds / requests as f64 * 1000.0)
    }
}

/// A measure over the repeats, and its ratio to (1)'s in the same repeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Measure {
    /// The value over the repeats.
    pub value: Spread,
    /// This value over (1)'s in the same repeat, over the repeats; `None` without (1).
    pub vs_bare: Option<Spread>,
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
    /// Requests per second.
    pub per_second: Measure,
    /// Median latency, milliseconds.
    pub p50_ms: Measure,
    /// 99th percentile, milliseconds.
    pub p99_ms: Measure,
    /// 99.9th percentile, milliseconds.
    pub p999_ms: Measure,
    /// CPU seconds (this process, the Envoys, Redis) per 1,000 requests.
    pub cpu_seconds_per_1k: Measure,
    /// p99 minus (1)'s p99 in the same repeat, milliseconds, over the repeats.
    pub p99_added_ms: Option<Spread>,
    /// Where the CPU went: the median of each share over the repeats.
    pub cpu: Option<CpuUse>,
    /// Requests counted over every repeat.
    pub requests: u64,
    /// Failed requests over every repeat.
    pub failures: u64,
    /// Every repeat.
    pub runs: Vec<Run>,
}

impl Row {
    fn new(configuration: Configuration, runs: Vec<Run>, bare: Option<&[Run]>) -> Self {
        let measure = |f: &dyn Fn(&Run) -> Option<f64>| Measure {
            value: Spread::of(runs.iter().filter_map(f)),
            vs_bare: bare.and_then(|bare| {
                let ratios: Vec<f64> = paired(&runs, bare)
                    .filter_map(|(run, base)| Some((f(run)?, f(base)?)))
                    .filter(|(_, base)| *base > 0.0)
                    .map(|(value, base)| value / base)
                    .collect();
                (!ratios.is_empty()).then(|| Spread::of(ratios))
            }),
        };
        let p99_added_ms = bare.and_then(|bare| {
            let added: Vec<f64> = paired(&runs, bare)
                .map(|(run, base)| run.sample.p99_ms - base.sample.p99_ms)
                .collect();
            (!added.is_empty()).then(|| Spread::of(added))
        });
        Row {
            number: configuration.number(),
            configuration,
            label: configuration.label().to_string(),
            per_second: measure(&|r| Some(r.sample.per_second)),
            p50_ms: measure(&|r| Some(r.sample.p50_ms)),
            p99_ms: measure(&|r| Some(r.sample.p99_ms)),
            p999_ms: measure(&|r| Some(r.sample.p999_ms)),
            cpu_seconds_per_1k: measure(&|r| r.cpu_seconds_per_1k()),
            p99_added_ms,
            cpu: CpuUse::median_of(runs.iter().filter_map(|r| r.sample.cpu)),
            requests: runs.iter().map(|r| r.sample.requests).sum(),
            failures: runs.iter().map(|r| r.sample.failures).sum(),
            runs,
        }
    }
}

/// Each run with (1)'s run of the same repeat.
fn paired<'a>(runs: &'a [Run], bare: &'a [Run]) -> impl Iterator<Item = (&'a Run, &'a Run)> {
    runs.iter().filter_map(move |run| {
        bare.iter()
            .find(|base| base.sample.repeat == run.sample.repeat)
            .map(|base| (run, base))
    })
}

/// A goal of issue 6, reported PASS or MISS (never failed on).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// What it asks.
    pub goal: String,
    /// The bound.
    pub bound: f64,
    /// Whether the measure must be at least the bound (else below it).
    pub at_least: bool,
    /// The median measured (`None`: a configuration was not measured).
    pub measured: Option<f64>,
    /// Whether it held.
    pub pass: bool,
}

impl Target {
    fn new(goal: String, bound: f64, at_least: bool, measured: Option<f64>) -> Self {
        let pass = measured.is_some_and(|m| if at_least { m >= bound } else { m < bound });
        Target {
            goal,
            bound,
            at_least,
            measured,
            pass,
        }
    }
}

/// (3) keeps at least this share of (1)'s requests/s.
pub const IN_MEMORY_THROUGHPUT_TARGET: f64 = 0.90;
/// (3) adds less than this to (1)'s p99, milliseconds.
pub const IN_MEMORY_P99_ADDED_TARGET_MS: f64 = 1.0;
/// (4) keeps at least this share of (1)'s requests/s.
pub const REDIS_THROUGHPUT_TARGET: f64 = 0.85;

/// The machine's load average (1, 5 and 15 minutes), from /proc/loadavg.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LoadAverage {
    /// Over the last minute.
    pub one: f64,
    /// Over the last 5 minutes.
    pub five: f64,
    /// Over the last 15 minutes.
    pub fifteen: f64,
}

impl LoadAverage {
    /// Now; `None` where /proc/loadavg is not.
    pub fn now() -> Option<Self> {
        Self::parse(&std::fs::read_to_string("/proc/loadavg").ok()?)
    }

    fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
        Some(LoadAverage {
            one: fields.next()??,
            five: fields.next()??,
            fifteen: fields.next()??,
        })
    }
}

/// How the run was set up.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// Concurrent users (connections) per run.
    pub users: usize,
    /// Measured seconds per run.
    pub seconds: f64,
    /// Warm-up seconds before each run (not counted).
    pub warmup_seconds: f64,
    /// Runs per configuration.
    pub repeats: usize,
    /// The order the runs went in.
    pub order: String,
    /// The load average when the first run started.
    pub load_before: Option<LoadAverage>,
    /// The load average when the last run ended.
    pub load_after: Option<LoadAverage>,
}

/// Everything the benchmark found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GatewayReport {
    /// Where it ran (nproc, CPU model, Envoy and Redis versions).
    pub machine: Machine,
    /// How.
    pub settings: Settings,
    /// One per configuration measured, in number order.
    pub rows: Vec<Row>,
    /// Issue 6's targets.
    pub targets: Vec<Target>,
    /// What makes the run fail: failed requests, runs without requests, filters not called,
    /// configurations not measured. Empty if none.
    pub problems: Vec<String>,
    /// This run against `--baseline`, if one was given (judged apart from `problems`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineComparison>,
}

impl GatewayReport {
    /// The report of `runs` (configuration → its runs, in repeat order).
    pub fn new(
        machine: Machine,
        settings: Settings,
        mut runs: BTreeMap<Configuration, Vec<Run>>,
        mut problems: Vec<String>,
    ) -> Self {
        let bare = runs.get(&Configuration::BareEnvoy).cloned();
        let rows: Vec<Row> = Configuration::ALL
            .iter()
            .filter_map(|c| runs.remove(c).map(|r| Row::new(*c, r, bare.as_deref())))
            .collect();
        for configuration in Configuration::ALL {
            if !rows.iter().any(|r| r.configuration == configuration) {
                problems.push(format!(
                    "({}) {}: not measured",
                    configuration.number(),
                    configuration.label()
                ));
            }
        }
        for row in &rows {
            for run in &row.runs {
                let sample = &run.sample;
                let at = format!("({}) {}, repeat {}", row.number, row.label, sample.repeat);
                if sample.failures > 0 {
                    let reasons: Vec<String> =
                        sample.errors.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
                    problems.push(format!(
                        "{at}: {} failed requests ({})",
                        sample.failures,
                        reasons.join("; ")
                    ));
                }
                if sample.requests == 0 {
                    problems.push(format!("{at}: no request completed"));
                }
                for shortfall in run.calls.shortfalls(sample.requests) {
                    problems.push(format!("{at}: {shortfall}"));
                }
            }
        }
        let ratio = |c: Configuration, f: fn(&Row) -> Option<Spread>| {
            rows.iter()
                .find(|r| r.configuration == c)
                .and_then(f)
                .map(|s| s.median)
        };
        let targets = vec![
            Target::new(
                "(3) keeps ≥ 90 % of (1)'s requests/s".to_string(),
                IN_MEMORY_THROUGHPUT_TARGET,
                true,
                ratio(Configuration::GatewayInMemory, |r| r.per_second.vs_bare),
            ),
            Target::new(
                "(3) adds < 1 ms to (1)'s p99".to_string(),
                IN_MEMORY_P99_ADDED_TARGET_MS,
                false,
                ratio(Configuration::GatewayInMemory, |r| r.p99_added_ms),
            ),
            Target::new(
                "(4) keeps ≥ 85 % of (1)'s requests/s".to_string(),
                REDIS_THROUGHPUT_TARGET,
                true,
                ratio(Configuration::GatewayRedis, |r| r.per_second.vs_bare),
            ),
        ];
        GatewayReport {
            machine,
            settings,
            rows,
            targets,
            problems,
            baseline: None,
        }
    }

    /// Whether every request was answered as expected and every filter was called.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Why the run regressed against its baseline (or compared nothing); `None` without a
    /// baseline or when it passed.
    pub fn baseline_failure(&self) -> Option<String> {
        self.baseline.as_ref().and_then(BaselineComparison::failure)
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let (m, s) = (&self.machine, &self.settings);
        let _ = writeln!(out, "# Gateway benchmark\n");
        let load = |l: Option<LoadAverage>| {
            l.map_or_else(
                || "unknown".to_string(),
                |l| format!("{:.2} {:.2} {:.2}", l.one, l.five, l.fifteen),
            )
        };
        let _ = writeln!(
            out,
            "Machine: {} CPUs (nproc), {}; Envoy {}; Redis server {}; load average {} before, {} \
             after.  ",
            m.nproc,
            m.cpu_model,
            m.envoy,
            m.redis,
            load(s.load_before),
            load(s.load_after),
        );
        let _ = writeln!(
            out,
            "Settings: {} users (keep-alive HTTP/1.1 connections, closed loop) per run, {} s measured \
             after {} s of warm-up, {} repeats, order {}. One echo backend for all; (2)–(4) send \
             the same token. Load generator, echo backend, control plane, enforcer and limiter \
             share this process; the Envoys and Redis run beside it on the same CPUs.\n",
            s.users,
            number(s.seconds),
            number(s.warmup_seconds),
            s.repeats,
            s.order,
        );
        let _ = writeln!(
            out,
            "Medians over the repeats, min–max in brackets; \"vs (1)\" is the ratio to (1) in the \
             same repeat. CPU is this process, the Envoys and Redis, in CPU seconds per 1,000 \
             requests.\n"
        );
        let _ = writeln!(
            out,
            "| # | configuration | req/s | vs (1) | p50 ms | vs (1) | p99 ms | vs (1) | p99.9 ms | vs (1) | CPU s/1k req | vs (1) |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.number,
                row.label,
                spread(row.per_second.value, thousands),
                times(row.per_second.vs_bare),
                spread(row.p50_ms.value, |v| format!("{v:.2}")),
                times(row.p50_ms.vs_bare),
                spread(row.p99_ms.value, |v| format!("{v:.2}")),
                times(row.p99_ms.vs_bare),
                spread(row.p999_ms.value, |v| format!("{v:.2}")),
                times(row.p999_ms.vs_bare),
                spread(row.cpu_seconds_per_1k.value, |v| format!("{v:.3}")),
                times(row.cpu_seconds_per_1k.vs_bare),
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
                "| # | machine busy | this process (load, echo, enforcer, limiter, …) | Envoys | Redis | other | µs per request: this process | Envoys | Redis |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for row in &self.rows {
                let Some(cpu) = row.cpu else { continue };
                let rps = row.per_second.value.median;
                let us = |cores: f64| {
                    if rps > 0.0 {
                        format!("{:.0}", cores * 1e6 / rps)
                    } else {
                        "–".to_string()
                    }
                };
                let _ = writeln!(
                    out,
                    "| {} | {:.0} % | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
                    row.number,
                    cpu.machine_busy * 100.0,
                    cpu.process_cores,
                    cpu.envoy_cores,
                    cpu.helper_cores,
                    cpu.other_cores,
                    us(cpu.process_cores),
                    us(cpu.envoy_cores),
                    us(cpu.helper_cores),
                );
            }
        }
        let _ = writeln!(out, "\nTargets:\n");
        for target in &self.targets {
            let verdict = if target.pass { "PASS" } else { "MISS" };
            let measured = match target.measured {
                None => "not measured".to_string(),
                Some(m) if target.at_least => format!("{:.1} %", m * 100.0),
                Some(m) => format!("{m:+.2} ms"),
            };
            let _ = writeln!(out, "- {verdict}: {} — measured {measured}", target.goal);
        }
        let vs_bare = |c: Configuration| {
            self.rows
                .iter()
                .find(|r| r.configuration == c)
                .and_then(|r| r.per_second.vs_bare)
                .map(|s| s.median)
        };
        if let (Some(floor), Some(gateway)) = (
            vs_bare(Configuration::CallsFloor),
            vs_bare(Configuration::GatewayInMemory),
        ) {
            let _ = writeln!(
                out,
                "\nThe floor: (5) makes the same two calls per request as (3) to services that answer \
                 at once, and keeps {:.1} % of (1)'s requests/s; (3) keeps {:.1} %. What lies between \
                 (1) and (5) is the price of the calls in Envoy, whatever the services do.",
                floor * 100.0,
                gateway * 100.0
            );
        }
        let requests: u64 = self.rows.iter().map(|r| r.requests).sum();
        let _ = writeln!(out);
        if self.problems.is_empty() {
            let _ = writeln!(
                out,
                "Every one of {} counted requests (and every warm-up request) got a 2xx; each \
                 configuration's filters were called for every request (jwt_authn and \
                 local_ratelimit counters on (2), the enforcer's check calls and the limiter's \
                 decisions on (3) and (4), with the limiter's header on every answer, both no-op \
                 services on (5)), with no counter store error.",
                thousands(requests as f64)
            );
        } else {
            let _ = writeln!(out, "FAILED:\n");
            for problem in &self.problems {
                let _ = writeln!(out, "- {problem}");
            }
        }
        if let Some(baseline) = &self.baseline {
            let _ = writeln!(out, "\n{}", baseline.markdown().trim_end());
        }
        out
    }
}

/// `median (min–max)`.
fn spread(s: Spread, f: impl Fn(f64) -> String) -> String {
    format!("{} ({}–{})", f(s.median), f(s.min), f(s.max))
}

/// `0.93× (0.90–0.95)`, or a dash.
fn times(s: Option<Spread>) -> String {
    s.map_or_else(
        || "–".to_string(),
        |s| format!("{:.2}× ({:.2}–{:.2})", s.median, s.min, s.max),
    )
}

impl crate::bench::command::BenchmarkReport for GatewayReport {
    fn markdown(&self) -> String {
        GatewayReport::markdown(self)
    }

    fn problems(&self) -> &[String] {
        &self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(repeat: usize, per_second: f64, p99_ms: f64, calls: Calls) -> Run {
        Run {
            sample: Sample {
                repeat,
                seconds: 2.0,
                requests: (per_second * 2.0) as u64,
                per_second,
                p50_ms: p99_ms / 4.0,
                p99_ms,
                p999_ms: p99_ms * 2.0,
                max_ms: p99_ms * 3.0,
                failures: 0,
                warmup_requests: 10,
                outcomes: BTreeMap::from([("200".to_string(), (per_second * 2.0) as u64)]),
                errors: BTreeMap::new(),
                cpu: Some(CpuUse {
                    machine_busy: 1.0,
                    process_cores: 0.5,
                    envoy_cores: 1.0,
                    helper_cores: 0.0,
                    other_cores: 0.5,
                }),
            },
            calls,
        }
    }

    fn settings() -> Settings {
        Settings {
            users: 2,
            seconds: 2.0,
            warmup_seconds: 0.5,
            repeats: 2,
            order: "(1)–(4) alternated ×2".into(),
            load_before: LoadAverage::parse("1.50 2.00 2.50 3/200 4242\n"),
            load_after: None,
        }
    }

    fn gateway(decisions: u64) -> Calls {
        Calls {
            enforcer_calls: Some(decisions),
            limiter_decisions: Some(decisions),
            limiter_store_errors: Some(0),
            ..Calls::default()
        }
    }

    fn made(in_memory: [f64; 2], redis_rps: f64) -> GatewayReport {
        let native = Calls {
            jwt_authn_allowed: Some(10_000),
            local_rate_limit_ok: Some(10_000),
            ..Calls::default()
        };
        let floor = Calls {
            noop_authz_calls: Some(10_000),
            noop_rate_limit_calls: Some(10_000),
            ..Calls::default()
        };
        let runs = BTreeMap::from([
            (
                Configuration::BareEnvoy,
                vec![
                    run(1, 1000.0, 2.0, Calls::default()),
                    run(2, 2000.0, 4.0, Calls::default()),
                ],
            ),
            (
                Configuration::NativeFilters,
                vec![run(1, 900.0, 2.5, native), run(2, 1900.0, 4.5, native)],
            ),
            (
                Configuration::GatewayInMemory,
                vec![
                    run(1, in_memory[0], 2.5, gateway(10_000)),
                    run(2, in_memory[1], 5.5, gateway(10_000)),
                ],
            ),
            (
                Configuration::GatewayRedis,
                vec![
                    run(1, redis_rps, 3.0, gateway(10_000)),
                    run(2, redis_rps * 2.0, 6.0, gateway(10_000)),
                ],
            ),
            (
                Configuration::CallsFloor,
                vec![run(1, 970.0, 2.2, floor), run(2, 1960.0, 4.4, floor)],
            ),
        ]);
        GatewayReport::new(
            Machine {
                nproc: 2,
                ..Machine::default()
            },
            settings(),
            runs,
            Vec::new(),
        )
    }

    #[test]
    fn ratios_are_paired_by_repeat_and_targets_judged() {
        let report = made([950.0, 1800.0], 800.0);
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.rows.len(), 5);
        let in_memory = &report.rows[2];
        // 950/1000 and 1800/2000: 0.95 and 0.90, median 0.925.
        let vs = in_memory.per_second.vs_bare.expect("a ratio");
        assert!(
            (vs.median - 0.925).abs() < 1e-9 && (vs.min - 0.90).abs() < 1e-9,
            "{vs:?}"
        );
        // p99 2.5 − 2.0 and 5.5 − 4.0: +0.5 and +1.5 ms, median +1.0: not < 1 ms.
        assert_eq!(in_memory.p99_added_ms.map(|s| s.median), Some(1.0));
        assert_eq!(report.rows[0].per_second.vs_bare.map(|s| s.median), Some(1.0));
        // 1.5 cores × 2 s over 2,000 requests: 1.5 ms a request, 1.5 s per 1,000.
        let cpu = report.rows[0].cpu_seconds_per_1k.value;
        assert!((cpu.max - 1.5).abs() < 1e-9, "{cpu:?}");
        let verdicts: Vec<bool> = report.targets.iter().map(|t| t.pass).collect();
        assert_eq!(verdicts, [true, false, false]);
        let markdown = report.markdown();
        assert!(
            markdown.contains("- PASS: (3) keeps ≥ 90 % of (1)'s requests/s — measured 92.5 %"),
            "{markdown}"
        );
        assert!(
            markdown.contains("- MISS: (3) adds < 1 ms to (1)'s p99 — measured +1.00 ms"),
            "{markdown}"
        );
        assert!(
            markdown.contains("- MISS: (4) keeps ≥ 85 % of (1)'s requests/s — measured 80.0 %"),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "| 3 | portcullis: enforcer + limiter in memory | 1,375 (950–1,800) | 0.93× (0.90–0.95) |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("load average 1.50 2.00 2.50 before, unknown after"),
            "{markdown}"
        );
        // (5): 0.97 and 0.98.
        assert!(
            markdown.contains("keeps 97.5 % of (1)'s requests/s; (3) keeps 92.5 %"),
            "{markdown}"
        );
        assert_eq!(report.targets.len(), 3, "the floor is measured, not a target");
        assert!(made([1000.0, 2000.0], 900.0).targets[2].pass);
    }

    #[test]
    fn failures_uncalled_filters_and_missing_runs_are_problems() {
        let mut failed = run(1, 10.0, 1.0, gateway(5));
        failed.sample.failures = 2;
        failed.sample.errors.insert("status 401".into(), 2);
        failed.calls.limiter_store_errors = Some(3);
        let runs = BTreeMap::from([(Configuration::GatewayRedis, vec![failed])]);
        let report = GatewayReport::new(Machine::default(), settings(), runs, Vec::new());
        assert!(!report.ok());
        let all = report.problems.join("\n");
        assert!(all.contains("2 failed requests (status 401 ×2)"), "{all}");
        assert!(
            all.contains("the enforcer was asked 5 times for 20 requests"),
            "{all}"
        );
        assert!(
            all.contains("the limiter decided 5 times for 20 requests"),
            "{all}"
        );
        assert!(all.contains("3 counter store errors"), "{all}");
        assert!(
            all.contains("(1) bare Envoy (router only): not measured"),
            "{all}"
        );
        assert!(report.targets.iter().all(|t| !t.pass && t.measured.is_none()));
        assert!(report.rows[0].per_second.vs_bare.is_none());
        assert!(report.markdown().contains("FAILED:"));
    }

    #[test]
    fn load_averages_parse() {
        assert_eq!(
            LoadAverage::parse("0.52 0.58 0.59 1/467 1234"),
            Some(LoadAverage {
                one: 0.52,
                five: 0.58,
                fifteen: 0.59
            })
        );
        assert_eq!(LoadAverage::parse("garbage"), None);
    }
}
