//! Generating apk-conf documents from OpenAPI/Swagger definitions, as APK's
//! `generate-configuration` does.

use portcullis_config_service::apk_conf::{ApiType, parse_apk_conf};
use portcullis_config_service::definition::{DefinitionError, generate_apk_conf, generated_base_path};

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
fn openapi_30_petstore() -> anyhow::Result<()> {
    let conf = generate_apk_conf(&fixture("petstore-oas30.yaml"), ApiType::Rest)?;
    let yaml = conf.to_yaml();
    snapshot("generate_petstore_oas30", &yaml);
    // What the generator writes is a valid apk-conf.
    assert_eq!(parse_apk_conf(&yaml)?, conf);
    Ok(())
}

#[test]
fn swagger_20_petstore() -> anyhow::Result<()> {
    let conf = generate_apk_conf(&fixture("petstore-swagger20.json"), ApiType::Rest)?;
    let yaml = conf.to_yaml();
    snapshot("generate_petstore_swagger20", &yaml);
    assert_eq!(parse_apk_conf(&yaml)?, conf);
    Ok(())
}

#[test]
fn openapi_31_without_servers() -> anyhow::Result<()> {
    let conf = generate_apk_conf(&fixture("petstore-oas31.yaml"), ApiType::Rest)?;
    let yaml = conf.to_yaml();
    snapshot("generate_petstore_oas31", &yaml);
    assert_eq!(parse_apk_conf(&yaml)?, conf);
    Ok(())
}

/// The layout of APK's own test expectation (its `expectedAPK.apk-conf`), on a small input.
#[test]
fn matches_apk_output_byte_for_byte() -> anyhow::Result<()> {
    let definition = r#"{"openapi": "3.0.1", "info": {"title": "httpbin.org", "version": "0.9.2"},
        "servers": [{"url": "https://httpbin.org"}],
        "paths": {"/anything": {"put": {"responses": {"200": {"description": "ok"}}},
                                "get": {"responses": {"200": {"description": "ok"}}}}}}"#;
    let yaml = generate_apk_conf(definition, ApiType::Rest)?.to_yaml();
    let expected = "---\nname: \"httpbin.org\"\nbasePath: \"/aHR0cGJpbi5vcmcwLjkuMg\"\nversion: \"0.9.2\"\n\
type: \"REST\"\ndefaultVersion: false\nsubscriptionValidation: false\nendpointConfigurations:\n  production:\n  \
- endpoint: \"https://httpbin.org\"\noperations:\n- target: \"/anything\"\n  verb: \"GET\"\n  secured: true\n  \
scopes: []\n- target: \"/anything\"\n  verb: \"PUT\"\n  secured: true\n  scopes: []\n";
    assert_eq!(yaml, expected);
    Ok(())
}

#[test]
fn base_path_is_unpadded_base64_of_name_and_version() {
    assert_eq!(
        generated_base_path("httpbin.org", "0.9.2"),
        "/aHR0cGJpbi5vcmcwLjkuMg"
    );
    assert_eq!(generated_base_path("ab", "1"), "/YWIx");
    assert_eq!(generated_base_path("a", "1"), "/YTE");
}

#[test]
fn paths_with_own_servers_are_sorted_like_apk() -> anyhow::Result<()> {
    let definition = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths:\n  /b:\n    get:\n      \
servers: [{url: 'http://other'}]\n      responses: {'200': {description: ok}}\n  /a:\n    get:\n      \
responses: {'200': {description: ok}}\n";
    let conf = generate_apk_conf(definition, ApiType::Rest)?;
    let targets: Vec<&str> = conf.operations.iter().map(|o| o.target.as_str()).collect();
    assert_eq!(targets, ["/a", "/b"]);
    assert!(
        conf.operations
            .iter()
            .all(|o| o.endpoint_configurations.is_none())
    );
    Ok(())
}

#[test]
fn scope_missing_from_the_security_scheme_is_an_error() {
    let definition = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      \
security: [{default: [admin]}]\n      responses: {'200': {description: ok}}\n";
    let error = generate_apk_conf(definition, ApiType::Rest).expect_err("admin is not declared");
    assert_eq!(
        error,
        DefinitionError::UndeclaredScope {
            scope: "admin".into()
        }
    );
}

#[test]
fn structural_errors_name_the_place() {
    let definition =
        "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      summary: x\n";
    match generate_apk_conf(definition, ApiType::Rest) {
        Err(DefinitionError::Invalid(problems)) => {
            assert_eq!(problems, ["attribute paths.'/a'(get).responses is missing"])
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // Deeper shapes are checked by the OpenAPI 3.0 model: a parameter needs `in`.
    let definition = "openapi: 3.0.0\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      \
parameters: [{name: x}]\n      responses: {'200': {description: ok}}\n";
    assert!(matches!(
        generate_apk_conf(definition, ApiType::Rest),
        Err(DefinitionError::Invalid(_))
    ));
    let definition = "swagger: '2.0'\ninfo: {version: '1'}\npaths:\n  /a:\n    get: {}\n";
    match generate_apk_conf(definition, ApiType::Rest) {
        Err(DefinitionError::Invalid(problems)) => assert_eq!(
            problems,
            [
                "attribute info.title is missing",
                "attribute paths.'/a'(get).responses is missing"
            ]
        ),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn non_openapi_documents_are_refused() {
    for text in [
        "asyncapi: 2.6.0\ninfo: {title: T, version: '1'}\n",
        "just words",
        "{\"a\": [1, 2}",
    ] {
        assert!(
            matches!(
                generate_apk_conf(text, ApiType::Rest),
                Err(DefinitionError::NotOpenApi(_))
            ),
            "{text}"
        );
    }
}

#[test]
fn graphql_and_grpc_are_not_supported_yet() {
    for api_type in [ApiType::Graphql, ApiType::Grpc] {
        assert_eq!(
            generate_apk_conf("type Query { a: Int }", api_type),
            Err(DefinitionError::UnsupportedApiType(api_type))
        );
    }
}
