//! `POST /api/configurator/1.3.0/apis/generate-k8s-resources`: apk-conf + definition → a zip
//! of the generated resources.

use std::collections::HashMap;
use std::io::Write;

use axum::extract::Query;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::error_body::ApiError;
use super::form;
use crate::apk_conf::parse_apk_conf;
use crate::deployer::DEFAULT_ORGANIZATION;
use crate::resources::{GeneratedResources, generate_resources};

/// Namespace written into resources generated for download.
pub const GENERATED_NAMESPACE: &str = "default";

pub(crate) async fn generate_k8s_resources(
    Query(query): Query<HashMap<String, String>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    match generate(query, multipart).await {
        Ok((id, zip)) => (
            [
                (CONTENT_TYPE, "application/zip".to_owned()),
                (CONTENT_DISPOSITION, format!("attachment; filename={id}.zip")),
            ],
            zip,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

async fn generate(
    query: HashMap<String, String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(String, Vec<u8>), ApiError> {
    let organization = query
        .get("organization")
        .filter(|o| !o.is_empty())
        .map_or(DEFAULT_ORGANIZATION, String::as_str);
    let form = form::read(multipart).await?;
    let conf_text = form
        .apk_configuration
        .ok_or_else(|| ApiError::missing_part("apkConfiguration"))?;
    let conf = parse_apk_conf(&conf_text)?;
    if let Some(api_type) = form.api_type
        && !api_type.eq_ignore_ascii_case(conf.api_type.as_str())
    {
        return Err(ApiError::bad_request("apiType does not match the apk-conf type"));
    }
    let generated = generate_resources(
        &conf,
        form.definition_file.as_deref(),
        organization,
        GENERATED_NAMESPACE,
    )?;
    let zip = zip_files(&generated).map_err(|error| {
        tracing::error!(%error, "zip failed");
        ApiError::internal()
    })?;
    tracing::info!(id = %generated.api_id, files = generated.files.len(), "resources generated");
    Ok((generated.api_id, zip))
}

/// The files in a deflated zip with fixed timestamps and permissions, so the bytes only
/// depend on the contents.
pub fn zip_files(generated: &GeneratedResources) -> zip::result::ZipResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, yaml) in &generated.files {
        writer.start_file(name.as_str(), options)?;
        writer.write_all(yaml.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}
