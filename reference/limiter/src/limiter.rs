//! The decision engine: config lookup, counting, fail mode.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use tracing::{debug, info, warn};

use crate::config::LimiterConfig;
use crate::counter_id::CounterId;
use crate::error::{ConfigError, LimitError, StoreError};
use crate::memory::MemoryStore;
use crate::over_limit_cache::OverLimitCache;
use crate::response::{self, Outcome};
use crate::rules::{Limit, Lookup, Rules};
use crate::stats::{LimiterStats, bump};
use crate::store::{CounterStore, Increment};

/// Prefix of every counter key, so the limiter can share a Redis with other users.
pub const KEY_PREFIX: &str = "portcullis:";

/// What to answer when the counter store fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailMode {
    /// Allow the request (as WSO2 APK does), log a warning and count a store error.
    /// Descriptors already known over limit from the over-limit cache are still denied.
    #[default]
    Open,
    /// Answer the gRPC call with `UNAVAILABLE`, so Envoy's `failure_mode_deny` decides
    /// (unless a descriptor is already known over limit: then the answer is OVER_LIMIT).
    ///
    /// Not `OVER_LIMIT` (that would be a wrong deny the operator never asked for) and not the
    /// `UNKNOWN` response code: Envoy asserts it never receives `UNKNOWN` and, in release builds,
    /// treats it as OK, so it would silently fail open. Only a gRPC error reaches
    /// `failure_mode_deny`.
    Closed,
}

/// Behaviour switches of a [`Limiter`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimiterOptions {
    /// What to do when the store fails.
    pub fail_mode: FailMode,
    /// Remember keys over their limit for the rest of their window and skip the store for them.
    /// Worth it with Redis under attack-like load; pointless with the memory store.
    pub over_limit_cache: bool,
}

/// The config in force, and its compiled rules.
struct Active {
    config: Arc<LimiterConfig>,
    rules: Rules,
}

/// Where a [`Limiter`] counts.
enum Counters {
    /// In-process: counted straight from the request's descriptors, with no key string and no
    /// boxed future per request.
    Memory(MemoryStore),
    /// Any [`CounterStore`] (Redis, custom): string keys, one batched call per request.
    Store(Arc<dyn CounterStore>),
}

/// Envoy's rate-limit decision engine over a [`CounterStore`].
pub struct Limiter {
    counters: Counters,
    active: ArcSwap<Active>,
    options: LimiterOptions,
    over_limit: Option<OverLimitCache>,
    stats: LimiterStats,
    /// Unix second of the last fail-open warning.
    last_store_warning: AtomicU64,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("domains", &self.active.load().config.domains.len())
            .field("options", &self.options)
            .field("stats", &self.stats.snapshot())
            .finish()
    }
}

/// A request descriptor with a limit, on its way to the store.
struct Planned {
    /// Index of its outcome (= of the descriptor in the request).
    outcome: usize,
    limit: Limit,
    window_start: u64,
    window_end: u64,
}

impl Limiter {
    /// A limiter with an empty config (everything allowed) counting in `store`.
    pub fn new(store: Arc<dyn CounterStore>, options: LimiterOptions) -> Self {
        Limiter::with_counters(Counters::Store(store), options)
    }

    /// A limiter counting in a fresh [`MemoryStore`], with default options.
    pub fn in_memory() -> Self {
        Limiter::in_memory_with(LimiterOptions::default())
    }

    /// A limiter counting in a fresh [`MemoryStore`] of its own, with `options`. Faster than
    /// [`Limiter::new`] with a shared `MemoryStore`: counters are found from the descriptors
    /// without building key strings.
    pub fn in_memory_with(options: LimiterOptions) -> Self {
        Limiter::with_counters(Counters::Memory(MemoryStore::new()), options)
    }

    fn with_counters(counters: Counters, options: LimiterOptions) -> Self {
        Limiter {
            counters,
            active: ArcSwap::from_pointee(Active {
                config: Arc::new(LimiterConfig::default()),
                rules: Rules::default(),
            }),
            options,
            over_limit: options.over_limit_cache.then(OverLimitCache::new),
            stats: LimiterStats::default(),
            last_store_warning: AtomicU64::new(u64::MAX),
        }
    }

    /// Replace the config, atomically and without a restart; requests in flight finish on the
    /// old one. Invalid entries are dropped, logged and returned; the rest takes effect.
    pub fn update_config(&self, config: LimiterConfig) -> Vec<ConfigError> {
        let (rules, errors) = Rules::compile(&config);
        for error in &errors {
            warn!(domain = error.domain(), descriptor = error.path(), %error, "dropping invalid rate limit entry");
        }
        let domains = config.domains.len();
        self.active.store(Arc::new(Active {
            config: Arc::new(config),
            rules,
        }));
        if let Some(cache) = &self.over_limit {
            // A raised limit must apply at once, not at the end of the window.
            cache.clear();
        }
        info!(domains, dropped = errors.len(), "rate limit config updated");
        errors
    }

