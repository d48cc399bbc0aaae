//! Configuration pushed by the control plane: token issuers and per-route authentication.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything the enforcer needs to decide on a request; swapped atomically as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnforcerConfig {
    /// Trusted token issuers (APK `TokenIssuer`).
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
    /// Authentication per route id; Envoy sends the id as `context_extensions["route"]`.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteAuth>,
}

/// One trusted JWT issuer and how to verify its signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerConfig {
    /// Name of the `TokenIssuer` resource, used in logs.
    pub name: String,
    /// Expected `iss` claim.
    pub issuer: String,
    /// Claim naming the client application (APK `consumerKeyClaim`).
    #[serde(default = "default_consumer_key_claim")]
    pub consumer_key_claim: String,
    /// Claim carrying the granted scopes (APK `scopesClaim`).
    #[serde(default = "default_scopes_claim")]
    pub scopes_claim: String,
    /// JWKS endpoint used to look keys up by `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// PEM public key or certificate, used when the token's `kid` is not in a JWKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
    /// Accepted `aud` values; empty means the audience is not checked.
    #[serde(default)]
    pub audiences: Vec<String>,
}

fn default_consumer_key_claim() -> String {
    "azp".to_owned()
}

fn default_scopes_claim() -> String {
    "scope".to_owned()
}

/// Authentication and authorization required on one route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteAuth {
    /// Security disabled: every request is allowed without credentials.
    #[serde(default)]
    pub disabled: bool,
    /// OAuth2 bearer tokens (JWTs) accepted on this route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Config>,
    /// Places where an API key may be presented.
    #[serde(default)]
    pub api_keys: Vec<ApiKeyLocation>,
    /// Scopes the token must all carry.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// API the route belongs to; API keys are issued per API.
    #[serde(default)]
    pub api: String,
}

/// Where the bearer token is read and whether it reaches the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2Config {
    /// Request header holding `Bearer <token>`.
    #[serde(default = "default_oauth2_header")]
    pub header: String,
    /// Keep the token on the upstream request; otherwise the header is removed.
    #[serde(default)]
    pub send_token_to_upstream: bool,
}

impl Default for OAuth2Config {
    fn default() -> Self {
        Self {
            header: default_oauth2_header(),
            send_token_to_upstream: false,
        }
    }
}

fn default_oauth2_header() -> String {
    "authorization".to_owned()
}

/// One place an API key may be presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyLocation {
    /// Header or query parameter.
    #[serde(rename = "in")]
    pub location: KeyIn,
    /// Header or parameter name.
    pub name: String,
}

/// Part of the request carrying an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyIn {
    /// An HTTP request header.
    Header,
    /// A URL query parameter.
    Query,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply() {
        let cfg: EnforcerConfig = serde_json::from_str(
            r#"{"issuers":[{"name":"idp","issuer":"https://idp","jwksUrl":"http://x/jwks"}],
                "routes":{"r1":{"oauth2":{},"apiKeys":[{"in":"Query","name":"apikey"}],"api":"a"}}}"#,
        )
        .unwrap();
        assert_eq!(cfg.issuers[0].consumer_key_claim, "azp");
        assert_eq!(cfg.issuers[0].scopes_claim, "scope");
        let route = &cfg.routes["r1"];
        assert_eq!(route.oauth2.as_ref().unwrap().header, "authorization");
        assert_eq!(route.api_keys[0].location, KeyIn::Query);
        assert!(!route.disabled);
    }

    #[test]
    fn unknown_fields_rejected() {
        assert!(serde_json::from_str::<RouteAuth>(r#"{"disabld":true}"#).is_err());
    }
}
