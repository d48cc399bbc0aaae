//! JWT validation against the configured issuers.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::config::IssuerConfig;
use crate::error::{JwksError, JwtError};
use crate::jwks::JwksCache;

/// Tunables for token validation.
#[derive(Debug, Clone)]
pub struct ValidationOptions {
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Timeout of one JWKS fetch.
    pub jwks_timeout: Duration,
    /// Minimum time between two fetches of one issuer's JWKS.
    pub jwks_min_refetch: Duration,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(30),
            jwks_timeout: Duration::from_secs(2),
            jwks_min_refetch: Duration::from_secs(10),
        }
    }
}

/// The authenticated caller, extracted from a valid token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// Name of the `TokenIssuer` that signed the token.
    pub issuer_name: String,
    /// The `sub` claim, if any.
    pub subject: Option<String>,
    /// The consumer key claim (by default `azp`), if any.
    pub consumer_key: Option<String>,
    /// Granted scopes.
    pub scopes: BTreeSet<String>,
}

/// One issuer with its verification keys.
#[derive(Debug)]
struct TrustedIssuer {
    config: IssuerConfig,
    jwks: Option<Arc<JwksCache>>,
    pem_key: Option<DecodingKey>,
}

/// Validates JWTs for a fixed set of issuers; rebuilt when the configuration changes.
#[derive(Debug)]
pub struct JwtValidator {
    issuers: HashMap<String, TrustedIssuer>,
    leeway: u64,
}

impl JwtValidator {
    /// Builds a validator; issuers whose PEM cannot be parsed keep only their JWKS.
    ///
    /// JWKS caches of `previous` are kept for URLs that did not change, so a config push does
    /// not make every issuer's keys be fetched again.
    pub fn new(
        issuers: &[IssuerConfig],
        client: &reqwest::Client,
        options: &ValidationOptions,
        previous: Option<&JwtValidator>,
    ) -> Self {
        let kept: HashMap<&str, &Arc<JwksCache>> = previous
            .into_iter()
            .flat_map(|v| v.issuers.values())
            .filter_map(|t| t.jwks.as_ref())
            .map(|cache| (cache.url(), cache))
            .collect();
        let issuers = issuers
            .iter()
            .map(|config| {
                let jwks = config.jwks_url.as_deref().map(|url| match kept.get(url) {
                    Some(cache) => Arc::clone(cache),
                    None => Arc::new(JwksCache::new(
                        url.to_owned(),
                        client.clone(),
                        options.jwks_min_refetch,
                    )),
                });
                let pem_key = config
                    .certificate_pem
                    .as_deref()
                    .and_then(|pem| parse_pem(&config.name, pem));
                (
                    config.issuer.clone(),
                    TrustedIssuer {
                        config: config.clone(),
                        jwks,
                        pem_key,
                    },
                )
            })
            .collect();
        Self {
            issuers,
            leeway: options.leeway.as_secs(),
        }
    }

    /// Verifies `token` and returns its principal.
    pub async fn validate(&self, token: &str) -> Result<Principal, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| JwtError::Malformed(e.to_string()))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(JwtError::Algorithm(header.alg));
        }
        let iss = unverified_issuer(token)?;
        let trusted = self.issuers.get(&iss).ok_or(JwtError::UnknownIssuer(iss))?;
        let key = trusted.key(header.kid.as_deref()).await?;

        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_issuer(&[&trusted.config.issuer]);
        if trusted.config.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&trusted.config.audiences);
        }
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => JwtError::Expired,
                    _ => JwtError::Invalid(e),
                }
            })?;
        let claims = data.claims;
        Ok(Principal {
            issuer_name: trusted.config.name.clone(),
            subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            consumer_key: claims
                .get(&trusted.config.consumer_key_claim)
                .and_then(Value::as_str)
                .map(str::to_owned),
            scopes: scopes(claims.get(&trusted.config.scopes_claim)),
        })
    }
}

impl TrustedIssuer {
    async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, JwksError> {
        match (&self.jwks, &self.pem_key) {
            (Some(jwks), None) => jwks.key(kid).await,
            (Some(jwks), Some(pem)) => match jwks.key(kid).await {
                Ok(key) => Ok(key),
                Err(error) => {
                    tracing::debug!(issuer = %self.config.name, %error, "JWKS miss; using the PEM key");
                    Ok(pem.clone())
                }
            },
            (None, Some(pem)) => Ok(pem.clone()),
            (None, None) => Err(JwksError::NotConfigured),
        }
    }
}

fn parse_pem(issuer: &str, pem: &str) -> Option<DecodingKey> {
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).or_else(|_| DecodingKey::from_ec_pem(pem.as_bytes()));
    match key {
        Ok(key) => Some(key),
        Err(error) => {
            tracing::warn!(%issuer, %error, "issuer certificate is not a usable RSA or EC key");
            None
        }
    }
}

/// Reads `iss` from the payload without verifying it, only to pick the issuer's keys.
fn unverified_issuer(token: &str) -> Result<String, JwtError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| JwtError::Malformed("no payload".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| JwtError::Malformed(e.to_string()))?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|e| JwtError::Malformed(e.to_string()))?;
    match claims.get("iss") {
        Some(Value::String(iss)) => Ok(iss.clone()),
        _ => Err(JwtError::Malformed("no iss claim".into())),
    }
}

/// Scopes from a space-separated string or an array of strings.
pub fn scopes(claim: Option<&Value>) -> BTreeSet<String> {
    match claim {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_from_string_or_array() {
        let expected: BTreeSet<String> = ["a", "b"].into_iter().map(String::from).collect();
        assert_eq!(scopes(Some(&json!("a  b"))), expected);
        assert_eq!(scopes(Some(&json!(["a", "b", 3]))), expected);
        assert!(scopes(Some(&json!(42))).is_empty());
        assert!(scopes(None).is_empty());
    }

    #[test]
    fn issuer_read_from_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://idp"}"#);
        assert_eq!(
            unverified_issuer(&format!("h.{payload}.s")).unwrap(),
            "https://idp"
        );
        let no_iss = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        assert!(matches!(
            unverified_issuer(&format!("h.{no_iss}.s")),
            Err(JwtError::Malformed(_))
        ));
        assert!(matches!(
            unverified_issuer("h.!!!.s"),
            Err(JwtError::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn rejects_hs256_and_unknown_issuer() {
        let client = reqwest::Client::new();
        let validator = JwtValidator::new(&[], &client, &ValidationOptions::default(), None);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://idp"}"#);
        let hs = format!("{header}.{payload}.c2ln");
        assert!(matches!(
            validator.validate(&hs).await,
            Err(JwtError::Algorithm(_))
        ));
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let rs = format!("{header}.{payload}.c2ln");
        assert!(matches!(
            validator.validate(&rs).await,
            Err(JwtError::UnknownIssuer(_))
        ));
    }
}
