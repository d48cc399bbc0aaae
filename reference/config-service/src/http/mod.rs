//! The Config Service over HTTP (`generate-configuration`, `generate-k8s-resources`) and the
//! Deployer (`deploy`, `undeploy`).

mod deploy;
mod error_body;
mod fetch;
mod form;
mod k8s;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub use deploy::{DEPLOY_PATH, UNDEPLOY_PATH, deployer_router};
pub use error_body::{ApiError, ErrorBody, ErrorItem};
pub use k8s::{GENERATED_NAMESPACE, zip_files};

use crate::apk_conf::ApiType;
use crate::definition::{DefinitionError, generate_apk_conf};

/// Path of the generator, as exposed by APK 1.3 through its gateway.
pub const GENERATE_CONFIGURATION_PATH: &str = "/api/configurator/1.3.0/apis/generate-configuration";
/// Path of the resource generator (`?organization=<org>`, `default` when absent).
pub const GENERATE_K8S_RESOURCES_PATH: &str = "/api/configurator/1.3.0/apis/generate-k8s-resources";
/// Largest request body accepted (10 MiB); larger ones get 413.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// The Config Service routes: generate-configuration and generate-k8s-resources.
pub fn router() -> Router {
    Router::new()
        .route(GENERATE_CONFIGURATION_PATH, post(generate_configuration))
        .route(GENERATE_K8S_RESOURCES_PATH, post(k8s::generate_k8s_resources))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// The multipart form of generate-configuration.
#[derive(Default)]
struct DefinitionForm {
    definition: Option<(Option<String>, Vec<u8>)>,
    url: Option<String>,
    api_type: Option<String>,
}

async fn generate_configuration(multipart: Result<Multipart, MultipartRejection>) -> Response {
    match generate(multipart).await {
        Ok(yaml) => ([(CONTENT_TYPE, "application/yaml")], yaml).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn generate(multipart: Result<Multipart, MultipartRejection>) -> Result<String, ApiError> {
    let multipart = multipart
        .map_err(|rejection| ApiError::unreadable_body(rejection.status(), &rejection.body_text()))?;
    let form = read_form(multipart).await?;
    // The checks run in APK's order: one source, then the type, then the definition.
    let (definition, url) = match (form.definition, form.url) {
        (Some(definition), None) => (Some(definition), None),
        (None, Some(url)) => (None, Some(url)),
        _ => return Err(ApiError::bad_request("Specify either definition or url")),
    };
    let api_type = match form.api_type.as_deref() {
        None => ApiType::Rest,
        Some(text) => match text.to_ascii_uppercase().as_str() {
            "REST" => ApiType::Rest,
            "GRAPHQL" => ApiType::Graphql,
            "GRPC" => ApiType::Grpc,
            _ => return Err(ApiError::bad_request("Invalid API Type")),
        },
    };
    if api_type != ApiType::Rest {
        return Err(DefinitionError::UnsupportedApiType(api_type).into());
    }
    let text = match (definition, url) {
        (_, Some(url)) => fetch::fetch_definition(&url).await?,
        (Some((file_name, content)), None) => {
            if content.is_empty() {
                return Err(ApiError::empty_definition());
            }
            if file_name.as_deref().is_some_and(|name| name.ends_with(".zip")) {
                return Err(DefinitionError::Invalid(vec![
                    "zip archives of definitions are not supported".into(),
                ])
                .into());
            }
            String::from_utf8_lossy(&content).into_owned()
        }
        (None, None) => return Err(ApiError::bad_request("Specify either definition or url")),
    };
    let conf = generate_apk_conf(&text, api_type)
        .inspect_err(|error| tracing::info!(%error, "definition rejected"))?;
    tracing::info!(name = %conf.name, version = %conf.version, "apk-conf generated");
    Ok(conf.to_yaml())
}

/// Reads the parts APK reads; the last of a repeated part wins, others are ignored.
async fn read_form(mut multipart: Multipart) -> Result<DefinitionForm, ApiError> {
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        ApiError::unreadable_body(error.status(), &error.body_text())
    };
    let mut form = DefinitionForm::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("definition") => {
                let file_name = field.file_name().map(str::to_owned);
                let content = field.bytes().await.map_err(unreadable)?;
                form.definition = Some((file_name, content.to_vec()));
            }
            Some("url") => form.url = Some(field.text().await.map_err(unreadable)?),
            Some("apiType") => form.api_type = Some(field.text().await.map_err(unreadable)?),
            _ => {}
        }
    }
    Ok(form)
}
