//! End-to-end tests: a real tonic server on 127.0.0.1:0 and the envoy-types client
//! playing Envoy over both SotW and Delta ADS.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::core::v3::{DataSource, Node, data_source};
use envoy_types::pb::envoy::config::endpoint::v3::{ClusterLoadAssignment, LocalityLbEndpoints};
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::{RouteConfiguration, VirtualHost};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{GenericSecret, Secret, secret};
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use envoy_types::pb::google::protobuf::Any;
use envoy_types::pb::google::rpc::Status as RpcStatus;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use tonic::transport::Channel;

use crate::{NodeState, Snapshot, XdsError, XdsServer, type_url};

/// Upper bound for anything that should happen.
const WAIT: Duration = Duration::from_secs(5);
/// How long to listen to prove that nothing is sent.
const QUIET: Duration = Duration::from_millis(300);

// ---------- resource builders ----------

fn pack<M: Message>(type_url: &str, msg: &M) -> Any {
    Any {
        type_url: type_url.to_owned(),
        value: msg.encode_to_vec(),
    }
}

/// A cluster; `variant` changes its content.
fn cluster(name: &str, variant: u32) -> (&'static str, String, Any) {
    let c = Cluster {
        name: name.to_owned(),
        alt_stat_name: format!("v{variant}"),
        ..Default::default()
    };
    (type_url::CLUSTER, name.to_owned(), pack(type_url::CLUSTER, &c))
}

fn cla(name: &str, variant: u32) -> (&'static str, String, Any) {
    let c = ClusterLoadAssignment {
        cluster_name: name.to_owned(),
        endpoints: vec![LocalityLbEndpoints {
            priority: variant,
            ..Default::default()
        }],
        ..Default::default()
    };
    (type_url::ENDPOINT, name.to_owned(), pack(type_url::ENDPOINT, &c))
}

fn listener(name: &str, variant: u32) -> (&'static str, String, Any) {
    let l = Listener {
        name: name.to_owned(),
        stat_prefix: format!("v{variant}"),
        ..Default::default()
    };
    (type_url::LISTENER, name.to_owned(), pack(type_url::LISTENER, &l))
}

fn route(name: &str, variant: u32) -> (&'static str, String, Any) {
    let r = RouteConfiguration {
        name: name.to_owned(),
        virtual_hosts: vec![VirtualHost {
            name: format!("v{variant}"),
            ..Default::default()
        }],
        ..Default::default()
    };
    (type_url::ROUTE, name.to_owned(), pack(type_url::ROUTE, &r))
}

fn secret(name: &str, variant: u32) -> (&'static str, String, Any) {
    let s = Secret {
        name: name.to_owned(),
        r#type: Some(secret::Type::GenericSecret(GenericSecret {
            secret: Some(DataSource {
                specifier: Some(data_source::Specifier::InlineString(format!("v{variant}"))),
                ..Default::default()
            }),
            ..Default::default()
        })),
    };
    (type_url::SECRET, name.to_owned(), pack(type_url::SECRET, &s))
}

