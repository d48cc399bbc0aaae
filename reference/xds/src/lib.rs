//! portcullis-xds: an Envoy Aggregated Discovery Service (ADS) server.
//!
//! Publish a [`Snapshot`] of Envoy resources with [`XdsServer::publish`]; every
//! connected Envoy, whether it speaks State-of-the-World or Delta xDS, is pushed
//! what changed for it. [`XdsServer::node_states`] shows what each node ACKed or
//! NACKed, and [`XdsServer::wait_until_applied`] waits until Envoy runs a version.

mod delta;
mod error;
mod snapshot;
mod sotw;
mod state;
mod stats;
mod stream;
mod vhds;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_server::{
    AggregatedDiscoveryService, AggregatedDiscoveryServiceServer,
};
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info, warn};

pub use error::XdsError;
pub use snapshot::Snapshot;
pub use state::{Nack, NodeState, Protocol, TypeState};
pub use stats::SentCounts;

use snapshot::Prepared;
use state::{Progress, Registry, progress};
use stats::SentStats;
use stream::Link;

/// Type URLs of the resources Portcullis serves.
pub mod type_url {
    /// `envoy.config.cluster.v3.Cluster` (CDS).
    pub const CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    /// `envoy.config.endpoint.v3.ClusterLoadAssignment` (EDS).
    pub const ENDPOINT: &str = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    /// `envoy.config.listener.v3.Listener` (LDS).
    pub const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
    /// `envoy.config.route.v3.RouteConfiguration` (RDS).
    pub const ROUTE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    /// `envoy.extensions.transport_sockets.tls.v3.Secret` (SDS).
    pub const SECRET: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
    /// `envoy.config.route.v3.VirtualHost` (VHDS; Delta streams only, see [`XdsServer::with_vhds`](crate::XdsServer::with_vhds)).
    pub const VIRTUAL_HOST: &str = "type.googleapis.com/envoy.config.route.v3.VirtualHost";
    /// Every type above, in make-before-break push order.
    pub const ALL: [&str; 6] = [CLUSTER, ENDPOINT, SECRET, LISTENER, ROUTE, VIRTUAL_HOST];
}

/// Responses queued per stream before the stream task waits for Envoy to read.
const STREAM_BUFFER: usize = 16;

/// State shared by the server handle and every stream.
pub(crate) struct Shared {
    snapshots: watch::Sender<Arc<Prepared>>,
    registry: Registry,
    next_stream: AtomicU64,
    sent: SentStats,
    vhds: bool,
}

/// The ADS server; cheap to clone, all clones share one snapshot and node registry.
#[derive(Clone)]
pub struct XdsServer {
    shared: Arc<Shared>,
}

impl Default for XdsServer {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for XdsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XdsServer")
            .field("version", &self.current_version())
            .finish_non_exhaustive()
    }
}

impl XdsServer {
    /// A server with an empty snapshot at version 0; route tables are served whole.
    pub fn new() -> Self {
        Self::build(false)
    }

    /// As [`XdsServer::new`], but Delta streams get route tables split (VHDS): each
    /// `RouteConfiguration` without its virtual hosts, and every virtual host as a resource of
    /// its own, so one changed host pushes one small resource instead of the table. SotW
    /// streams still get whole tables (Envoy supports VHDS over Delta only). Envoy 1.40 still
    /// rebuilds the whole table on each VHDS update, so this saves bytes, not Envoy's time.
    pub fn with_vhds() -> Self {
        Self::build(true)
    }

    fn build(vhds: bool) -> Self {
        XdsServer {
            shared: Arc::new(Shared {
                snapshots: watch::Sender::new(Arc::new(Prepared::default())),
                registry: Registry::new(),
                next_stream: AtomicU64::new(1),
                sent: SentStats::default(),
                vhds,
            }),
        }
    }

