//! Counters for metrics: plain atomics, read with [`LimiterStats::snapshot`].

use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals since the limiter was created. Relaxed atomics: each is an independent tally.
#[derive(Debug, Default)]
pub struct LimiterStats {
    /// Requests answered (OK or OVER_LIMIT), fail-open answers included.
    pub decisions: AtomicU64,
    /// Requests answered OVER_LIMIT.
    pub over_limit: AtomicU64,
    /// Descriptors over their limit in shadow mode (answered OK).
    pub shadow_over_limit: AtomicU64,
    /// Descriptors that matched no config entry (answered OK).
    pub no_match: AtomicU64,
    /// Failed calls to the counter store.
    pub store_errors: AtomicU64,
    /// Descriptors answered from the over-limit cache without asking the store.
    pub over_limit_cache_hits: AtomicU64,
}

/// A copy of [`LimiterStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// See [`LimiterStats::decisions`].
    pub decisions: u64,
    /// See [`LimiterStats::over_limit`].
    pub over_limit: u64,
    /// See [`LimiterStats::shadow_over_limit`].
    pub shadow_over_limit: u64,
    /// See [`LimiterStats::no_match`].
    pub no_match: u64,
    /// See [`LimiterStats::store_errors`].
    pub store_errors: u64,
    /// See [`LimiterStats::over_limit_cache_hits`].
    pub over_limit_cache_hits: u64,
}

impl LimiterStats {
    /// Read every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            decisions: self.decisions.load(Ordering::Relaxed),
            over_limit: self.over_limit.load(Ordering::Relaxed),
            shadow_over_limit: self.shadow_over_limit.load(Ordering::Relaxed),
            no_match: self.no_match.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
            over_limit_cache_hits: self.over_limit_cache_hits.load(Ordering::Relaxed),
        }
    }
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
