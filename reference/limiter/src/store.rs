//! The counter backend abstraction.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::error::StoreError;

/// One fixed-window counter to bump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Increment {
    /// Full counter key, window start included (`portcullis:<domain>_<key>_<value>_…_<start>`).
    pub key: String,
    /// How much to add; 0 reads the counter without changing it.
    pub hits: u64,
    /// Window length: the counter may be forgotten once this has passed after its last bump.
    pub window: Duration,
}

/// A place where fixed-window counters live.
///
/// Object-safe (boxed futures) so a [`crate::Limiter`] can hold any store behind one type.
pub trait CounterStore: Send + Sync + 'static {
    /// Add each increment's hits to its counter and return the new totals, in order.
    ///
    /// All increments of one call belong to one request: implementations should apply them in
    /// one round trip. Each individual increment must be atomic, so that concurrent callers
    /// never lose hits.
    fn increment<'a>(&'a self, increments: &'a [Increment]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>>;
}
