//! Counters in Redis (or Valkey), shared by every gateway pointing at the same server.

use std::time::Duration;

use futures::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use tracing::{debug, info};

use crate::error::StoreError;
use crate::store::{CounterStore, Increment};

/// Tunables of a [`RedisStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisStoreOptions {
    /// Upper bound on one request's Redis work, (re)connecting included. Envoy's own RLS
    /// timeout (20 ms by default) usually fires first; this only stops work piling up here.
    pub operation_timeout: Duration,
    /// Upper bound on one TCP connect attempt.
    pub connect_timeout: Duration,
}

impl Default for RedisStoreOptions {
    fn default() -> Self {
        RedisStoreOptions {
            operation_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_millis(200),
        }
    }
}

/// Fixed-window counters in Redis: one `MULTI`/`INCRBY`+`EXPIRE`…/`EXEC` round trip per request.
///
/// Connects lazily, so a limiter can start before Redis does; after that redis-rs's
/// `ConnectionManager` reconnects in the background whenever the connection drops.
pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    options: RedisStoreOptions,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("server", &self.client.get_connection_info().addr)
            .field("connected", &self.connection.initialized())
            .field("options", &self.options)
            .finish()
    }
}

impl RedisStore {
    /// A store for the server at `url` (`redis://host:port/db`) with default options.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        RedisStore::with_options(url, RedisStoreOptions::default())
    }

    /// A store for the server at `url` with the given options; does not connect yet.
    pub fn with_options(url: &str, options: RedisStoreOptions) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|source| StoreError::InvalidUrl {
            url: url.to_string(),
            source,
        })?;
        Ok(RedisStore {
            client,
            connection: OnceCell::new(),
            options,
        })
    }

    async fn manager(&self) -> Result<ConnectionManager, StoreError> {
        let manager = self
            .connection
            .get_or_try_init(|| async {
                // No retries inside redis-rs: each request is its own retry, so one that finds
                // Redis down fails fast (and fails open) instead of waiting out a backoff.
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(0)
                    .set_connection_timeout(self.options.connect_timeout)
                    .set_response_timeout(self.options.operation_timeout);
                let manager = ConnectionManager::new_with_config(self.client.clone(), config).await?;
                info!(server = %self.client.get_connection_info().addr, "connected to Redis");
                Ok::<_, StoreError>(manager)
            })
            .await?;
        Ok(manager.clone())
    }

    async fn run(&self, increments: &[Increment]) -> Result<Vec<u64>, StoreError> {
        let mut connection = self.manager().await?;
        let mut pipe = redis::pipe();
        // MULTI/EXEC: a counter never exists without its TTL, even if the connection drops.
        pipe.atomic();
        for increment in increments {
            let ttl = i64::try_from(increment.window.as_secs().max(1)).unwrap_or(i64::MAX);
            pipe.incr(&increment.key, increment.hits)
                .expire(&increment.key, ttl)
                .ignore();
        }
        let counts: Vec<u64> = pipe.query_async(&mut connection).await?;
        if counts.len() != increments.len() {
            return Err(StoreError::CountMismatch {
                expected: increments.len(),
                got: counts.len(),
            });
        }
        debug!(keys = increments.len(), "counted in Redis");
        Ok(counts)
    }
}

impl CounterStore for RedisStore {
    fn increment<'a>(&'a self, increments: &'a [Increment]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        Box::pin(async move {
            if increments.is_empty() {
                return Ok(Vec::new());
            }
            let timeout = self.options.operation_timeout;
            tokio::time::timeout(timeout, self.run(increments))
                .await
                .unwrap_or(Err(StoreError::Timeout(timeout)))
        })
    }
}
