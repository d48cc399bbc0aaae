//! Fetching a definition from a URL given in the form, as APK does: plain GET, no redirects,
//! 200 only — plus a timeout and a size cap.

use std::time::Duration;

use super::error_body::ApiError;

/// Time allowed for the whole fetch.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest definition accepted from a URL.
pub(crate) const FETCH_LIMIT: usize = 10 * 1024 * 1024;

/// GETs `url` and returns its body as text.
pub(crate) async fn fetch_definition(url: &str) -> Result<String, ApiError> {
    // APK takes only these two prefixes, in lower case.
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ApiError::invalid_url(
            "Invalid url provided for openapi definition",
        ));
    }
    let parsed = reqwest::Url::parse(url).map_err(|error| {
        ApiError::invalid_url(&format!("Invalid url provided for openapi definition: {error}"))
    })?;
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| {
            tracing::error!(%error, "could not build the HTTP client");
            ApiError::internal()
        })?;
    let mut response = client.get(parsed).send().await.map_err(|error| {
        tracing::warn!(%url, %error, "definition could not be fetched");
        ApiError::internal()
    })?;
    if response.status() != reqwest::StatusCode::OK {
        tracing::warn!(%url, status = %response.status(), "definition URL did not answer 200");
        return Err(ApiError::invalid_url(
            "Invalid url provided for openapi definition",
        ));
    }
    let too_large =
        || ApiError::invalid_url(&format!("The definition at the url exceeds {FETCH_LIMIT} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > FETCH_LIMIT as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| {
        tracing::warn!(%url, %error, "definition body could not be read");
        ApiError::internal()
    })? {
        if body.len() + chunk.len() > FETCH_LIMIT {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}
