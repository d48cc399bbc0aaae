//! Snapshots of Envoy resources, their content hashes, and subscription selection.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::state::Protocol;
use crate::type_url;
use crate::vhds::{Split, namespace};

/// One consistent set of Envoy resources. `version` increases monotonically.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Monotonically increasing version; sent to Envoy as a decimal string.
    pub version: u64,
    /// Resources by type URL, then by resource name.
    pub resources: BTreeMap<String, BTreeMap<String, Any>>,
}

/// A resource together with its content hash (the Delta xDS resource version).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) any: Any,
    pub(crate) hash: String,
}

/// Resources of one type, by name.
pub(crate) type TypeResources = BTreeMap<String, Entry>;

/// The content hash of a resource.
pub(crate) fn hash(any: &Any) -> String {
    hex::encode(Sha256::digest(any.encode_to_vec()))
}

/// A snapshot with every resource hashed once, so streams and waiters compare cheaply.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    pub(crate) version: u64,
    /// The snapshot as published: what SotW streams serve.
    pub(crate) types: BTreeMap<String, TypeResources>,
    /// Route tables split for VHDS: what Delta streams serve for RDS and VHDS, when enabled.
    split: Option<Split>,
}

impl Prepared {
    /// Hashes every resource of `snapshot`; with `vhds`, also splits its route tables for Delta
    /// streams, reusing `previous`'s split of the tables that did not change.
    pub(crate) fn new(snapshot: Snapshot, previous: Option<&Prepared>, vhds: bool) -> Self {
        let types: BTreeMap<String, TypeResources> = snapshot
            .resources
            .into_iter()
            .map(|(type_url, resources)| {
                let resources = resources
                    .into_iter()
                    .map(|(name, any)| {
                        let hash = hash(&any);
                        (name, Entry { any, hash })
                    })
                    .collect();
                (type_url, resources)
            })
            .collect();
        let split = vhds.then(|| {
            Split::new(
                types.get(type_url::ROUTE),
                previous.and_then(|p| p.split.as_ref()),
            )
        });
        Prepared {
            version: snapshot.version,
            types,
            split,
        }
    }

    /// Resources of `type_url` as streams speaking `protocol` get them (`None` for a type the
    /// snapshot lacks).
    pub(crate) fn of(&self, protocol: Protocol, type_url: &str) -> Option<&TypeResources> {
        match (&self.split, protocol) {
            (Some(split), Protocol::Delta) if type_url == type_url::ROUTE => Some(&split.routes),
            (Some(split), Protocol::Delta) if type_url == type_url::VIRTUAL_HOST => {
                Some(&split.virtual_hosts)
            }
            _ => self.types.get(type_url),
        }
    }

    /// Type URLs that have resources for streams speaking `protocol`.
    pub(crate) fn populated_types(&self, protocol: Protocol) -> BTreeSet<&str> {
        let mut types: BTreeSet<&str> = self
            .types
            .iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(t, _)| t.as_str())
            .collect();
        if let (Some(split), Protocol::Delta) = (&self.split, protocol) {
            types.remove(type_url::ROUTE);
            if !split.routes.is_empty() {
                types.insert(type_url::ROUTE);
            }
            if !split.virtual_hosts.is_empty() {
                types.insert(type_url::VIRTUAL_HOST);
            }
        }
        types
    }
}

/// Whether a subscription to a name of `type_url` also covers the resources in its namespace
/// (`name/<segment>`): VHDS subscribes to a route table's name and gets its virtual hosts.
pub(crate) fn namespaced(type_url: &str) -> bool {
    type_url == type_url::VIRTUAL_HOST
}

/// What a stream asks for of one type: everything (wildcard) and/or some names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Subscription {
    pub(crate) wildcard: bool,
    pub(crate) names: BTreeSet<String>,
}

