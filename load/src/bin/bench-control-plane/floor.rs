//! The floor: Envoy alone applying one changed route in a table of N virtual hosts. The same
//! Envoy and Delta xDS server as the gateway's, fed the cheapest table Envoy can be given for N
//! hosts (one route each, one cluster, built directly with `envoy-types`, no translator), by a
//! control plane that does nothing but publish. What the gateway's own change costs beyond
//! this is ours. For comparison, the same with the translator's resources for N of the
//! benchmark's HTTPRoutes (translated before the clock starts): what the table's shape costs
//! Envoy.
//!
//! Envoy and its xDS server come from an embedded gateway over an empty folder, whose control
//! plane publishes once at start and then idles: the project's Envoy resolution, bootstrap and
//! Delta xDS, with the floor's snapshots published on its server.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use envoy_types::pb::envoy::config::cluster::v3::{Cluster, cluster};
use envoy_types::pb::envoy::config::core::v3::{
    Address, AggregatedConfigSource, ApiVersion, ConfigSource, SocketAddress, address,
    config_source::ConfigSourceSpecifier, socket_address,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use envoy_types::pb::envoy::config::listener::v3::{Filter, FilterChain, Listener, filter};
use envoy_types::pb::envoy::config::route::v3::{
    Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, route, route_action, route_match,
};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds, http_connection_manager, http_filter,
};
use envoy_types::pb::google::protobuf::{Any, Duration as ProtoDuration};
use envoy_types::util::pack_any;
use portcullis_echo::{EchoIdentity, EchoServer, pod_name};
use portcullis_model::{
    CONTROLLER_NAME, LoadReport, ObjectKey, SERVICE_NAME_LABEL, Snapshot, parse_documents,
};
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions};
use portcullis_translate::{PortMap, TranslateInput};
use serde::Serialize;

use super::{
    ANSWER_TIMEOUT, APPLY_TIMEOUT, CHANGED_ROUTE, GATEWAY, GATEWAY_PORT, SERVICES, Spread, base_yaml,
    envoy_memory, get, host, mib, ms, poll_until, route_yaml,
};

/// The one cluster, listener and route table of the floor.
const CLUSTER: &str = "floor-backend";
const LISTENER: &str = "floor";
const TABLE: &str = "floor";
/// Every host's one route, and the changed host's before its first change.
const PREFIX: &str = "/items";
/// Route tables (RDS).
const ROUTE_TYPE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

/// Resources by type URL, then by name: what an xDS snapshot holds.
type Resources = BTreeMap<String, BTreeMap<String, Any>>;

// ---------- the table ----------

/// `hosts` virtual hosts `r<i>.scale.example`, each with one route: path prefix `/items` (path
/// separated, as the translator emits a Gateway API `PathPrefix`) to the one cluster; host
/// [`CHANGED_ROUTE`]'s prefix is `changed_prefix`.
pub fn route_table(hosts: usize, changed_prefix: &str) -> RouteConfiguration {
    let virtual_hosts = (0..hosts)
        .map(|i| {
            let prefix = if i == CHANGED_ROUTE {
                changed_prefix
            } else {
                PREFIX
            };
            VirtualHost {
                name: format!("r{i}"),
                domains: vec![host(i)],
                routes: vec![Route {
                    r#match: Some(RouteMatch {
                        path_specifier: Some(route_match::PathSpecifier::PathSeparatedPrefix(
                            prefix.to_string(),
                        )),
                        ..Default::default()
                    }),
                    action: Some(route::Action::Route(RouteAction {
                        cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(CLUSTER.to_string())),
                        ..Default::default()
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    RouteConfiguration {
        name: TABLE.to_string(),
        virtual_hosts,
        ..Default::default()
    }
}

fn socket(addr: SocketAddr) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: addr.ip().to_string(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(u32::from(addr.port()))),
            ..Default::default()
        })),
    }
}

