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

/// Applies the shared base (with a freshly made TLS certificate), runs every scenario of the
/// Gateway API suite one at a time, and writes the reports.
pub async fn run_conformance(driver: Arc<dyn Driver>, options: &RunOptions) -> anyhow::Result<RunSummary> {
    let suite = options.features_dir.join("gateway-api");
    let base_path = suite.join("base").join("manifests.yaml");
    let base = tokio::fs::read_to_string(&base_path)
        .await
        .with_context(|| format!("reading {}", base_path.display()))?;
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
    // The base first: on a cluster the certificate's namespace must exist before it.
    driver
        .apply("base", &base)
        .await
        .context("applying the base manifests")?;
    driver
        .apply("base-certificates", &certificate)
        .await
        .context("applying the base certificate")?;
    install(driver.clone(), suite.clone());

    let results: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();
    let supported: BTreeSet<String> = driver.supported_features();
    let filter_results = results.clone();
    let filter_supported = supported.clone();
    let name_filter = options.name_filter.clone();
    let after_results = results.clone();

    let junit_path = options
        .junit
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("portcullis-junit.xml"));
    if let Some(parent) = junit_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let junit_file =
        std::fs::File::create(&junit_path).with_context(|| format!("creating {}", junit_path.display()))?;

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
                .tee::<GatewayWorld, _>(writer::JUnit::for_tee(junit_file, 0))
                .normalized(),
        )
        // The harness has its own command line; cucumber must not parse the process's.
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .filter_run(suite.clone(), move |feature, _rule, scenario| {
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
    uninstall();
    let parse_errors = writer.parsing_errors();
    let results = results.lock().map(|r| r.clone()).unwrap_or_default();
    let summary = RunSummary { results };
    if let Some(path) = &options.report {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let yaml = conformance_report(&summary.results, &supported, env!("CARGO_PKG_VERSION"))?;
        std::fs::write(path, yaml).with_context(|| format!("writing {}", path.display()))?;
    }
    anyhow::ensure!(
        parse_errors == 0,
        "{parse_errors} feature files could not be parsed"
    );
    Ok(summary)
}
