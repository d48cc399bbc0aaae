//! The gateway serving an API server: objects listed and watched through kube-rs (a fake API
//! server) → translator → xDS → real Envoy → a real echo backend at the EndpointSlice's
//! address, and statuses written back with server-side apply once Envoy serves them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use portcullis_echo::{EchoIdentity, EchoResponse, EchoServer};
use portcullis_kube_fake::{FakeApi, GUARD, Seen};
use portcullis_kube_source::LeaseOptions;
use portcullis_operator::{ClusterOptions, EmbeddedGateway, EmbeddedOptions, PortPolicy};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

const CLASSES: &str = "/apis/gateway.networking.k8s.io/v1/gatewayclasses";
const GATEWAYS: &str = "/apis/gateway.networking.k8s.io/v1/gateways";
const ROUTES: &str = "/apis/gateway.networking.k8s.io/v1/httproutes";
const SERVICES: &str = "/api/v1/services";
const SLICES: &str = "/apis/discovery.k8s.io/v1/endpointslices";
const GATEWAY_STATUS: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/shop/gateways/edge/status";
const ROUTE_STATUS: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/cart/status";
const BROKEN_ROUTE_STATUS: &str =
    "/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/broken/status";

fn meta(name: &str, namespace: Option<&str>, resource_version: u32, generation: i64) -> Value {
    let mut meta =
        json!({"name": name, "resourceVersion": resource_version.to_string(), "generation": generation});
    if let Some(namespace) = namespace {
        meta["namespace"] = json!(namespace);
    }
    meta
}

fn route(name: &str, hostname: &str, resource_version: u32, generation: i64) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": meta(name, Some("shop"), resource_version, generation),
        "spec": {
            "parentRefs": [{"name": "edge"}],
            "hostnames": [hostname],
            "rules": [{"backendRefs": [{"name": "cart", "port": 8080}]}]
        }
    })
}

/// A cluster with one Gateway, one good route to a Service whose EndpointSlice points at a
/// real echo server, and one route that does not fit the schema.
fn serve(fake: &FakeApi, echo: SocketAddr) {
    fake.serve(
        CLASSES,
        vec![json!({"metadata": meta("portcullis", None, 1, 1), "spec": {"controllerName": "portcullis.dev/gateway-controller"}})],
    )
    .serve(
        GATEWAYS,
        vec![json!({
            "metadata": meta("edge", Some("shop"), 2, 1),
            "spec": {"gatewayClassName": "portcullis", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}
        })],
    )
    .serve(
        ROUTES,
        vec![
            route("cart", "cart.example.com", 3, 1),
            json!({
                "metadata": meta("broken", Some("shop"), 4, 1),
                "spec": {"parentRefs": [{"name": "edge"}], "hostnames": "not-a-list"}
            }),
        ],
    )
    .serve(
        SERVICES,
        vec![json!({"metadata": meta("cart", Some("shop"), 5, 1), "spec": {"ports": [{"name": "http", "port": 8080}]}})],
    )
    .serve(
        SLICES,
        vec![json!({
            "metadata": {"name": "cart-1", "namespace": "shop", "resourceVersion": "6",
                "labels": {"kubernetes.io/service-name": "cart"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [echo.ip().to_string()], "conditions": {"ready": true}}],
            "ports": [{"name": "http", "port": echo.port()}]
        })],
    );
}

async fn get(address: SocketAddr, host: &str) -> Result<(u16, Option<EchoResponse>)> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()?;
    let response = client
        .get(format!("http://{address}/items"))
        .header("host", host)
        .send()
        .await?;
    let status = response.status().as_u16();
    let echo = response.json::<EchoResponse>().await.ok();
    Ok((status, echo))
}

/// The next status apply to `path` that passes `check`.
async fn apply_to(
    applies: &mut UnboundedReceiver<Seen>,
    path: &str,
    check: impl Fn(&Value) -> bool,
) -> Result<Seen> {
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let seen = tokio::time::timeout_at(deadline, applies.recv())
            .await
            .with_context(|| format!("no status apply to {path} in time"))?
            .context("the fake API server stopped")?;
        if seen.path == path && seen.body.as_ref().is_some_and(&check) {
            return Ok(seen);
        }
    }
}

fn condition<'a>(conditions: &'a Value, type_: &str) -> Option<&'a Value> {
    conditions.as_array()?.iter().find(|c| c["type"] == type_)
}

