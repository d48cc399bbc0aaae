//! The auth benchmark's results: per-run samples, per-configuration rows with their ratios, the
//! latency target, and their Markdown and JSON forms. Spreads, CPU shares and number formats
//! are the rate-limit benchmark's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::bench::cpu::CpuUse;
use crate::bench::report::{Spread, cpu_model, number, thousands};
pub use crate::bench::sample::Sample;
use serde::Serialize;

/// What is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Configuration {
    /// (1) The gateway's Envoy, a plain HTTPRoute, no auth.
    NoAuth,
    /// (2) The bench's static Envoy, no filter but the router: a control for (3) and (5).
    StaticNoAuth,
    /// (3) The static Envoy with `jwt_authn`, every request with the same token.
    JwtAuthnOneToken,
    /// (4) The gateway's Envoy, an APK API (ext_authz to the enforcer), the same token.
    EnforcerOneToken,
    /// (5) As (3), each user cycling through its share of the fresh tokens.
    JwtAuthnFresh,
    /// (6) As (4), with the fresh tokens.
    EnforcerFresh,
    /// (7) The static Envoy with `ext_authz` to a service that answers at once, the same
    /// token: the floor of any ext_authz enforcer.
    ExtAuthzFloor,
}

impl Configuration {
    /// Every configuration, in the order they alternate.
    pub const ALL: [Configuration; 7] = [
        Configuration::NoAuth,
        Configuration::StaticNoAuth,
        Configuration::JwtAuthnOneToken,
        Configuration::EnforcerOneToken,
        Configuration::JwtAuthnFresh,
        Configuration::EnforcerFresh,
        Configuration::ExtAuthzFloor,
    ];

    /// Its number in the table.
    pub fn number(self) -> usize {
        match self {
            Configuration::NoAuth => 1,
            Configuration::StaticNoAuth => 2,
            Configuration::JwtAuthnOneToken => 3,
            Configuration::EnforcerOneToken => 4,
            Configuration::JwtAuthnFresh => 5,
            Configuration::EnforcerFresh => 6,
            Configuration::ExtAuthzFloor => 7,
        }
    }

    /// What the table calls it.
    pub fn label(self) -> &'static str {
        match self {
            Configuration::NoAuth => "no auth (gateway's Envoy, plain HTTPRoute)",
            Configuration::StaticNoAuth => "no auth (static Envoy, control)",
            Configuration::JwtAuthnOneToken => "Envoy jwt_authn, one token",
            Configuration::EnforcerOneToken => "portcullis enforcer, one token",
            Configuration::JwtAuthnFresh => "Envoy jwt_authn, fresh tokens",
            Configuration::EnforcerFresh => "portcullis enforcer, fresh tokens",
            Configuration::ExtAuthzFloor => "Envoy ext_authz to a no-op service, one token",
        }
    }

    /// For an ext_authz configuration, the jwt_authn one it is held against.
    pub fn native(self) -> Option<Configuration> {
        match self {
            Configuration::EnforcerOneToken | Configuration::ExtAuthzFloor => {
                Some(Configuration::JwtAuthnOneToken)
            }
            Configuration::EnforcerFresh => Some(Configuration::JwtAuthnFresh),
            _ => None,
        }
    }
}

/// One configuration over every repeat.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Its number, 1 to 7.
    pub number: usize,
    /// Which.
    pub configuration: Configuration,
    /// What the table calls it.
    pub label: String,
    /// Requests per second over the repeats.
    pub per_second: Spread,
    /// Median latency over the repeats, milliseconds.
    pub p50_ms: Spread,
    /// 99th percentile over the repeats, milliseconds.
    pub p99_ms: Spread,
    /// 99.9th percentile over the repeats, milliseconds.
    pub p999_ms: Spread,
    /// Median requests/s over (1)'s.
    pub throughput_vs_no_auth: Option<f64>,
    /// Median p99 over (1)'s.
    pub p99_vs_no_auth: Option<f64>,
    /// For the enforcer: median p99 over the matching jwt_authn configuration's.
    pub p99_vs_jwt_authn: Option<f64>,
    /// For the enforcer: median p50 over the matching jwt_authn configuration's.
    pub p50_vs_jwt_authn: Option<f64>,
    /// For the enforcer: median requests/s over the matching jwt_authn configuration's.
    pub throughput_vs_jwt_authn: Option<f64>,
    /// Requests counted over every repeat.
    pub requests: u64,
    /// Failed requests over every repeat.
    pub failures: u64,
    /// Where the CPU went: the median of each share over the repeats.
    pub cpu: Option<CpuUse>,
    /// Busy CPU (all processes) per request, microseconds: median busy cores over median
    /// requests/s.
    pub busy_cpu_us_per_request: Option<f64>,
    /// This process's CPU (load generator, echo, enforcer, …) per request, microseconds.
    pub process_cpu_us_per_request: Option<f64>,
    /// Both Envoys' CPU per request, microseconds.
    pub envoy_cpu_us_per_request: Option<f64>,
    /// Every repeat.
    pub samples: Vec<Sample>,
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0).then(|| a / b)
}

