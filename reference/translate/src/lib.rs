//! The pure translation core: a [`Snapshot`] of resources in, Envoy resources and status
//! conditions out. No IO, no async, no clocks: the same input gives the same output, byte
//! for byte.
//!
//! Two stages, as in Envoy Gateway: resources → [`ir::Ir`] (proxy-neutral, with every
//! Gateway API decision made) → Envoy xDS resources ([`envoy::to_xds`]).

pub mod apk;
pub mod backend;
pub mod conflict;
pub mod envoy;
pub mod gateway;
pub mod grpc_route;
pub mod hostname;
pub mod ir;
pub mod rate_limit;
pub mod refs;
pub mod route;
pub mod route_kind;
pub mod status;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use portcullis_model::{ObjectKey, Snapshot};

pub use envoy::XdsResources;
pub use ir::Ir;
pub use route_kind::RouteKind;
pub use status::Statuses;

/// Where each Gateway port really listens. The runtime decides (declared ports it cannot bind
/// are moved to free local ports); offline translation leaves it empty and every listener
/// binds `0.0.0.0:<declared port>`.
pub type PortMap = BTreeMap<(ObjectKey, i32), SocketAddr>;

/// Everything the translator reads.
#[derive(Clone, Copy, Debug)]
pub struct TranslateInput<'a> {
    /// The resources.
    pub snapshot: &'a Snapshot,
    /// The `controllerName` whose GatewayClasses this gateway serves.
    pub controller_name: &'a str,
    /// A second controller name served too (APK's, with the APK profile).
    pub also_serves: Option<&'a str>,
    /// Where listeners bind.
    pub port_map: &'a PortMap,
}

impl TranslateInput<'_> {
    /// Whether GatewayClasses with this controller name are ours.
    pub fn serves(&self, controller_name: &str) -> bool {
        controller_name == self.controller_name || self.also_serves == Some(controller_name)
    }
}

/// Everything the translator produces.
#[derive(Clone, Debug)]
pub struct Translation {
    /// The intermediate representation.
    pub ir: Ir,
    /// Status conditions of every resource this controller owns.
    pub statuses: Statuses,
    /// Envoy resources by type URL and name.
    pub xds: XdsResources,
}

/// Translates a snapshot.
pub fn translate(input: &TranslateInput<'_>) -> Translation {
    let mut statuses = Statuses::default();
    let gateways = gateway::translate_gateways(input, &mut statuses);
    let ir = route::translate_routes(input, gateways, &mut statuses);
    let xds = envoy::to_xds(&ir);
    Translation { ir, statuses, xds }
}
