//! The claims the IdP signs: access tokens and API keys.

use serde::{Deserialize, Serialize};

use crate::config::ApplicationRef;

/// The `tokenType` value that marks a JWT as an API key.
pub const API_KEY_TOKEN_TYPE: &str = "apiKey";

/// Claims of a `client_credentials` access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer (the configured issuer).
    pub iss: String,
    /// Subject: the client id.
    pub sub: String,
    /// Authorized party: the client id (APK's default consumer-key claim).
    pub azp: String,
    /// Audience: the configured audience, or the client id.
    pub aud: String,
    /// Granted scopes, space separated (possibly empty).
    pub scope: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not before (= `iat`).
    pub nbf: u64,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Random token id, the handle for revocation.
    pub jti: String,
    /// `PRODUCTION` or `SANDBOX`.
    pub keytype: String,
}

/// Claims of an API key, a JWT the enforcer checks for the called API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyClaims {
    /// Issuer (the configured issuer).
    pub iss: String,
    /// Subject: the client id.
    pub sub: String,
    /// Authorized party: the client id.
    pub azp: String,
    /// Always [`API_KEY_TOKEN_TYPE`].
    #[serde(rename = "tokenType")]
    pub token_type: String,
    /// `PRODUCTION` or `SANDBOX`.
    pub keytype: String,
    /// APIs (`<apiName>:<apiVersion>`) this key may call.
    pub apis: Vec<String>,
    /// The client's application, when the client has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationRef>,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Random key id.
    pub jti: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
}
