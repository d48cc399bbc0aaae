//! `--baseline`: this run against a previous `bench-gateway.json`, configuration by
//! configuration.
//!
//! What is judged is each configuration's ratio to bare Envoy (1) in the same repeat, for
//! requests/s and for p99: a busier or slower machine moves every configuration together, and
//! the ratio cancels that. (1)'s own requests/s and p99 are reported beside them but never
//! fail the comparison, since they move with the machine. A configuration regressed when its
//! requests/s ratio dropped, or its p99 ratio rose, by more than the thresholds (relative
//! percent of the baseline's ratio). Configurations in one run only are listed, not compared;
//! a comparison that judged no ratio fails, as the load suites' does.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;

pub use crate::report::baseline::Thresholds;

use super::report::{Configuration, GatewayReport, Row};
use crate::bench::report::thousands;
use crate::report::baseline::change_pct;

/// A baseline file that cannot be used.
#[derive(Debug, Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("baseline {path}: cannot read it")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("baseline {path}: not JSON")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// JSON, but not the shape of a bench-gateway report.
    #[error("baseline {path}: not a bench-gateway report: {field}: {problem}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// Where in it, e.g. `rows[2].p99_ms.vs_bare.median`.
        field: String,
        /// What is wrong there.
        problem: String,
    },
}

/// The medians of one configuration that the comparison uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Medians {
    /// Requests per second.
    pub per_second: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Requests/s over (1)'s in the same repeat; `None` when (1) was not measured.
    pub per_second_vs_bare: Option<f64>,
    /// p99 over (1)'s in the same repeat; `None` when (1) was not measured.
    pub p99_vs_bare: Option<f64>,
}

impl Medians {
    /// The medians of a row of this run.
    pub fn of(row: &Row) -> Self {
        Medians {
            per_second: row.per_second.value.median,
            p99_ms: row.p99_ms.value.median,
            per_second_vs_bare: row.per_second.vs_bare.map(|s| s.median),
            p99_vs_bare: row.p99_ms.vs_bare.map(|s| s.median),
        }
    }
}

/// A previous run, as far as the comparison needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// Where it was read from.
    pub path: PathBuf,
    /// Each configuration it measured, in its order.
    pub rows: Vec<(Configuration, Medians)>,
}

impl Baseline {
    /// Reads a `bench-gateway.json`; errors name the file and, for JSON of another shape, the
    /// field.
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses the text of a `bench-gateway.json` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, BaselineError> {
        let root: Value = serde_json::from_str(text).map_err(|source| BaselineError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let shape = |field: &str, problem: String| BaselineError::Shape {
            path: path.to_path_buf(),
            field: field.to_string(),
            problem,
        };
        let Some(object) = root.as_object() else {
            return Err(shape(
                "(top level)",
                format!("expected an object, found {}", kind(&root)),
            ));
        };
        let Some(rows) = object.get("rows") else {
            // A load-suite summary names its format; say which file this is.
            let problem = match object.get("format").and_then(Value::as_str) {
                Some(format) => format!("missing (the file's format is {format:?})"),
                None => "missing".to_string(),
            };
            return Err(shape("rows", problem));
        };
        let Some(rows) = rows.as_array() else {
            return Err(shape("rows", format!("expected an array, found {}", kind(rows))));
        };
        let mut parsed: Vec<(Configuration, Medians)> = Vec::with_capacity(rows.len());
        for (index, row) in rows.iter().enumerate() {
            let at = |keys: &[&str]| {
                std::iter::once(format!("rows[{index}]"))
                    .chain(keys.iter().map(|k| k.to_string()))
                    .collect::<Vec<_>>()
                    .join(".")
            };
            if !row.is_object() {
                return Err(shape(
                    &at(&[]),
                    format!("expected an object, found {}", kind(row)),
                ));
            }
            let number = |keys: &[&str], nullable: bool| -> Result<Option<f64>, BaselineError> {
                lookup(row, keys, nullable).map_err(|(depth, problem)| shape(&at(&keys[..depth]), problem))
            };
            let required = |keys: &[&str]| -> Result<f64, BaselineError> {
                number(keys, false)?.ok_or_else(|| shape(&at(keys), "missing".to_string()))
            };
            let name = row
                .get("configuration")
                .ok_or_else(|| shape(&at(&["configuration"]), "missing".to_string()))?;
            let configuration: Configuration = serde_json::from_value(name.clone())
                .map_err(|error| shape(&at(&["configuration"]), error.to_string()))?;
            if parsed.iter().any(|(c, _)| *c == configuration) {
                return Err(shape(&at(&["configuration"]), format!("{name} appears twice")));
            }
            let medians = Medians {
                per_second: required(&["per_second", "value", "median"])?,
                p99_ms: required(&["p99_ms", "value", "median"])?,
                per_second_vs_bare: number(&["per_second", "vs_bare", "median"], true)?,
                p99_vs_bare: number(&["p99_ms", "vs_bare", "median"], true)?,
            };
            parsed.push((configuration, medians));
        }
        if parsed.is_empty() {
            return Err(shape("rows", "empty: the run measured nothing".to_string()));
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            rows: parsed,
        })
    }

