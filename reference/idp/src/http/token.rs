//! `POST /oauth2/token`: the `client_credentials` grant.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::client_auth::client_credentials;
use super::error::{OAuthError, no_store};
use super::form::FormParams;
use crate::idp::{Idp, IssuedToken};
use crate::scope::parse_scope;

/// The only grant this IdP serves.
const CLIENT_CREDENTIALS: &str = "client_credentials";

#[tracing::instrument(name = "idp.token", skip_all)]
pub(super) async fn token(
    State(idp): State<Arc<Idp>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match issue(&idp, &headers, body) {
        Ok(token) => (no_store(), Json(token)).into_response(),
        Err(err) => {
            tracing::info!(error = err.code_str(), description = %err.description, "token request refused");
            err.into_response()
        }
    }
}

fn issue(
    idp: &Idp,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<IssuedToken, OAuthError> {
    let form = FormParams::from_request(headers, body)?;
    let grant_type = form
        .single("grant_type")?
        .ok_or_else(|| OAuthError::invalid_request("missing grant_type"))?;
    if grant_type != CLIENT_CREDENTIALS {
        return Err(OAuthError::unsupported_grant_type(grant_type));
    }
    let credentials = client_credentials(headers, &form)?;
    let client = idp
        .authenticate(&credentials.id, &credentials.secret)
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))?;
    let requested = parse_scope(form.single("scope")?.unwrap_or_default())?;
    Ok(idp.token_for(&client, requested)?)
}
