//! GatewayClasses and Gateways: which are ours, which listeners are valid, and their status.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use gateway_api::gateways::{
    Gateway, GatewayListeners, GatewayListenersAllowedRoutesNamespacesFrom as From,
    GatewayListenersAllowedRoutesNamespacesSelector as Selector,
};
use portcullis_model::{GATEWAY_GROUP, ObjectKey, Snapshot};

use crate::TranslateInput;
use crate::ir::{Protocol, TlsSecret};
use crate::refs::{RefFrom, reference_allowed};
use crate::route_kind::RouteKind;
use crate::status::{
    Condition, GatewayAddress, GatewayClassStatus, GatewayStatus, LISTENER_ADDRESS_TYPE, ListenerStatus,
    RouteGroupKind, Statuses,
};

/// A Gateway of ours, with its listeners checked.
#[derive(Clone, Debug)]
pub struct AcceptedGateway {
    /// Its key.
    pub key: ObjectKey,
    /// Its listeners, in declaration order.
    pub listeners: Vec<CheckedListener>,
    /// Where each port binds.
    pub binds: BTreeMap<i32, SocketAddr>,
    /// The controller name of its GatewayClass, reported in route statuses.
    pub controller_name: String,
    /// Let requests through when the enforcer cannot be reached (annotation
    /// [`ENFORCER_FAILURE_MODE_ANNOTATION`] `allow`); closed by default.
    pub enforcer_fail_open: bool,
}

/// The Gateway annotation choosing what happens when the enforcer cannot answer: `deny`
/// (default: 503) or `allow` (requests go through unchecked, as Envoy's `failure_mode_allow`).
pub const ENFORCER_FAILURE_MODE_ANNOTATION: &str = "portcullis.dev/enforcer-failure-mode";

/// A listener after validation.
#[derive(Clone, Debug)]
pub struct CheckedListener {
    /// Its name.
    pub name: String,
    /// Declared port.
    pub port: i32,
    /// HTTP or HTTPS; `None` when the protocol is unsupported.
    pub protocol: Option<Protocol>,
    /// Its hostname, if any.
    pub hostname: Option<String>,
    /// Which namespaces may attach routes.
    pub allowed_namespaces: AllowedNamespaces,
    /// Whether HTTPRoutes may attach.
    pub allows_http_routes: bool,
    /// Whether GRPCRoutes may attach.
    pub allows_grpc_routes: bool,
    /// Whether Envoy gets it.
    pub programmed: bool,
    /// Its certificates (HTTPS).
    pub secrets: Vec<TlsSecret>,
}

/// `allowedRoutes.namespaces`.
#[derive(Clone, Debug)]
pub enum AllowedNamespaces {
    /// Only the Gateway's namespace.
    Same,
    /// Every namespace.
    All,
    /// Namespaces whose labels match.
    Selector(Box<Selector>),
}

impl CheckedListener {
    /// Whether routes of this kind may attach (its protocol and `allowedRoutes.kinds` agree).
    pub fn allows_kind(&self, kind: RouteKind) -> bool {
        self.protocol.is_some()
            && match kind {
                RouteKind::Http => self.allows_http_routes,
                RouteKind::Grpc => self.allows_grpc_routes,
            }
    }

    /// Whether a route in `namespace` may attach.
    pub fn allows_namespace(&self, snapshot: &Snapshot, gateway_ns: &str, namespace: &str) -> bool {
        match &self.allowed_namespaces {
            AllowedNamespaces::Same => gateway_ns == namespace,
            AllowedNamespaces::All => true,
            AllowedNamespaces::Selector(selector) => {
                // The API server labels every namespace with its name; files rarely spell it out.
                let mut labels = snapshot.namespace_labels(namespace);
                labels.insert(NAMESPACE_NAME_LABEL.to_string(), namespace.to_string());
                selector_matches(selector, &labels)
            }
        }
    }
}

/// The label Kubernetes puts on every namespace, holding its name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn selector_matches(selector: &Selector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_ok = selector.match_expressions.iter().flatten().all(|e| {
        let values = e.values.clone().unwrap_or_default();
        match e.operator.as_str() {
            "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
            "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
            "Exists" => labels.contains_key(&e.key),
            "DoesNotExist" => !labels.contains_key(&e.key),
            _ => false,
        }
    });
    labels_ok && expressions_ok
}