    /// The baseline a report of this run would be (for tests and for comparing two reports
    /// in memory).
    pub fn of(path: &Path, report: &GatewayReport) -> Self {
        Baseline {
            path: path.to_path_buf(),
            rows: report
                .rows
                .iter()
                .map(|row| (row.configuration, Medians::of(row)))
                .collect(),
        }
    }

    fn get(&self, configuration: Configuration) -> Option<&Medians> {
        self.rows
            .iter()
            .find(|(c, _)| *c == configuration)
            .map(|(_, medians)| medians)
    }
}

/// The number at `keys` under `value`. `nullable`: a `null` on the way (a ratio not measured;
/// serde_json writes a NaN as `null` too) is `None`; otherwise the result is `Some`. An error gives how many keys deep it is and what is wrong.
fn lookup(value: &Value, keys: &[&str], nullable: bool) -> Result<Option<f64>, (usize, String)> {
    let mut value = value;
    for (depth, key) in keys.iter().enumerate() {
        if value.is_null() && nullable && depth > 0 {
            return Ok(None);
        }
        let Some(object) = value.as_object() else {
            return Err((depth, format!("expected an object, found {}", kind(value))));
        };
        value = object
            .get(*key)
            .ok_or_else(|| (depth + 1, "missing".to_string()))?;
    }
    match value {
        Value::Number(number) => Ok(number.as_f64()),
        Value::Null if nullable => Ok(None),
        other => Err((keys.len(), format!("expected a number, found {}", kind(other)))),
    }
}

/// What kind of JSON value `value` is, for errors.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// (1)'s requests/s (reported, not judged).
    PerSecond,
    /// (1)'s p99, milliseconds (reported, not judged).
    P99Ms,
    /// Requests/s over (1)'s in the same repeat.
    PerSecondVsBare,
    /// p99 over (1)'s in the same repeat.
    P99MsVsBare,
}

impl Measure {
    /// What the table calls it.
    pub fn label(self) -> &'static str {
        match self {
            Measure::PerSecond => "req/s",
            Measure::P99Ms => "p99 ms",
            Measure::PerSecondVsBare => "req/s vs (1)",
            Measure::P99MsVsBare => "p99 vs (1)",
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Measure::PerSecond => thousands(value),
            Measure::P99Ms => format!("{value:.2}"),
            Measure::PerSecondVsBare | Measure::P99MsVsBare => format!("{value:.3}×"),
        }
    }
}

/// How a measure came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Shown, never judged: (1)'s absolute numbers.
    Reported,
    /// Within the threshold.
    Ok,
    /// Worse than the threshold allows.
    Regressed,
    /// A side lacks it (no ratio to (1), or a zero baseline).
    NotCompared,
}

/// One measure of one configuration in both runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasureComparison {
    /// Which.
    pub measure: Measure,
    /// The baseline's median.
    pub before: Option<f64>,
    /// This run's median.
    pub now: Option<f64>,
    /// `now` against `before`, percent of `before`.
    pub change_pct: Option<f64>,
    /// How it came out.
    pub verdict: Verdict,
}

