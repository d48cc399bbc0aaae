//! Runs the suites against a driver and writes the reports.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use cucumber::event::ScenarioFinished;
use cucumber::writer::Stats as _;
use cucumber::{World, WriterExt, writer};

use crate::driver::Driver;
use crate::report::{Outcome, ScenarioResult, conformance_report, missing_features, summary_table};
use crate::tls::tls_secret_yaml;
use crate::world::{GatewayWorld, install, uninstall};

/// What to run and where to write.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The `features/` folder; the Gateway API suite is its `gateway-api/` folder.
    pub features_dir: PathBuf,
    /// Where to write the upstream ConformanceReport YAML.
    pub report: Option<PathBuf>,
    /// Where to write JUnit XML.
    pub junit: Option<PathBuf>,
    /// Only scenarios whose name contains this.
    pub name_filter: Option<String>,
}

/// Every scenario's result.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// Results in the order scenarios finished (not-supported ones first).
    pub results: Vec<ScenarioResult>,
}

impl RunSummary {
    /// Scenarios that passed.
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome == Outcome::Passed)
            .count()
    }
    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count()
    }
    /// Scenarios not run because a feature is unsupported.
    pub fn not_supported(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::NotSupported(_)))
            .count()
    }
    /// The terminal table.
    pub fn table(&self) -> String {
        summary_table(&self.results)
    }
}

fn tags_of(feature: &cucumber::gherkin::Feature, scenario: &cucumber::gherkin::Scenario) -> Vec<String> {
    feature
        .tags
        .iter()
        .chain(scenario.tags.iter())
        .map(|t| t.trim_start_matches('@').to_string())
        .collect()
}

/// The suites under the features folder, in the order they run. Each has a `base/` applied
/// before its scenarios.
pub const SUITES: &[&str] = &["gateway-api", "apk", "scenarios"];

/// A JUnit document being written by cucumber, kept in memory so suites can be merged.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut inner = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("JUnit buffer poisoned"))?;
        inner.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Joins the `<testsuite>`s of several JUnit documents under one `<testsuites>`.
fn merge_junit(documents: &[String]) -> String {
    let mut body = String::new();
    for doc in documents {
        let start = doc
            .find("<testsuites")
            .and_then(|i| doc[i..].find('>').map(|j| i + j + 1));
        let end = doc.rfind("</testsuites>");
        if let (Some(start), Some(end)) = (start, end)
            && start <= end
        {
            body.push_str(&doc[start..end]);
        }
    }
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>{body}</testsuites>\n")
}

/// Applies each suite's base (the Gateway API suite also gets a freshly made TLS
/// certificate), runs its scenarios one at a time, and writes the reports.
pub async fn run_conformance(driver: Arc<dyn Driver>, options: &RunOptions) -> anyhow::Result<RunSummary> {
    let results: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let supported: BTreeSet<String> = driver.supported_features();
    let mut junit_documents = Vec::new();
    let mut parse_errors = 0;
    for suite_name in SUITES {
        let suite = options.features_dir.join(suite_name);
        if !suite.is_dir() {
            continue;
        }
        apply_base(driver.as_ref(), suite_name, &suite).await?;
        install(driver.clone(), suite.clone());
        let junit = SharedBuffer::default();
        parse_errors += run_suite(
            &suite,
            junit.clone(),
            options.name_filter.clone(),
            &supported,
            &results,
        )
        .await;
        uninstall();
        let document = junit
            .0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        junit_documents.push(document);
    }
    let results = results.lock().map(|r| r.clone()).unwrap_or_default();
    let summary = RunSummary { results };
    if let Some(path) = &options.junit {
        write_file(path, &merge_junit(&junit_documents))?;
    }
    if let Some(path) = &options.report {
        let yaml = conformance_report(&summary.results, &supported, env!("CARGO_PKG_VERSION"))?;
        write_file(path, &yaml)?;
    }
    anyhow::ensure!(
        parse_errors == 0,
        "{parse_errors} feature files could not be parsed"
    );
    Ok(summary)
}

fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

async fn apply_base(driver: &dyn Driver, suite_name: &str, suite: &std::path::Path) -> anyhow::Result<()> {
    let base_path = suite.join("base").join("manifests.yaml");
    let base = tokio::fs::read_to_string(&base_path)
        .await
        .with_context(|| format!("reading {}", base_path.display()))?;
    // The base first: on a cluster the certificate's namespace must exist before it.
    driver
        .apply(&format!("{suite_name}-base"), &base)
        .await
        .with_context(|| format!("applying {}", base_path.display()))?;
    if suite_name == "gateway-api" {
        let certificate = tls_secret_yaml(
            "gateway-conformance-infra",
            "tls-validity-checks-certificate",
            &[
                "*",
                "*.org",
                "*.wildcard.org",
                "second-example.org",
                "example.org",
            ],
        )?;
        driver
            .apply("gateway-api-base-certificates", &certificate)
            .await
            .context("applying the base certificate")?;
    }
    Ok(())
}

/// Runs one suite's scenarios; returns how many feature files could not be parsed.
async fn run_suite(
    suite: &std::path::Path,
    junit: SharedBuffer,
    name_filter: Option<String>,
    supported: &BTreeSet<String>,
    results: &Arc<Mutex<Vec<ScenarioResult>>>,
) -> usize {
    let filter_results = results.clone();
    let filter_supported = supported.clone();
    let after_results = results.clone();
    let writer = GatewayWorld::cucumber()
        .max_concurrent_scenarios(1)
        .after(move |feature, _rule, scenario, finished, world| {
            let outcome = match finished {
                ScenarioFinished::StepPassed => Outcome::Passed,
                ScenarioFinished::StepSkipped => Outcome::Failed("a step has no definition".to_string()),
                ScenarioFinished::StepFailed(_, _, error) => Outcome::Failed(error.to_string()),
                ScenarioFinished::BeforeHookFailed(_) => Outcome::Failed("before hook failed".to_string()),
            };
            if let Ok(mut results) = after_results.lock() {
                results.push(ScenarioResult {
                    feature: feature.name.clone(),
                    scenario: scenario.name.clone(),
                    tags: tags_of(feature, scenario),
                    outcome,
                });
            }
            Box::pin(async move {
                if let Some(world) = world
                    && let Err(error) = world.clean_up().await
                {
                    tracing::warn!("cleaning up after a scenario: {error:#}");
                }
            })
        })
        .with_writer(
            writer::Basic::stdout()
                .summarized()
                .tee::<GatewayWorld, _>(writer::JUnit::for_tee(junit, 0))
                .normalized(),
        )
        // The harness has its own command line; cucumber must not parse the process's.
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .filter_run(suite.to_path_buf(), move |feature, _rule, scenario| {
            if let Some(filter) = &name_filter
                && !scenario.name.contains(filter.as_str())
            {
                return false;
            }
            let tags = tags_of(feature, scenario);
            let missing = missing_features(&tags, &filter_supported);
            if missing.is_empty() {
                return true;
            }
            if let Ok(mut results) = filter_results.lock() {
                results.push(ScenarioResult {
                    feature: feature.name.clone(),
                    scenario: scenario.name.clone(),
                    tags,
                    outcome: Outcome::NotSupported(missing),
                });
            }
            false
        })
        .await;
    writer.parsing_errors()
}
