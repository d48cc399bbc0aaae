//! `dp.wso2.com/v1alpha2` Authentication: which credentials an API or a route rule accepts.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyTargetReference;

/// The desired state of an Authentication policy.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha2",
    kind = "Authentication",
    root = "Authentication",
    plural = "authentications",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationSpec {
    /// Applies unless a more specific Authentication sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<AuthSpec>,
    /// Wins over anything more specific.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#override: Option<AuthSpec>,
    /// The API (or resource) it applies to; unused when attached as an `ExtensionRef` filter.
    #[serde(default)]
    pub target_ref: PolicyTargetReference,
}

/// Authentication settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// Turns every authentication off: requests pass without credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// The accepted schemes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_types: Option<ApiAuth>,
}

/// The accepted authentication schemes.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiAuth {
    /// OAuth2 bearer tokens.
    #[serde(default)]
    pub oauth2: Oauth2Auth,
    /// API keys, by header or query parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Vec<ApiKeyAuth>>,
    /// Raw JWTs in a custom header.
    #[serde(default)]
    pub jwt: JwtAuth,
    /// Mutual TLS (parsed so APK manifests load; not enforced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls: Option<serde_json::Value>,
}

/// OAuth2 bearer tokens.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Oauth2Auth {
    /// `mandatory` (default) or `optional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    /// Turns OAuth2 off.
    #[serde(default)]
    pub disabled: bool,
    /// Header carrying `Bearer <token>`; `authorization` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Keep the token on the request to the backend.
    #[serde(default)]
    pub send_token_to_upstream: bool,
}

/// Raw JWTs in a header (APK's `JWT` scheme); off unless `disabled: false`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JwtAuth {
    /// Turns the scheme off; APK's default is `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Header carrying the token; `internal-key` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Keep the token on the request to the backend.
    #[serde(default)]
    pub send_token_to_upstream: bool,
    /// Accepted audiences; empty accepts any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
}

/// One place an API key may be presented.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyAuth {
    /// `Header` or `Query`.
    #[serde(default, rename = "in")]
    pub location: String,
    /// Header or parameter name.
    #[serde(default)]
    pub name: String,
    /// Keep the key on the request to the backend.
    #[serde(default)]
    pub send_token_to_upstream: bool,
}
