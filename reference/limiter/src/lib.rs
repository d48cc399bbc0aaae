//! Envoy's global rate-limit service (RLS v3) for portcullis.
//!
//! The control plane pushes a [`LimiterConfig`] (domains of descriptor trees, as in
//! envoyproxy/ratelimit) into a [`Limiter`]; Envoy's `envoy.filters.http.ratelimit` asks
//! [`LimiterServer`] over gRPC. Counters are fixed windows aligned to the Unix epoch, kept in a
//! [`CounterStore`]: [`MemoryStore`] for one gateway, [`RedisStore`] to share limits between
//! gateways.
//!
//! Matching: per request descriptor, the most specific config path that consumes all its
//! entries wins; at each level an exact `value` beats a key-only entry, falling back to the
//! key-only branch when the exact branch cannot match the rest. Descriptors that match nothing
//! are allowed (never a wrong deny). Counters are per request value: a key-only entry limits
//! each value separately, like envoyproxy/ratelimit.
//!
//! Not supported (yet): wildcard values (`foo*`), `unlimited`, `replaces`, descriptor-level
//! limit overrides from Envoy, and units above a day.

#![warn(missing_docs)]

mod config;
mod counter_id;
mod error;
mod limiter;
mod memory;
mod over_limit_cache;
pub mod redis_process;
mod redis_store;
mod response;
mod rules;
mod server;
mod stats;
mod store;

pub use config::{DescriptorConfig, DomainConfig, LimiterConfig, RateLimitConfig, Unit};
pub use error::{ConfigError, LimitError, ServeError, StoreError};
pub use limiter::{FailMode, KEY_PREFIX, Limiter, LimiterOptions};
pub use memory::MemoryStore;
pub use redis_store::{RedisStore, RedisStoreOptions};
pub use response::{LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER};
pub use server::{LimiterServer, serve, serve_with_shutdown};
pub use stats::{LimiterStats, StatsSnapshot};
pub use store::{CounterStore, Increment};
