//! In-process counters: one gateway, no shared state, no network.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::future::{self, BoxFuture};

use crate::counter_id::{CounterId, OwnedCounterId};
use crate::error::StoreError;
use crate::store::{CounterStore, Increment};

/// Shards are few and fixed: enough to keep two-to-eight cores off each other's locks.
const SHARDS: usize = 32;
/// How often a shard drops expired windows, at most.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Counters in a sharded in-memory map; windows expire lazily and are swept as shards are used.
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

#[derive(Debug)]
struct Shard {
    /// Counters bumped through [`CounterStore`], by string key.
    counters: HashMap<String, Counter>,
    /// Counters bumped by the limiter straight from request descriptors.
    by_id: hashbrown::HashMap<OwnedCounterId, Counter, RandomState>,
    next_sweep: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Counter {
    count: u64,
    expires_at: Instant,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        let now = Instant::now();
        MemoryStore {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        counters: HashMap::new(),
                        by_id: hashbrown::HashMap::default(),
                        next_sweep: now + SWEEP_INTERVAL,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
        }
    }

    /// Counters currently held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let shard = lock(shard);
                shard.counters.len() + shard.by_id.len()
            })
            .sum()
    }

    /// Whether no counter is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drop every expired counter now, instead of waiting for shards to sweep themselves.
    pub fn sweep(&self) {
        let now = Instant::now();
        for shard in self.shards.iter() {
            lock(shard).sweep(now);
        }
    }

    /// Add hits to each counter and return the totals; synchronous core of [`CounterStore`].
    pub fn increment_now(&self, increments: &[Increment]) -> Vec<u64> {
        let now = Instant::now();
        increments
            .iter()
            .map(|increment| {
                let index = (self.hasher.hash_one(&increment.key) as usize) % self.shards.len();
                let mut shard = lock(&self.shards[index]);
                if now >= shard.next_sweep {
                    shard.sweep(now);
                }
                shard.add(&increment.key, increment.hits, increment.window, now)
            })
            .collect()
    }

    /// Add `hits` to the counter named by a request descriptor and return its total: the
    /// limiter's path, with no key string and no boxed future.
    pub(crate) fn increment_id(&self, id: CounterId<'_>, hits: u64, window: Duration) -> u64 {
        let now = Instant::now();
        let index = (self.hasher.hash_one(id) as usize) % self.shards.len();
        let mut shard = lock(&self.shards[index]);
        if now >= shard.next_sweep {
            shard.sweep(now);
        }
        // No allocation on the hot path: the owned id is built only for a new counter.
        if let Some(counter) = shard.by_id.get_mut(&id) {
            return counter.add(hits, window, now);
        }
        shard
            .by_id
            .insert(id.to_owned_id(), Counter::new(hits, window, now));
        hits
    }
}

impl Counter {
    fn new(hits: u64, window: Duration, now: Instant) -> Self {
        Counter {
            count: hits,
            expires_at: now + window,
        }
    }

    /// Add hits, restarting the count if the window has expired; returns the total.
    fn add(&mut self, hits: u64, window: Duration, now: Instant) -> u64 {
        if self.expires_at <= now {
            *self = Counter::new(0, window, now);
        }
        self.count = self.count.saturating_add(hits);
        self.count
    }
}

impl Shard {
    fn add(&mut self, key: &str, hits: u64, window: Duration, now: Instant) -> u64 {
        // Avoid allocating the key on the hot path when the counter exists.
        if let Some(counter) = self.counters.get_mut(key) {
            return counter.add(hits, window, now);
        }
        self.counters
            .insert(key.to_string(), Counter::new(hits, window, now));
        hits
    }

    fn sweep(&mut self, now: Instant) {
        self.counters.retain(|_, counter| counter.expires_at > now);
        self.by_id.retain(|_, counter| counter.expires_at > now);
        self.next_sweep = now + SWEEP_INTERVAL;
    }
}

/// Lock a shard; a panic elsewhere while holding it cannot leave a counter half-updated, so a
/// poisoned lock is still safe to use.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CounterStore for MemoryStore {
    fn increment<'a>(&'a self, increments: &'a [Increment]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        Box::pin(future::ready(Ok(self.increment_now(increments))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;

    fn inc(key: &str, hits: u64, window: Duration) -> Increment {
        Increment {
            key: key.to_string(),
            hits,
            window,
        }
    }

    #[test]
    fn counts_accumulate_per_key() {
        let store = MemoryStore::new();
        let second = Duration::from_secs(60);
        assert_eq!(
            store.increment_now(&[inc("a", 1, second), inc("b", 3, second)]),
            vec![1, 3]
        );
        assert_eq!(
            store.increment_now(&[inc("a", 2, second), inc("b", 0, second)]),
            vec![3, 3]
        );
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn expired_counters_restart_and_are_swept() {
        let store = MemoryStore::new();
        let short = Duration::from_millis(30);
        assert_eq!(store.increment_now(&[inc("a", 5, short)]), vec![5]);
        std::thread::sleep(Duration::from_millis(50));
        // Lazily reset on access.
        assert_eq!(store.increment_now(&[inc("a", 1, short)]), vec![1]);
        std::thread::sleep(Duration::from_millis(50));
        store.sweep();
        assert!(store.is_empty());
    }

    fn entries(pairs: &[(&str, &str)]) -> Vec<Entry> {
        pairs
            .iter()
            .map(|(key, value)| Entry {
                key: key.to_string(),
                value: value.to_string(),
            })
            .collect()
    }

    fn id<'a>(entries: &'a [Entry], window_start: u64) -> CounterId<'a> {
        CounterId {
            domain: "gw",
            entries,
            window_start,
        }
    }

    #[test]
    fn descriptor_counters_accumulate_apart_and_expire() {
        let store = MemoryStore::new();
        let minute = Duration::from_secs(60);
        // One layout string (`gw_a_b_c_0`) for both; two counters here.
        let (left, right) = (entries(&[("a_b", "c")]), entries(&[("a", "b_c")]));
        assert_eq!(store.increment_id(id(&left, 0), 2, minute), 2);
        assert_eq!(store.increment_id(id(&right, 0), 1, minute), 1);
        // A fresh copy of the same descriptor finds the same counter; another window does not.
        assert_eq!(store.increment_id(id(&left.clone(), 0), 3, minute), 5);
        assert_eq!(store.increment_id(id(&left, 60), 1, minute), 1);
        assert_eq!(store.len(), 3);

        let short = Duration::from_millis(30);
        let fleeting = entries(&[("k", "v")]);
        assert_eq!(store.increment_id(id(&fleeting, 0), 4, short), 4);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(store.increment_id(id(&fleeting, 0), 1, short), 1);
        std::thread::sleep(Duration::from_millis(50));
        store.sweep();
        assert_eq!(store.len(), 3);
    }
}