fn snapshot(version: u64, items: Vec<(&'static str, String, Any)>) -> Snapshot {
    let mut resources: BTreeMap<String, BTreeMap<String, Any>> = BTreeMap::new();
    for (t, name, any) in items {
        resources.entry(t.to_owned()).or_default().insert(name, any);
    }
    Snapshot { version, resources }
}

/// The name inside a packed resource, decoded as Envoy would.
fn resource_name(any: &Any) -> String {
    let bytes = any.value.as_slice();
    match any.type_url.as_str() {
        type_url::CLUSTER => Cluster::decode(bytes).unwrap().name,
        type_url::ENDPOINT => ClusterLoadAssignment::decode(bytes).unwrap().cluster_name,
        type_url::LISTENER => Listener::decode(bytes).unwrap().name,
        type_url::ROUTE => RouteConfiguration::decode(bytes).unwrap().name,
        type_url::SECRET => Secret::decode(bytes).unwrap().name,
        other => panic!("unexpected type {other}"),
    }
}

fn names(resp: &DiscoveryResponse) -> Vec<String> {
    resp.resources.iter().map(resource_name).collect()
}

fn delta_names(resp: &DeltaDiscoveryResponse) -> Vec<String> {
    resp.resources.iter().map(|r| r.name.clone()).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------- harness ----------

async fn start() -> (XdsServer, AggregatedDiscoveryServiceClient<Channel>) {
    start_with(XdsServer::new()).await
}

async fn start_with(server: XdsServer) -> (XdsServer, AggregatedDiscoveryServiceClient<Channel>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.clone().serve(listener));
    let client = timeout(
        WAIT,
        AggregatedDiscoveryServiceClient::connect(format!("http://{addr}")),
    )
    .await
    .expect("connect timed out")
    .expect("connect failed");
    (server, client)
}

/// Waits until the node states satisfy `pred`.
async fn wait_nodes(server: &XdsServer, pred: impl Fn(&BTreeMap<String, NodeState>) -> bool) {
    let mut rx = server.node_states();
    let matched = timeout(WAIT, rx.wait_for(|m| pred(m))).await.is_ok();
    assert!(
        matched,
        "node state never matched: {:#?}",
        *server.node_states().borrow()
    );
}

/// A SotW stream seen from Envoy's side.
struct Sotw {
    tx: mpsc::Sender<DiscoveryRequest>,
    rx: Streaming<DiscoveryResponse>,
}

impl Sotw {
    async fn open(client: &mut AggregatedDiscoveryServiceClient<Channel>) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let resp = timeout(WAIT, client.stream_aggregated_resources(ReceiverStream::new(rx)))
            .await
            .expect("open timed out")
            .expect("open failed");
        Sotw {
            tx,
            rx: resp.into_inner(),
        }
    }

    async fn send(&self, req: DiscoveryRequest) {
        self.tx.send(req).await.unwrap();
    }

    /// Sends a request (node only when `node` is given) and nothing else.
    async fn request(&self, node: Option<&str>, type_url: &str, names: &[&str]) {
        self.send(sotw_req(node, type_url, names, "", "", None)).await;
    }

    /// ACKs `resp`, keeping the subscription `names`.
    async fn ack(&self, resp: &DiscoveryResponse, names: &[&str]) {
        self.send(sotw_req(
            None,
            &resp.type_url,
            names,
            &resp.version_info,
            &resp.nonce,
            None,
        ))
        .await;
    }

    async fn recv(&mut self) -> DiscoveryResponse {
        timeout(WAIT, self.rx.message())
            .await
            .expect("no response in time")
            .expect("stream failed")
            .expect("stream ended")
    }

    async fn expect_quiet(&mut self) {
        if let Ok(msg) = timeout(QUIET, self.rx.message()).await {
            panic!("expected no response, got {msg:?}");
        }
    }
}

fn sotw_req(
    node: Option<&str>,
    type_url: &str,
    names: &[&str],
    version: &str,
    nonce: &str,
    error: Option<&str>,
) -> DiscoveryRequest {
    DiscoveryRequest {
        version_info: version.to_owned(),
        node: node.map(|id| Node {
            id: id.to_owned(),
            ..Default::default()
        }),
        resource_names: strings(names),
        type_url: type_url.to_owned(),
        response_nonce: nonce.to_owned(),
        error_detail: error.map(|m| RpcStatus {
            code: 3,
            message: m.to_owned(),
            details: vec![],
        }),
        ..Default::default()
    }
}

/// A Delta stream seen from Envoy's side.
struct Delta {
    tx: mpsc::Sender<DeltaDiscoveryRequest>,
    rx: Streaming<DeltaDiscoveryResponse>,
}

impl Delta {
    async fn open(client: &mut AggregatedDiscoveryServiceClient<Channel>) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let resp = timeout(WAIT, client.delta_aggregated_resources(ReceiverStream::new(rx)))
            .await
            .expect("open timed out")
            .expect("open failed");
        Delta {
            tx,
            rx: resp.into_inner(),
        }
    }

    async fn send(&self, req: DeltaDiscoveryRequest) {
        self.tx.send(req).await.unwrap();
    }

    async fn subscribe(&self, node: Option<&str>, type_url: &str, names: &[&str]) {
        self.send(DeltaDiscoveryRequest {
            node: node.map(|id| Node {
                id: id.to_owned(),
                ..Default::default()
            }),
            type_url: type_url.to_owned(),
            resource_names_subscribe: strings(names),
            ..Default::default()
        })
        .await;
    }

    async fn ack(&self, resp: &DeltaDiscoveryResponse) {
        self.send(DeltaDiscoveryRequest {
            type_url: resp.type_url.clone(),
            response_nonce: resp.nonce.clone(),
            ..Default::default()
        })
        .await;
    }

    async fn nack(&self, resp: &DeltaDiscoveryResponse, message: &str) {
        self.send(DeltaDiscoveryRequest {
            type_url: resp.type_url.clone(),
            response_nonce: resp.nonce.clone(),
            error_detail: Some(RpcStatus {
                code: 3,
                message: message.to_owned(),
                details: vec![],
            }),
            ..Default::default()
        })
        .await;
    }

    async fn recv(&mut self) -> DeltaDiscoveryResponse {
        timeout(WAIT, self.rx.message())
            .await
            .expect("no response in time")
            .expect("stream failed")
            .expect("stream ended")
    }

    async fn expect_quiet(&mut self) {
        if let Ok(msg) = timeout(QUIET, self.rx.message()).await {
            panic!("expected no response, got {msg:?}");
        }
    }
}

