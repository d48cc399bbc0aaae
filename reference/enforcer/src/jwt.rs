//! JWT validation against the configured issuers.
//!
//! A token is parsed once: header and payload are decoded, the issuer is picked by `iss` (and
//! must be enabled for the route's environment and organization), the signature is checked with
//! the issuer's pre-parsed key for `kid`, then `exp`, `nbf` and `aud`. Claim mappings are applied
//! last, before the consumer key and scopes are read.
//!
//! Like APK's gateway token cache, a validated token is remembered (by its SHA-256, for at most
//! [`ValidationOptions::token_cache_ttl`] and never past its `exp`), so a token seen again is
//! not verified again. The cache belongs to one configuration: a push starts an empty one.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::bearer::MAX_TOKEN_LEN;
use crate::config::IssuerConfig;
use crate::error::{JwksError, JwtError};
use crate::jwks::JwksCache;
use crate::keys::{JwsAlg, VerifyKey};

/// Tunables for token validation.
#[derive(Debug, Clone)]
pub struct ValidationOptions {
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Timeout of one JWKS fetch.
    pub jwks_timeout: Duration,
    /// Minimum time between two fetches of one issuer's JWKS.
    pub jwks_min_refetch: Duration,
    /// How long a validated token is remembered (never past its `exp`); zero disables the cache.
    pub token_cache_ttl: Duration,
    /// Most tokens remembered; the cache is emptied when it is full.
    pub token_cache_capacity: usize,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        Self {
            leeway: Duration::from_secs(30),
            jwks_timeout: Duration::from_secs(2),
            jwks_min_refetch: Duration::from_secs(10),
            token_cache_ttl: Duration::from_secs(300),
            token_cache_capacity: 10_000,
        }
    }
}

/// Where a token is presented: its issuer must be enabled for this environment and organization.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenContext<'a> {
    /// APK environment of the route.
    pub environment: &'a str,
    /// Organization of the route.
    pub organization: &'a str,
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
    /// Every claim of the token, after the issuer's claim mappings.
    pub claims: Map<String, Value>,
}

impl Principal {
    /// A string claim.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// One issuer with its verification keys.
#[derive(Debug)]
struct TrustedIssuer {
    config: IssuerConfig,
    jwks: Option<Arc<JwksCache>>,
    pem_key: Option<Arc<VerifyKey>>,
}

/// A validated token, remembered by the SHA-256 of its text.
#[derive(Debug)]
struct CachedToken {
    /// Index of the issuer that validated it.
    issuer: usize,
    /// Its `iss`.
    iss: String,
    principal: Arc<Principal>,
    exp: i64,
    /// Remembered until then (at most the cache TTL after validation).
    until: i64,
}

/// Validates JWTs for a fixed set of issuers; rebuilt when the configuration changes.
#[derive(Debug)]
pub struct JwtValidator {
    issuers: Vec<TrustedIssuer>,
    /// Issuer indexes by `iss`; several may share one `iss` for different environments or
    /// organizations.
    by_iss: HashMap<String, Vec<usize>>,
    leeway: i64,
    cache_ttl: i64,
    cache_capacity: usize,
    cache: RwLock<HashMap<[u8; 32], CachedToken>>,
}

#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

impl JwtValidator {
    /// Builds a validator; issuers whose PEM cannot be parsed keep only their JWKS.
    ///
    /// Issuers sharing a JWKS URL share its cache, and caches of `previous` are kept for URLs
    /// that did not change, so a config push does not make every issuer's keys be fetched again.
    pub fn new(
        issuers: &[IssuerConfig],
        client: &reqwest::Client,
        options: &ValidationOptions,
        previous: Option<&JwtValidator>,
    ) -> Self {
        // One cache per URL, shared by every issuer using it and kept across config pushes.
        let mut caches: HashMap<String, Arc<JwksCache>> = previous
            .into_iter()
            .flat_map(|v| v.issuers.iter())
            .filter_map(|t| t.jwks.as_ref())
            .map(|cache| (cache.url().to_owned(), Arc::clone(cache)))
            .collect();
        let mut trusted = Vec::with_capacity(issuers.len());
        let mut by_iss: HashMap<String, Vec<usize>> = HashMap::new();
        for config in issuers {
            let jwks = config.jwks_url.as_deref().map(|url| {
                let cache = caches.entry(url.to_owned()).or_insert_with(|| {
                    tracing::debug!(issuer = %config.name, %url, "new JWKS cache");
                    Arc::new(JwksCache::new(
                        url.to_owned(),
                        client.clone(),
                        options.jwks_min_refetch,
                    ))
                });
                Arc::clone(cache)
            });
            let pem_key = config
                .certificate_pem
                .as_deref()
                .and_then(|pem| match VerifyKey::from_pem(pem) {
                    Ok(key) => Some(Arc::new(key)),
                    Err(reason) => {
                        tracing::warn!(issuer = %config.name, reason, "issuer certificate is not usable");
                        None
                    }
                });
            by_iss
                .entry(config.issuer.clone())
                .or_default()
                .push(trusted.len());
            trusted.push(TrustedIssuer {
                config: config.clone(),
                jwks,
                pem_key,
            });
        }
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4);
        Self {
            issuers: trusted,
            by_iss,
            leeway: secs(options.leeway),
            cache_ttl: secs(options.token_cache_ttl),
            cache_capacity: options.token_cache_capacity,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Verifies `token` for a route in `context` and returns its principal.
    pub async fn validate(&self, token: &str, context: TokenContext<'_>) -> Result<Arc<Principal>, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::TooLarge);
        }
        if self.cache_ttl <= 0 || self.cache_capacity == 0 {
            return self
                .verify(token, context)
                .await
                .map(|(_, principal, _)| principal);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        let now = now();
        {
            let cache = self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(hit) = cache.get(&key)
                && now <= hit.until
                && hit.exp.saturating_add(self.leeway) >= now
                && self.issuer_for(&hit.iss, context) == Some(hit.issuer)
            {
                return Ok(Arc::clone(&hit.principal));
            }
        }
        let (issuer, principal, exp) = self.verify(token, context).await?;
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= self.cache_capacity {
            cache.retain(|_, entry| now <= entry.until && entry.exp.saturating_add(self.leeway) >= now);
            if cache.len() >= self.cache_capacity {
                cache.clear();
            }
        }
        cache.insert(
            key,
            CachedToken {
                issuer,
                iss: self.issuers[issuer].config.issuer.clone(),
                principal: Arc::clone(&principal),
                exp,
                until: now.saturating_add(self.cache_ttl),
            },
        );
        Ok(principal)
    }

    /// Full validation: returns the issuer's index, the principal and `exp`.
    async fn verify(
        &self,
        token: &str,
        context: TokenContext<'_>,
    ) -> Result<(usize, Arc<Principal>, i64), JwtError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed("not three segments".into()));
        };
        let header: JoseHeader = serde_json::from_slice(&decode_segment(header_b64)?)
            .map_err(|e| JwtError::Malformed(format!("header: {e}")))?;
        let alg = JwsAlg::parse(&header.alg).ok_or_else(|| JwtError::Algorithm(header.alg.clone()))?;
        if header.crit.is_some() {
            return Err(JwtError::Invalid("critical header extensions are not supported"));
        }
        let claims: Map<String, Value> = serde_json::from_slice(&decode_segment(payload_b64)?)
            .map_err(|e| JwtError::Malformed(format!("payload: {e}")))?;
        let Some(Value::String(iss)) = claims.get("iss") else {
            return Err(JwtError::Malformed("no iss claim".into()));
        };
        if !self.by_iss.contains_key(iss) {
            return Err(JwtError::UnknownIssuer(iss.clone()));
        }
        let index = self
            .issuer_for(iss, context)
            .ok_or_else(|| JwtError::IssuerNotEnabled(iss.clone()))?;
        let trusted = &self.issuers[index];

