//! Reports: a summary table for people, the upstream ConformanceReport YAML, and the results
//! behind both.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// The upstream conformance profiles the suites cover: a feature file belongs to one with its
/// `@profile:<name>` tag.
pub const PROFILES: &[ConformanceProfile] = &[
    ConformanceProfile {
        name: "GATEWAY-HTTP",
        route_feature: "HTTPRoute",
        core_features: &["Gateway", "HTTPRoute", "ReferenceGrant"],
    },
    ConformanceProfile {
        name: "GATEWAY-GRPC",
        route_feature: "GRPCRoute",
        core_features: &["Gateway", "GRPCRoute", "ReferenceGrant"],
    },
];

/// An upstream conformance profile.
#[derive(Clone, Copy, Debug)]
pub struct ConformanceProfile {
    /// e.g. `GATEWAY-HTTP`.
    pub name: &'static str,
    /// The route kind that defines it: a gateway claims the profile when it supports this.
    pub route_feature: &'static str,
    /// Its core features; any other `@Support…` tag makes a scenario (and the upstream test
    /// it mirrors) extended.
    pub core_features: &'static [&'static str],
}

impl ConformanceProfile {
    /// Whether a result belongs to this profile.
    fn covers(&self, result: &ScenarioResult) -> bool {
        let tag = format!("profile:{}", self.name);
        result.tags.contains(&tag)
    }

    /// A gateway claims a profile when it supports the profile's route kind.
    fn claimed_by(&self, supported: &BTreeSet<String>) -> bool {
        supported.contains(self.route_feature)
    }

    fn is_core(&self, feature: &str) -> bool {
        self.core_features.contains(&feature)
    }
}

/// How a scenario ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every step passed.
    Passed,
    /// A step failed, with its message.
    Failed(String),
    /// The gateway does not claim every feature it needs; it was not run.
    NotSupported(Vec<String>),
}

/// One scenario's result.
#[derive(Clone, Debug)]
pub struct ScenarioResult {
    /// Feature name.
    pub feature: String,
    /// Scenario name.
    pub scenario: String,
    /// Its tags, without `@`.
    pub tags: Vec<String>,
    /// How it ended.
    pub outcome: Outcome,
}

impl ScenarioResult {
    /// The upstream features it needs (from `@Support…` tags).
    pub fn features(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix("Support").map(str::to_string))
            .collect()
    }

    /// The upstream test it mirrors, if any.
    pub fn upstream_test(&self) -> Option<&str> {
        self.tags
            .iter()
            .find_map(|t| t.strip_prefix("upstream:"))
            .filter(|t| *t != "none")
    }
}

/// Scenarios a gateway cannot run, with the features it lacks.
pub fn missing_features(tags: &[String], supported: &BTreeSet<String>) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("Support"))
        .filter(|f| !supported.contains(*f))
        .map(str::to_string)
        .collect()
}

