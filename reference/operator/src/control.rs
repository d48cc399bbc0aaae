//! The control loop: read the resources, translate, publish to Envoy, keep the statuses.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use portcullis_echo::{EchoIdentity, EchoServer, pod_name};
use portcullis_kube_source::KubeSource;
use portcullis_limiter::{DescriptorConfig, DomainConfig, Limiter, LimiterConfig, Unit};
use portcullis_model::{
    FolderCache, LoadError, LoadReport, ObjectKey, ObjectRef, Resource, SERVICE_NAME_LABEL, Skipped, Snapshot,
};
use portcullis_translate::envoy::rate_limit::RATE_LIMIT_DOMAIN;
use portcullis_translate::ir::{
    APPLICATION_DESCRIPTOR, RateLimitRule, RateLimitUnit, SUBSCRIBED_API_DESCRIPTOR,
};
use portcullis_translate::{Statuses, TranslateInput, Translation, XdsResources, translate};
use portcullis_xds::XdsServer;
use serde::Serialize;
use tokio::sync::{Mutex, watch};

use crate::error::OperatorError;
use crate::ports::{PortAllocator, PortPolicy};
use crate::profile::ApkProfile;
use crate::security::{enforcer_config, oauth_clients};
use portcullis_enforcer::Enforcer;
use portcullis_idp::{Idp, OAuthClient};

/// Where one Gateway listener can be reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListenerAddress {
    /// `namespace/name` of the Gateway.
    pub gateway: String,
    /// The listener's name.
    pub listener: String,
    /// The port the Gateway declares.
    pub port: i32,
    /// The local socket Envoy listens on for it.
    pub address: SocketAddr,
}

/// What the control plane last computed.
#[derive(Clone, Debug, Default)]
pub struct ControlView {
    /// The xDS snapshot version that carries it.
    pub version: u64,
    /// Status conditions.
    pub statuses: Statuses,
    /// Errors reading resources, each naming file and field.
    pub errors: Vec<String>,
    /// Listener addresses.
    pub listeners: Vec<ListenerAddress>,
    /// Echo backends running, by Service.
    pub echo_backends: BTreeMap<String, SocketAddr>,
    /// The resources translated, kept when reading from a cluster (statuses are written back
    /// against them).
    pub snapshot: Option<Arc<Snapshot>>,
}

/// Where the control plane reads resources.
enum Source {
    /// A folder of YAML files, re-parsed per changed file.
    Folder(PathBuf),
    /// The objects of an API server, with the IP written into Gateway addresses in place of
    /// an unspecified listen address.
    Cluster {
        objects: Arc<KubeSource>,
        advertise_ip: Option<IpAddr>,
    },
}

struct State {
    ports: PortAllocator,
    version: u64,
    published: Option<XdsResources>,
    echo: Option<BTreeMap<ObjectKey, EchoServer>>,
    skipped_seen: BTreeSet<String>,
    folder: Option<FolderCache>,
    missing_kinds_reported: bool,
}

/// One reload's resources: the folder's snapshot, kept between reloads and updated in place,
/// or a cluster's, built afresh.
enum Resources<'a> {
    Folder(&'a mut FolderCache),
    Cluster(Box<ClusterResources>),
}

/// A cluster's objects as a snapshot, with what reading them reported.
struct ClusterResources {
    snapshot: Snapshot,
    skipped: Vec<Skipped>,
    errors: Vec<LoadError>,
}

impl ClusterResources {
    fn new(report: LoadReport) -> Self {
        let (snapshot, errors) = Snapshot::from_report(&report);
        ClusterResources {
            snapshot,
            skipped: report.skipped,
            errors,
        }
    }
}

impl Resources<'_> {
    fn snapshot(&self) -> &Snapshot {
        match self {
            Resources::Folder(folder) => folder.snapshot(),
            Resources::Cluster(cluster) => &cluster.snapshot,
        }
    }

    fn skipped(&self) -> Vec<&Skipped> {
        match self {
            Resources::Folder(folder) => folder.skipped().collect(),
            Resources::Cluster(cluster) => cluster.skipped.iter().collect(),
        }
    }

    fn errors(&self) -> Vec<LoadError> {
        match self {
            Resources::Folder(folder) => folder.errors(),
            Resources::Cluster(cluster) => cluster.errors.clone(),
        }
    }

    /// Adds objects the source does not hold (for this reload only with a folder); returns
    /// those refused because the source defines them.
    fn add(&mut self, source: &str, extras: Vec<Resource>) -> Vec<ObjectRef> {
        match self {
            Resources::Folder(folder) => folder.add_extras(source, extras),
            Resources::Cluster(cluster) => extras
                .into_iter()
                .filter_map(|resource| {
                    let object = resource.object_ref();
                    cluster.snapshot.insert(source, resource).err().map(|_| object)
                })
                .collect(),
        }
    }
}

