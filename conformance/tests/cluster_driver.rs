//! The cluster driver against a scripted fake API server (kube-rs over a tower-test mock
//! service). Every test states the exact requests the driver must make, in order, and the
//! server fails the test on any other request, including one too many.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use portcullis_conformance::Driver;
use portcullis_conformance::cluster::{
    ClusterDriver, ClusterOptions, FIELD_MANAGER, GatewayAddressOverride, StatusAddress, address_from_status,
};
use portcullis_kube_fake::{Seen, read, respond, status_failure};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tower_test::mock::Handle;

type ApiHandle = Handle<Request<Body>, Response<Body>>;

const GW_API: &str = "/apis/gateway.networking.k8s.io/v1";
const TEST_TIME: Duration = Duration::from_secs(20);

/// One expected request and its answer.
struct Step {
    method: Method,
    path: String,
    /// For server-side applies: the exact object sent.
    apply_body: Option<Value>,
    status: u16,
    answer: Value,
}

impl Step {
    fn apply(path: &str, body: Value, answer: Value) -> Step {
        Step {
            method: Method::PATCH,
            path: path.to_string(),
            apply_body: Some(body),
            status: 200,
            answer,
        }
    }
    fn get(path: &str, answer: Value) -> Step {
        Step {
            method: Method::GET,
            path: path.to_string(),
            apply_body: None,
            status: 200,
            answer,
        }
    }
    fn not_found(method: Method, path: &str) -> Step {
        Step {
            method,
            path: path.to_string(),
            apply_body: None,
            status: 404,
            answer: failure(404, "NotFound", "not found"),
        }
    }
    fn delete(path: &str) -> Step {
        let answer =
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 200});
        Step {
            method: Method::DELETE,
            path: path.to_string(),
            apply_body: None,
            status: 200,
            answer,
        }
    }
    fn failing(mut self, status: u16, answer: Value) -> Step {
        self.status = status;
        self.answer = answer;
        self
    }
}

fn failure(code: u16, reason: &str, message: &str) -> Value {
    status_failure(code, reason, message)
}

/// Answers `steps` in order, asserting each request, then asserts that no further request
/// comes before the client goes away.
fn serve(mut handle: ApiHandle, steps: Vec<Step>) -> JoinHandle<()> {
    tokio::spawn(async move {
        for (index, step) in steps.into_iter().enumerate() {
            let Some((request, send)) = handle.next_request().await else {
                panic!(
                    "the driver stopped before request {index}: {} {}",
                    step.method, step.path
                );
            };
            let seen = read(request).await;
            assert_eq!(
                (&seen.method, seen.path.as_str()),
                (&step.method, step.path.as_str()),
                "request {index}: {seen:?}"
            );
            if let Some(body) = &step.apply_body {
                let expected: BTreeMap<String, String> = [("fieldManager", FIELD_MANAGER), ("force", "true")]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                assert_eq!(seen.query, expected, "request {index} query");
                assert_eq!(
                    seen.content_type.as_deref(),
                    Some("application/apply-patch+yaml"),
                    "request {index} content type"
                );
                assert_eq!(seen.body.as_ref(), Some(body), "request {index} body");
            } else if seen.method == Method::GET {
                assert!(seen.query.is_empty(), "request {index} query: {:?}", seen.query);
            }
            respond(send, step.status, &step.answer);
        }
        if let Some((request, _)) = handle.next_request().await {
            let seen = read(request).await;
            panic!(
                "unexpected request after the script: {} {}",
                seen.method, seen.path
            );
        }
    })
}

/// Answers every request with `answer(request)` until the client goes away.
fn serve_with(
    mut handle: ApiHandle,
    answer: impl Fn(&Seen) -> (u16, Value) + Send + 'static,
) -> JoinHandle<usize> {
    tokio::spawn(async move {
        let mut count = 0;
        while let Some((request, send)) = handle.next_request().await {
            let seen = read(request).await;
            let (status, body) = answer(&seen);
            respond(send, status, &body);
            count += 1;
        }
        count
    })
}

