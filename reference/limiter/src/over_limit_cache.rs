//! Keys known to be over their limit for the rest of their window, so the store can be skipped.
//!
//! Fixed-window counts only grow within a window, so "over" stays true until the window ends,
//! whatever other gateways do. A config push clears it: a raised limit must take effect at once.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};

const SHARDS: usize = 16;
/// Per shard; beyond it new keys are simply not cached (the store still answers correctly).
const MAX_ENTRIES_PER_SHARD: usize = 16 * 1024;

/// Counter keys mapped to the Unix second at which their window ends.
#[derive(Debug)]
pub(crate) struct OverLimitCache {
    shards: Box<[Mutex<HashMap<String, u64>>]>,
    hasher: RandomState,
}

impl OverLimitCache {
    pub(crate) fn new() -> Self {
        OverLimitCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, u64>> {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        // Map operations cannot leave an entry half-written, so a poisoned lock is usable.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `key` is known over limit at Unix second `now`.
    pub(crate) fn contains(&self, key: &str, now: u64) -> bool {
        let mut shard = self.shard(key);
        match shard.get(key) {
            Some(&window_end) if window_end > now => true,
            Some(_) => {
                shard.remove(key);
                false
            }
            None => false,
        }
    }

    /// Remember `key` as over limit until Unix second `window_end`.
    pub(crate) fn insert(&self, key: &str, window_end: u64, now: u64) {
        let mut shard = self.shard(key);
        if shard.len() >= MAX_ENTRIES_PER_SHARD {
            shard.retain(|_, end| *end > now);
            if shard.len() >= MAX_ENTRIES_PER_SHARD {
                return;
            }
        }
        shard.insert(key.to_string(), window_end);
    }

    /// Forget everything.
    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            shard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_window_and_clear() {
        let cache = OverLimitCache::new();
        cache.insert("k", 100, 50);
        assert!(cache.contains("k", 99));
        assert!(!cache.contains("k", 100));
        assert!(!cache.contains("k", 99), "expired entries are removed");
        cache.insert("k", 100, 50);
        cache.clear();
        assert!(!cache.contains("k", 60));
    }
}