/// Reads the resources (a folder or a cluster) and programs the xDS server.
pub struct ControlPlane {
    source: Source,
    controller_name: String,
    xds: XdsServer,
    state: Mutex<State>,
    view: watch::Sender<Arc<ControlView>>,
    limiter: Option<Arc<Limiter>>,
    enforcer: Option<Arc<Enforcer>>,
    idp: Option<(Arc<Idp>, Vec<OAuthClient>)>,
    profile: Option<ApkProfile>,
}

impl ControlPlane {
    /// A control plane over a folder. With `echo_backends`, every Service without endpoints
    /// gets an echo server.
    pub fn new(
        resources_dir: PathBuf,
        controller_name: String,
        xds: XdsServer,
        policy: PortPolicy,
        echo_backends: bool,
    ) -> Self {
        let folder = FolderCache::new(resources_dir.clone());
        Self::with_source(
            Source::Folder(resources_dir),
            controller_name,
            xds,
            PortAllocator::new(policy),
            echo_backends.then(BTreeMap::new),
            Some(folder),
        )
    }

    /// A control plane over the objects of an API server. Listeners bind `listen_ip`; Gateway
    /// statuses carry `advertise_ip` when `listen_ip` is unspecified (`0.0.0.0`).
    pub fn for_cluster(
        objects: Arc<KubeSource>,
        controller_name: String,
        xds: XdsServer,
        policy: PortPolicy,
        listen_ip: IpAddr,
        advertise_ip: Option<IpAddr>,
    ) -> Self {
        Self::with_source(
            Source::Cluster {
                objects,
                advertise_ip,
            },
            controller_name,
            xds,
            PortAllocator::on(policy, listen_ip),
            None,
            None,
        )
    }

    fn with_source(
        source: Source,
        controller_name: String,
        xds: XdsServer,
        ports: PortAllocator,
        echo: Option<BTreeMap<ObjectKey, EchoServer>>,
        folder: Option<FolderCache>,
    ) -> Self {
        ControlPlane {
            source,
            controller_name,
            xds,
            state: Mutex::new(State {
                ports,
                version: 0,
                published: None,
                echo,
                skipped_seen: BTreeSet::new(),
                folder,
                missing_kinds_reported: false,
            }),
            view: watch::channel(Arc::new(ControlView::default())).0,
            limiter: None,
            enforcer: None,
            idp: None,
            profile: None,
        }
    }

    /// Pushes the security of every translation to this enforcer (before Envoy gets the routes
    /// that need it).
    pub fn with_enforcer(mut self, enforcer: Arc<Enforcer>) -> Self {
        self.enforcer = Some(enforcer);
        self
    }

    /// Registers OAuth2 clients from resources (and these built-in ones) with the IdP.
    pub fn with_idp(mut self, idp: Arc<Idp>, built_in: Vec<OAuthClient>) -> Self {
        self.idp = Some((idp, built_in));
        self
    }

    /// Adds the APK profile's resources to every snapshot.
    pub fn with_profile(mut self, profile: ApkProfile) -> Self {
        self.profile = Some(profile);
        self
    }

