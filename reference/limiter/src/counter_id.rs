//! A counter's identity in the memory store — domain, descriptor entries, window start — looked
//! up straight from the request's descriptor, so no key string is built per request.
//!
//! Unlike the `<domain>_<key>_<value>_…` string layout kept for Redis, the parts stay apart:
//! `a_b=c` and `a=b_c` are different counters. Equality is exact; the hash only picks a bucket.

use std::hash::{Hash, Hasher};

use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use hashbrown::Equivalent;

/// A counter named by a request's descriptor, borrowed for a lookup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CounterId<'a> {
    pub(crate) domain: &'a str,
    pub(crate) entries: &'a [Entry],
    /// Unix second at which the counter's window starts.
    pub(crate) window_start: u64,
}

/// A stored counter's identity; allocated once, when its window's first hit creates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnedCounterId {
    domain: Box<str>,
    entries: Box<[(Box<str>, Box<str>)]>,
    window_start: u64,
}

impl CounterId<'_> {
    /// The owned copy to store.
    pub(crate) fn to_owned_id(self) -> OwnedCounterId {
        OwnedCounterId {
            domain: self.domain.into(),
            entries: self
                .entries
                .iter()
                .map(|entry| (entry.key.as_str().into(), entry.value.as_str().into()))
                .collect(),
            window_start: self.window_start,
        }
    }
}

/// Both forms must feed the hasher the same sequence. `str` hashing ends each string with a
/// 0xff byte that UTF-8 never contains, and the entry count comes first, so the sequence is
/// unambiguous.
fn hash_parts<'s, H: Hasher>(
    state: &mut H,
    domain: &str,
    entries: impl ExactSizeIterator<Item = (&'s str, &'s str)>,
    window_start: u64,
) {
    domain.hash(state);
    state.write_usize(entries.len());
    for (key, value) in entries {
        key.hash(state);
        value.hash(state);
    }
    state.write_u64(window_start);
}

impl Hash for CounterId<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let entries = self
            .entries
            .iter()
            .map(|entry| (entry.key.as_str(), entry.value.as_str()));
        hash_parts(state, self.domain, entries, self.window_start);
    }
}

impl Hash for OwnedCounterId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let entries = self.entries.iter().map(|(key, value)| (&**key, &**value));
        hash_parts(state, &self.domain, entries, self.window_start);
    }
}

impl Equivalent<OwnedCounterId> for CounterId<'_> {
    fn equivalent(&self, stored: &OwnedCounterId) -> bool {
        self.window_start == stored.window_start
            && self.domain == &*stored.domain
            && self.entries.len() == stored.entries.len()
            && self
                .entries
                .iter()
                .zip(stored.entries.iter())
                .all(|(entry, (key, value))| entry.key == **key && entry.value == **value)
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, RandomState};

    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> Vec<Entry> {
        pairs
            .iter()
            .map(|(key, value)| Entry {
                key: key.to_string(),
                value: value.to_string(),
            })
            .collect()
    }

    fn id<'a>(domain: &'a str, entries: &'a [Entry], window_start: u64) -> CounterId<'a> {
        CounterId {
            domain,
            entries,
            window_start,
        }
    }

    #[test]
    fn borrowed_and_owned_forms_hash_and_compare_alike() {
        let hasher = RandomState::new();
        let request = entries(&[("org", "default"), ("path", "/orders"), ("method", "ALL")]);
        let borrowed = id("Default", &request, 1_700_000_040);
        let owned = borrowed.to_owned_id();
        assert_eq!(hasher.hash_one(borrowed), hasher.hash_one(&owned));
        assert!(borrowed.equivalent(&owned));
    }

    #[test]
    fn different_descriptors_are_different_counters() {
        let base = entries(&[("a", "b")]);
        let stored = id("gw", &base, 60).to_owned_id();
        // Each differs from `gw / a=b / 60` in one part, or only in where a boundary falls.
        let others: Vec<(&str, Vec<Entry>, u64)> = vec![
            ("gw", entries(&[("a_b", "")]), 60),
            ("gw", entries(&[("a", "b"), ("", "")]), 60),
            ("gw", entries(&[("a", ""), ("b", "")]), 60),
            ("gw", entries(&[("", "a_b")]), 60),
            ("gw_a", entries(&[("b", "")]), 60),
            ("g", entries(&[("wa", "b")]), 60),
            ("gw", entries(&[("ab", "")]), 60),
            ("gw", entries(&[("a", "b")]), 120),
            ("other", entries(&[("a", "b")]), 60),
            ("gw", entries(&[("b", "a")]), 60),
            ("gw", entries(&[]), 60),
        ];
        for (domain, request, window_start) in &others {
            let other = id(domain, request, *window_start);
            assert!(!other.equivalent(&stored), "{other:?} matched {stored:?}");
            assert_ne!(other.to_owned_id(), stored);
        }
        // The string layout's own collision: both are `gw_a_b_c_60` there.
        let (left, right) = (entries(&[("a_b", "c")]), entries(&[("a", "b_c")]));
        assert!(!id("gw", &left, 60).equivalent(&id("gw", &right, 60).to_owned_id()));
    }

    #[test]
    fn the_same_descriptor_in_another_request_is_the_same_counter() {
        let first = entries(&[("route", "orders"), ("method", "GET")]);
        let second = first.clone();
        assert!(id("gw", &second, 0).equivalent(&id("gw", &first, 0).to_owned_id()));
    }
}
