//! The multipart form of generate-k8s-resources and deploy: `apkConfiguration`,
//! `definitionFile` and an optional `apiType`. Client file names are never used.

use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};

use super::error_body::ApiError;

/// The parts read; the last of a repeated part wins.
#[derive(Debug, Default)]
pub(crate) struct ApkForm {
    pub apk_configuration: Option<String>,
    pub definition_file: Option<String>,
    pub api_type: Option<String>,
}

/// Reads the form.
pub(crate) async fn read(multipart: Result<Multipart, MultipartRejection>) -> Result<ApkForm, ApiError> {
    let mut multipart = multipart
        .map_err(|rejection| ApiError::unreadable_body(rejection.status(), &rejection.body_text()))?;
    let unreadable = |error: MultipartError| ApiError::unreadable_body(error.status(), &error.body_text());
    let mut form = ApkForm::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let slot = match field.name() {
            Some("apkConfiguration") => &mut form.apk_configuration,
            Some("definitionFile") => &mut form.definition_file,
            Some("apiType") => &mut form.api_type,
            _ => continue,
        };
        let bytes = field.bytes().await.map_err(unreadable)?;
        *slot = Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    Ok(form)
}