/// Log output captured from `tracing`, to check what operators would see.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The v1 world most tests start from.
fn base() -> Vec<(&'static str, String, Any)> {
    vec![
        cluster("a", 1),
        cluster("b", 1),
        cla("a", 1),
        cla("b", 1),
        listener("l1", 1),
        route("r1", 1),
        route("r2", 1),
        secret("s1", 1),
    ]
}

/// `base` with the resources in `changed` replaced.
fn with(changed: Vec<(&'static str, String, Any)>) -> Vec<(&'static str, String, Any)> {
    let mut items = base();
    for (t, name, any) in changed {
        items.retain(|(t2, n2, _)| !(*t2 == t && *n2 == name));
        items.push((t, name, any));
    }
    items
}

// ---------- State of the World ----------

#[tokio::test]
async fn sotw_initial_fetch_of_cds_and_lds_is_wildcard() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, base()));
    let mut envoy = Sotw::open(&mut client).await;

    envoy.request(Some("n1"), type_url::CLUSTER, &[]).await;
    let cds = envoy.recv().await;
    assert_eq!(cds.type_url, type_url::CLUSTER);
    assert_eq!(cds.version_info, "1");
    assert!(!cds.nonce.is_empty());
    assert_eq!(names(&cds), ["a", "b"]);

    // Node is only sent on the first message, as Envoy does.
    envoy.request(None, type_url::LISTENER, &[]).await;
    let lds = envoy.recv().await;
    assert_eq!(lds.type_url, type_url::LISTENER);
    assert_eq!(names(&lds), ["l1"]);
    assert_ne!(lds.nonce, cds.nonce, "nonces are unique per stream");

    wait_nodes(&server, |m| {
        m.get("n1")
            .is_some_and(|n| n.connected && n.types.get(type_url::LISTENER).is_some_and(|t| t.wildcard))
    })
    .await;
}

#[tokio::test]
async fn sotw_eds_and_rds_by_name_and_name_changes_get_fresh_responses() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, base()));
    let mut envoy = Sotw::open(&mut client).await;

    envoy
        .request(Some("n1"), type_url::ENDPOINT, &["a", "missing"])
        .await;
    let eds = envoy.recv().await;
    assert_eq!(names(&eds), ["a"], "only requested names that exist");

    envoy.request(None, type_url::ROUTE, &["r1"]).await;
    let rds = envoy.recv().await;
    assert_eq!(names(&rds), ["r1"], "r2 exists but was not requested");

    // An ACK that also changes the names (as Envoy does after CDS adds a cluster).
    envoy.ack(&eds, &["a", "b"]).await;
    let eds2 = envoy.recv().await;
    assert_eq!(names(&eds2), ["a", "b"]);
    assert_eq!(eds2.version_info, "1");

    // A plain ACK with unchanged names gets no response.
    envoy.ack(&eds2, &["a", "b"]).await;
    envoy.expect_quiet().await;

    wait_nodes(&server, |m| {
        m["n1"].types[type_url::ENDPOINT].requested == ["a", "b"].map(String::from).into()
    })
    .await;
}

#[tokio::test]
async fn sotw_unknown_type_gets_empty_response() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, base()));
    let mut envoy = Sotw::open(&mut client).await;
    let unknown = "type.googleapis.com/example.Unknown";
    envoy.request(Some("n1"), unknown, &["x"]).await;
    let resp = envoy.recv().await;
    assert_eq!(resp.type_url, unknown);
    assert!(resp.resources.is_empty());
}

#[tokio::test]
async fn sotw_ack_is_recorded() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, base()));
    let mut envoy = Sotw::open(&mut client).await;

    envoy.request(Some("n1"), type_url::CLUSTER, &[]).await;
    let cds = envoy.recv().await;
    envoy.ack(&cds, &[]).await;
    wait_nodes(&server, |m| {
        let t = &m["n1"].types[type_url::CLUSTER];
        t.acked_version == Some(1) && t.last_nack.is_none() && !t.nacked
    })
    .await;
    envoy.expect_quiet().await;
}

