//! `bench-control-plane --baseline`: this run's control-plane scale report against a previous
//! one. Compared, per route count: reload → Envoy ACK, the control plane's peak memory and the
//! bytes pushed; and for one changed route: reload → new answer and the bytes it pushed. A
//! measure regressed when it rose by more than its threshold (times and sizes have one each:
//! times are noisy on shared machines, sizes are not).

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

/// How much worse a measure may get before the comparison fails, in percent of the baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleThresholds {
    /// The largest allowed rise of a time (ACK, new answer).
    pub max_time_rise_pct: f64,
    /// The largest allowed rise of memory or bytes pushed.
    pub max_size_rise_pct: f64,
}

impl Default for ScaleThresholds {
    fn default() -> Self {
        ScaleThresholds {
            max_time_rise_pct: 25.0,
            max_size_rise_pct: 10.0,
        }
    }
}

/// Why a report cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file cannot be read.
    #[error("baseline {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a control-plane report (the field at fault is named).
    #[error("baseline {path}: not a bench-control-plane report: {field}: {message}")]
    Format {
        /// The file.
        path: String,
        /// Where in the JSON.
        field: String,
        /// What is wrong there.
        message: String,
    },
}

/// A median with its spread, as the report writes it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub struct Median {
    /// The median.
    pub median: f64,
}

/// One route count of a report: what is compared.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ScaleRow {
    /// HTTPRoutes.
    pub routes: usize,
    /// APK APIs among them.
    pub apis: usize,
    /// Reload → Envoy ACK, ms.
    pub apply_ms: Median,
    /// The control plane's peak RSS, MiB.
    pub peak_rss_mib: Median,
    /// Bytes pushed to Envoy.
    pub pushed_bytes: Median,
}

/// One changed route at the largest count.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ChangeRow {
    /// HTTPRoutes when the route changed.
    pub routes: usize,
    /// Reload → the new answer, ms.
    pub answer_ms: Median,
    /// Bytes one change pushed.
    pub bytes_per_change: Median,
}

/// The parts of a `bench-control-plane.json` the comparison reads (the rest is ignored).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ScaleReport {
    /// Route counts measured.
    pub scales: Vec<ScaleRow>,
    /// One changed route, when measured.
    #[serde(default)]
    pub change: Option<ChangeRow>,
}

impl ScaleReport {
    /// Reads a report written by `bench-control-plane`, naming the file and the field at fault.
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&shown, &text)
    }

    /// Parses a report's JSON; `path` only names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Self, BaselineError> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|e| BaselineError::Format {
            path: path.to_string(),
            field: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }
}

/// One measure in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureComparison {
    /// What was measured, e.g. `10000 routes (1000 APIs): reload → ACK (ms)`.
    pub measure: String,
    /// Before and now.
    pub values: (f64, f64),
    /// The rise allowed, percent.
    pub allowed_rise_pct: f64,
}

impl MeasureComparison {
    /// Change, percent of the baseline (None when the baseline's was 0).
    pub fn change_pct(&self) -> Option<f64> {
        crate::report::baseline::change_pct(self.values.0, self.values.1)
    }

    /// Whether it rose past what is allowed.
    pub fn regressed(&self) -> bool {
        self.change_pct().is_some_and(|c| c > self.allowed_rise_pct)
    }
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleComparison {
    /// The thresholds applied.
    pub thresholds: ScaleThresholds,
    /// Measures in both runs, in this run's order.
    pub measures: Vec<MeasureComparison>,
    /// What only one of the two runs measured (not compared).
    pub unmatched: Vec<String>,
}

impl ScaleComparison {
    /// Whether it fails: a measure regressed, or nothing was in both runs (a gate that compared
    /// nothing must not pass).
    pub fn failed(&self) -> bool {
        self.measures.is_empty() || self.measures.iter().any(MeasureComparison::regressed)
    }

    /// The measures that regressed.
    pub fn regressions(&self) -> Vec<&MeasureComparison> {
        self.measures.iter().filter(|m| m.regressed()).collect()
    }

