//! GRPCRoutes in Envoy's terms: the path matchers methods become, their order, HTTP/2 to the
//! backends, and UNAVAILABLE for invalid backends.

mod common;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::route::v3::{RouteConfiguration, route, route_action, route_match};
use envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
use envoy_types::pb::envoy::extensions::upstreams::http::v3::http_protocol_options::{
    UpstreamProtocolOptions, explicit_http_config,
};
use envoy_types::pb::google::protobuf::Any;
use portcullis_translate::envoy::type_url;
use portcullis_translate::ir::UNAVAILABLE_BACKEND;
use prost::{Message, Name};

fn decode<M: Message + Name + Default>(any: &Any) -> M {
    assert_eq!(any.type_url, M::type_url());
    M::decode(any.value.as_slice()).expect("a packed message decodes")
}

fn xds() -> portcullis_translate::XdsResources {
    common::run(&common::load("grpc-routes").snapshot).xds
}

fn get<M: Message + Name + Default>(xds: &portcullis_translate::XdsResources, url: &str, name: &str) -> M {
    decode(
        xds.get(url)
            .and_then(|m| m.get(name))
            .unwrap_or_else(|| panic!("no {url} {name}")),
    )
}

fn speaks_http2(cluster: &Cluster) -> bool {
    let Some(any) = cluster
        .typed_extension_protocol_options
        .get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
    else {
        return false;
    };
    let options: HttpProtocolOptions = decode(any);
    matches!(
        options.upstream_protocol_options,
        Some(UpstreamProtocolOptions::ExplicitHttpConfig(ref c))
            if matches!(c.protocol_config, Some(explicit_http_config::ProtocolConfig::Http2ProtocolOptions(_)))
    )
}

#[test]
fn grpc_backends_and_h2c_ports_get_http2_and_others_do_not() {
    let xds = xds();
    // A GRPCRoute backend without appProtocol.
    assert!(speaks_http2(&get(
        &xds,
        type_url::CLUSTER,
        "default/grpc-plain/9000"
    )));
    // An h2c port, also used by an HTTPRoute.
    assert!(speaks_http2(&get(
        &xds,
        type_url::CLUSTER,
        "default/grpc-echo/8080"
    )));
    // Only HTTPRoutes use it.
    assert!(!speaks_http2(&get(&xds, type_url::CLUSTER, "default/web/8080")));
    assert!(
        !xds.get(type_url::CLUSTER)
            .is_some_and(|c| c.contains_key(UNAVAILABLE_BACKEND))
    );
}

#[test]
fn methods_become_paths_in_precedence_order() {
    let xds = xds();
    let table: RouteConfiguration = get(&xds, type_url::ROUTE, "default/gw/80");
    let host = table
        .virtual_hosts
        .iter()
        .find(|vh| vh.domains == ["grpc.example.com"])
        .expect("the GRPCRoute's host");
    let paths: Vec<(String, route_match::PathSpecifier)> = host
        .routes
        .iter()
        .map(|r| {
            let path = r
                .r#match
                .as_ref()
                .and_then(|m| m.path_specifier.clone())
                .expect("a path");
            (r.name.clone(), path)
        })
        .collect();
    let regex = |p: &str| {
        route_match::PathSpecifier::SafeRegex(envoy_types::pb::envoy::r#type::matcher::v3::RegexMatcher {
            regex: p.to_string(),
            ..Default::default()
        })
    };
    assert_eq!(
        paths,
        [
            // Literal matches first: the longest service, then the longest method.
            (
                "default/methods/rule/0/match/0".to_string(),
                route_match::PathSpecifier::Path("/pkg.Echo/Say".into())
            ),
            (
                "default/methods/rule/1/match/0".to_string(),
                route_match::PathSpecifier::PathSeparatedPrefix("/pkg.Echo".into())
            ),
            ("default/methods/rule/2/match/0".to_string(), regex("/[^/]+/Ping")),
            // Then regular expressions.
            (
                "default/methods/rule/2/match/1".to_string(),
                regex("/(?:pkg\\.v[0-9]+\\.Echo)/(?:Say.*)")
            ),
            (
                "default/methods/rule/2/match/2".to_string(),
                regex("/(?:[^/]+)/(?:Get[A-Z].*)")
            ),
        ]
    );
    // The invalid share goes to a cluster that does not exist, which Envoy answers with 503:
    // UNAVAILABLE to a gRPC client.
    let split = host
        .routes
        .iter()
        .find(|r| r.name == "default/methods/rule/2/match/0")
        .and_then(|r| match &r.action {
            Some(route::Action::Route(action)) => Some(action.clone()),
            _ => None,
        })
        .expect("a forwarding route");
    assert_eq!(
        split.cluster_not_found_response_code,
        route_action::ClusterNotFoundResponseCode::ServiceUnavailable as i32
    );
    let Some(route_action::ClusterSpecifier::WeightedClusters(weighted)) = &split.cluster_specifier else {
        panic!("a weighted split")
    };
    assert!(weighted.clusters.iter().any(|c| c.name == UNAVAILABLE_BACKEND));
}

#[test]
fn a_rule_without_valid_backends_answers_503() {
    let snapshot = common::load("grpc-routes").snapshot;
    let mut snapshot = snapshot;
    let key = portcullis_model::ObjectKey::new("default", "catch-all");
    let route = snapshot.grpc_routes.get_mut(&key).expect("catch-all");
    // Leave only the backend no ReferenceGrant allows.
    if let Some(rules) = route.spec.rules.as_mut() {
        rules[0].backend_refs.as_mut().expect("backendRefs").remove(0);
    }
    let ir = common::run(&snapshot).ir;
    let listener = ir
        .listeners
        .iter()
        .find(|l| l.port == 8082)
        .expect("the grpc-only listener");
    let catch_all = listener
        .virtual_hosts
        .iter()
        .flat_map(|vh| vh.routes.iter())
        .find(|r| r.name == "default/catch-all/rule/0/match/0")
        .expect("catch-all's route");
    assert!(
        matches!(
            catch_all.action,
            portcullis_translate::ir::Action::Respond { status: 503, .. }
        ),
        "{:?}",
        catch_all.action
    );
}
