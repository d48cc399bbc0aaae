//! Status conditions, shaped like the Kubernetes `status` stanzas they become (camelCase JSON),
//! so the harness reads them the same way from the embedded gateway and from a cluster.

use std::collections::BTreeMap;

use portcullis_model::ObjectKey;
use serde::Serialize;

/// One condition. Kubernetes' `lastTransitionTime` is added by whoever writes it back; the
/// translator has no clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Accepted`, `Programmed`, `ResolvedRefs`…
    #[serde(rename = "type")]
    pub type_: String,
    /// `True` or `False`.
    pub status: String,
    /// The upstream reason, e.g. `NotAllowedByListeners`.
    pub reason: String,
    /// A message for people; names the field at fault.
    pub message: String,
    /// The generation this condition describes.
    pub observed_generation: i64,
}

impl Condition {
    /// A condition from its parts.
    pub fn new(type_: &str, ok: bool, reason: &str, message: impl Into<String>, generation: i64) -> Self {
        Condition {
            type_: type_.to_string(),
            status: if ok { "True" } else { "False" }.to_string(),
            reason: reason.to_string(),
            message: message.into(),
            observed_generation: generation,
        }
    }

    /// Whether the status is `True`.
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// `status` of a GatewayClass.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GatewayClassStatus {
    /// Conditions.
    pub conditions: Vec<Condition>,
}

/// An entry of `status.addresses`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GatewayAddress {
    /// `IPAddress`, or `portcullis.dev/ListenerAddress` for the local address a port got.
    #[serde(rename = "type")]
    pub type_: String,
    /// The address.
    pub value: String,
}

/// The address type whose value is `<declared port>=<ip>:<local port>`.
pub const LISTENER_ADDRESS_TYPE: &str = "portcullis.dev/ListenerAddress";

/// A route group and kind.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RouteGroupKind {
    /// API group.
    pub group: String,
    /// Kind.
    pub kind: String,
}

/// `status.listeners[]` of a Gateway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerStatus {
    /// Listener name.
    pub name: String,
    /// Routes attached to it.
    pub attached_routes: i32,
    /// Kinds it accepts.
    pub supported_kinds: Vec<RouteGroupKind>,
    /// Conditions.
    pub conditions: Vec<Condition>,
}

/// `status` of a Gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GatewayStatus {
    /// Where it listens.
    pub addresses: Vec<GatewayAddress>,
    /// Conditions.
    pub conditions: Vec<Condition>,
    /// Per listener.
    pub listeners: Vec<ListenerStatus>,
}

/// `parentRef` as it appears in route status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// Always `gateway.networking.k8s.io`.
    pub group: String,
    /// Always `Gateway`.
    pub kind: String,
    /// Namespace of the Gateway.
    pub namespace: String,
    /// Name of the Gateway.
    pub name: String,
    /// Listener name, if the route named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// Port, if the route named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

/// `status.parents[]` of a route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteParentStatus {
    /// The parent.
    pub parent_ref: ParentReference,
    /// Our controller name.
    pub controller_name: String,
    /// Conditions.
    pub conditions: Vec<Condition>,
}

/// `status` of a route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RouteStatus {
    /// Per parent.
    pub parents: Vec<RouteParentStatus>,
}

/// Every status this controller owns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statuses {
    /// GatewayClasses by name.
    pub gateway_classes: BTreeMap<String, GatewayClassStatus>,
    /// Gateways.
    pub gateways: BTreeMap<String, GatewayStatus>,
    /// HTTPRoutes.
    pub http_routes: BTreeMap<String, RouteStatus>,
    /// GRPCRoutes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub grpc_routes: BTreeMap<String, RouteStatus>,
    /// APK RateLimitPolicies.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rate_limit_policies: BTreeMap<String, PolicyStatus>,
    /// Other APK resources with a status of their own, by `<Kind> <namespace>/<name>`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, PolicyStatus>,
}

/// `status` of a policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PolicyStatus {
    /// Conditions.
    pub conditions: Vec<Condition>,
}

/// One row of the status table `portcullis translate -o status` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusRow {
    /// e.g. `HTTPRoute default/foo` or `Gateway default/gw listener http`.
    pub object: String,
    /// The condition.
    pub condition: Condition,
}

impl Statuses {
    /// The status of a gateway.
    pub fn gateway(&self, key: &ObjectKey) -> Option<&GatewayStatus> {
        self.gateways.get(&key.to_string())
    }

    /// The status of an HTTPRoute.
    pub fn http_route(&self, key: &ObjectKey) -> Option<&RouteStatus> {
        self.http_routes.get(&key.to_string())
    }

    /// The status of a GRPCRoute.
    pub fn grpc_route(&self, key: &ObjectKey) -> Option<&RouteStatus> {
        self.grpc_routes.get(&key.to_string())
    }

    /// The statuses of routes of one kind, by `namespace/name`.
    pub fn routes_mut(&mut self, kind: crate::RouteKind) -> &mut BTreeMap<String, RouteStatus> {
        match kind {
            crate::RouteKind::Http => &mut self.http_routes,
            crate::RouteKind::Grpc => &mut self.grpc_routes,
        }
    }

    /// Every condition as a flat, ordered list of rows.
    pub fn rows(&self) -> Vec<StatusRow> {
        let mut rows = Vec::new();
        for (name, status) in &self.gateway_classes {
            for c in &status.conditions {
                rows.push(StatusRow {
                    object: format!("GatewayClass {name}"),
                    condition: c.clone(),
                });
            }
        }
        for (name, status) in &self.gateways {
            for c in &status.conditions {
                rows.push(StatusRow {
                    object: format!("Gateway {name}"),
                    condition: c.clone(),
                });
            }
            for listener in &status.listeners {
                for c in &listener.conditions {
                    rows.push(StatusRow {
                        object: format!("Gateway {name} listener {}", listener.name),
                        condition: c.clone(),
                    });
                }
            }
        }
        for (name, status) in &self.rate_limit_policies {
            for c in &status.conditions {
                rows.push(StatusRow {
                    object: format!("RateLimitPolicy {name}"),
                    condition: c.clone(),
                });
            }
        }
        for (name, status) in &self.policies {
            for c in &status.conditions {
                rows.push(StatusRow {
                    object: name.clone(),
                    condition: c.clone(),
                });
            }
        }
        let routes = self
            .http_routes
            .iter()
            .map(|r| ("HTTPRoute", r))
            .chain(self.grpc_routes.iter().map(|r| ("GRPCRoute", r)));
        for (kind, (name, status)) in routes {
            for parent in &status.parents {
                for c in &parent.conditions {
                    rows.push(StatusRow {
                        object: format!(
                            "{kind} {name} parent {}/{}{}",
                            parent.parent_ref.namespace,
                            parent.parent_ref.name,
                            parent
                                .parent_ref
                                .section_name
                                .as_ref()
                                .map(|s| format!("/{s}"))
                                .unwrap_or_default()
                        ),
                        condition: c.clone(),
                    });
                }
            }
        }
        rows
    }
}