    /// Replaces the current snapshot; every open stream pushes what changed for it.
    pub fn publish(&self, snapshot: Snapshot) {
        let previous = self.current_version();
        if snapshot.version <= previous && previous != 0 {
            // Still served, but waiters and Envoy's view of versions get confusing.
            warn!(
                previous,
                version = snapshot.version,
                "snapshot version did not increase"
            );
        }
        info!(version = snapshot.version, "publishing xDS snapshot");
        let version = snapshot.version;
        let previous = self.shared.snapshots.borrow().clone();
        let prepared = Prepared::new(snapshot, Some(&previous), self.shared.vhds);
        drop(previous);
        // A milestone for the control-plane benchmark: hashing ends here, streams start diffing.
        debug!(version, "prepared xDS snapshot");
        self.shared.snapshots.send_replace(Arc::new(prepared));
    }

    /// Version of the current snapshot.
    pub fn current_version(&self) -> u64 {
        self.shared.snapshots.borrow().version
    }

    /// The tonic service, to mount in a `tonic::transport::Server`.
    pub fn service(&self) -> AggregatedDiscoveryServiceServer<XdsServer> {
        AggregatedDiscoveryServiceServer::new(self.clone())
    }

    /// Serves ADS on an already-bound listener until the listener fails.
    pub async fn serve(self, listener: TcpListener) -> Result<(), XdsError> {
        if let Ok(addr) = listener.local_addr() {
            info!(%addr, "xDS server listening");
        }
        tonic::transport::Server::builder()
            .add_service(self.service())
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await?;
        Ok(())
    }

    /// What every stream sent so far, by type URL: responses, resources, removals and bytes.
    /// Take it before and after a change and subtract ([`SentCounts::since`]) to see what the
    /// change cost on the wire.
    pub fn sent_counts(&self) -> BTreeMap<String, SentCounts> {
        self.shared.sent.current()
    }

    /// Observable per-node ACK/NACK state, keyed by node id.
    pub fn node_states(&self) -> watch::Receiver<BTreeMap<String, NodeState>> {
        self.shared.registry.subscribe()
    }

    /// Waits until the current snapshot is at least `version` and every connected
    /// node runs it: it ACKed the current content of every type it subscribes to
    /// and of every type the snapshot has resources of, and subscribed to every
    /// resource name of the non-wildcard ones. With no node connected it keeps
    /// waiting. Fails fast with [`XdsError::Rejected`] if a node NACKs `version`
    /// or later, and with [`XdsError::Timeout`] after `timeout`.
    pub async fn wait_until_applied(&self, version: u64, timeout: Duration) -> Result<(), XdsError> {
        let mut snapshots = self.shared.snapshots.subscribe();
        let mut nodes = self.node_states();
        let mut pending = String::new();
        let wait = async {
            loop {
                {
                    let snapshot = snapshots.borrow_and_update().clone();
                    let nodes = nodes.borrow_and_update();
                    match progress(&snapshot, &nodes, version) {
                        Progress::Applied => return Ok(()),
                        Progress::Rejected(err) => return Err(err),
                        Progress::Pending(why) => pending = why,
                    }
                }
                // Both senders live in `self.shared`, so neither channel can close.
                tokio::select! {
                    _ = snapshots.changed() => {}
                    _ = nodes.changed() => {}
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(result) => result,
            Err(_) => Err(XdsError::Timeout {
                version,
                timeout,
                pending,
            }),
        }
    }

    fn link<Resp>(&self, tx: mpsc::Sender<Result<Resp, Status>>, protocol: Protocol) -> Link<Resp> {
        let id = self.shared.next_stream.fetch_add(1, Ordering::Relaxed);
        Link::new(id, self.shared.clone(), tx, protocol)
    }
}

#[tonic::async_trait]
impl AggregatedDiscoveryService for XdsServer {
    type StreamAggregatedResourcesStream = ReceiverStream<Result<DiscoveryResponse, Status>>;
    type DeltaAggregatedResourcesStream = ReceiverStream<Result<DeltaDiscoveryResponse, Status>>;

    async fn stream_aggregated_resources(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<Self::StreamAggregatedResourcesStream>, Status> {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let link = self.link(tx, Protocol::StateOfTheWorld);
        tokio::spawn(sotw::run(link, request.into_inner()));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn delta_aggregated_resources(
        &self,
        request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<Self::DeltaAggregatedResourcesStream>, Status> {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let link = self.link(tx, Protocol::Delta);
        tokio::spawn(delta::run(link, request.into_inner()));
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

#[cfg(test)]
mod tests;
