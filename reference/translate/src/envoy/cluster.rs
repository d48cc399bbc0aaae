//! Clusters and their endpoints.

use envoy_types::pb::envoy::config::cluster::v3::{CircuitBreakers, Cluster, circuit_breakers, cluster};
use envoy_types::pb::envoy::config::core::v3::Http2ProtocolOptions;
use envoy_types::pb::envoy::config::core::v3::{
    Address, SocketAddress, TransportSocket, address, socket_address, transport_socket,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints, lb_endpoint,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::http_protocol_options::{
    ExplicitHttpConfig, UpstreamProtocolOptions, explicit_http_config,
};
use envoy_types::pb::google::protobuf::{Duration, UInt32Value};

use crate::ir;

/// A cluster for a backend: EDS for known addresses, strict DNS for host names.
pub fn cluster(c: &ir::Cluster) -> Cluster {
    let mut out = Cluster {
        name: c.name.clone(),
        connect_timeout: Some(Duration { seconds: 2, nanos: 0 }),
        ..Default::default()
    };
    if c.dns {
        out.cluster_discovery_type = Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::StrictDns as i32,
        ));
        out.load_assignment = Some(dns_assignment(c));
    } else {
        out.cluster_discovery_type = Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Eds as i32,
        ));
        out.eds_cluster_config = Some(cluster::EdsClusterConfig {
            eds_config: Some(super::ads()),
            service_name: String::new(),
        });
    }
    if let Some(sni) = &c.tls_sni {
        let context = UpstreamTlsContext {
            sni: sni.clone(),
            ..Default::default()
        };
        out.transport_socket = Some(TransportSocket {
            name: "envoy.transport_sockets.tls".to_string(),
            config_type: Some(transport_socket::ConfigType::TypedConfig(super::any(&context))),
        });
    }
    if c.http2 {
        // One entry only: protobuf maps encode in hash order.
        out.typed_extension_protocol_options
            .insert(HTTP_PROTOCOL_OPTIONS.to_string(), super::any(&http2_only()));
    }
    if let Some((connections, pending, requests, retries)) = c.circuit_breaker {
        let limit = |value: u32| Some(UInt32Value { value });
        out.circuit_breakers = Some(CircuitBreakers {
            thresholds: vec![circuit_breakers::Thresholds {
                max_connections: limit(connections),
                max_pending_requests: limit(pending),
                max_requests: limit(requests),
                max_retries: limit(retries),
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    out
}

/// The extension name Envoy reads upstream HTTP protocol options under.
const HTTP_PROTOCOL_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// HTTP/2 to the upstream (h2c over plain TCP, h2 over TLS), whatever the client spoke.
fn http2_only() -> HttpProtocolOptions {
    HttpProtocolOptions {
        upstream_protocol_options: Some(UpstreamProtocolOptions::ExplicitHttpConfig(ExplicitHttpConfig {
            protocol_config: Some(explicit_http_config::ProtocolConfig::Http2ProtocolOptions(
                Http2ProtocolOptions::default(),
            )),
        })),
        ..Default::default()
    }
}

/// Inline endpoints of a DNS cluster: `host:port` pairs Envoy resolves.
fn dns_assignment(c: &ir::Cluster) -> ClusterLoadAssignment {
    let addresses = c
        .endpoints
        .iter()
        .filter_map(|e| e.rsplit_once(':'))
        .filter_map(|(host, port)| Some(named(host, port.parse::<u32>().ok()?)))
        .collect();
    assignment(c, addresses)
}

/// The endpoints of a backend.
pub fn load_assignment(c: &ir::Cluster) -> ClusterLoadAssignment {
    let addresses = c
        .endpoints
        .iter()
        .filter_map(|e| e.parse::<std::net::SocketAddr>().ok())
        .map(socket)
        .collect();
    assignment(c, addresses)
}

fn assignment(c: &ir::Cluster, addresses: Vec<Address>) -> ClusterLoadAssignment {
    let lb_endpoints = addresses
        .into_iter()
        .map(|address| LbEndpoint {
            host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                address: Some(address),
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

/// An Envoy address for a host name (or IP) and port.
fn named(host: &str, port: u32) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: host.to_string(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ..Default::default()
        })),
    }
}

/// An Envoy address for a socket address.
pub fn socket(addr: std::net::SocketAddr) -> Address {
    named(&addr.ip().to_string(), u32::from(addr.port()))
}
