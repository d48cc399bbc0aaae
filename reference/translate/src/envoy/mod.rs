//! IR → Envoy xDS resources, one file per resource type.

mod cluster;
mod listener;
pub mod rate_limit;
mod route;
mod secret;
pub mod security;

use std::collections::BTreeMap;

use envoy_types::pb::envoy::config::core::v3::{
    AggregatedConfigSource, ApiVersion, ConfigSource, config_source::ConfigSourceSpecifier,
};
use envoy_types::pb::google::protobuf::Any;
use prost::{Message, Name};

use crate::ir::Ir;

/// Envoy resources: type URL → resource name → resource.
pub type XdsResources = BTreeMap<String, BTreeMap<String, Any>>;

/// Type URLs of the resources the translator produces.
pub mod type_url {
    /// Clusters (CDS).
    pub const CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    /// Endpoints (EDS).
    pub const ENDPOINT: &str = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    /// Listeners (LDS).
    pub const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
    /// Route tables (RDS).
    pub const ROUTE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    /// TLS certificates (SDS).
    pub const SECRET: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
}

/// Packs a message as an `Any`.
pub(crate) fn any<M: Message + Name>(message: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: message.encode_to_vec(),
    }
}

/// Every dynamic resource is fetched over the one ADS stream.
pub(crate) fn ads() -> ConfigSource {
    ConfigSource {
        resource_api_version: ApiVersion::V3 as i32,
        config_source_specifier: Some(ConfigSourceSpecifier::Ads(AggregatedConfigSource {})),
        ..Default::default()
    }
}

/// Converts the IR into Envoy resources.
pub fn to_xds(ir: &Ir) -> XdsResources {
    let mut out: XdsResources = BTreeMap::new();
    for c in &ir.clusters {
        out.entry(type_url::CLUSTER.to_string())
            .or_default()
            .insert(c.name.clone(), any(&cluster::cluster(c)));
        // DNS clusters carry their endpoints inline.
        if !c.dns {
            out.entry(type_url::ENDPOINT.to_string())
                .or_default()
                .insert(c.name.clone(), any(&cluster::load_assignment(c)));
        }
    }
    for s in &ir.secrets {
        out.entry(type_url::SECRET.to_string())
            .or_default()
            .insert(s.name.clone(), any(&secret::secret(s)));
    }
    for l in &ir.listeners {
        out.entry(type_url::LISTENER.to_string())
            .or_default()
            .insert(l.name.clone(), any(&listener::listener(l)));
        for (name, table) in route::route_tables(l) {
            out.entry(type_url::ROUTE.to_string())
                .or_default()
                .insert(name, table);
        }
    }
    out
}