    /// The config last given to [`Limiter::update_config`], invalid entries included.
    pub fn config(&self) -> Arc<LimiterConfig> {
        self.active.load().config.clone()
    }

    /// Counters for metrics.
    pub fn stats(&self) -> &LimiterStats {
        &self.stats
    }

    /// Decide on an Envoy rate-limit request, now.
    pub async fn should_rate_limit(
        &self,
        request: &RateLimitRequest,
    ) -> Result<RateLimitResponse, LimitError> {
        self.should_rate_limit_at(request, SystemTime::now()).await
    }

    /// Decide as if the time were `now`; windows are aligned to the Unix epoch, so every gateway
    /// sharing a store agrees on them.
    pub async fn should_rate_limit_at(
        &self,
        request: &RateLimitRequest,
        now: SystemTime,
    ) -> Result<RateLimitResponse, LimitError> {
        // Pins this request to one config even if a push lands meanwhile.
        let active = self.active.load_full();
        let now = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let now_secs = now.as_secs();
        let domain = request.domain.as_str();
        let default_hits = if request.hits_addend == 0 {
            1
        } else {
            u64::from(request.hits_addend)
        };

        let mut outcomes = Vec::with_capacity(request.descriptors.len());
        let mut planned = Vec::new();
        let mut increments = Vec::new();
        for descriptor in &request.descriptors {
            let limit = match active.rules.lookup(domain, &descriptor.entries) {
                Lookup::Limited(limit) => limit,
                Lookup::Unlimited => {
                    debug!(domain, descriptor = %describe(descriptor), "descriptor matches an unlimited entry");
                    outcomes.push(Outcome::Unlimited);
                    continue;
                }
                lookup @ (Lookup::NoMatch | Lookup::UnknownDomain) => {
                    bump(&self.stats.no_match);
                    debug!(domain, descriptor = %describe(descriptor), ?lookup, "no rate limit matches; allowing");
                    outcomes.push(Outcome::Unlimited);
                    continue;
                }
            };
            let window = limit.window.seconds();
            let window_start = now_secs / window * window;
            let window_end = window_start + window;
            let hits = descriptor
                .hits_addend
                .as_ref()
                .map_or(default_hits, |addend| addend.value);
            match &self.counters {
                Counters::Memory(memory) => {
                    // The over-limit cache is keyed by string; off by default with memory.
                    if self.over_limit.is_some()
                        && self.cached_over(&counter_key(domain, descriptor, window_start), now_secs)
                    {
                        outcomes.push(Outcome::CachedOver { limit, window_end });
                        continue;
                    }
                    let id = CounterId {
                        domain,
                        entries: &descriptor.entries,
                        window_start,
                    };
                    let count = memory.increment_id(id, hits, Duration::from_secs(window));
                    outcomes.push(Outcome::Counted {
                        limit,
                        count,
                        window_end,
                    });
                    let key = KeyText {
                        domain,
                        descriptor,
                        window_start,
                    };
                    self.note_count(domain, limit, window_end, &key, count, now_secs);
                }
                Counters::Store(_) => {
                    let key = counter_key(domain, descriptor, window_start);
                    if self.cached_over(&key, now_secs) {
                        outcomes.push(Outcome::CachedOver { limit, window_end });
                        continue;
                    }
                    increments.push(Increment {
                        key,
                        hits,
                        window: Duration::from_secs(window),
                    });
                    // Placeholder, replaced once the store has answered.
                    outcomes.push(Outcome::Unknown { limit });
                    planned.push(Planned {
                        outcome: outcomes.len() - 1,
                        limit,
                        window_start,
                        window_end,
                    });
                }
            }
        }

        if let Counters::Store(store) = &self.counters
            && !increments.is_empty()
        {
            let result = store.increment(&increments).await.and_then(|counts| {
                // A custom store answering short must not leave descriptors silently uncounted.
                if counts.len() == increments.len() {
                    Ok(counts)
                } else {
                    Err(StoreError::CountMismatch {
                        expected: increments.len(),
                        got: counts.len(),
                    })
                }
            });
            match result {
                Ok(counts) => {
                    for (plan, count) in planned.iter().zip(counts) {
                        outcomes[plan.outcome] = Outcome::Counted {
                            limit: plan.limit,
                            count,
                            window_end: plan.window_end,
                        };
                        let key = KeyText {
                            domain,
                            descriptor: &request.descriptors[plan.outcome],
                            window_start: plan.window_start,
                        };
                        self.note_count(domain, plan.limit, plan.window_end, &key, count, now_secs);
                    }
                }
                Err(error) => {
                    bump(&self.stats.store_errors);
                    self.warn_store_failure(domain, &error, now_secs);
                    // A descriptor already known over limit decides the request without the store.
                    let decided = outcomes.iter().any(Outcome::denies);
                    if self.options.fail_mode == FailMode::Closed && !decided {
                        return Err(LimitError::StoreUnavailable(error));
                    }
                }
            }
        }

        let response = response::build(&outcomes, now);
        bump(&self.stats.decisions);
        if outcomes.iter().any(Outcome::denies) {
            bump(&self.stats.over_limit);
        }
        Ok(response)
    }

