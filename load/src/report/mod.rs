//! The summary file of a run: per suite and per transaction, requests, requests/s, failures
//! and p50/p90/p99/max, written as Markdown for people and as versioned JSON for the next
//! run's `--baseline`.
//!
//! JSON format, version 1 (camelCase; times in milliseconds):
//!
//! ```json
//! {
//!   "format": "portcullis-load-summary", "version": 1,
//!   "target": "http://127.0.0.1:41234", "embedded": true,
//!   "suites": [{
//!     "suite": "jwt", "scenario": "jwt", "durationSecs": 10, "users": 20,
//!     "total": {"requests": 91234, "requestsPerSecond": 9123.4, "failures": 0,
//!               "p50Ms": 2.0, "p90Ms": 3.0, "p99Ms": 6.0, "maxMs": 21.0,
//!               "statuses": {"200": 82110, "401": 9124}},
//!     "transactions": [{"name": "GET jwt: token -> 200", "requests": 82110, …}],
//!     "distinctHosts": 0
//!   }]
//! }
//! ```
//!
//! A reader refuses another `format` or a `version` it does not know, so a future change of
//! meaning bumps `version`.

pub mod baseline;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::summary::{Counts, Summary, per_second};

/// The `format` field of every summary file.
pub const FORMAT: &str = "portcullis-load-summary";

/// The version of the format this crate writes and reads.
pub const VERSION: u32 = 1;

/// A summary file that cannot be read.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or not the shape of this version.
    #[error("{path}: not a portcullis-load summary: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Another format or version.
    #[error("{path}: format {format:?} version {version}; this tool reads {FORMAT:?} version {VERSION}")]
    Version {
        /// The file.
        path: PathBuf,
        /// Its `format`.
        format: String,
        /// Its `version`.
        version: u64,
    },
}

/// Numbers of one transaction, or of a whole suite.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Requests made.
    pub requests: usize,
    /// Requests per second over the suite's measured duration.
    pub requests_per_second: f64,
    /// Requests that failed (a transport error, an unexpected status, a failed check).
    pub failures: usize,
    /// Median response time, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Responses by status code (a string: JSON keys are, and `flatten` would not convert).
    pub statuses: BTreeMap<String, usize>,
}

impl Stats {
    fn new(counts: &Counts, duration_secs: usize) -> Self {
        Stats {
            requests: counts.requests,
            requests_per_second: per_second(counts.requests, duration_secs),
            failures: counts.failures,
            p50_ms: counts.p50_ms,
            p90_ms: counts.p90_ms,
            p99_ms: counts.p99_ms,
            max_ms: counts.max_ms,
            statuses: counts.statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
        }
    }
}

/// One transaction's numbers (serde's `flatten` cannot deny unknown fields).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionStats {
    /// Its name as goose reports it (`<METHOD> <name>`).
    pub name: String,
    /// Its numbers.
    #[serde(flatten)]
    pub stats: Stats,
}

/// One suite's run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SuiteStats {
    /// The suite (`--suite` value).
    pub suite: String,
    /// goose's scenario name (in its reports).
    pub scenario: String,
    /// Measured seconds.
    pub duration_secs: usize,
    /// The most users at once.
    pub users: usize,
    /// Every request of the suite.
    pub total: Stats,
    /// Per transaction, by name.
    pub transactions: Vec<TransactionStats>,
    /// Distinct Host values the echo backends confirmed (the many-hosts suite; 0 otherwise).
    pub distinct_hosts: usize,
}

impl SuiteStats {
    /// A suite's numbers from its summary.
    pub fn new(suite: &str, scenario: &str, summary: &Summary, distinct_hosts: usize) -> Self {
        SuiteStats {
            suite: suite.to_string(),
            scenario: scenario.to_string(),
            duration_secs: summary.duration_secs,
            users: summary.users,
            total: Stats::new(&summary.total, summary.duration_secs),
            transactions: summary
                .by_request
                .iter()
                .map(|(name, counts)| TransactionStats {
                    name: name.clone(),
                    stats: Stats::new(counts, summary.duration_secs),
                })
                .collect(),
            distinct_hosts,
        }
    }
}

/// The summary file: every suite of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunReport {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] when written by this crate.
    pub version: u32,
    /// The URL attacked.
    pub target: String,
    /// Whether it was the embedded gateway.
    pub embedded: bool,
    /// The suites, in the order they ran.
    pub suites: Vec<SuiteStats>,
}

impl RunReport {
    /// A report of the current format.
    pub fn new(target: &str, embedded: bool, suites: Vec<SuiteStats>) -> Self {
        RunReport {
            format: FORMAT.to_string(),
            version: VERSION,
            target: target.to_string(),
            embedded,
            suites,
        }
    }

    /// The suite named `suite`.
    pub fn suite(&self, suite: &str) -> Option<&SuiteStats> {
        self.suites.iter().find(|s| s.suite == suite)
    }

