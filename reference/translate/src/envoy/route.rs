//! Route tables: virtual hosts and routes in precedence order.

use envoy_types::pb::envoy::config::core::v3::{
    HeaderValue, HeaderValueOption, header_value_option::HeaderAppendAction,
};
use envoy_types::pb::envoy::config::route::v3::{
    DirectResponseAction, HeaderMatcher, QueryParameterMatcher, RedirectAction, Route, RouteAction,
    RouteConfiguration, RouteMatch, VirtualHost, WeightedCluster, header_matcher::HeaderMatchSpecifier,
    query_parameter_matcher::QueryParameterMatchSpecifier, redirect_action, route, route_action, route_match,
    weighted_cluster::ClusterWeight,
};
use envoy_types::pb::envoy::config::route::v3::{RetryPolicy, retry_policy};
use envoy_types::pb::envoy::r#type::matcher::v3::{
    RegexMatchAndSubstitute, RegexMatcher, StringMatcher, string_matcher::MatchPattern,
};
use envoy_types::pb::google::protobuf::{Any, Duration, UInt32Value};
use prost::{Message, Name};

use crate::ir::{self, Action, EnforcerCheck, INVALID_BACKEND, PathMatch, ValueMatch};

/// The route tables of a listener, by name and encoded: one for HTTP, one per TLS chain for
/// HTTPS.
pub fn route_tables(l: &ir::Listener) -> Vec<(String, Any)> {
    match l.protocol {
        ir::Protocol::Http => vec![(l.name.clone(), encoded_table(&l.name, &l.virtual_hosts))],
        ir::Protocol::Https => l
            .tls_chains
            .iter()
            .map(|c| (c.name.clone(), encoded_table(&c.name, &c.virtual_hosts)))
            .collect(),
    }
}

/// Everything of a table but its virtual hosts.
fn table_without_hosts(name: &str) -> RouteConfiguration {
    RouteConfiguration {
        name: name.to_string(),
        // Without this Envoy may answer before a new cluster's endpoints arrive.
        validate_clusters: Some(envoy_types::pb::google::protobuf::BoolValue { value: false }),
        ..Default::default()
    }
}

/// A route table encoded one virtual host at a time: 10,000 hosts built as one message hold
/// tens of MB of protobuf structs just to be encoded. The bytes are those of encoding the
/// whole message, since prost writes fields in tag order: `name` (1), the hosts (2), the rest.
fn encoded_table(name: &str, hosts: &[ir::VirtualHost]) -> Any {
    let secured = super::listener::secured(hosts);
    let head = RouteConfiguration {
        name: name.to_string(),
        ..Default::default()
    };
    let mut value = head.encode_to_vec();
    for vh in hosts {
        // A table holding only this host encodes as exactly its field-2 entry.
        let one = RouteConfiguration {
            virtual_hosts: vec![virtual_host(vh, secured)],
            ..Default::default()
        };
        value.extend_from_slice(&one.encode_to_vec());
    }
    let tail = RouteConfiguration {
        name: String::new(),
        ..table_without_hosts(name)
    };
    value.extend_from_slice(&tail.encode_to_vec());
    Any {
        type_url: RouteConfiguration::type_url(),
        value,
    }
}

fn virtual_host(vh: &ir::VirtualHost, secured: bool) -> VirtualHost {
    // When every route of the host would switch ext_authz off, the host does it once: routes
    // without a per-filter entry of their own take the host's (Envoy uses the most specific).
    // 10,000 hosts outside APIs were 20,000 such entries for Envoy to build on every change.
    let host_skips_enforcer = secured && !vh.routes.is_empty() && vh.routes.iter().all(skips_enforcer);
    let mut typed_per_filter_config = std::collections::HashMap::new();
    if host_skips_enforcer {
        typed_per_filter_config.insert(
            super::security::EXT_AUTHZ_FILTER.to_string(),
            super::security::ext_authz_disabled(),
        );
    }
    VirtualHost {
        name: vh.hostname.clone(),
        domains: vec![vh.hostname.clone()],
        routes: vh
            .routes
            .iter()
            .map(|r| route(r, secured && !host_skips_enforcer))
            .collect(),
        typed_per_filter_config,
        ..Default::default()
    }
}

