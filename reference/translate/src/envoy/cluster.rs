//! Clusters and their endpoints.

use envoy_types::pb::envoy::config::cluster::v3::{Cluster, cluster};
use envoy_types::pb::envoy::config::core::v3::{Address, SocketAddress, address, socket_address};
use envoy_types::pb::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use envoy_types::pb::google::protobuf::Duration;

use crate::ir;

/// An EDS cluster for a backend.
pub fn cluster(c: &ir::Cluster) -> Cluster {
    Cluster {
        name: c.name.clone(),
        connect_timeout: Some(Duration { seconds: 2, nanos: 0 }),
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Eds as i32,
        )),
        eds_cluster_config: Some(cluster::EdsClusterConfig {
            eds_config: Some(super::ads()),
            service_name: String::new(),
        }),
        ..Default::default()
    }
}

/// The endpoints of a backend.
pub fn load_assignment(c: &ir::Cluster) -> ClusterLoadAssignment {
    let lb_endpoints = c
        .endpoints
        .iter()
        .filter_map(|e| e.parse::<std::net::SocketAddr>().ok())
        .map(|addr| LbEndpoint {
            host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                address: Some(socket(addr)),
                ..Default::default()
            })),
            ..Default::default()
        })
        .collect();
    ClusterLoadAssignment {
        cluster_name: c.name.clone(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// An Envoy address for a socket address.
pub fn socket(addr: std::net::SocketAddr) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: addr.ip().to_string(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(u32::from(addr.port()))),
            ..Default::default()
        })),
    }
}
