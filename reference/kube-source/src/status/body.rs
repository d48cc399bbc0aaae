//! The status each object should have, as the JSON a server-side apply sends. Pure: no IO, and
//! the clock is an argument.

use std::collections::BTreeSet;

use kube::core::ApiResource;
use portcullis_model::{ObjectKey, ObjectRef, Snapshot};
use portcullis_translate::Statuses;
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::StatusWriteError;
use crate::kinds::watched_kinds;
use crate::source::SOURCE_PREFIX;

/// One object's desired status.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusTarget {
    /// The object.
    pub object: ObjectRef,
    /// Where the API server serves its kind.
    pub api: ApiResource,
    /// The `status` stanza, conditions still without `lastTransitionTime`.
    pub status: Value,
}

impl StatusTarget {
    /// The apply body: identity and status, with `lastTransitionTime` carried over from
    /// `previous` (a status stanza) for every condition whose status did not change, and `now`
    /// for the others.
    pub fn body(&self, previous: Option<&Value>, now: &str) -> Value {
        let mut status = self.status.clone();
        stamp(&mut status, previous, now);
        let mut metadata = json!({"name": self.object.name});
        if !self.object.namespace.is_empty() {
            metadata["namespace"] = json!(self.object.namespace);
        }
        json!({
            "apiVersion": self.api.api_version,
            "kind": self.api.kind,
            "metadata": metadata,
            "status": status,
        })
    }
}

/// The objects to write: those the translator gave a status that came from the API server
/// (resources a profile adds in memory have nowhere to be written). Route parents that
/// other controllers own (a controller name outside `ours`) are kept from the current status,
/// since the list is replaced whole.
pub fn targets(
    statuses: &Statuses,
    snapshot: &Snapshot,
    ours: &BTreeSet<String>,
) -> (Vec<StatusTarget>, Vec<StatusWriteError>) {
    let kinds = watched_kinds();
    let api_of = |kind: &str| kinds.iter().find(|k| k.kind() == kind).map(|k| k.api.clone());
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    let mut add = |kind: &str, key: &str, status: Value| {
        let object = match object_ref(kind, key) {
            Ok(object) => object,
            Err(error) => return errors.push(error),
        };
        let from_cluster = snapshot
            .sources
            .get(&object)
            .is_some_and(|s| s.starts_with(SOURCE_PREFIX));
        if !from_cluster {
            tracing::debug!(%object, "not from the API server; status not written");
            return;
        }
        match api_of(kind) {
            Some(api) => targets.push(StatusTarget { object, api, status }),
            None => errors.push(StatusWriteError::Unaddressable {
                object: object.to_string(),
                message: format!("kind `{kind}` is not watched"),
            }),
        }
    };
    for (name, status) in &statuses.gateway_classes {
        add("GatewayClass", name, to_json(status));
    }
    for (key, status) in &statuses.gateways {
        let mut status = to_json(status);
        // An empty `addresses` would claim the Gateway has none; leave the field to others.
        if status["addresses"].as_array().is_some_and(Vec::is_empty)
            && let Some(map) = status.as_object_mut()
        {
            map.remove("addresses");
        }
        add("Gateway", key, status);
    }
    let routes = [
        ("HTTPRoute", &statuses.http_routes),
        ("GRPCRoute", &statuses.grpc_routes),
    ];
    for (kind, route_statuses) in routes {
        for (key, status) in route_statuses {
            let mut status = to_json(status);
            let others = current_route_parents(snapshot, kind, key)
                .into_iter()
                .filter(|p| p["controllerName"].as_str().is_none_or(|c| !ours.contains(c)));
            if let Some(parents) = status["parents"].as_array_mut() {
                parents.extend(others);
            }
            add(kind, key, status);
        }
    }
    for (key, status) in &statuses.rate_limit_policies {
        add("RateLimitPolicy", key, to_json(status));
    }
    let mut unnamed = Vec::new();
    for (name, status) in &statuses.policies {
        match name.split_once(' ') {
            Some((kind, key)) => add(kind, key, to_json(status)),
            None => unnamed.push(StatusWriteError::Unaddressable {
                object: name.clone(),
                message: "expected `<Kind> <namespace>/<name>`".to_string(),
            }),
        }
    }
    errors.extend(unnamed);
    (targets, errors)
}

/// The status an object has on the API server, as far as the snapshot knows.
pub fn current_status(snapshot: &Snapshot, object: &ObjectRef) -> Option<Value> {
    let key = ObjectKey::new(object.namespace.clone(), object.name.clone());
    let status = match object.kind.as_str() {
        "GatewayClass" => to_json(&snapshot.gateway_classes.get(&object.name)?.status),
        "Gateway" => to_json(&snapshot.gateways.get(&key)?.status),
        "HTTPRoute" => to_json(&snapshot.http_routes.get(&key)?.status),
        "GRPCRoute" => to_json(&snapshot.grpc_routes.get(&key)?.status),
        _ => return None,
    };
    (!status.is_null()).then_some(status)
}