/// Whether a route on a listener with the enforcer switches ext_authz off: nothing to check,
/// and no CORS policy taking its one per-filter entry (see [`route`]).
fn skips_enforcer(r: &ir::Route) -> bool {
    r.cors.is_none() && !matches!(r.enforcer, Some(EnforcerCheck::Operation(_)))
}

fn string_matcher(value: &ValueMatch) -> StringMatcher {
    StringMatcher {
        match_pattern: Some(match value {
            ValueMatch::Exact(v) => MatchPattern::Exact(v.clone()),
            ValueMatch::Regex(r) => MatchPattern::SafeRegex(RegexMatcher {
                regex: r.clone(),
                ..Default::default()
            }),
        }),
        ignore_case: false,
    }
}

fn header_options(m: &ir::HeaderModifier) -> Vec<HeaderValueOption> {
    let option = |(name, value): &(String, String), action: HeaderAppendAction| HeaderValueOption {
        header: Some(HeaderValue {
            key: name.to_ascii_lowercase(),
            value: value.clone(),
            ..Default::default()
        }),
        append_action: action as i32,
        ..Default::default()
    };
    m.set
        .iter()
        .map(|h| option(h, HeaderAppendAction::OverwriteIfExistsOrAdd))
        .chain(
            m.add
                .iter()
                .map(|h| option(h, HeaderAppendAction::AppendIfExistsOrAdd)),
        )
        .collect()
}

/// The upstream parts of a route action: path rewrite, timeouts, retries.
fn upstream_settings(r: &ir::Route, action: &mut RouteAction) {
    if let Some(rewrite) = &r.path_rewrite {
        action.regex_rewrite = Some(RegexMatchAndSubstitute {
            pattern: Some(RegexMatcher {
                regex: rewrite.pattern.clone(),
                ..Default::default()
            }),
            substitution: rewrite.substitution.clone(),
        });
    }
    if let Some(upstream) = &r.upstream {
        let seconds = |s: u32| Duration {
            seconds: i64::from(s),
            nanos: 0,
        };
        action.timeout = Some(seconds(upstream.timeout_seconds));
        action.idle_timeout = Some(seconds(upstream.idle_timeout_seconds));
        if let Some(retry) = &upstream.retry {
            let millis = |ms: u32| Duration {
                seconds: i64::from(ms / 1000),
                nanos: i32::try_from((ms % 1000) * 1_000_000).unwrap_or(0),
            };
            action.retry_policy = Some(RetryPolicy {
                retry_on: if retry.status_codes.is_empty() {
                    "5xx,reset,connect-failure".to_string()
                } else {
                    "retriable-status-codes,reset,connect-failure".to_string()
                },
                num_retries: Some(UInt32Value { value: retry.count }),
                retriable_status_codes: retry.status_codes.clone(),
                retry_back_off: Some(retry_policy::RetryBackOff {
                    base_interval: Some(millis(retry.base_interval_millis)),
                    max_interval: Some(millis(retry.base_interval_millis.saturating_mul(10))),
                }),
                ..Default::default()
            });
        }
    }
}

