//! Per-node ACK/NACK state, shared through a watch channel, and the "applied" check.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

use tokio::sync::watch;

use crate::XdsError;
use crate::snapshot::{Prepared, Subscription, selection_digest};

/// Which xDS variant a node's stream speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// State-of-the-World (`StreamAggregatedResources`).
    #[default]
    StateOfTheWorld,
    /// Incremental (`DeltaAggregatedResources`).
    Delta,
}

/// A rejection reported by Envoy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// The snapshot version Envoy rejected.
    pub version: u64,
    /// Envoy's explanation (`error_detail.message`).
    pub message: String,
}

/// What one node has asked for and accepted of one resource type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeState {
    /// Snapshot version of the last response Envoy ACKed.
    pub acked_version: Option<u64>,
    /// The last NACK Envoy sent for this type, kept after later ACKs for inspection.
    pub last_nack: Option<Nack>,
    /// Whether Envoy's latest reply for this type was a NACK (not yet superseded by an ACK).
    pub nacked: bool,
    /// Resource names Envoy subscribed to explicitly.
    pub requested: BTreeSet<String>,
    /// Whether Envoy subscribed to every resource of this type.
    pub wildcard: bool,
    /// Fingerprint of the content Envoy last ACKed (see `snapshot::digest`).
    pub(crate) acked_digest: Option<String>,
}

impl TypeState {
    /// The subscription this state describes.
    pub(crate) fn subscription(&self) -> Subscription {
        Subscription {
            wildcard: self.wildcard,
            names: self.requested.clone(),
        }
    }

    /// Replaces the subscription.
    pub(crate) fn set_subscription(&mut self, sub: &Subscription) {
        self.wildcard = sub.wildcard;
        self.requested.clone_from(&sub.names);
    }

    /// Records an ACK of a response carrying `version` with content `digest`.
    pub(crate) fn ack(&mut self, version: u64, digest: String) {
        self.acked_version = Some(version);
        self.acked_digest = Some(digest);
        self.nacked = false;
    }

    /// Records a NACK of a response carrying `version`.
    pub(crate) fn nack(&mut self, version: u64, message: String) {
        self.last_nack = Some(Nack { version, message });
        self.nacked = true;
    }
}

/// What the server knows about one Envoy node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeState {
    /// Whether a stream from this node is open.
    pub connected: bool,
    /// The xDS variant of the node's newest stream.
    pub protocol: Protocol,
    /// Per type URL state of the node's newest stream.
    pub types: BTreeMap<String, TypeState>,
}

impl NodeState {
    /// The version Envoy last ACKed for `type_url`, if any.
    pub fn acked_version(&self, type_url: &str) -> Option<u64> {
        self.types.get(type_url).and_then(|t| t.acked_version)
    }
}

/// One open stream as the registry sees it.
struct StreamEntry {
    node: String,
    protocol: Protocol,
    types: BTreeMap<String, TypeState>,
}

/// Tracks open streams and publishes per-node state.
///
/// A node may briefly have two streams (Envoy reconnecting before the old one is
/// torn down); the newest stream's state is what the node is reported to have.
pub(crate) struct Registry {
    streams: Mutex<BTreeMap<u64, StreamEntry>>,
    nodes: watch::Sender<BTreeMap<String, NodeState>>,
}

