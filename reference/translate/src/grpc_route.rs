//! GRPCRoutes: method and header matches, header filters and backends, compiled into the same
//! rules HTTPRoutes become. Attachment, conflicts and status are shared with HTTPRoutes.
//!
//! A gRPC call is an HTTP/2 POST to `/<service>/<method>`, so a method match is a path match:
//! service and method → the exact path, a service alone → the prefix `/<service>/`, a method
//! alone or regular expressions → a regular expression over the whole path.

use std::collections::BTreeMap;

use gateway_api::grpcroutes::{
    GrpcRoute, GrpcRouteParentRefs, GrpcRouteRules, GrpcRouteRulesBackendRefs, GrpcRouteRulesFilters,
    GrpcRouteRulesFiltersType as FilterType, GrpcRouteRulesMatches, GrpcRouteRulesMatchesHeadersType,
    GrpcRouteRulesMatchesMethodType,
};
use portcullis_model::{ObjectKey, Snapshot};

use crate::ir::{Cluster, HeaderModifier, PathMatch, RouteMatch};
use crate::route::{
    BackendRef, CompiledMatch, CompiledRule, GrpcRank, ParentRef, Rejection, ResolvedRefsProblem, RouteUnit,
    check_regex, created_of, header_matches, resolve_backends,
};
use crate::route_kind::RouteKind;

impl From<&GrpcRouteParentRefs> for ParentRef {
    fn from(p: &GrpcRouteParentRefs) -> Self {
        ParentRef {
            group: p.group.clone(),
            kind: p.kind.clone(),
            namespace: p.namespace.clone(),
            name: p.name.clone(),
            section_name: p.section_name.clone(),
            port: p.port,
        }
    }
}

impl From<&GrpcRouteRulesBackendRefs> for BackendRef {
    fn from(r: &GrpcRouteRulesBackendRefs) -> Self {
        BackendRef {
            group: r.group.clone(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            port: r.port,
            weight: r.weight,
        }
    }
}

/// A GRPCRoute with its rules compiled, ready to attach.
pub(crate) fn unit(
    snapshot: &Snapshot,
    key: &ObjectKey,
    route: &GrpcRoute,
    clusters: &mut BTreeMap<String, Cluster>,
) -> RouteUnit {
    RouteUnit {
        kind: RouteKind::Grpc,
        key: key.clone(),
        generation: route.metadata.generation.unwrap_or(1),
        created: created_of(&route.metadata),
        hostnames: route.spec.hostnames.clone().unwrap_or_default(),
        parents: route
            .spec
            .parent_refs
            .iter()
            .flatten()
            .map(ParentRef::from)
            .collect(),
        compiled: compile_rules(snapshot, key, route, clusters)
            .map(|(rules, problem)| (std::rc::Rc::new(rules), problem)),
    }
}

/// Compiles every rule; an inexpressible match or filter rejects the route, a bad backend only
/// makes its rule answer `UNAVAILABLE`.
fn compile_rules(
    snapshot: &Snapshot,
    key: &ObjectKey,
    route: &GrpcRoute,
    clusters: &mut BTreeMap<String, Cluster>,
) -> Result<(Vec<CompiledRule>, ResolvedRefsProblem), Rejection> {
    let mut out = Vec::new();
    let mut problem: ResolvedRefsProblem = None;
    for (rule_index, rule) in route.spec.rules.iter().flatten().enumerate() {
        let field = format!("spec.rules[{rule_index}]");
        let matches = compile_matches(&field, rule)?;
        let (request_headers, response_headers) =
            compile_filters(&field, rule.filters.as_deref().unwrap_or(&[]))?;
        let refs: Vec<BackendRef> = rule.backend_refs.iter().flatten().map(BackendRef::from).collect();
        let (action, rule_problem, _) =
            resolve_backends(snapshot, key, RouteKind::Grpc, &field, &refs, clusters);
        if problem.is_none() {
            problem = rule_problem;
        }
        out.push(CompiledRule {
            matches,
            request_headers,
            response_headers,
            action,
            rate_limits: Vec::new(),
            upstream: None,
            enforcer: None,
            cors: None,
        });
    }
    Ok((out, problem))
}

fn unsupported(message: String) -> Rejection {
    Rejection {
        reason: "UnsupportedValue",
        message,
    }
}

/// A service or method name used literally: it must be non-empty and cannot hold `/`, which
/// would let it match across the path's segments.
fn literal<'a>(field: &str, value: Option<&'a str>) -> Result<Option<&'a str>, Rejection> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) if v.contains('/') => Err(unsupported(format!("{field}: {v:?} must not contain '/'"))),
        other => Ok(other),
    }
}