fn route(r: &ir::Route, secured: bool) -> Route {
    let m = &r.matcher;
    let path_specifier = Some(match &m.path {
        PathMatch::Exact(p) => route_match::PathSpecifier::Path(p.clone()),
        PathMatch::Prefix(p) if p == "/" => route_match::PathSpecifier::Prefix("/".to_string()),
        PathMatch::Prefix(p) => route_match::PathSpecifier::PathSeparatedPrefix(p.clone()),
        PathMatch::Regex(p) => route_match::PathSpecifier::SafeRegex(RegexMatcher {
            regex: p.clone(),
            ..Default::default()
        }),
    });
    let mut headers: Vec<HeaderMatcher> = m
        .headers
        .iter()
        .map(|(name, value)| HeaderMatcher {
            name: name.clone(),
            header_match_specifier: Some(HeaderMatchSpecifier::StringMatch(string_matcher(value))),
            ..Default::default()
        })
        .collect();
    if let Some(method) = &m.method {
        headers.push(HeaderMatcher {
            name: ":method".to_string(),
            header_match_specifier: Some(HeaderMatchSpecifier::StringMatch(string_matcher(
                &ValueMatch::Exact(method.clone()),
            ))),
            ..Default::default()
        });
    }
    let query_parameters = m
        .query_params
        .iter()
        .map(|(name, value)| QueryParameterMatcher {
            name: name.clone(),
            query_parameter_match_specifier: Some(QueryParameterMatchSpecifier::StringMatch(string_matcher(
                value,
            ))),
        })
        .collect();
    // The share of invalid backends goes to a cluster that does not exist: Envoy answers 500.
    let not_found = |backends: &[ir::WeightedBackend]| {
        if backends.iter().any(|b| b.cluster == INVALID_BACKEND) {
            route_action::ClusterNotFoundResponseCode::InternalServerError as i32
        } else {
            route_action::ClusterNotFoundResponseCode::ServiceUnavailable as i32
        }
    };
    let mut action = match &r.action {
        Action::Forward(backends) if backends.len() == 1 => route::Action::Route(RouteAction {
            rate_limits: super::rate_limit::route_actions(&r.rate_limits),
            cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(
                backends[0].cluster.clone(),
            )),
            cluster_not_found_response_code: not_found(backends),
            ..Default::default()
        }),
        Action::Forward(backends) => route::Action::Route(RouteAction {
            rate_limits: super::rate_limit::route_actions(&r.rate_limits),
            cluster_specifier: Some(route_action::ClusterSpecifier::WeightedClusters(
                WeightedCluster {
                    clusters: backends
                        .iter()
                        .map(|b| ClusterWeight {
                            name: b.cluster.clone(),
                            weight: Some(UInt32Value { value: b.weight }),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                },
            )),
            cluster_not_found_response_code: not_found(backends),
            ..Default::default()
        }),
        Action::Redirect(redirect) => route::Action::Redirect(redirect_action(redirect, &m.path)),
        Action::Respond { status, .. } => route::Action::DirectResponse(DirectResponseAction {
            status: *status,
            ..Default::default()
        }),
    };
    if let route::Action::Route(forward) = &mut action {
        upstream_settings(r, forward);
    }
    let mut typed_per_filter_config = std::collections::HashMap::new();
    // At most one entry per route: protobuf maps encode in hash order, and one entry keeps the
    // output byte-for-byte deterministic.
    if let Some(cors) = &r.cors {
        typed_per_filter_config.insert(
            super::security::CORS_FILTER.to_string(),
            super::security::cors_policy(cors),
        );
    } else if secured && skips_enforcer(r) {
        // Nothing to check: Envoy does not even ask.
        typed_per_filter_config.insert(
            super::security::EXT_AUTHZ_FILTER.to_string(),
            super::security::ext_authz_disabled(),
        );
    }
    // Public routes with CORS cannot also switch ext_authz off (one entry per route), so they
    // tell the enforcer they are public instead.
    let metadata = match &r.enforcer {
        Some(check @ EnforcerCheck::Operation(_)) => Some(super::security::route_metadata(check)),
        Some(check @ EnforcerCheck::Public) if r.cors.is_some() => {
            Some(super::security::route_metadata(check))
        }
        _ => None,
    };
    Route {
        name: r.name.clone(),
        metadata,
        typed_per_filter_config,
        r#match: Some(RouteMatch {
            path_specifier,
            headers,
            query_parameters,
            ..Default::default()
        }),
        request_headers_to_add: header_options(&r.request_headers),
        request_headers_to_remove: r
            .request_headers
            .remove
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        response_headers_to_add: header_options(&r.response_headers),
        response_headers_to_remove: r
            .response_headers
            .remove
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
        action: Some(action),
        ..Default::default()
    }
}

/// How a redirect replaces the matched prefix. Envoy's `prefix_rewrite` swaps the characters
/// of the prefix, so `/foo` → `/` would turn `/foo/bar` into `//bar`; the Gateway API wants
/// `/bar`. As Envoy Gateway does, a replacement of `/` (or nothing) strips the prefix and its
/// slashes with a regular expression, and a trailing slash on any other replacement is dropped.
fn prefix_rewrite(matched: &PathMatch, replacement: &str) -> redirect_action::PathRewriteSpecifier {
    use redirect_action::PathRewriteSpecifier as Rewrite;
    let PathMatch::Prefix(prefix) = matched else {
        return Rewrite::PrefixRewrite(replacement.to_string());
    };
    let trimmed = replacement.trim_end_matches('/');
    if prefix == "/" {
        // Everything matched: the replacement becomes a new first segment.
        return Rewrite::PrefixRewrite(format!("{trimmed}/"));
    }
    if trimmed.is_empty() {
        return Rewrite::RegexRewrite(RegexMatchAndSubstitute {
            pattern: Some(RegexMatcher {
                regex: format!("^{}/*", regex::escape(prefix)),
                ..Default::default()
            }),
            substitution: "/".to_string(),
        });
    }
    Rewrite::PrefixRewrite(trimmed.to_string())
}

