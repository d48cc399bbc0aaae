//! `StatusWriter` against a fake API server: the exact server-side applies, and no resend of
//! an unchanged status.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use portcullis_kube_fake::{FakeApi, Seen};
use portcullis_kube_source::{StatusWriteError, StatusWriter};
use portcullis_model::{Resource, Snapshot};
use portcullis_translate::Statuses;
use portcullis_translate::status::{
    Condition, GatewayClassStatus, GatewayStatus, ListenerStatus, ParentReference, PolicyStatus,
    RouteGroupKind, RouteParentStatus, RouteStatus,
};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

const FIELD_MANAGER: &str = "portcullis-test";
const OURS: &str = "portcullis.dev/gateway-controller";
const GATEWAY_STATUS: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/ns/gateways/gw/status";
const ROUTE_STATUS: &str = "/apis/gateway.networking.k8s.io/v1/namespaces/ns/httproutes/r/status";
const CLASS_STATUS: &str = "/apis/gateway.networking.k8s.io/v1/gatewayclasses/portcullis/status";
const POLICY_STATUS: &str = "/apis/dp.wso2.com/v1alpha3/namespaces/ns/ratelimitpolicies/limit/status";
const NOW: &str = "2026-11-23T10:00:00Z";
const EARLIER: &str = "2026-01-01T00:00:00Z";

const LATER: &str = "2026-11-23T11:00:00Z";

/// A clock the test moves.
fn clock() -> (
    Arc<Mutex<&'static str>>,
    impl Fn() -> jiff::Timestamp + Send + Sync + 'static,
) {
    let now = Arc::new(Mutex::new(NOW));
    let reader = now.clone();
    (now, move || {
        reader.lock().expect("clock").parse().expect("a timestamp")
    })
}

fn set(clock: &Mutex<&'static str>, time: &'static str) {
    *clock.lock().expect("clock") = time;
}

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid object")
}

/// A cluster where the Gateway already says Accepted=True since `EARLIER`, and another
/// controller owns a parent of the route; plus a class that only exists in memory.
fn snapshot() -> Snapshot {
    let mut snapshot = Snapshot::default();
    let objects = [
        (
            "kube:GatewayClass portcullis",
            Resource::GatewayClass(typed(json!({
                "metadata": {"name": "portcullis", "generation": 1},
                "spec": {"controllerName": OURS}
            }))),
        ),
        (
            "profile:GatewayClass apk",
            Resource::GatewayClass(typed(json!({
                "metadata": {"name": "apk", "generation": 1},
                "spec": {"controllerName": OURS}
            }))),
        ),
        (
            "kube:Gateway ns/gw",
            Resource::Gateway(typed(json!({
                "metadata": {"name": "gw", "namespace": "ns", "generation": 2},
                "spec": {"gatewayClassName": "portcullis", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
                "status": {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
                    "observedGeneration": 1, "lastTransitionTime": EARLIER}]}
            }))),
        ),
        (
            "kube:HTTPRoute ns/r",
            Resource::HttpRoute(typed(json!({
                "metadata": {"name": "r", "namespace": "ns", "generation": 1},
                "spec": {"parentRefs": [{"name": "gw"}]},
                "status": {"parents": [{
                    "parentRef": {"name": "other-gw"}, "controllerName": "example.com/other",
                    "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "",
                        "observedGeneration": 1, "lastTransitionTime": EARLIER}]
                }]}
            }))),
        ),
        (
            "kube:RateLimitPolicy ns/limit",
            Resource::RateLimitPolicy(typed(json!({
                "apiVersion": "dp.wso2.com/v1alpha3", "kind": "RateLimitPolicy",
                "metadata": {"name": "limit", "namespace": "ns", "generation": 1},
                "spec": {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "API", "name": "pets"}}
            }))),
        ),
    ];
    for (source, resource) in objects {
        snapshot.insert(source, resource).expect("distinct objects");
    }
    snapshot
}

fn statuses(route_accepted: bool) -> Statuses {
    let accepted = |ok: bool, generation: i64| {
        Condition::new(
            "Accepted",
            ok,
            if ok { "Accepted" } else { "NotAllowedByListeners" },
            "",
            generation,
        )
    };
    Statuses {
        gateway_classes: BTreeMap::from([
            (
                "portcullis".to_string(),
                GatewayClassStatus {
                    conditions: vec![accepted(true, 1)],
                },
            ),
            (
                "apk".to_string(),
                GatewayClassStatus {
                    conditions: vec![accepted(true, 1)],
                },
            ),
        ]),
        gateways: BTreeMap::from([(
            "ns/gw".to_string(),
            GatewayStatus {
                addresses: vec![],
                conditions: vec![
                    accepted(true, 2),
                    Condition::new("Programmed", true, "Programmed", "", 2),
                ],
                listeners: vec![ListenerStatus {
                    name: "http".to_string(),
                    attached_routes: 1,
                    supported_kinds: vec![RouteGroupKind {
                        group: "gateway.networking.k8s.io".to_string(),
                        kind: "HTTPRoute".to_string(),
                    }],
                    conditions: vec![accepted(true, 2)],
                }],
            },
        )]),
        http_routes: BTreeMap::from([(
            "ns/r".to_string(),
            RouteStatus {
                parents: vec![RouteParentStatus {
                    parent_ref: ParentReference {
                        group: "gateway.networking.k8s.io".to_string(),
                        kind: "Gateway".to_string(),
                        namespace: "ns".to_string(),
                        name: "gw".to_string(),
                        section_name: None,
                        port: None,
                    },
                    controller_name: OURS.to_string(),
                    conditions: vec![accepted(route_accepted, 1)],
                }],
            },
        )]),
        rate_limit_policies: BTreeMap::from([(
            "ns/limit".to_string(),
            PolicyStatus {
                conditions: vec![accepted(true, 1)],
            },
        )]),
        ..Statuses::default()
    }
}

