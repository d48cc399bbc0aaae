//! The Postman importer: exact features for the fixtures, valid Gherkin, and only steps the
//! harness defines (read from the step sources themselves, so a renamed step fails here).

use std::path::PathBuf;

use cucumber::codegen::{Expression, Regex};
use cucumber::gherkin::{Feature, GherkinEnv, StepType};
use portcullis_conformance::postman::{ImportedFeature, PostmanError, UnsupportedLine, import_collection};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/postman")
        .join(name)
}

fn import(name: &str) -> anyhow::Result<ImportedFeature> {
    let json = std::fs::read_to_string(fixture(&format!("{name}.postman_collection.json")))?;
    Ok(import_collection(&json)?)
}

/// The harness's step expressions with their kinds, from the `#[given]`/`#[when]`/`#[then]`
/// attributes of the step modules.
fn harness_steps() -> anyhow::Result<Vec<(StepType, Regex)>> {
    let attribute = Regex::new(r#"#\[(given|when|then)\(\s*(expr\s*=\s*)?"((?:[^"\\]|\\.)*)"\s*\)\]"#)?;
    let mut steps = Vec::new();
    for source in [
        include_str!("../src/steps.rs"),
        include_str!("../src/apk_steps.rs"),
    ] {
        for c in attribute.captures_iter(source) {
            let kind = match &c[1] {
                "given" => StepType::Given,
                "when" => StepType::When,
                _ => StepType::Then,
            };
            let text = c[3].replace("\\\"", "\"");
            let regex = if c.get(2).is_some() {
                Expression::regex(&text).map_err(|e| anyhow::anyhow!("{text}: {e}"))?
            } else {
                Regex::new(&format!("^{}$", regex_escape(&text)))?
            };
            steps.push((kind, regex));
        }
    }
    anyhow::ensure!(steps.len() > 40, "found only {} step attributes", steps.len());
    Ok(steps)
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The steps of a feature (parsed as cucumber parses it) that match no harness step, or more
/// than one.
fn unmatched_steps(feature: &str) -> anyhow::Result<Vec<String>> {
    let parsed = Feature::parse(feature, GherkinEnv::default())
        .map_err(|e| anyhow::anyhow!("not valid Gherkin: {e}\n{feature}"))?;
    let steps = harness_steps()?;
    let background = parsed.background.iter().flat_map(|b| b.steps.iter());
    let mut unmatched = Vec::new();
    for step in background.chain(parsed.scenarios.iter().flat_map(|s| s.steps.iter())) {
        let matches = steps
            .iter()
            .filter(|(kind, re)| *kind == step.ty && re.is_match(&step.value))
            .count();
        if matches != 1 {
            unmatched.push(format!("{:?} {} ({matches} matches)", step.ty, step.value));
        }
    }
    Ok(unmatched)
}

/// Parses the feature as cucumber does and checks every step against the harness's steps.
fn assert_runs_on_harness(feature: &str) -> anyhow::Result<Feature> {
    let parsed = Feature::parse(feature, GherkinEnv::default())
        .map_err(|e| anyhow::anyhow!("not valid Gherkin: {e}\n{feature}"))?;
    assert!(parsed.scenarios.iter().all(|s| !s.steps.is_empty()));
    assert_eq!(unmatched_steps(feature)?, Vec::<String>::new());
    Ok(parsed)
}

/// The check above catches steps the harness lacks, and steps under the wrong keyword.
#[test]
fn the_step_check_rejects_unknown_and_misplaced_steps() -> anyhow::Result<()> {
    let feature = "\
Feature: f
  Scenario: s
    Given I store \"a\" as \"b\"
    When the response status is 200
    Then the moon is full
    And the response body contains \"x\"
";
    assert_eq!(
        unmatched_steps(feature)?,
        [
            "When the response status is 200 (0 matches)",
            "Then the moon is full (0 matches)"
        ]
    );
    Ok(())
}

fn unsupported(request: &str, line: &str) -> UnsupportedLine {
    UnsupportedLine {
        request: request.to_string(),
        line: line.to_string(),
    }
}

fn assert_golden(name: &str, imported: &ImportedFeature) -> anyhow::Result<()> {
    let expected = std::fs::read_to_string(fixture(&format!("{name}.feature")))?;
    assert_eq!(
        imported.feature, expected,
        "the feature for {name} changed; got:\n{}",
        imported.feature
    );
    // Every comment left in the feature is reported, and nothing else is.
    let comments = imported.feature.matches("# unsupported: ").count();
    assert_eq!(comments, imported.unsupported.len());
    Ok(())
}

#[test]
fn catalog_collection_becomes_one_scenario_per_request() -> anyhow::Result<()> {
    let imported = import("catalog")?;
    assert_golden("catalog", &imported)?;
    let parsed = assert_runs_on_harness(&imported.feature)?;
    let names: Vec<&str> = parsed.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Health",
            "Items / Reading / List items",
            "Items / Reading / Item by id",
            "Items / Create item",
            "Items / Rename item"
        ]
    );
    assert!(parsed.tags.contains(&"profile:APK".to_string()));
    assert_eq!(
        imported.unsupported,
        [
            unsupported(
                "Items / Reading / List items",
                "pm.expect(body.page.size).to.eql(20);"
            ),
            unsupported("Items / Reading / List items", "console.log(body);"),
            unsupported(
                "Items / Reading / List items",
                "pm.expect(body.items).to.have.lengthOf(3);"
            ),
            unsupported("Items / Create item", "pm.variables.set(\"now\", Date.now());"),
            unsupported(
                "Items / Create item",
                "raw body { \"name\": \"lamp | desk\", \"price\": 12.5, \"note\": \"it's bright\" }"
            ),
            unsupported("Items / Create item", "dynamic variable {{$guid}}"),
        ]
    );
    Ok(())
}