fn redirect_action(r: &ir::Redirect, matched: &PathMatch) -> RedirectAction {
    use redirect_action::RedirectResponseCode as Code;
    let response_code = match r.status {
        301 => Code::MovedPermanently,
        303 => Code::SeeOther,
        307 => Code::TemporaryRedirect,
        308 => Code::PermanentRedirect,
        _ => Code::Found,
    };
    RedirectAction {
        host_redirect: r.hostname.clone().unwrap_or_default(),
        port_redirect: r.port.unwrap_or(0),
        response_code: response_code as i32,
        scheme_rewrite_specifier: r
            .scheme
            .clone()
            .map(redirect_action::SchemeRewriteSpecifier::SchemeRedirect),
        path_rewrite_specifier: r.path.as_ref().map(|p| match p {
            ir::RedirectPath::Full(path) => redirect_action::PathRewriteSpecifier::PathRedirect(path.clone()),
            ir::RedirectPath::Prefix(prefix) => prefix_rewrite(matched, prefix),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> ir::VirtualHost {
        ir::VirtualHost {
            hostname: name.to_string(),
            routes: vec![ir::Route {
                name: format!("ns/{name}/rule/0/match/0"),
                matcher: ir::RouteMatch {
                    path: PathMatch::Prefix("/items".to_string()),
                    method: Some("GET".to_string()),
                    headers: Vec::new(),
                    query_params: Vec::new(),
                },
                request_headers: ir::HeaderModifier::default(),
                response_headers: ir::HeaderModifier::default(),
                action: Action::Respond {
                    status: 204,
                    reason: String::new(),
                },
                rate_limits: Vec::new(),
                path_rewrite: None,
                upstream: None,
                enforcer: None,
                cors: None,
            }],
        }
    }

    #[test]
    fn a_table_encoded_host_by_host_is_the_whole_message_encoded() {
        let hosts = [host("a.example"), host("b.example")];
        let whole = RouteConfiguration {
            virtual_hosts: hosts.iter().map(|vh| virtual_host(vh, false)).collect(),
            ..table_without_hosts("ns/gw/80")
        };
        let encoded = encoded_table("ns/gw/80", &hosts);
        assert_eq!(encoded.type_url, RouteConfiguration::type_url());
        assert_eq!(encoded.value, whole.encode_to_vec());
        let decoded = RouteConfiguration::decode(encoded.value.as_slice()).expect("decodes");
        assert_eq!(decoded.virtual_hosts.len(), 2);
        assert_eq!(decoded.validate_clusters.map(|v| v.value), Some(false));
    }

    #[test]
    fn a_host_whose_routes_all_skip_the_enforcer_switches_ext_authz_off_once() {
        use super::super::security::EXT_AUTHZ_FILTER;
        let public = host("public.example");
        let mut mixed = host("api.example");
        let mut secured_route = mixed.routes[0].clone();
        secured_route.name = "ns/api/rule/1/match/0".to_string();
        secured_route.enforcer = Some(EnforcerCheck::Operation("ns/api/rule/1".to_string()));
        mixed.routes.push(secured_route);

        // Every route skips the enforcer: the host carries the switch, its routes nothing.
        let vh = virtual_host(&public, true);
        assert_eq!(
            vh.typed_per_filter_config.keys().collect::<Vec<_>>(),
            [EXT_AUTHZ_FILTER]
        );
        assert!(vh.routes.iter().all(|r| r.typed_per_filter_config.is_empty()));

        // One route is checked: the host carries nothing, the other route switches it off.
        let vh = virtual_host(&mixed, true);
        assert!(vh.typed_per_filter_config.is_empty());
        assert_eq!(
            vh.routes[0].typed_per_filter_config.keys().collect::<Vec<_>>(),
            [EXT_AUTHZ_FILTER]
        );
        assert!(vh.routes[1].typed_per_filter_config.is_empty());
        assert!(
            vh.routes[1].metadata.is_some(),
            "the checked route names its operation"
        );

        // Without the enforcer on the listener there is nothing to switch off.
        assert!(virtual_host(&public, false).typed_per_filter_config.is_empty());
    }
}