impl Row {
    fn new(configuration: Configuration, samples: Vec<Sample>, nproc: usize) -> Self {
        let spread = |f: fn(&Sample) -> f64| Spread::of(samples.iter().map(f));
        let per_second = spread(|s| s.per_second);
        let cpu = CpuUse::median_of(samples.iter().filter_map(|s| s.cpu));
        Row {
            number: configuration.number(),
            configuration,
            label: configuration.label().to_string(),
            per_second,
            p50_ms: spread(|s| s.p50_ms),
            p99_ms: spread(|s| s.p99_ms),
            p999_ms: spread(|s| s.p999_ms),
            throughput_vs_no_auth: None,
            p99_vs_no_auth: None,
            p99_vs_jwt_authn: None,
            p50_vs_jwt_authn: None,
            throughput_vs_jwt_authn: None,
            requests: samples.iter().map(|s| s.requests).sum(),
            failures: samples.iter().map(|s| s.failures).sum(),
            busy_cpu_us_per_request: cpu
                .and_then(|c| ratio(c.machine_busy * nproc as f64 * 1e6, per_second.median)),
            process_cpu_us_per_request: cpu.and_then(|c| ratio(c.process_cores * 1e6, per_second.median)),
            envoy_cpu_us_per_request: cpu.and_then(|c| ratio(c.envoy_cores * 1e6, per_second.median)),
            cpu,
            samples,
        }
    }
}

/// A latency goal, reported PASS or MISS (never failed on).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// What it asks.
    pub goal: String,
    /// The highest value that passes.
    pub limit: f64,
    /// What was measured (`None`: a configuration was not measured).
    pub measured: Option<f64>,
    /// `measured <= limit`.
    pub pass: bool,
}

/// The enforcer's p99 is at most this multiple of jwt_authn's (issue 3).
pub const P99_TARGET: f64 = 1.3;

/// Where it ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Machine {
    /// CPUs available to the process (as `nproc`).
    pub nproc: usize,
    /// The CPU model.
    pub cpu_model: String,
    /// Envoy's version (both Envoys run this binary).
    pub envoy: String,
}

impl Machine {
    /// nproc and the CPU model of this machine, with `envoy`'s version.
    pub fn this(envoy: String) -> Self {
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, usize::from),
            cpu_model: std::fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|text| cpu_model(&text))
                .unwrap_or_else(|| "unknown".to_string()),
            envoy,
        }
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
    /// Distinct tokens of the fresh-token runs.
    pub fresh_tokens: usize,
    /// Seconds spent minting them.
    pub mint_seconds: f64,
    /// The enforcer's validated-token cache capacity.
    pub enforcer_cache_capacity: usize,
    /// jwt_authn's `jwt_cache_size` (`None`: its cache is off).
    pub jwt_cache_size: Option<u32>,
    /// The order the runs went in.
    pub order: String,
}

/// Everything the benchmark found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuthReport {
    /// Where it ran.
    pub machine: Machine,
    /// How.
    pub settings: Settings,
    /// One per configuration measured, in number order.
    pub rows: Vec<Row>,
    /// The latency goals.
    pub targets: Vec<Target>,
    /// What makes the run fail: failed requests, runs without requests. Empty if none.
    pub problems: Vec<String>,
}

