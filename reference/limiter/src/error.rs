//! Error types of the limiter, one enum per concern.

use std::time::Duration;

/// Why a config entry was dropped. Every variant names the domain and the descriptor path
/// (`key=value/key`, from the domain root down to the offending node).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `requestsPerUnit` is zero, negative or above `u32::MAX` (the RLS wire type).
    #[error(
        "domain {domain:?}, descriptor {path}: requestsPerUnit must be between 1 and {}, got {value}",
        u32::MAX
    )]
    InvalidCount {
        /// The domain holding the entry.
        domain: String,
        /// Path of the entry inside the domain.
        path: String,
        /// The rejected count.
        value: i64,
    },
    /// The unit is not one of Second, Minute, Hour, Day.
    #[error(
        "domain {domain:?}, descriptor {path}: unknown unit {unit:?} (expected Second, Minute, Hour or Day)"
    )]
    UnknownUnit {
        /// The domain holding the entry.
        domain: String,
        /// Path of the entry inside the domain.
        path: String,
        /// The rejected unit name.
        unit: String,
    },
    /// A descriptor with an empty key can never match an Envoy descriptor entry.
    #[error("domain {domain:?}, descriptor {path}: empty key")]
    EmptyKey {
        /// The domain holding the entry.
        domain: String,
        /// Path of the entry inside the domain.
        path: String,
    },
    /// Two siblings with the same key and value; the later one is dropped with its subtree.
    #[error("domain {domain:?}, descriptor {path}: duplicate of an earlier sibling")]
    Duplicate {
        /// The domain holding the entry.
        domain: String,
        /// Path of the entry inside the domain.
        path: String,
    },
    /// A domain with an empty name; Envoy always sends a non-empty one.
    #[error("domain \"\": empty domain name")]
    EmptyDomain,
}

impl ConfigError {
    /// The domain the dropped entry belonged to.
    pub fn domain(&self) -> &str {
        match self {
            ConfigError::InvalidCount { domain, .. }
            | ConfigError::UnknownUnit { domain, .. }
            | ConfigError::EmptyKey { domain, .. }
            | ConfigError::Duplicate { domain, .. } => domain,
            ConfigError::EmptyDomain => "",
        }
    }

    /// The descriptor path of the dropped entry (empty for a whole domain).
    pub fn path(&self) -> &str {
        match self {
            ConfigError::InvalidCount { path, .. }
            | ConfigError::UnknownUnit { path, .. }
            | ConfigError::EmptyKey { path, .. }
            | ConfigError::Duplicate { path, .. } => path,
            ConfigError::EmptyDomain => "",
        }
    }
}

/// A counter store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis refused, dropped the connection or returned an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The store did not answer in time.
    #[error("counter store did not answer within {0:?}")]
    Timeout(Duration),
    /// The store answered a different number of counts than keys were sent.
    #[error("counter store returned {got} counts for {expected} keys")]
    CountMismatch {
        /// Keys sent.
        expected: usize,
        /// Counts received.
        got: usize,
    },
    /// A Redis URL that the client cannot parse.
    #[error("invalid Redis URL {url:?}: {source}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// The parse error.
        source: redis::RedisError,
    },
    /// Any other failure of a custom store.
    #[error("counter store: {0}")]
    Other(String),
}

/// A decision could not be made; only returned in [`crate::FailMode::Closed`].
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// The counter store failed and the limiter is configured to fail closed.
    #[error("rate limit counters unavailable: {0}")]
    StoreUnavailable(#[source] StoreError),
}

/// Failure of the gRPC server: there is none once it listens (failed accepts are retried and
/// connections end on their own); the type keeps callers' `Result` handling uniform.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {}