/// Every dynamic resource comes over the one ADS stream, as the gateway's do.
fn ads() -> ConfigSource {
    ConfigSource {
        resource_api_version: ApiVersion::V3 as i32,
        config_source_specifier: Some(ConfigSourceSpecifier::Ads(AggregatedConfigSource {})),
        ..Default::default()
    }
}

/// The gateway's HTTP connection manager minus ext_authz, rate limit and CORS: route table
/// [`TABLE`] over RDS, then the router.
fn connection_manager() -> HttpConnectionManager {
    HttpConnectionManager {
        stat_prefix: LISTENER.to_string(),
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(ads()),
            route_config_name: TABLE.to_string(),
        })),
        http_filters: vec![HttpFilter {
            name: "envoy.filters.http.router".to_string(),
            config_type: Some(http_filter::ConfigType::TypedConfig(pack_any(Router::default()))),
            ..Default::default()
        }],
        strip_port_mode: Some(http_connection_manager::StripPortMode::StripAnyHostPort(true)),
        ..Default::default()
    }
}

fn listener(address: SocketAddr) -> Listener {
    Listener {
        name: LISTENER.to_string(),
        address: Some(socket(address)),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".to_string(),
                config_type: Some(filter::ConfigType::TypedConfig(pack_any(connection_manager()))),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// An EDS cluster over ADS, as the translator makes for a Service.
fn backend_cluster() -> Cluster {
    Cluster {
        name: CLUSTER.to_string(),
        connect_timeout: Some(ProtoDuration { seconds: 2, nanos: 0 }),
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Eds as i32,
        )),
        eds_cluster_config: Some(cluster::EdsClusterConfig {
            eds_config: Some(ads()),
            service_name: String::new(),
        }),
        ..Default::default()
    }
}

