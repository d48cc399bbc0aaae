//! Incremental (Delta) ADS streams: only added, changed and removed resources are sent.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, Resource,
};
use prost::Message;
use tonic::Streaming;
use tracing::{debug, warn};

use crate::snapshot::{Prepared, Subscription, digest, is_known, namespaced, push_order};
use crate::state::{Protocol, TypeState};
use crate::stream::{Event, Gone, Link};
use crate::type_url;

/// Responses Envoy has not replied to yet, per type, beyond which the oldest is
/// assumed applied; only a client that never ACKs gets there.
const MAX_OUTSTANDING: usize = 64;

/// Resource name → content hash (the Delta resource version).
type Versions = BTreeMap<String, String>;

/// A response awaiting Envoy's ACK or NACK.
struct Pending {
    nonce: String,
    version: u64,
    upserts: Versions,
    removals: BTreeSet<String>,
}

impl Pending {
    /// Applies this response to a view of what Envoy holds.
    fn apply_to(&self, held: &mut Versions) {
        for name in &self.removals {
            held.remove(name);
        }
        held.extend(self.upserts.iter().map(|(n, h)| (n.clone(), h.clone())));
    }

    /// Forgets `name`, which Envoy no longer subscribes to.
    fn forget(&mut self, name: &str) {
        self.upserts.remove(name);
        self.removals.remove(name);
    }
}

/// What Envoy holds of one type.
#[derive(Default)]
struct Held {
    /// What Envoy confirmed (ACKed), for the "applied" check.
    acked: Versions,
    /// What was sent, ACKed or not; diffs are taken against this so a NACKed
    /// resource is not resent until its content changes (no NACK loops).
    sent: Versions,
    /// Responses awaiting a reply, oldest first.
    outstanding: VecDeque<Pending>,
}

impl Held {
    fn forget(&mut self, name: &str) {
        self.acked.remove(name);
        self.sent.remove(name);
        for p in &mut self.outstanding {
            p.forget(name);
        }
    }
}

/// One Delta stream's state.
struct DeltaStream {
    link: Link<DeltaDiscoveryResponse>,
    snapshot: Arc<Prepared>,
    states: BTreeMap<String, TypeState>,
    held: BTreeMap<String, Held>,
}

/// Serves one Delta stream until the client goes away.
pub(crate) async fn run(
    mut link: Link<DeltaDiscoveryResponse>,
    mut requests: Streaming<DeltaDiscoveryRequest>,
) {
    let snapshot = link.initial_snapshot();
    let mut stream = DeltaStream {
        link,
        snapshot,
        states: BTreeMap::new(),
        held: BTreeMap::new(),
    };
    loop {
        let step = match stream.link.next_event(&mut requests).await {
            Event::Request(req) => stream.on_request(req).await,
            Event::Snapshot(snapshot) => stream.on_snapshot(snapshot).await,
            Event::Closed => Err(Gone),
        };
        if step.is_err() {
            break;
        }
    }
}

impl DeltaStream {
    async fn on_request(&mut self, req: DeltaDiscoveryRequest) -> Result<(), Gone> {
        self.link.identify(req.node.as_ref());
        let type_url = req.type_url;
        if !is_known(&type_url, &self.snapshot) {
            debug!(node = self.link.node(), %type_url, "delta request for unknown type; answering with no resources");
        }
        let first = !self.states.contains_key(&type_url);
        let state = self.states.entry(type_url.clone()).or_default();
        let held = self.held.entry(type_url.clone()).or_default();

        if !req.response_nonce.is_empty() {
            match held
                .outstanding
                .iter()
                .position(|p| p.nonce == req.response_nonce)
            {
                Some(index) => {
                    // Envoy may reply only to the newest of several responses it
                    // received together; the earlier ones were applied.
                    for earlier in held.outstanding.drain(..index) {
                        earlier.apply_to(&mut held.acked);
                    }
                    if let Some(pending) = held.outstanding.pop_front() {
                        match &req.error_detail {
                            Some(err) => {
                                warn!(
                                    node = self.link.node(),
                                    %type_url,
                                    version = pending.version,
                                    error = %err.message,
                                    "Envoy rejected configuration (NACK); keeping its last good config"
                                );
                                state.nack(pending.version, err.message.clone());
                            }
                            None => {
                                debug!(node = self.link.node(), %type_url, version = pending.version, "delta ACK");
                                pending.apply_to(&mut held.acked);
                                let acked = digest(held.acked.iter().map(|(n, h)| (n.as_str(), h.as_str())));
                                state.ack(pending.version, acked);
                            }
                        }
                    }
                }
                // Unlike SotW, subscription changes below are still applied: they are
                // deltas, and Envoy would not repeat them.
                None => {
                    debug!(node = self.link.node(), %type_url, nonce = %req.response_nonce, "ignoring reply with stale nonce")
                }
            }
        }

        let mut sub = state.subscription();
        let mut newly = BTreeSet::new();
        if first {
            // No names on the first LDS/CDS request means "everything". Envoy's VHDS also opens
            // with no names and sorts the virtual hosts into route tables by namespace itself.
            sub.wildcard = req.resource_names_subscribe.is_empty()
                && (type_url == type_url::CLUSTER
                    || type_url == type_url::LISTENER
                    || type_url == type_url::VIRTUAL_HOST);
            // What Envoy already has (from a previous stream) needs no resending.
            held.acked = req.initial_resource_versions.into_iter().collect();
            held.sent = held.acked.clone();
        }
        for name in req.resource_names_subscribe {
            if name == "*" {
                sub.wildcard = true;
            } else if sub.names.insert(name.clone()) {
                newly.insert(name);
            }
        }
        let mut dropped = Vec::new();
        for name in req.resource_names_unsubscribe {
            if name == "*" {
                sub.wildcard = false;
                dropped.extend(held.sent.keys().cloned());
            } else {
                sub.names.remove(&name);
                dropped.push(name);
            }
        }
        if namespaced(&type_url) {
            // Unsubscribing a namespace drops what was sent in it.
            let inside: Vec<String> = held
                .sent
                .keys()
                .filter(|n| {
                    dropped
                        .iter()
                        .any(|d| n.rsplit_once('/').is_some_and(|(s, _)| s == d))
                })
                .cloned()
                .collect();
            dropped.extend(inside);
        }
        for name in dropped {
            if !sub.covers(&type_url, &name) {
                held.forget(&name);
            }
        }
        state.set_subscription(&sub);
        self.link.report(&self.states);

        let update = self.diff(&type_url, &newly);
        // The first request is always answered so Envoy's initial fetch completes.
        if first || update.is_some() {
            let (upserts, removals) = update.unwrap_or_default();
            self.respond(&type_url, upserts, removals).await?;
        }
        Ok(())
    }

