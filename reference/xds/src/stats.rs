//! Counters of what the server sent, so benchmarks and operators can see what a change cost.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// What the server sent of one resource type, over every stream since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SentCounts {
    /// Responses sent.
    pub responses: u64,
    /// Resources carried by those responses (SotW: every selected resource; Delta: upserts).
    pub resources: u64,
    /// Names reported removed (Delta only).
    pub removals: u64,
    /// Protobuf-encoded size of the responses, in bytes (without gRPC framing).
    pub bytes: u64,
}

impl SentCounts {
    /// What was sent between `earlier` and `self` (saturating, so a reset reads as zero).
    pub fn since(&self, earlier: &SentCounts) -> SentCounts {
        SentCounts {
            responses: self.responses.saturating_sub(earlier.responses),
            resources: self.resources.saturating_sub(earlier.resources),
            removals: self.removals.saturating_sub(earlier.removals),
            bytes: self.bytes.saturating_sub(earlier.bytes),
        }
    }
}

/// Per type URL counters shared by every stream.
#[derive(Debug, Default)]
pub(crate) struct SentStats {
    by_type: Mutex<BTreeMap<String, SentCounts>>,
}

impl SentStats {
    /// Adds one response of `type_url`.
    pub(crate) fn record(&self, type_url: &str, resources: usize, removals: usize, bytes: usize) {
        let mut by_type = self.by_type.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = match by_type.get_mut(type_url) {
            Some(counts) => counts,
            None => by_type.entry(type_url.to_owned()).or_default(),
        };
        counts.responses += 1;
        counts.resources += resources as u64;
        counts.removals += removals as u64;
        counts.bytes += bytes as u64;
    }

    /// The counters now.
    pub(crate) fn current(&self) -> BTreeMap<String, SentCounts> {
        self.by_type
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
