//! `authentication[]` entries, told apart by `authType`, with the defaults APK fills in.

use serde::{Deserialize, Serialize};

use super::types::yes;

/// One authentication method of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "authType")]
pub enum Authentication {
    /// OAuth2 bearer tokens.
    OAuth2(OAuth2Authentication),
    /// JWTs in a header.
    #[serde(rename = "JWT")]
    Jwt(JwtAuthentication),
    /// API keys in a header or the query.
    #[serde(rename = "APIKey")]
    ApiKey(ApiKeyAuthentication),
    /// Client certificates.
    #[serde(rename = "mTLS")]
    Mtls(MtlsAuthentication),
}

/// Whether a method must succeed, or may be skipped when another one passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// The method must succeed.
    Mandatory,
    /// The method may be skipped.
    Optional,
}

fn mandatory() -> Requirement {
    Requirement::Mandatory
}

fn optional() -> Requirement {
    Requirement::Optional
}

fn authorization() -> String {
    "Authorization".to_owned()
}

// APK's runtime record spells it `apiKey` (its schema says `apikey`); header names compare
// without case, and the query parameter name is the runtime's.
fn api_key() -> String {
    "apiKey".to_owned()
}

/// OAuth2 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2Authentication {
    /// Whether the method is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Mandatory (default) or optional.
    #[serde(default = "mandatory")]
    pub required: Requirement,
    /// Whether the token is passed on to the backend.
    #[serde(default)]
    pub send_token_to_upstream: bool,
    /// Header carrying the token.
    #[serde(default = "authorization")]
    pub header_name: String,
    /// Whether the header is read.
    #[serde(default = "yes")]
    pub header_enable: bool,
}

/// JWT settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtAuthentication {
    /// Whether the method is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Mandatory (default) or optional.
    #[serde(default = "mandatory")]
    pub required: Requirement,
    /// Whether the token is passed on to the backend.
    #[serde(default)]
    pub send_token_to_upstream: bool,
    /// Header carrying the token.
    #[serde(default = "authorization")]
    pub header_name: String,
    /// Whether the header is read.
    #[serde(default = "yes")]
    pub header_enable: bool,
    /// Accepted audiences (any when empty).
    #[serde(default)]
    pub audience: Vec<String>,
}

/// API-key settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyAuthentication {
    /// Whether the method is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Optional (default) or mandatory.
    #[serde(default = "optional")]
    pub required: Requirement,
    /// Whether the key is passed on to the backend.
    #[serde(default)]
    pub send_token_to_upstream: bool,
    /// Header carrying the key.
    #[serde(default = "api_key")]
    pub header_name: String,
    /// Query parameter carrying the key.
    #[serde(default = "api_key")]
    pub query_param_name: String,
    /// Whether the header is read.
    #[serde(default = "yes")]
    pub header_enable: bool,
    /// Whether the query parameter is read.
    #[serde(default)]
    pub query_param_enable: bool,
}

/// Client-certificate settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MtlsAuthentication {
    /// Whether the method is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Optional (default) or mandatory.
    #[serde(default = "optional")]
    pub required: Requirement,
    /// ConfigMaps holding the trusted client certificates.
    pub certificates: Vec<ConfigMapRef>,
}

/// A key in a ConfigMap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapRef {
    /// ConfigMap name.
    pub name: String,
    /// Key in the ConfigMap.
    pub key: String,
}
