//! Renders resources built with envoy-types' structs and checks the JSON/YAML
//! against what Envoy's config dump would print.

use envoy_types::pb::envoy::config::cluster::v3::{Cluster, cluster};
use envoy_types::pb::envoy::config::core::v3::{
    AggregatedConfigSource, ApiVersion, ConfigSource, DataSource, HeaderValue, HeaderValueOption,
    Http2ProtocolOptions, SocketAddress, address, config_source, data_source, header_value_option,
    socket_address,
};
use envoy_types::pb::envoy::config::listener::v3::{Filter, FilterChain, Listener, filter};
use envoy_types::pb::envoy::config::route::v3::{
    HeaderMatcher, Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, WeightedCluster,
    header_matcher, route, route_action, route_match, weighted_cluster,
};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds, http_connection_manager, http_filter,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{Secret, TlsCertificate, secret};
use envoy_types::pb::envoy::extensions::upstreams::http::v3::{HttpProtocolOptions, http_protocol_options};
use envoy_types::pb::envoy::r#type::matcher::v3::{StringMatcher, string_matcher};
use envoy_types::pb::google::protobuf::{Any, Duration, UInt32Value};
use portcullis_proto_json::{
    FieldNames, JsonOptions, ProtoJsonError, any_to_json, any_to_json_with, any_to_yaml,
};
use prost::{Message, Name};
use serde_json::json;

fn pack<M: Message + Name>(message: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: message.encode_to_vec(),
    }
}

fn ads() -> ConfigSource {
    ConfigSource {
        resource_api_version: ApiVersion::V3 as i32,
        config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
            AggregatedConfigSource {},
        )),
        ..Default::default()
    }
}

fn eds_cluster() -> Cluster {
    let http2 = HttpProtocolOptions {
        upstream_protocol_options: Some(
            http_protocol_options::UpstreamProtocolOptions::ExplicitHttpConfig(
                http_protocol_options::ExplicitHttpConfig {
                    protocol_config: Some(
                        http_protocol_options::explicit_http_config::ProtocolConfig::Http2ProtocolOptions(
                            Http2ProtocolOptions::default(),
                        ),
                    ),
                },
            ),
        ),
        ..Default::default()
    };
    Cluster {
        name: "default/echo/8080".to_owned(),
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Eds as i32,
        )),
        eds_cluster_config: Some(cluster::EdsClusterConfig {
            eds_config: Some(ads()),
            service_name: "default/echo/8080".to_owned(),
        }),
        connect_timeout: Some(Duration { seconds: 1, nanos: 0 }),
        lb_policy: cluster::LbPolicy::LeastRequest as i32,
        typed_extension_protocol_options: [(
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions".to_owned(),
            pack(&http2),
        )]
        .into(),
        ..Default::default()
    }
}

