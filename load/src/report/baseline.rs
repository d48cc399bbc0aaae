//! `--baseline`: this run's summary against a previous one, suite by suite. A suite regressed
//! when its throughput dropped, or its p99 rose, by more than the thresholds allow.

use std::fmt::Write as _;

use super::{RunReport, SuiteStats};

/// How much worse a suite may get before the comparison fails, in percent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// The largest allowed drop of requests/s, percent of the baseline's.
    pub max_throughput_drop_pct: f64,
    /// The largest allowed rise of p99, percent of the baseline's.
    pub max_p99_rise_pct: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_throughput_drop_pct: 10.0,
            max_p99_rise_pct: 25.0,
        }
    }
}

/// One suite in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct SuiteComparison {
    /// The suite.
    pub suite: String,
    /// Requests/s before and now.
    pub requests_per_second: (f64, f64),
    /// p99 before and now, ms.
    pub p99_ms: (f64, f64),
    /// What got worse past a threshold; empty when the suite passes.
    pub regressions: Vec<String>,
}

impl SuiteComparison {
    /// Change of requests/s, percent (None when the baseline had none).
    pub fn throughput_change_pct(&self) -> Option<f64> {
        change_pct(self.requests_per_second.0, self.requests_per_second.1)
    }

    /// Change of p99, percent (None when the baseline's was 0).
    pub fn p99_change_pct(&self) -> Option<f64> {
        change_pct(self.p99_ms.0, self.p99_ms.1)
    }
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The thresholds applied.
    pub thresholds: Thresholds,
    /// Suites in both runs, in this run's order.
    pub suites: Vec<SuiteComparison>,
    /// Suites of this run the baseline lacks (not compared).
    pub new: Vec<String>,
    /// Suites of the baseline this run lacks.
    pub gone: Vec<String>,
}

impl Comparison {
    /// Whether the comparison fails: a suite regressed, or no suite was in both runs (a gate
    /// that compared nothing must not pass).
    pub fn failed(&self) -> bool {
        self.suites.is_empty() || self.suites.iter().any(|s| !s.regressions.is_empty())
    }

    /// The comparison as a Markdown table, with a verdict line.
    pub fn markdown(&self) -> String {
        let mut out = String::from(
            "| suite | req/s before | req/s now | change | p99 ms before | p99 ms now | change | verdict |\n\
             |---|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for s in &self.suites {
            let verdict = if s.regressions.is_empty() {
                "ok".to_string()
            } else {
                format!("**REGRESSED**: {}", s.regressions.join("; "))
            };
            let _ = writeln!(
                out,
                "| {} | {:.1} | {:.1} | {} | {:.2} | {:.2} | {} | {verdict} |",
                s.suite,
                s.requests_per_second.0,
                s.requests_per_second.1,
                percent(s.throughput_change_pct()),
                s.p99_ms.0,
                s.p99_ms.1,
                percent(s.p99_change_pct()),
            );
        }
        for suite in &self.new {
            let _ = writeln!(
                out,
                "| {suite} | – | – | – | – | – | – | new: not in the baseline |"
            );
        }
        for suite in &self.gone {
            let _ = writeln!(out, "| {suite} | – | – | – | – | – | – | not run this time |");
        }
        let _ = writeln!(
            out,
            "\nThresholds: throughput may drop {}%, p99 may rise {}%. {}",
            self.thresholds.max_throughput_drop_pct,
            self.thresholds.max_p99_rise_pct,
            if self.suites.is_empty() {
                "FAIL: no suite in common with the baseline."
            } else if self.failed() {
                "FAIL."
            } else {
                "PASS."
            }
        );
        out
    }
}

/// Compares `current` with `baseline`, suite by suite.
pub fn compare(baseline: &RunReport, current: &RunReport, thresholds: Thresholds) -> Comparison {
    let mut suites = Vec::new();
    let mut new = Vec::new();
    for now in &current.suites {
        match baseline.suite(&now.suite) {
            Some(before) => suites.push(suite(before, now, thresholds)),
            None => new.push(now.suite.clone()),
        }
    }
    let gone = baseline
        .suites
        .iter()
        .filter(|s| current.suite(&s.suite).is_none())
        .map(|s| s.suite.clone())
        .collect();
    Comparison {
        thresholds,
        suites,
        new,
        gone,
    }
}

fn suite(before: &SuiteStats, now: &SuiteStats, thresholds: Thresholds) -> SuiteComparison {
    let mut comparison = SuiteComparison {
        suite: now.suite.clone(),
        requests_per_second: (before.total.requests_per_second, now.total.requests_per_second),
        p99_ms: (before.total.p99_ms, now.total.p99_ms),
        regressions: Vec::new(),
    };
    if let Some(change) = comparison.throughput_change_pct()
        && -change > thresholds.max_throughput_drop_pct
    {
        comparison.regressions.push(format!(
            "throughput dropped {:.1}% (max {}%)",
            -change, thresholds.max_throughput_drop_pct
        ));
    }
    if let Some(change) = comparison.p99_change_pct()
        && change > thresholds.max_p99_rise_pct
    {
        comparison.regressions.push(format!(
            "p99 rose {change:.1}% (max {}%)",
            thresholds.max_p99_rise_pct
        ));
    }
    comparison
}

