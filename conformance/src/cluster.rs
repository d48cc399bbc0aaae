//! The cluster driver: any gateway on a Kubernetes cluster, reached through the Kubernetes API.
//!
//! Manifests are server-side applied with the field manager [`FIELD_MANAGER`], one object at a
//! time, through the dynamic API. The driver remembers which objects each manifest name brought,
//! so that deleting a name deletes exactly those. After an apply it waits until the gateway has
//! caught up (see [`ClusterDriver::apply`]); statuses and addresses are read back from the
//! objects themselves.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use async_trait::async_trait;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;
use kube::{Client, Config};
use serde::Deserialize;
use serde_json::Value;

use crate::driver::Driver;

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "portcullis-conformance";
/// The GatewayClass name the suites' manifests use.
pub const REFERENCE_CLASS: &str = "portcullis";
/// The controller name of the reference GatewayClass in the suites' manifests.
pub const REFERENCE_CONTROLLER: &str = "portcullis.dev/gateway-controller";
/// The address type the reference gateway writes: `<port>=<ip>:<local port>`.
pub const LISTENER_ADDRESS_TYPE: &str = "portcullis.dev/ListenerAddress";
/// The features claimed when none are configured: the core of GATEWAY-HTTP.
pub const DEFAULT_FEATURES: &[&str] = &["Gateway", "HTTPRoute", "ReferenceGrant"];

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// A kind the suites use, so applying it needs no discovery round trip.
struct KnownKind {
    group: &'static str,
    /// The version used when only the kind is known (`status`).
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
}

const KNOWN_KINDS: &[KnownKind] = &[
    KnownKind {
        group: "",
        version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        namespaced: false,
    },
    KnownKind {
        group: "",
        version: "v1",
        kind: "Service",
        plural: "services",
        namespaced: true,
    },
    KnownKind {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        namespaced: true,
    },
    KnownKind {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        namespaced: true,
    },
    KnownKind {
        group: "apps",
        version: "v1",
        kind: "Deployment",
        plural: "deployments",
        namespaced: true,
    },
    KnownKind {
        group: GATEWAY_GROUP,
        version: "v1",
        kind: "GatewayClass",
        plural: "gatewayclasses",
        namespaced: false,
    },
    KnownKind {
        group: GATEWAY_GROUP,
        version: "v1",
        kind: "Gateway",
        plural: "gateways",
        namespaced: true,
    },
    KnownKind {
        group: GATEWAY_GROUP,
        version: "v1",
        kind: "HTTPRoute",
        plural: "httproutes",
        namespaced: true,
    },
    KnownKind {
        group: GATEWAY_GROUP,
        version: "v1",
        kind: "GRPCRoute",
        plural: "grpcroutes",
        namespaced: true,
    },
    // v1beta1 is the storage version and the one every release since v0.6 serves.
    KnownKind {
        group: GATEWAY_GROUP,
        version: "v1beta1",
        kind: "ReferenceGrant",
        plural: "referencegrants",
        namespaced: true,
    },
];

/// How the cluster driver behaves, apart from the GatewayClass it uses.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// The upstream feature names the gateway claims; scenarios needing others are not run.
    pub supported_features: BTreeSet<String>,
    /// Fixed addresses for Gateway ports (`namespace/name`, port → `host:port`), for gateways
    /// reachable only through a port-forward or a kind port mapping.
    pub gateway_addresses: Vec<GatewayAddressOverride>,
    /// How long an apply waits for the gateway, a delete for the objects to go, and an address
    /// lookup for the Gateway to have an address.
    pub settle_timeout: Duration,
    /// How often those waits poll.
    pub poll_interval: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            supported_features: DEFAULT_FEATURES.iter().map(|f| f.to_string()).collect(),
            gateway_addresses: Vec::new(),
            settle_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// A malformed `--gateway-address` value.
#[derive(Debug, thiserror::Error)]
#[error("{value:?} is not of the form namespace/name:port=host:port ({reason})")]
pub struct GatewayAddressOverrideError {
    value: String,
    reason: &'static str,
}