fn listener() -> Listener {
    let hcm = HttpConnectionManager {
        stat_prefix: "http-8080".to_owned(),
        codec_type: http_connection_manager::CodecType::Auto as i32,
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(ads()),
            route_config_name: "http-8080".to_owned(),
        })),
        http_filters: vec![HttpFilter {
            name: "envoy.filters.http.router".to_owned(),
            config_type: Some(http_filter::ConfigType::TypedConfig(pack(&Router::default()))),
            ..Default::default()
        }],
        ..Default::default()
    };
    Listener {
        name: "http-8080".to_owned(),
        address: Some(envoy_types::pb::envoy::config::core::v3::Address {
            address: Some(address::Address::SocketAddress(SocketAddress {
                address: "0.0.0.0".to_owned(),
                port_specifier: Some(socket_address::PortSpecifier::PortValue(8080)),
                ..Default::default()
            })),
        }),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".to_owned(),
                config_type: Some(filter::ConfigType::TypedConfig(pack(&hcm))),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn route_configuration() -> RouteConfiguration {
    let weighted = |name: &str, weight: u32| weighted_cluster::ClusterWeight {
        name: name.to_owned(),
        weight: Some(UInt32Value { value: weight }),
        ..Default::default()
    };
    RouteConfiguration {
        name: "http-8080".to_owned(),
        virtual_hosts: vec![VirtualHost {
            name: "example.com".to_owned(),
            domains: vec!["example.com".to_owned(), "example.com:*".to_owned()],
            routes: vec![Route {
                r#match: Some(RouteMatch {
                    path_specifier: Some(route_match::PathSpecifier::PathSeparatedPrefix("/api".to_owned())),
                    headers: vec![HeaderMatcher {
                        name: "x-env".to_owned(),
                        header_match_specifier: Some(header_matcher::HeaderMatchSpecifier::StringMatch(
                            StringMatcher {
                                match_pattern: Some(string_matcher::MatchPattern::Exact("canary".to_owned())),
                                ..Default::default()
                            },
                        )),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(route_action::ClusterSpecifier::WeightedClusters(
                        WeightedCluster {
                            clusters: vec![
                                weighted("default/echo-v1/8080", 90),
                                weighted("default/echo-v2/8080", 10),
                            ],
                            ..Default::default()
                        },
                    )),
                    ..Default::default()
                })),
                request_headers_to_add: vec![HeaderValueOption {
                    header: Some(HeaderValue {
                        key: "x-gateway".to_owned(),
                        value: "portcullis".to_owned(),
                        ..Default::default()
                    }),
                    append_action: header_value_option::HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn secret() -> Secret {
    let inline = |text: &str| DataSource {
        specifier: Some(data_source::Specifier::InlineString(text.to_owned())),
        ..Default::default()
    };
    Secret {
        name: "default/example-tls".to_owned(),
        r#type: Some(secret::Type::TlsCertificate(TlsCertificate {
            certificate_chain: Some(inline(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            )),
            private_key: Some(inline(
                "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
            )),
            ..Default::default()
        })),
    }
}

#[test]
fn cluster_renders_eds_and_expanded_protocol_options() {
    let json = any_to_json(&pack(&eds_cluster())).expect("cluster renders");
    assert_eq!(
        json["@type"],
        "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    );
    assert_eq!(json["name"], "default/echo/8080");
    // Enums print as names, durations in the JSON string form.
    assert_eq!(json["type"], "EDS");
    assert_eq!(json["lb_policy"], "LEAST_REQUEST");
    assert_eq!(json["connect_timeout"], "1s");
    assert_eq!(
        json["eds_cluster_config"],
        json!({
            "eds_config": { "ads": {}, "resource_api_version": "V3" },
            "service_name": "default/echo/8080",
        })
    );
    assert_eq!(
        json["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"],
        json!({
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": { "http2_protocol_options": {} },
        })
    );
}

#[test]
fn listener_expands_hcm_and_router_filters() {
    let json = any_to_json(&pack(&listener())).expect("listener renders");
    assert_eq!(
        json["@type"],
        "type.googleapis.com/envoy.config.listener.v3.Listener"
    );
    assert_eq!(
        json["address"],
        json!({ "socket_address": { "address": "0.0.0.0", "port_value": 8080 } })
    );
    let filter = &json["filter_chains"][0]["filters"][0];
    assert_eq!(filter["name"], "envoy.filters.network.http_connection_manager");
    let hcm = &filter["typed_config"];
    assert_eq!(
        hcm["@type"],
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    );
    assert_eq!(hcm["stat_prefix"], "http-8080");
    // AUTO is the zero value, so like Envoy it is left out.
    assert!(hcm.get("codec_type").is_none());
    assert_eq!(hcm["rds"]["route_config_name"], "http-8080");
    assert_eq!(
        hcm["http_filters"],
        json!([{
            "name": "envoy.filters.http.router",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
            },
        }])
    );
}

#[test]
fn route_configuration_renders_matchers_and_weights() {
    let json = any_to_json(&pack(&route_configuration())).expect("routes render");
    let route = &json["virtual_hosts"][0]["routes"][0];
    assert_eq!(
        route["match"],
        json!({
            "path_separated_prefix": "/api",
            "headers": [{ "name": "x-env", "string_match": { "exact": "canary" } }],
        })
    );
    assert_eq!(
        route["route"]["weighted_clusters"]["clusters"],
        json!([
            { "name": "default/echo-v1/8080", "weight": 90 },
            { "name": "default/echo-v2/8080", "weight": 10 },
        ])
    );
    assert_eq!(
        route["request_headers_to_add"],
        json!([{
            "header": { "key": "x-gateway", "value": "portcullis" },
            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
        }])
    );
}

#[test]
fn secret_renders_inline_certificate() {
    let json = any_to_json(&pack(&secret())).expect("secret renders");
    assert_eq!(
        json["@type"],
        "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
    );
    assert_eq!(json["name"], "default/example-tls");
    assert_eq!(
        json["tls_certificate"]["private_key"]["inline_string"],
        "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
    );
}

#[test]
fn camel_case_option_uses_proto3_json_names() {
    let options = JsonOptions {
        field_names: FieldNames::LowerCamelCase,
    };
    let json = any_to_json_with(&pack(&listener()), options).expect("listener renders");
    let hcm = &json["filterChains"][0]["filters"][0]["typedConfig"];
    assert_eq!(hcm["statPrefix"], "http-8080");
    assert_eq!(hcm["rds"]["routeConfigName"], "http-8080");
    assert!(hcm.get("stat_prefix").is_none());
}

#[test]
fn unknown_top_level_type_is_reported() {
    let any = Any {
        type_url: "type.googleapis.com/example.NotAnEnvoyType".to_owned(),
        value: vec![],
    };
    match any_to_json(&any) {
        Err(ProtoJsonError::UnknownType(url)) => assert_eq!(url, any.type_url),
        other => panic!("expected UnknownType, got {other:?}"),
    }
    assert!(matches!(any_to_yaml(&any), Err(ProtoJsonError::UnknownType(_))));
}

#[test]
fn unknown_nested_type_is_reported_with_its_url() {
    let mut listener = listener();
    listener.filter_chains[0].filters[0].config_type = Some(filter::ConfigType::TypedConfig(Any {
        type_url: "type.googleapis.com/example.Custom".to_owned(),
        value: vec![],
    }));
    match any_to_json(&pack(&listener)) {
        Err(ProtoJsonError::UnknownType(url)) => {
            assert_eq!(url, "type.googleapis.com/example.Custom");
        }
        other => panic!("expected UnknownType, got {other:?}"),
    }
}

#[test]
fn malformed_payload_is_a_decode_error() {
    let any = Any {
        type_url: Cluster::type_url(),
        // Field 1 (name) as length-delimited, claiming more bytes than exist.
        value: vec![0x0a, 0x10, b'x'],
    };
    assert!(matches!(any_to_json(&any), Err(ProtoJsonError::Decode { .. })));
}

#[test]
fn deeply_nested_anys_are_rejected() {
    // google.protobuf.Any is itself a message, so an Any can wrap an Any.
    let mut any = pack(&Router::default());
    for _ in 0..40 {
        any = pack(&any);
    }
    assert!(matches!(any_to_json(&any), Err(ProtoJsonError::TooDeep(_))));

    let mut shallow = pack(&Router::default());
    shallow = pack(&pack(&shallow));
    let json = any_to_json(&shallow).expect("a few levels are fine");
    assert_eq!(json["@type"], "type.googleapis.com/google.protobuf.Any");
    assert_eq!(
        json["value"]["value"]["@type"],
        "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
    );
}

#[test]
fn listener_yaml_snapshot() {
    let yaml = any_to_yaml(&pack(&listener())).expect("listener renders");
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/proto-json"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("listener_yaml", yaml);
    });
}