/// How much `now` differs from `before`, in percent of `before`; `None` when `before` is not
/// a positive number or either is not finite (nothing to compare against). Every baseline
/// comparison (load suites, benchmarks) measures change this way.
pub fn change_pct(before: f64, now: f64) -> Option<f64> {
    (before > 0.0 && before.is_finite() && now.is_finite()).then(|| (now - before) / before * 100.0)
}

fn percent(change: Option<f64>) -> String {
    change.map_or_else(|| "–".to_string(), |c| format!("{c:+.1}%"))
}

#[cfg(test)]
mod tests {
    use super::super::Stats;
    use super::*;

    fn run(suites: &[(&str, f64, f64)]) -> RunReport {
        RunReport::new(
            "http://gateway",
            false,
            suites
                .iter()
                .map(|(name, rps, p99)| SuiteStats {
                    suite: name.to_string(),
                    scenario: name.to_string(),
                    duration_secs: 10,
                    users: 20,
                    total: Stats {
                        requests: (rps * 10.0) as usize,
                        requests_per_second: *rps,
                        p99_ms: *p99,
                        ..Stats::default()
                    },
                    ..SuiteStats::default()
                })
                .collect(),
        )
    }

    const THRESHOLDS: Thresholds = Thresholds {
        max_throughput_drop_pct: 10.0,
        max_p99_rise_pct: 20.0,
    };

    #[test]
    fn changes_within_the_thresholds_pass() {
        let before = run(&[("plain", 1000.0, 5.0), ("jwt", 800.0, 6.0)]);
        // 9% slower, p99 +19%; the other suite faster and quicker.
        let now = run(&[("plain", 910.0, 5.95), ("jwt", 900.0, 4.0)]);
        let comparison = compare(&before, &now, THRESHOLDS);
        assert!(!comparison.failed(), "{}", comparison.markdown());
        assert_eq!(comparison.suites.len(), 2);
        assert!(comparison.markdown().contains("PASS."));
        assert!(
            comparison
                .markdown()
                .contains("| plain | 1000.0 | 910.0 | -9.0% |")
        );
    }

    #[test]
    fn a_throughput_drop_past_the_threshold_fails() {
        let before = run(&[("plain", 1000.0, 5.0), ("jwt", 800.0, 6.0)]);
        let now = run(&[("plain", 890.0, 5.0), ("jwt", 800.0, 6.0)]);
        let comparison = compare(&before, &now, THRESHOLDS);
        assert!(comparison.failed());
        assert_eq!(
            comparison.suites[0].regressions,
            ["throughput dropped 11.0% (max 10%)"]
        );
        assert!(comparison.suites[1].regressions.is_empty());
        assert!(comparison.markdown().contains("**REGRESSED**"));
    }

    #[test]
    fn a_p99_rise_past_the_threshold_fails() {
        let before = run(&[("jwt", 800.0, 5.0)]);
        let now = run(&[("jwt", 820.0, 6.5)]);
        let comparison = compare(&before, &now, THRESHOLDS);
        assert!(comparison.failed());
        assert_eq!(comparison.suites[0].regressions, ["p99 rose 30.0% (max 20%)"]);
    }

    #[test]
    fn suites_on_one_side_only_are_listed_and_nothing_in_common_fails() {
        let before = run(&[("plain", 1000.0, 5.0), ("mixed", 10.0, 1.0)]);
        let now = run(&[("plain", 1000.0, 5.0), ("jwt", 800.0, 6.0)]);
        let comparison = compare(&before, &now, THRESHOLDS);
        assert!(!comparison.failed());
        assert_eq!(
            (comparison.new.clone(), comparison.gone.clone()),
            (vec!["jwt".to_string()], vec!["mixed".to_string()])
        );
        let disjoint = compare(
            &run(&[("mixed", 1.0, 1.0)]),
            &run(&[("jwt", 1.0, 1.0)]),
            THRESHOLDS,
        );
        assert!(disjoint.failed());
        assert!(disjoint.markdown().contains("no suite in common"));
    }

    #[test]
    fn a_baseline_without_throughput_compares_nothing_it_cannot() {
        let comparison = compare(
            &run(&[("plain", 0.0, 0.0)]),
            &run(&[("plain", 5.0, 9.0)]),
            THRESHOLDS,
        );
        assert!(!comparison.failed());
        assert_eq!(comparison.suites[0].throughput_change_pct(), None);
    }
}