/// `namespace/name:port=host:port`: where to send requests for a Gateway's declared port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayAddressOverride {
    /// The Gateway, `namespace/name`.
    pub gateway: String,
    /// The port the Gateway declares.
    pub port: i32,
    /// Where that port is reachable, `host:port`.
    pub target: String,
}

impl FromStr for GatewayAddressOverride {
    type Err = GatewayAddressOverrideError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let error = |reason| GatewayAddressOverrideError {
            value: value.to_string(),
            reason,
        };
        let (left, target) = value.split_once('=').ok_or_else(|| error("no '='"))?;
        let (gateway, port) = left
            .rsplit_once(':')
            .ok_or_else(|| error("no ':port' after the Gateway"))?;
        let (namespace, name) = gateway
            .split_once('/')
            .ok_or_else(|| error("the Gateway needs namespace/name"))?;
        if namespace.is_empty() || name.is_empty() {
            return Err(error("the Gateway needs namespace/name"));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| error("the Gateway port is not a number"))?;
        let (host, target_port) = target
            .rsplit_once(':')
            .ok_or_else(|| error("the target needs host:port"))?;
        if host.is_empty() || target_port.parse::<u16>().is_err() {
            return Err(error("the target needs host:port"));
        }
        Ok(GatewayAddressOverride {
            gateway: gateway.to_string(),
            port: i32::from(port),
            target: target.to_string(),
        })
    }
}

/// One object the driver applied.
#[derive(Clone, Debug)]
pub struct AppliedObject {
    /// The kind, e.g. `HTTPRoute`.
    pub kind: String,
    /// The namespace, for namespaced kinds.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
    resource: ApiResource,
}

impl AppliedObject {
    fn same_object(&self, other: &AppliedObject) -> bool {
        self.resource.group == other.resource.group
            && self.kind == other.kind
            && self.namespace == other.namespace
            && self.name == other.name
    }

    fn is(&self, group: &str, kind: &str) -> bool {
        self.resource.group == group && self.kind == kind
    }
}

impl fmt::Display for AppliedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{} {namespace}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Where a Gateway's status says a port is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusAddress {
    /// A socket address, ready to use.
    Socket(SocketAddr),
    /// A hostname and port, to resolve.
    Hostname(String, u16),
}

/// Picks the address for `port` from a Gateway's `status`.
///
/// A `portcullis.dev/ListenerAddress` entry `<port>=<ip>:<local port>` for the port wins (the
/// reference gateway writes these); otherwise the first `IPAddress` (the default type) or
/// `Hostname` entry, combined with the declared port.
pub fn address_from_status(status: &Value, port: i32) -> Option<StatusAddress> {
    let addresses = status["addresses"].as_array()?;
    let prefix = format!("{port}=");
    let mapped = addresses
        .iter()
        .filter(|a| a["type"] == LISTENER_ADDRESS_TYPE)
        .find_map(|a| {
            let value = a["value"].as_str()?;
            value.strip_prefix(&prefix)?.parse::<SocketAddr>().ok()
        });
    if let Some(socket) = mapped {
        return Some(StatusAddress::Socket(socket));
    }
    let port = u16::try_from(port).ok()?;
    addresses.iter().find_map(|a| {
        let value = a["value"].as_str()?;
        match a["type"].as_str().unwrap_or("IPAddress") {
            "IPAddress" => value
                .parse::<IpAddr>()
                .ok()
                .map(|ip| StatusAddress::Socket(SocketAddr::new(ip, port))),
            "Hostname" if !value.is_empty() => Some(StatusAddress::Hostname(value.to_string(), port)),
            _ => None,
        }
    })
}

/// Runs scenarios against whatever gateway implements a GatewayClass on a cluster.
pub struct ClusterDriver {
    client: Client,
    gateway_class: String,
    options: ClusterOptions,
    applied: Mutex<HashMap<String, Vec<AppliedObject>>>,
    discovered: Mutex<HashMap<GroupVersionKind, (ApiResource, bool)>>,
}