#[test]
fn folder_passing_a_token_becomes_one_scenario() -> anyhow::Result<()> {
    let imported = import("token-flow")?;
    assert_golden("token-flow", &imported)?;
    let parsed = assert_runs_on_harness(&imported.feature)?;
    let names: Vec<&str> = parsed.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Client credentials", "Independent / Ping", "Independent / Echo"]
    );
    // The table cell keeps its escaped pipe as one value.
    let chained = &parsed.scenarios[0];
    let headers = chained
        .steps
        .iter()
        .filter_map(|s| s.table.as_ref())
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no second header table"))?;
    assert_eq!(headers.rows[0], ["X-Trace", "a|b"]);
    assert_eq!(headers.rows[1], ["Authorization", "Bearer ${token}"]);
    let timing = "pm.expect(pm.response.responseTime).to.be.below(2000);";
    assert_eq!(
        imported.unsupported,
        [
            unsupported("Client credentials / Get token", timing),
            unsupported(
                "Client credentials / Get token",
                "pm.environment.set(\"when\", new Date().toISOString());"
            ),
            unsupported("Client credentials / Use token", timing),
            unsupported("Client credentials / Upload", "auth type basic"),
            unsupported("Client credentials / Upload", "body mode formdata"),
            unsupported("Client credentials / Upload", timing),
            unsupported("Independent / Ping", timing),
            unsupported("Independent / Echo", timing),
        ]
    );
    Ok(())
}

/// A collection whose top-level requests hand a value on: one scenario named after it.
#[test]
fn top_level_requests_passing_values_share_a_scenario() -> anyhow::Result<()> {
    let json = r#"{
      "info": {"name": "Root chain", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
      "item": [
        {"name": "Login", "request": {"method": "POST", "url": "https://a.example/login"},
         "event": [{"listen": "test", "script": {"exec": ["pm.environment.set('sid', pm.response.json().session.id)"]}}]},
        {"name": "Me", "request": {"method": "GET", "url": "https://a.example/me?sid={{sid}}"}}
      ]
    }"#;
    let imported = import_collection(json)?;
    let expected = "\
@profile:APK
Feature: Root chain
  Imported from a Postman collection by `portcullis scenarios import-postman`.

  Background:
    Given the base manifests are applied

  Scenario: Root chain
    # request: Login
    When I send a \"POST\" request to \"https://a.example/login\"
    Then I store the response body field \"session.id\" as \"sid\"
    # request: Me
    When I send a \"GET\" request to \"https://a.example/me?sid=${sid}\"
";
    assert_eq!(imported.feature, expected);
    assert!(imported.unsupported.is_empty());
    assert_runs_on_harness(&imported.feature)?;
    Ok(())
}

#[test]
fn invalid_json_is_named() {
    let err = import_collection("{\"info\": ").err();
    assert!(matches!(err, Some(PostmanError::Json(_))), "{err:?}");
}

#[test]
fn other_documents_are_not_collections() {
    for (json, why) in [
        (r#"{"openapi": "3.0.0"}"#, "no \"info\" object"),
        (r#"{"info": {"name": "x"}}"#, "no \"info.schema\""),
        (
            r#"{"info": {"name": "x", "schema": "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"}}"#,
            "expected a v2.1 schema",
        ),
    ] {
        match import_collection(json) {
            Err(PostmanError::NotACollection(message)) => {
                assert!(message.contains(why), "{message} should say {why}")
            }
            other => panic!("{json}: expected NotACollection, got {other:?}"),
        }
    }
}

#[test]
fn wrong_shapes_name_the_field() {
    let json = r#"{"info": {"name": "x", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
                  "item": [{"name": "a", "request": {"method": "GET", "header": "Accept: x", "url": "https://a"}}]}"#;
    match import_collection(json) {
        Err(PostmanError::Invalid { path, .. }) => assert!(path.starts_with("item[0].request"), "{path}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}