    async fn on_snapshot(&mut self, snapshot: Arc<Prepared>) -> Result<(), Gone> {
        self.snapshot = snapshot;
        let types: Vec<String> = push_order(self.states.keys()).into_iter().cloned().collect();
        for type_url in types {
            if let Some((upserts, removals)) = self.diff(&type_url, &BTreeSet::new()) {
                self.respond(&type_url, upserts, removals).await?;
            }
        }
        Ok(())
    }

    /// What must be sent so Envoy holds exactly what it subscribed to of `type_url`;
    /// `None` when nothing. Names in `newly` that do not exist are reported removed,
    /// which is how Delta tells Envoy a requested resource does not exist.
    fn diff(&self, type_url: &str, newly: &BTreeSet<String>) -> Option<(Versions, BTreeSet<String>)> {
        let sub: Subscription = self
            .states
            .get(type_url)
            .map(TypeState::subscription)
            .unwrap_or_default();
        let desired = sub.select(type_url, self.snapshot.of(Protocol::Delta, type_url));
        let empty = Versions::new();
        let sent = self.held.get(type_url).map_or(&empty, |h| &h.sent);
        let upserts: Versions = desired
            .iter()
            .filter(|(name, entry)| sent.get(**name) != Some(&entry.hash))
            .map(|(name, entry)| ((*name).to_owned(), entry.hash.clone()))
            .collect();
        let removals: BTreeSet<String> = sent
            .keys()
            .filter(|name| !desired.contains_key(name.as_str()))
            // A namespace name (a VHDS route table) is not itself a resource.
            .chain(newly.iter().filter(|name| {
                let inside = |d: &&str| d.rsplit_once('/').is_some_and(|(s, _)| s == name.as_str());
                !desired.contains_key(name.as_str()) && (!namespaced(type_url) || !desired.keys().any(inside))
            }))
            .cloned()
            .collect();
        (!upserts.is_empty() || !removals.is_empty()).then_some((upserts, removals))
    }

    async fn respond(
        &mut self,
        type_url: &str,
        upserts: Versions,
        removals: BTreeSet<String>,
    ) -> Result<(), Gone> {
        let nonce = self.link.nonce();
        let version = self.snapshot.version;
        let resources: Vec<Resource> = upserts
            .keys()
            .filter_map(|name| {
                let entry = self.snapshot.of(Protocol::Delta, type_url)?.get(name)?;
                Some(Resource {
                    name: name.clone(),
                    version: entry.hash.clone(),
                    resource: Some(entry.any.clone()),
                    ..Default::default()
                })
            })
            .collect();
        debug!(
            node = self.link.node(),
            %type_url,
            version,
            nonce,
            updated = resources.len(),
            removed = removals.len(),
            "sending delta response"
        );
        let held = self.held.entry(type_url.to_owned()).or_default();
        if held.outstanding.len() >= MAX_OUTSTANDING
            && let Some(oldest) = held.outstanding.pop_front()
        {
            oldest.apply_to(&mut held.acked);
        }
        let pending = Pending {
            nonce: nonce.clone(),
            version,
            upserts,
            removals: removals.clone(),
        };
        pending.apply_to(&mut held.sent);
        held.outstanding.push_back(pending);
        let response = DeltaDiscoveryResponse {
            system_version_info: version.to_string(),
            resources,
            type_url: type_url.to_owned(),
            removed_resources: removals.into_iter().collect(),
            nonce,
            ..Default::default()
        };
        self.link.record(
            type_url,
            response.resources.len(),
            response.removed_resources.len(),
            response.encoded_len(),
        );
        self.link.send(response).await
    }
}