        let signature = decode_segment(signature_b64)?;
        let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
        let verified = match trusted.key(header.kid.as_deref()).await {
            Ok(key) => key.verify(alg, signed.as_bytes(), &signature),
            Err(error) => return Err(error.into()),
        };
        // A PEM key of the issuer is the fallback when the JWKS key does not verify either.
        let verified = verified
            || trusted
                .pem_key
                .as_ref()
                .is_some_and(|pem| trusted.jwks.is_some() && pem.verify(alg, signed.as_bytes(), &signature));
        if !verified {
            return Err(JwtError::Invalid("signature does not verify"));
        }

        let exp = self.check_times(&claims)?;
        check_audience(&claims, &trusted.config.audiences)?;
        Ok((index, Arc::new(trusted.principal(claims)), exp))
    }

    /// The first issuer with this `iss` enabled for `context`.
    fn issuer_for(&self, iss: &str, context: TokenContext<'_>) -> Option<usize> {
        self.by_iss
            .get(iss)?
            .iter()
            .copied()
            .find(|i| self.issuers[*i].serves(context))
    }

    /// Checks `exp` (required) and `nbf`; returns `exp`.
    fn check_times(&self, claims: &Map<String, Value>) -> Result<i64, JwtError> {
        let now = now();
        let exp = match claims.get("exp") {
            Some(value) => numeric_date(value).ok_or(JwtError::Invalid("exp is not a number"))?,
            None => return Err(JwtError::Invalid("no exp claim")),
        };
        if exp.saturating_add(self.leeway) < now {
            return Err(JwtError::Expired);
        }
        if let Some(value) = claims.get("nbf") {
            let nbf = numeric_date(value).ok_or(JwtError::Invalid("nbf is not a number"))?;
            if nbf > now.saturating_add(self.leeway) {
                return Err(JwtError::Invalid("token not valid yet"));
            }
        }
        Ok(exp)
    }
}

fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX)
}

impl TrustedIssuer {
    fn serves(&self, context: TokenContext<'_>) -> bool {
        self.config.serves_environment(context.environment)
            && self.config.serves_organization(context.organization)
    }