impl ClusterDriver {
    /// Connects with a kubeconfig file (its current context), or with the inferred
    /// configuration (`KUBECONFIG`, `~/.kube/config`, in-cluster) when `kubeconfig` is `None`.
    /// Unless the class is the suites' own `portcullis`, it must already exist on the cluster.
    pub async fn connect(
        kubeconfig: Option<PathBuf>,
        gateway_class: String,
        options: ClusterOptions,
    ) -> anyhow::Result<Self> {
        let config = match &kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path)
                    .with_context(|| format!("reading the kubeconfig {}", path.display()))?;
                Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .with_context(|| format!("loading the current context of {}", path.display()))?
            }
            None => Config::infer()
                .await
                .context("finding a kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster)")?,
        };
        let client = Client::try_from(config).context("building a Kubernetes client")?;
        let driver = ClusterDriver::with_client(client, gateway_class, options);
        if driver.gateway_class != REFERENCE_CLASS {
            driver.check_gateway_class().await?;
        }
        Ok(driver)
    }

    /// A driver over an existing client (tests hand in a mock service).
    pub fn with_client(client: Client, gateway_class: String, options: ClusterOptions) -> Self {
        ClusterDriver {
            client,
            gateway_class,
            options,
            applied: Mutex::default(),
            discovered: Mutex::default(),
        }
    }

    /// The GatewayClass the driver uses.
    pub fn gateway_class(&self) -> &str {
        &self.gateway_class
    }

    /// The objects applied under a name, in the order they were applied.
    pub fn applied(&self, name: &str) -> Vec<AppliedObject> {
        self.applied
            .lock()
            .map(|applied| applied.get(name).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Checks that the GatewayClass exists, and returns its controller name.
    pub async fn check_gateway_class(&self) -> anyhow::Result<String> {
        let resource = known_resource("GatewayClass")?;
        let class = AppliedObject {
            kind: "GatewayClass".into(),
            namespace: None,
            name: self.gateway_class.clone(),
            resource,
        };
        let object = self.get(&class).await?.with_context(|| {
            format!("{class} does not exist on the cluster: install a gateway implementation first")
        })?;
        let controller = object["spec"]["controllerName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let accepted = object["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Accepted" && c["status"] == "True")
        });
        if !accepted {
            tracing::warn!("{class} (controller {controller}) is not Accepted yet");
        }
        Ok(controller)
    }

    fn api(&self, object: &AppliedObject) -> Api<DynamicObject> {
        match &object.namespace {
            Some(namespace) => Api::namespaced_with(self.client.clone(), namespace, &object.resource),
            None => Api::all_with(self.client.clone(), &object.resource),
        }
    }

    /// The API resource of a kind, and whether it is namespaced: from the table of the kinds
    /// the suites use, else by asking the API server.
    async fn resource(&self, api_version: &str, kind: &str) -> anyhow::Result<(ApiResource, bool)> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        if let Some(known) = KNOWN_KINDS.iter().find(|k| k.group == group && k.kind == kind) {
            return Ok((
                ApiResource::from_gvk_with_plural(&gvk, known.plural),
                known.namespaced,
            ));
        }
        if let Some(found) = self.discovered.lock().ok().and_then(|d| d.get(&gvk).cloned()) {
            return Ok(found);
        }
        let (resource, capabilities) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .with_context(|| format!("discovering the resource of kind {kind} in {api_version}"))?;
        let found = (resource, capabilities.scope == Scope::Namespaced);
        if let Ok(mut discovered) = self.discovered.lock() {
            discovered.insert(gvk, found.clone());
        }
        Ok(found)
    }

    /// Adapts a manifest document to a cluster and the configured class; `None` drops it.
    ///
    /// Fields the API server owns go: folder-mode manifests may carry `metadata.generation`
    /// (the embedded gateway reads it), which an apply must not send.
    fn adapt(&self, mut document: Value) -> Option<Value> {
        if let Some(metadata) = document.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in [
                "generation",
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "managedFields",
            ] {
                metadata.remove(field);
            }
        }
        if let Some(object) = document.as_object_mut() {
            object.remove("status");
        }
        if self.gateway_class == REFERENCE_CLASS {
            return Some(document);
        }
        let group = document["apiVersion"]
            .as_str()
            .and_then(|v| v.split_once('/'))
            .map(|(g, _)| g)
            .unwrap_or("");
        if group != GATEWAY_GROUP {
            return Some(document);
        }
        match document["kind"].as_str() {
            // The suites define their own class; the cluster's class stands in for it.
            Some("GatewayClass")
                if document["metadata"]["name"] == REFERENCE_CLASS
                    || document["spec"]["controllerName"] == REFERENCE_CONTROLLER =>
            {
                None
            }
            Some("Gateway") if document["spec"]["gatewayClassName"] == REFERENCE_CLASS => {
                document["spec"]["gatewayClassName"] = Value::String(self.gateway_class.clone());
                Some(document)
            }
            _ => Some(document),
        }
    }

    /// Names the object a document describes, filling in the namespace of namespaced kinds.
    async fn identify(&self, document: &mut Value) -> anyhow::Result<AppliedObject> {
        let api_version = document["apiVersion"]
            .as_str()
            .context("a document has no apiVersion")?
            .to_string();
        let kind = document["kind"]
            .as_str()
            .context("a document has no kind")?
            .to_string();
        let name = document["metadata"]["name"]
            .as_str()
            .with_context(|| format!("a {kind} has no metadata.name"))?
            .to_string();
        let (resource, namespaced) = self.resource(&api_version, &kind).await?;
        let namespace = if namespaced {
            let namespace = match document["metadata"]["namespace"].as_str() {
                Some(namespace) => namespace.to_string(),
                None => {
                    let namespace = self.client.default_namespace().to_string();
                    document["metadata"]["namespace"] = Value::String(namespace.clone());
                    namespace
                }
            };
            Some(namespace)
        } else {
            None
        };
        Ok(AppliedObject {
            kind,
            namespace,
            name,
            resource,
        })
    }

    /// Server-side applies one object. A namespace that does not exist yet is created first
    /// (and left in place): the harness applies the base certificate before the base
    /// namespaces, which a folder does not mind and an API server does.
    async fn apply_object(&self, object: &AppliedObject, document: &Value) -> Result<(), kube::Error> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        match self
            .api(object)
            .patch(&object.name, &params, &Patch::Apply(document))
            .await
        {
            Err(kube::Error::Api(status)) if status.is_not_found() => {
                let missing = status
                    .details
                    .as_ref()
                    .filter(|d| d.kind == "namespaces")
                    .map(|d| d.name.clone());
                let Some(namespace) = missing.filter(|n| object.namespace.as_ref() == Some(n)) else {
                    return Err(kube::Error::Api(status));
                };
                let resource = ApiResource::from_gvk_with_plural(
                    &GroupVersionKind::gvk("", "v1", "Namespace"),
                    "namespaces",
                );
                let body = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
                Api::<DynamicObject>::all_with(self.client.clone(), &resource)
                    .patch(&namespace, &params, &Patch::Apply(&body))
                    .await?;
                self.api(object)
                    .patch(&object.name, &params, &Patch::Apply(document))
                    .await
                    .map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }

    async fn get(&self, object: &AppliedObject) -> anyhow::Result<Option<Value>> {
        let found = self
            .api(object)
            .get_opt(&object.name)
            .await
            .map_err(|e| api_error(e, &format!("reading {object}")))?;
        found
            .map(serde_json::to_value)
            .transpose()
            .with_context(|| format!("reading {object}"))
    }

    fn record(&self, name: &str, objects: Vec<AppliedObject>) -> Vec<AppliedObject> {
        match self.applied.lock() {
            Ok(mut applied) => applied.insert(name.to_string(), objects).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Deletes objects (last first), then waits until they are gone.
    async fn delete_objects(&self, objects: &[AppliedObject]) -> anyhow::Result<()> {
        for object in objects.iter().rev() {
            match self
                .api(object)
                .delete(&object.name, &DeleteParams::default())
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.is_not_found() => {}
                Err(error) => return Err(api_error(error, &format!("deleting {object}"))),
            }
        }
        let started = Instant::now();
        let mut remaining: Vec<&AppliedObject> = objects.iter().rev().collect();
        loop {
            let mut still = Vec::new();
            for object in remaining {
                if self.get(object).await?.is_some() {
                    still.push(object);
                }
            }
            remaining = still;
            if remaining.is_empty() {
                return Ok(());
            }
            if started.elapsed() >= self.options.settle_timeout {
                let names: Vec<String> = remaining.iter().map(|o| o.to_string()).collect();
                bail!(
                    "timed out after {:?} waiting for the deletion of {}",
                    self.options.settle_timeout,
                    names.join(", ")
                );
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    /// Polls until [`Self::unsettled`] finds nothing left to wait for.
    async fn wait_settled(&self, objects: &[AppliedObject]) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let Some(reason) = self.unsettled(objects).await? else {
                return Ok(());
            };
            if started.elapsed() >= self.options.settle_timeout {
                bail!(
                    "timed out after {:?} waiting for the gateway to program the objects: {reason}",
                    self.options.settle_timeout
                );
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    /// The first thing the gateway has yet to do for these objects, if any.
    ///
    /// A Gateway of the configured class must have a Programmed condition for its current
    /// generation that is True, or False with a reason other than Pending (scenarios with
    /// invalid listeners expect exactly that). An HTTPRoute must have, for every parent Gateway
    /// that exists and has the configured class, a status entry whose conditions all carry the
    /// route's current generation; routes that are to be rejected get such an entry too.
    async fn unsettled(&self, objects: &[AppliedObject]) -> anyhow::Result<Option<String>> {
        let mut gateways: HashMap<(String, String), Option<Value>> = HashMap::new();
        for object in objects {
            if object.is(GATEWAY_GROUP, "Gateway") {
                let gateway = self.get(object).await?;
                let key = (object.namespace.clone().unwrap_or_default(), object.name.clone());
                gateways.insert(key, gateway.clone());
                let Some(gateway) = gateway else {
                    return Ok(Some(format!("{object} does not exist")));
                };
                if gateway["spec"]["gatewayClassName"] != self.gateway_class.as_str() {
                    continue;
                }
                if let Some(reason) = gateway_unsettled(&gateway) {
                    return Ok(Some(format!("{object}: {reason}")));
                }
            } else if object.is(GATEWAY_GROUP, "HTTPRoute") {
                let Some(route) = self.get(object).await? else {
                    return Ok(Some(format!("{object} does not exist")));
                };
                let route_namespace = object.namespace.clone().unwrap_or_default();
                let parents = route["spec"]["parentRefs"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for parent in &parents {
                    if parent["group"].as_str().unwrap_or(GATEWAY_GROUP) != GATEWAY_GROUP
                        || parent["kind"].as_str().unwrap_or("Gateway") != "Gateway"
                    {
                        continue;
                    }
                    let Some(name) = parent["name"].as_str() else {
                        continue;
                    };
                    let namespace = parent["namespace"]
                        .as_str()
                        .unwrap_or(&route_namespace)
                        .to_string();
                    let key = (namespace.clone(), name.to_string());
                    let gateway = match gateways.get(&key) {
                        Some(gateway) => gateway.clone(),
                        None => {
                            let reference = AppliedObject {
                                kind: "Gateway".into(),
                                namespace: Some(namespace),
                                name: name.to_string(),
                                resource: known_resource("Gateway")?,
                            };
                            let gateway = self.get(&reference).await?;
                            gateways.insert(key, gateway.clone());
                            gateway
                        }
                    };
                    // Nobody answers for a missing Gateway or one of another class.
                    if gateway.is_none_or(|g| g["spec"]["gatewayClassName"] != self.gateway_class.as_str()) {
                        continue;
                    }
                    if let Some(reason) = route_parent_unsettled(&route, parent, &route_namespace) {
                        return Ok(Some(format!("{object}: {reason}")));
                    }
                }
            }
        }
        Ok(None)
    }
}

fn known_resource(kind: &str) -> anyhow::Result<ApiResource> {
    let known = KNOWN_KINDS.iter().find(|k| k.kind == kind).with_context(|| {
        let kinds: Vec<&str> = KNOWN_KINDS.iter().map(|k| k.kind).collect();
        format!(
            "the cluster driver does not know kind {kind} (it knows {})",
            kinds.join(", ")
        )
    })?;
    Ok(ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(known.group, known.version, known.kind),
        known.plural,
    ))
}

/// A kube error as a sentence naming what was being done.
fn api_error(error: kube::Error, doing: &str) -> anyhow::Error {
    match error {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", status.reason)
            };
            anyhow::anyhow!(
                "{doing}: the API server answered {}{reason}: {}",
                status.code,
                status.message
            )
        }
        other => anyhow::Error::new(other).context(doing.to_string()),
    }
}

/// The documents of a multi-document YAML text, without empty ones.
fn documents(yaml: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
        let value =
            Value::deserialize(document).with_context(|| format!("parsing YAML document {}", index + 1))?;
        if value.is_null() {
            continue;
        }
        ensure!(value.is_object(), "YAML document {} is not a mapping", index + 1);
        out.push(value);
    }
    Ok(out)
}

fn generation(object: &Value) -> Option<i64> {
    object["metadata"]["generation"].as_i64()
}

fn gateway_unsettled(gateway: &Value) -> Option<String> {
    let generation = generation(gateway);
    let Some(programmed) = gateway["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Programmed"))
    else {
        return Some("no Programmed condition yet".to_string());
    };
    let status = programmed["status"].as_str().unwrap_or("?");
    let reason = programmed["reason"].as_str().unwrap_or("?");
    let observed = programmed["observedGeneration"].as_i64();
    if observed != generation {
        return Some(format!(
            "Programmed is {status} ({reason}) for generation {}, the Gateway is at generation {}",
            describe_generation(observed),
            describe_generation(generation)
        ));
    }
    // False for a reason other than Pending is the gateway's final word (e.g. Invalid).
    if status == "True" || (status == "False" && reason != "Pending") {
        None
    } else {
        Some(format!("Programmed is {status} ({reason})"))
    }
}

fn describe_generation(generation: Option<i64>) -> String {
    generation.map_or_else(|| "(none)".to_string(), |g| g.to_string())
}

fn route_parent_unsettled(route: &Value, parent: &Value, route_namespace: &str) -> Option<String> {
    let name = parent["name"].as_str().unwrap_or_default();
    let namespace = parent["namespace"].as_str().unwrap_or(route_namespace);
    let described = match parent["sectionName"].as_str() {
        Some(section) => format!("{namespace}/{name} section {section}"),
        None => format!("{namespace}/{name}"),
    };
    let entry = route["status"]["parents"].as_array().and_then(|entries| {
        entries.iter().find(|e| {
            let r = &e["parentRef"];
            r["name"] == name
                && r["namespace"].as_str().unwrap_or(route_namespace) == namespace
                && r["sectionName"] == parent["sectionName"]
                && r["port"] == parent["port"]
        })
    });
    let Some(entry) = entry else {
        return Some(format!("no status for parent {described} yet"));
    };
    let conditions = entry["conditions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if conditions.is_empty() {
        return Some(format!("no conditions for parent {described} yet"));
    }
    let generation = generation(route);
    conditions
        .iter()
        .find(|c| c["observedGeneration"].as_i64() != generation)
        .map(|c| {
            format!(
                "condition {} for parent {described} is for generation {}, the route is at generation {}",
                c["type"].as_str().unwrap_or("?"),
                describe_generation(c["observedGeneration"].as_i64()),
                describe_generation(generation)
            )
        })
}

async fn resolve(host: &str, port: u16) -> anyhow::Result<SocketAddr> {
    tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("resolving {host}"))?
        .next()
        .with_context(|| format!("{host} resolves to no address"))
}

