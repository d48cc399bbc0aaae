//! Public metadata: the JWKS and the OpenID discovery document.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::uri::Authority;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::OAuthError;
use crate::idp::Idp;

pub(super) async fn jwks(State(idp): State<Arc<Idp>>) -> Json<serde_json::Value> {
    Json(idp.jwks())
}

pub(super) async fn openid_configuration(State(idp): State<Arc<Idp>>, headers: HeaderMap) -> Response {
    let base = match base_url(idp.config().public_base_url.as_deref(), &headers) {
        Ok(base) => base,
        Err(err) => return err.into_response(),
    };
    Json(json!({
        "issuer": idp.config().issuer,
        "token_endpoint": format!("{base}/oauth2/token"),
        "jwks_uri": format!("{base}/oauth2/jwks"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["token"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

/// The configured external base, or `<scheme>://<Host>` with the scheme Envoy forwarded.
fn base_url(configured: Option<&str>, headers: &HeaderMap) -> Result<String, OAuthError> {
    if let Some(base) = configured {
        return Ok(base.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Authority>().ok())
        .ok_or_else(|| OAuthError::invalid_request("missing or invalid Host header"))?;
    let scheme = match headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) {
        Some(proto) if proto.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    Ok(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn base_url_prefers_configuration_then_host() {
        let mut headers = HeaderMap::new();
        assert!(base_url(None, &headers).is_err());
        assert_eq!(
            base_url(Some("https://idp.am.wso2.com:9095/"), &headers).unwrap(),
            "https://idp.am.wso2.com:9095"
        );
        headers.insert(header::HOST, HeaderValue::from_static("idp.am.wso2.com:9095"));
        assert_eq!(base_url(None, &headers).unwrap(), "http://idp.am.wso2.com:9095");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(base_url(None, &headers).unwrap(), "https://idp.am.wso2.com:9095");
        headers.insert(header::HOST, HeaderValue::from_static("a/b\"c"));
        assert!(base_url(None, &headers).is_err());
    }
}