/// One configuration in both runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfigurationComparison {
    /// Which.
    pub configuration: Configuration,
    /// Its number in the table.
    pub number: usize,
    /// What the table calls it.
    pub label: String,
    /// Its measures: (1)'s absolute numbers, the others' ratios to (1).
    pub measures: Vec<MeasureComparison>,
}

impl ConfigurationComparison {
    /// Whether a judged measure got worse than the thresholds allow.
    pub fn regressed(&self) -> bool {
        self.measures.iter().any(|m| m.verdict == Verdict::Regressed)
    }

    fn heading(&self) -> String {
        format!("({}) {}", self.number, self.label)
    }
}

/// This run against a baseline: the JSON report's `baseline` object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaselineComparison {
    /// The baseline file.
    pub file: PathBuf,
    /// The thresholds applied.
    #[serde(serialize_with = "thresholds_json")]
    pub thresholds: Thresholds,
    /// Configurations in both runs, in this run's order.
    pub configurations: Vec<ConfigurationComparison>,
    /// Configurations of this run the baseline lacks (not compared).
    pub new: Vec<Configuration>,
    /// Configurations of the baseline this run lacks.
    pub gone: Vec<Configuration>,
    /// The configurations that regressed.
    pub regressed: Vec<Configuration>,
    /// Whether at least one ratio was judged and none regressed.
    pub pass: bool,
}

/// The thresholds as the JSON report shows them.
fn thresholds_json<S: Serializer>(thresholds: &Thresholds, serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Json {
        max_throughput_drop_pct: f64,
        max_p99_rise_pct: f64,
    }
    Json {
        max_throughput_drop_pct: thresholds.max_throughput_drop_pct,
        max_p99_rise_pct: thresholds.max_p99_rise_pct,
    }
    .serialize(serializer)
}

/// Compares `current` with `baseline`, configuration by configuration.
pub fn compare(baseline: &Baseline, current: &GatewayReport, thresholds: Thresholds) -> BaselineComparison {
    let mut configurations = Vec::new();
    let mut new = Vec::new();
    for row in &current.rows {
        let Some(before) = baseline.get(row.configuration) else {
            new.push(row.configuration);
            continue;
        };
        let now = Medians::of(row);
        let measures = if row.configuration == Configuration::BareEnvoy {
            vec![
                reported(Measure::PerSecond, before.per_second, now.per_second),
                reported(Measure::P99Ms, before.p99_ms, now.p99_ms),
            ]
        } else {
            vec![
                judged(
                    Measure::PerSecondVsBare,
                    before.per_second_vs_bare,
                    now.per_second_vs_bare,
                    |change| -change > thresholds.max_throughput_drop_pct,
                ),
                judged(
                    Measure::P99MsVsBare,
                    before.p99_vs_bare,
                    now.p99_vs_bare,
                    |change| change > thresholds.max_p99_rise_pct,
                ),
            ]
        };
        configurations.push(ConfigurationComparison {
            configuration: row.configuration,
            number: row.number,
            label: row.label.clone(),
            measures,
        });
    }
    let gone = baseline
        .rows
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !current.rows.iter().any(|r| r.configuration == *c))
        .collect();
    let regressed: Vec<Configuration> = configurations
        .iter()
        .filter(|c| c.regressed())
        .map(|c| c.configuration)
        .collect();
    let judged_any = configurations
        .iter()
        .flat_map(|c| &c.measures)
        .any(|m| matches!(m.verdict, Verdict::Ok | Verdict::Regressed));
    BaselineComparison {
        file: baseline.path.clone(),
        thresholds,
        configurations,
        new,
        gone,
        pass: judged_any && regressed.is_empty(),
        regressed,
    }
}

fn reported(measure: Measure, before: f64, now: f64) -> MeasureComparison {
    MeasureComparison {
        measure,
        before: Some(before),
        now: Some(now),
        change_pct: change_pct(before, now),
        verdict: Verdict::Reported,
    }
}

