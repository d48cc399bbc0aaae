//! The Deployer's Kubernetes mode against a scripted fake API server: kube-rs over a
//! `tower-test` mock service. Each test lists the exact requests the deployer must make, in
//! order, with their answers; any other request, or one too many, fails the test.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Request, Response};
use kube::Client;
use kube::client::Body;
use portcullis_config_service::deployer::{
    API_ID_LABEL, ClusterAction, DeployError, Deployer, FIELD_MANAGER, KubeDeployer,
};
use portcullis_config_service::http::{DEPLOY_PATH, UNDEPLOY_PATH};
use portcullis_config_service::{deployer_router, generate_resources, parse_apk_conf};
use portcullis_kube_fake::{read, respond, status_failure};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tower_test::mock::Handle;

type ApiServer = Handle<Request<Body>, Response<Body>>;

const NS: &str = "apps";
const SELECTOR: &str = "portcullis.dev/api-id=pets-1";

/// Version 1: a public GET and a DELETE needing the `admin` scope (so it has a Scope).
const CONF_V1: &str = "id: pets-1\nname: Pets\nbasePath: /pets\nversion: \"1.0\"\nendpointConfigurations:\n  production:\n    - endpoint: http://pets.apps:8080\noperations:\n  - target: /pets\n    verb: GET\n  - target: /pets/{id}\n    verb: DELETE\n    scopes:\n      - admin\n";
/// Version 2: the scoped operation is gone.
const CONF_V2: &str = "id: pets-1\nname: Pets\nbasePath: /pets\nversion: \"1.0\"\nendpointConfigurations:\n  production:\n    - endpoint: http://pets.apps:8080\noperations:\n  - target: /pets\n    verb: GET\n";
const DEFINITION: &str = "openapi: 3.0.3\ninfo:\n  title: Pets\n  version: \"1.0\"\npaths: {}\n";

/// Where each kind lives on the API server (APK's CRDs, Gateway API, core).
fn collection(kind: &str) -> &'static str {
    match kind {
        "API" => "/apis/dp.wso2.com/v1alpha3/namespaces/apps/apis",
        "ConfigMap" => "/api/v1/namespaces/apps/configmaps",
        "HTTPRoute" => "/apis/gateway.networking.k8s.io/v1/namespaces/apps/httproutes",
        "Backend" => "/apis/dp.wso2.com/v1alpha2/namespaces/apps/backends",
        "Authentication" => "/apis/dp.wso2.com/v1alpha2/namespaces/apps/authentications",
        "Scope" => "/apis/dp.wso2.com/v1alpha1/namespaces/apps/scopes",
        "RateLimitPolicy" => "/apis/dp.wso2.com/v1alpha3/namespaces/apps/ratelimitpolicies",
        "APIPolicy" => "/apis/dp.wso2.com/v1alpha4/namespaces/apps/apipolicies",
        "BackendJWT" => "/apis/dp.wso2.com/v1alpha1/namespaces/apps/backendjwts",
        other => panic!("unexpected kind {other}"),
    }
}

/// The kinds the deployer lists, in its order.
const KINDS: [&str; 9] = [
    "API",
    "ConfigMap",
    "HTTPRoute",
    "Backend",
    "Authentication",
    "Scope",
    "RateLimitPolicy",
    "APIPolicy",
    "BackendJWT",
];

/// What a step expects of its request.
#[derive(Debug)]
enum Expect {
    /// A list of one kind by the API's label.
    List,
    /// A server-side apply of exactly this object.
    Apply(Value),
    /// A delete.
    Delete,
}

/// One expected request and the answer to it.
#[derive(Debug)]
struct Step {
    path: String,
    expect: Expect,
    status: u16,
    answer: Value,
}

impl Step {
    /// A list of `kind` answered with `items`.
    fn list(kind: &str, items: Vec<Value>) -> Step {
        Step {
            path: collection(kind).to_owned(),
            expect: Expect::List,
            status: 200,
            answer: json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "7"}, "items": items}),
        }
    }
    /// An apply of `object`, answered with it as stored.
    fn apply(object: &Value) -> Step {
        Step {
            path: path_of(object),
            expect: Expect::Apply(object.clone()),
            status: 200,
            answer: stored(object),
        }
    }
    /// A delete of `object`.
    fn delete(object: &Value) -> Step {
        Step {
            path: path_of(object),
            expect: Expect::Delete,
            status: 200,
            answer: json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
        }
    }
    fn fails(mut self, code: u16, reason: &str, message: &str) -> Step {
        self.status = code;
        self.answer = status_failure(code, reason, message);
        self
    }
}