fn mock(class: &str, options: ClusterOptions) -> (ClusterDriver, ApiHandle) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    (
        ClusterDriver::with_client(client, class.to_string(), options),
        handle,
    )
}

fn fast() -> ClusterOptions {
    ClusterOptions {
        poll_interval: Duration::from_millis(10),
        ..ClusterOptions::default()
    }
}

/// Drops the driver (closing the mock service) and waits for the server's verdict.
async fn finish(driver: ClusterDriver, server: JoinHandle<()>) {
    drop(driver);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the fake API server did not finish")
        .expect("the fake API server found a problem");
}

fn with_status(mut object: Value, generation: i64, status: Value) -> Value {
    object["metadata"]["generation"] = json!(generation);
    object["status"] = status;
    object
}

fn gateway(name: &str, class: &str) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": "infra"},
        "spec": {"gatewayClassName": class, "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}
    })
}

fn route(name: &str, parents: &[&str]) -> Value {
    let parents: Vec<Value> = parents.iter().map(|p| json!({"name": p})).collect();
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "infra"},
        "spec": {"parentRefs": parents, "rules": [{"backendRefs": [{"name": "infra-backend-v1", "port": 8080}]}]}
    })
}

fn yaml_of(objects: &[&Value]) -> String {
    objects
        .iter()
        .map(|o| serde_yaml::to_string(o).expect("yaml"))
        .collect::<Vec<_>>()
        .join("---\n")
}

fn programmed(generation: i64) -> Value {
    json!({"conditions": [
        {"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": generation},
        {"type": "Programmed", "status": "True", "reason": "Programmed", "observedGeneration": generation}
    ]})
}

fn pending() -> Value {
    json!({"conditions": [
        {"type": "Accepted", "status": "Unknown", "reason": "Pending", "lastTransitionTime": "1970-01-01T00:00:00Z"},
        {"type": "Programmed", "status": "Unknown", "reason": "Pending", "lastTransitionTime": "1970-01-01T00:00:00Z"}
    ]})
}

fn route_status(parent: &str, generation: i64) -> Value {
    json!({"parents": [{
        "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": parent},
        "controllerName": "example.net/gateway",
        "conditions": [
            {"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": generation},
            {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "observedGeneration": generation}
        ]
    }]})
}

async fn bounded<F: std::future::Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_TIME, test)
        .await
        .expect("the test took too long");
}

