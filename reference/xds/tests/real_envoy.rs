//! The ADS server against a real Envoy 1.40: configurations apply, a rejected one is reported
//! with Envoy's error while Envoy keeps serving the last good one, and a fix applies again.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::time::Duration;

use envoy_types::pb::envoy::config::core::v3::Address;
use envoy_types::pb::envoy::config::core::v3::{
    AggregatedConfigSource, ApiVersion, ConfigSource, DataSource, SocketAddress, address,
    config_source::ConfigSourceSpecifier, data_source, socket_address,
};
use envoy_types::pb::envoy::config::listener::v3::{Filter, FilterChain, Listener, filter};
use envoy_types::pb::envoy::config::route::v3::{
    DirectResponseAction, Route, RouteConfiguration, RouteMatch, VirtualHost, route, route_match,
};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds, http_connection_manager, http_filter,
};
use envoy_types::pb::google::protobuf::Any;
use portcullis_envoy::{BootstrapConfig, EnvoyOptions, EnvoyProcess};
use portcullis_xds::{Snapshot, XdsError, XdsServer, type_url};
use prost::{Message, Name};

fn any<M: Message + Name>(m: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

fn ads() -> ConfigSource {
    ConfigSource {
        resource_api_version: ApiVersion::V3 as i32,
        config_source_specifier: Some(ConfigSourceSpecifier::Ads(AggregatedConfigSource {})),
        ..Default::default()
    }
}

fn listener(name: &str, ip: &str, port: u16) -> Listener {
    let hcm = HttpConnectionManager {
        stat_prefix: "test".into(),
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(ads()),
            route_config_name: "routes".into(),
        })),
        http_filters: vec![HttpFilter {
            name: "envoy.filters.http.router".into(),
            config_type: Some(http_filter::ConfigType::TypedConfig(any(&Router::default()))),
            ..Default::default()
        }],
        ..Default::default()
    };
    Listener {
        name: name.into(),
        address: Some(Address {
            address: Some(address::Address::SocketAddress(SocketAddress {
                address: ip.into(),
                port_specifier: Some(socket_address::PortSpecifier::PortValue(u32::from(port))),
                ..Default::default()
            })),
        }),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".into(),
                config_type: Some(filter::ConfigType::TypedConfig(any(&hcm))),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn routes(body: &str) -> RouteConfiguration {
    RouteConfiguration {
        name: "routes".into(),
        virtual_hosts: vec![VirtualHost {
            name: "all".into(),
            domains: vec!["*".into()],
            routes: vec![Route {
                r#match: Some(RouteMatch {
                    path_specifier: Some(route_match::PathSpecifier::Prefix("/".into())),
                    ..Default::default()
                }),
                action: Some(route::Action::DirectResponse(DirectResponseAction {
                    status: 200,
                    body: Some(DataSource {
                        specifier: Some(data_source::Specifier::InlineString(body.into())),
                        ..Default::default()
                    }),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn snapshot(version: u64, listeners: &[Listener], body: &str) -> Snapshot {
    let mut resources: BTreeMap<String, BTreeMap<String, Any>> = BTreeMap::new();
    for l in listeners {
        resources
            .entry(type_url::LISTENER.into())
            .or_default()
            .insert(l.name.clone(), any(l));
    }
    resources
        .entry(type_url::ROUTE.into())
        .or_default()
        .insert("routes".into(), any(&routes(body)));
    Snapshot { version, resources }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn body(port: u16) -> String {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let response = client
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .expect("request");
    response.text().await.expect("body")
}

async fn nack_keeps_last_good_config(delta: bool) {
    let xds = XdsServer::new();
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let xds_address: SocketAddr = socket.local_addr().expect("address");
    tokio::spawn(xds.clone().serve(socket));
    let port = free_port();
    xds.publish(snapshot(1, &[listener_named("good", port)], "v1"));

    let (envoy, _work) = start_envoy("nack-test", xds_address, delta).await;
    xds.wait_until_applied(1, Duration::from_secs(30))
        .await
        .expect("v1 applied");
    assert_eq!(body(port).await, "v1");

    // An address Envoy cannot parse: the whole LDS update is rejected.
    xds.publish(snapshot(
        2,
        &[listener_named("good", port), listener("broken", "not-an-ip", 1)],
        "v2",
    ));
    match xds.wait_until_applied(2, Duration::from_secs(30)).await {
        Err(XdsError::Rejected {
            type_url,
            version,
            message,
            ..
        }) => {
            assert_eq!(type_url, type_url::LISTENER);
            assert_eq!(version, 2);
            assert!(message.contains("not-an-ip"), "{message}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    // Only the listener update is rejected: the good listener keeps serving, and the route
    // table of v2 (which Envoy accepted) is what it serves.
    assert_eq!(body(port).await, "v2");

    xds.publish(snapshot(3, &[listener_named("good", port)], "v3"));
    xds.wait_until_applied(3, Duration::from_secs(30))
        .await
        .expect("v3 applied");
    assert_eq!(body(port).await, "v3");
    envoy.stop().await.expect("Envoy stops");
}

fn listener_named(name: &str, port: u16) -> Listener {
    listener(name, "127.0.0.1", port)
}

#[tokio::test]
async fn delta_nack_keeps_last_good_config() {
    nack_keeps_last_good_config(true).await;
}

#[tokio::test]
async fn sotw_nack_keeps_last_good_config() {
    nack_keeps_last_good_config(false).await;
}

/// A virtual host answering `body` for `domain`.
fn host(domain: &str, body: &str) -> VirtualHost {
    let mut vh = routes(body).virtual_hosts.remove(0);
    vh.name = domain.into();
    vh.domains = vec![domain.into()];
    vh
}

fn hosts_snapshot(version: u64, port: u16, hosts: Vec<VirtualHost>) -> Snapshot {
    let mut resources: BTreeMap<String, BTreeMap<String, Any>> = BTreeMap::new();
    let l = listener_named("vhds", port);
    resources
        .entry(type_url::LISTENER.into())
        .or_default()
        .insert(l.name.clone(), any(&l));
    let table = RouteConfiguration {
        name: "routes".into(),
        virtual_hosts: hosts,
        ..Default::default()
    };
    resources
        .entry(type_url::ROUTE.into())
        .or_default()
        .insert("routes".into(), any(&table));
    Snapshot { version, resources }
}

/// Status and body of `GET /` with `Host: host`.
async fn get_host(port: u16, host: &str) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let response = client
        .get(format!("http://127.0.0.1:{port}/"))
        .header("host", host)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Over Delta, route tables are split into virtual hosts (VHDS): host precedence and 404 for
/// unknown hosts are those of the whole table, one changed host pushes only that host, and a
/// removed host stops answering.
#[tokio::test]
async fn delta_serves_virtual_hosts_one_by_one() {
    let xds = XdsServer::with_vhds();
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let xds_address: SocketAddr = socket.local_addr().expect("address");
    tokio::spawn(xds.clone().serve(socket));
    let port = free_port();
    let v1 = vec![
        host("a.example", "a-v1"),
        host("*.example", "wild"),
        host("b.c.example", "bc"),
    ];
    xds.publish(hosts_snapshot(1, port, v1));

    let (envoy, _work) = start_envoy("vhds-test", xds_address, true).await;
    xds.wait_until_applied(1, Duration::from_secs(30))
        .await
        .expect("v1 applied");
    assert_eq!(get_host(port, "a.example").await, (200, "a-v1".into()));
    assert_eq!(
        get_host(port, "b.c.example").await,
        (200, "bc".into()),
        "exact beats wildcard"
    );
    assert_eq!(get_host(port, "x.example").await, (200, "wild".into()));
    assert_eq!(get_host(port, "other.test").await.0, 404, "no host matches");

    // One host changes: one virtual host is pushed, not the table.
    let before = xds.sent_counts();
    let v2 = vec![
        host("a.example", "a-v2"),
        host("*.example", "wild"),
        host("b.c.example", "bc"),
    ];
    xds.publish(hosts_snapshot(2, port, v2));
    xds.wait_until_applied(2, Duration::from_secs(30))
        .await
        .expect("v2 applied");
    let after = xds.sent_counts();
    let pushed = |t: &str| {
        let now = after.get(t).map_or(0, |c| c.resources);
        now - before.get(t).map_or(0, |c| c.resources)
    };
    assert_eq!(pushed(type_url::ROUTE), 0, "the table itself is unchanged");
    assert_eq!(pushed(type_url::VIRTUAL_HOST), 1);
    assert_eq!(get_host(port, "a.example").await, (200, "a-v2".into()));

    // The wildcard host goes: its names answer 404, the rest is untouched.
    let v3 = vec![host("a.example", "a-v2"), host("b.c.example", "bc")];
    xds.publish(hosts_snapshot(3, port, v3));
    xds.wait_until_applied(3, Duration::from_secs(30))
        .await
        .expect("v3 applied");
    assert_eq!(get_host(port, "x.example").await.0, 404);
    assert_eq!(get_host(port, "b.c.example").await, (200, "bc".into()));
    envoy.stop().await.expect("Envoy stops");
}

/// A real Envoy bootstrapped from `xds_address`, ready; its work folder lives as long as the
/// returned guard.
async fn start_envoy(node: &str, xds_address: SocketAddr, delta: bool) -> (EnvoyProcess, tempfile::TempDir) {
    let binary = tokio::task::spawn_blocking(portcullis_envoy::resolve_envoy)
        .await
        .expect("join")
        .expect("Envoy resolves")
        .0;
    let work = tempfile::tempdir().expect("tempdir");
    let mut bootstrap = BootstrapConfig::new(node, xds_address);
    bootstrap.delta = delta;
    let envoy = EnvoyProcess::start(EnvoyOptions::new(binary, bootstrap, work.path().to_path_buf()))
        .await
        .expect("Envoy starts");
    envoy
        .wait_ready(Duration::from_secs(30))
        .await
        .expect("Envoy ready");
    (envoy, work)
}