impl Registry {
    pub(crate) fn new() -> Self {
        Registry {
            streams: Mutex::new(BTreeMap::new()),
            nodes: watch::Sender::new(BTreeMap::new()),
        }
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<BTreeMap<String, NodeState>> {
        self.nodes.subscribe()
    }

    /// Registers stream `id` for `node`; it becomes the node's reported stream.
    pub(crate) fn connect(&self, id: u64, node: &str, protocol: Protocol) {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        streams.insert(
            id,
            StreamEntry {
                node: node.to_owned(),
                protocol,
                types: BTreeMap::new(),
            },
        );
        self.publish(&streams, node);
    }

    /// Replaces the type state of stream `id`.
    pub(crate) fn update(&self, id: u64, types: &BTreeMap<String, TypeState>) {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = streams.get_mut(&id) else {
            return;
        };
        entry.types.clone_from(types);
        let node = entry.node.clone();
        self.publish(&streams, &node);
    }

    /// Forgets stream `id`; its node is reported disconnected if no stream remains.
    pub(crate) fn disconnect(&self, id: u64) {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = streams.remove(&id) {
            self.publish(&streams, &entry.node);
        }
    }

    /// Recomputes `node`'s public state; called with the stream lock held so
    /// concurrent updates publish in the order they were applied.
    fn publish(&self, streams: &BTreeMap<u64, StreamEntry>, node: &str) {
        // Stream ids increase, so the last matching entry is the newest stream.
        let newest = streams.values().rev().find(|e| e.node == node);
        self.nodes.send_modify(|nodes| match newest {
            Some(entry) => {
                nodes.insert(
                    node.to_owned(),
                    NodeState {
                        connected: true,
                        protocol: entry.protocol,
                        types: entry.types.clone(),
                    },
                );
            }
            None => {
                if let Some(state) = nodes.get_mut(node) {
                    state.connected = false;
                }
            }
        });
    }
}

/// Where a `wait_until_applied` stands.
pub(crate) enum Progress {
    /// Every connected node runs the current snapshot, which is new enough.
    Applied,
    /// Not yet; the string says what is missing, for the timeout error.
    Pending(String),
    /// A node rejected a new enough version.
    Rejected(XdsError),
}

/// Checks whether version `want` (or later) is applied by every connected node.
pub(crate) fn progress(snapshot: &Prepared, nodes: &BTreeMap<String, NodeState>, want: u64) -> Progress {
    let connected = || nodes.iter().filter(|(_, n)| n.connected);

    // Rejections first, so a NACK is reported promptly even while other types lag.
    for (node, state) in connected() {
        for (type_url, ts) in &state.types {
            if let (true, Some(nack)) = (ts.nacked, &ts.last_nack)
                && nack.version >= want
            {
                return Progress::Rejected(XdsError::Rejected {
                    node: node.clone(),
                    type_url: type_url.clone(),
                    version: nack.version,
                    message: nack.message.clone(),
                });
            }
        }
    }

    if snapshot.version < want {
        return Progress::Pending(format!("current snapshot is version {}", snapshot.version));
    }
    if connected().next().is_none() {
        return Progress::Pending("no Envoy node is connected".to_owned());
    }
    for (node, state) in connected() {
        if let Some(why) = node_lag(snapshot, state) {
            return Progress::Pending(format!("node {node}: {why}"));
        }
    }
    Progress::Applied
}

/// Why `state` is not in sync with `snapshot`, or `None` if it is.
fn node_lag(snapshot: &Prepared, state: &NodeState) -> Option<String> {
    // Types the node asked for, plus every type the snapshot has resources of:
    // the translator never emits an orphan, so Envoy will ask for all of them.
    let mut types: BTreeSet<&str> = state.types.keys().map(String::as_str).collect();
    types.extend(snapshot.populated_types(state.protocol));

    for type_url in types {
        let resources = snapshot.of(state.protocol, type_url);
        let Some(ts) = state.types.get(type_url) else {
            return Some(format!("has not requested {type_url}"));
        };
        let sub = ts.subscription();
        if let Some(resources) = resources
            && let Some(missing) = resources.keys().find(|n| !sub.covers(type_url, n))
        {
            return Some(format!("has not subscribed to {type_url} {missing:?}"));
        }
        let want = selection_digest(&sub, type_url, resources);
        if ts.acked_digest.as_deref() != Some(want.as_str()) {
            return Some(match (&ts.last_nack, ts.nacked) {
                (Some(nack), true) => format!(
                    "has not ACKed the current {type_url}; it rejected version {}: {}",
                    nack.version, nack.message
                ),
                _ => format!("has not ACKed the current {type_url}"),
            });
        }
    }
    None
}