    /// The comparison as a Markdown table, with a verdict line.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| measure | before | now | change | allowed rise | verdict |\n|---|---:|---:|---:|---:|---|\n",
        );
        for m in &self.measures {
            let change = m
                .change_pct()
                .map_or_else(|| "–".to_string(), |c| format!("{c:+.1} %"));
            let verdict = if m.regressed() { "REGRESSED" } else { "ok" };
            let _ = writeln!(
                out,
                "| {} | {:.1} | {:.1} | {change} | {:.0} % | {verdict} |",
                m.measure, m.values.0, m.values.1, m.allowed_rise_pct
            );
        }
        for u in &self.unmatched {
            let _ = writeln!(out, "| {u} | – | – | – | – | not compared |");
        }
        let verdict = if self.measures.is_empty() {
            "FAIL: nothing measured in both runs.".to_string()
        } else if self.failed() {
            format!("FAIL: {} measure(s) regressed.", self.regressions().len())
        } else {
            "PASS: nothing regressed.".to_string()
        };
        let _ = write!(out, "\n{verdict}\n");
        out
    }
}

/// Compares `current` with `baseline`.
pub fn compare(
    baseline: &ScaleReport,
    current: &ScaleReport,
    thresholds: ScaleThresholds,
) -> ScaleComparison {
    let time = thresholds.max_time_rise_pct;
    let size = thresholds.max_size_rise_pct;
    let mut measures = Vec::new();
    let mut unmatched = Vec::new();
    let label = |s: &ScaleRow| format!("{} routes ({} APIs)", s.routes, s.apis);
    for now in &current.scales {
        let Some(before) = baseline
            .scales
            .iter()
            .find(|b| b.routes == now.routes && b.apis == now.apis)
        else {
            unmatched.push(format!("{}: only in this run", label(now)));
            continue;
        };
        let at = label(now);
        let mut push = |what: &str, b: Median, n: Median, allowed: f64| {
            measures.push(MeasureComparison {
                measure: format!("{at}: {what}"),
                values: (b.median, n.median),
                allowed_rise_pct: allowed,
            });
        };
        push("reload → ACK (ms)", before.apply_ms, now.apply_ms, time);
        push(
            "control-plane peak RSS (MiB)",
            before.peak_rss_mib,
            now.peak_rss_mib,
            size,
        );
        push("pushed (bytes)", before.pushed_bytes, now.pushed_bytes, size);
    }
    for before in &baseline.scales {
        if !current
            .scales
            .iter()
            .any(|n| n.routes == before.routes && n.apis == before.apis)
        {
            unmatched.push(format!("{}: only in the baseline", label(before)));
        }
    }
    match (&baseline.change, &current.change) {
        (Some(before), Some(now)) if before.routes == now.routes => {
            let at = format!("one change at {} routes", now.routes);
            measures.push(MeasureComparison {
                measure: format!("{at}: reload → new answer (ms)"),
                values: (before.answer_ms.median, now.answer_ms.median),
                allowed_rise_pct: time,
            });
            measures.push(MeasureComparison {
                measure: format!("{at}: pushed (bytes)"),
                values: (before.bytes_per_change.median, now.bytes_per_change.median),
                allowed_rise_pct: size,
            });
        }
        (None, None) => {}
        (before, now) => {
            let show = |c: &Option<ChangeRow>| {
                c.as_ref().map_or_else(
                    || "not measured".to_string(),
                    |c| format!("at {} routes", c.routes),
                )
            };
            unmatched.push(format!(
                "one change: {} in the baseline, {} now",
                show(before),
                show(now)
            ));
        }
    }
    ScaleComparison {
        thresholds,
        measures,
        unmatched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(median: f64) -> Median {
        Median { median }
    }

    fn row(routes: usize, ack: f64, rss: f64, bytes: f64) -> ScaleRow {
        ScaleRow {
            routes,
            apis: routes / 10,
            apply_ms: m(ack),
            peak_rss_mib: m(rss),
            pushed_bytes: m(bytes),
        }
    }

    fn report(scales: Vec<ScaleRow>, answer: Option<f64>) -> ScaleReport {
        ScaleReport {
            scales,
            change: answer.map(|a| ChangeRow {
                routes: 10_000,
                answer_ms: m(a),
                bytes_per_change: m(4_600_000.0),
            }),
        }
    }

    #[test]
    fn within_thresholds_passes() {
        let before = report(
            vec![
                row(1000, 200.0, 40.0, 460_000.0),
                row(10_000, 1100.0, 167.0, 4_600_000.0),
            ],
            Some(730.0),
        );
        let now = report(
            vec![
                row(1000, 240.0, 41.0, 460_000.0),
                row(10_000, 1300.0, 170.0, 4_600_000.0),
            ],
            Some(800.0),
        );
        let c = compare(&before, &now, ScaleThresholds::default());
        assert!(!c.failed(), "{}", c.markdown());
        assert_eq!(c.measures.len(), 3 * 2 + 2);
        assert!(c.markdown().contains("PASS"));
    }

    #[test]
    fn a_slower_ack_or_more_memory_fails_and_is_named() {
        let before = report(vec![row(10_000, 1000.0, 160.0, 4_600_000.0)], Some(700.0));
        let now = report(vec![row(10_000, 1300.0, 180.0, 4_600_000.0)], Some(700.0));
        let c = compare(&before, &now, ScaleThresholds::default());
        assert!(c.failed());
        let names: Vec<&str> = c.regressions().iter().map(|r| r.measure.as_str()).collect();
        assert_eq!(
            names,
            [
                "10000 routes (1000 APIs): reload → ACK (ms)",
                "10000 routes (1000 APIs): control-plane peak RSS (MiB)"
            ]
        );
        assert!(c.markdown().contains("REGRESSED"));
        // Looser thresholds let the same run pass.
        let loose = ScaleThresholds {
            max_time_rise_pct: 50.0,
            max_size_rise_pct: 20.0,
        };
        assert!(!compare(&before, &now, loose).failed());
    }

    #[test]
    fn a_slower_change_fails() {
        let before = report(vec![row(10_000, 1000.0, 160.0, 4_600_000.0)], Some(700.0));
        let now = report(vec![row(10_000, 1000.0, 160.0, 4_600_000.0)], Some(1000.0));
        let c = compare(&before, &now, ScaleThresholds::default());
        assert_eq!(c.regressions().len(), 1);
        assert!(c.regressions()[0].measure.contains("reload → new answer"));
    }

    #[test]
    fn counts_in_one_run_only_are_listed_and_nothing_in_common_fails() {
        let before = report(vec![row(100, 50.0, 20.0, 46_000.0)], None);
        let now = report(vec![row(1000, 200.0, 40.0, 460_000.0)], Some(700.0));
        let c = compare(&before, &now, ScaleThresholds::default());
        assert!(c.measures.is_empty());
        assert!(c.failed());
        assert_eq!(c.unmatched.len(), 3, "{:?}", c.unmatched);
        assert!(c.markdown().contains("FAIL: nothing measured in both runs"));
    }

    #[test]
    fn a_report_as_written_parses_and_a_wrong_one_names_the_field() {
        let json = r#"{"machine": {"cpus": 2}, "repeats": 3, "xds": "Delta",
            "scales": [{"routes": 10, "apis": 1, "samples": [],
                "apply_ms": {"median": 30.5, "min": 29.0, "max": 31.0},
                "peak_rss_mib": {"median": 24.0, "min": 24.0, "max": 24.0},
                "pushed_bytes": {"median": 5000.0, "min": 5000.0, "max": 5000.0}}],
            "change": null}"#;
        let parsed = ScaleReport::parse("r.json", json).expect("a report parses");
        assert_eq!(parsed.scales[0].apply_ms.median, 30.5);
        assert_eq!(parsed.change, None);

        let broken = json.replace("\"apply_ms\"", "\"apply\"");
        let error = ScaleReport::parse("r.json", &broken).expect_err("a field is missing");
        let message = error.to_string();
        assert!(
            message.contains("r.json") && message.contains("scales[0]"),
            "{message}"
        );
        assert!(message.contains("apply_ms"), "{message}");

        let gone = ScaleReport::read(Path::new("/nonexistent/bench-control-plane.json"));
        assert!(matches!(gone, Err(BaselineError::Read { .. })));
    }
}