impl AuthReport {
    /// The report of `samples` (configuration → its runs, in repeat order).
    pub fn new(
        machine: Machine,
        settings: Settings,
        samples: BTreeMap<Configuration, Vec<Sample>>,
        mut problems: Vec<String>,
    ) -> Self {
        let mut rows: Vec<Row> = samples
            .into_iter()
            .map(|(c, s)| Row::new(c, s, machine.nproc))
            .collect();
        let median = |rows: &[Row], c: Configuration, f: fn(&Row) -> Spread| {
            rows.iter().find(|r| r.configuration == c).map(|r| f(r).median)
        };
        let base_rps = median(&rows, Configuration::NoAuth, |r| r.per_second);
        let base_p99 = median(&rows, Configuration::NoAuth, |r| r.p99_ms);
        let mut targets = Vec::new();
        for i in 0..rows.len() {
            let row = &rows[i];
            let against = |c: Option<Configuration>, f: fn(&Row) -> Spread| {
                c.and_then(|c| median(&rows, c, f))
                    .and_then(|base| ratio(f(row).median, base))
            };
            let native = row.configuration.native();
            let update = (
                base_rps.and_then(|b| ratio(row.per_second.median, b)),
                base_p99.and_then(|b| ratio(row.p99_ms.median, b)),
                against(native, |r| r.p99_ms),
                against(native, |r| r.p50_ms),
                against(native, |r| r.per_second),
            );
            if let Some(native) = native.filter(|_| row.configuration != Configuration::ExtAuthzFloor) {
                targets.push(Target {
                    goal: format!(
                        "({}) {} p99 ≤ {P99_TARGET}× ({}) {} p99",
                        row.number,
                        row.label,
                        native.number(),
                        native.label()
                    ),
                    limit: P99_TARGET,
                    measured: update.2,
                    pass: update.2.is_some_and(|r| r <= P99_TARGET),
                });
            }
            let row = &mut rows[i];
            (
                row.throughput_vs_no_auth,
                row.p99_vs_no_auth,
                row.p99_vs_jwt_authn,
                row.p50_vs_jwt_authn,
                row.throughput_vs_jwt_authn,
            ) = update;
        }
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
                if sample.requests == 0 {
                    problems.push(format!("{run}: no request completed"));
                }
            }
        }
        AuthReport {
            machine,
            settings,
            rows,
            targets,
            problems,
        }
    }

    /// Whether every request got a 2xx.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let (m, s) = (&self.machine, &self.settings);
        let _ = writeln!(out, "# Auth benchmark\n");
        let _ = writeln!(
            out,
            "Machine: {} CPUs (nproc), {}; Envoy {} (both Envoys).  ",
            m.nproc, m.cpu_model, m.envoy
        );
        let cache = s.jwt_cache_size.map_or_else(
            || "off".to_string(),
            |n| format!("{} tokens", thousands(f64::from(n))),
        );
        let _ = writeln!(
            out,
            "Settings: {} users (keep-alive HTTP/1.1 connections, closed loop) per run, {} s measured \
             after {} s of warm-up, {} repeats, order {}. Fresh tokens: {} distinct tokens (minted \
             in {:.1} s), split between the users, each cycling through its share; the enforcer \
             remembers {} validated tokens, jwt_authn's cache holds {cache} per worker. The load \
             generator, echo backend, control plane, IdP and enforcer share this process; both \
             Envoys run beside it on the same CPUs.\n",
            s.users,
            number(s.seconds),
            number(s.warmup_seconds),
            s.repeats,
            s.order,
            thousands(s.fresh_tokens as f64),
            s.mint_seconds,
            thousands(s.enforcer_cache_capacity as f64),
        );
        let _ = writeln!(
            out,
            "| # | configuration | req/s (median) | min–max | p50 ms | p99 ms | p99 min–max | p99.9 ms | req/s vs (1) | p99 vs (1) | p99 vs jwt_authn |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let times = |r: Option<f64>| r.map_or_else(|| "–".to_string(), |r| format!("{r:.2}×"));
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}–{} | {:.2} | {:.2} | {:.2}–{:.2} | {:.2} | {} | {} | {} |",
                row.number,
                row.label,
                thousands(row.per_second.median),
                thousands(row.per_second.min),
                thousands(row.per_second.max),
                row.p50_ms.median,
                row.p99_ms.median,
                row.p99_ms.min,
                row.p99_ms.max,
                row.p999_ms.median,
                times(row.throughput_vs_no_auth),
                times(row.p99_vs_no_auth),
                times(row.p99_vs_jwt_authn),
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
                "| # | machine busy | this process (load, echo, enforcer, …) | Envoys | other | busy CPU µs per request | this process µs/req | Envoys µs/req |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
            let us = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |us| format!("{us:.0}"));
            for row in &self.rows {
                let Some(cpu) = row.cpu else { continue };
                let _ = writeln!(
                    out,
                    "| {} | {:.0} % | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
                    row.number,
                    cpu.machine_busy * 100.0,
                    cpu.process_cores,
                    cpu.envoy_cores,
                    cpu.other_cores,
                    us(row.busy_cpu_us_per_request),
                    us(row.process_cpu_us_per_request),
                    us(row.envoy_cpu_us_per_request),
                );
            }
        }
        let _ = writeln!(out, "\nTargets:\n");
        for target in &self.targets {
            let verdict = if target.pass { "PASS" } else { "MISS" };
            let measured = target
                .measured
                .map_or_else(|| "not measured".to_string(), |r| format!("{r:.2}×"));
            let _ = writeln!(out, "- {verdict}: {} — measured {measured}", target.goal);
        }
        let row = |c: Configuration| self.rows.iter().find(|r| r.configuration == c);
        if let (Some(floor), Some(enforcer)) = (
            row(Configuration::ExtAuthzFloor),
            row(Configuration::EnforcerOneToken),
        ) {
            let times = |r: Option<f64>| r.map_or_else(|| "–".to_string(), |r| format!("{r:.2}×"));
            let _ = writeln!(
                out,
                "\nThe floor: ({}) asks a service that answers at once, so it is what the ext_authz call \
                 alone costs whatever the service does: p99 {} of jwt_authn's (p50 {}), against {} \
                 (p50 {}) for the enforcer; throughput {} of jwt_authn's against {}.",
                floor.number,
                times(floor.p99_vs_jwt_authn),
                times(floor.p50_vs_jwt_authn),
                times(enforcer.p99_vs_jwt_authn),
                times(enforcer.p50_vs_jwt_authn),
                times(floor.throughput_vs_jwt_authn),
                times(enforcer.throughput_vs_jwt_authn),
            );
        }
        let requests: u64 = self.rows.iter().map(|r| r.requests).sum();
        let _ = writeln!(out);
        if self.problems.is_empty() {
            let _ = writeln!(
                out,
                "Every one of {} counted requests (and every warm-up request) got a 2xx.",
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

impl crate::bench::command::BenchmarkReport for AuthReport {
    fn markdown(&self) -> String {
        AuthReport::markdown(self)
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
            p50_ms: p99_ms / 4.0,
            p99_ms,
            p999_ms: p99_ms * 1.5,
            max_ms: p99_ms * 2.0,
            failures: 0,
            warmup_requests: 0,
            outcomes: BTreeMap::from([("200".to_string(), per_second as u64)]),
            errors: BTreeMap::new(),
            cpu: Some(CpuUse {
                machine_busy: 0.5,
                process_cores: 0.6,
                envoy_cores: 0.3,
                helper_cores: 0.0,
                other_cores: 0.1,
            }),
        }
    }

    fn settings() -> Settings {
        Settings {
            users: 2,
            seconds: 1.0,
            warmup_seconds: 0.5,
            repeats: 2,
            fresh_tokens: 12,
            mint_seconds: 0.1,
            enforcer_cache_capacity: 10,
            jwt_cache_size: Some(100),
            order: "(1)…(6)".into(),
        }
    }

    fn made(enforcer_p99: f64) -> AuthReport {
        let samples = BTreeMap::from([
            (
                Configuration::NoAuth,
                vec![sample(1, 1000.0, 2.0), sample(2, 1200.0, 2.0)],
            ),
            (Configuration::StaticNoAuth, vec![sample(1, 1050.0, 2.0)]),
            (Configuration::JwtAuthnOneToken, vec![sample(1, 880.0, 3.0)]),
            (
                Configuration::EnforcerOneToken,
                vec![sample(1, 550.0, enforcer_p99)],
            ),
            (Configuration::JwtAuthnFresh, vec![sample(1, 500.0, 8.0)]),
            (Configuration::EnforcerFresh, vec![sample(1, 400.0, 8.0)]),
            (Configuration::ExtAuthzFloor, vec![sample(1, 704.0, 4.5)]),
        ]);
        AuthReport::new(
            Machine {
                nproc: 2,
                ..Machine::default()
            },
            settings(),
            samples,
            Vec::new(),
        )
    }

    #[test]
    fn ratios_are_to_no_auth_and_to_the_matching_jwt_authn() {
        let report = made(6.0);
        assert!(report.ok(), "{:?}", report.problems);
        let row = |c: Configuration| &report.rows[c.number() - 1];
        assert_eq!(row(Configuration::NoAuth).per_second.median, 1100.0);
        assert_eq!(row(Configuration::NoAuth).throughput_vs_no_auth, Some(1.0));
        assert_eq!(
            row(Configuration::JwtAuthnOneToken).throughput_vs_no_auth,
            Some(0.8)
        );
        let enforcer = row(Configuration::EnforcerOneToken);
        assert_eq!(enforcer.throughput_vs_no_auth, Some(0.5));
        assert_eq!(enforcer.p99_vs_no_auth, Some(3.0));
        assert_eq!(enforcer.p99_vs_jwt_authn, Some(2.0));
        assert_eq!(enforcer.throughput_vs_jwt_authn, Some(0.625));
        assert_eq!(row(Configuration::JwtAuthnFresh).p99_vs_jwt_authn, None);
        assert_eq!(row(Configuration::EnforcerFresh).p99_vs_jwt_authn, Some(1.0));
        // One busy core of two at 1,100 requests/s.
        let us = row(Configuration::NoAuth).busy_cpu_us_per_request.unwrap_or(0.0);
        assert!((us - 1e6 / 1100.0).abs() < 1e-6, "{us}");
        let envoy = row(Configuration::NoAuth).envoy_cpu_us_per_request.unwrap_or(0.0);
        assert!((envoy - 0.3e6 / 1100.0).abs() < 1e-6, "{envoy}");
        let floor = row(Configuration::ExtAuthzFloor);
        assert_eq!(floor.p99_vs_jwt_authn, Some(1.5));
        assert_eq!(floor.throughput_vs_jwt_authn, Some(0.8));
        assert_eq!(report.targets.len(), 2, "the floor is measured, not a target");
        assert!(!report.targets[0].pass);
        assert!(report.targets[1].pass);
        let markdown = report.markdown();
        assert!(
            markdown.contains("| 4 | portcullis enforcer, one token | 550 | 550–550 | 1.50 | 6.00 |"),
            "{markdown}"
        );
        assert!(markdown.contains("| 0.50× | 3.00× | 2.00× |"), "{markdown}");
        assert!(markdown.contains("- MISS: (4) portcullis enforcer, one token p99 ≤ 1.3×"));
        assert!(markdown.contains("- PASS: (6)"));
        assert!(
            markdown.contains("| 1 | 50 % | 0.60 | 0.30 | 0.10 | 909 | 545 | 273 |"),
            "{markdown}"
        );
        assert!(
            markdown
                .contains("p99 1.50× of jwt_authn's (p50 1.50×), against 2.00× (p50 2.00×) for the enforcer"),
            "{markdown}"
        );
        assert!(made(3.9).targets[0].pass);
    }

    #[test]
    fn failures_and_missing_runs_are_problems() {
        let mut failed = sample(1, 10.0, 1.0);
        failed.failures = 3;
        failed.errors.insert("status 401".into(), 3);
        let samples = BTreeMap::from([(Configuration::EnforcerFresh, vec![failed])]);
        let report = AuthReport::new(Machine::default(), settings(), samples, Vec::new());
        assert!(!report.ok());
        let all = report.problems.join("\n");
        assert!(all.contains("3 failed requests (status 401 ×3)"), "{all}");
        assert!(
            all.contains("(1) no auth (gateway's Envoy, plain HTTPRoute): not measured"),
            "{all}"
        );
        assert!(report.targets[0].measured.is_none() && !report.targets[0].pass);
        assert!(report.markdown().contains("FAILED:"));
    }
}