#[async_trait]
impl Driver for ClusterDriver {
    fn name(&self) -> &str {
        "cluster"
    }

    /// Server-side applies every object of the YAML in order (the suites' GatewayClass is
    /// dropped and `gatewayClassName: portcullis` becomes the configured class, unless that is
    /// `portcullis`), deletes what an earlier apply under the same name brought and this one
    /// does not, then waits until the gateway has caught up with every Gateway and HTTPRoute.
    async fn apply(&self, name: &str, yaml: &str) -> anyhow::Result<()> {
        let documents = documents(yaml).with_context(|| format!("reading the manifests {name}"))?;
        let previous = self.applied(name);
        let mut applied: Vec<AppliedObject> = Vec::new();
        let mut failure = None;
        for document in documents.into_iter().filter_map(|d| self.adapt(d)) {
            let mut document = document;
            let object = match self.identify(&mut document).await {
                Ok(object) => object,
                Err(error) => {
                    failure = Some(error.context(format!("applying {name}")));
                    break;
                }
            };
            match self.apply_object(&object, &document).await {
                Ok(()) => applied.push(object),
                Err(error) => {
                    failure = Some(api_error(error, &format!("applying {object} from {name}")));
                    break;
                }
            }
        }
        if let Some(error) = failure {
            // Remember everything, so that deleting the name still cleans up.
            let mut remembered = previous;
            for object in applied {
                if !remembered.iter().any(|o| o.same_object(&object)) {
                    remembered.push(object);
                }
            }
            self.record(name, remembered);
            return Err(error);
        }
        self.record(name, applied.clone());
        let stale: Vec<AppliedObject> = previous
            .into_iter()
            .filter(|old| !applied.iter().any(|new| new.same_object(old)))
            .collect();
        if !stale.is_empty() {
            self.delete_objects(&stale)
                .await
                .with_context(|| format!("removing what {name} no longer has"))?;
        }
        self.wait_settled(&applied)
            .await
            .with_context(|| format!("applying {name}"))
    }