fn load_assignment(backend: SocketAddr) -> ClusterLoadAssignment {
    ClusterLoadAssignment {
        cluster_name: CLUSTER.to_string(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints: vec![LbEndpoint {
                host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                    address: Some(socket(backend)),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The whole floor snapshot: the listener on `listen`, the cluster to `backend` and its
/// endpoint, and the route table packed as `table` (see [`route_table`]).
fn resources(listen: SocketAddr, backend: SocketAddr, table: Any) -> Resources {
    let mut out = Resources::new();
    for (name, any) in [
        (CLUSTER, pack_any(backend_cluster())),
        (CLUSTER, pack_any(load_assignment(backend))),
        (LISTENER, pack_any(listener(listen))),
        (TABLE, table),
    ] {
        out.entry(any.type_url.clone())
            .or_default()
            .insert(name.to_string(), any);
    }
    out
}

// ---------- publishing ----------

/// Publishes `resources` as `version` on the gateway's xDS server.
fn publish(gateway: &EmbeddedGateway, version: u64, resources: Resources) {
    gateway
        .xds()
        .publish(portcullis_xds::Snapshot { version, resources });
}

// ---------- the translator's table ----------

/// The translator's own resources for the benchmark's HTTPRoutes, with the backends'
/// EndpointSlices pointing at one echo: what the gateway publishes, translated before the
/// clock starts. Each route's file is parsed once.
struct Translated {
    base: LoadReport,
    routes: Vec<LoadReport>,
    apis: bool,
    listen: SocketAddr,
}

impl Translated {
    fn new(apis: bool, listen: SocketAddr, backend: SocketAddr) -> Self {
        let mut base = base_yaml();
        for s in 0..SERVICES {
            base.push_str("---\n");
            base.push_str(&endpoint_slice_yaml(s, backend));
        }
        Translated {
            base: parse_documents("base.yaml", &base),
            routes: Vec::new(),
            apis,
            listen,
        }
    }

    /// The resources for `hosts` routes, route [`CHANGED_ROUTE`]'s first rule matching
    /// `changed_prefix`.
    fn build(&mut self, hosts: usize, changed_prefix: &str) -> Result<Resources> {
        while self.routes.len() < hosts {
            let i = self.routes.len();
            let report = parse_documents(&format!("route-{i}.yaml"), &route_yaml(i, PREFIX, self.apis));
            self.routes.push(report);
        }
        let changed = parse_documents(
            "changed.yaml",
            &route_yaml(CHANGED_ROUTE, changed_prefix, self.apis),
        );
        let routes = self.routes[..hosts]
            .iter()
            .enumerate()
            .map(|(i, r)| if i == CHANGED_ROUTE { &changed } else { r });
        let (snapshot, errors) = Snapshot::from_reports(std::iter::once(&self.base).chain(routes));
        ensure!(errors.is_empty(), "loading the floor's routes: {errors:?}");
        let (namespace, name) = GATEWAY.split_once('/').unwrap_or(("", GATEWAY));
        let ports: PortMap = [((ObjectKey::new(namespace, name), GATEWAY_PORT), self.listen)].into();
        let translation = portcullis_translate::translate(&TranslateInput {
            snapshot: &snapshot,
            controller_name: CONTROLLER_NAME,
            also_serves: None,
            port_map: &ports,
        });
        Ok(translation.xds)
    }
}

/// Service `svc-<s>`'s endpoints: the one echo backend.
fn endpoint_slice_yaml(s: usize, backend: SocketAddr) -> String {
    format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n\
         metadata: {{name: svc-{s}-echo, namespace: scale, labels: {{{SERVICE_NAME_LABEL}: svc-{s}}}}}\n\
         addressType: IPv4\nendpoints: [{{addresses: [\"{ip}\"]}}]\nports: [{{name: http, port: {port}}}]\n",
        ip = backend.ip(),
        port = backend.port()
    )
}

// ---------- the measurement ----------

/// Which table the floor gives Envoy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Shape {
    /// One route per host to one cluster, built directly: the cheapest table of N hosts.
    Minimal,
    /// The translator's resources for N of the benchmark's HTTPRoutes (two rules each; with
    /// APIs, every tenth in an API), translated before the clock starts.
    Translator,
}

impl Shape {
    /// How the report names it.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Minimal => "minimal",
            Shape::Translator => "translator's",
        }
    }
}

/// One changed route in the floor's table.
#[derive(Clone, Debug, Serialize)]
pub struct FloorChange {
    /// `publish` alone: the xDS server hashing the new snapshot.
    pub publish_ms: f64,
    /// `publish` start → Envoy ACKed the version.
    pub ack_ms: f64,
    /// `publish` start → the changed host first answered 200 on its new path.
    pub answer_ms: f64,
}

/// The floor at one table size and shape.
#[derive(Clone, Debug, Serialize)]
pub struct Floor {
    /// Which table.
    pub shape: Shape,
    /// Virtual hosts in the table.
    pub hosts: usize,
    /// The route table(s), encoded.
    pub table_bytes: usize,
    /// Publishing the N-host table over an empty one → Envoy's ACK, once per repeat.
    pub load_ack_ms: Spread,
    /// Envoy's RSS after the table was loaded.
    pub envoy_rss_mib: f64,
    /// Envoy's allocated heap (tcmalloc) after the table was loaded.
    pub envoy_allocated_mib: f64,
    /// One changed route: `publish` alone (hashing).
    pub publish_ms: Spread,
    /// One changed route: `publish` start → Envoy's ACK.
    pub ack_ms: Spread,
    /// One changed route: `publish` start → the new answer.
    pub answer_ms: Spread,
    /// Each change.
    pub changes: Vec<FloorChange>,
}

/// What the floor measured, what it checked, and where its Envoy came from.
pub struct FloorRun {
    /// By shape, then table size.
    pub floors: Vec<Floor>,
    /// What worked as it should.
    pub checks: Vec<String>,
    /// What did not (an old path still answering, …).
    pub failures: Vec<String>,
    /// Where Envoy came from.
    pub envoy: String,
}

/// Starts a gateway over an empty folder (so its control plane publishes once, then idles)
/// and an echo backend, and measures the floor at each of `counts` (ascending, each above
/// [`CHANGED_ROUTE`]) `repeats` times: the minimal table, then the translator's (`apis` as
/// in the gateway's run).
pub async fn measure(
    counts: &[usize],
    repeats: usize,
    apis: bool,
    envoy_log_level: &str,
) -> Result<FloorRun> {
    let folder = tempfile::Builder::new()
        .prefix("bench-control-plane-floor-")
        .tempdir()
        .context("creating the floor's empty folder")?;
    let mut options = EmbeddedOptions::new(folder.path().to_path_buf());
    options.watch = false;
    options.delta = true;
    options.envoy_log_level = envoy_log_level.to_string();
    let gateway = EmbeddedGateway::start(options)
        .await
        .context("starting the floor's Envoy")?;
    let echo = EchoServer::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        EchoIdentity {
            namespace: "scale".to_string(),
            service: "echo".to_string(),
            pod: pod_name("echo", 0),
        },
    )
    .await
    .context("starting the echo backend")?;
    let mut run = FloorRun {
        floors: Vec::new(),
        checks: Vec::new(),
        failures: Vec::new(),
        envoy: format!("{:?}", gateway.envoy_source()),
    };
    let result = async {
        let backend = echo.local_addr();
        // A port per shape: the next shape's listener replaces the last one's.
        let listen = free_port()?;
        let mut minimal =
            |n: usize, prefix: &str| Ok(resources(listen, backend, pack_any(route_table(n, prefix))));
        let mut floor = Measure {
            gateway: &gateway,
            version: gateway.xds().current_version(),
            repeats,
        };
        floor
            .shape(Shape::Minimal, listen, &mut minimal, counts, &mut run)
            .await?;
        let listen = free_port()?;
        let mut translated = Translated::new(apis, listen, backend);
        let mut translator = |n: usize, prefix: &str| translated.build(n, prefix);
        floor
            .shape(Shape::Translator, listen, &mut translator, counts, &mut run)
            .await
    }
    .await;
    let shutdown = gateway.shutdown().await;
    drop(echo);
    result?;
    shutdown.context("stopping the floor's Envoy")?;
    Ok(run)
}

/// Builds the snapshot of N hosts with the changed host's prefix.
type Build<'a> = dyn FnMut(usize, &str) -> Result<Resources> + 'a;

/// Publishing on the floor's gateway.
struct Measure<'a> {
    gateway: &'a EmbeddedGateway,
    version: u64,
    repeats: usize,
}

impl Measure<'_> {
    /// Builds (off the clock, on this thread: nothing else of ours runs) and returns the next
    /// version.
    fn build(&mut self, build: &mut Build<'_>, n: usize, prefix: &str) -> Result<(u64, Resources)> {
        let resources = tokio::task::block_in_place(|| build(n, prefix))?;
        self.version += 1;
        Ok((self.version, resources))
    }

    async fn wait(&self, version: u64, what: &str) -> Result<()> {
        self.gateway
            .xds()
            .wait_until_applied(version, APPLY_TIMEOUT)
            .await
            .with_context(|| format!("floor: waiting for Envoy's ACK of {what}"))
    }

    /// The floor of one shape at every count.
    async fn shape(
        &mut self,
        shape: Shape,
        listen: SocketAddr,
        build: &mut Build<'_>,
        counts: &[usize],
        run: &mut FloorRun,
    ) -> Result<()> {
        let gateway = self.gateway;
        let label = shape.describe();
        for &n in counts {
            let (_, table) = self.build(build, n, PREFIX)?;
            let table_bytes: usize = table
                .get(ROUTE_TYPE)
                .map_or(0, |t| t.values().map(|a| a.value.len()).sum());
            let mut loads = Vec::new();
            for _ in 0..self.repeats {
                // From an empty table each time, so every sample is the same 0 → N push.
                let (empty, snapshot) = self.build(build, 0, PREFIX)?;
                publish(gateway, empty, snapshot);
                self.wait(empty, "the empty table").await?;
                let (full, snapshot) = self.build(build, n, PREFIX)?;
                let start = Instant::now();
                publish(gateway, full, snapshot);
                self.wait(full, &format!("{n} hosts")).await?;
                loads.push(ms(start.elapsed()));
            }
            let memory = envoy_memory(gateway).await?;
            match first_answer(listen, &host(CHANGED_ROUTE), &format!("{PREFIX}/x")).await {
                Ok(()) => run.checks.push(format!(
                    "floor ({label}), {n} hosts: r{CHANGED_ROUTE} answers 200 on {PREFIX}/x"
                )),
                Err(error) => run
                    .failures
                    .push(format!("floor ({label}), {n} hosts: {error:#}")),
            }

            let mut changes = Vec::new();
            let mut old_prefix = PREFIX.to_string();
            for k in 1..=self.repeats {
                let prefix = format!("{PREFIX}-v{k}");
                let (version, snapshot) = self.build(build, n, &prefix)?;
                let start = Instant::now();
                publish(gateway, version, snapshot);
                let published = start.elapsed();
                self.wait(version, &format!("change {k} at {n} hosts")).await?;
                let acked = start.elapsed();
                let new_path = format!("{prefix}/x");
                let answered = poll_until(listen, &host(CHANGED_ROUTE), &new_path, 200)
                    .await?
                    .duration_since(start);
                let old_path = format!("{old_prefix}/x");
                match get(listen, &host(CHANGED_ROUTE), &old_path).await {
                    Ok(404) => {}
                    other => run.failures.push(format!(
                        "floor ({label}), change {k} at {n} hosts: the old path {old_path} answered {other:?}"
                    )),
                }
                eprintln!(
                    "bench-control-plane: floor ({label}), change {k} at {n} hosts ({table_bytes} bytes): \
                     publish {:.1} ms, ACK after {:.1} ms, answered after {:.1} ms",
                    ms(published),
                    ms(acked),
                    ms(answered)
                );
                changes.push(FloorChange {
                    publish_ms: ms(published),
                    ack_ms: ms(acked),
                    answer_ms: ms(answered),
                });
                old_prefix = prefix;
            }
            let of = |f: &dyn Fn(&FloorChange) -> f64| Spread::of(&changes.iter().map(f).collect::<Vec<_>>());
            let floor = Floor {
                shape,
                hosts: n,
                table_bytes,
                load_ack_ms: Spread::of(&loads),
                envoy_rss_mib: mib(memory.rss_kib),
                envoy_allocated_mib: memory.allocated_bytes as f64 / (1024.0 * 1024.0),
                publish_ms: of(&|c| c.publish_ms),
                ack_ms: of(&|c| c.ack_ms),
                answer_ms: of(&|c| c.answer_ms),
                changes,
            };
            eprintln!(
                "bench-control-plane: floor ({label}) at {n} hosts: 0 → {n} hosts → ACK {} ms; one change → \
                 ACK {} ms, → answer {} ms; Envoy RSS {:.1} MiB",
                floor.load_ack_ms.show(1),
                floor.ack_ms.show(1),
                floor.answer_ms.show(1),
                floor.envoy_rss_mib
            );
            run.floors.push(floor);
        }
        Ok(())
    }
}

/// A free loopback port for the floor's listener (Envoy binds it once the listener is ACKed).
fn free_port() -> Result<SocketAddr> {
    let socket = std::net::TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    socket.local_addr().context("reading the free port")
}

/// Waits until `host` `path` answers 200, allowing for the listener's socket to open.
async fn first_answer(addr: SocketAddr, host: &str, path: &str) -> Result<()> {
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    loop {
        let answer = get(addr, host, path).await;
        if let Ok(200) = answer {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("http://{host}{path} answered {answer:?} instead of 200");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix_of(vh: &VirtualHost) -> Option<&str> {
        match vh.routes.first()?.r#match.as_ref()?.path_specifier.as_ref()? {
            route_match::PathSpecifier::PathSeparatedPrefix(p) => Some(p),
            _ => None,
        }
    }

    fn cluster_of(vh: &VirtualHost) -> Option<&str> {
        match vh.routes.first()?.action.as_ref()? {
            route::Action::Route(RouteAction {
                cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(c)),
                ..
            }) => Some(c),
            _ => None,
        }
    }

    #[test]
    fn route_table_has_one_route_per_host_and_the_changed_prefix() {
        let table = route_table(5, "/items-v3");
        assert_eq!(table.name, TABLE);
        assert_eq!(table.virtual_hosts.len(), 5);
        for (i, vh) in table.virtual_hosts.iter().enumerate() {
            assert_eq!(vh.domains, vec![format!("r{i}.scale.example")]);
            assert_eq!(vh.routes.len(), 1);
            let want = if i == CHANGED_ROUTE { "/items-v3" } else { "/items" };
            assert_eq!(prefix_of(vh), Some(want), "host {i}");
            assert_eq!(cluster_of(vh), Some(CLUSTER));
        }
        assert!(route_table(0, PREFIX).virtual_hosts.is_empty());
    }

    #[test]
    fn resources_are_one_of_each_type_named_as_they_refer_to_each_other() {
        let listen = SocketAddr::from(([127, 0, 0, 1], 10_000));
        let backend = SocketAddr::from(([127, 0, 0, 1], 10_001));
        let out = resources(listen, backend, pack_any(route_table(3, PREFIX)));
        let names: Vec<(String, Vec<&String>)> = out
            .iter()
            .map(|(t, r)| {
                (
                    t.rsplit('.').next().unwrap_or_default().to_string(),
                    r.keys().collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("Cluster".to_string(), vec![&CLUSTER.to_string()]),
                ("ClusterLoadAssignment".to_string(), vec![&CLUSTER.to_string()]),
                ("Listener".to_string(), vec![&LISTENER.to_string()]),
                ("RouteConfiguration".to_string(), vec![&TABLE.to_string()]),
            ]
        );
        // The listener asks RDS for the table by name, over ADS.
        let hcm = connection_manager();
        match hcm.route_specifier {
            Some(http_connection_manager::RouteSpecifier::Rds(rds)) => {
                assert_eq!(rds.route_config_name, TABLE);
                assert_eq!(rds.config_source, Some(ads()));
            }
            other => panic!("not RDS: {other:?}"),
        }
        assert_eq!(listener(listen).address, Some(socket(listen)));
        assert_eq!(load_assignment(backend).cluster_name, CLUSTER);
    }

    #[test]
    fn the_translators_table_has_the_routes_and_the_changed_prefix() {
        let listen = SocketAddr::from(([127, 0, 0, 1], 10_000));
        let backend = SocketAddr::from(([127, 0, 0, 9], 10_001));
        let mut translated = Translated::new(true, listen, backend);
        let first = translated.build(12, "/items").expect("the routes translate");
        let changed = translated
            .build(12, "/items-v1")
            .expect("the changed routes translate");
        let tables = |r: &Resources| r.get(ROUTE_TYPE).map(|t| t.len());
        assert_eq!(tables(&first), Some(1));
        // Only the route table differs, and it names the new prefix.
        for (type_url, resources) in &first {
            let same = changed.get(type_url) == Some(resources);
            assert_eq!(same, type_url != ROUTE_TYPE, "{type_url}");
        }
        let table = |r: &Resources| r[ROUTE_TYPE].values().next().map(|a| a.value.clone());
        let contains = |bytes: &[u8], s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
        let (first, changed) = (
            table(&first).unwrap_or_default(),
            table(&changed).unwrap_or_default(),
        );
        assert!(!contains(&first, "/items-v1") && contains(&changed, "/items-v1"));
        assert!(contains(&changed, "r11.scale.example"));
        // The backends' endpoints are the echo's.
        let one = translated.build(1, "/items").expect("one route");
        let endpoints = &one["type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"];
        assert!(!endpoints.is_empty());
        for any in endpoints.values() {
            assert!(contains(&any.value, "127.0.0.9"));
        }
    }

    #[test]
    fn the_table_grows_with_its_hosts() {
        let bytes = |n| pack_any(route_table(n, PREFIX)).value.len();
        assert!(bytes(1_000) > 10 * bytes(10), "{} vs {}", bytes(1_000), bytes(10));
    }
}
