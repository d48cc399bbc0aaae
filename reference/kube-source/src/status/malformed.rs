//! Objects that do not fit their schema are not served, but they are ours to report: their
//! own status says which field is wrong, as the translator's statuses do for objects it
//! rejects. Pure, like [`super::body`].

use portcullis_model::apk::DP_GROUP;
use portcullis_model::{GATEWAY_GROUP, ObjectKey, ObjectRef, Snapshot};
use portcullis_translate::Statuses;
use serde_json::{Value, json};

use super::body::StatusTarget;
use crate::kinds::watched_kinds;

/// An object of a watched kind that could not be read as its kind: its identity, what is
/// wrong, and the raw parts its status depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct Malformed {
    /// The object.
    pub object: ObjectRef,
    /// `metadata.generation`, when the server set one.
    pub generation: Option<i64>,
    /// The field at fault, e.g. `spec.hostnames`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
    /// The raw `spec` (route parentRefs, a Gateway's class).
    pub spec: Value,
    /// The raw `status`, as the API server has it.
    pub status: Option<Value>,
}

impl Malformed {
    /// `<field>: <message>`, as the condition's message.
    pub fn problem(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// The statuses of malformed objects that belong to this controller:
/// - an HTTPRoute or GRPCRoute: `Accepted=False` (`UnsupportedValue`) on each parentRef naming
///   one of our Gateways (those in `statuses`), parents of other controllers kept;
/// - a Gateway of one of our GatewayClasses: `Accepted=False` and `Programmed=False` (`Invalid`);
/// - an APK object: `Accepted=False` (`Invalid`).
///
/// Others (Services, Secrets, objects of other controllers) are left alone.
pub fn malformed_targets(
    malformed: &[Malformed],
    statuses: &Statuses,
    snapshot: &Snapshot,
) -> Vec<StatusTarget> {
    let kinds = watched_kinds();
    let mut out = Vec::new();
    for m in malformed {
        let Some(api) = kinds
            .iter()
            .find(|k| k.kind() == m.object.kind)
            .map(|k| k.api.clone())
        else {
            continue;
        };
        let status = match m.object.kind.as_str() {
            "HTTPRoute" | "GRPCRoute" => route_status(m, statuses, snapshot),
            "Gateway" => gateway_status(m, statuses),
            _ if api.group == DP_GROUP => Some(json!({
                "conditions": [condition(m, "Accepted", "Invalid")],
            })),
            _ => None,
        };
        if let Some(status) = status {
            out.push(StatusTarget {
                object: m.object.clone(),
                api,
                status,
            });
        }
    }
    out
}

fn condition(m: &Malformed, type_: &str, reason: &str) -> Value {
    let mut c = json!({
        "type": type_,
        "status": "False",
        "reason": reason,
        "message": m.problem(),
    });
    if let Some(generation) = m.generation {
        c["observedGeneration"] = json!(generation);
    }
    c
}

fn route_status(m: &Malformed, statuses: &Statuses, snapshot: &Snapshot) -> Option<Value> {
    let mut parents = Vec::new();
    let mut ours = Vec::new();
    for parent in m.spec["parentRefs"].as_array().into_iter().flatten() {
        let group = parent["group"].as_str().unwrap_or(GATEWAY_GROUP);
        let kind = parent["kind"].as_str().unwrap_or("Gateway");
        let (Some(name), true) = (
            parent["name"].as_str(),
            group == GATEWAY_GROUP && kind == "Gateway",
        ) else {
            continue;
        };
        let namespace = parent["namespace"].as_str().unwrap_or(&m.object.namespace);
        let gateway = ObjectKey::new(namespace, name);
        if !statuses.gateways.contains_key(&gateway.to_string()) {
            continue; // not a Gateway of ours
        }
        let Some(controller) = controller_of(snapshot, &gateway) else {
            continue;
        };
        let mut parent_ref = json!({"group": group, "kind": kind, "namespace": namespace, "name": name});
        for optional in ["sectionName", "port"] {
            if !parent[optional].is_null() {
                parent_ref[optional] = parent[optional].clone();
            }
        }
        ours.push(controller.clone());
        parents.push(json!({
            "parentRef": parent_ref,
            "controllerName": controller,
            "conditions": [condition(m, "Accepted", "UnsupportedValue")],
        }));
    }
    if parents.is_empty() {
        return None;
    }
    // The list is replaced whole: other controllers' parents stay as they are.
    let current = m.status.as_ref().and_then(|s| s["parents"].as_array());
    parents.extend(
        current
            .into_iter()
            .flatten()
            .filter(|p| {
                p["controllerName"]
                    .as_str()
                    .is_none_or(|c| !ours.iter().any(|o| o == c))
            })
            .cloned(),
    );
    Some(json!({"parents": parents}))
}

/// The controller name of a Gateway's class.
fn controller_of(snapshot: &Snapshot, gateway: &ObjectKey) -> Option<String> {
    let class = &snapshot.gateways.get(gateway)?.spec.gateway_class_name;
    Some(snapshot.gateway_classes.get(class)?.spec.controller_name.clone())
}

fn gateway_status(m: &Malformed, statuses: &Statuses) -> Option<Value> {
    let class = m.spec["gatewayClassName"].as_str()?;
    statuses.gateway_classes.contains_key(class).then(|| {
        json!({
            "conditions": [condition(m, "Accepted", "Invalid"), condition(m, "Programmed", "Invalid")],
        })
    })
}

#[cfg(test)]
mod tests {
    use portcullis_model::parse_documents;
    use portcullis_translate::status::{GatewayClassStatus, GatewayStatus};

    use super::*;

    const YAML: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours}
spec: {controllerName: portcullis.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec: {gatewayClassName: ours, listeners: [{name: http, port: 80, protocol: HTTP}]}
";

    fn world() -> (Statuses, Snapshot) {
        let (snapshot, errors) = Snapshot::from_report(&parse_documents("world.yaml", YAML));
        assert!(errors.is_empty(), "{errors:?}");
        let mut statuses = Statuses::default();
        statuses
            .gateway_classes
            .insert("ours".into(), GatewayClassStatus::default());
        statuses
            .gateways
            .insert("shop/edge".into(), GatewayStatus::default());
        (statuses, snapshot)
    }

    fn malformed(kind: &str, name: &str, spec: Value, status: Option<Value>) -> Malformed {
        Malformed {
            object: ObjectRef::new(kind, "shop", name),
            generation: Some(3),
            field: "spec.hostnames".into(),
            message: "invalid type: string \"x\", expected a sequence".into(),
            spec,
            status,
        }
    }

    #[test]
    fn a_route_is_rejected_on_our_parents_and_keeps_other_controllers_parents() {
        let (statuses, snapshot) = world();
        let other =
            json!({"parentRef": {"name": "theirs"}, "controllerName": "example.com/other", "conditions": []});
        let route = malformed(
            "HTTPRoute",
            "broken",
            json!({"parentRefs": [{"name": "edge", "sectionName": "http"}, {"name": "theirs"}], "hostnames": "x"}),
            Some(json!({"parents": [other.clone()]})),
        );
        let targets = malformed_targets(&[route], &statuses, &snapshot);
        assert_eq!(targets.len(), 1);
        let parents = targets[0].status["parents"].as_array().expect("parents");
        assert_eq!(parents.len(), 2, "{parents:?}");
        assert_eq!(
            parents[0]["parentRef"],
            json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "shop", "name": "edge", "sectionName": "http"})
        );
        assert_eq!(parents[0]["controllerName"], "portcullis.dev/gateway-controller");
        let accepted = &parents[0]["conditions"][0];
        assert_eq!(
            (&accepted["type"], &accepted["status"], &accepted["reason"]),
            (&json!("Accepted"), &json!("False"), &json!("UnsupportedValue"))
        );
        assert_eq!(accepted["observedGeneration"], 3);
        assert!(
            accepted["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("spec.hostnames: invalid type"))
        );
        assert_eq!(parents[1], other);
    }

    #[test]
    fn only_what_is_ours_gets_a_status() {
        let (statuses, snapshot) = world();
        let targets = malformed_targets(
            &[
                // A route of another controller's Gateway only.
                malformed(
                    "HTTPRoute",
                    "theirs",
                    json!({"parentRefs": [{"name": "other"}]}),
                    None,
                ),
                // A route without parentRefs at all.
                malformed("GRPCRoute", "orphan", json!({"hostnames": 1}), None),
                // A Gateway of another class.
                malformed("Gateway", "other", json!({"gatewayClassName": "theirs"}), None),
                // A Service is never ours to write.
                malformed("Service", "cart", json!({}), None),
                // Ours:
                malformed(
                    "Gateway",
                    "broken",
                    json!({"gatewayClassName": "ours", "listeners": 5}),
                    None,
                ),
                malformed("RateLimitPolicy", "rl", json!({"default": 5}), None),
            ],
            &statuses,
            &snapshot,
        );
        let names: Vec<String> = targets.iter().map(|t| t.object.to_string()).collect();
        assert_eq!(names, ["Gateway shop/broken", "RateLimitPolicy shop/rl"]);
        let gateway = &targets[0].status["conditions"];
        assert_eq!(gateway[0]["type"], "Accepted");
        assert_eq!(gateway[1]["type"], "Programmed");
        assert_eq!(gateway[1]["reason"], "Invalid");
        assert_eq!(targets[1].status["conditions"][0]["reason"], "Invalid");
        assert_eq!(targets[1].api.group, DP_GROUP);
    }
}
