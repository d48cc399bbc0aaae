//! Per-issuer JWKS cache with a rate-limited refetch on unknown `kid`.

use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

use crate::error::JwksError;

/// Largest JWKS body accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Keys of one issuer, fetched lazily from its JWKS URL.
#[derive(Debug)]
pub struct JwksCache {
    url: String,
    client: reqwest::Client,
    min_refetch: Duration,
    // A tokio mutex so concurrent misses wait for one fetch instead of stampeding the IdP.
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    keys: Option<JwkSet>,
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
            state: Mutex::new(CacheState::default()),
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
    pub async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, JwksError> {
        let mut state = self.state.lock().await;
        if let Some(key) = state.keys.as_ref().and_then(|set| find(set, kid)) {
            return DecodingKey::from_jwk(key).map_err(JwksError::BadKey);
        }
        let now = Instant::now();
        let limiter = if state.keys.is_some() {
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
        if state.keys.is_some() {
            state.last_miss_refetch = Some(now);
        }
        state.last_attempt = Some(now);
        match self.fetch().await {
            Ok(set) => {
                tracing::info!(url = %self.url, keys = set.keys.len(), "JWKS fetched");
                state.keys = Some(set);
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "JWKS fetch failed");
                return Err(error);
            }
        }
        let key = state.keys.as_ref().and_then(|set| find(set, kid));
        let key = key.ok_or_else(|| JwksError::UnknownKid(kid.unwrap_or_default().to_owned()))?;
        DecodingKey::from_jwk(key).map_err(JwksError::BadKey)
    }

    async fn fetch(&self) -> Result<JwkSet, JwksError> {
        let response = self.client.get(&self.url).send().await?;
        if !response.status().is_success() {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        let body = response.bytes().await?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError::Status(413));
        }
        Ok(serde_json::from_slice(&body)?)
    }
}

fn find<'a>(set: &'a JwkSet, kid: Option<&str>) -> Option<&'a jsonwebtoken::jwk::Jwk> {
    match kid {
        Some(kid) => set.find(kid),
        None if set.keys.len() == 1 => set.keys.first(),
        None => None,
    }
}