#[tokio::test]
async fn sotw_nack_is_recorded_logged_and_snapshot_kept() {
    let logs = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    // Current-thread runtime: every server task logs through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let (server, mut client) = start().await;
    server.publish(snapshot(1, base()));
    let mut envoy = Sotw::open(&mut client).await;
    envoy.request(Some("n1"), type_url::CLUSTER, &[]).await;
    let cds1 = envoy.recv().await;
    envoy.ack(&cds1, &[]).await;
    // Otherwise the push could overtake the ACK, which then is stale and ignored.
    wait_nodes(&server, |m| m["n1"].acked_version(type_url::CLUSTER) == Some(1)).await;

    server.publish(snapshot(2, with(vec![cluster("a", 2)])));
    let cds2 = envoy.recv().await;
    assert_eq!(cds2.version_info, "2");
    // Envoy NACKs with the version it still runs and the nonce it rejects.
    envoy
        .send(sotw_req(
            None,
            type_url::CLUSTER,
            &[],
            "1",
            &cds2.nonce,
            Some("bad cluster a"),
        ))
        .await;

    wait_nodes(&server, |m| {
        let t = &m["n1"].types[type_url::CLUSTER];
        t.nacked && t.acked_version == Some(1)
    })
    .await;
    let state = server.node_states().borrow()["n1"].types[type_url::CLUSTER].clone();
    let nack = state.last_nack.expect("NACK recorded");
    assert_eq!((nack.version, nack.message.as_str()), (2, "bad cluster a"));

    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("NACK") && l.contains("WARN"))
        .unwrap_or_else(|| panic!("no NACK warning in logs:\n{text}"));
    assert!(line.contains("bad cluster a"), "{line}");
    assert!(line.contains("version=2"), "{line}");
    assert!(line.contains(type_url::CLUSTER), "{line}");

    // Snapshot kept: no rollback, no resend, and new streams still get version 2.
    assert_eq!(server.current_version(), 2);
    envoy.expect_quiet().await;
    let mut other = Sotw::open(&mut client).await;
    other.request(Some("n2"), type_url::CLUSTER, &[]).await;
    assert_eq!(other.recv().await.version_info, "2");
}

#[tokio::test]
async fn sotw_publish_pushes_only_changed_types_in_make_before_break_order() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, base()));
    let mut envoy = Sotw::open(&mut client).await;
    let subs: [(&str, &[&str]); 5] = [
        (type_url::CLUSTER, &[]),
        (type_url::ENDPOINT, &["a"]),
        (type_url::LISTENER, &[]),
        (type_url::ROUTE, &["r1"]),
        (type_url::SECRET, &["s1"]),
    ];
    for (i, (t, n)) in subs.iter().enumerate() {
        envoy.request(if i == 0 { Some("n1") } else { None }, t, n).await;
        let resp = envoy.recv().await;
        envoy.ack(&resp, n).await;
    }
    let subscribed: HashMap<&str, &[&str]> = subs.into_iter().collect();

    // Only CDS changed.
    server.publish(snapshot(2, with(vec![cluster("b", 2)])));
    let resp = envoy.recv().await;
    assert_eq!(
        (resp.type_url.as_str(), resp.version_info.as_str()),
        (type_url::CLUSTER, "2")
    );
    assert_eq!(names(&resp), ["a", "b"], "SotW resends the whole type");
    envoy.ack(&resp, &[]).await;
    envoy.expect_quiet().await;

    // Changes only to resources this Envoy did not ask for by name.
    server.publish(snapshot(
        3,
        with(vec![cluster("b", 2), cla("b", 3), route("r2", 3)]),
    ));
    envoy.expect_quiet().await;

    // Everything changes: pushed clusters, endpoints, secrets, then listeners, routes.
    server.publish(snapshot(
        4,
        with(vec![
            cluster("a", 4),
            cla("a", 4),
            listener("l1", 4),
            route("r1", 4),
            secret("s1", 4),
        ]),
    ));
    let mut order = Vec::new();
    for _ in 0..5 {
        let resp = envoy.recv().await;
        assert_eq!(resp.version_info, "4");
        envoy.ack(&resp, subscribed[resp.type_url.as_str()]).await;
        order.push(resp.type_url);
    }
    assert_eq!(
        order,
        [
            type_url::CLUSTER,
            type_url::ENDPOINT,
            type_url::SECRET,
            type_url::LISTENER,
            type_url::ROUTE
        ]
    );
    envoy.expect_quiet().await;
}

#[tokio::test]
async fn sotw_stale_nonce_is_ignored() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, base()));
    let mut envoy = Sotw::open(&mut client).await;
    envoy.request(Some("n1"), type_url::CLUSTER, &[]).await;
    let cds1 = envoy.recv().await;
    envoy.ack(&cds1, &[]).await;
    server.publish(snapshot(2, with(vec![cluster("a", 2)])));
    let cds2 = envoy.recv().await;

    // A late NACK (with new names) for the superseded response: ignored entirely.
    envoy
        .send(sotw_req(
            None,
            type_url::CLUSTER,
            &["zzz"],
            "1",
            &cds1.nonce,
            Some("late"),
        ))
        .await;
    // Then the real ACK; the requests are handled in order.
    envoy.ack(&cds2, &[]).await;
    wait_nodes(&server, |m| m["n1"].acked_version(type_url::CLUSTER) == Some(2)).await;
    let state = server.node_states().borrow()["n1"].types[type_url::CLUSTER].clone();
    assert!(state.last_nack.is_none(), "stale NACK must not be recorded");
    assert!(
        state.wildcard && state.requested.is_empty(),
        "stale names ignored"
    );
    envoy.expect_quiet().await;
}