fn condition(type_: &str, ok: bool, reason: &str, generation: i64, time: &str) -> Value {
    json!({"type": type_, "status": if ok { "True" } else { "False" }, "reason": reason, "message": "",
        "observedGeneration": generation, "lastTransitionTime": time})
}

fn route_body(accepted: bool, time: &str) -> Value {
    let reason = if accepted {
        "Accepted"
    } else {
        "NotAllowedByListeners"
    };
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "ns"},
        "status": {"parents": [
            {
                "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "ns", "name": "gw"},
                "controllerName": OURS,
                "conditions": [condition("Accepted", accepted, reason, 1, time)]
            },
            // Another controller's parent, kept as it is on the cluster.
            {
                "parentRef": {"name": "other-gw"}, "controllerName": "example.com/other",
                "conditions": [condition("Accepted", true, "Accepted", 1, EARLIER)]
            }
        ]}
    })
}

/// Every apply received so far, by path; asserts the query and content type of each.
fn drain(applies: &mut UnboundedReceiver<Seen>) -> BTreeMap<String, Value> {
    let mut seen = BTreeMap::new();
    while let Ok(apply) = applies.try_recv() {
        assert_eq!(apply.method, http::Method::PATCH);
        let query: Vec<(&str, &str)> = apply
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            query,
            [("fieldManager", FIELD_MANAGER), ("force", "true")],
            "{}",
            apply.path
        );
        assert_eq!(
            apply.content_type.as_deref(),
            Some("application/apply-patch+yaml"),
            "{}",
            apply.path
        );
        let previous = seen.insert(apply.path.clone(), apply.body.expect("a body"));
        assert!(previous.is_none(), "{} applied twice", apply.path);
    }
    seen
}

#[tokio::test]
async fn statuses_are_applied_once_and_only_again_when_they_change() {
    let (client, _fake, mut applies) = FakeApi::start();
    let (now, clock) = clock();
    let writer = StatusWriter::new(client, FIELD_MANAGER).with_clock(clock);
    let snapshot = snapshot();

    let errors = writer.write(&statuses(true), &snapshot).await;
    assert!(errors.is_empty(), "{errors:?}");
    let seen = drain(&mut applies);
    // The in-memory class has nowhere to be written.
    assert_eq!(
        seen.keys().map(String::as_str).collect::<Vec<_>>(),
        // (Sorted by path.)
        [POLICY_STATUS, CLASS_STATUS, GATEWAY_STATUS, ROUTE_STATUS]
    );
    assert_eq!(
        seen[GATEWAY_STATUS],
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "ns"},
            "status": {
                // Accepted stayed True: its transition time is the cluster's.
                "conditions": [
                    condition("Accepted", true, "Accepted", 2, EARLIER),
                    condition("Programmed", true, "Programmed", 2, NOW)
                ],
                "listeners": [{
                    "name": "http", "attachedRoutes": 1,
                    "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                    "conditions": [condition("Accepted", true, "Accepted", 2, NOW)]
                }]
            }
        })
    );
    assert_eq!(seen[ROUTE_STATUS], route_body(true, NOW));
    assert_eq!(
        seen[CLASS_STATUS],
        json!({
            "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": {"name": "portcullis"},
            "status": {"conditions": [condition("Accepted", true, "Accepted", 1, NOW)]}
        })
    );
    assert_eq!(
        seen[POLICY_STATUS],
        json!({
            "apiVersion": "dp.wso2.com/v1alpha3", "kind": "RateLimitPolicy",
            "metadata": {"name": "limit", "namespace": "ns"},
            "status": {"conditions": [condition("Accepted", true, "Accepted", 1, NOW)]}
        })
    );

    // The same statuses again, later: nothing is sent.
    set(&now, LATER);
    let errors = writer.write(&statuses(true), &snapshot).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert!(drain(&mut applies).is_empty());

    // The route flips: only the route is sent, with a new transition time.
    let errors = writer.write(&statuses(false), &snapshot).await;
    assert!(errors.is_empty(), "{errors:?}");
    let seen = drain(&mut applies);
    assert_eq!(
        seen.keys().map(String::as_str).collect::<Vec<_>>(),
        [ROUTE_STATUS]
    );
    assert_eq!(seen[ROUTE_STATUS], route_body(false, LATER));
}

#[tokio::test]
async fn a_failed_write_is_reported_and_retried_and_does_not_stop_the_others() {
    let (client, fake, mut applies) = FakeApi::start();
    let (_now, clock) = clock();
    let writer = StatusWriter::new(client, FIELD_MANAGER).with_clock(clock);
    let snapshot = snapshot();
    fake.fail_status(GATEWAY_STATUS, 404);

    let errors = writer.write(&statuses(true), &snapshot).await;
    let [StatusWriteError::Api { object, .. }] = errors.as_slice() else {
        panic!("one API error: {errors:?}");
    };
    assert_eq!(object, "Gateway ns/gw");
    assert_eq!(drain(&mut applies).len(), 4, "every object was tried");

    fake.heal_status(GATEWAY_STATUS);
    let errors = writer.write(&statuses(true), &snapshot).await;
    assert!(errors.is_empty(), "{errors:?}");
    let seen = drain(&mut applies);
    assert_eq!(
        seen.keys().map(String::as_str).collect::<Vec<_>>(),
        [GATEWAY_STATUS]
    );
}