fn generation(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> i64 {
    meta.generation.unwrap_or(1)
}

/// Statuses of our GatewayClasses, and the Gateways of ours with checked listeners.
pub fn translate_gateways(input: &TranslateInput<'_>, statuses: &mut Statuses) -> Vec<AcceptedGateway> {
    let snapshot = input.snapshot;
    let mut ours = BTreeSet::new();
    for (name, class) in &snapshot.gateway_classes {
        if !input.serves(&class.spec.controller_name) {
            continue;
        }
        let gen_ = generation(&class.metadata);
        let mut conditions = vec![Condition::new(
            "Accepted",
            true,
            "Accepted",
            "Handled by portcullis",
            gen_,
        )];
        let accepted = class.spec.parameters_ref.is_none();
        if !accepted {
            conditions[0] = Condition::new(
                "Accepted",
                false,
                "InvalidParameters",
                "spec.parametersRef: portcullis takes no parameters",
                gen_,
            );
        }
        conditions.push(Condition::new(
            "SupportedVersion",
            true,
            "SupportedVersion",
            "Gateway API v1",
            gen_,
        ));
        statuses
            .gateway_classes
            .insert(name.clone(), GatewayClassStatus { conditions });
        // Accepted=False promises that no Gateway of the class is provisioned.
        if accepted {
            ours.insert(name.clone());
        }
    }
    let mut accepted = Vec::new();
    for (key, gateway) in &snapshot.gateways {
        if !ours.contains(&gateway.spec.gateway_class_name) {
            continue;
        }
        let (mut gw, status) = check_gateway(input, key, gateway);
        gw.controller_name = snapshot
            .gateway_classes
            .get(&gateway.spec.gateway_class_name)
            .map(|c| c.spec.controller_name.clone())
            .unwrap_or_default();
        statuses.gateways.insert(key.to_string(), status);
        accepted.push(gw);
    }
    accepted
}

fn check_gateway(
    input: &TranslateInput<'_>,
    key: &ObjectKey,
    gateway: &Gateway,
) -> (AcceptedGateway, GatewayStatus) {
    let gen_ = generation(&gateway.metadata);
    let mut listeners = Vec::new();
    let mut listener_statuses = Vec::new();
    for (index, listener) in gateway.spec.listeners.iter().enumerate() {
        let (checked, status) = check_listener(input, key, gen_, index, listener);
        listeners.push(checked);
        listener_statuses.push(status);
    }
    mark_conflicts(&mut listeners, &mut listener_statuses, gen_);
    let unsupported_address = gateway.spec.addresses.as_ref().is_some_and(|a| !a.is_empty());
    if unsupported_address {
        // The Gateway is not accepted, so none of its listeners reaches Envoy.
        for (l, status) in listeners.iter_mut().zip(&mut listener_statuses) {
            l.programmed = false;
            for c in status.conditions.iter_mut().filter(|c| c.type_ == "Programmed") {
                *c = Condition::new(
                    "Programmed",
                    false,
                    "Invalid",
                    "the Gateway is not accepted",
                    gen_,
                );
            }
        }
    }

    let mut binds = BTreeMap::new();
    for l in listeners.iter().filter(|l| l.programmed) {
        let bind = input
            .port_map
            .get(&(key.clone(), l.port))
            .copied()
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], u16::try_from(l.port).unwrap_or(0))));
        binds.insert(l.port, bind);
    }
    let mut addresses = Vec::new();
    if let Some(first) = binds.values().next() {
        addresses.push(GatewayAddress {
            type_: "IPAddress".to_string(),
            value: first.ip().to_string(),
        });
    }
    for (port, bind) in &binds {
        addresses.push(GatewayAddress {
            type_: LISTENER_ADDRESS_TYPE.to_string(),
            value: format!("{port}={bind}"),
        });
    }

    let valid = listeners.iter().filter(|l| l.programmed).count();
    let total = listeners.len();
    let mut conditions = Vec::new();
    if unsupported_address {
        conditions.push(Condition::new(
            "Accepted",
            false,
            "UnsupportedAddress",
            "spec.addresses: portcullis assigns addresses itself",
            gen_,
        ));
        conditions.push(Condition::new(
            "Programmed",
            false,
            "AddressNotAssigned",
            "spec.addresses is not supported",
            gen_,
        ));
    } else {
        if valid == total {
            conditions.push(Condition::new(
                "Accepted",
                true,
                "Accepted",
                "Gateway is accepted",
                gen_,
            ));
        } else {
            conditions.push(Condition::new(
                "Accepted",
                valid > 0,
                "ListenersNotValid",
                format!(
                    "{} of {total} listeners are not valid: {}",
                    total - valid,
                    listeners
                        .iter()
                        .filter(|l| !l.programmed)
                        .map(|l| l.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                gen_,
            ));
        }
        if valid > 0 {
            conditions.push(Condition::new(
                "Programmed",
                true,
                "Programmed",
                "Gateway is programmed",
                gen_,
            ));
        } else {
            conditions.push(Condition::new(
                "Programmed",
                false,
                "Invalid",
                "no valid listener",
                gen_,
            ));
        }
    }
    (
        AcceptedGateway {
            key: key.clone(),
            listeners,
            binds,
            controller_name: input.controller_name.to_string(),
            enforcer_fail_open: gateway
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(ENFORCER_FAILURE_MODE_ANNOTATION))
                .is_some_and(|v| v.eq_ignore_ascii_case("allow")),
        },
        GatewayStatus {
            addresses,
            conditions,
            listeners: listener_statuses,
        },
    )
}