// ---------- Delta ----------

#[tokio::test]
async fn delta_initial_changes_and_removals() {
    let (server, mut client) = start().await;
    server.publish(snapshot(
        1,
        vec![cluster("a", 1), cluster("b", 1), cla("a", 1), listener("l1", 1)],
    ));
    let mut envoy = Delta::open(&mut client).await;

    envoy.subscribe(Some("d1"), type_url::CLUSTER, &[]).await;
    let cds = envoy.recv().await;
    assert_eq!(cds.type_url, type_url::CLUSTER);
    assert_eq!(cds.system_version_info, "1");
    assert_eq!(delta_names(&cds), ["a", "b"]);
    assert!(
        cds.resources
            .iter()
            .all(|r| !r.version.is_empty() && r.resource.is_some())
    );
    assert!(cds.removed_resources.is_empty());
    envoy.ack(&cds).await;

    envoy.subscribe(None, type_url::LISTENER, &["*"]).await;
    let lds = envoy.recv().await;
    assert_eq!(delta_names(&lds), ["l1"]);
    envoy.ack(&lds).await;

    envoy.subscribe(None, type_url::ENDPOINT, &["a", "ghost"]).await;
    let eds = envoy.recv().await;
    assert_eq!(delta_names(&eds), ["a"]);
    assert_eq!(
        eds.removed_resources,
        ["ghost"],
        "absent names are reported removed"
    );
    envoy.ack(&eds).await;
    wait_nodes(&server, |m| m["d1"].acked_version(type_url::ENDPOINT) == Some(1)).await;

    // a changes, b goes, c arrives; endpoints and listeners are untouched.
    server.publish(snapshot(
        2,
        vec![cluster("a", 2), cluster("c", 1), cla("a", 1), listener("l1", 1)],
    ));
    let cds2 = envoy.recv().await;
    assert_eq!(cds2.type_url, type_url::CLUSTER);
    assert_eq!(cds2.system_version_info, "2");
    assert_eq!(delta_names(&cds2), ["a", "c"]);
    assert_eq!(cds2.removed_resources, ["b"]);
    envoy.expect_quiet().await;
    envoy.ack(&cds2).await;
    server
        .wait_until_applied(2, WAIT)
        .await
        .expect("delta node applied version 2");
}

#[tokio::test]
async fn delta_unsubscribe_stops_updates() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, vec![cla("a", 1), cla("b", 1)]));
    let mut envoy = Delta::open(&mut client).await;
    envoy.subscribe(Some("d1"), type_url::ENDPOINT, &["a", "b"]).await;
    let eds = envoy.recv().await;
    assert_eq!(delta_names(&eds), ["a", "b"]);
    envoy.ack(&eds).await;

    envoy
        .send(DeltaDiscoveryRequest {
            type_url: type_url::ENDPOINT.to_owned(),
            resource_names_unsubscribe: strings(&["a"]),
            ..Default::default()
        })
        .await;
    envoy.expect_quiet().await;
    wait_nodes(&server, |m| {
        m["d1"].types[type_url::ENDPOINT].requested == ["b".to_owned()].into()
    })
    .await;

    // a changes: not pushed. b changes: pushed, with no removal of a.
    server.publish(snapshot(2, vec![cla("a", 2), cla("b", 1)]));
    envoy.expect_quiet().await;
    server.publish(snapshot(3, vec![cla("a", 3), cla("b", 3)]));
    let eds3 = envoy.recv().await;
    assert_eq!(delta_names(&eds3), ["b"]);
    assert!(eds3.removed_resources.is_empty());
}