fn current_route_parents(snapshot: &Snapshot, kind: &str, key: &str) -> Vec<Value> {
    let Ok(object) = object_ref(kind, key) else {
        return Vec::new();
    };
    match current_status(snapshot, &object) {
        Some(Value::Object(mut status)) => match status.remove("parents") {
            Some(Value::Array(parents)) => parents,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn object_ref(kind: &str, key: &str) -> Result<ObjectRef, StatusWriteError> {
    if kind == "GatewayClass" {
        return Ok(ObjectRef::new(kind, "", key));
    }
    match key.split_once('/') {
        Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() => {
            Ok(ObjectRef::new(kind, namespace, name))
        }
        _ => Err(StatusWriteError::Unaddressable {
            object: format!("{kind} {key}"),
            message: "expected `<namespace>/<name>`".to_string(),
        }),
    }
}

fn to_json(value: &impl Serialize) -> Value {
    // These are plain structs of strings and numbers: serialising them cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Adds `lastTransitionTime` to every condition list in `status`: conditions at the top, per
/// listener (matched by name) and per route parent (matched by parentRef and controller).
fn stamp(status: &mut Value, previous: Option<&Value>, now: &str) {
    // `get_mut`, not indexing: indexing a missing key would add `"conditions": null`.
    if let Some(conditions) = status.get_mut("conditions") {
        stamp_conditions(conditions, previous.map(|p| &p["conditions"]), now);
    }
    for (list, identity) in [
        ("listeners", &["name"][..]),
        ("parents", &["parentRef", "controllerName"][..]),
    ] {
        let Some(items) = status.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        let old_items = previous.and_then(|p| p[list].as_array());
        for item in items {
            let old = old_items.and_then(|olds| {
                olds.iter()
                    .find(|old| identity.iter().all(|field| old[*field] == item[*field]))
            });
            if let Some(conditions) = item.get_mut("conditions") {
                stamp_conditions(conditions, old.map(|o| &o["conditions"]), now);
            }
        }
    }
}

fn stamp_conditions(conditions: &mut Value, previous: Option<&Value>, now: &str) {
    let Some(conditions) = conditions.as_array_mut() else {
        return;
    };
    let previous = previous.and_then(Value::as_array);
    for condition in conditions {
        if condition.get("lastTransitionTime").is_some() {
            continue;
        }
        let kept = previous
            .and_then(|p| p.iter().find(|old| old["type"] == condition["type"]))
            .filter(|old| old["status"] == condition["status"])
            .and_then(|old| old.get("lastTransitionTime"))
            .filter(|t| t.is_string())
            .cloned();
        condition["lastTransitionTime"] = kept.unwrap_or_else(|| json!(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_is_kept_while_the_status_holds() {
        let target = StatusTarget {
            object: ObjectRef::new("Gateway", "ns", "gw"),
            api: ApiResource::erase::<gateway_api::gateways::Gateway>(&()),
            status: json!({
                "conditions": [
                    {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "", "observedGeneration": 2},
                    {"type": "Programmed", "status": "True", "reason": "Programmed", "message": "", "observedGeneration": 2}
                ],
                "listeners": [{"name": "http", "attachedRoutes": 1, "supportedKinds": [],
                    "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "", "observedGeneration": 2}]}]
            }),
        };
        let previous = json!({
            "conditions": [
                {"type": "Accepted", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                {"type": "Programmed", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"}
            ],
            "listeners": [{"name": "http", "conditions": [{"type": "Accepted", "status": "True", "lastTransitionTime": "2026-01-02T00:00:00Z"}]}]
        });
        let body = target.body(Some(&previous), "2026-11-23T10:00:00Z");
        let times: Vec<&str> = [
            &body["status"]["conditions"][0],
            &body["status"]["conditions"][1],
            &body["status"]["listeners"][0]["conditions"][0],
        ]
        .iter()
        .map(|c| c["lastTransitionTime"].as_str().expect("stamped"))
        .collect();
        assert_eq!(
            times,
            [
                "2026-01-01T00:00:00Z",
                "2026-11-23T10:00:00Z",
                "2026-01-02T00:00:00Z"
            ]
        );
        assert_eq!(body["metadata"], json!({"name": "gw", "namespace": "ns"}));
        assert_eq!(body["apiVersion"], "gateway.networking.k8s.io/v1");
    }
}
