//! `KubeSource` against a fake API server: initial lists, watch events, missing CRDs and
//! objects that do not fit their schema.

use portcullis_kube_fake::{FakeApi, GUARD};
use portcullis_kube_source::{KubeSource, KubeSourceOptions};
use portcullis_model::{LoadError, LoadReport, Resource};
use serde_json::{Value, json};

const GATEWAYS: &str = "/apis/gateway.networking.k8s.io/v1/gateways";
const ROUTES: &str = "/apis/gateway.networking.k8s.io/v1/httproutes";
const CLASSES: &str = "/apis/gateway.networking.k8s.io/v1/gatewayclasses";
const SERVICES: &str = "/api/v1/services";
const APIS: &str = "/apis/dp.wso2.com/v1alpha3/apis";
const POLICIES: &str = "/apis/dp.wso2.com/v1alpha3/ratelimitpolicies";

fn meta(name: &str, namespace: Option<&str>, version: u32) -> Value {
    let mut meta = json!({"name": name, "resourceVersion": version.to_string(), "generation": 1});
    if let Some(namespace) = namespace {
        meta["namespace"] = json!(namespace);
    }
    meta
}

fn route(name: &str, version: u32, hostname: &str) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": meta(name, Some("default"), version),
        "spec": {"parentRefs": [{"name": "gw"}], "hostnames": [hostname]}
    })
}

fn names(report: &LoadReport) -> Vec<&str> {
    report
        .resources
        .iter()
        .map(|(source, _)| source.as_str())
        .collect()
}

async fn synced(fake_setup: impl FnOnce(&FakeApi), options: KubeSourceOptions) -> (KubeSource, FakeApi) {
    let (client, fake, _applies) = FakeApi::start();
    fake_setup(&fake);
    let source = KubeSource::start(client, options).expect("start");
    tokio::time::timeout(GUARD, source.wait_until_synced())
        .await
        .expect("every kind synced");
    (source, fake)
}

#[tokio::test]
async fn initial_lists_become_typed_resources_and_missing_crds_are_skipped() {
    let (source, _fake) = synced(
        |fake| {
            fake.serve(CLASSES, vec![json!({"metadata": meta("portcullis", None, 3), "spec": {"controllerName": "portcullis.dev/gateway-controller"}})])
                .serve(GATEWAYS, vec![json!({
                    "metadata": meta("gw", Some("infra"), 4),
                    "spec": {"gatewayClassName": "portcullis", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}
                })])
                // Out of order on purpose: the report sorts by namespace and name.
                .serve(ROUTES, vec![route("b", 6, "b.example.com"), route("a", 5, "a.example.com")])
                .serve(SERVICES, vec![json!({"metadata": meta("echo", Some("default"), 7), "spec": {"ports": [{"port": 8080}]}})])
                .serve(APIS, vec![json!({"metadata": meta("pets", Some("default"), 8), "spec": {"apiName": "pets", "apiVersion": "1.0"}})]);
        },
        KubeSourceOptions::default(),
    )
    .await;
    let report = source.report();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        names(&report),
        [
            "kube:GatewayClass portcullis",
            "kube:Gateway infra/gw",
            "kube:HTTPRoute default/a",
            "kube:HTTPRoute default/b",
            "kube:Service default/echo",
            "kube:API default/pets",
        ]
    );
    let Resource::Gateway(gateway) = &report.resources[1].1 else {
        panic!("a Gateway: {:?}", report.resources[1]);
    };
    assert_eq!(gateway.spec.gateway_class_name, "portcullis");
    assert_eq!(gateway.spec.listeners[0].port, 80);
    let Resource::HttpRoute(route) = &report.resources[2].1 else {
        panic!("an HTTPRoute: {:?}", report.resources[2]);
    };
    assert_eq!(
        route.spec.hostnames.as_deref(),
        Some(&["a.example.com".to_string()][..])
    );
    let Resource::Api(api) = &report.resources[5].1 else {
        panic!("an API: {:?}", report.resources[5]);
    };
    assert_eq!(api.spec.api_name, "pets");
    // Nothing answered for the other APK kinds (404): skipped, and the rest synced all the same.
    let missing = source.missing_kinds();
    assert!(!missing.contains(&"API".to_string()), "{missing:?}");
    assert!(missing.contains(&"RateLimitPolicy".to_string()), "{missing:?}");
    assert!(!missing.contains(&"HTTPRoute".to_string()), "{missing:?}");
}

