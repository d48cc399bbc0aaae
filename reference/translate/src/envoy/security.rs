//! Envoy's `ext_authz` filter towards the enforcer, and the CORS filter. A route tells the
//! enforcer which operation it serves through route metadata (one key, so the encoding is
//! deterministic), and routes outside APK APIs switch the filter off.

use envoy_types::pb::envoy::config::core::v3::{
    ApiVersion, GrpcService, Metadata,
    grpc_service::{EnvoyGrpc, TargetSpecifier},
};
use envoy_types::pb::envoy::extensions::filters::http::cors::v3::{Cors as CorsFilter, CorsPolicy};
use envoy_types::pb::envoy::extensions::filters::http::ext_authz::v3::{
    ExtAuthz, ExtAuthzPerRoute, ext_authz, ext_authz_per_route,
};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpFilter, http_filter,
};
use envoy_types::pb::envoy::r#type::matcher::v3::{StringMatcher, string_matcher::MatchPattern};
use envoy_types::pb::envoy::r#type::v3::HttpStatus;
use envoy_types::pb::google::protobuf::{Any, BoolValue, Duration, Struct, Value, value};

use super::any;
use crate::ir::{Cors, EnforcerCheck};

/// The static cluster (in Envoy's bootstrap) that reaches the enforcer.
pub const ENFORCER_CLUSTER: &str = "portcullis_enforcer";
/// Route metadata namespace the enforcer reads.
pub const METADATA_NAMESPACE: &str = "portcullis";
/// Envoy's name of the ext_authz filter.
pub const EXT_AUTHZ_FILTER: &str = "envoy.filters.http.ext_authz";
/// Envoy's name of the CORS filter.
pub const CORS_FILTER: &str = "envoy.filters.http.cors";

/// The ext_authz filter. When the enforcer cannot answer, requests are refused with 503 (fail
/// closed: an API must never be open because a process is down) unless the Gateway asks to
/// fail open.
pub fn ext_authz_filter(fail_open: bool) -> HttpFilter {
    let config = ExtAuthz {
        services: Some(ext_authz::Services::GrpcService(GrpcService {
            target_specifier: Some(TargetSpecifier::EnvoyGrpc(EnvoyGrpc {
                cluster_name: ENFORCER_CLUSTER.to_string(),
                ..Default::default()
            })),
            // A JWKS fetch on an unknown key may take a moment; Envoy's 200 ms default is tight.
            timeout: Some(Duration { seconds: 2, nanos: 0 }),
            ..Default::default()
        })),
        transport_api_version: ApiVersion::V3 as i32,
        failure_mode_allow: fail_open,
        status_on_error: Some(HttpStatus { code: 503 }),
        route_metadata_context_namespaces: vec![METADATA_NAMESPACE.to_string()],
        ..Default::default()
    };
    HttpFilter {
        name: EXT_AUTHZ_FILTER.to_string(),
        config_type: Some(http_filter::ConfigType::TypedConfig(any(&config))),
        ..Default::default()
    }
}

/// The CORS filter; policies are per route.
pub fn cors_filter() -> HttpFilter {
    HttpFilter {
        name: CORS_FILTER.to_string(),
        config_type: Some(http_filter::ConfigType::TypedConfig(any(&CorsFilter::default()))),
        ..Default::default()
    }
}

/// Route metadata naming the operation, or marking the route public.
pub fn route_metadata(check: &EnforcerCheck) -> Metadata {
    let (key, value) = match check {
        EnforcerCheck::Operation(id) => ("operation", value::Kind::StringValue(id.clone())),
        EnforcerCheck::Public => ("public", value::Kind::BoolValue(true)),
    };
    let fields = [(key.to_string(), Value { kind: Some(value) })]
        .into_iter()
        .collect();
    Metadata {
        filter_metadata: [(METADATA_NAMESPACE.to_string(), Struct { fields })]
            .into_iter()
            .collect(),
        ..Default::default()
    }
}

/// Per-route config switching ext_authz off.
pub fn ext_authz_disabled() -> Any {
    any(&ExtAuthzPerRoute {
        r#override: Some(ext_authz_per_route::Override::Disabled(true)),
    })
}

/// A route's CORS policy.
pub fn cors_policy(cors: &Cors) -> Any {
    let allow_origin_string_match = cors
        .allow_origins
        .iter()
        .map(|origin| StringMatcher {
            match_pattern: Some(if origin == "*" {
                MatchPattern::Prefix(String::new())
            } else {
                MatchPattern::Exact(origin.clone())
            }),
            ..Default::default()
        })
        .collect();
    any(&CorsPolicy {
        allow_origin_string_match,
        allow_methods: cors.allow_methods.join(", "),
        allow_headers: cors.allow_headers.join(", "),
        expose_headers: cors.expose_headers.join(", "),
        max_age: cors.max_age.map(|s| s.to_string()).unwrap_or_default(),
        allow_credentials: cors.allow_credentials.then_some(BoolValue { value: true }),
        ..Default::default()
    })
}