/// A cluster's worth of test fixtures: the echo pod behind `shop/cart` and the fake API server
/// serving [`serve`]'s objects.
struct Cluster {
    echo: EchoServer,
    fake: FakeApi,
    applies: UnboundedReceiver<Seen>,
    options: ClusterOptions,
}

impl Cluster {
    async fn new(pod: &str) -> Result<Cluster> {
        let echo = EchoServer::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            EchoIdentity {
                namespace: "shop".into(),
                service: "cart".into(),
                pod: pod.into(),
            },
        )
        .await?;
        let (client, fake, applies) = FakeApi::start();
        serve(&fake, echo.local_addr());
        let mut options = ClusterOptions::new(client);
        options.listen_ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        options.sync_timeout = GUARD;
        Ok(Cluster {
            echo,
            fake,
            applies,
            options,
        })
    }

    /// The gateway serving this cluster (free ports on loopback).
    async fn gateway(&self) -> Result<EmbeddedGateway> {
        let mut options = EmbeddedOptions::for_cluster(self.options.clone());
        options.port_policy = PortPolicy::AlwaysFree;
        Ok(EmbeddedGateway::start(options).await?)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_a_clusters_routes_through_envoy_and_writes_statuses_back() -> Result<()> {
    let mut cluster = Cluster::new("cart-7d4f9-abcde").await?;
    cluster.options.field_manager = "portcullis-test".into();
    let gateway = cluster.gateway().await?;
    let (fake, applies) = (&cluster.fake, &mut cluster.applies);

    // The broken route is reported by name and field; the good one is served.
    let view = gateway.view();
    assert!(
        view.errors
            .iter()
            .any(|e| e.contains("HTTPRoute shop/broken") && e.contains("hostnames")),
        "{:?}",
        view.errors
    );
    let address = gateway
        .listener_address("shop/edge", 80)
        .context("a listener for shop/edge:80")?;
    assert_eq!(address.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    let (status, answer) = get(address, "cart.example.com").await?;
    assert_eq!(status, 200);
    let answer = answer.context("an echo answer")?;
    assert_eq!(
        (answer.namespace.as_str(), answer.pod.as_str()),
        ("shop", "cart-7d4f9-abcde")
    );
    assert_eq!(answer.path, "/items");

    // Statuses are server-side applied, as our field manager, once Envoy serves them.
    let gateway_apply = apply_to(applies, GATEWAY_STATUS, |body| {
        condition(&body["status"]["conditions"], "Programmed").is_some_and(|c| c["status"] == "True")
    })
    .await?;
    assert_eq!(gateway_apply.method, http::Method::PATCH);
    assert_eq!(
        gateway_apply.query.get("fieldManager").map(String::as_str),
        Some("portcullis-test")
    );
    assert_eq!(
        gateway_apply.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    let body = gateway_apply.body.context("a body")?;
    assert_eq!(body["status"]["listeners"][0]["attachedRoutes"], 1, "{body}");
    let route_apply = apply_to(applies, ROUTE_STATUS, |body| {
        let parent = &body["status"]["parents"][0];
        condition(&parent["conditions"], "Accepted").is_some_and(|c| c["status"] == "True")
            && condition(&parent["conditions"], "ResolvedRefs").is_some_and(|c| c["status"] == "True")
    })
    .await?;
    assert_eq!(
        route_apply.body.context("a body")?["status"]["parents"][0]["parentRef"]["name"],
        "edge"
    );

    // A watch event changes the route: Envoy follows, and the new generation is reported.
    fake.push(ROUTES, &[("MODIFIED", route("cart", "basket.example.com", 7, 2))])
        .await;
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let (status, _) = get(address, "basket.example.com").await?;
        if status == 200 {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the modified route was never served (last status {status})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get(address, "cart.example.com").await?.0, 404);
    apply_to(applies, ROUTE_STATUS, |body| {
        condition(&body["status"]["parents"][0]["conditions"], "Accepted")
            .is_some_and(|c| c["observedGeneration"] == 2)
    })
    .await?;

    gateway.shutdown().await?;
    cluster.echo.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_does_not_fit_its_schema_says_why_on_its_own_status() -> Result<()> {
    let mut cluster = Cluster::new("cart-7d4f9-abcde").await?;
    let gateway = cluster.gateway().await?;
    // `spec.hostnames` is a string: the route cannot be read, so it is not served, but its
    // parentRef names our Gateway, so its status is ours to write.
    let apply = apply_to(&mut cluster.applies, BROKEN_ROUTE_STATUS, |body| {
        body["status"]["parents"][0]["parentRef"]["name"] == "edge"
    })
    .await?;
    let body = apply.body.context("a body")?;
    let parent = &body["status"]["parents"][0];
    assert_eq!(
        parent["controllerName"], "portcullis.dev/gateway-controller",
        "{body}"
    );
    let accepted = condition(&parent["conditions"], "Accepted").context("an Accepted condition")?;
    assert_eq!(accepted["status"], "False", "{body}");
    assert_eq!(accepted["reason"], "UnsupportedValue", "{body}");
    assert!(
        accepted["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("spec.hostnames: ")),
        "{body}"
    );
    assert_eq!(accepted["observedGeneration"], 1, "{body}");
    assert!(accepted["lastTransitionTime"].is_string(), "{body}");

    // Fixed, it is served and accepted like any other.
    let fixed = json!({
        "metadata": meta("broken", Some("shop"), 8, 2),
        "spec": {"parentRefs": [{"name": "edge"}], "hostnames": ["fixed.example.com"],
            "rules": [{"backendRefs": [{"name": "cart", "port": 8080}]}]}
    });
    cluster.fake.push(ROUTES, &[("MODIFIED", fixed)]).await;
    apply_to(&mut cluster.applies, BROKEN_ROUTE_STATUS, |body| {
        condition(&body["status"]["parents"][0]["conditions"], "Accepted")
            .is_some_and(|c| c["status"] == "True" && c["observedGeneration"] == 2)
    })
    .await?;
    gateway.shutdown().await?;
    cluster.echo.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_status_write_is_retried_without_waiting_for_a_change() -> Result<()> {
    let mut cluster = Cluster::new("cart-0").await?;
    // The API server refuses the Gateway's status (a conflict, a webhook, a flaky server).
    cluster.fake.fail_status(GATEWAY_STATUS, 500);
    let gateway = cluster.gateway().await?;
    let (fake, applies) = (&cluster.fake, &mut cluster.applies);

    let programmed = |body: &Value| {
        condition(&body["status"]["conditions"], "Programmed").is_some_and(|c| c["status"] == "True")
    };
    apply_to(applies, GATEWAY_STATUS, programmed).await?;
    // The route's status was written all the same.
    apply_to(applies, ROUTE_STATUS, |_| true).await?;
    // Once the server accepts again, the Gateway's status arrives with no watch event.
    fake.heal_status(GATEWAY_STATUS);
    apply_to(applies, GATEWAY_STATUS, programmed).await?;

    gateway.shutdown().await?;
    cluster.echo.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_serves_traffic_at_once_but_writes_statuses_only_once_it_holds_the_lease() -> Result<()> {
    const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/portcullis-system/leases";
    let mut cluster = Cluster::new("cart-0").await?;
    // Another replica held the Lease and has stopped renewing it (its pod went away).
    cluster.fake.store(LEASES).insert(
        LEASES,
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "portcullis", "namespace": "portcullis-system"},
            "spec": {"holderIdentity": "portcullis-old", "leaseDurationSeconds": 5,
                "renewTime": "2026-11-23T10:00:00.000000Z"}}),
    );
    let mut lease = LeaseOptions::new("portcullis-system", "portcullis", "portcullis-new");
    lease.lease_duration = Duration::from_secs(5);
    lease.renew_every = Duration::from_millis(200);
    cluster.options.lease = Some(lease);
    let gateway = cluster.gateway().await?;
    let (fake, applies) = (&cluster.fake, &mut cluster.applies);

    // Not the leader yet: it serves, and has written no status.
    let address = gateway
        .listener_address("shop/edge", 80)
        .context("a listener for shop/edge:80")?;
    assert_eq!(get(address, "cart.example.com").await?.0, 200);
    assert!(applies.try_recv().is_err(), "a status was written before leading");
    let lease = fake.stored(LEASES, "portcullis").context("the Lease")?;
    assert_eq!(lease["spec"]["holderIdentity"], "portcullis-old");

    // The old holder's Lease expires by this replica's clock: it takes over and writes.
    apply_to(applies, GATEWAY_STATUS, |body| {
        condition(&body["status"]["conditions"], "Programmed").is_some_and(|c| c["status"] == "True")
    })
    .await?;
    let lease = fake.stored(LEASES, "portcullis").context("the Lease")?;
    assert_eq!(lease["spec"]["holderIdentity"], "portcullis-new");
    assert_eq!(lease["spec"]["leaseTransitions"], 1);

    gateway.shutdown().await?;
    cluster.echo.shutdown().await;
    Ok(())
}
