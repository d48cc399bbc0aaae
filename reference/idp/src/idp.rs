//! The identity provider: a signing key, the registered clients, and token issuance.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use rand::RngCore as _;
use serde::Serialize;

use crate::claims::{API_KEY_TOKEN_TYPE, AccessTokenClaims, ApiKeyClaims};
use crate::config::{IdpConfig, OAuthClient};
use crate::error::IdpError;
use crate::registry::ClientRegistry;
use crate::scope;
use crate::signing::SigningKey;

/// Lifetime of an API key when the request names none.
pub const DEFAULT_API_KEY_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);
/// Longest lifetime an API key can get; longer requests are cut to this.
pub const MAX_API_KEY_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// An access token as answered by the token endpoint (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedToken {
    /// The signed JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// Granted scopes, space separated (possibly empty).
    pub scope: String,
}

/// An API key as answered by `POST /oauth2/api-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedApiKey {
    /// The signed JWT.
    #[serde(rename = "apiKey")]
    pub api_key: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// portcullis's built-in OAuth2 identity provider.
pub struct Idp {
    config: IdpConfig,
    key: SigningKey,
    clients: ClientRegistry,
}

impl Idp {
    /// An IdP with a freshly generated RSA 2048 signing key and no clients.
    pub fn new(config: IdpConfig) -> Result<Self, IdpError> {
        Self::build(config, SigningKey::generate()?)
    }

    /// An IdP signing with a fixed RSA private key (PEM, PKCS#1 or PKCS#8) and no clients.
    pub fn with_key_pem(config: IdpConfig, pem: impl AsRef<[u8]>) -> Result<Self, IdpError> {
        Self::build(config, SigningKey::from_pem(pem.as_ref())?)
    }

    fn build(config: IdpConfig, key: SigningKey) -> Result<Self, IdpError> {
        if config.issuer.is_empty() {
            return Err(IdpError::InvalidConfig("issuer is empty"));
        }
        if config.token_ttl.as_secs() == 0 {
            return Err(IdpError::InvalidConfig("token TTL must be at least one second"));
        }
        tracing::info!(issuer = %config.issuer, kid = key.kid(), "IdP signing key ready");
        Ok(Self {
            config,
            key,
            clients: ClientRegistry::default(),
        })
    }

    /// The settings this IdP runs with.
    pub fn config(&self) -> &IdpConfig {
        &self.config
    }

    /// The `kid` of the signing key.
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// Replaces all registered clients atomically.
    pub fn set_clients(&self, clients: Vec<OAuthClient>) {
        self.clients.replace(clients);
    }

