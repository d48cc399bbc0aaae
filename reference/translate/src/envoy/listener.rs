//! Listeners: one per Gateway port, with an HTTP connection manager per filter chain.

use envoy_types::pb::envoy::config::core::v3::TransportSocket;
use envoy_types::pb::envoy::config::core::v3::transport_socket;
use envoy_types::pb::envoy::config::listener::v3::{
    Filter, FilterChain, FilterChainMatch, Listener, ListenerFilter, filter, listener_filter,
};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds, http_connection_manager, http_filter,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    CommonTlsContext, DownstreamTlsContext, SdsSecretConfig,
};

use super::any;
use crate::ir::{self, Protocol};

/// The Envoy listener for a Gateway port.
pub fn listener(l: &ir::Listener) -> Listener {
    let bind = l
        .bind
        .parse::<std::net::SocketAddr>()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut out = Listener {
        name: l.name.clone(),
        address: Some(super::cluster::socket(bind)),
        ..Default::default()
    };
    match l.protocol {
        Protocol::Http => {
            out.filter_chains.push(FilterChain {
                filters: vec![connection_manager(
                    &l.name,
                    &l.name,
                    &l.virtual_hosts,
                    l.enforcer_fail_open,
                )],
                ..Default::default()
            });
        }
        Protocol::Https => {
            out.listener_filters.push(ListenerFilter {
                name: "envoy.filters.listener.tls_inspector".to_string(),
                config_type: Some(listener_filter::ConfigType::TypedConfig(any(
                    &TlsInspector::default(),
                ))),
                ..Default::default()
            });
            // Chains with hostnames first; Envoy picks the most specific SNI match anyway, and
            // a chain with no server name catches the rest.
            for chain in &l.tls_chains {
                out.filter_chains.push(FilterChain {
                    name: chain.name.clone(),
                    filter_chain_match: Some(FilterChainMatch {
                        server_names: chain.server_names.clone(),
                        ..Default::default()
                    }),
                    filters: vec![connection_manager(
                        &chain.name,
                        &chain.name,
                        &chain.virtual_hosts,
                        l.enforcer_fail_open,
                    )],
                    transport_socket: Some(tls_socket(&chain.secrets)),
                    ..Default::default()
                });
            }
        }
    }
    out
}

/// Whether any route of a table satisfies `test`.
fn any_route(hosts: &[ir::VirtualHost], test: impl Fn(&ir::Route) -> bool) -> bool {
    hosts.iter().any(|vh| vh.routes.iter().any(&test))
}

/// Whether a route table needs the enforcer: some route belongs to an APK API.
pub(super) fn secured(hosts: &[ir::VirtualHost]) -> bool {
    any_route(hosts, |r| r.enforcer.is_some())
}

fn connection_manager(
    stat_prefix: &str,
    route_table: &str,
    hosts: &[ir::VirtualHost],
    enforcer_fail_open: bool,
) -> Filter {
    let rate_limited = any_route(hosts, |r| !r.rate_limits.is_empty());
    // CORS answers preflights before anyone asks for credentials; then authentication; then
    // limits, which may key on the identity the enforcer found.
    let mut http_filters = Vec::new();
    if any_route(hosts, |r| r.cors.is_some()) {
        http_filters.push(super::security::cors_filter());
    }
    if secured(hosts) {
        http_filters.push(super::security::ext_authz_filter(enforcer_fail_open));
    }
    if rate_limited {
        http_filters.push(super::rate_limit::filter());
    }
    http_filters.push(HttpFilter {
        name: "envoy.filters.http.router".to_string(),
        config_type: Some(http_filter::ConfigType::TypedConfig(any(&Router::default()))),
        ..Default::default()
    });
    let hcm = HttpConnectionManager {
        stat_prefix: stat_prefix.replace('/', "_"),
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(super::ads()),
            route_config_name: route_table.to_string(),
        })),
        http_filters,
        local_reply_config: rate_limited.then(super::rate_limit::local_replies),
        // Hosts are matched without their port: the gateway may listen on another port than
        // the one clients were told.
        strip_port_mode: Some(http_connection_manager::StripPortMode::StripAnyHostPort(true)),
        ..Default::default()
    };
    Filter {
        name: "envoy.filters.network.http_connection_manager".to_string(),
        config_type: Some(filter::ConfigType::TypedConfig(any(&hcm))),
    }
}

fn tls_socket(secrets: &[String]) -> TransportSocket {
    let context = DownstreamTlsContext {
        common_tls_context: Some(CommonTlsContext {
            tls_certificate_sds_secret_configs: secrets
                .iter()
                .map(|name| SdsSecretConfig {
                    name: name.clone(),
                    sds_config: Some(super::ads()),
                })
                .collect(),
            alpn_protocols: vec!["h2".to_string(), "http/1.1".to_string()],
            ..Default::default()
        }),
        ..Default::default()
    };
    TransportSocket {
        name: "envoy.transport_sockets.tls".to_string(),
        config_type: Some(transport_socket::ConfigType::TypedConfig(any(&context))),
    }
}