/// Lists of every kind, answered from `existing` (objects as stored).
fn lists(existing: &[Value]) -> Vec<Step> {
    KINDS
        .iter()
        .map(|kind| {
            let items = existing.iter().filter(|o| o["kind"] == *kind).cloned().collect();
            Step::list(kind, items)
        })
        .collect()
}

fn path_of(object: &Value) -> String {
    let kind = object["kind"].as_str().expect("kind");
    let name = object["metadata"]["name"].as_str().expect("name");
    format!("{}/{name}", collection(kind))
}

/// `object` as an API server stores it: server metadata and a status added.
fn stored(object: &Value) -> Value {
    let mut object = object.clone();
    let meta = object["metadata"].as_object_mut().expect("metadata");
    meta.insert("resourceVersion".into(), json!("42"));
    meta.insert("uid".into(), json!("3f1c"));
    meta.insert("generation".into(), json!(1));
    meta.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
    meta.insert(
        "managedFields".into(),
        json!([{"manager": FIELD_MANAGER, "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {}}]),
    );
    if object["kind"] != "ConfigMap" {
        object["status"] = json!({"conditions": []});
    }
    object
}

/// Plays `steps` in order, then fails on any further request before the client goes away.
fn play(mut server: ApiServer, steps: Vec<Step>) -> JoinHandle<()> {
    tokio::spawn(async move {
        for (index, step) in steps.into_iter().enumerate() {
            let Some((request, send)) = server.next_request().await else {
                panic!("the deployer stopped before request {index}: {step:?}");
            };
            let got = read(request).await;
            let method = match step.expect {
                Expect::List => Method::GET,
                Expect::Apply(_) => Method::PATCH,
                Expect::Delete => Method::DELETE,
            };
            assert_eq!(
                (&got.method, got.path.as_str()),
                (&method, step.path.as_str()),
                "request {index}: {got:?}"
            );
            match &step.expect {
                Expect::List => {
                    assert_eq!(
                        got.query.get("labelSelector").map(String::as_str),
                        Some(SELECTOR),
                        "request {index}"
                    );
                }
                Expect::Apply(object) => {
                    let query: Vec<(&str, &str)> =
                        got.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    assert_eq!(
                        query,
                        [("fieldManager", FIELD_MANAGER), ("force", "true")],
                        "request {index}"
                    );
                    assert_eq!(
                        got.content_type.as_deref(),
                        Some("application/apply-patch+yaml"),
                        "request {index}"
                    );
                    assert_eq!(got.body.as_ref(), Some(object), "request {index} body");
                }
                Expect::Delete => assert!(got.query.is_empty(), "request {index}: {:?}", got.query),
            }
            respond(send, step.status, &step.answer);
        }
        if let Some((request, _)) = server.next_request().await {
            let got = read(request).await;
            panic!("unexpected request after the script: {} {}", got.method, got.path);
        }
    })
}

fn mock() -> (KubeDeployer, ApiServer) {
    let (service, server) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (KubeDeployer::new(Client::new(service, "default"), NS), server)
}

/// The generated objects of `conf`, labelled as the deployer must apply them.
fn labelled(conf: &str, definition: Option<&str>) -> Vec<Value> {
    let conf = parse_apk_conf(conf).expect("conf");
    let generated = generate_resources(&conf, definition, "default", NS).expect("resources");
    generated
        .files
        .iter()
        .map(|(_, yaml)| {
            let mut object: Value = serde_yaml::from_str(yaml).expect("yaml");
            object["metadata"]["labels"] = json!({ API_ID_LABEL: "pets-1" });
            object
        })
        .collect()
}

fn kinds_of(objects: &[Value]) -> Vec<&str> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().expect("kind"))
        .collect()
}

fn named<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .expect("an object of that kind")
}

