//! apk-conf → APK resources: golden YAML, and every document loads in the gateway's model.

use portcullis_config_service::apk_conf::parse_apk_conf;
use portcullis_config_service::resources::{GenerateError, api_id, generate_resources};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn api_id_is_sha1_of_organization_name_and_version() {
    // sha1("default-PetStore-1.0"), computed independently with `sha1sum`.
    assert_eq!(
        api_id("default", "PetStore", "1.0"),
        "c0ebe1d2727b62484286687edd0b7b07eb2ef323"
    );
}

#[test]
fn generated_resources_match_golden_and_load() -> anyhow::Result<()> {
    let conf = parse_apk_conf(&fixture("resources.apk-conf"))?;
    let definition = fixture("petstore-oas30.yaml");
    let generated = generate_resources(&conf, Some(&definition), "default", "apps")?;
    assert_eq!(generated.api_id, api_id("default", "PetStore", "1.0"));
    let names: Vec<&str> = generated.files.iter().map(|(n, _)| n.as_str()).collect();
    let all = generated.to_multi_document();
    insta::with_settings!({snapshot_path => "../../../snapshots/config-service", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("resources_petstore_files", names.join("\n"));
        insta::assert_snapshot!("resources_petstore", all);
    });
    for (name, yaml) in &generated.files {
        let report = portcullis_model::parse_documents(name, yaml);
        assert!(report.errors.is_empty(), "{name}: {:?}", report.errors);
        assert!(report.skipped.is_empty(), "{name}: skipped {:?}", report.skipped);
        assert_eq!(report.resources.len(), 1, "{name}");
    }
    let report = portcullis_model::parse_documents("all", &all);
    assert!(report.errors.is_empty() && report.skipped.is_empty());
    assert_eq!(report.resources.len(), generated.files.len());
    // Same input, same bytes.
    let again = generate_resources(&conf, Some(&definition), "default", "apps")?;
    assert_eq!(again, generated);
    Ok(())
}

#[test]
fn conf_id_wins_and_sandbox_needs_endpoints() -> anyhow::Result<()> {
    let conf = parse_apk_conf(
        "id: my-api\nname: A\nbasePath: /a\nversion: v1\nendpointConfigurations:\n  production:\n    - endpoint: http://10.0.0.1\noperations:\n  - target: /x\n    verb: GET\n",
    )?;
    let generated = generate_resources(&conf, None, "org1", "ns")?;
    assert_eq!(generated.api_id, "my-api");
    let all = generated.to_multi_document();
    assert!(all.contains("org1.gw.wso2.com"), "{all}");
    assert!(
        !all.contains("sandbox-httproute") && !all.contains("sandbox.gw"),
        "{all}"
    );
    assert!(all.contains("basePath: /a/v1"), "{all}");
    assert!(!all.contains("kind: ConfigMap"), "{all}");
    Ok(())
}

#[test]
fn api_and_operation_rate_limits_together_are_rejected() -> anyhow::Result<()> {
    // The parser already refuses this; a conf built in code must be refused too.
    let mut conf = parse_apk_conf(
        "name: A\nbasePath: /a\nversion: v1\nendpointConfigurations:\n  production:\n    - endpoint: http://b\noperations:\n  - target: /x\n    verb: GET\n    rateLimit: {requestsPerUnit: 2, unit: Minute}\n",
    )?;
    conf.rate_limit = conf.operations[0].rate_limit.clone();
    assert_eq!(
        generate_resources(&conf, None, "default", "ns"),
        Err(GenerateError::ConflictingRateLimits)
    );
    Ok(())
}
