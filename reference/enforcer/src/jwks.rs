//! Per-issuer JWKS cache with a rate-limited refetch on unknown `kid`.
//!
//! Keys are parsed once per fetch; a lookup of a known `kid` takes no lock and does no parsing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use jsonwebtoken::jwk::Jwk;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::error::JwksError;
use crate::keys::VerifyKey;

/// Largest JWKS body accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The usable keys of one fetched set.
#[derive(Debug, Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<VerifyKey>>,
    /// The set's key when it holds exactly one usable key (used for tokens without `kid`).
    only: Option<Arc<VerifyKey>>,
}

impl KeySet {
    fn find(&self, kid: Option<&str>) -> Option<Arc<VerifyKey>> {
        match kid {
            Some(kid) => self.by_kid.get(kid).cloned(),
            None => self.only.clone(),
        }
    }
}

/// A JWK set as served, each key kept as raw JSON so one odd key does not spoil the others.
#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

/// Keys of one issuer, fetched lazily from its JWKS URL.
#[derive(Debug)]
pub struct JwksCache {
    url: String,
    client: reqwest::Client,
    min_refetch: Duration,
    keys: ArcSwapOption<KeySet>,
    // A tokio mutex so concurrent misses wait for one fetch instead of stampeding the IdP.
    fetch: Mutex<FetchState>,
}

#[derive(Debug, Default)]
struct FetchState {
    /// Last fetch attempt of any kind; limits retries while no set was ever loaded.
    last_attempt: Option<Instant>,
    /// Last fetch caused by an unknown `kid` in a loaded set; limits refetches on misses.
    last_miss_refetch: Option<Instant>,
}

impl JwksCache {
    /// A cache for `url`; `min_refetch` bounds how often a miss may trigger a fetch.
    pub fn new(url: String, client: reqwest::Client, min_refetch: Duration) -> Self {
        Self {
            url,
            client,
            min_refetch,
            keys: ArcSwapOption::empty(),
            fetch: Mutex::new(FetchState::default()),
        }
    }

    /// The JWKS URL this cache fetches.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The verification key for `kid`.
    ///
    /// The set is fetched on first use; an unknown `kid` in a loaded set triggers at most one
    /// refetch per `min_refetch`, and a failing endpoint is retried at most as often.
    ///
    /// Without a `kid`, the set's only key is used when it has exactly one.
    pub async fn key(&self, kid: Option<&str>) -> Result<Arc<VerifyKey>, JwksError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut state = self.fetch.lock().await;
        // Another task may have fetched while this one waited for the lock.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let now = Instant::now();
        let loaded = self.keys.load().is_some();
        let limiter = if loaded {
            state.last_miss_refetch
        } else {
            state.last_attempt
        };
        let may_fetch = limiter.is_none_or(|at| now.duration_since(at) >= self.min_refetch);
        if !may_fetch {
            tracing::debug!(url = %self.url, ?kid, "kid unknown; JWKS refetch rate-limited");
            return Err(JwksError::UnknownKid(kid.unwrap_or_default().to_owned()));
        }
        // Record the attempt first so a failing endpoint is not hammered either.
        if loaded {
            state.last_miss_refetch = Some(now);
        }
        state.last_attempt = Some(now);
        match self.fetch().await {
            Ok(set) => {
                tracing::info!(url = %self.url, keys = set.by_kid.len(), "JWKS fetched");
                self.keys.store(Some(Arc::new(set)));
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "JWKS fetch failed");
                return Err(error);
            }
        }
        self.cached(kid)
            .ok_or_else(|| JwksError::UnknownKid(kid.unwrap_or_default().to_owned()))
    }

    fn cached(&self, kid: Option<&str>) -> Option<Arc<VerifyKey>> {
        self.keys.load().as_ref().and_then(|set| set.find(kid))
    }

    async fn fetch(&self) -> Result<KeySet, JwksError> {
        let response = self.client.get(&self.url).send().await?;
        if !response.status().is_success() {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        let body = response.bytes().await?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError::Status(413));
        }
        let raw: RawSet = serde_json::from_slice(&body)?;
        Ok(self.parse(raw))
    }

    fn parse(&self, raw: RawSet) -> KeySet {
        let mut set = KeySet::default();
        let mut usable = Vec::new();
        for value in raw.keys {
            let jwk: Jwk = match serde_json::from_value(value) {
                Ok(jwk) => jwk,
                Err(error) => {
                    tracing::debug!(url = %self.url, %error, "JWKS entry skipped: not a JWK");
                    continue;
                }
            };
            match VerifyKey::from_jwk(&jwk) {
                Ok(key) => {
                    let key = Arc::new(key);
                    if let Some(kid) = &jwk.common.key_id {
                        set.by_kid.insert(kid.clone(), Arc::clone(&key));
                    }
                    usable.push(key);
                }
                Err(reason) => {
                    tracing::debug!(url = %self.url, kid = ?jwk.common.key_id, reason, "JWKS entry skipped");
                }
            }
        }
        if usable.len() == 1 {
            set.only = usable.pop();
        }
        set
    }
}