    /// Warn about a store failure at most once a second; an outage at thousands of requests a
    /// second must not flood the log (the error counter still counts every one).
    fn warn_store_failure(&self, domain: &str, error: &StoreError, now_secs: u64) {
        let fail_mode = self.options.fail_mode;
        let last = self.last_store_warning.swap(now_secs, Ordering::Relaxed);
        if last == now_secs {
            debug!(domain, %error, ?fail_mode, "rate limit counter store failed");
        } else {
            warn!(domain, %error, ?fail_mode, "rate limit counter store failed");
        }
    }

    /// Whether the over-limit cache (if on) knows `key` is over limit; counts the hit.
    fn cached_over(&self, key: &str, now_secs: u64) -> bool {
        let hit = self
            .over_limit
            .as_ref()
            .is_some_and(|cache| cache.contains(key, now_secs));
        if hit {
            bump(&self.stats.over_limit_cache_hits);
        }
        hit
    }

    /// Log, count and cache what a fresh count means.
    fn note_count(
        &self,
        domain: &str,
        limit: Limit,
        window_end: u64,
        key: &KeyText<'_>,
        count: u64,
        now_secs: u64,
    ) {
        let shadow = limit.shadow;
        let limit = u64::from(limit.requests_per_unit);
        if count <= limit {
            return;
        }
        if shadow {
            bump(&self.stats.shadow_over_limit);
            info!(domain, %key, count, limit, "over limit in shadow mode; allowing");
            return;
        }
        debug!(domain, %key, count, limit, "over limit");
        if let Some(cache) = &self.over_limit {
            cache.insert(&key.to_string(), window_end, now_secs);
        }
    }
}

/// A counter key in the [`counter_key`] layout, formatted only when a log line or the
/// over-limit cache needs it.
struct KeyText<'a> {
    domain: &'a str,
    descriptor: &'a RateLimitDescriptor,
    window_start: u64,
}

impl std::fmt::Display for KeyText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{KEY_PREFIX}{}_", self.domain)?;
        for entry in &self.descriptor.entries {
            write!(f, "{}_{}_", entry.key, entry.value)?;
        }
        write!(f, "{}", self.window_start)
    }
}

/// `portcullis:<domain>_<key>_<value>_…_<window start>`, envoyproxy/ratelimit's layout, so the
/// counters of request values under a key-only entry are kept apart.
fn counter_key(domain: &str, descriptor: &RateLimitDescriptor, window_start: u64) -> String {
    let capacity = KEY_PREFIX.len()
        + domain.len()
        + descriptor
            .entries
            .iter()
            .map(|entry| entry.key.len() + entry.value.len() + 2)
            .sum::<usize>()
        + 21;
    let mut key = String::with_capacity(capacity);
    key.push_str(KEY_PREFIX);
    key.push_str(domain);
    key.push('_');
    for entry in &descriptor.entries {
        key.push_str(&entry.key);
        key.push('_');
        key.push_str(&entry.value);
        key.push('_');
    }
    // Writing to a String cannot fail.
    let _ = write!(key, "{window_start}");
    key
}

/// `key=value, key=value` for logs.
fn describe(descriptor: &RateLimitDescriptor) -> String {
    descriptor
        .entries
        .iter()
        .map(|entry| format!("{}={}", entry.key, entry.value))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;

    #[test]
    fn counter_keys_follow_the_ratelimit_layout() {
        let descriptor = RateLimitDescriptor {
            entries: vec![
                Entry {
                    key: "route".into(),
                    value: "orders".into(),
                },
                Entry {
                    key: "method".into(),
                    value: "GET".into(),
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            counter_key("gw", &descriptor, 1_700_000_040),
            "portcullis:gw_route_orders_method_GET_1700000040"
        );
        let text = KeyText {
            domain: "gw",
            descriptor: &descriptor,
            window_start: 1_700_000_040,
        };
        assert_eq!(text.to_string(), counter_key("gw", &descriptor, 1_700_000_040));
    }
}
