//! Parsing apk-conf documents: full documents round-trip, APK's defaults are filled in, and
//! errors name the field and the line.

use portcullis_config_service::apk_conf::{
    Authentication, Endpoint, FieldError, Location, Policy, Requirement, parse_apk_conf,
};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "../../../snapshots/config-service", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn full_document_round_trips_in_apk_field_order() -> anyhow::Result<()> {
    let conf = parse_apk_conf(&fixture("full.apk-conf"))?;
    let yaml = conf.to_yaml();
    snapshot("apk_conf_full_round_trip", &yaml);
    assert_eq!(
        parse_apk_conf(&yaml)?,
        conf,
        "written document reads back the same"
    );
    Ok(())
}

#[test]
fn ai_document_round_trips() -> anyhow::Result<()> {
    let conf = parse_apk_conf(&fixture("ai.apk-conf"))?;
    let yaml = conf.to_yaml();
    snapshot("apk_conf_ai_round_trip", &yaml);
    assert_eq!(parse_apk_conf(&yaml)?, conf);
    Ok(())
}

#[test]
fn fills_in_apk_defaults() -> anyhow::Result<()> {
    let conf = parse_apk_conf(&fixture("full.apk-conf"))?;
    let auth = conf.authentication.as_deref().unwrap_or_default();
    let Authentication::OAuth2(oauth2) = &auth[0] else {
        panic!("first is OAuth2: {auth:?}")
    };
    assert!(oauth2.enabled && oauth2.header_enable && oauth2.send_token_to_upstream);
    assert_eq!(
        (oauth2.required, oauth2.header_name.as_str()),
        (Requirement::Mandatory, "Authorization")
    );
    let Authentication::ApiKey(api_key) = &auth[2] else {
        panic!("third is APIKey: {auth:?}")
    };
    assert_eq!(api_key.required, Requirement::Mandatory);
    assert_eq!(
        (api_key.header_name.as_str(), api_key.query_param_name.as_str()),
        ("apiKey", "apiKey")
    );
    let Authentication::Mtls(mtls) = &auth[3] else {
        panic!("fourth is mTLS: {auth:?}")
    };
    assert_eq!(mtls.required, Requirement::Optional);

    let policies = conf
        .api_policies
        .as_ref()
        .and_then(|p| p.request.as_deref())
        .unwrap_or_default();
    let Policy::BackendJwt(jwt) = &policies[0] else {
        panic!("first is BackendJwt: {policies:?}")
    };
    assert_eq!(jwt.policy_version, "v1");
    let claims = jwt
        .parameters
        .as_ref()
        .and_then(|p| p.custom_claims.as_deref())
        .unwrap_or_default();
    assert_eq!(claims[0].claim_type, "string");
    let Policy::Interceptor(interceptor) = &policies[1] else {
        panic!("second is Interceptor")
    };
    assert_eq!(interceptor.policy_version, "v2");

    assert!(conf.operations[1].is_secured(), "secured defaults to true");
    assert!(!conf.operations[0].is_secured());
    let production = conf
        .endpoint_configurations
        .production
        .as_deref()
        .unwrap_or_default();
    assert!(matches!(&production[1].endpoint, Endpoint::Service(s) if s.port == Some(8080)));
    Ok(())
}

fn errors_of(yaml: &str) -> Vec<FieldError> {
    match parse_apk_conf(yaml) {
        Ok(conf) => panic!("accepted: {conf:?}"),
        Err(error) => error.errors().to_vec(),
    }
}

const HEADER: &str = "name: \"Pets\"\nbasePath: \"/pets\"\nversion: \"1.0\"\n\
endpointConfigurations:\n  production:\n    - endpoint: \"http://backend\"\n";

#[test]
fn type_error_names_field_path_and_line() {
    let yaml = format!(
        "{HEADER}operations:\n  - target: /a\n    verb: GET\n  - target: /b\n    verb: GET\n  \
         - target: /c\n    verb: [GET]\n"
    );
    let errors = errors_of(&yaml);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "operations[2].verb");
    assert_eq!(errors[0].location.map(|l| l.line), Some(13), "{errors:?}");
    assert!(
        errors[0].message.contains("expected a string"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[0].to_string().starts_with("operations[2].verb (line 13"),
        "{}",
        errors[0]
    );
}