fn check_listener(
    input: &TranslateInput<'_>,
    key: &ObjectKey,
    gen_: i64,
    index: usize,
    listener: &GatewayListeners,
) -> (CheckedListener, ListenerStatus) {
    let field = format!("spec.listeners[{index}]");
    let protocol = match listener.protocol.as_str() {
        "HTTP" => Some(Protocol::Http),
        "HTTPS" => Some(Protocol::Https),
        _ => None,
    };
    let allowed = listener.allowed_routes.as_ref();
    let allowed_namespaces = match allowed.and_then(|a| a.namespaces.as_ref()) {
        None => AllowedNamespaces::Same,
        Some(ns) => match ns.from {
            Some(From::All) => AllowedNamespaces::All,
            Some(From::Selector) => {
                AllowedNamespaces::Selector(Box::new(ns.selector.clone().unwrap_or_default()))
            }
            Some(From::Same) | None => AllowedNamespaces::Same,
        },
    };

    let mut conditions = Vec::new();
    let mut resolved = Condition::new(
        "ResolvedRefs",
        true,
        "ResolvedRefs",
        "all references resolved",
        gen_,
    );
    let mut supported_kinds = Vec::new();
    // HTTP and HTTPS listeners carry both route kinds; gRPC is HTTP/2 over the same listener.
    let mut allowed_kinds: BTreeSet<RouteKind> = BTreeSet::new();
    if let Some(kinds) = allowed.and_then(|a| a.kinds.as_ref()) {
        let mut invalid = Vec::new();
        for kind in kinds {
            let group_ok = kind.group.as_deref().is_none_or(|g| g == GATEWAY_GROUP);
            match RouteKind::from_name(&kind.kind).filter(|_| group_ok && protocol.is_some()) {
                Some(route_kind) => {
                    allowed_kinds.insert(route_kind);
                }
                None => invalid.push(format!(
                    "{}/{}",
                    kind.group.as_deref().unwrap_or(GATEWAY_GROUP),
                    kind.kind
                )),
            }
        }
        if !invalid.is_empty() {
            resolved = Condition::new(
                "ResolvedRefs",
                false,
                "InvalidRouteKinds",
                format!(
                    "{field}.allowedRoutes.kinds: unsupported kinds {}",
                    invalid.join(", ")
                ),
                gen_,
            );
        }
    } else if protocol.is_some() {
        allowed_kinds.extend(RouteKind::ALL);
    }
    for kind in &allowed_kinds {
        supported_kinds.push(RouteGroupKind {
            group: GATEWAY_GROUP.to_string(),
            kind: kind.name().to_string(),
        });
    }

    let mut programmed = protocol.is_some();
    let mut secrets = Vec::new();
    let mut accepted = Condition::new("Accepted", true, "Accepted", "listener is accepted", gen_);
    match protocol {
        None => {
            accepted = Condition::new(
                "Accepted",
                false,
                "UnsupportedProtocol",
                format!(
                    "{field}.protocol: {} is not supported (HTTP and HTTPS are)",
                    listener.protocol
                ),
                gen_,
            );
        }
        Some(Protocol::Https) => match check_certificates(input, key, &field, listener) {
            Ok(found) => secrets = found,
            Err((reason, message)) => {
                programmed = false;
                resolved = Condition::new("ResolvedRefs", false, reason, message, gen_);
            }
        },
        Some(Protocol::Http) => {}
    }
    // Invalid route kinds leave the listener listening (it answers 404); a bad certificate
    // leaves nothing to serve.
    if !resolved.is_true() && resolved.reason != "InvalidRouteKinds" {
        programmed = false;
    }
    conditions.push(accepted);
    conditions.push(if programmed {
        Condition::new("Programmed", true, "Programmed", "listener is programmed", gen_)
    } else {
        Condition::new("Programmed", false, "Invalid", "listener is not valid", gen_)
    });
    conditions.push(resolved);
    conditions.push(Condition::new(
        "Conflicted",
        false,
        "NoConflicts",
        "no conflicts",
        gen_,
    ));
    (
        CheckedListener {
            name: listener.name.clone(),
            port: listener.port,
            protocol,
            hostname: listener.hostname.clone().filter(|h| !h.is_empty()),
            allowed_namespaces,
            allows_http_routes: allowed_kinds.contains(&RouteKind::Http),
            allows_grpc_routes: allowed_kinds.contains(&RouteKind::Grpc),
            programmed,
            secrets,
        },
        ListenerStatus {
            name: listener.name.clone(),
            attached_routes: 0,
            supported_kinds,
            conditions,
        },
    )
}

