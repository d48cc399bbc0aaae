//! What the IdP is told: its own settings and the OAuth clients it knows.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// APK 1.x's default issuer for tokens from `idp.am.wso2.com`.
pub const DEFAULT_ISSUER: &str = "https://idp.am.wso2.com/token";

/// Settings of the identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpConfig {
    /// The `iss` claim of every token and API key.
    pub issuer: String,
    /// Lifetime of access tokens.
    pub token_ttl: Duration,
    /// The `aud` claim; when `None` the audience is the client id.
    pub audience: Option<String>,
    /// External base URL (`https://idp.am.wso2.com:9095`) for discovery; when `None` it is built
    /// from the request's `Host` header.
    pub public_base_url: Option<String>,
}

impl Default for IdpConfig {
    fn default() -> Self {
        Self {
            issuer: DEFAULT_ISSUER.to_owned(),
            token_ttl: Duration::from_secs(3600),
            audience: None,
            public_base_url: None,
        }
    }
}

/// Which environment a client's credentials belong to (the `keytype` claim).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyType {
    /// Production keys (`PRODUCTION`).
    #[default]
    Production,
    /// Sandbox keys (`SANDBOX`).
    Sandbox,
}

impl KeyType {
    /// The value carried in the `keytype` claim.
    pub fn as_claim(self) -> &'static str {
        match self {
            Self::Production => "PRODUCTION",
            Self::Sandbox => "SANDBOX",
        }
    }
}

/// The application a client's credentials were issued to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationRef {
    /// Application id (APK's `Application` resource name or UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Owner (subscriber).
    pub owner: String,
}

/// One OAuth2 client (consumer key and secret) registered with the IdP.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthClient {
    /// The consumer key; becomes `sub` and `azp`.
    pub client_id: String,
    /// The consumer secret; the registry keeps only its SHA-256 digest.
    pub client_secret: String,
    /// Scopes this client may be granted; `None` grants any requested scope, as APK's test IdP does.
    #[serde(default)]
    pub allowed_scopes: Option<Vec<String>>,
    /// The application behind the client, if known.
    #[serde(default)]
    pub application: Option<ApplicationRef>,
    /// Production or sandbox credentials.
    #[serde(default)]
    pub key_type: KeyType,
    /// APIs (`<apiName>:<apiVersion>`) an API key issued to this client may call.
    #[serde(default)]
    pub apis: Vec<String>,
}

impl OAuthClient {
    /// A production client with no scope restriction, no application and no APIs.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            allowed_scopes: None,
            application: None,
            key_type: KeyType::Production,
            apis: Vec::new(),
        }
    }
}

// Hand-written so the secret never reaches a log line.
impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("allowed_scopes", &self.allowed_scopes)
            .field("application", &self.application)
            .field("key_type", &self.key_type)
            .field("apis", &self.apis)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let client = OAuthClient::new("id", "s3cr3t");
        let shown = format!("{client:?}");
        assert!(shown.contains("id"));
        assert!(!shown.contains("s3cr3t"));
    }

    #[test]
    fn clients_deserialize_camel_case_with_defaults() {
        let client: OAuthClient = serde_json::from_str(
            r#"{"clientId":"a","clientSecret":"b","keyType":"SANDBOX","apis":["pets:1.0"]}"#,
        )
        .unwrap();
        assert_eq!(client.key_type, KeyType::Sandbox);
        assert_eq!(client.allowed_scopes, None);
        assert_eq!(client.apis, vec!["pets:1.0".to_owned()]);
        assert!(serde_json::from_str::<OAuthClient>(r#"{"clientId":"a","clientSecret":"b","x":1}"#).is_err());
    }
}