    async fn key(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, JwksError> {
        match (&self.jwks, &self.pem_key) {
            (Some(jwks), None) => jwks.key(kid).await,
            (Some(jwks), Some(pem)) => match jwks.key(kid).await {
                Ok(key) => Ok(key),
                Err(error) => {
                    tracing::debug!(issuer = %self.config.name, %error, "JWKS miss; using the PEM key");
                    Ok(Arc::clone(pem))
                }
            },
            (None, Some(pem)) => Ok(Arc::clone(pem)),
            (None, None) => Err(JwksError::NotConfigured),
        }
    }

    fn principal(&self, mut claims: Map<String, Value>) -> Principal {
        for mapping in &self.config.claim_mappings {
            if mapping.remote_claim != mapping.local_claim
                && let Some(value) = claims.remove(&mapping.remote_claim)
            {
                claims.insert(mapping.local_claim.clone(), value);
            }
        }
        Principal {
            issuer_name: self.config.name.clone(),
            subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            consumer_key: claims
                .get(&self.config.consumer_key_claim)
                .and_then(Value::as_str)
                .map(str::to_owned),
            scopes: scopes(claims.get(&self.config.scopes_claim)),
            claims,
        }
    }
}

fn decode_segment(segment: &str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|e| JwtError::Malformed(e.to_string()))
}

/// A JWT NumericDate: seconds as an integer or a float (fraction dropped).
fn numeric_date(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        _ => None,
    }
}

/// With `accepted` audiences configured, the token's `aud` (a string or an array) must name one.
pub(crate) fn check_audience(claims: &Map<String, Value>, accepted: &[String]) -> Result<(), JwtError> {
    if accepted.is_empty() {
        return Ok(());
    }
    let matches = |aud: &str| accepted.iter().any(|a| a == aud);
    let ok = match claims.get("aud") {
        Some(Value::String(aud)) => matches(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(matches),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(JwtError::Invalid("audience not accepted"))
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
    fn audiences() {
        let claims = |aud: Value| json!({ "aud": aud }).as_object().cloned().unwrap();
        let accepted = vec!["gw".to_owned()];
        assert!(check_audience(&claims(json!("gw")), &accepted).is_ok());
        assert!(check_audience(&claims(json!(["x", "gw"])), &accepted).is_ok());
        assert!(check_audience(&claims(json!("x")), &accepted).is_err());
        assert!(check_audience(&Map::new(), &accepted).is_err());
        assert!(check_audience(&Map::new(), &[]).is_ok());
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date(&json!(10)), Some(10));
        assert_eq!(numeric_date(&json!(10.7)), Some(10));
        assert_eq!(numeric_date(&json!("10")), None);
    }

    fn validator(issuers: &[IssuerConfig]) -> JwtValidator {
        JwtValidator::new(
            issuers,
            &reqwest::Client::new(),
            &ValidationOptions::default(),
            None,
        )
    }

    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[tokio::test]
    async fn rejects_none_hmac_unknown_issuer_and_garbage() {
        let v = validator(&[]);
        let ctx = TokenContext::default();
        let payload = r#"{"iss":"https://idp","exp":9999999999}"#;
        for alg in ["none", "HS256", "RS512", "PS256"] {
            let t = token(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#), payload);
            assert!(
                matches!(v.validate(&t, ctx).await, Err(JwtError::Algorithm(_))),
                "{alg}"
            );
        }
        let t = token(r#"{"alg":"RS256"}"#, payload);
        assert!(matches!(
            v.validate(&t, ctx).await,
            Err(JwtError::UnknownIssuer(_))
        ));
        let t = token(r#"{"alg":"RS256","crit":["exp"]}"#, payload);
        assert!(matches!(v.validate(&t, ctx).await, Err(JwtError::Invalid(_))));
        for garbage in ["a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.e30", "x"] {
            assert!(v.validate(garbage, ctx).await.is_err(), "{garbage}");
        }
        let t = token(r#"{"alg":"RS256"}"#, r#"{"sub":"no-iss"}"#);
        assert!(matches!(v.validate(&t, ctx).await, Err(JwtError::Malformed(_))));
        let huge = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(v.validate(&huge, ctx).await, Err(JwtError::TooLarge)));
    }

    #[tokio::test]
    async fn issuer_must_serve_environment_and_organization() {
        let mut issuer = IssuerConfig::with_jwks("idp", "https://idp", "http://127.0.0.1:9/jwks");
        issuer.environments = vec!["prod".into()];
        issuer.organization = Some("org1".into());
        let v = validator(&[issuer]);
        let t = token(r#"{"alg":"RS256"}"#, r#"{"iss":"https://idp","exp":9999999999}"#);
        for (environment, organization) in [("dev", "org1"), ("prod", "org2"), ("", "")] {
            let ctx = TokenContext {
                environment,
                organization,
            };
            assert!(
                matches!(v.validate(&t, ctx).await, Err(JwtError::IssuerNotEnabled(_))),
                "{environment}/{organization}"
            );
        }
    }
}