#[tokio::test]
async fn first_deploy_applies_every_object_labelled() -> anyhow::Result<()> {
    let objects = labelled(CONF_V1, Some(DEFINITION));
    assert_eq!(
        kinds_of(&objects),
        ["API", "ConfigMap", "HTTPRoute", "Backend", "Scope"]
    );
    // The label the deployer must add, spelled out once.
    assert_eq!(
        named(&objects, "API")["metadata"]["labels"],
        json!({"portcullis.dev/api-id": "pets-1"})
    );
    assert_eq!(
        path_of(named(&objects, "API")),
        "/apis/dp.wso2.com/v1alpha3/namespaces/apps/apis/pets-1"
    );

    let (deployer, server) = mock();
    let mut steps = lists(&[]);
    steps.extend(objects.iter().map(Step::apply));
    let script = play(server, steps);
    let deployed = deployer.deploy(CONF_V1, Some(DEFINITION)).await?;
    drop(deployer);
    script.await?;

    assert_eq!(deployed.id, "pets-1");
    assert_eq!(
        parse_apk_conf(&deployed.apk_conf_yaml)?.id.as_deref(),
        Some("pets-1")
    );
    Ok(())
}

#[tokio::test]
async fn redeploy_prunes_what_the_new_version_no_longer_has() -> anyhow::Result<()> {
    let v1 = labelled(CONF_V1, Some(DEFINITION));
    let v2 = labelled(CONF_V2, Some(DEFINITION));
    assert_eq!(kinds_of(&v2), ["API", "ConfigMap", "HTTPRoute", "Backend"]);
    let existing: Vec<Value> = v1.iter().map(stored).collect();

    let (deployer, server) = mock();
    let mut steps = lists(&existing);
    steps.extend(v2.iter().map(Step::apply));
    steps.push(Step::delete(named(&v1, "Scope")));
    let script = play(server, steps);
    let deployed = deployer.deploy(CONF_V2, Some(DEFINITION)).await?;
    drop(deployer);
    script.await?;
    assert_eq!(deployed.id, "pets-1");
    Ok(())
}