/// A ratio judged: `worse` says whether a change (percent) is past its threshold.
fn judged(
    measure: Measure,
    before: Option<f64>,
    now: Option<f64>,
    worse: impl Fn(f64) -> bool,
) -> MeasureComparison {
    let change = before.zip(now).and_then(|(b, n)| change_pct(b, n));
    MeasureComparison {
        measure,
        before,
        now,
        change_pct: change,
        verdict: match change {
            None => Verdict::NotCompared,
            Some(change) if worse(change) => Verdict::Regressed,
            Some(_) => Verdict::Ok,
        },
    }
}

impl BaselineComparison {
    /// Whether the comparison fails: a configuration regressed, or no ratio was judged.
    pub fn failed(&self) -> bool {
        !self.pass
    }

    /// Why it failed, naming the regressed configurations; `None` when it passed.
    pub fn failure(&self) -> Option<String> {
        if self.pass {
            return None;
        }
        let file = self.file.display();
        if self.regressed.is_empty() {
            return Some(format!(
                "against the baseline {file}: no configuration's ratio to (1) could be compared"
            ));
        }
        let names: Vec<String> = self
            .configurations
            .iter()
            .filter(|c| c.regressed())
            .map(ConfigurationComparison::heading)
            .collect();
        Some(format!(
            "regressed against the baseline {file}: {}",
            names.join("; ")
        ))
    }