#[tokio::test]
async fn delta_initial_resource_versions_are_respected() {
    let (server, mut client) = start().await;
    server.publish(snapshot(
        1,
        vec![cluster("a", 1), cluster("b", 1), listener("l1", 1)],
    ));

    // A first connection learns the versions, then drops (Envoy restarts its stream).
    let mut first = Delta::open(&mut client).await;
    first.subscribe(Some("d1"), type_url::CLUSTER, &[]).await;
    let cds = first.recv().await;
    first.subscribe(None, type_url::LISTENER, &[]).await;
    let lds = first.recv().await;
    let versions: HashMap<String, String> = cds
        .resources
        .iter()
        .chain(&lds.resources)
        .map(|r| (r.name.clone(), r.version.clone()))
        .collect();
    drop(first);
    wait_nodes(&server, |m| !m["d1"].connected).await;

    server.publish(snapshot(
        2,
        vec![
            cluster("a", 1),
            cluster("b", 2),
            cluster("c", 1),
            listener("l1", 1),
        ],
    ));
    let mut envoy = Delta::open(&mut client).await;
    envoy
        .send(DeltaDiscoveryRequest {
            node: Some(Node {
                id: "d1".to_owned(),
                ..Default::default()
            }),
            type_url: type_url::CLUSTER.to_owned(),
            initial_resource_versions: [
                ("a".to_owned(), versions["a"].clone()),
                ("b".to_owned(), versions["b"].clone()),
                ("gone".to_owned(), "old".to_owned()),
            ]
            .into(),
            ..Default::default()
        })
        .await;
    let cds2 = envoy.recv().await;
    assert_eq!(delta_names(&cds2), ["b", "c"], "a is unchanged and not resent");
    assert_eq!(cds2.removed_resources, ["gone"]);

    // Everything already current: still answered (empty) so Envoy's init completes.
    envoy
        .send(DeltaDiscoveryRequest {
            type_url: type_url::LISTENER.to_owned(),
            initial_resource_versions: [("l1".to_owned(), versions["l1"].clone())].into(),
            ..Default::default()
        })
        .await;
    let lds2 = envoy.recv().await;
    assert!(lds2.resources.is_empty() && lds2.removed_resources.is_empty());
    wait_nodes(&server, |m| m["d1"].connected).await;
}

#[tokio::test]
async fn delta_nack_is_recorded_and_fails_wait() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, vec![cluster("a", 1)]));
    let mut envoy = Delta::open(&mut client).await;
    envoy.subscribe(Some("d1"), type_url::CLUSTER, &[]).await;
    let cds = envoy.recv().await;
    envoy.ack(&cds).await;
    server.wait_until_applied(1, WAIT).await.expect("v1 applied");

    server.publish(snapshot(2, vec![cluster("a", 2)]));
    let cds2 = envoy.recv().await;
    envoy.nack(&cds2, "no good").await;
    match server.wait_until_applied(2, WAIT).await {
        Err(XdsError::Rejected {
            node,
            type_url,
            version,
            message,
        }) => {
            assert_eq!(node, "d1");
            assert_eq!(type_url, type_url::CLUSTER);
            assert_eq!(version, 2);
            assert_eq!(message, "no good");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let state = server.node_states().borrow()["d1"].types[type_url::CLUSTER].clone();
    assert_eq!(state.acked_version, Some(1));

    // Not resent after the NACK; a later fix is pushed and clears the rejection.
    envoy.expect_quiet().await;
    server.publish(snapshot(3, vec![cluster("a", 3)]));
    let cds3 = envoy.recv().await;
    assert_eq!(delta_names(&cds3), ["a"]);
    envoy.ack(&cds3).await;
    server.wait_until_applied(3, WAIT).await.expect("v3 applied");
}

// ---------- wait_until_applied ----------

#[tokio::test]
async fn wait_until_applied_resolves_only_after_every_type_is_acked() {
    let (server, mut client) = start().await;
    server.publish(snapshot(
        1,
        vec![cluster("a", 1), cla("a", 1), listener("l1", 1), route("r1", 1)],
    ));

    let err = server.wait_until_applied(1, Duration::from_millis(100)).await;
    assert!(
        matches!(&err, Err(XdsError::Timeout { pending, .. }) if pending.contains("no Envoy node")),
        "{err:?}"
    );

    let mut envoy = Sotw::open(&mut client).await;
    let waiter = tokio::spawn({
        let server = server.clone();
        async move { server.wait_until_applied(1, WAIT).await }
    });

    let steps: [(&str, &[&str]); 4] = [
        (type_url::CLUSTER, &[]),
        (type_url::ENDPOINT, &["a"]),
        (type_url::LISTENER, &[]),
        (type_url::ROUTE, &["r1"]),
    ];
    for (i, (t, n)) in steps.iter().enumerate() {
        envoy.request(if i == 0 { Some("n1") } else { None }, t, n).await;
        let resp = envoy.recv().await;
        if i == 3 {
            // Everything but the last ACK: still not applied.
            wait_nodes(&server, |m| m["n1"].acked_version(type_url::LISTENER) == Some(1)).await;
            let early = server.wait_until_applied(1, Duration::from_millis(200)).await;
            assert!(matches!(early, Err(XdsError::Timeout { .. })), "{early:?}");
            assert!(!waiter.is_finished());
        }
        envoy.ack(&resp, n).await;
    }
    timeout(WAIT, waiter)
        .await
        .expect("waiter did not finish")
        .unwrap()
        .expect("applied");

    // A newer version: waits for the snapshot, then for the ACK of what changed.
    let early = server.wait_until_applied(2, Duration::from_millis(100)).await;
    assert!(matches!(early, Err(XdsError::Timeout { .. })), "{early:?}");
    let waiter = tokio::spawn({
        let server = server.clone();
        async move { server.wait_until_applied(2, WAIT).await }
    });
    server.publish(snapshot(
        2,
        vec![cluster("a", 1), cla("a", 2), listener("l1", 1), route("r1", 1)],
    ));
    let eds = envoy.recv().await;
    assert_eq!(eds.type_url, type_url::ENDPOINT);
    envoy.expect_quiet().await;
    assert!(!waiter.is_finished());
    envoy.ack(&eds, &["a"]).await;
    timeout(WAIT, waiter)
        .await
        .expect("waiter did not finish")
        .unwrap()
        .expect("applied");
}

#[tokio::test]
async fn wait_until_applied_requires_subscription_to_new_names() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, vec![cluster("a", 1), cla("a", 1)]));
    let mut envoy = Sotw::open(&mut client).await;
    envoy.request(Some("n1"), type_url::CLUSTER, &[]).await;
    let cds = envoy.recv().await;
    envoy.ack(&cds, &[]).await;
    envoy.request(None, type_url::ENDPOINT, &["a"]).await;
    let eds = envoy.recv().await;
    envoy.ack(&eds, &["a"]).await;
    server.wait_until_applied(1, WAIT).await.expect("v1 applied");

    // Cluster b and its endpoints appear; Envoy ACKs CDS but has not yet asked for b.
    server.publish(snapshot(
        2,
        vec![cluster("a", 1), cluster("b", 1), cla("a", 1), cla("b", 1)],
    ));
    let cds2 = envoy.recv().await;
    envoy.ack(&cds2, &[]).await;
    wait_nodes(&server, |m| m["n1"].acked_version(type_url::CLUSTER) == Some(2)).await;
    let early = server.wait_until_applied(2, Duration::from_millis(200)).await;
    assert!(
        matches!(&early, Err(XdsError::Timeout { pending, .. }) if pending.contains("\"b\"")),
        "{early:?}"
    );

    envoy.ack(&eds, &["a", "b"]).await;
    let eds2 = envoy.recv().await;
    envoy.ack(&eds2, &["a", "b"]).await;
    server.wait_until_applied(2, WAIT).await.expect("v2 applied");
}