/// Counts, as upstream spells them.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Statistics {
    /// Tests passed.
    #[serde(rename = "Passed")]
    pub passed: usize,
    /// Tests failed.
    #[serde(rename = "Failed")]
    pub failed: usize,
    /// Tests skipped.
    #[serde(rename = "Skipped")]
    pub skipped: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileSection {
    result: String,
    statistics: Statistics,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failed_tests: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped_tests: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    supported_features: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unsupported_features: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Profile {
    name: String,
    summary: String,
    core: ProfileSection,
    extended: ProfileSection,
}

#[derive(Serialize)]
struct Implementation {
    organization: String,
    project: String,
    url: String,
    version: String,
    contact: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConformanceReport {
    api_version: String,
    kind: String,
    date: String,
    #[serde(rename = "gatewayAPIChannel")]
    gateway_api_channel: String,
    #[serde(rename = "gatewayAPIVersion")]
    gateway_api_version: String,
    implementation: Implementation,
    mode: String,
    profiles: Vec<Profile>,
}

fn section(tests: &BTreeMap<String, Option<bool>>) -> ProfileSection {
    let mut statistics = Statistics::default();
    let mut failed_tests = Vec::new();
    for (name, passed) in tests {
        match passed {
            Some(true) => statistics.passed += 1,
            Some(false) => {
                statistics.failed += 1;
                failed_tests.push(name.clone());
            }
            None => statistics.skipped += 1,
        }
    }
    let result = if statistics.failed > 0 {
        "failure"
    } else if statistics.skipped > 0 {
        "partial"
    } else {
        "success"
    };
    ProfileSection {
        result: result.to_string(),
        statistics,
        failed_tests,
        skipped_tests: Vec::new(),
        supported_features: None,
        unsupported_features: None,
    }
}

/// The upstream `ConformanceReport`, as YAML, with a section for every profile of [`PROFILES`]
/// whose core features the gateway supports. Each upstream test passes when every scenario
/// mirroring it passed; tests the gateway does not support are not counted, as upstream does.
pub fn conformance_report(
    results: &[ScenarioResult],
    supported: &BTreeSet<String>,
    version: &str,
) -> anyhow::Result<String> {
    let profiles = PROFILES
        .iter()
        .filter(|p| p.claimed_by(supported))
        .map(|p| {
            let covered: Vec<&ScenarioResult> = results.iter().filter(|r| p.covers(r)).collect();
            profile(p, &covered, supported)
        })
        .collect();
    let report = ConformanceReport {
        api_version: "gateway.networking.k8s.io/v1".to_string(),
        kind: "ConformanceReport".to_string(),
        date: jiff::Timestamp::now().to_string(),
        gateway_api_channel: "standard".to_string(),
        gateway_api_version: "v1.5.1".to_string(),
        implementation: Implementation {
            organization: "portcullis".to_string(),
            project: "portcullis".to_string(),
            url: "https://portcullis.dev".to_string(),
            version: version.to_string(),
            contact: vec!["portcullis maintainers".to_string()],
        },
        mode: "default".to_string(),
        profiles,
    };
    Ok(serde_yaml::to_string(&report)?)
}

fn profile(
    profile: &ConformanceProfile,
    results: &[&ScenarioResult],
    supported: &BTreeSet<String>,
) -> Profile {
    let mut core: BTreeMap<String, Option<bool>> = BTreeMap::new();
    let mut extended: BTreeMap<String, Option<bool>> = BTreeMap::new();
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for r in results {
        let features = r.features();
        wanted.extend(features.iter().filter(|f| !profile.is_core(f)).cloned());
        let Some(test) = r.upstream_test() else { continue };
        let passed = match &r.outcome {
            Outcome::Passed => true,
            Outcome::Failed(_) => false,
            Outcome::NotSupported(_) => continue,
        };
        let is_extended = features.iter().any(|f| !profile.is_core(f));
        let bucket = if is_extended { &mut extended } else { &mut core };
        let entry = bucket.entry(test.to_string()).or_insert(Some(true));
        *entry = Some(entry.unwrap_or(true) && passed);
    }
    let core_section = section(&core);
    let mut extended_section = section(&extended);
    // Extended features of this profile: those its scenarios name, plus what is claimed of them.
    extended_section.supported_features = Some(wanted.intersection(supported).cloned().collect());
    extended_section.unsupported_features = Some(wanted.difference(supported).cloned().collect());
    let summary = format!(
        "Core tests {}. Extended tests {}.",
        if core_section.result == "success" {
            "succeeded"
        } else {
            "failed"
        },
        if extended_section.result == "success" {
            "succeeded"
        } else {
            "failed"
        },
    );
    Profile {
        name: profile.name.to_string(),
        summary,
        core: core_section,
        extended: extended_section,
    }
}

/// A table for the terminal: one row per feature with its counts, then the total.
pub fn summary_table(results: &[ScenarioResult]) -> String {
    let mut rows: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for r in results {
        let row = rows.entry(r.feature.as_str()).or_default();
        match r.outcome {
            Outcome::Passed => row[0] += 1,
            Outcome::Failed(_) => row[1] += 1,
            Outcome::NotSupported(_) => row[2] += 1,
        }
    }
    let width = rows.keys().map(|k| k.len()).max().unwrap_or(7).max(7);
    let mut out = format!(
        "{:<width$}  {:>6}  {:>6}  {:>13}\n",
        "feature", "passed", "failed", "not supported"
    );
    let mut total = [0usize; 3];
    for (feature, [p, f, n]) in &rows {
        out.push_str(&format!("{feature:<width$}  {p:>6}  {f:>6}  {n:>13}\n"));
        total[0] += p;
        total[1] += f;
        total[2] += n;
    }
    out.push_str(&format!(
        "{:<width$}  {:>6}  {:>6}  {:>13}\n",
        "total", total[0], total[1], total[2]
    ));
    for r in results {
        match &r.outcome {
            Outcome::Failed(message) => {
                out.push_str(&format!("FAILED  {} / {}: {message}\n", r.feature, r.scenario))
            }
            Outcome::NotSupported(missing) => out.push_str(&format!(
                "SKIPPED {} / {}: needs unsupported {}\n",
                r.feature,
                r.scenario,
                missing.join(", ")
            )),
            Outcome::Passed => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(test: &str, tags: &[&str], outcome: Outcome) -> ScenarioResult {
        let mut tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        tags.push(format!("upstream:{test}"));
        if !tags.iter().any(|t| t.starts_with("profile:")) {
            tags.push("profile:GATEWAY-HTTP".to_string());
        }
        ScenarioResult {
            feature: "f".into(),
            scenario: test.into(),
            tags,
            outcome,
        }
    }

    #[test]
    fn report_counts_tests_not_scenarios() -> anyhow::Result<()> {
        let supported: BTreeSet<String> = ["Gateway", "HTTPRoute", "HTTPRouteMethodMatching"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let results = vec![
            result("A", &["SupportGateway", "SupportHTTPRoute"], Outcome::Passed),
            result(
                "A",
                &["SupportGateway", "SupportHTTPRoute"],
                Outcome::Failed("x".into()),
            ),
            result("B", &["SupportGateway"], Outcome::Passed),
            result(
                "C",
                &["SupportHTTPRoute", "SupportHTTPRouteMethodMatching"],
                Outcome::Passed,
            ),
            result(
                "D",
                &["SupportHTTPRoute", "SupportHTTPRouteCORS"],
                Outcome::NotSupported(vec!["HTTPRouteCORS".into()]),
            ),
        ];
        let yaml = conformance_report(&results, &supported, "0.1.0")?;
        let value: serde_yaml::Value = serde_yaml::from_str(&yaml)?;
        let profile = &value["profiles"][0];
        assert_eq!(profile["core"]["statistics"]["Passed"], 1);
        assert_eq!(profile["core"]["statistics"]["Failed"], 1);
        assert_eq!(profile["core"]["failedTests"][0], "A");
        assert_eq!(profile["core"]["result"], "failure");
        assert_eq!(profile["extended"]["statistics"]["Passed"], 1);
        assert_eq!(profile["extended"]["unsupportedFeatures"][0], "HTTPRouteCORS");
        assert_eq!(value["kind"], "ConformanceReport");
        // GRPCRoute is not claimed: no GATEWAY-GRPC section.
        assert_eq!(value["profiles"].as_sequence().map(Vec::len), Some(1));
        Ok(())
    }

    #[test]
    fn each_claimed_profile_counts_only_its_own_scenarios() -> anyhow::Result<()> {
        let supported: BTreeSet<String> = ["Gateway", "HTTPRoute", "GRPCRoute", "ReferenceGrant"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let results = vec![
            result("H", &["SupportGateway", "SupportHTTPRoute"], Outcome::Passed),
            result(
                "G",
                &["SupportGateway", "SupportGRPCRoute", "profile:GATEWAY-GRPC"],
                Outcome::Passed,
            ),
            result(
                "GH",
                &[
                    "SupportGRPCRoute",
                    "SupportGRPCRouteHeaderMatching",
                    "profile:GATEWAY-GRPC",
                ],
                Outcome::Failed("x".into()),
            ),
        ];
        let yaml = conformance_report(&results, &supported, "0.1.0")?;
        let value: serde_yaml::Value = serde_yaml::from_str(&yaml)?;
        let (http, grpc) = (&value["profiles"][0], &value["profiles"][1]);
        assert_eq!(http["name"], "GATEWAY-HTTP");
        assert_eq!(http["core"]["statistics"]["Passed"], 1);
        assert_eq!(http["extended"]["statistics"]["Passed"], 0);
        assert_eq!(grpc["name"], "GATEWAY-GRPC");
        assert_eq!(grpc["core"]["statistics"]["Passed"], 1);
        assert_eq!(grpc["core"]["statistics"]["Failed"], 0);
        assert_eq!(grpc["extended"]["failedTests"][0], "GH");
        assert_eq!(
            grpc["extended"]["unsupportedFeatures"][0],
            "GRPCRouteHeaderMatching"
        );
        Ok(())
    }

    #[test]
    fn missing_features_are_named() {
        let supported: BTreeSet<String> = ["Gateway".to_string()].into();
        let tags = vec![
            "SupportGateway".to_string(),
            "SupportHTTPRouteCORS".to_string(),
            "upstream:X".to_string(),
        ];
        assert_eq!(
            missing_features(&tags, &supported),
            vec!["HTTPRouteCORS".to_string()]
        );
    }
}