impl Subscription {
    /// The resources of `resources` (of `type_url`) this subscription covers, by name.
    pub(crate) fn select<'a>(
        &self,
        type_url: &str,
        resources: Option<&'a TypeResources>,
    ) -> BTreeMap<&'a str, &'a Entry> {
        let Some(resources) = resources else {
            return BTreeMap::new();
        };
        if self.wildcard {
            return resources.iter().map(|(n, e)| (n.as_str(), e)).collect();
        }
        let mut selected: BTreeMap<&str, &Entry> = self
            .names
            .iter()
            .filter_map(|n| resources.get_key_value(n))
            .map(|(n, e)| (n.as_str(), e))
            .collect();
        if namespaced(type_url) {
            for name in &self.names {
                selected.extend(namespace(resources, name).map(|(n, e)| (n.as_str(), e)));
            }
        }
        selected
    }

    /// Whether resource `name` of `type_url` is covered by this subscription.
    pub(crate) fn covers(&self, type_url: &str, name: &str) -> bool {
        self.wildcard
            || self.names.contains(name)
            || (namespaced(type_url)
                && name
                    .rsplit_once('/')
                    .is_some_and(|(space, _)| self.names.contains(space)))
    }
}

/// Whether a SotW request with these names is a wildcard subscription.
///
/// Envoy sends no names for LDS/CDS to mean "everything"; "*" means it for any type.
pub(crate) fn is_wildcard(type_url: &str, names: &[String]) -> bool {
    names.iter().any(|n| n == "*")
        || (names.is_empty() && (type_url == type_url::CLUSTER || type_url == type_url::LISTENER))
}

/// An order-independent fingerprint of a set of (name, content hash) pairs.
pub(crate) fn digest<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut sorted: Vec<(&str, &str)> = items.into_iter().collect();
    sorted.sort_unstable();
    let mut hasher = Sha256::new();
    for (name, hash) in sorted {
        // Length prefixes keep ("ab","c") and ("a","bc") distinct.
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((hash.len() as u64).to_le_bytes());
        hasher.update(hash.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Digest of what a subscription selects from `resources` (of `type_url`).
pub(crate) fn selection_digest(
    sub: &Subscription,
    type_url: &str,
    resources: Option<&TypeResources>,
) -> String {
    digest(
        sub.select(type_url, resources)
            .into_iter()
            .map(|(n, e)| (n, e.hash.as_str())),
    )
}

/// Make-before-break push order: clusters and endpoints and secrets before the
/// listeners and routes that reference them. Other types follow alphabetically.
pub(crate) fn push_order<'a>(types: impl IntoIterator<Item = &'a String>) -> Vec<&'a String> {
    const ORDER: [&str; 6] = [
        type_url::CLUSTER,
        type_url::ENDPOINT,
        type_url::SECRET,
        type_url::LISTENER,
        type_url::ROUTE,
        type_url::VIRTUAL_HOST,
    ];
    let rank = |t: &str| ORDER.iter().position(|o| *o == t).unwrap_or(ORDER.len());
    let mut types: Vec<&String> = types.into_iter().collect();
    types.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    types
}

/// Whether the server knows `type_url` at all (a well-known type or one in the snapshot).
pub(crate) fn is_known(type_url: &str, snapshot: &Prepared) -> bool {
    type_url::ALL.contains(&type_url) || snapshot.types.contains_key(type_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_order_is_make_before_break() {
        let types: Vec<String> = [
            type_url::ROUTE,
            "zzz",
            type_url::LISTENER,
            type_url::SECRET,
            type_url::ENDPOINT,
            "aaa",
            type_url::CLUSTER,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ordered: Vec<&str> = push_order(&types).into_iter().map(|s| s.as_str()).collect();
        assert_eq!(
            ordered,
            vec![
                type_url::CLUSTER,
                type_url::ENDPOINT,
                type_url::SECRET,
                type_url::LISTENER,
                type_url::ROUTE,
                "aaa",
                "zzz"
            ]
        );
    }

    #[test]
    fn digest_is_order_independent_and_unambiguous() {
        assert_eq!(digest([("a", "1"), ("b", "2")]), digest([("b", "2"), ("a", "1")]));
        assert_ne!(digest([("ab", "c")]), digest([("a", "bc")]));
    }

    #[test]
    fn wildcard_rules() {
        assert!(is_wildcard(type_url::CLUSTER, &[]));
        assert!(is_wildcard(type_url::LISTENER, &[]));
        assert!(!is_wildcard(type_url::ENDPOINT, &[]));
        assert!(is_wildcard(type_url::ENDPOINT, &["*".to_string()]));
        assert!(!is_wildcard(type_url::CLUSTER, &["a".to_string()]));
    }
}
