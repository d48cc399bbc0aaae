//! State-of-the-World ADS streams: every response carries all requested resources of a type.

use std::collections::BTreeMap;
use std::sync::Arc;

use envoy_types::pb::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use prost::Message;
use tonic::Streaming;
use tracing::{debug, warn};

use crate::snapshot::{Prepared, Subscription, digest, is_known, is_wildcard, push_order, selection_digest};
use crate::state::{Protocol, TypeState};
use crate::stream::{Event, Gone, Link};

/// What these streams speak (route tables are never split for them).
const PROTOCOL: Protocol = Protocol::StateOfTheWorld;

/// The last response sent for a type, to match ACKs and detect changes.
struct Sent {
    nonce: String,
    version: u64,
    digest: String,
}

/// One SotW stream's state.
struct SotwStream {
    link: Link<DiscoveryResponse>,
    snapshot: Arc<Prepared>,
    states: BTreeMap<String, TypeState>,
    sent: BTreeMap<String, Sent>,
}

/// Serves one SotW stream until the client goes away.
pub(crate) async fn run(mut link: Link<DiscoveryResponse>, mut requests: Streaming<DiscoveryRequest>) {
    let snapshot = link.initial_snapshot();
    let mut stream = SotwStream {
        link,
        snapshot,
        states: BTreeMap::new(),
        sent: BTreeMap::new(),
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

impl SotwStream {
    async fn on_request(&mut self, req: DiscoveryRequest) -> Result<(), Gone> {
        self.link.identify(req.node.as_ref());
        let type_url = req.type_url;
        if !is_known(&type_url, &self.snapshot) {
            debug!(node = self.link.node(), %type_url, "request for unknown type; answering with no resources");
        }
        let state = self.states.entry(type_url.clone()).or_default();
        let sent = self.sent.get(&type_url);

        if !req.response_nonce.is_empty()
            && let Some(sent) = sent
        {
            if sent.nonce != req.response_nonce {
                // A reply to a response Envoy has since been superseded by: the
                // protocol says to ignore it; Envoy will reply to the newer one.
                debug!(node = self.link.node(), %type_url, nonce = %req.response_nonce, "ignoring request with stale nonce");
                return Ok(());
            }
            match &req.error_detail {
                Some(err) => {
                    warn!(
                        node = self.link.node(),
                        %type_url,
                        version = sent.version,
                        error = %err.message,
                        "Envoy rejected configuration (NACK); keeping its last good config"
                    );
                    state.nack(sent.version, err.message.clone());
                }
                None => {
                    debug!(node = self.link.node(), %type_url, version = sent.version, "ACK");
                    state.ack(sent.version, sent.digest.clone());
                }
            }
        }

        let sub = Subscription {
            wildcard: is_wildcard(&type_url, &req.resource_names),
            names: req.resource_names.into_iter().filter(|n| n != "*").collect(),
        };
        let changed = sub != state.subscription();
        state.set_subscription(&sub);
        // A request without a nonce is an initial (or re-)request: always answer it.
        let respond = req.response_nonce.is_empty() || sent.is_none() || changed;
        self.link.report(&self.states);
        if respond {
            self.respond(&type_url).await?;
        }
        Ok(())
    }

    async fn on_snapshot(&mut self, snapshot: Arc<Prepared>) -> Result<(), Gone> {
        self.snapshot = snapshot;
        let types: Vec<String> = push_order(self.states.keys()).into_iter().cloned().collect();
        for type_url in types {
            let sub = self
                .states
                .get(&type_url)
                .map(TypeState::subscription)
                .unwrap_or_default();
            let current = selection_digest(&sub, &type_url, self.snapshot.of(PROTOCOL, &type_url));
            let unchanged = self.sent.get(&type_url).is_some_and(|s| s.digest == current);
            if !unchanged {
                self.respond(&type_url).await?;
            }
        }
        Ok(())
    }

    /// The resources of `type_url` this stream asked for, and their digest.
    fn selection(&self, type_url: &str) -> (Vec<envoy_types::pb::google::protobuf::Any>, String) {
        let sub = self
            .states
            .get(type_url)
            .map(TypeState::subscription)
            .unwrap_or_default();
        let selected = sub.select(type_url, self.snapshot.of(PROTOCOL, type_url));
        let digest = digest(selected.iter().map(|(n, e)| (*n, e.hash.as_str())));
        let resources = selected.into_values().map(|e| e.any.clone()).collect();
        (resources, digest)
    }

    async fn respond(&mut self, type_url: &str) -> Result<(), Gone> {
        let (resources, digest) = self.selection(type_url);
        let nonce = self.link.nonce();
        let version = self.snapshot.version;
        debug!(node = self.link.node(), %type_url, version, nonce, count = resources.len(), "sending SotW response");
        self.sent.insert(
            type_url.to_owned(),
            Sent {
                nonce: nonce.clone(),
                version,
                digest,
            },
        );
        let response = DiscoveryResponse {
            version_info: version.to_string(),
            resources,
            type_url: type_url.to_owned(),
            nonce,
            ..Default::default()
        };
        self.link
            .record(type_url, response.resources.len(), 0, response.encoded_len());
        self.link.send(response).await
    }
}