    async fn delete(&self, name: &str) -> anyhow::Result<()> {
        let objects = match self.applied.lock() {
            Ok(mut applied) => applied.remove(name).unwrap_or_default(),
            Err(_) => bail!("the record of applied objects is poisoned"),
        };
        self.delete_objects(&objects)
            .await
            .with_context(|| format!("deleting {name}"))
    }

    async fn gateway_address(&self, gateway: &str, port: i32) -> anyhow::Result<SocketAddr> {
        if let Some(fixed) = self
            .options
            .gateway_addresses
            .iter()
            .find(|o| o.gateway == gateway && o.port == port)
        {
            let (host, target_port) = fixed
                .target
                .rsplit_once(':')
                .context("a gateway address override needs host:port")?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let target_port: u16 = target_port
                .parse()
                .with_context(|| format!("the port of {}", fixed.target))?;
            return resolve(host, target_port).await;
        }
        let (namespace, name) = gateway.split_once('/').unwrap_or(("default", gateway));
        let object = AppliedObject {
            kind: "Gateway".into(),
            namespace: Some(namespace.to_string()),
            name: name.to_string(),
            resource: known_resource("Gateway")?,
        };
        let started = Instant::now();
        loop {
            let found = self.get(&object).await?;
            let status = found.as_ref().map(|g| g["status"].clone()).unwrap_or(Value::Null);
            match address_from_status(&status, port) {
                Some(StatusAddress::Socket(socket)) => return Ok(socket),
                Some(StatusAddress::Hostname(host, port)) => return resolve(&host, port).await,
                None if started.elapsed() >= self.options.settle_timeout => bail!(
                    "{object} has no usable address for port {port} after {:?} (status.addresses: {}); \
                     pass --gateway-address {gateway}:{port}=HOST:PORT if it is reachable some other way",
                    self.options.settle_timeout,
                    status["addresses"]
                ),
                None => tokio::time::sleep(self.options.poll_interval).await,
            }
        }
    }

    async fn status(&self, kind: &str, key: &str) -> anyhow::Result<Option<Value>> {
        let known = KNOWN_KINDS.iter().find(|k| k.kind == kind);
        let namespace = match key.split_once('/') {
            Some((namespace, _)) => Some(namespace.to_string()),
            None if known.is_some_and(|k| !k.namespaced) => None,
            None => Some("default".to_string()),
        };
        let name = key.split_once('/').map(|(_, n)| n).unwrap_or(key);
        let object = AppliedObject {
            kind: kind.to_string(),
            namespace,
            name: name.to_string(),
            resource: known_resource(kind)?,
        };
        let found = self.get(&object).await?;
        Ok(found.and_then(|o| o.get("status").cloned()))
    }

    fn supported_features(&self) -> BTreeSet<String> {
        self.options.supported_features.clone()
    }
}