    /// Pushes the rate limits of every translation to this limiter (before Envoy gets the
    /// routes that use them).
    pub fn with_limiter(mut self, limiter: Arc<Limiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The folder it reads, unless it reads a cluster.
    pub fn resources_dir(&self) -> Option<&Path> {
        match &self.source {
            Source::Folder(dir) => Some(dir),
            Source::Cluster { .. } => None,
        }
    }

    /// Follows what the control plane computes.
    pub fn view(&self) -> watch::Receiver<Arc<ControlView>> {
        self.view.subscribe()
    }

    /// Re-reads the resources, translates and publishes. Returns the xDS version that carries
    /// the result (unchanged when nothing Envoy sees changed). Never fails on bad resources:
    /// those are reported in statuses and errors, and the rest is served.
    pub async fn reload(&self) -> Result<u64, OperatorError> {
        self.reload_from(None).await
    }

    /// As [`ControlPlane::reload`], when only these paths of the folder may have changed (a
    /// file watcher's events): the other files are not even looked at. A cluster source
    /// reloads whole.
    pub async fn reload_changed(&self, changed: Vec<PathBuf>) -> Result<u64, OperatorError> {
        self.reload_from(Some(changed)).await
    }

    async fn reload_from(&self, changed: Option<Vec<PathBuf>>) -> Result<u64, OperatorError> {
        let mut guard = self.state.lock().await;
        // One borrow per field, so the folder's snapshot can be read while other fields change.
        let state = &mut *guard;
        let mut resources = match &self.source {
            Source::Folder(dir) => {
                // Only files that changed since the last reload are read and parsed again.
                let mut folder = state.folder.take().unwrap_or_else(|| FolderCache::new(dir));
                let (folder, refreshed) = tokio::task::spawn_blocking(move || {
                    let stats = match &changed {
                        Some(paths) => folder.refresh_paths(paths),
                        None => folder.refresh(),
                    };
                    (folder, stats)
                })
                .await
                .map_err(|e| OperatorError::io("reading resources", std::io::Error::other(e)))?;
                tracing::debug!(
                    parsed = refreshed.parsed,
                    reused = refreshed.reused,
                    removed = refreshed.removed,
                    "read the resource folder"
                );
                Resources::Folder(state.folder.insert(folder))
            }
            Source::Cluster { objects, .. } => {
                if !state.missing_kinds_reported {
                    let missing = objects.missing_kinds();
                    if !missing.is_empty() {
                        tracing::info!(kinds = ?missing, "the API server does not serve these kinds (CRDs not installed); watching the others");
                    }
                    state.missing_kinds_reported = true;
                }
                Resources::Cluster(Box::new(ClusterResources::new(objects.report())))
            }
        };
        let mut newly_skipped = Vec::new();
        for skipped in resources.skipped() {
            let id = format!("{} {} {}", skipped.kind, skipped.name, skipped.source);
            if !state.skipped_seen.contains(&id) {
                tracing::info!(source = %skipped.source, kind = %skipped.kind, name = %skipped.name, "skipping a kind portcullis does not serve");
                newly_skipped.push(id);
            }
        }
        state.skipped_seen.extend(newly_skipped);
        let mut errors: Vec<String> = resources.errors().iter().map(ToString::to_string).collect();
        for error in &errors {
            tracing::warn!("{error}");
        }
        if let Some(profile) = &self.profile {
            for object in resources.add("(apk profile)", profile.resources().to_vec()) {
                tracing::debug!(%object, "the user's definition replaces the profile's");
            }
        }
        let mut echo_backends = BTreeMap::new();
        if let Some(echo) = state.echo.as_mut() {
            let mut slices = Vec::new();
            if let Err(error) = sync_echo_backends(echo, resources.snapshot(), &mut slices).await {
                tracing::warn!("{error}");
                errors.push(error.to_string());
            }
            // A user's own slice with the same name wins; ours is only a stand-in.
            resources.add("(echo backend)", slices);
            echo_backends = echo
                .iter()
                .map(|(k, s)| (k.to_string(), s.local_addr()))
                .collect();
        }
        let snapshot = resources.snapshot();
        let port_map = state.ports.allocate(snapshot).clone();
        let Translation { ir, statuses, xds } = translate(&TranslateInput {
            snapshot,
            controller_name: &self.controller_name,
            also_serves: self.profile.as_ref().map(|_| crate::profile::APK_CONTROLLER_NAME),
            port_map: &port_map,
        });
        if let Some(limiter) = &self.limiter {
            for error in limiter.update_config(limiter_config(&ir.rate_limits)) {
                // The translator validated every limit; this would be a bug, not bad input.
                tracing::error!("rate-limit configuration rejected: {error}");
            }
        }
        if let Some(enforcer) = &self.enforcer {
            // A push rebuilds the enforcer's indexes and empties its token cache: only on change.
            let config = enforcer_config(&ir.security);
            if enforcer.config() != config {
                enforcer.update_config(config);
            }
        }
        if let Some((idp, built_in)) = &self.idp {
            let mut clients = built_in.clone();
            clients.extend(oauth_clients(snapshot, &ir.security));
            idp.set_clients(clients);
        }
        // The IR is as large as the route table; gone before the xDS server prepares its copy.
        drop(ir);
        if state.published.as_ref() != Some(&xds) {
            state.version += 1;
            // The previous configuration first, so two are never held besides the server's.
            state.published = None;
            self.xds.publish(portcullis_xds::Snapshot {
                version: state.version,
                resources: xds.clone(),
            });
            state.published = Some(xds);
            tracing::info!(version = state.version, "published a new configuration");
        }
        let listeners = listener_addresses(snapshot, &port_map, &statuses);
        let mut statuses = statuses;
        let kept_snapshot = match resources {
            Resources::Folder(folder) => {
                folder.clear_extras();
                None
            }
            Resources::Cluster(report) => {
                if let Source::Cluster {
                    advertise_ip: Some(ip),
                    ..
                } = &self.source
                {
                    advertise(&mut statuses, *ip);
                }
                Some(Arc::new(report.snapshot))
            }
        };
        self.view.send_replace(Arc::new(ControlView {
            version: state.version,
            statuses,
            errors,
            listeners,
            echo_backends,
            snapshot: kept_snapshot,
        }));
        Ok(state.version)
    }

    /// Stops the echo backends.
    pub async fn shutdown(&self) {
        let mut state = self.state.lock().await;
        if let Some(echo) = state.echo.as_mut() {
            for (_, server) in std::mem::take(echo) {
                server.shutdown().await;
            }
        }
    }
}

/// The limiter's view of the translated limits: one domain, one descriptor per limit.
fn limiter_config(rules: &[RateLimitRule]) -> LimiterConfig {
    let descriptors = rules
        .iter()
        .map(|rule| {
            let unit = match rule.unit {
                RateLimitUnit::Second => Unit::Second,
                RateLimitUnit::Minute => Unit::Minute,
                RateLimitUnit::Hour => Unit::Hour,
                RateLimitUnit::Day => Unit::Day,
            };
            let limited = |descriptor: DescriptorConfig| {
                let descriptor = descriptor.limit(i64::from(rule.requests_per_unit), unit);
                if rule.shadow {
                    descriptor.shadow()
                } else {
                    descriptor
                }
            };
            if rule.per_subscription {
                // tier → each application → each API: one counter per subscription.
                return DescriptorConfig::key_value(
                    rule.descriptor.key.clone(),
                    rule.descriptor.value.clone(),
                )
                .children([DescriptorConfig::key(APPLICATION_DESCRIPTOR)
                    .children([limited(DescriptorConfig::key(SUBSCRIBED_API_DESCRIPTOR))])]);
            }
            if rule.descriptor.value.is_empty() {
                // Any value, each with its own counter.
                limited(DescriptorConfig::key(rule.descriptor.key.clone()))
            } else {
                limited(DescriptorConfig::key_value(
                    rule.descriptor.key.clone(),
                    rule.descriptor.value.clone(),
                ))
            }
        })
        .collect();
    LimiterConfig {
        domains: [(RATE_LIMIT_DOMAIN.to_string(), DomainConfig { descriptors })].into(),
    }
}

/// Replaces unspecified IPs (`0.0.0.0`, `::`) in Gateway addresses with the one clients use.
fn advertise(statuses: &mut Statuses, ip: IpAddr) {
    for address in statuses
        .gateways
        .values_mut()
        .flat_map(|g| g.addresses.iter_mut())
    {
        if address.type_ == "IPAddress" {
            if address.value.parse::<IpAddr>().is_ok_and(|a| a.is_unspecified()) {
                address.value = ip.to_string();
            }
        } else if let Some((port, socket)) = address.value.split_once('=')
            && let Ok(socket) = socket.parse::<SocketAddr>()
            && socket.ip().is_unspecified()
        {
            address.value = format!("{port}={}", SocketAddr::new(ip, socket.port()));
        }
    }
}

fn listener_addresses(
    snapshot: &Snapshot,
    port_map: &portcullis_translate::PortMap,
    statuses: &Statuses,
) -> Vec<ListenerAddress> {
    let mut out = Vec::new();
    for (key, gateway) in &snapshot.gateways {
        // Only Gateways of ours have a status.
        if statuses.gateway(key).is_none() {
            continue;
        }
        for listener in &gateway.spec.listeners {
            if let Some(address) = port_map.get(&(key.clone(), listener.port)) {
                out.push(ListenerAddress {
                    gateway: key.to_string(),
                    listener: listener.name.clone(),
                    port: listener.port,
                    address: *address,
                });
            }
        }
    }
    out
}

/// Starts echo servers for Services that have no endpoints, stops those no longer needed, and
/// gives an EndpointSlice for each.
async fn sync_echo_backends(
    echo: &mut BTreeMap<ObjectKey, EchoServer>,
    snapshot: &Snapshot,
    slices: &mut Vec<Resource>,
) -> Result<(), OperatorError> {
    let wanted: BTreeSet<ObjectKey> = snapshot.services_without_endpoints().into_iter().collect();
    let stale: Vec<ObjectKey> = echo.keys().filter(|k| !wanted.contains(*k)).cloned().collect();
    for key in stale {
        if let Some(server) = echo.remove(&key) {
            server.shutdown().await;
        }
    }
    let mut first_error = None;
    for key in wanted {
        if !echo.contains_key(&key) {
            let identity = EchoIdentity {
                namespace: key.namespace.clone(),
                service: key.name.clone(),
                pod: pod_name(&key.name, 0),
            };
            match EchoServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), identity).await {
                Ok(server) => {
                    tracing::info!(service = %key, address = %server.local_addr(), "echo backend started");
                    echo.insert(key.clone(), server);
                }
                Err(error) => {
                    first_error.get_or_insert(OperatorError::Echo {
                        service: key.to_string(),
                        message: error.to_string(),
                    });
                    continue;
                }
            }
        }
        let Some(server) = echo.get(&key) else { continue };
        let ports = snapshot
            .services
            .get(&key)
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.ports.clone())
            .unwrap_or_default();
        let slice = EndpointSlice {
            metadata: ObjectMeta {
                name: Some(format!("{}-echo", key.name)),
                namespace: Some(key.namespace.clone()),
                labels: Some([(SERVICE_NAME_LABEL.to_string(), key.name.clone())].into()),
                generation: Some(1),
                ..Default::default()
            },
            address_type: "IPv4".to_string(),
            endpoints: Some(vec![Endpoint {
                addresses: vec![server.local_addr().ip().to_string()],
                ..Default::default()
            }]),
            ports: Some(
                ports
                    .iter()
                    .map(|p| EndpointPort {
                        name: p.name.clone(),
                        port: Some(i32::from(server.local_addr().port())),
                        ..Default::default()
                    })
                    .collect(),
            ),
        };
        slices.push(Resource::EndpointSlice(slice));
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_translate::status::{GatewayAddress, GatewayStatus};

    fn address(type_: &str, value: &str) -> GatewayAddress {
        GatewayAddress {
            type_: type_.to_string(),
            value: value.to_string(),
        }
    }

    #[test]
    fn unspecified_listen_addresses_are_advertised_as_the_given_ip() {
        let mut statuses = Statuses::default();
        statuses.gateways.insert(
            "ns/gw".to_string(),
            GatewayStatus {
                addresses: vec![
                    address("IPAddress", "0.0.0.0"),
                    address(
                        portcullis_translate::status::LISTENER_ADDRESS_TYPE,
                        "80=0.0.0.0:80",
                    ),
                    address(
                        portcullis_translate::status::LISTENER_ADDRESS_TYPE,
                        "81=127.0.0.1:4000",
                    ),
                    address("Hostname", "gw.example.com"),
                ],
                ..GatewayStatus::default()
            },
        );
        advertise(&mut statuses, "10.244.0.7".parse().expect("ip"));
        let values: Vec<&str> = statuses.gateways["ns/gw"]
            .addresses
            .iter()
            .map(|a| a.value.as_str())
            .collect();
        assert_eq!(
            values,
            [
                "10.244.0.7",
                "80=10.244.0.7:80",
                "81=127.0.0.1:4000",
                "gw.example.com"
            ]
        );
    }
}