fn compile_matches(field: &str, rule: &GrpcRouteRules) -> Result<Vec<CompiledMatch>, Rejection> {
    let default = [GrpcRouteRulesMatches::default()];
    let matches = match rule.matches.as_deref() {
        Some(m) if !m.is_empty() => m,
        _ => &default[..],
    };
    let mut out = Vec::new();
    for (i, m) in matches.iter().enumerate() {
        let at = format!("{field}.matches[{i}]");
        let (path, rank) = match &m.method {
            None => (
                PathMatch::Prefix("/".to_string()),
                GrpcRank {
                    regex: false,
                    service_len: 0,
                    method_len: 0,
                },
            ),
            Some(method) => {
                let service = method.service.as_deref().filter(|s| !s.is_empty());
                let name = method.method.as_deref().filter(|s| !s.is_empty());
                if service.is_none() && name.is_none() {
                    return Err(unsupported(format!(
                        "{at}.method: at least one of service and method is required"
                    )));
                }
                let match_type = method
                    .r#type
                    .clone()
                    .unwrap_or(GrpcRouteRulesMatchesMethodType::Exact);
                let rank = GrpcRank {
                    regex: match_type == GrpcRouteRulesMatchesMethodType::RegularExpression,
                    service_len: service.map_or(0, str::len),
                    method_len: name.map_or(0, str::len),
                };
                let path = match match_type {
                    GrpcRouteRulesMatchesMethodType::Exact => {
                        let service = literal(&format!("{at}.method.service"), service)?;
                        let name = literal(&format!("{at}.method.method"), name)?;
                        match (service, name) {
                            (Some(s), Some(n)) => PathMatch::Exact(format!("/{s}/{n}")),
                            // A segment-bounded prefix: `/<service>` takes `/<service>/<any>`.
                            (Some(s), None) => PathMatch::Prefix(format!("/{s}")),
                            (None, Some(n)) => PathMatch::Regex(format!("/[^/]+/{}", regex::escape(n))),
                            (None, None) => PathMatch::Prefix("/".to_string()),
                        }
                    }
                    GrpcRouteRulesMatchesMethodType::RegularExpression => {
                        if let Some(s) = service {
                            check_regex(&format!("{at}.method.service"), s)?;
                        }
                        if let Some(n) = name {
                            check_regex(&format!("{at}.method.method"), n)?;
                        }
                        PathMatch::Regex(format!(
                            "/(?:{})/(?:{})",
                            service.unwrap_or("[^/]+"),
                            name.unwrap_or("[^/]+")
                        ))
                    }
                };
                (path, rank)
            }
        };
        let headers = header_matches(
            &at,
            m.headers.iter().flatten().map(|h| {
                let regex = matches!(
                    h.r#type,
                    Some(GrpcRouteRulesMatchesHeadersType::RegularExpression)
                );
                (h.name.as_str(), regex, h.value.as_str())
            }),
        )?;
        out.push(CompiledMatch {
            matcher: RouteMatch {
                path,
                method: None,
                headers,
                query_params: Vec::new(),
            },
            rewrite: None,
            preflight: false,
            grpc: Some(rank),
        });
    }
    Ok(out)
}

/// Request and response header changes; the other filters are not supported yet.
fn compile_filters(
    field: &str,
    filters: &[GrpcRouteRulesFilters],
) -> Result<(HeaderModifier, HeaderModifier), Rejection> {
    let mut request = HeaderModifier::default();
    let mut response = HeaderModifier::default();
    for (i, filter) in filters.iter().enumerate() {
        let at = format!("{field}.filters[{i}]");
        match filter.r#type {
            FilterType::RequestHeaderModifier => {
                let m = filter.request_header_modifier.as_ref().ok_or_else(|| {
                    unsupported(format!(
                        "{at}: type RequestHeaderModifier needs its `requestHeaderModifier` field"
                    ))
                })?;
                request
                    .set
                    .extend(m.set.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                request
                    .add
                    .extend(m.add.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                request.remove.extend(m.remove.iter().flatten().cloned());
            }
            FilterType::ResponseHeaderModifier => {
                let m = filter.response_header_modifier.as_ref().ok_or_else(|| {
                    unsupported(format!(
                        "{at}: type ResponseHeaderModifier needs its `responseHeaderModifier` field"
                    ))
                })?;
                response
                    .set
                    .extend(m.set.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                response
                    .add
                    .extend(m.add.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                response.remove.extend(m.remove.iter().flatten().cloned());
            }
            FilterType::RequestMirror | FilterType::ExtensionRef => {
                let name = serde_json::to_value(&filter.r#type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                return Err(unsupported(format!(
                    "{at}.type: filter {name} is not supported by portcullis yet"
                )));
            }
        }
    }
    Ok((request, response))
}
