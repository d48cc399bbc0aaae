//! Envoy's `ratelimit` filter, the route actions that build descriptors, and the JSON body of a
//! 429, as APK answers it.

use envoy_types::pb::envoy::config::accesslog::v3::{
    AccessLogFilter, ComparisonFilter, StatusCodeFilter, access_log_filter::FilterSpecifier,
    comparison_filter::Op,
};
use envoy_types::pb::envoy::config::core::v3::{
    ApiVersion, DataSource, GrpcService, RuntimeUInt32, SubstitutionFormatString, data_source,
    grpc_service::{EnvoyGrpc, TargetSpecifier},
    substitution_format_string::Format,
};
use envoy_types::pb::envoy::config::ratelimit::v3::RateLimitServiceConfig;
use envoy_types::pb::envoy::config::route::v3::RateLimit as RouteRateLimit;
use envoy_types::pb::envoy::config::route::v3::rate_limit::{Action, action};
use envoy_types::pb::envoy::extensions::filters::http::ratelimit::v3::RateLimit;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpFilter, LocalReplyConfig, ResponseMapper, http_filter,
};
use envoy_types::pb::google::protobuf::Duration;

use super::any;
use super::security::EXT_AUTHZ_FILTER;
use crate::ir::{
    APPLICATION_DESCRIPTOR, RateLimitDescriptor, SUBSCRIBED_API_DESCRIPTOR, SUBSCRIPTION_TIER_DESCRIPTOR,
};
use envoy_types::pb::envoy::r#type::metadata::v3::{MetadataKey, metadata_key};

/// The static cluster (in Envoy's bootstrap) that reaches the rate-limit service.
pub const RATE_LIMIT_CLUSTER: &str = "portcullis_ratelimit";
/// The rate-limit domain of every descriptor the gateway sends.
pub const RATE_LIMIT_DOMAIN: &str = "portcullis";
/// The body of a 429, in APK's error shape.
pub const THROTTLED_BODY: &str = r#"{"error_message":"Message throttled out","code":"900800","error_description":"You have exceeded your quota"}"#;

/// The HTTP filter that asks the rate-limit service. When the service cannot be reached the
/// request goes through (fail open, as APK does).
pub fn filter() -> HttpFilter {
    let config = RateLimit {
        domain: RATE_LIMIT_DOMAIN.to_string(),
        // Envoy's default of 20 ms is too tight for a service on a busy 2-core machine.
        timeout: Some(Duration {
            seconds: 0,
            nanos: 500_000_000,
        }),
        failure_mode_deny: false,
        rate_limit_service: Some(RateLimitServiceConfig {
            grpc_service: Some(GrpcService {
                target_specifier: Some(TargetSpecifier::EnvoyGrpc(EnvoyGrpc {
                    cluster_name: RATE_LIMIT_CLUSTER.to_string(),
                    ..Default::default()
                })),
                ..Default::default()
            }),
            transport_api_version: ApiVersion::V3 as i32,
        }),
        ..Default::default()
    };
    HttpFilter {
        name: "envoy.filters.http.ratelimit".to_string(),
        config_type: Some(http_filter::ConfigType::TypedConfig(any(&config))),
        ..Default::default()
    }
}

/// An action reading a value the enforcer put in the request's dynamic metadata.
fn from_identity(field: &str, descriptor_key: &str) -> Action {
    Action {
        action_specifier: Some(action::ActionSpecifier::Metadata(action::MetaData {
            descriptor_key: descriptor_key.to_string(),
            metadata_key: Some(MetadataKey {
                key: EXT_AUTHZ_FILTER.to_string(),
                path: vec![metadata_key::PathSegment {
                    segment: Some(metadata_key::path_segment::Segment::Key(field.to_string())),
                }],
            }),
            source: action::meta_data::Source::Dynamic as i32,
            // No tier or no application: no descriptor, so no subscription limit applies.
            skip_if_absent: true,
            ..Default::default()
        })),
    }
}

/// One route rate limit per descriptor, so each is counted on its own.
pub fn route_actions(descriptors: &[RateLimitDescriptor]) -> Vec<RouteRateLimit> {
    descriptors
        .iter()
        .map(|d| {
            if d.key == SUBSCRIPTION_TIER_DESCRIPTOR {
                return RouteRateLimit {
                    actions: vec![
                        from_identity("subscriptionTier", SUBSCRIPTION_TIER_DESCRIPTOR),
                        from_identity("applicationId", APPLICATION_DESCRIPTOR),
                        Action {
                            action_specifier: Some(action::ActionSpecifier::GenericKey(action::GenericKey {
                                descriptor_key: SUBSCRIBED_API_DESCRIPTOR.to_string(),
                                descriptor_value: d.value.clone(),
                                ..Default::default()
                            })),
                        },
                    ],
                    ..Default::default()
                };
            }
            let specifier = match &d.from_header {
                // A request without the header sends no descriptor, so it is not limited.
                Some(header) => action::ActionSpecifier::RequestHeaders(action::RequestHeaders {
                    header_name: header.clone(),
                    descriptor_key: d.key.clone(),
                    skip_if_absent: true,
                }),
                None => action::ActionSpecifier::GenericKey(action::GenericKey {
                    descriptor_key: d.key.clone(),
                    descriptor_value: d.value.clone(),
                    ..Default::default()
                }),
            };
            RouteRateLimit {
                actions: vec![Action {
                    action_specifier: Some(specifier),
                }],
                ..Default::default()
            }
        })
        .collect()
}

/// Replaces the empty body of Envoy's 429 with APK's JSON error.
pub fn local_replies() -> LocalReplyConfig {
    LocalReplyConfig {
        mappers: vec![ResponseMapper {
            filter: Some(AccessLogFilter {
                filter_specifier: Some(FilterSpecifier::StatusCodeFilter(StatusCodeFilter {
                    comparison: Some(ComparisonFilter {
                        op: Op::Eq as i32,
                        value: Some(RuntimeUInt32 {
                            default_value: 429,
                            runtime_key: "portcullis.throttled_status".to_string(),
                        }),
                    }),
                })),
            }),
            body: Some(DataSource {
                specifier: Some(data_source::Specifier::InlineString(THROTTLED_BODY.to_string())),
                ..Default::default()
            }),
            body_format_override: Some(SubstitutionFormatString {
                content_type: "application/json".to_string(),
                format: Some(Format::TextFormatSource(DataSource {
                    specifier: Some(data_source::Specifier::InlineString(
                        "%LOCAL_REPLY_BODY%".to_string(),
                    )),
                    ..Default::default()
                })),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}
