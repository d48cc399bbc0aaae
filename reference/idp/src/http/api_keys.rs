//! `POST /oauth2/api-keys`: API keys (signed JWTs) for a client's APIs.
//!
//! APK issues API keys from its control plane; portcullis has none, so the IdP does it.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::client_auth::client_credentials;
use super::error::{OAuthError, no_store};
use super::form::FormParams;
use crate::idp::{Idp, IssuedApiKey};

#[tracing::instrument(name = "idp.api_key", skip_all)]
pub(super) async fn api_key(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match issue(&idp, &headers, body) {
        Ok(key) => (no_store(), Json(key)).into_response(),
        Err(err) => {
            tracing::info!(error = err.code_str(), description = %err.description, "API key request refused");
            err.into_response()
        }
    }
}

fn issue(
    idp: &Idp,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<IssuedApiKey, OAuthError> {
    let form = FormParams::from_request(headers, body)?;
    let credentials = client_credentials(headers, &form)?;
    let client = idp
        .authenticate(&credentials.id, &credentials.secret)
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    let validity = form.single("validity_period")?.map(parse_validity).transpose()?;
    let apis = form.all("api").map(str::to_owned).collect();
    Ok(idp.api_key_for(&client, apis, validity)?)
}

/// `validity_period`: a positive number of seconds.
fn parse_validity(raw: &str) -> Result<Duration, OAuthError> {
    match raw.parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(OAuthError::invalid_request(
            "validity_period must be a positive number of seconds",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_is_positive_seconds() {
        assert_eq!(parse_validity("60").unwrap(), Duration::from_secs(60));
        for bad in ["0", "-1", "1.5", "", "ten", "99999999999999999999999"] {
            assert!(parse_validity(bad).is_err(), "{bad}");
        }
    }
}