    /// The comparison as a Markdown section: a table and a verdict line.
    pub fn markdown(&self) -> String {
        let t = &self.thresholds;
        let mut out = String::new();
        let _ = writeln!(out, "## Against the baseline\n");
        let _ = writeln!(
            out,
            "Baseline: `{}`. (2)–(5) are judged by their median ratio to (1) in the same repeat (a \
             busier machine slows every configuration alike; the ratio cancels it): a configuration \
             regressed when its requests/s ratio dropped more than {} % or its p99 ratio rose more \
             than {} %. (1)'s own numbers are reported, not judged.\n",
            self.file.display(),
            t.max_throughput_drop_pct,
            t.max_p99_rise_pct,
        );
        let _ = writeln!(
            out,
            "| configuration | measure | before | now | change | verdict |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---|");
        let value =
            |measure: Measure, v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| measure.format(v));
        for configuration in &self.configurations {
            for m in &configuration.measures {
                let limit = match m.measure {
                    Measure::PerSecondVsBare => format!("max −{} %", t.max_throughput_drop_pct),
                    _ => format!("max +{} %", t.max_p99_rise_pct),
                };
                let verdict = match m.verdict {
                    Verdict::Reported => "reported (not judged)".to_string(),
                    Verdict::Ok => "ok".to_string(),
                    Verdict::Regressed => format!("**REGRESSED** ({limit})"),
                    Verdict::NotCompared => "not compared (no ratio to (1))".to_string(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {verdict} |",
                    configuration.heading(),
                    m.measure.label(),
                    value(m.measure, m.before),
                    value(m.measure, m.now),
                    m.change_pct
                        .map_or_else(|| "–".to_string(), |c| format!("{c:+.1} %")),
                );
            }
        }
        for configuration in &self.new {
            let _ = writeln!(
                out,
                "| ({}) {} | – | – | – | – | new: not in the baseline |",
                configuration.number(),
                configuration.label()
            );
        }
        for configuration in &self.gone {
            let _ = writeln!(
                out,
                "| ({}) {} | – | – | – | – | gone: not measured this time |",
                configuration.number(),
                configuration.label()
            );
        }
        let _ = writeln!(out);
        match self.failure() {
            None => {
                let _ = writeln!(out, "PASS: no configuration regressed.");
            }
            Some(failure) => {
                let _ = writeln!(out, "FAIL: {failure}.");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::bench::cpu::CpuUse;
    use crate::bench::gateway::report::{Calls, Run, Settings};
    use crate::bench::report::Machine;
    use crate::bench::sample::Sample;

    const THRESHOLDS: Thresholds = Thresholds {
        max_throughput_drop_pct: 10.0,
        max_p99_rise_pct: 25.0,
    };

    /// One repeat of `configuration` at `per_second` with `p99_ms`, its filters called for
    /// every request.
    fn run(configuration: Configuration, per_second: f64, p99_ms: f64) -> Run {
        let requests = per_second as u64;
        let all = Some(requests);
        let calls = match configuration {
            Configuration::BareEnvoy => Calls::default(),
            Configuration::NativeFilters => Calls {
                jwt_authn_allowed: all,
                local_rate_limit_ok: all,
                ..Calls::default()
            },
            Configuration::GatewayInMemory | Configuration::GatewayRedis => Calls {
                enforcer_calls: all,
                limiter_decisions: all,
                limiter_store_errors: Some(0),
                ..Calls::default()
            },
            Configuration::CallsFloor => Calls {
                noop_authz_calls: all,
                noop_rate_limit_calls: all,
                ..Calls::default()
            },
        };
        Run {
            sample: Sample {
                repeat: 1,
                seconds: 1.0,
                requests,
                per_second,
                p50_ms: p99_ms / 4.0,
                p99_ms,
                p999_ms: p99_ms * 2.0,
                max_ms: p99_ms * 3.0,
                failures: 0,
                warmup_requests: 0,
                outcomes: BTreeMap::from([("200".to_string(), requests)]),
                errors: BTreeMap::new(),
                cpu: Some(CpuUse {
                    machine_busy: 1.0,
                    process_cores: 1.0,
                    envoy_cores: 1.0,
                    helper_cores: 0.0,
                    other_cores: 0.0,
                }),
            },
            calls,
        }
    }

    /// A report of one repeat: each configuration's requests/s and p99.
    fn report(measured: &[(Configuration, f64, f64)]) -> GatewayReport {
        let runs = measured
            .iter()
            .map(|(c, rps, p99)| (*c, vec![run(*c, *rps, *p99)]))
            .collect();
        let settings = Settings {
            users: 1,
            seconds: 1.0,
            warmup_seconds: 0.0,
            repeats: 1,
            order: "test".to_string(),
            load_before: None,
            load_after: None,
        };
        GatewayReport::new(Machine::default(), settings, runs, Vec::new())
    }

    /// (1) at 1,000 req/s and 2 ms; (2)–(5) at half, 0.4, 0.3 and 0.45 of it, p99 ×1.5 to ×3.
    fn before() -> GatewayReport {
        report(&[
            (Configuration::BareEnvoy, 1000.0, 2.0),
            (Configuration::NativeFilters, 500.0, 3.0),
            (Configuration::GatewayInMemory, 400.0, 5.0),
            (Configuration::GatewayRedis, 300.0, 6.0),
            (Configuration::CallsFloor, 450.0, 4.0),
        ])
    }

    fn baseline(report: &GatewayReport) -> Baseline {
        Baseline::of(Path::new("old/bench-gateway.json"), report)
    }

    fn verdicts(comparison: &BaselineComparison) -> Vec<(Configuration, Vec<Verdict>)> {
        comparison
            .configurations
            .iter()
            .map(|c| (c.configuration, c.measures.iter().map(|m| m.verdict).collect()))
            .collect()
    }

    #[test]
    fn a_slower_machine_that_slows_everything_alike_passes() {
        // Everything at 60 % of the speed, p99 doubled: the ratios are the same.
        let now = report(&[
            (Configuration::BareEnvoy, 600.0, 4.0),
            (Configuration::NativeFilters, 300.0, 6.0),
            (Configuration::GatewayInMemory, 240.0, 10.0),
            (Configuration::GatewayRedis, 180.0, 12.0),
            (Configuration::CallsFloor, 270.0, 8.0),
        ]);
        let comparison = compare(&baseline(&before()), &now, THRESHOLDS);
        assert!(comparison.pass, "{}", comparison.markdown());
        assert_eq!(comparison.failure(), None);
        let bare = &comparison.configurations[0];
        assert_eq!(bare.measures[0].change_pct, Some(-40.0));
        assert_eq!(bare.measures[1].change_pct, Some(100.0));
        assert_eq!(
            bare.measures.iter().map(|m| m.verdict).collect::<Vec<_>>(),
            [Verdict::Reported, Verdict::Reported]
        );
        assert!(
            comparison.configurations[1..]
                .iter()
                .all(|c| c.measures.iter().all(|m| m.verdict == Verdict::Ok))
        );
        let markdown = comparison.markdown();
        assert!(
            markdown.contains(
                "| (1) bare Envoy (router only) | req/s | 1,000 | 600 | -40.0 % | reported (not judged) |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "| (3) portcullis: enforcer + limiter in memory | req/s vs (1) | 0.400× | 0.400× | +0.0 % | ok |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("PASS: no configuration regressed."),
            "{markdown}"
        );
    }

    #[test]
    fn a_throughput_ratio_drop_past_the_threshold_regresses() {
        // (3) falls from 0.40 to 0.35 of (1): −12.5 %; (2) from 0.50 to 0.46: −8 %, within.
        let now = report(&[
            (Configuration::BareEnvoy, 1000.0, 2.0),
            (Configuration::NativeFilters, 460.0, 3.0),
            (Configuration::GatewayInMemory, 350.0, 5.0),
            (Configuration::GatewayRedis, 300.0, 6.0),
            (Configuration::CallsFloor, 450.0, 4.0),
        ]);
        let comparison = compare(&baseline(&before()), &now, THRESHOLDS);
        assert!(comparison.failed());
        assert_eq!(comparison.regressed, [Configuration::GatewayInMemory]);
        let in_memory = &comparison.configurations[2].measures[0];
        assert_eq!(in_memory.verdict, Verdict::Regressed);
        assert!((in_memory.change_pct.unwrap_or_default() + 12.5).abs() < 1e-9);
        assert_eq!(comparison.configurations[1].measures[0].verdict, Verdict::Ok);
        assert_eq!(
            comparison.failure().as_deref(),
            Some(
                "regressed against the baseline old/bench-gateway.json: (3) portcullis: enforcer + \
                 limiter in memory"
            )
        );
        assert!(
            comparison
                .markdown()
                .contains("| -12.5 % | **REGRESSED** (max −10 %) |"),
            "{}",
            comparison.markdown()
        );
    }

    #[test]
    fn a_p99_ratio_rise_past_the_threshold_regresses() {
        // (1) got quicker: (4)'s p99 ratio goes from 3.0 to 4.0 (+33 %) though its own p99
        // did not move; (5)'s from 2.0 to 2.4 (+20 %), within.
        let now = report(&[
            (Configuration::BareEnvoy, 1000.0, 1.5),
            (Configuration::NativeFilters, 500.0, 2.25),
            (Configuration::GatewayInMemory, 400.0, 3.75),
            (Configuration::GatewayRedis, 300.0, 6.0),
            (Configuration::CallsFloor, 450.0, 3.6),
        ]);
        let comparison = compare(&baseline(&before()), &now, THRESHOLDS);
        assert_eq!(comparison.regressed, [Configuration::GatewayRedis]);
        let redis = &comparison.configurations[3];
        assert_eq!(
            redis.measures.iter().map(|m| m.verdict).collect::<Vec<_>>(),
            [Verdict::Ok, Verdict::Regressed]
        );
        assert_eq!(comparison.configurations[4].measures[1].verdict, Verdict::Ok);
        assert!(
            comparison
                .failure()
                .is_some_and(|f| f.ends_with("(4) portcullis: enforcer + limiter in Redis"))
        );
        assert!(comparison.markdown().contains("**REGRESSED** (max +25 %)"));
    }

    #[test]
    fn new_and_gone_configurations_are_listed_not_compared() {
        // An older baseline without (5); this run without (4).
        let old = report(&[
            (Configuration::BareEnvoy, 1000.0, 2.0),
            (Configuration::GatewayInMemory, 400.0, 5.0),
            (Configuration::GatewayRedis, 300.0, 6.0),
        ]);
        let now = report(&[
            (Configuration::BareEnvoy, 1000.0, 2.0),
            (Configuration::GatewayInMemory, 410.0, 5.0),
            (Configuration::CallsFloor, 100.0, 50.0),
        ]);
        let comparison = compare(&baseline(&old), &now, THRESHOLDS);
        assert!(comparison.pass, "{}", comparison.markdown());
        assert_eq!(comparison.new, [Configuration::CallsFloor]);
        assert_eq!(comparison.gone, [Configuration::GatewayRedis]);
        assert_eq!(
            comparison
                .configurations
                .iter()
                .map(|c| c.configuration)
                .collect::<Vec<_>>(),
            [Configuration::BareEnvoy, Configuration::GatewayInMemory]
        );
        let markdown = comparison.markdown();
        assert!(
            markdown.contains(
                "| (5) Envoy + ext_authz + ratelimit to no-op services (floor of 3) | – | – | – | – | new: not in the baseline |"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains(
                "| (4) portcullis: enforcer + limiter in Redis | – | – | – | – | gone: not measured this time |"
            ),
            "{markdown}"
        );
    }

    #[test]
    fn nothing_judged_fails() {
        // Only (1) in common: its numbers are reported, but no ratio was judged.
        let old = report(&[(Configuration::BareEnvoy, 1000.0, 2.0)]);
        let comparison = compare(&baseline(&old), &before(), THRESHOLDS);
        assert_eq!(
            verdicts(&comparison),
            [(
                Configuration::BareEnvoy,
                vec![Verdict::Reported, Verdict::Reported]
            )]
        );
        assert!(comparison.failed());
        assert!(comparison.regressed.is_empty());
        assert!(
            comparison
                .failure()
                .is_some_and(|f| f.contains("no configuration's ratio to (1) could be compared"))
        );
        // Nothing in common at all.
        let old = report(&[(Configuration::GatewayRedis, 300.0, 6.0)]);
        let now = report(&[(Configuration::NativeFilters, 500.0, 3.0)]);
        let comparison = compare(&baseline(&old), &now, THRESHOLDS);
        assert!(comparison.failed() && comparison.configurations.is_empty());
        // Ratios missing on a side (no (1) in the baseline) are not compared.
        let old = report(&[(Configuration::GatewayRedis, 300.0, 6.0)]);
        let comparison = compare(&baseline(&old), &before(), THRESHOLDS);
        assert_eq!(
            verdicts(&comparison),
            [(
                Configuration::GatewayRedis,
                vec![Verdict::NotCompared, Verdict::NotCompared]
            )]
        );
        assert!(comparison.failed());
    }

    #[test]
    fn a_written_report_reads_back_as_its_own_baseline() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let mut first = before();
        // A report that itself carries a comparison still reads as a baseline.
        first.baseline = Some(compare(&baseline(&first), &first, THRESHOLDS));
        let files = super::super::write(&first, dir.path())?;
        let read = Baseline::read(&files[1])?;
        assert_eq!(read, Baseline::of(&files[1], &first));
        assert_eq!(read.rows.len(), 5);
        let comparison = compare(&read, &first, THRESHOLDS);
        assert!(comparison.pass, "{}", comparison.markdown());
        assert!(
            comparison
                .configurations
                .iter()
                .flat_map(|c| &c.measures)
                .all(|m| m.change_pct == Some(0.0))
        );
        // The comparison is in the report's JSON and Markdown.
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&files[1])?)?;
        let written = &json["baseline"];
        assert_eq!(written["pass"], true);
        assert_eq!(written["thresholds"]["max_p99_rise_pct"], 25.0);
        assert_eq!(written["configurations"][2]["configuration"], "gateway-in-memory");
        assert_eq!(
            written["configurations"][2]["measures"][0]["measure"],
            "per_second_vs_bare"
        );
        assert_eq!(written["configurations"][2]["measures"][0]["verdict"], "ok");
        let markdown = std::fs::read_to_string(&files[0])?;
        let table = first.baseline.as_ref().map(BaselineComparison::markdown);
        assert!(
            table.is_some_and(|table| markdown.ends_with(&table)),
            "{markdown}"
        );
        Ok(())
    }

    #[test]
    fn a_baseline_without_a_ratio_reads_as_none() -> anyhow::Result<()> {
        let text = r#"{"rows": [{"configuration": "gateway-redis",
            "per_second": {"value": {"median": 300.0}, "vs_bare": null},
            "p99_ms": {"value": {"median": 6.0}, "vs_bare": {"median": null}}}]}"#;
        let read = Baseline::parse(Path::new("b.json"), text)?;
        assert_eq!(
            read.rows,
            [(
                Configuration::GatewayRedis,
                Medians {
                    per_second: 300.0,
                    p99_ms: 6.0,
                    per_second_vs_bare: None,
                    p99_vs_bare: None
                }
            )]
        );
        Ok(())
    }

    fn error(text: &str) -> String {
        match Baseline::parse(Path::new("old.json"), text) {
            Ok(read) => panic!("{text} was read: {read:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn bad_baselines_name_the_file_and_the_field() {
        let missing = Baseline::read(Path::new("/nonexistent/bench-gateway.json"));
        assert!(
            matches!(&missing, Err(BaselineError::Io { path, .. }) if path == Path::new("/nonexistent/bench-gateway.json")),
            "{missing:?}"
        );
        let json = Baseline::parse(Path::new("old.json"), "{not json");
        assert!(
            matches!(&json, Err(e @ BaselineError::Json { .. }) if e.to_string() == "baseline old.json: not JSON"),
            "{json:?}"
        );
        assert_eq!(
            error(r#"{"format": "portcullis-load-summary", "version": 1, "suites": []}"#),
            "baseline old.json: not a bench-gateway report: rows: missing (the file's format is \
             \"portcullis-load-summary\")"
        );
        assert_eq!(
            error("[]"),
            "baseline old.json: not a bench-gateway report: (top level): expected an object, found an array"
        );
        assert_eq!(
            error(r#"{"rows": []}"#),
            "baseline old.json: not a bench-gateway report: rows: empty: the run measured nothing"
        );
        let unknown = error(r#"{"rows": [{"configuration": "unlimited"}]}"#);
        assert!(
            unknown.starts_with(
                "baseline old.json: not a bench-gateway report: rows[0].configuration: unknown variant `unlimited`"
            ),
            "{unknown}"
        );
        let row = r#"{"configuration": "bare-envoy",
            "per_second": {"value": {"median": 1000.0}, "vs_bare": {"median": 1.0}},
            "p99_ms": {"value": {"median": "fast"}, "vs_bare": {"median": 1.0}}}"#;
        assert_eq!(
            error(&format!(r#"{{"rows": [{row}]}}"#)),
            "baseline old.json: not a bench-gateway report: rows[0].p99_ms.value.median: expected a \
             number, found a string"
        );
        let row = r#"{"configuration": "calls-floor", "per_second": {"value": {"median": 1.0}}}"#;
        assert_eq!(
            error(&format!(r#"{{"rows": [{row}]}}"#)),
            "baseline old.json: not a bench-gateway report: rows[0].p99_ms: missing"
        );
        let row = r#"{"configuration": "calls-floor", "per_second": {"value": 7}}"#;
        assert_eq!(
            error(&format!(r#"{{"rows": [{row}]}}"#)),
            "baseline old.json: not a bench-gateway report: rows[0].per_second.value: expected an \
             object, found a number"
        );
        let row = r#"{"configuration": "calls-floor",
            "per_second": {"value": {"median": 1.0}, "vs_bare": null},
            "p99_ms": {"value": {"median": 1.0}, "vs_bare": null}}"#;
        assert_eq!(
            error(&format!(r#"{{"rows": [{row}, {row}]}}"#)),
            "baseline old.json: not a bench-gateway report: rows[1].configuration: \"calls-floor\" \
             appears twice"
        );
    }
}