    /// The public signing key(s) as a JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        let set = JwkSet {
            keys: vec![self.key.jwk().clone()],
        };
        // A JwkSet of plain strings always serializes; Null would only hide a library bug.
        serde_json::to_value(set).unwrap_or(serde_json::Value::Null)
    }

    /// Issues an access token to a registered client without checking its secret (in-process use).
    pub fn issue_token<I, S>(&self, client_id: &str, scopes: I) -> Result<IssuedToken, IdpError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let client = self.client(client_id)?;
        let joined = scopes
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        self.token_for(&client, scope::parse_scope(&joined)?)
    }

    /// Issues an API key for `apis` to a registered client without checking its secret.
    pub fn issue_api_key<I, S>(
        &self,
        client_id: &str,
        apis: I,
        validity: Option<Duration>,
    ) -> Result<IssuedApiKey, IdpError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let client = self.client(client_id)?;
        let apis: Vec<String> = apis.into_iter().map(|a| a.as_ref().to_owned()).collect();
        self.api_key_for(&client, apis, validity)
    }

    /// The client with this id and secret, if the pair is registered.
    pub(crate) fn authenticate(&self, client_id: &str, client_secret: &str) -> Option<Arc<OAuthClient>> {
        self.clients.authenticate(client_id, client_secret)
    }

    fn client(&self, client_id: &str) -> Result<Arc<OAuthClient>, IdpError> {
        self.clients
            .get(client_id)
            .ok_or_else(|| IdpError::UnknownClient(client_id.to_owned()))
    }

    /// Signs an access token for an authenticated client and the scopes it asked for.
    pub(crate) fn token_for(
        &self,
        client: &OAuthClient,
        requested: Vec<String>,
    ) -> Result<IssuedToken, IdpError> {
        let granted = scope::grant(client, requested)?.join(" ");
        let ttl = self.config.token_ttl.as_secs();
        let now = jsonwebtoken::get_current_timestamp();
        let claims = AccessTokenClaims {
            iss: self.config.issuer.clone(),
            sub: client.client_id.clone(),
            azp: client.client_id.clone(),
            aud: self
                .config
                .audience
                .clone()
                .unwrap_or_else(|| client.client_id.clone()),
            scope: granted.clone(),
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
            jti: random_uuid(),
            keytype: client.key_type.as_claim().to_owned(),
        };
        let access_token = self.key.sign(&claims)?;
        tracing::debug!(client_id = %client.client_id, scope = %granted, jti = %claims.jti, "access token issued");
        Ok(IssuedToken {
            access_token,
            token_type: "Bearer",
            expires_in: ttl,
            scope: granted,
        })
    }

    /// Signs an API key for an authenticated client; every API must be one of the client's.
    pub(crate) fn api_key_for(
        &self,
        client: &OAuthClient,
        requested: Vec<String>,
        validity: Option<Duration>,
    ) -> Result<IssuedApiKey, IdpError> {
        let mut apis: Vec<String> = Vec::with_capacity(requested.len());
        for api in requested {
            if !client.apis.contains(&api) {
                return Err(IdpError::ApiNotAllowed(format!(
                    "api `{api}` is not allowed for client `{}`",
                    client.client_id
                )));
            }
            if !apis.contains(&api) {
                apis.push(api);
            }
        }
        if apis.is_empty() {
            return Err(IdpError::ApiNotAllowed("at least one api is required".to_owned()));
        }
        let validity = match validity {
            None => DEFAULT_API_KEY_VALIDITY,
            Some(v) if v.as_secs() == 0 => {
                return Err(IdpError::InvalidValidity(
                    "must be at least one second".to_owned(),
                ));
            }
            Some(v) => v.min(MAX_API_KEY_VALIDITY),
        };
        let expires_in = validity.as_secs();
        let now = jsonwebtoken::get_current_timestamp();
        let claims = ApiKeyClaims {
            iss: self.config.issuer.clone(),
            sub: client.client_id.clone(),
            azp: client.client_id.clone(),
            token_type: API_KEY_TOKEN_TYPE.to_owned(),
            keytype: client.key_type.as_claim().to_owned(),
            apis,
            application: client.application.clone(),
            iat: now,
            jti: random_uuid(),
            exp: now.saturating_add(expires_in),
        };
        let api_key = self.key.sign(&claims)?;
        tracing::debug!(client_id = %client.client_id, apis = ?claims.apis, jti = %claims.jti, "API key issued");
        Ok(IssuedApiKey { api_key, expires_in })
    }
}

impl std::fmt::Debug for Idp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idp")
            .field("config", &self.config)
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// A random (version 4) UUID, the shape APK uses for `jti`.
fn random_uuid() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_distinct() {
        let a = random_uuid();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(a, random_uuid());
    }

    #[test]
    fn rejects_unusable_config() {
        let config = IdpConfig {
            token_ttl: Duration::ZERO,
            ..IdpConfig::default()
        };
        assert!(matches!(Idp::new(config), Err(IdpError::InvalidConfig(_))));
        assert!(matches!(
            Idp::with_key_pem(IdpConfig::default(), "nope"),
            Err(IdpError::InvalidKey(_))
        ));
    }

    #[test]
    fn api_keys_only_for_the_clients_apis_with_capped_validity() {
        let idp = Idp::new(IdpConfig::default()).unwrap();
        let mut client = OAuthClient::new("c", "s");
        client.apis = vec!["pets:1.0".into()];
        idp.set_clients(vec![client]);
        assert!(matches!(
            idp.issue_api_key("c", ["orders:1.0"], None),
            Err(IdpError::ApiNotAllowed(_))
        ));
        assert!(matches!(
            idp.issue_api_key("c", [""; 0], None),
            Err(IdpError::ApiNotAllowed(_))
        ));
        assert!(matches!(
            idp.issue_api_key("c", ["pets:1.0"], Some(Duration::ZERO)),
            Err(IdpError::InvalidValidity(_))
        ));
        assert!(matches!(
            idp.issue_api_key("x", ["pets:1.0"], None),
            Err(IdpError::UnknownClient(_))
        ));
        let key = idp
            .issue_api_key("c", ["pets:1.0"], Some(Duration::from_secs(10 * 365 * 24 * 3600)))
            .unwrap();
        assert_eq!(key.expires_in, MAX_API_KEY_VALIDITY.as_secs());
        assert_eq!(
            idp.issue_api_key("c", ["pets:1.0"], None).unwrap().expires_in,
            30 * 24 * 3600
        );
    }
}