#[tokio::test]
async fn apply_server_side_applies_each_object_then_waits_until_programmed() {
    bounded(async {
        let (driver, handle) = mock("eg", fast());
        let class = json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": "portcullis"},
            "spec": {"controllerName": "portcullis.dev/gateway-controller"}
        });
        let gw = gateway("gw", "portcullis");
        let rt = route("route", &["gw"]);
        // The suites' class is dropped and the Gateway moves to the cluster's class.
        let gw_sent = gateway("gw", "eg");
        let server = serve(
            handle,
            vec![
                Step::apply(
                    &format!("{GW_API}/namespaces/infra/gateways/gw"),
                    gw_sent.clone(),
                    with_status(gw_sent.clone(), 1, json!({})),
                ),
                Step::apply(
                    &format!("{GW_API}/namespaces/infra/httproutes/route"),
                    rt.clone(),
                    with_status(rt.clone(), 1, json!({})),
                ),
                // Not programmed yet: the driver must ask again.
                Step::get(
                    &format!("{GW_API}/namespaces/infra/gateways/gw"),
                    with_status(gw_sent.clone(), 1, pending()),
                ),
                Step::get(
                    &format!("{GW_API}/namespaces/infra/gateways/gw"),
                    with_status(gw_sent.clone(), 1, programmed(1)),
                ),
                // The route's parent was read in this round already, so only the route is read.
                Step::get(
                    &format!("{GW_API}/namespaces/infra/httproutes/route"),
                    with_status(rt.clone(), 1, route_status("gw", 1)),
                ),
            ],
        );
        driver
            .apply("manifest.yaml", &yaml_of(&[&class, &gw, &rt]))
            .await
            .expect("apply");
        let applied: Vec<String> = driver
            .applied("manifest.yaml")
            .iter()
            .map(|o| o.to_string())
            .collect();
        assert_eq!(applied, ["Gateway infra/gw", "HTTPRoute infra/route"]);
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn the_reference_class_is_applied_unchanged() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let class = json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": "portcullis"},
            "spec": {"controllerName": "portcullis.dev/gateway-controller"}
        });
        let server = serve(
            handle,
            vec![Step::apply(
                &format!("{GW_API}/gatewayclasses/portcullis"),
                class.clone(),
                class.clone(),
            )],
        );
        driver.apply("class", &yaml_of(&[&class])).await.expect("apply");
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn route_wait_needs_the_current_generation_and_ignores_parents_nobody_answers_for() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let rt = route(
            "three-parents",
            &["same-namespace", "foreign-gateway", "ghost-gateway"],
        );
        let ours = with_status(gateway("same-namespace", "portcullis"), 1, programmed(1));
        let foreign = gateway("foreign-gateway", "someone-elses-class");
        let route_path = format!("{GW_API}/namespaces/infra/httproutes/three-parents");
        let server = serve(
            handle,
            vec![
                Step::apply(&route_path, rt.clone(), with_status(rt.clone(), 2, json!({}))),
                // The status is for generation 1, the route is at 2: wait.
                Step::get(
                    &route_path,
                    with_status(rt.clone(), 2, route_status("same-namespace", 1)),
                ),
                Step::get(
                    &format!("{GW_API}/namespaces/infra/gateways/same-namespace"),
                    ours.clone(),
                ),
                Step::get(
                    &route_path,
                    with_status(rt.clone(), 2, route_status("same-namespace", 2)),
                ),
                Step::get(
                    &format!("{GW_API}/namespaces/infra/gateways/same-namespace"),
                    ours.clone(),
                ),
                // Another controller's Gateway, and one that does not exist: no status expected.
                Step::get(
                    &format!("{GW_API}/namespaces/infra/gateways/foreign-gateway"),
                    foreign,
                ),
                Step::not_found(
                    Method::GET,
                    &format!("{GW_API}/namespaces/infra/gateways/ghost-gateway"),
                ),
            ],
        );
        // Folder-mode manifests may carry a generation; the API server owns it, so it is not sent.
        let mut in_file = rt.clone();
        in_file["metadata"]["generation"] = json!(2);
        driver
            .apply("three-parents.yaml", &yaml_of(&[&in_file]))
            .await
            .expect("apply");
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn a_gateway_that_cannot_be_programmed_still_settles() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let gw = gateway("broken", "portcullis");
        let path = format!("{GW_API}/namespaces/infra/gateways/broken");
        let invalid = json!({"conditions": [
            {"type": "Accepted", "status": "False", "reason": "ListenersNotValid", "observedGeneration": 1},
            {"type": "Programmed", "status": "False", "reason": "Invalid", "observedGeneration": 1}
        ]});
        let server = serve(
            handle,
            vec![
                Step::apply(&path, gw.clone(), gw.clone()),
                // Programmed=False for an older generation is not an answer yet.
                Step::get(&path, with_status(gw.clone(), 2, programmed(1))),
                Step::get(&path, with_status(gw.clone(), 2, json!({"conditions": [
                    {"type": "Programmed", "status": "False", "reason": "Pending", "observedGeneration": 2}
                ]}))),
                Step::get(&path, with_status(gw.clone(), 1, invalid)),
            ],
        );
        driver.apply("broken.yaml", &yaml_of(&[&gw])).await.expect("apply");
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn status_reads_the_status_of_the_object() {
    bounded(async {
        let (driver, handle) = mock("eg", fast());
        let rt = with_status(route("route", &["gw"]), 3, route_status("gw", 3));
        let class = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "eg"},
            "spec": {"controllerName": "example.net/gateway"}, "status": programmed(1)});
        let server = serve(
            handle,
            vec![
                Step::get(&format!("{GW_API}/namespaces/infra/httproutes/route"), rt.clone()),
                Step::get(&format!("{GW_API}/gatewayclasses/eg"), class),
                Step::not_found(Method::GET, &format!("{GW_API}/namespaces/infra/httproutes/missing")),
                Step::get(&format!("{GW_API}/namespaces/default/gateways/plain"), gateway("plain", "eg")),
            ],
        );
        assert_eq!(driver.status("HTTPRoute", "infra/route").await.expect("status"), Some(route_status("gw", 3)));
        assert_eq!(driver.status("GatewayClass", "eg").await.expect("status"), Some(programmed(1)));
        assert_eq!(driver.status("HTTPRoute", "infra/missing").await.expect("status"), None);
        // No namespace means `default`; an object without status has none.
        assert_eq!(driver.status("Gateway", "plain").await.expect("status"), None);
        let unknown = driver.status("Widget", "infra/w").await.expect_err("unknown kind");
        assert!(format!("{unknown:#}").contains("does not know kind Widget"), "{unknown:#}");
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn gateway_address_prefers_the_listener_address_mapping() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let status = json!({"addresses": [
            {"type": "IPAddress", "value": "127.0.0.1"},
            {"type": "portcullis.dev/ListenerAddress", "value": "80=127.0.0.1:41000"},
            {"type": "portcullis.dev/ListenerAddress", "value": "443=127.0.0.1:41001"}
        ]});
        let path = format!("{GW_API}/namespaces/infra/gateways/gw");
        let server = serve(
            handle,
            vec![
                Step::get(&path, with_status(gateway("gw", "portcullis"), 1, status.clone())),
                Step::get(&path, with_status(gateway("gw", "portcullis"), 1, status.clone())),
            ],
        );
        let expected: SocketAddr = "127.0.0.1:41001".parse().expect("addr");
        assert_eq!(
            driver.gateway_address("infra/gw", 443).await.expect("address"),
            expected
        );
        let expected: SocketAddr = "127.0.0.1:41000".parse().expect("addr");
        assert_eq!(
            driver.gateway_address("infra/gw", 80).await.expect("address"),
            expected
        );
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn gateway_address_waits_for_an_address_and_combines_it_with_the_port() {
    bounded(async {
        let (driver, handle) = mock("eg", fast());
        let path = format!("{GW_API}/namespaces/infra/gateways/gw");
        let server = serve(
            handle,
            vec![
                Step::get(&path, gateway("gw", "eg")),
                Step::get(
                    &path,
                    with_status(
                        gateway("gw", "eg"),
                        1,
                        json!({"addresses": [{"type": "IPAddress", "value": "172.18.0.3"}]}),
                    ),
                ),
                Step::get(
                    &path,
                    with_status(
                        gateway("gw", "eg"),
                        1,
                        json!({"addresses": [{"type": "Hostname", "value": "localhost"}]}),
                    ),
                ),
            ],
        );
        let expected: SocketAddr = "172.18.0.3:80".parse().expect("addr");
        assert_eq!(
            driver.gateway_address("infra/gw", 80).await.expect("address"),
            expected
        );
        let resolved = driver.gateway_address("infra/gw", 8443).await.expect("address");
        assert!(
            resolved.ip().is_loopback() && resolved.port() == 8443,
            "{resolved}"
        );
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn gateway_address_gives_up_clearly_without_an_address() {
    bounded(async {
        let options = ClusterOptions {
            settle_timeout: Duration::from_millis(200),
            ..fast()
        };
        let (driver, handle) = mock("eg", options);
        let server = serve_with(handle, |_| (200, gateway("gw", "eg")));
        let error = driver
            .gateway_address("infra/gw", 80)
            .await
            .expect_err("no address");
        let text = format!("{error:#}");
        assert!(
            text.contains("Gateway infra/gw has no usable address for port 80"),
            "{text}"
        );
        assert!(text.contains("--gateway-address infra/gw:80=HOST:PORT"), "{text}");
        drop(driver);
        let polls = server.await.expect("server");
        assert!(polls >= 2, "the driver polled {polls} times");
    })
    .await;
}

#[tokio::test]
async fn gateway_address_overrides_skip_the_api() {
    bounded(async {
        let fixed: GatewayAddressOverride = "infra/gw:80=127.0.0.1:8080".parse().expect("override");
        let options = ClusterOptions {
            gateway_addresses: vec![fixed],
            ..fast()
        };
        let (driver, handle) = mock("eg", options);
        let server = serve(handle, Vec::new());
        let expected: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        assert_eq!(
            driver.gateway_address("infra/gw", 80).await.expect("address"),
            expected
        );
        finish(driver, server).await;
    })
    .await;
}

#[test]
fn gateway_address_overrides_parse() {
    let parsed: GatewayAddressOverride = "gateway-conformance-infra/same-namespace:443=[::1]:8443"
        .parse()
        .expect("override");
    assert_eq!(
        parsed,
        GatewayAddressOverride {
            gateway: "gateway-conformance-infra/same-namespace".into(),
            port: 443,
            target: "[::1]:8443".into()
        }
    );
    for bad in [
        "infra/gw=127.0.0.1:80",
        "gw:80=127.0.0.1:80",
        "infra/gw:80",
        "infra/gw:http=h:80",
        "infra/gw:80=host",
        "/gw:80=h:1",
    ] {
        let error = bad.parse::<GatewayAddressOverride>().expect_err(bad);
        assert!(
            error.to_string().contains("namespace/name:port=host:port"),
            "{error}"
        );
    }
}

#[test]
fn addresses_in_status_are_read_in_both_forms() {
    let mapped =
        json!({"addresses": [{"type": "portcullis.dev/ListenerAddress", "value": "8080=10.0.0.1:30080"}]});
    assert_eq!(
        address_from_status(&mapped, 8080),
        Some(StatusAddress::Socket("10.0.0.1:30080".parse().expect("addr")))
    );
    // A mapping for another port does not count, and there is no plain address to fall back on.
    assert_eq!(address_from_status(&mapped, 80), None);
    let untyped = json!({"addresses": [{"value": "fd00::5"}]});
    assert_eq!(
        address_from_status(&untyped, 80),
        Some(StatusAddress::Socket("[fd00::5]:80".parse().expect("addr")))
    );
    let named = json!({"addresses": [{"type": "example.net/Other", "value": "x"}, {"type": "Hostname", "value": "gw.example"}]});
    assert_eq!(
        address_from_status(&named, 443),
        Some(StatusAddress::Hostname("gw.example".into(), 443))
    );
    assert_eq!(address_from_status(&json!({}), 80), None);
    assert_eq!(address_from_status(&Value::Null, 80), None);
}

/// The requests of applying a Gateway and an HTTPRoute to a gateway that is already done.
fn quick_apply(gw: &Value, rt: &Value) -> Vec<Step> {
    vec![
        Step::apply(
            &format!("{GW_API}/namespaces/infra/gateways/gw"),
            gw.clone(),
            gw.clone(),
        ),
        Step::apply(
            &format!("{GW_API}/namespaces/infra/httproutes/route"),
            rt.clone(),
            rt.clone(),
        ),
        Step::get(
            &format!("{GW_API}/namespaces/infra/gateways/gw"),
            with_status(gw.clone(), 1, programmed(1)),
        ),
        Step::get(
            &format!("{GW_API}/namespaces/infra/httproutes/route"),
            with_status(rt.clone(), 1, route_status("gw", 1)),
        ),
    ]
}

#[tokio::test]
async fn delete_removes_exactly_what_was_applied_under_the_name() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let gw = gateway("gw", "portcullis");
        let rt = route("route", &["gw"]);
        let mut steps = quick_apply(&gw, &rt);
        steps.extend([
            // Last applied, first deleted; then both must be gone.
            Step::delete(&format!("{GW_API}/namespaces/infra/httproutes/route")),
            Step::delete(&format!("{GW_API}/namespaces/infra/gateways/gw")),
            Step::not_found(
                Method::GET,
                &format!("{GW_API}/namespaces/infra/httproutes/route"),
            ),
            Step::get(&format!("{GW_API}/namespaces/infra/gateways/gw"), gw.clone()),
            // The Gateway lingers (a finalizer) for one round.
            Step::not_found(Method::GET, &format!("{GW_API}/namespaces/infra/gateways/gw")),
        ]);
        let server = serve(handle, steps);
        driver
            .apply("pair.yaml", &yaml_of(&[&gw, &rt]))
            .await
            .expect("apply");
        driver.delete("pair.yaml").await.expect("delete");
        assert!(driver.applied("pair.yaml").is_empty());
        // Nothing is left under that name, and other names have nothing.
        driver.delete("pair.yaml").await.expect("second delete");
        driver
            .delete("never-applied.yaml")
            .await
            .expect("delete of nothing");
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn applying_a_name_again_removes_what_it_no_longer_has() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let gw = gateway("gw", "portcullis");
        let rt = route("route", &["gw"]);
        let mut steps = quick_apply(&gw, &rt);
        steps.extend([
            Step::apply(
                &format!("{GW_API}/namespaces/infra/gateways/gw"),
                gw.clone(),
                gw.clone(),
            ),
            Step::delete(&format!("{GW_API}/namespaces/infra/httproutes/route")),
            Step::not_found(
                Method::GET,
                &format!("{GW_API}/namespaces/infra/httproutes/route"),
            ),
            Step::get(
                &format!("{GW_API}/namespaces/infra/gateways/gw"),
                with_status(gw.clone(), 1, programmed(1)),
            ),
        ]);
        let server = serve(handle, steps);
        driver
            .apply("m.yaml", &yaml_of(&[&gw, &rt]))
            .await
            .expect("apply");
        driver
            .apply("m.yaml", &yaml_of(&[&gw]))
            .await
            .expect("apply again");
        let applied: Vec<String> = driver.applied("m.yaml").iter().map(|o| o.to_string()).collect();
        assert_eq!(applied, ["Gateway infra/gw"]);
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn a_refused_object_is_named_and_what_went_before_is_still_deleted() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let gw = gateway("gw", "portcullis");
        let bad = route("bad", &["gw"]);
        let message = "HTTPRoute.gateway.networking.k8s.io \"bad\" is invalid: spec.rules[0].matches[0].path.value: Invalid value";
        let server = serve(
            handle,
            vec![
                Step::apply(&format!("{GW_API}/namespaces/infra/gateways/gw"), gw.clone(), gw.clone()),
                Step::apply(&format!("{GW_API}/namespaces/infra/httproutes/bad"), bad.clone(), json!({}))
                    .failing(422, failure(422, "Invalid", message)),
                Step::delete(&format!("{GW_API}/namespaces/infra/gateways/gw")),
                Step::not_found(Method::GET, &format!("{GW_API}/namespaces/infra/gateways/gw")),
            ],
        );
        let error = driver.apply("bad.yaml", &yaml_of(&[&gw, &bad])).await.expect_err("the API server refuses");
        let text = format!("{error:#}");
        assert!(text.contains("applying HTTPRoute infra/bad from bad.yaml"), "{text}");
        assert!(text.contains("422 Invalid"), "{text}");
        assert!(text.contains(message), "{text}");
        driver.delete("bad.yaml").await.expect("delete");
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn a_missing_namespace_is_created_before_the_object() {
    bounded(async {
        let (driver, handle) = mock("eg", fast());
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "cert", "namespace": "gateway-conformance-infra"},
            "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}
        });
        let path = "/api/v1/namespaces/gateway-conformance-infra/secrets/cert";
        let mut missing = failure(404, "NotFound", "namespaces \"gateway-conformance-infra\" not found");
        missing["details"] = json!({"name": "gateway-conformance-infra", "kind": "namespaces"});
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gateway-conformance-infra"}});
        let server = serve(
            handle,
            vec![
                Step::apply(path, secret.clone(), json!({})).failing(404, missing),
                Step::apply("/api/v1/namespaces/gateway-conformance-infra", namespace.clone(), namespace),
                Step::apply(path, secret.clone(), secret.clone()),
            ],
        );
        driver.apply("base-certificates", &yaml_of(&[&secret])).await.expect("apply");
        // Only the Secret belongs to the name; the namespace stays when it is deleted.
        let applied: Vec<String> = driver.applied("base-certificates").iter().map(|o| o.to_string()).collect();
        assert_eq!(applied, ["Secret gateway-conformance-infra/cert"]);
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn the_wait_gives_up_naming_what_is_not_programmed() {
    bounded(async {
        let options = ClusterOptions { settle_timeout: Duration::from_millis(200), ..fast() };
        let (driver, handle) = mock("portcullis", options);
        let gw = gateway("gw", "portcullis");
        let pending_gw = with_status(gw.clone(), 1, pending());
        let server = serve_with(handle, move |seen| {
            assert!(
                seen.path == format!("{GW_API}/namespaces/infra/gateways/gw")
                    && (seen.method == Method::PATCH || seen.method == Method::GET),
                "{seen:?}"
            );
            (200, pending_gw.clone())
        });
        let error = driver.apply("slow.yaml", &yaml_of(&[&gw])).await.expect_err("never programmed");
        let text = format!("{error:#}");
        assert!(text.contains("timed out"), "{text}");
        assert!(text.contains("Gateway infra/gw: Programmed is Unknown (Pending) for generation (none), the Gateway is at generation 1"), "{text}");
        drop(driver);
        let requests = server.await.expect("server");
        assert!(requests >= 3, "one apply and several polls, got {requests} requests");
    })
    .await;
}

#[tokio::test]
async fn unknown_kinds_are_discovered_once() {
    bounded(async {
        let (driver, handle) = mock("portcullis", fast());
        let widget = |name: &str| {
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": "infra"}, "spec": {"size": 3}})
        };
        let resources = json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": "example.com/v1",
            "resources": [
                {"name": "widgets", "singularName": "widget", "namespaced": true, "kind": "Widget",
                 "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
                {"name": "widgets/status", "singularName": "", "namespaced": true, "kind": "Widget", "verbs": ["get", "patch"]}
            ]
        });
        // A Widget without a namespace lands in the client's default namespace.
        let mut defaulted = widget("w2");
        defaulted["metadata"]["namespace"] = json!("default");
        let server = serve(
            handle,
            vec![
                Step::get("/apis/example.com/v1", resources),
                Step::apply("/apis/example.com/v1/namespaces/infra/widgets/w1", widget("w1"), widget("w1")),
                Step::apply("/apis/example.com/v1/namespaces/default/widgets/w2", defaulted.clone(), defaulted),
            ],
        );
        let mut w2 = widget("w2");
        if let Some(metadata) = w2["metadata"].as_object_mut() {
            metadata.remove("namespace");
        }
        driver.apply("widgets.yaml", &yaml_of(&[&widget("w1"), &w2])).await.expect("apply");
        finish(driver, server).await;
    })
    .await;
}

#[tokio::test]
async fn supported_features_default_to_the_core_and_follow_the_options() {
    let (driver, _handle) = mock("eg", ClusterOptions::default());
    let features: Vec<String> = driver.supported_features().into_iter().collect();
    assert_eq!(features, ["Gateway", "HTTPRoute", "ReferenceGrant"]);
    assert_eq!(driver.name(), "cluster");
    let options = ClusterOptions {
        supported_features: ["Gateway".to_string()].into(),
        ..ClusterOptions::default()
    };
    let (driver, _handle) = mock("eg", options);
    assert_eq!(driver.supported_features().len(), 1);
}

#[tokio::test]
async fn bad_yaml_is_reported_with_the_manifest_name() {
    let (driver, handle) = mock("eg", fast());
    let server = serve(handle, Vec::new());
    let error = driver
        .apply("broken.yaml", "kind: [unclosed")
        .await
        .expect_err("bad yaml");
    assert!(
        format!("{error:#}").contains("reading the manifests broken.yaml"),
        "{error:#}"
    );
    let error = driver
        .apply("nameless.yaml", "apiVersion: v1\nkind: Service\nmetadata: {}\n")
        .await
        .expect_err("no name");
    assert!(
        format!("{error:#}").contains("a Service has no metadata.name"),
        "{error:#}"
    );
    bounded(finish(driver, server)).await;
}

fn yaml_documents(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// kind/echo-backends.yaml must give every Service of the base manifests a backend the steps
/// accept: a Deployment named after the Service (pod names start with it), whose pods the
/// Service selects, listening on the Service's target port, told its pod name and namespace.
#[test]
fn the_kind_echo_backends_serve_every_base_service() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let base = yaml_documents(&root.join("features/gateway-api/base/manifests.yaml"));
    let backends = yaml_documents(&root.join("kind/echo-backends.yaml"));
    let services: Vec<&Value> = base.iter().filter(|d| d["kind"] == "Service").collect();
    assert!(!services.is_empty());
    for service in services {
        let name = &service["metadata"]["name"];
        let namespace = &service["metadata"]["namespace"];
        let deployment = backends
            .iter()
            .find(|d| {
                d["kind"] == "Deployment"
                    && &d["metadata"]["name"] == name
                    && &d["metadata"]["namespace"] == namespace
            })
            .unwrap_or_else(|| panic!("no Deployment for Service {namespace}/{name}"));
        let template = &deployment["spec"]["template"];
        let labels = template["metadata"]["labels"].as_object().expect("pod labels");
        for (key, value) in service["spec"]["selector"].as_object().expect("selector") {
            assert_eq!(
                labels.get(key),
                Some(value),
                "{name}: the Service selects {key}={value}"
            );
        }
        assert_eq!(
            deployment["spec"]["selector"]["matchLabels"], template["metadata"]["labels"],
            "{name}"
        );
        let container = &template["spec"]["containers"][0];
        assert!(
            container["image"]
                .as_str()
                .is_some_and(|i| i.contains("/echo-basic:")),
            "{name}: {}",
            container["image"]
        );
        let ports: Vec<&Value> = container["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .map(|p| &p["containerPort"])
            .collect();
        for port in service["spec"]["ports"].as_array().expect("service ports") {
            assert!(
                ports.contains(&&port["targetPort"]),
                "{name}: nothing listens on {}",
                port["targetPort"]
            );
        }
        let env = container["env"].as_array().expect("env");
        for (variable, field) in [("POD_NAME", "metadata.name"), ("NAMESPACE", "metadata.namespace")] {
            assert!(
                env.iter()
                    .any(|e| e["name"] == variable && e["valueFrom"]["fieldRef"]["fieldPath"] == field),
                "{name}: {variable} must come from {field}"
            );
        }
    }
    for namespace in base.iter().filter(|d| d["kind"] == "Namespace") {
        let ours = backends
            .iter()
            .find(|d| d["kind"] == "Namespace" && d["metadata"]["name"] == namespace["metadata"]["name"]);
        assert_eq!(
            ours.map(|n| &n["metadata"]["labels"]),
            Some(&namespace["metadata"]["labels"]),
            "{}",
            namespace["metadata"]["name"]
        );
    }
}