#[tokio::test]
async fn watch_events_bump_changes_and_update_the_report() {
    let (source, fake) = synced(
        |fake| {
            fake.serve(ROUTES, vec![route("a", 5, "a.example.com")]);
        },
        KubeSourceOptions::default(),
    )
    .await;
    let mut changes = source.changes();
    let before = *changes.borrow_and_update();
    assert_eq!(names(&source.report()), ["kube:HTTPRoute default/a"]);

    fake.push(ROUTES, &[("ADDED", route("b", 8, "b.example.com"))])
        .await;
    tokio::time::timeout(GUARD, changes.changed())
        .await
        .expect("a change")
        .expect("source alive");
    assert!(*changes.borrow_and_update() > before);
    assert_eq!(
        names(&source.report()),
        ["kube:HTTPRoute default/a", "kube:HTTPRoute default/b"]
    );

    fake.push(ROUTES, &[("MODIFIED", route("a", 9, "new.example.com"))])
        .await;
    tokio::time::timeout(GUARD, changes.changed())
        .await
        .expect("a change")
        .expect("source alive");
    let report = source.report();
    let Resource::HttpRoute(route_a) = &report.resources[0].1 else {
        panic!("an HTTPRoute: {:?}", report.resources[0]);
    };
    assert_eq!(
        route_a.spec.hostnames.as_deref(),
        Some(&["new.example.com".to_string()][..])
    );

    fake.push(ROUTES, &[("DELETED", route("b", 10, "b.example.com"))])
        .await;
    tokio::time::timeout(GUARD, changes.changed())
        .await
        .expect("a change")
        .expect("source alive");
    assert_eq!(names(&source.report()), ["kube:HTTPRoute default/a"]);
}

#[tokio::test]
async fn an_object_that_does_not_fit_its_schema_is_an_error_naming_it() {
    let bad = json!({
        "metadata": meta("bad", Some("default"), 11),
        "spec": {"rules": [{"matches": [{"path": {"type": "Nonsense", "value": "/"}}]}]}
    });
    let (source, _fake) = synced(
        |fake| {
            fake.serve(
                ROUTES,
                vec![
                    route("a", 5, "a.example.com"),
                    bad,
                    route("c", 12, "c.example.com"),
                ],
            );
        },
        KubeSourceOptions::default(),
    )
    .await;
    let report = source.report();
    assert_eq!(
        names(&report),
        ["kube:HTTPRoute default/a", "kube:HTTPRoute default/c"]
    );
    let [
        LoadError::Field {
            source_name,
            kind,
            name,
            field,
            message,
        },
    ] = report.errors.as_slice()
    else {
        panic!("one field error: {:?}", report.errors);
    };
    assert_eq!(
        (source_name.as_str(), kind.as_str(), name.as_str(), field.as_str()),
        (
            "kube:HTTPRoute default/bad",
            "HTTPRoute",
            "default/bad",
            "spec.rules[0].matches[0].path.type"
        )
    );
    assert!(message.contains("Nonsense"), "{message}");
    // Asking again gives the same answer (from the conversion cache).
    assert_eq!(source.report().errors, report.errors);
}

#[tokio::test]
async fn a_namespace_option_watches_only_that_namespace() {
    let (client, fake, _applies) = FakeApi::start();
    // Only the namespaced paths answer: a request for all namespaces would get a 404 and be
    // counted as a missing kind.
    let mut team_route = route("a", 5, "a.example.com");
    team_route["metadata"]["namespace"] = json!("team");
    fake.serve(
        "/apis/gateway.networking.k8s.io/v1/namespaces/team/httproutes",
        vec![team_route],
    )
    .serve(CLASSES, vec![])
    .serve(POLICIES, vec![]);
    let options = KubeSourceOptions {
        namespace: Some("team".to_string()),
        ..KubeSourceOptions::default()
    };
    let source = KubeSource::start(client, options).expect("start");
    tokio::time::timeout(GUARD, source.wait_until_synced())
        .await
        .expect("synced");
    let missing = source.missing_kinds();
    assert!(!missing.contains(&"HTTPRoute".to_string()), "{missing:?}");
    assert!(!missing.contains(&"GatewayClass".to_string()), "{missing:?}");
    // Served, but only at the namespaced path: watched across namespaces it would be missing.
    assert!(missing.contains(&"RateLimitPolicy".to_string()), "{missing:?}");
    assert_eq!(names(&source.report()), ["kube:HTTPRoute team/a"]);
}

#[tokio::test]
async fn empty_options_are_refused() {
    let (client, _fake, _applies) = FakeApi::start();
    let options = KubeSourceOptions {
        secret_selector: Some(" ".to_string()),
        ..KubeSourceOptions::default()
    };
    let Err(error) = KubeSource::start(client, options) else {
        panic!("an empty selector is refused");
    };
    assert!(error.to_string().contains("secretSelector"), "{error}");
}

#[tokio::test]
async fn a_410_gone_relists_and_the_new_list_is_a_change() {
    let (source, fake) = synced(
        |fake| {
            fake.serve(ROUTES, vec![route("a", 5, "a.example.com")]);
        },
        KubeSourceOptions::default(),
    )
    .await;
    let mut changes = source.changes();
    changes.borrow_and_update();
    // While the watch is down, a route appears; the next list has it.
    fake.serve(
        ROUTES,
        vec![route("a", 5, "a.example.com"), route("b", 20, "b.example.com")],
    );
    let gone = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "too old resource version", "reason": "Expired", "code": 410});
    fake.push(ROUTES, &[("ERROR", gone)]).await;
    tokio::time::timeout(GUARD, changes.changed())
        .await
        .expect("a change")
        .expect("source alive");
    assert_eq!(
        names(&source.report()),
        ["kube:HTTPRoute default/a", "kube:HTTPRoute default/b"]
    );
}