#[test]
fn unknown_field_is_rejected_with_its_place() {
    let yaml = format!("{HEADER}operations:\n  - target: /a\n    verb: GET\n    securedd: true\n");
    let errors = errors_of(&yaml);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.starts_with("unknown field `securedd`"),
        "{}",
        errors[0].message
    );
    assert!(errors[0].path.starts_with("operations[0]"), "{}", errors[0].path);
    assert_eq!(errors[0].location.map(|l| l.line), Some(10), "{errors:?}");
}

#[test]
fn enum_values_are_checked() {
    let yaml = format!(
        "{HEADER}operations:\n  - target: /a\n    verb: GET\nrateLimit:\n  requestsPerUnit: 5\n  unit: Week\n"
    );
    let errors = errors_of(&yaml);
    assert_eq!(errors[0].path, "rateLimit.unit");
    assert!(
        errors[0].message.contains("unknown variant `Week`"),
        "{}",
        errors[0].message
    );
    assert_eq!(errors[0].location, Some(Location { line: 12, column: 9 }));

    let yaml = format!("{HEADER}operations: []\nauthentication:\n  - authType: Basic\n");
    let errors = errors_of(&yaml);
    assert!(errors[0].path.starts_with("authentication[0]"), "{errors:?}");
    assert!(
        errors[0].message.contains("unknown variant `Basic`"),
        "{}",
        errors[0].message
    );
}

#[test]
fn missing_required_field_is_reported() {
    let errors = errors_of("name: \"Pets\"\nbasePath: \"/pets\"\nversion: \"1.0\"\noperations: []\n");
    assert!(
        errors[0]
            .message
            .contains("missing field `endpointConfigurations`"),
        "{errors:?}"
    );
}

#[test]
fn schema_rules_are_all_reported_with_lines() {
    let yaml = "name: \"Pets\"\nbasePath: \"pets\"\nversion: \"1.0 beta\"\n\
endpointConfigurations:\n  production:\n    - endpoint: \"http://backend\"\n\
operations:\n  - target: /a\n    verb: GET\n  - target: /b\n    verb: GET\n  - target: /c\n    verb: FETCH\n    \
rateLimit:\n      requestsPerUnit: 0\n      unit: Minute\n";
    let errors = errors_of(yaml);
    let found: Vec<(&str, Option<usize>)> = errors
        .iter()
        .map(|e| (e.path.as_str(), e.location.map(|l| l.line)))
        .collect();
    assert_eq!(
        found,
        vec![
            ("basePath", Some(2)),
            ("version", Some(3)),
            ("operations[2].verb", Some(13)),
            ("operations[2].rateLimit.requestsPerUnit", Some(15)),
        ],
        "{errors:?}"
    );
    assert!(errors[2].message.contains("FETCH"), "{}", errors[2].message);
}

#[test]
fn limits_at_both_levels_and_bad_response_policies_are_refused() {
    let yaml = format!(
        "{HEADER}operations:\n  - target: /a\n    verb: GET\n    rateLimit: {{requestsPerUnit: 1, unit: Hour}}\n\
rateLimit:\n  requestsPerUnit: 10\n  unit: Minute\napiPolicies:\n  response:\n    - policyName: RequestMirror\n      \
parameters:\n        urls: [\"http://m\"]\n"
    );
    let paths: Vec<String> = errors_of(&yaml).into_iter().map(|e| e.path).collect();
    assert_eq!(
        paths,
        vec!["operations[0].rateLimit", "apiPolicies.response[0].policyName"]
    );
}

#[test]
fn yaml_syntax_errors_carry_a_location() {
    let errors = errors_of("name: \"Pets\"\nbasePath: [\"/pets\"\nversion: 1\n");
    assert!(errors[0].location.is_some(), "{errors:?}");
}