#[tokio::test]
async fn wait_until_applied_fails_on_sotw_nack() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, vec![listener("l1", 1)]));
    let mut envoy = Sotw::open(&mut client).await;
    envoy.request(Some("n1"), type_url::LISTENER, &[]).await;
    let lds = envoy.recv().await;
    envoy.ack(&lds, &[]).await;
    server.wait_until_applied(1, WAIT).await.expect("v1 applied");

    let waiter = tokio::spawn({
        let server = server.clone();
        async move { server.wait_until_applied(2, WAIT).await }
    });
    server.publish(snapshot(2, vec![listener("l1", 2)]));
    let lds2 = envoy.recv().await;
    envoy
        .send(sotw_req(
            None,
            type_url::LISTENER,
            &[],
            "1",
            &lds2.nonce,
            Some("port in use"),
        ))
        .await;
    let result = timeout(WAIT, waiter).await.expect("waiter hung").unwrap();
    match result {
        Err(XdsError::Rejected {
            node,
            type_url,
            version,
            message,
        }) => {
            assert_eq!((node.as_str(), type_url.as_str()), ("n1", type_url::LISTENER));
            assert_eq!((version, message.as_str()), (2, "port in use"));
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn disconnected_nodes_are_marked_and_ignored_by_wait() {
    let (server, mut client) = start().await;
    server.publish(snapshot(1, vec![cluster("a", 1)]));
    let mut envoy = Sotw::open(&mut client).await;
    envoy.request(Some("n1"), type_url::CLUSTER, &[]).await;
    let _ = envoy.recv().await;
    drop(envoy);
    wait_nodes(&server, |m| m.get("n1").is_some_and(|n| !n.connected)).await;
    let result = server.wait_until_applied(1, Duration::from_millis(100)).await;
    assert!(matches!(result, Err(XdsError::Timeout { .. })), "{result:?}");
}

// ---------- sent counters ----------

#[tokio::test]
async fn sent_counts_show_what_each_push_cost() {
    let (server, mut client) = start().await;
    assert!(server.sent_counts().is_empty());
    server.publish(snapshot(
        1,
        vec![cluster("a", 1), cluster("b", 1), cluster("c", 1)],
    ));
    let mut envoy = Delta::open(&mut client).await;
    envoy.subscribe(Some("d1"), type_url::CLUSTER, &[]).await;
    let cds = envoy.recv().await;
    envoy.ack(&cds).await;
    let first = server.sent_counts()[type_url::CLUSTER];
    assert_eq!(first.responses, 1);
    assert_eq!(first.resources, 3);
    assert_eq!(first.removals, 0);
    assert_eq!(first.bytes, cds.encoded_len() as u64);

    // One cluster changes and one goes: Delta sends just those.
    server.publish(snapshot(2, vec![cluster("a", 2), cluster("b", 1)]));
    let cds2 = envoy.recv().await;
    let pushed = server.sent_counts()[type_url::CLUSTER].since(&first);
    assert_eq!(
        pushed,
        crate::SentCounts {
            responses: 1,
            resources: 1,
            removals: 1,
            bytes: cds2.encoded_len() as u64,
        }
    );

    // State of the World resends every selected resource of the type.
    let mut sotw = Sotw::open(&mut client).await;
    sotw.request(Some("s1"), type_url::CLUSTER, &[]).await;
    let full = sotw.recv().await;
    let after = server.sent_counts()[type_url::CLUSTER];
    assert_eq!(after.since(&first).resources, 1 + 2);
    assert_eq!(
        after.bytes,
        (cds.encoded_len() + cds2.encoded_len() + full.encoded_len()) as u64
    );
}

#[tokio::test]
async fn delta_splits_route_tables_into_virtual_hosts_and_sotw_keeps_them_whole() {
    let (server, mut client) = start_with(XdsServer::with_vhds()).await;
    server.publish(snapshot(1, vec![route("t", 1), route("u", 1)]));

    let mut envoy = Delta::open(&mut client).await;
    envoy.subscribe(Some("d1"), type_url::ROUTE, &["t"]).await;
    let rds = envoy.recv().await;
    assert_eq!(delta_names(&rds), ["t"]);
    let stub =
        RouteConfiguration::decode(rds.resources[0].resource.as_ref().unwrap().value.as_slice()).unwrap();
    assert!(stub.virtual_hosts.is_empty() && stub.vhds.is_some(), "{stub:?}");
    envoy.ack(&rds).await;

    // A table's name is a namespace: its virtual hosts, not the other table's, and no
    // "removed" for the namespace itself.
    envoy.subscribe(None, type_url::VIRTUAL_HOST, &["t"]).await;
    let vhds = envoy.recv().await;
    assert_eq!(delta_names(&vhds), ["t/v1"]);
    assert!(vhds.removed_resources.is_empty(), "{:?}", vhds.removed_resources);
    envoy.ack(&vhds).await;
    wait_nodes(&server, |m| {
        m["d1"].acked_version(type_url::VIRTUAL_HOST) == Some(1)
    })
    .await;

    // The host changes (its name is its content here): the old one goes, the new one comes,
    // and the table stub is not resent.
    server.publish(snapshot(2, vec![route("t", 2), route("u", 1)]));
    let vhds2 = envoy.recv().await;
    assert_eq!(vhds2.type_url, type_url::VIRTUAL_HOST);
    assert_eq!(delta_names(&vhds2), ["t/v2"]);
    assert_eq!(vhds2.removed_resources, ["t/v1"]);
    envoy.expect_quiet().await;
    envoy.ack(&vhds2).await;
    wait_nodes(&server, |m| {
        m["d1"].acked_version(type_url::VIRTUAL_HOST) == Some(2)
    })
    .await;

    // Unsubscribing the namespace forgets its hosts: later changes are not pushed.
    envoy
        .send(DeltaDiscoveryRequest {
            type_url: type_url::VIRTUAL_HOST.to_owned(),
            resource_names_unsubscribe: strings(&["t"]),
            ..Default::default()
        })
        .await;
    wait_nodes(&server, |m| {
        m["d1"].types[type_url::VIRTUAL_HOST].requested.is_empty()
    })
    .await;
    server.publish(snapshot(3, vec![route("t", 3), route("u", 1)]));
    envoy.expect_quiet().await;

    // SotW streams get the table whole.
    let mut sotw = Sotw::open(&mut client).await;
    sotw.request(Some("s1"), type_url::ROUTE, &["t"]).await;
    let whole = sotw.recv().await;
    let table = RouteConfiguration::decode(whole.resources[0].value.as_slice()).unwrap();
    assert_eq!(table.virtual_hosts.len(), 1);
    assert!(table.vhds.is_none());
}