fn check_certificates(
    input: &TranslateInput<'_>,
    key: &ObjectKey,
    field: &str,
    listener: &GatewayListeners,
) -> Result<Vec<TlsSecret>, (&'static str, String)> {
    let tls = listener.tls.as_ref().ok_or((
        "InvalidCertificateRef",
        format!("{field}.tls: HTTPS needs tls.certificateRefs"),
    ))?;
    if matches!(
        tls.mode,
        Some(gateway_api::gateways::GatewayListenersTlsMode::Passthrough)
    ) {
        return Err((
            "InvalidCertificateRef",
            format!("{field}.tls.mode: Passthrough is not valid for HTTPS"),
        ));
    }
    let refs = tls.certificate_refs.clone().unwrap_or_default();
    if refs.is_empty() {
        return Err((
            "InvalidCertificateRef",
            format!("{field}.tls.certificateRefs: at least one is required"),
        ));
    }
    let mut out = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let at = format!("{field}.tls.certificateRefs[{i}]");
        let group = r.group.as_deref().unwrap_or("");
        let kind = r.kind.as_deref().unwrap_or("Secret");
        if !(group.is_empty() || group == "core") || kind != "Secret" {
            let group = if group.is_empty() {
                String::new()
            } else {
                format!("{group}/")
            };
            return Err((
                "InvalidCertificateRef",
                format!("{at}: {group}{kind} is not a Secret"),
            ));
        }
        let namespace = r.namespace.clone().unwrap_or_else(|| key.namespace.clone());
        let from = RefFrom {
            group: GATEWAY_GROUP,
            kind: "Gateway",
            namespace: &key.namespace,
        };
        if !reference_allowed(input.snapshot, from, "", "Secret", &namespace, &r.name) {
            return Err((
                "RefNotPermitted",
                format!(
                    "{at}: Secret {namespace}/{} is in another namespace and no ReferenceGrant allows it",
                    r.name
                ),
            ));
        }
        let secret_key = ObjectKey::new(namespace.clone(), r.name.clone());
        let secret = input.snapshot.secrets.get(&secret_key).ok_or((
            "InvalidCertificateRef",
            format!("{at}: Secret {secret_key} not found"),
        ))?;
        let data = secret.data.clone().unwrap_or_default();
        let cert = data.get("tls.crt").map(|b| b.0.clone()).unwrap_or_default();
        let private_key = data.get("tls.key").map(|b| b.0.clone()).unwrap_or_default();
        if !looks_like_pem(&cert, "CERTIFICATE") || !looks_like_pem(&private_key, "PRIVATE KEY") {
            return Err((
                "InvalidCertificateRef",
                format!("{at}: Secret {secret_key} needs PEM `tls.crt` and `tls.key`"),
            ));
        }
        out.push(TlsSecret {
            name: secret_key.to_string(),
            certificate_chain: cert,
            private_key,
        });
    }
    Ok(out)
}

fn looks_like_pem(bytes: &[u8], label: &str) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains("-----BEGIN ") && text.contains(label) && text.contains("-----END ")
}

/// Listeners that share a port must agree on the protocol and differ in hostname.
fn mark_conflicts(listeners: &mut [CheckedListener], statuses: &mut [ListenerStatus], gen_: i64) {
    let mut by_port: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (i, l) in listeners.iter().enumerate() {
        if l.protocol.is_some() {
            by_port.entry(l.port).or_default().push(i);
        }
    }
    for indices in by_port.values() {
        let protocols: BTreeSet<_> = indices.iter().map(|&i| listeners[i].protocol).collect();
        // Every listener of an indistinct set is conflicted: none is picked as the winner.
        let mut host_counts: BTreeMap<Option<String>, usize> = BTreeMap::new();
        for &i in indices {
            *host_counts.entry(listeners[i].hostname.clone()).or_default() += 1;
        }
        for &i in indices {
            let conflict = if protocols.len() > 1 {
                Some((
                    "ProtocolConflict",
                    format!("port {} is declared with several protocols", listeners[i].port),
                ))
            } else if host_counts.get(&listeners[i].hostname).is_some_and(|&n| n > 1) {
                Some((
                    "HostnameConflict",
                    format!(
                        "another listener on port {} has hostname {:?}",
                        listeners[i].port,
                        listeners[i].hostname.as_deref().unwrap_or("")
                    ),
                ))
            } else {
                None
            };
            if let Some((reason, message)) = conflict {
                listeners[i].programmed = false;
                for c in &mut statuses[i].conditions {
                    match c.type_.as_str() {
                        "Conflicted" => {
                            *c = Condition::new("Conflicted", true, reason, message.clone(), gen_)
                        }
                        "Programmed" => {
                            *c = Condition::new("Programmed", false, "Invalid", message.clone(), gen_)
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
