//! The generate-configuration endpoint over real HTTP on 127.0.0.1.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use portcullis_config_service::apk_conf::ApiType;
use portcullis_config_service::definition::generate_apk_conf;
use portcullis_config_service::http::GENERATE_CONFIGURATION_PATH;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn serve(router: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

async fn post(form: Form) -> anyhow::Result<(u16, String, String)> {
    let addr = serve(portcullis_config_service::router()).await?;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{GENERATE_CONFIGURATION_PATH}"))
        .multipart(form)
        .send()
        .await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, content_type, response.text().await?))
}

fn definition_part(text: String, file_name: &'static str) -> Part {
    Part::text(text).file_name(file_name)
}

fn assert_error(body: &str, code: i64, message: &str) -> Value {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!(json["code"], code, "{json}");
    assert_eq!(json["message"], message, "{json}");
    for field in ["description", "moreInfo"] {
        assert!(json[field].is_string(), "{field} missing: {json}");
    }
    assert!(json["error"].is_array(), "{json}");
    json
}

#[tokio::test]
async fn definition_file_gives_the_apk_conf_as_yaml() -> anyhow::Result<()> {
    let text = fixture("petstore-oas30.yaml");
    let form = Form::new()
        .part("definition", definition_part(text.clone(), "petstore.yaml"))
        .text("apiType", "REST");
    let (status, content_type, body) = post(form).await?;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/yaml"),
        "{body}"
    );
    assert_eq!(body, generate_apk_conf(&text, ApiType::Rest)?.to_yaml());
    Ok(())
}

#[tokio::test]
async fn api_type_defaults_to_rest() -> anyhow::Result<()> {
    let form = Form::new().part(
        "definition",
        definition_part(fixture("petstore-swagger20.json"), "swagger.json"),
    );
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("name: \"Pet Store Classic\""), "{body}");
    Ok(())
}

#[tokio::test]
async fn url_definition_is_fetched() -> anyhow::Result<()> {
    let text = fixture("petstore-oas31.yaml");
    let served = text.clone();
    let backend = serve(Router::new().route("/openapi.yaml", get(move || async move { served }))).await?;
    let form = Form::new()
        .text("url", format!("http://{backend}/openapi.yaml"))
        .text("apiType", "REST");
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, generate_apk_conf(&text, ApiType::Rest)?.to_yaml());
    Ok(())
}

#[tokio::test]
async fn url_that_does_not_answer_200_is_refused() -> anyhow::Result<()> {
    let backend = serve(Router::new()).await?;
    let form = Form::new().text("url", format!("http://{backend}/missing.yaml"));
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 406);
    assert_error(&body, 909044, "Invalid url provided for openapi definition");
    Ok(())
}

#[tokio::test]
async fn only_http_urls_are_fetched() -> anyhow::Result<()> {
    let (status, _, body) = post(Form::new().text("url", "file:///etc/passwd")).await?;
    assert_eq!(status, 406);
    assert_error(&body, 909044, "Invalid url provided for openapi definition");
    Ok(())
}

#[tokio::test]
async fn exactly_one_of_definition_and_url() -> anyhow::Result<()> {
    let both = Form::new()
        .part(
            "definition",
            definition_part(fixture("petstore-oas31.yaml"), "a.yaml"),
        )
        .text("url", "http://127.0.0.1:9/a.yaml");
    let (status, _, body) = post(both).await?;
    assert_eq!(status, 400);
    assert_error(&body, 90091, "Specify either definition or url");

    let (status, _, body) = post(Form::new().text("apiType", "REST")).await?;
    assert_eq!(status, 400);
    assert_error(&body, 90091, "Specify either definition or url");
    Ok(())
}

#[tokio::test]
async fn unknown_api_type_is_refused() -> anyhow::Result<()> {
    let form = Form::new()
        .part(
            "definition",
            definition_part(fixture("petstore-oas31.yaml"), "a.yaml"),
        )
        .text("apiType", "SOAP");
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 400);
    assert_error(&body, 90091, "Invalid API Type");
    Ok(())
}

#[tokio::test]
async fn graphql_is_not_supported_yet() -> anyhow::Result<()> {
    let form = Form::new()
        .part(
            "definition",
            definition_part("type Query { a: Int }".into(), "schema.graphql"),
        )
        .text("apiType", "GRAPHQL");
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 400);
    assert_error(&body, 909042, "Unsupported API type");
    Ok(())
}

#[tokio::test]
async fn invalid_definition_lists_its_problems() -> anyhow::Result<()> {
    let text = "swagger: '2.0'\ninfo: {version: '1'}\npaths:\n  /a:\n    get: {}\n";
    let form = Form::new().part("definition", definition_part(text.into(), "bad.yaml"));
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 400);
    let json = assert_error(&body, 90091, "Invalid API Definition");
    let items = json["error"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{json}");
    assert_eq!(items[0]["code"], "900754");
    assert_eq!(items[0]["message"], "Error while parsing OpenAPI definition");
    assert_eq!(
        items[1]["description"],
        "attribute paths.'/a'(get).responses is missing"
    );

    let form = Form::new().part(
        "definition",
        definition_part("asyncapi: 2.0.0\n".into(), "async.yaml"),
    );
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 400);
    let json = assert_error(&body, 90091, "Invalid API Definition");
    assert_eq!(json["error"][0]["description"], "attribute openapi is missing");
    assert_eq!(json["error"][1]["code"], "900762");
    Ok(())
}

#[tokio::test]
async fn empty_definition_is_refused() -> anyhow::Result<()> {
    let form = Form::new().part("definition", definition_part(String::new(), "empty.yaml"));
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 406);
    assert_error(&body, 909008, "Atleast one of the fields required");
    Ok(())
}

#[tokio::test]
async fn oversized_body_gets_413_in_apk_error_shape() -> anyhow::Result<()> {
    let big = "#".repeat(11 * 1024 * 1024);
    let form = Form::new().part("definition", definition_part(big, "big.yaml"));
    let (status, _, body) = post(form).await?;
    assert_eq!(status, 413, "{body}");
    assert_error(&body, 413, "Payload Too Large");
    Ok(())
}

#[tokio::test]
async fn non_multipart_body_is_a_bad_request() -> anyhow::Result<()> {
    let addr = serve(portcullis_config_service::router()).await?;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{GENERATE_CONFIGURATION_PATH}"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 400);
    assert_error(&response.text().await?, 90091, "Invalid multipart request");
    Ok(())
}