    /// Reads a summary file, refusing other formats and versions.
    pub fn read(path: &Path) -> Result<Self, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses a summary file's text (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ReportError> {
        let json = |source| ReportError::Json {
            path: path.to_path_buf(),
            source,
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(json)?;
        let format = value["format"].as_str().unwrap_or_default();
        let version = value["version"].as_u64().unwrap_or_default();
        if format != FORMAT || version != u64::from(VERSION) {
            return Err(ReportError::Version {
                path: path.to_path_buf(),
                format: format.to_string(),
                version,
            });
        }
        serde_json::from_value(value).map_err(json)
    }

    /// The report as pretty JSON.
    pub fn json(&self) -> String {
        // Plain data (strings, numbers, maps with integer keys) always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as a Markdown table: one bold row per suite, then its transactions.
    pub fn markdown(&self) -> String {
        let mut out = format!("# portcullis-load: {}\n\n", self.target);
        out.push_str(
            "| suite | transaction | requests | req/s | failures | p50 ms | p90 ms | p99 ms | max ms | statuses |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
        );
        for suite in &self.suites {
            row(&mut out, &suite.suite, "**all**", &suite.total);
            for transaction in &suite.transactions {
                row(
                    &mut out,
                    "",
                    &transaction.name.replace('|', "\\|"),
                    &transaction.stats,
                );
            }
        }
        let notes: Vec<String> = self
            .suites
            .iter()
            .filter(|s| s.distinct_hosts > 0)
            .map(|s| {
                format!(
                    "{}: the echo backends saw {} distinct hosts",
                    s.suite, s.distinct_hosts
                )
            })
            .collect();
        if !notes.is_empty() {
            out.push('\n');
            for note in notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        let _ = writeln!(
            out,
            "\n{} s and {} users per suite at most; statuses counted as expected (the 429s of \
             `rate-limited`'s over-limit transaction, the 401s of requests without credentials) \
             are not failures.",
            self.suites.iter().map(|s| s.duration_secs).max().unwrap_or(0),
            self.suites.iter().map(|s| s.users).max().unwrap_or(0),
        );
        out
    }

    /// Writes `<stem>.md` and `<stem>.json` beside each other; returns their paths.
    pub fn write(&self, stem: &Path) -> Result<[PathBuf; 2], ReportError> {
        let markdown = stem.with_extension("md");
        let json = stem.with_extension("json");
        for (path, text) in [(&markdown, self.markdown()), (&json, self.json())] {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|source| ReportError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::write(path, text).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok([markdown, json])
    }
}

fn row(out: &mut String, suite: &str, name: &str, s: &Stats) {
    let statuses = s
        .statuses
        .iter()
        .map(|(status, n)| format!("{status}×{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(
        out,
        "| {suite} | {name} | {} | {:.1} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {statuses} |",
        s.requests, s.requests_per_second, s.failures, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> RunReport {
        let stats = Stats {
            requests: 100,
            requests_per_second: 50.0,
            failures: 0,
            p50_ms: 1.0,
            p90_ms: 2.0,
            p99_ms: 3.0,
            max_ms: 4.0,
            statuses: BTreeMap::from([("200".into(), 90), ("401".into(), 10)]),
        };
        RunReport::new(
            "http://127.0.0.1:1",
            true,
            vec![SuiteStats {
                suite: "jwt".into(),
                scenario: "jwt".into(),
                duration_secs: 2,
                users: 2,
                total: stats.clone(),
                transactions: vec![TransactionStats {
                    name: "GET jwt: a|b".into(),
                    stats,
                }],
                distinct_hosts: 0,
            }],
        )
    }

    #[test]
    fn the_json_round_trips_and_names_its_version() -> Result<(), ReportError> {
        let report = report();
        let json = report.json();
        assert!(json.contains("\"format\": \"portcullis-load-summary\""));
        assert!(json.contains("\"version\": 1"));
        assert!(json.contains("\"p99Ms\": 3.0"));
        assert_eq!(RunReport::parse(Path::new("x.json"), &json)?, report);
        Ok(())
    }

    #[test]
    fn other_formats_and_versions_are_refused() {
        let wrong = report().json().replace("\"version\": 1", "\"version\": 2");
        let error = RunReport::parse(Path::new("old.json"), &wrong).err();
        assert!(
            matches!(error, Some(ReportError::Version { version: 2, .. })),
            "{error:?}"
        );
        let goose = r#"{"requests": []}"#;
        assert!(matches!(
            RunReport::parse(Path::new("goose.json"), goose),
            Err(ReportError::Version { .. })
        ));
    }

    #[test]
    fn the_markdown_has_a_row_per_suite_and_transaction() {
        let markdown = report().markdown();
        assert!(
            markdown
                .contains("| jwt | **all** | 100 | 50.0 | 0 | 1.00 | 2.00 | 3.00 | 4.00 | 200×90 401×10 |")
        );
        assert!(markdown.contains("|  | GET jwt: a\\|b | 100 |"), "{markdown}");
    }

    #[test]
    fn both_files_are_written_beside_each_other() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let [md, json] = report().write(&dir.path().join("deep/load-summary"))?;
        assert!(md.ends_with("deep/load-summary.md") && json.ends_with("deep/load-summary.json"));
        assert_eq!(RunReport::read(&json)?, report());
        Ok(())
    }
}
