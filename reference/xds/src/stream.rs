//! What SotW and Delta streams share: identity, nonces, the outgoing channel,
//! waiting for the next thing to do, and deregistration when the stream ends.

use std::sync::Arc;

use envoy_types::pb::envoy::config::core::v3::Node;
use tokio::sync::{mpsc, watch};
use tokio_stream::StreamExt;
use tonic::{Status, Streaming};
use tracing::{debug, info};

use crate::Shared;
use crate::snapshot::Prepared;
use crate::state::{Protocol, TypeState};

/// The client went away (or the server is shutting down); the stream should end.
#[derive(Debug)]
pub(crate) struct Gone;

/// Something a stream task must react to.
pub(crate) enum Event<Req> {
    /// Envoy sent a request.
    Request(Req),
    /// A new snapshot was published.
    Snapshot(Arc<Prepared>),
    /// The stream is over.
    Closed,
}

/// One stream's connection to the server; deregisters the stream when dropped.
pub(crate) struct Link<Resp> {
    id: u64,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Result<Resp, Status>>,
    snapshots: watch::Receiver<Arc<Prepared>>,
    protocol: Protocol,
    node: Option<String>,
    last_nonce: u64,
}

impl<Resp> Link<Resp> {
    pub(crate) fn new(
        id: u64,
        shared: Arc<Shared>,
        tx: mpsc::Sender<Result<Resp, Status>>,
        protocol: Protocol,
    ) -> Self {
        let snapshots = shared.snapshots.subscribe();
        Link {
            id,
            shared,
            tx,
            snapshots,
            protocol,
            node: None,
            last_nonce: 0,
        }
    }

    /// The snapshot this stream serves until the next `Event::Snapshot`.
    pub(crate) fn initial_snapshot(&mut self) -> Arc<Prepared> {
        self.snapshots.borrow_and_update().clone()
    }

    /// Waits for the next request, snapshot or the end of the stream.
    pub(crate) async fn next_event<Req>(&mut self, requests: &mut Streaming<Req>) -> Event<Req> {
        tokio::select! {
            req = requests.next() => match req {
                Some(Ok(req)) => Event::Request(req),
                Some(Err(status)) => {
                    debug!(stream = self.id, %status, "xDS stream ended with an error");
                    Event::Closed
                }
                None => Event::Closed,
            },
            changed = self.snapshots.changed() => match changed {
                Ok(()) => Event::Snapshot(self.snapshots.borrow_and_update().clone()),
                // The server itself is gone.
                Err(_) => Event::Closed,
            },
            () = self.tx.closed() => Event::Closed,
        }
    }

    /// Learns the node id from the first request that names one; registers the stream.
    pub(crate) fn identify(&mut self, node: Option<&Node>) {
        if self.node.is_some() {
            return;
        }
        let id = match node {
            Some(n) if !n.id.is_empty() => n.id.clone(),
            // Envoy always sends a node id; keep anonymous clients apart anyway.
            _ => format!("unknown-stream-{}", self.id),
        };
        info!(node = %id, stream = self.id, protocol = ?self.protocol, "Envoy connected");
        self.shared.registry.connect(self.id, &id, self.protocol);
        self.node = Some(id);
    }

    /// The node id, once known.
    pub(crate) fn node(&self) -> &str {
        self.node.as_deref().unwrap_or("")
    }

    /// A nonce unique on this stream.
    pub(crate) fn nonce(&mut self) -> String {
        self.last_nonce += 1;
        self.last_nonce.to_string()
    }

    /// Publishes this stream's per-type state.
    pub(crate) fn report(&self, types: &std::collections::BTreeMap<String, TypeState>) {
        self.shared.registry.update(self.id, types);
    }

    /// Counts a response of `type_url` before it is sent.
    pub(crate) fn record(&self, type_url: &str, resources: usize, removals: usize, bytes: usize) {
        self.shared.sent.record(type_url, resources, removals, bytes);
    }

    /// Sends a response to Envoy.
    pub(crate) async fn send(&self, resp: Resp) -> Result<(), Gone> {
        self.tx.send(Ok(resp)).await.map_err(|_| Gone)
    }
}

impl<Resp> Drop for Link<Resp> {
    fn drop(&mut self) {
        if let Some(node) = &self.node {
            info!(node = %node, stream = self.id, "Envoy disconnected");
        }
        self.shared.registry.disconnect(self.id);
    }
}