#[tokio::test]
async fn a_failed_apply_restores_the_previous_version() -> anyhow::Result<()> {
    // Live: version 2.
    let v2 = labelled(CONF_V2, Some(DEFINITION));
    let v1 = labelled(CONF_V1, Some(DEFINITION));
    let changed_route = CONF_V2.replace("pets.apps:8080", "pets2.apps:9090");
    let v3 = labelled(&changed_route, Some(DEFINITION));
    assert_ne!(named(&v3, "HTTPRoute"), named(&v2, "HTTPRoute"));
    let existing: Vec<Value> = v2.iter().map(stored).collect();

    // A version with a new endpoint changes the route and has a new Backend, which is
    // refused: the API, ConfigMap and route applied before it go back to version 2.
    let (deployer, server) = mock();
    let mut steps = lists(&existing);
    steps.push(Step::apply(named(&v3, "API")));
    steps.push(Step::apply(named(&v3, "ConfigMap")));
    steps.push(Step::apply(named(&v3, "HTTPRoute")));
    let message = "Backend.dp.wso2.com \"x\" is invalid: spec.services[0].port: Invalid value";
    steps.push(Step::apply(named(&v3, "Backend")).fails(422, "Invalid", message));
    // Restore, newest first: previous versions of what existed, re-applied as they were.
    steps.push(Step::apply(named(&v2, "HTTPRoute")));
    steps.push(Step::apply(named(&v2, "ConfigMap")));
    steps.push(Step::apply(named(&v2, "API")));
    let script = play(server, steps);
    let error = deployer
        .deploy(&changed_route, Some(DEFINITION))
        .await
        .expect_err("the Backend is refused");
    drop(deployer);
    script.await?;
    let backend_name = named(&v3, "Backend")["metadata"]["name"]
        .as_str()
        .unwrap_or_default();
    match &error {
        DeployError::Cluster(cluster) => {
            assert_eq!(cluster.action, ClusterAction::Apply);
            assert_eq!(cluster.object, format!("Backend apps/{backend_name}"));
            assert_eq!(cluster.message, message);
            assert!(
                cluster.rollback_failures.is_empty(),
                "{:?}",
                cluster.rollback_failures
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(error.to_string().contains(message), "{error}");

    // Then version 1: everything but its new Scope existed; the Scope is refused, so the
    // four others are re-applied as they were, newest first, and the API's restore fails too.
    let (deployer, server) = mock();
    let mut steps = lists(&existing);
    for kind in ["API", "ConfigMap", "HTTPRoute", "Backend"] {
        steps.push(Step::apply(named(&v1, kind)));
    }
    steps.push(Step::apply(named(&v1, "Scope")).fails(403, "Forbidden", "scopes is forbidden"));
    steps.push(Step::apply(named(&v2, "Backend")));
    steps.push(Step::apply(named(&v2, "HTTPRoute")));
    steps.push(Step::apply(named(&v2, "ConfigMap")));
    steps.push(Step::apply(named(&v2, "API")).fails(500, "InternalError", "etcd timeout"));
    let script = play(server, steps);
    let error = deployer
        .deploy(CONF_V1, Some(DEFINITION))
        .await
        .expect_err("refused");
    drop(deployer);
    script.await?;
    let DeployError::Cluster(cluster) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(cluster.message, "scopes is forbidden");
    assert_eq!(
        cluster.rollback_failures,
        ["cannot apply API apps/pets-1: etcd timeout"]
    );
    assert!(
        error
            .to_string()
            .contains("restoring the previous state failed too"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn a_failed_apply_deletes_the_objects_it_created() -> anyhow::Result<()> {
    // Live: version 2 without its Backend (say, deleted by hand). Redeploying version 1
    // creates the Backend, then its Scope is refused: the Backend is deleted again.
    let v2 = labelled(CONF_V2, Some(DEFINITION));
    let v1 = labelled(CONF_V1, Some(DEFINITION));
    let existing: Vec<Value> = v2.iter().filter(|o| o["kind"] != "Backend").map(stored).collect();
    let (deployer, server) = mock();
    let mut steps = lists(&existing);
    for kind in ["API", "ConfigMap", "HTTPRoute", "Backend"] {
        steps.push(Step::apply(named(&v1, kind)));
    }
    steps.push(Step::apply(named(&v1, "Scope")).fails(409, "Conflict", "conflict"));
    steps.push(Step::delete(named(&v1, "Backend")));
    steps.push(Step::apply(named(&v2, "HTTPRoute")));
    steps.push(Step::apply(named(&v2, "ConfigMap")));
    steps.push(Step::apply(named(&v2, "API")));
    let script = play(server, steps);
    let error = deployer
        .deploy(CONF_V1, Some(DEFINITION))
        .await
        .expect_err("refused");
    drop(deployer);
    script.await?;
    assert!(
        matches!(&error, DeployError::Cluster(c) if c.rollback_failures.is_empty()),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn undeploy_deletes_every_labelled_object() -> anyhow::Result<()> {
    let existing: Vec<Value> = labelled(CONF_V1, Some(DEFINITION)).iter().map(stored).collect();
    let (deployer, server) = mock();
    let mut steps = lists(&existing);
    steps.extend(existing.iter().map(Step::delete));
    let script = play(server, steps);
    deployer.undeploy("pets-1").await?;
    drop(deployer);
    script.await?;
    Ok(())
}

#[tokio::test]
async fn undeploy_of_an_unknown_id_is_not_found() -> anyhow::Result<()> {
    let (deployer, server) = mock();
    let script = play(server, lists(&[]));
    let error = deployer.undeploy("pets-1").await.expect_err("nothing deployed");
    drop(deployer);
    script.await?;
    assert!(
        matches!(&error, DeployError::NotFound(id) if id == "pets-1"),
        "{error:?}"
    );
    Ok(())
}

#[tokio::test]
async fn ids_that_cannot_be_labels_are_refused_before_any_request() -> anyhow::Result<()> {
    let (deployer, server) = mock();
    let script = play(server, Vec::new());
    for id in ["-pets", "pets.", &"a".repeat(64)] {
        let error = deployer.undeploy(id).await.expect_err("not a label value");
        assert!(matches!(error, DeployError::IdNotALabel(_)), "{id}: {error:?}");
    }
    assert!(matches!(
        deployer.undeploy("../x").await,
        Err(DeployError::InvalidId(_))
    ));
    drop(deployer);
    script.await?;
    Ok(())
}

#[tokio::test]
async fn a_refused_list_is_reported_and_nothing_is_applied() -> anyhow::Result<()> {
    let (deployer, server) = mock();
    let message = "apis.dp.wso2.com is forbidden: User \"system:serviceaccount:apk:deployer\" cannot list";
    let script = play(
        server,
        vec![Step::list("API", Vec::new()).fails(403, "Forbidden", message)],
    );
    let error = deployer.deploy(CONF_V1, None).await.expect_err("forbidden");
    drop(deployer);
    script.await?;
    assert_eq!(
        error.to_string(),
        format!("cannot list apis in apps labelled {SELECTOR}: {message}")
    );
    Ok(())
}

// --- over HTTP --------------------------------------------------------------------------

/// A fake API server with no script: lists find nothing, applies succeed (or fail for
/// `refuse_kind`), deletes succeed.
fn permissive(mut server: ApiServer, refuse_kind: Option<&'static str>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some((request, send)) = server.next_request().await {
            let got = read(request).await;
            let refused = refuse_kind.is_some_and(|kind| got.path.starts_with(collection(kind)));
            let (code, body) = match got.method {
                Method::GET => (
                    200,
                    json!({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": []}),
                ),
                Method::PATCH if refused => (
                    422,
                    status_failure(422, "Invalid", "spec.basePath: Invalid value: \"/pets\""),
                ),
                Method::PATCH => (200, got.body.clone().unwrap_or_default()),
                _ => (
                    200,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
                ),
            };
            respond(send, code, &body);
        }
    })
}

async fn serve(router: axum::Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

async fn post_deploy(addr: SocketAddr, conf: &str) -> anyhow::Result<(u16, String, String)> {
    let form = reqwest::multipart::Form::new()
        .part(
            "apkConfiguration",
            reqwest::multipart::Part::text(conf.to_owned()).file_name("c.apk-conf"),
        )
        .part(
            "definitionFile",
            reqwest::multipart::Part::text(DEFINITION).file_name("d.yaml"),
        );
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{DEPLOY_PATH}"))
        .multipart(form)
        .send()
        .await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, content_type, response.text().await?))
}

#[tokio::test]
async fn deploy_over_http_answers_like_folder_mode() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let folder = serve(deployer_router(Arc::new(Deployer::new(dir.path(), NS)))).await?;
    let (service, server) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let _api_server = permissive(server, None);
    let cluster = serve(deployer_router(Arc::new(KubeDeployer::new(
        Client::new(service, "default"),
        NS,
    ))))
    .await?;

    let from_folder = post_deploy(folder, CONF_V1).await?;
    let from_cluster = post_deploy(cluster, CONF_V1).await?;
    assert_eq!(from_folder.0, 200, "{}", from_folder.2);
    assert_eq!(from_cluster, from_folder);
    assert!(from_cluster.2.contains("id: \"pets-1\""), "{}", from_cluster.2);

    let undeploy = reqwest::Client::new()
        .post(format!("http://{cluster}{UNDEPLOY_PATH}?apiId=unknown-api"))
        .send()
        .await?;
    assert_eq!(undeploy.status(), 404);
    let json: Value = undeploy.json().await?;
    assert_eq!(json["code"], 909001, "{json}");
    Ok(())
}

#[tokio::test]
async fn an_api_server_refusal_reaches_the_http_caller() -> anyhow::Result<()> {
    let (service, server) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let _api_server = permissive(server, Some("HTTPRoute"));
    let cluster = serve(deployer_router(Arc::new(KubeDeployer::new(
        Client::new(service, "default"),
        NS,
    ))))
    .await?;
    let (status, content_type, body) = post_deploy(cluster, CONF_V2).await?;
    assert_eq!(
        (status, content_type.as_str()),
        (500, "application/json"),
        "{body}"
    );
    let json: Value = serde_json::from_str(&body)?;
    assert_eq!(json["code"], 909028, "{json}");
    let description = json["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("cannot apply HTTPRoute apps/pets-1-production-httproute-1: spec.basePath"),
        "{description}"
    );
    Ok(())
}
