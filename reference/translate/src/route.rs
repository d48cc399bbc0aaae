//! Routes (HTTPRoutes here, GRPCRoutes compiled in [`crate::grpc_route`]): attachment to
//! listeners, matches, filters, backends, precedence, and status.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use gateway_api::httproutes::{
    HttpRoute, HttpRouteParentRefs, HttpRouteRules, HttpRouteRulesBackendRefs, HttpRouteRulesFilters,
    HttpRouteRulesFiltersType as FilterType, HttpRouteRulesMatches, HttpRouteRulesMatchesHeadersType,
    HttpRouteRulesMatchesPathType, HttpRouteRulesMatchesQueryParamsType,
};
use portcullis_model::apk::DP_GROUP;
use portcullis_model::{GATEWAY_GROUP, ObjectKey, SERVICE_NAME_LABEL, Snapshot};

use crate::TranslateInput;
use crate::apk::{ApiIndex, RuleExtensions, join_path, operation_security};
use crate::gateway::AcceptedGateway;
use crate::hostname;
use crate::ir::{
    Action, Cluster, Cors, EnforcerCheck, HeaderModifier, INVALID_BACKEND, Ir, Listener, OperationSecurity,
    PathMatch, PathRewrite, Protocol, RateLimitDescriptor, RateLimitRule, Redirect, RedirectPath, Route,
    RouteMatch, Security, TlsChain, TlsSecret, UNAVAILABLE_BACKEND, UpstreamPolicy, ValueMatch, VirtualHost,
    WeightedBackend,
};
use crate::rate_limit::{ApiLimits, api_limits, gateway_limits, operation_limit, subscription_tiers};
use crate::refs::{RefFrom, reference_allowed};
use crate::route_kind::RouteKind;
use crate::status::{Condition, ParentReference, RouteParentStatus, RouteStatus, Statuses};

/// A rule made ready for Envoy: its matches and what it does.
#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    pub(crate) matches: Vec<CompiledMatch>,
    pub(crate) request_headers: HeaderModifier,
    pub(crate) response_headers: HeaderModifier,
    pub(crate) action: Action,
    pub(crate) rate_limits: Vec<RateLimitDescriptor>,
    pub(crate) upstream: Option<UpstreamPolicy>,
    /// What the enforcer checks, for rules of APK APIs.
    pub(crate) enforcer: Option<EnforcerCheck>,
    pub(crate) cors: Option<Cors>,
}

/// A match and the path rewrite that goes with it.
#[derive(Clone, Debug)]
pub(crate) struct CompiledMatch {
    pub(crate) matcher: RouteMatch,
    pub(crate) rewrite: Option<PathRewrite>,
    /// A CORS preflight companion: never sent to the enforcer.
    pub(crate) preflight: bool,
    /// For a GRPCRoute match, what ranks it (the Gateway API orders gRPC matches by service and
    /// method, not by path).
    pub(crate) grpc: Option<GrpcRank>,
}

/// How a GRPCRoute match ranks: literal matches before regular expressions (whose order the
/// Gateway API leaves to implementations), then the longest service, then the longest method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GrpcRank {
    pub(crate) regex: bool,
    pub(crate) service_len: usize,
    pub(crate) method_len: usize,
}

/// A backendRef of either route kind.
#[derive(Clone, Debug)]
pub(crate) struct BackendRef {
    pub(crate) group: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) name: String,
    pub(crate) namespace: Option<String>,
    pub(crate) port: Option<i32>,
    pub(crate) weight: Option<i32>,
}

impl From<&HttpRouteRulesBackendRefs> for BackendRef {
    fn from(r: &HttpRouteRulesBackendRefs) -> Self {
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

/// A parentRef of either route kind.
#[derive(Clone, Debug)]
pub(crate) struct ParentRef {
    pub(crate) group: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) section_name: Option<String>,
    pub(crate) port: Option<i32>,
}

impl From<&HttpRouteParentRefs> for ParentRef {
    fn from(p: &HttpRouteParentRefs) -> Self {
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

/// Compiled rules, or why the route cannot be accepted at all.
pub(crate) type Compiled = Result<(std::rc::Rc<Vec<CompiledRule>>, ResolvedRefsProblem), Rejection>;

/// A route of either kind with its rules compiled, waiting to be attached.
pub(crate) struct RouteUnit {
    pub(crate) kind: RouteKind,
    pub(crate) key: ObjectKey,
    pub(crate) generation: i64,
    /// Creation timestamp as JSON (empty when unknown): older routes take precedence.
    pub(crate) created: String,
    pub(crate) hostnames: Vec<String>,
    pub(crate) parents: Vec<ParentRef>,
    pub(crate) compiled: Compiled,
}

/// Where one parentRef of a route leads: the listeners (with the hostnames served on each) of
/// one of our Gateways, or why none.
pub(crate) struct ParentOutcome {
    pub(crate) gw_index: usize,
    pub(crate) parent_ref: ParentReference,
    pub(crate) result: Result<Vec<(usize, Vec<String>)>, Problem>,
}

/// A creation timestamp as it orders routes (empty when unknown).
pub(crate) fn created_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.creation_timestamp
        .as_ref()
        .and_then(|t| serde_json::to_string(t).ok())
        .unwrap_or_default()
}

/// What a rule's backends ask of the route besides the cluster split.
#[derive(Default)]
pub(crate) struct BackendExtras {
    /// The APK Backend's base path, which replaces the API's.
    base_path: Option<String>,
    upstream: Option<UpstreamPolicy>,
    /// Credentials for the backend.
    request_headers: Vec<(String, String)>,
}

/// What a rule's filters ask for.
#[derive(Default)]
struct Filters {
    request: HeaderModifier,
    response: HeaderModifier,
    redirect: Option<Redirect>,
    /// Names of RateLimitPolicies attached through `ExtensionRef`.
    rate_limit_policies: Vec<String>,
    /// Scopes, Authentications and APIPolicies attached through `ExtensionRef`.
    security: RuleExtensions,
}

/// Rate limits being collected while rules compile.
struct RateLimitContext<'a> {
    api: &'a ApiLimits,
    rules: BTreeMap<RateLimitDescriptor, RateLimitRule>,
    /// Whether any subscription tier exists (secured API routes then send their identity).
    subscription_tiers: bool,
}

/// APK APIs and the operations secured so far.
struct SecurityContext<'a> {
    apis: ApiIndex<'a>,
    operations: BTreeMap<String, OperationSecurity>,
}

/// A route attached to one Gateway listener, with the hostnames it serves there.
#[derive(Clone, Debug)]
struct Attachment {
    route: ObjectKey,
    created: String,
    hostnames: Vec<String>,
    rules: std::rc::Rc<Vec<CompiledRule>>,
}

/// Why a route cannot be accepted at all.
pub(crate) struct Rejection {
    pub(crate) reason: &'static str,
    pub(crate) message: String,
}

/// Resolves routes onto the checked gateways and builds the IR.
pub fn translate_routes(
    input: &TranslateInput<'_>,
    gateways: Vec<AcceptedGateway>,
    statuses: &mut Statuses,
) -> Ir {
    let snapshot = input.snapshot;
    // (gateway index, listener index) → attached routes.
    let mut attached: BTreeMap<(usize, usize), Vec<Attachment>> = BTreeMap::new();
    let mut clusters: BTreeMap<String, Cluster> = BTreeMap::new();
    let api_limits = api_limits(snapshot, statuses);
    let tiers = subscription_tiers(snapshot, statuses);
    let mut limits = RateLimitContext {
        api: &api_limits,
        rules: api_limits.rules.clone(),
        subscription_tiers: !tiers.is_empty(),
    };
    for tier in tiers {
        limits.rules.insert(tier.descriptor.clone(), tier);
    }
    let mut security = SecurityContext {
        apis: ApiIndex::new(snapshot),
        operations: BTreeMap::new(),
    };

    let mut units = Vec::new();
    for (key, route) in &snapshot.http_routes {
        let compiled = compile_rules(snapshot, key, route, &mut clusters, &mut limits, &mut security)
            .map(|(rules, problem)| (std::rc::Rc::new(rules), problem));
        units.push(RouteUnit {
            kind: RouteKind::Http,
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
            compiled,
        });
    }
    for (key, route) in &snapshot.grpc_routes {
        units.push(crate::grpc_route::unit(snapshot, key, route, &mut clusters));
    }
    let mut outcomes: Vec<Vec<ParentOutcome>> = units
        .iter()
        .map(|unit| parent_outcomes(snapshot, unit, &gateways))
        .collect();
    crate::conflict::resolve(&units, &mut outcomes, &gateways);

    for (unit, outcomes) in units.iter().zip(outcomes) {
        let generation = unit.generation;
        let mut parents = Vec::new();
        // Listeners this route already attached to: two parentRefs may select the same one.
        // A set rather than a scan of the listener's attachments, which grow with every route.
        let mut attached_here: BTreeSet<(usize, usize)> = BTreeSet::new();
        for outcome in outcomes {
            let gw_index = outcome.gw_index;
            let gateway = &gateways[gw_index];
            let accepted = match (&unit.compiled, outcome.result) {
                (Err(rejection), _) => Condition::new(
                    "Accepted",
                    false,
                    rejection.reason,
                    rejection.message.clone(),
                    generation,
                ),
                (Ok((rules, _)), Ok(listeners)) => {
                    for (listener_index, hostnames) in listeners {
                        // Two parentRefs may select the same listener: a route counts once.
                        if !attached_here.insert((gw_index, listener_index)) {
                            continue;
                        }
                        let on_listener = attached.entry((gw_index, listener_index)).or_default();
                        on_listener.push(Attachment {
                            route: unit.key.clone(),
                            created: unit.created.clone(),
                            hostnames,
                            rules: rules.clone(),
                        });
                        if let Some(status) = statuses.gateways.get_mut(&gateway.key.to_string())
                            && let Some(l) = status.listeners.get_mut(listener_index)
                        {
                            l.attached_routes += 1;
                        }
                    }
                    Condition::new("Accepted", true, "Accepted", "route is accepted", generation)
                }
                (Ok(_), Err((reason, message))) => {
                    Condition::new("Accepted", false, reason, message, generation)
                }
            };
            let resolved = match &unit.compiled {
                Ok((_, Some((reason, message)))) => {
                    Condition::new("ResolvedRefs", false, reason, message.clone(), generation)
                }
                _ => Condition::new(
                    "ResolvedRefs",
                    true,
                    "ResolvedRefs",
                    "all references resolved",
                    generation,
                ),
            };
            parents.push(RouteParentStatus {
                parent_ref: outcome.parent_ref,
                controller_name: gateway.controller_name.clone(),
                conditions: vec![accepted, resolved],
            });
        }
        if !parents.is_empty() {
            statuses
                .routes_mut(unit.kind)
                .insert(unit.key.to_string(), RouteStatus { parents });
        }
    }
    let mut ir = build_ir(&gateways, &attached, clusters);
    // Gateway-wide custom limits apply to every route of every listener of the Gateway.
    let custom = gateway_limits(snapshot, statuses);
    for listener in &mut ir.listeners {
        let gateway = listener.name.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        let Some(rules) = custom.get(gateway) else {
            continue;
        };
        let hosts = listener.virtual_hosts.iter_mut().chain(
            listener
                .tls_chains
                .iter_mut()
                .flat_map(|c| c.virtual_hosts.iter_mut()),
        );
        for vh in hosts {
            for route in &mut vh.routes {
                route
                    .rate_limits
                    .extend(rules.iter().map(|r| r.descriptor.clone()));
            }
        }
    }
    for rule in custom.into_values().flatten() {
        limits.rules.insert(rule.descriptor.clone(), rule);
    }
    ir.rate_limits = limits.rules.into_values().collect();
    ir.security = Security {
        issuers: crate::apk::issuers(snapshot, statuses),
        operations: security.operations,
        applications: crate::apk::applications(snapshot),
    };
    ir
}

/// Where each parentRef of a route leads, for the parentRefs naming one of our Gateways.
fn parent_outcomes(
    snapshot: &Snapshot,
    unit: &RouteUnit,
    gateways: &[AcceptedGateway],
) -> Vec<ParentOutcome> {
    let mut out = Vec::new();
    for parent in &unit.parents {
        if parent.group.as_deref().is_some_and(|g| g != GATEWAY_GROUP)
            || parent.kind.as_deref().is_some_and(|k| k != "Gateway")
        {
            continue;
        }
        let gw_ns = parent
            .namespace
            .clone()
            .unwrap_or_else(|| unit.key.namespace.clone());
        let gw_key = ObjectKey::new(gw_ns, parent.name.clone());
        let Some(gw_index) = gateways.iter().position(|g| g.key == gw_key) else {
            continue; // not a Gateway of ours
        };
        let parent_ref = ParentReference {
            group: GATEWAY_GROUP.to_string(),
            kind: "Gateway".to_string(),
            namespace: gw_key.namespace.clone(),
            name: gw_key.name.clone(),
            section_name: parent.section_name.clone(),
            port: parent.port,
        };
        out.push(ParentOutcome {
            gw_index,
            parent_ref,
            result: attach(snapshot, unit, parent, &gateways[gw_index]),
        });
    }
    out
}

/// Which listeners of `gateway` the route attaches to through `parent`, with the hostnames it
/// serves on each; or why none.
fn attach(
    snapshot: &Snapshot,
    unit: &RouteUnit,
    parent: &ParentRef,
    gateway: &AcceptedGateway,
) -> Result<Vec<(usize, Vec<String>)>, Problem> {
    let route = &unit.key;
    let route_hostnames = &unit.hostnames;
    let candidates: Vec<usize> = gateway
        .listeners
        .iter()
        .enumerate()
        .filter(|(_, l)| parent.section_name.as_ref().is_none_or(|s| s == &l.name))
        .filter(|(_, l)| parent.port.is_none_or(|p| p == l.port))
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        let mut wanted = Vec::new();
        if let Some(section) = &parent.section_name {
            wanted.push(format!("named {section:?}"));
        }
        if let Some(port) = parent.port {
            wanted.push(format!("on port {port}"));
        }
        return Err((
            "NoMatchingParent",
            format!(
                "parentRef {}: the Gateway has no listener {}",
                gateway.key,
                wanted.join(" ")
            )
            .trim_end()
            .to_string(),
        ));
    }
    let allowed: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| {
            let l = &gateway.listeners[i];
            l.allows_kind(unit.kind) && l.allows_namespace(snapshot, &gateway.key.namespace, &route.namespace)
        })
        .collect();
    if allowed.is_empty() {
        return Err((
            "NotAllowedByListeners",
            format!(
                "no listener of Gateway {} allows {}s from namespace {}",
                gateway.key, unit.kind, route.namespace
            ),
        ));
    }
    let mut out = Vec::new();
    for i in allowed {
        let listener = &gateway.listeners[i];
        if let Some(hosts) = hostname::intersect(listener.hostname.as_deref(), route_hostnames) {
            // An unprogrammed listener still counts the route, but gets no traffic.
            out.push((i, hosts));
        }
    }
    if out.is_empty() {
        return Err((
            "NoMatchingListenerHostname",
            format!(
                "spec.hostnames: none intersects a listener hostname of Gateway {}",
                gateway.key
            ),
        ));
    }
    Ok(out)
}

/// An upstream reason and a message naming the field at fault.
pub(crate) type Problem = (&'static str, String);

/// The first backend problem of a route, reported as ResolvedRefs=False.
pub(crate) type ResolvedRefsProblem = Option<Problem>;

/// Compiles every rule. A rule that cannot be expressed rejects the route; backend problems
/// only make that rule answer 500 and are reported as ResolvedRefs=False.
fn compile_rules(
    snapshot: &Snapshot,
    key: &ObjectKey,
    route: &HttpRoute,
    clusters: &mut BTreeMap<String, Cluster>,
    limits: &mut RateLimitContext<'_>,
    security: &mut SecurityContext<'_>,
) -> Result<(Vec<CompiledRule>, ResolvedRefsProblem), Rejection> {
    let mut out = Vec::new();
    let mut problem: ResolvedRefsProblem = None;
    let api = security.apis.for_route(key).cloned();
    for (rule_index, rule) in route.spec.rules.iter().flatten().enumerate() {
        let field = format!("spec.rules[{rule_index}]");
        let matches = compile_matches(&field, rule)?;
        let mut filters = compile_filters(&field, rule.filters.as_deref().unwrap_or(&[]))?;
        let mut extras = BackendExtras::default();
        let mut action = match filters.redirect.take() {
            Some(redirect) => Action::Redirect(redirect),
            None => {
                let refs: Vec<BackendRef> =
                    rule.backend_refs.iter().flatten().map(BackendRef::from).collect();
                let (action, rule_problem, rule_extras) =
                    resolve_backends(snapshot, key, RouteKind::Http, &field, &refs, clusters);
                extras = rule_extras;
                if problem.is_none() {
                    problem = rule_problem;
                }
                action
            }
        };
        filters.request.set.extend(extras.request_headers.iter().cloned());
        let mut subscription_limit = None;
        let mut enforcer = None;
        let mut cors = None;
        let matches = match &api {
            None => matches
                .into_iter()
                .map(|matcher| CompiledMatch {
                    matcher,
                    rewrite: None,
                    preflight: false,
                    grpc: None,
                })
                .collect(),
            Some(api) => {
                match operation_security(snapshot, api, &filters.security) {
                    Ok((op, rule_cors)) => {
                        if !op.disabled && limits.subscription_tiers {
                            subscription_limit =
                                Some(RateLimitDescriptor::subscription(&api.key.to_string()));
                        }
                        enforcer = Some(if op.disabled {
                            EnforcerCheck::Public
                        } else {
                            let id = format!("{key}/rule/{rule_index}");
                            security.operations.insert(id.clone(), op);
                            EnforcerCheck::Operation(id)
                        });
                        cors = rule_cors;
                    }
                    Err(message) => {
                        // Never serve an operation whose security cannot be resolved.
                        let message = format!("{field}: {message}");
                        action = Action::Respond {
                            status: 500,
                            reason: message.clone(),
                        };
                        problem.get_or_insert(("InvalidExtensionRef", message));
                        enforcer = Some(EnforcerCheck::Public);
                    }
                }
                api_matches(
                    &api.base_paths(),
                    matches,
                    extras.base_path.as_deref(),
                    cors.is_some(),
                )
            }
        };
        let mut rate_limits = Vec::new();
        if let Some(api) = limits.api.for_route(key) {
            rate_limits.push(api.clone());
        }
        rate_limits.extend(subscription_limit);
        if !limits.api.overrides_operations(key) {
            for name in &filters.rate_limit_policies {
                match operation_limit(snapshot, key, rule_index, name) {
                    Ok(limit) => {
                        rate_limits.push(limit.descriptor.clone());
                        limits.rules.insert(limit.descriptor.clone(), limit);
                    }
                    Err(message) => {
                        // A filter that cannot be applied must not be skipped: the rule fails.
                        let message = format!("{field}.filters: {message}");
                        action = Action::Respond {
                            status: 500,
                            reason: message.clone(),
                        };
                        problem.get_or_insert(("InvalidExtensionRef", message));
                    }
                }
            }
        }
        out.push(CompiledRule {
            matches,
            request_headers: filters.request,
            response_headers: filters.response,
            action,
            rate_limits,
            upstream: extras.upstream,
            enforcer,
            cors,
        });
    }
    Ok((out, problem))
}

/// An API route's matches under each of the API's base paths, each rewriting that base path to
/// the backend's; with CORS, an `OPTIONS` companion per match that skips the enforcer.
fn api_matches(
    bases: &[String],
    matches: Vec<RouteMatch>,
    backend_base: Option<&str>,
    cors: bool,
) -> Vec<CompiledMatch> {
    let target = backend_base.unwrap_or("").trim_end_matches('/');
    let mut out = Vec::new();
    for base in bases {
        let rewrite = PathRewrite {
            pattern: format!("^{}/?", regex::escape(base.trim_end_matches('/'))),
            substitution: format!("{target}/"),
        };
        for m in &matches {
            let path = match &m.path {
                PathMatch::Exact(p) => PathMatch::Exact(join_path(base, p)),
                PathMatch::Prefix(p) => PathMatch::Prefix(join_path(base, p)),
                PathMatch::Regex(p) => {
                    PathMatch::Regex(format!("{}{}", regex::escape(base.trim_end_matches('/')), p))
                }
            };
            let matcher = RouteMatch { path, ..m.clone() };
            if cors {
                out.push(CompiledMatch {
                    matcher: RouteMatch {
                        method: Some("OPTIONS".to_string()),
                        ..matcher.clone()
                    },
                    rewrite: Some(rewrite.clone()),
                    preflight: true,
                    grpc: None,
                });
            }
            out.push(CompiledMatch {
                matcher,
                rewrite: Some(rewrite.clone()),
                preflight: false,
                grpc: None,
            });
        }
    }
    out
}

/// A match's header conditions: names lower-cased, and only the first condition on a name
/// counts (spec). Each item is (name, whether the value is a regular expression, value).
pub(crate) fn header_matches<'a>(
    at: &str,
    headers: impl Iterator<Item = (&'a str, bool, &'a str)>,
) -> Result<Vec<(String, ValueMatch)>, Rejection> {
    let mut matches = Vec::new();
    let mut seen = BTreeSet::new();
    for (j, (name, regex, value)) in headers.enumerate() {
        let name = name.to_ascii_lowercase();
        if !seen.insert(name.clone()) {
            continue;
        }
        let value = if regex {
            check_regex(&format!("{at}.headers[{j}].value"), value)?;
            ValueMatch::Regex(value.to_string())
        } else {
            ValueMatch::Exact(value.to_string())
        };
        matches.push((name, value));
    }
    Ok(matches)
}

pub(crate) fn check_regex(field: &str, pattern: &str) -> Result<(), Rejection> {
    regex::Regex::new(pattern).map(|_| ()).map_err(|error| Rejection {
        reason: "UnsupportedValue",
        message: format!(
            "{field}: invalid regular expression {pattern:?}: {}",
            error.to_string().lines().last().unwrap_or("")
        ),
    })
}

fn compile_matches(field: &str, rule: &HttpRouteRules) -> Result<Vec<RouteMatch>, Rejection> {
    let default = [HttpRouteRulesMatches::default()];
    let matches = match rule.matches.as_deref() {
        Some(m) if !m.is_empty() => m,
        _ => &default[..],
    };
    let mut out = Vec::new();
    for (i, m) in matches.iter().enumerate() {
        let at = format!("{field}.matches[{i}]");
        let path = match &m.path {
            None => PathMatch::Prefix("/".to_string()),
            Some(p) => {
                let value = p.value.clone().unwrap_or_else(|| "/".to_string());
                match p
                    .r#type
                    .clone()
                    .unwrap_or(HttpRouteRulesMatchesPathType::PathPrefix)
                {
                    HttpRouteRulesMatchesPathType::Exact => {
                        if !value.starts_with('/') {
                            return Err(Rejection {
                                reason: "UnsupportedValue",
                                message: format!("{at}.path.value: must start with '/'"),
                            });
                        }
                        PathMatch::Exact(value)
                    }
                    HttpRouteRulesMatchesPathType::PathPrefix => {
                        if !value.starts_with('/') {
                            return Err(Rejection {
                                reason: "UnsupportedValue",
                                message: format!("{at}.path.value: must start with '/'"),
                            });
                        }
                        // A trailing slash does not change segment matching: `/abc/` ≡ `/abc`.
                        let trimmed = value.trim_end_matches('/');
                        PathMatch::Prefix(if trimmed.is_empty() {
                            "/".to_string()
                        } else {
                            trimmed.to_string()
                        })
                    }
                    HttpRouteRulesMatchesPathType::RegularExpression => {
                        check_regex(&format!("{at}.path.value"), &value)?;
                        PathMatch::Regex(value)
                    }
                }
            }
        };
        let headers = header_matches(
            &at,
            m.headers.iter().flatten().map(|h| {
                let regex = matches!(
                    h.r#type,
                    Some(HttpRouteRulesMatchesHeadersType::RegularExpression)
                );
                (h.name.as_str(), regex, h.value.as_str())
            }),
        )?;
        let mut query_params = Vec::new();
        let mut seen = BTreeSet::new();
        for (j, q) in m.query_params.iter().flatten().enumerate() {
            if !seen.insert(q.name.clone()) {
                continue;
            }
            let value = match q
                .r#type
                .clone()
                .unwrap_or(HttpRouteRulesMatchesQueryParamsType::Exact)
            {
                HttpRouteRulesMatchesQueryParamsType::Exact => ValueMatch::Exact(q.value.clone()),
                HttpRouteRulesMatchesQueryParamsType::RegularExpression => {
                    check_regex(&format!("{at}.queryParams[{j}].value"), &q.value)?;
                    ValueMatch::Regex(q.value.clone())
                }
            };
            query_params.push((q.name.clone(), value));
        }
        let method = m
            .method
            .as_ref()
            .and_then(|method| serde_json::to_value(method).ok())
            .and_then(|v| v.as_str().map(str::to_string));
        out.push(RouteMatch {
            path,
            method,
            headers,
            query_params,
        });
    }
    Ok(out)
}

fn compile_filters(field: &str, filters: &[HttpRouteRulesFilters]) -> Result<Filters, Rejection> {
    let mut out = Filters::default();
    let Filters {
        request,
        response,
        redirect,
        rate_limit_policies,
        security,
    } = &mut out;
    for (i, filter) in filters.iter().enumerate() {
        let at = format!("{field}.filters[{i}]");
        let missing = |what: &str| Rejection {
            reason: "UnsupportedValue",
            message: format!(
                "{at}: type {what} needs its `{}` field",
                what[..1].to_lowercase() + &what[1..]
            ),
        };
        match filter.r#type {
            FilterType::RequestHeaderModifier => {
                let m = filter
                    .request_header_modifier
                    .as_ref()
                    .ok_or_else(|| missing("RequestHeaderModifier"))?;
                request
                    .set
                    .extend(m.set.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                request
                    .add
                    .extend(m.add.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                request.remove.extend(m.remove.iter().flatten().cloned());
            }
            FilterType::ResponseHeaderModifier => {
                let m = filter
                    .response_header_modifier
                    .as_ref()
                    .ok_or_else(|| missing("ResponseHeaderModifier"))?;
                response
                    .set
                    .extend(m.set.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                response
                    .add
                    .extend(m.add.iter().flatten().map(|h| (h.name.clone(), h.value.clone())));
                response.remove.extend(m.remove.iter().flatten().cloned());
            }
            FilterType::RequestRedirect => {
                let r = filter
                    .request_redirect
                    .as_ref()
                    .ok_or_else(|| missing("RequestRedirect"))?;
                let status = match r.status_code.unwrap_or(302) {
                    code @ (301 | 302 | 303 | 307 | 308) => code as u32,
                    other => {
                        return Err(Rejection {
                            reason: "UnsupportedValue",
                            message: format!(
                                "{at}.requestRedirect.statusCode: {other} is not a redirect status"
                            ),
                        });
                    }
                };
                let path = match &r.path {
                    None => None,
                    Some(p) => {
                        let v = serde_json::to_value(&p.r#type).ok();
                        match v.as_ref().and_then(|v| v.as_str()) {
                            Some("ReplaceFullPath") => p.replace_full_path.clone().map(RedirectPath::Full),
                            Some("ReplacePrefixMatch") => {
                                p.replace_prefix_match.clone().map(RedirectPath::Prefix)
                            }
                            _ => None,
                        }
                    }
                };
                *redirect = Some(Redirect {
                    scheme: r
                        .scheme
                        .as_ref()
                        .and_then(|s| serde_json::to_value(s).ok())
                        .and_then(|v| v.as_str().map(str::to_string)),
                    hostname: r.hostname.clone(),
                    port: r.port.and_then(|p| u32::try_from(p).ok()),
                    path,
                    status,
                });
            }
            FilterType::ExtensionRef
                if filter
                    .extension_ref
                    .as_ref()
                    .is_some_and(|r| r.group == DP_GROUP && r.kind == "RateLimitPolicy") =>
            {
                if let Some(r) = &filter.extension_ref {
                    rate_limit_policies.push(r.name.clone());
                }
            }
            FilterType::ExtensionRef
                if filter.extension_ref.as_ref().is_some_and(|r| {
                    r.group == DP_GROUP && matches!(r.kind.as_str(), "Scope" | "Authentication" | "APIPolicy")
                }) =>
            {
                if let Some(r) = &filter.extension_ref {
                    let list = match r.kind.as_str() {
                        "Scope" => &mut security.scopes,
                        "Authentication" => &mut security.authentications,
                        _ => &mut security.api_policies,
                    };
                    list.push(r.name.clone());
                }
            }
            FilterType::UrlRewrite
            | FilterType::RequestMirror
            | FilterType::ExtensionRef
            | FilterType::Cors => {
                let name = serde_json::to_value(&filter.r#type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                return Err(Rejection {
                    reason: "UnsupportedValue",
                    message: format!("{at}.type: filter {name} is not supported by portcullis yet"),
                });
            }
        }
    }
    Ok(out)
}

/// The status a rule answers when none of its backends can take a request: 500 for HTTP (the
/// Gateway API asks for it), 503 for gRPC, which clients read as `UNAVAILABLE`.
pub(crate) fn failure_status(kind: RouteKind) -> u32 {
    match kind {
        RouteKind::Http => 500,
        RouteKind::Grpc => 503,
    }
}

/// The rule's action from its backendRefs, adding their clusters; and the first problem found.
pub(crate) fn resolve_backends(
    snapshot: &Snapshot,
    route: &ObjectKey,
    route_kind: RouteKind,
    field: &str,
    refs: &[BackendRef],
    clusters: &mut BTreeMap<String, Cluster>,
) -> (Action, ResolvedRefsProblem, BackendExtras) {
    let mut extras = BackendExtras::default();
    let failure = failure_status(route_kind);
    if refs.is_empty() {
        return (
            Action::Respond {
                status: failure,
                reason: format!("{field}: no backendRefs"),
            },
            None,
            extras,
        );
    }
    let mut problem: ResolvedRefsProblem = None;
    let mut backends = Vec::new();
    let mut invalid_weight = 0u32;
    for (i, r) in refs.iter().enumerate() {
        let at = format!("{field}.backendRefs[{i}]");
        let group = r.group.as_deref().unwrap_or("");
        let kind = r.kind.as_deref().unwrap_or("Service");
        let namespace = r.namespace.clone().unwrap_or_else(|| route.namespace.clone());
        let weight = u32::try_from(r.weight.unwrap_or(1)).unwrap_or(0);
        let issue = if group == DP_GROUP && kind == "Backend" {
            if namespace != route.namespace {
                Some((
                    "RefNotPermitted",
                    format!("{at}: a Backend must be in the route's namespace"),
                ))
            } else {
                let backend_key = ObjectKey::new(namespace.clone(), r.name.clone());
                match crate::backend::resolve(snapshot, &backend_key) {
                    Err(message) => Some(("BackendNotFound", format!("{at}: {message}"))),
                    Ok(resolved) => {
                        if weight > 0 {
                            let name = resolved.cluster.name.clone();
                            let cluster = clusters.entry(name.clone()).or_insert(resolved.cluster);
                            cluster.http2 |= route_kind == RouteKind::Grpc;
                            backends.push(WeightedBackend {
                                cluster: name,
                                weight,
                            });
                            if extras.base_path.is_none() {
                                extras.base_path = Some(resolved.base_path);
                                extras.upstream = resolved.upstream;
                                extras.request_headers = resolved.request_headers;
                            }
                        }
                        None
                    }
                }
            }
        } else if !(group.is_empty() || group == "core") || kind != "Service" {
            Some((
                "InvalidKind",
                format!(
                    "{at}: {}{kind} is not a supported backend kind (Service is)",
                    if group.is_empty() {
                        String::new()
                    } else {
                        format!("{group}/")
                    }
                ),
            ))
        } else if !reference_allowed(
            snapshot,
            RefFrom {
                group: GATEWAY_GROUP,
                kind: route_kind.name(),
                namespace: &route.namespace,
            },
            "",
            "Service",
            &namespace,
            &r.name,
        ) {
            Some((
                "RefNotPermitted",
                format!(
                    "{at}: Service {namespace}/{} is in another namespace and no ReferenceGrant allows it",
                    r.name
                ),
            ))
        } else {
            let service_key = ObjectKey::new(namespace.clone(), r.name.clone());
            match (snapshot.services.get(&service_key), r.port) {
                (None, _) => Some((
                    "BackendNotFound",
                    format!("{at}: Service {service_key} not found"),
                )),
                (Some(_), None) => Some((
                    "UnsupportedValue",
                    format!("{at}.port: a port is required for a Service"),
                )),
                (Some(service), Some(port)) => {
                    let service_port = service
                        .spec
                        .as_ref()
                        .and_then(|s| s.ports.as_ref())
                        .and_then(|ports| ports.iter().find(|p| p.port == port));
                    match service_port {
                        None => Some((
                            "BackendNotFound",
                            format!("{at}.port: Service {service_key} has no port {port}"),
                        )),
                        Some(service_port) => {
                            let name = format!("{service_key}/{port}");
                            if weight > 0 {
                                let cluster = clusters.entry(name.clone()).or_insert_with(|| Cluster {
                                    name: name.clone(),
                                    endpoints: endpoints(snapshot, &service_key, service_port),
                                    dns: false,
                                    tls_sni: None,
                                    circuit_breaker: None,
                                    http2: false,
                                });
                                // A gRPC backend, or a port that says it speaks h2c, gets HTTP/2
                                // from every route that uses it.
                                cluster.http2 |= route_kind == RouteKind::Grpc
                                    || service_port.app_protocol.as_deref() == Some(H2C_APP_PROTOCOL);
                                backends.push(WeightedBackend {
                                    cluster: name,
                                    weight,
                                });
                            }
                            None
                        }
                    }
                }
            }
        };
        if let Some(issue) = issue {
            invalid_weight = invalid_weight.saturating_add(weight);
            if problem.is_none() {
                problem = Some(issue);
            }
        }
    }
    // Invalid backends keep their share of the traffic, which gets 500s (503s for gRPC).
    if !backends.is_empty() && invalid_weight > 0 {
        backends.push(WeightedBackend {
            cluster: match route_kind {
                RouteKind::Http => INVALID_BACKEND,
                RouteKind::Grpc => UNAVAILABLE_BACKEND,
            }
            .to_string(),
            weight: invalid_weight,
        });
    }
    let action = if let Some((_, message)) = &problem
        && backends.is_empty()
    {
        Action::Respond {
            status: failure,
            reason: message.clone(),
        }
    } else if backends.is_empty() {
        Action::Respond {
            status: failure,
            reason: format!("{field}: every backend has weight 0"),
        }
    } else {
        Action::Forward(backends)
    };
    (action, problem, extras)
}

/// The `appProtocol` of a Service port that speaks HTTP/2 without TLS.
pub const H2C_APP_PROTOCOL: &str = "kubernetes.io/h2c";

/// Addresses behind a Service port, from the EndpointSlices labelled with its name.
pub(crate) fn endpoints(
    snapshot: &Snapshot,
    service: &ObjectKey,
    port: &k8s_openapi::api::core::v1::ServicePort,
) -> Vec<String> {
    let mut out = BTreeSet::new();
    for (key, slice) in &snapshot.endpoint_slices {
        let owned = key.namespace == service.namespace
            && slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SERVICE_NAME_LABEL))
                == Some(&service.name);
        if !owned {
            continue;
        }
        // Slice ports are named like the Service port they serve; a single unnamed port
        // serves an unnamed Service port.
        let slice_port = slice
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref().unwrap_or("") == port.name.as_deref().unwrap_or(""));
        let Some(number) = slice_port.and_then(|p| p.port) else {
            continue;
        };
        for endpoint in slice.endpoints.iter().flatten() {
            let ready = endpoint.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
            if !ready {
                continue;
            }
            for address in &endpoint.addresses {
                out.insert(if address.contains(':') {
                    format!("[{address}]:{number}")
                } else {
                    format!("{address}:{number}")
                });
            }
        }
    }
    out.into_iter().collect()
}

/// Precedence among matches, as the Gateway API orders it: exact path, then the longest
/// prefix, then method, most headers, most query parameters; ties go to the oldest route,
/// then by namespace/name, then rule and match order. Regular expressions (whose order is
/// implementation-specific) come after exact paths and before prefixes.
type PrecedenceKey<'a> = (
    u8,
    std::cmp::Reverse<usize>,
    u8,
    std::cmp::Reverse<usize>,
    std::cmp::Reverse<usize>,
    &'a str,
    &'a ObjectKey,
    usize,
    usize,
);

fn precedence<'a>(
    c: &CompiledMatch,
    created: &'a str,
    route: &'a ObjectKey,
    rule: usize,
    index: usize,
) -> PrecedenceKey<'a> {
    let m = &c.matcher;
    if let Some(rank) = c.grpc {
        // gRPC: literal first, the longest service, the longest method, the most headers.
        return (
            u8::from(rank.regex),
            std::cmp::Reverse(rank.service_len),
            0,
            std::cmp::Reverse(rank.method_len),
            std::cmp::Reverse(m.headers.len()),
            created,
            route,
            rule,
            index,
        );
    }
    let (rank, len) = match &m.path {
        PathMatch::Exact(p) => (0, p.len()),
        PathMatch::Regex(p) => (1, p.len()),
        PathMatch::Prefix(p) => (2, p.len()),
    };
    (
        rank,
        std::cmp::Reverse(len),
        u8::from(m.method.is_none()),
        std::cmp::Reverse(m.headers.len()),
        std::cmp::Reverse(m.query_params.len()),
        created,
        route,
        rule,
        index,
    )
}

fn virtual_hosts(attachments: &[&Attachment]) -> Vec<VirtualHost> {
    let mut by_host: BTreeMap<&str, Vec<(PrecedenceKey<'_>, Route)>> = BTreeMap::new();
    // Matches per host, so many routes on one host do not rescan each other.
    let mut seen: HashSet<(&str, &ObjectKey, usize, usize)> = HashSet::new();
    for a in attachments {
        for host in &a.hostnames {
            let entries = by_host.entry(host.as_str()).or_default();
            for (rule_index, rule) in a.rules.iter().enumerate() {
                for (match_index, m) in rule.matches.iter().enumerate() {
                    if !seen.insert((host.as_str(), &a.route, rule_index, match_index)) {
                        continue; // the same route attached through two listeners
                    }
                    let name = format!("{}/rule/{rule_index}/match/{match_index}", a.route);
                    entries.push((
                        precedence(m, &a.created, &a.route, rule_index, match_index),
                        Route {
                            name,
                            matcher: m.matcher.clone(),
                            request_headers: rule.request_headers.clone(),
                            response_headers: rule.response_headers.clone(),
                            action: rule.action.clone(),
                            rate_limits: if m.preflight {
                                Vec::new()
                            } else {
                                rule.rate_limits.clone()
                            },
                            path_rewrite: m.rewrite.clone(),
                            upstream: rule.upstream.clone(),
                            enforcer: if m.preflight {
                                rule.enforcer.as_ref().map(|_| EnforcerCheck::Public)
                            } else {
                                rule.enforcer.clone()
                            },
                            cors: rule.cors.clone(),
                        },
                    ));
                }
            }
        }
    }
    by_host
        .into_iter()
        .map(|(hostname, mut routes)| {
            routes.sort_by(|a, b| a.0.cmp(&b.0));
            VirtualHost {
                hostname: hostname.to_string(),
                routes: routes.into_iter().map(|(_, r)| r).collect(),
            }
        })
        .collect()
}

fn build_ir(
    gateways: &[AcceptedGateway],
    attached: &BTreeMap<(usize, usize), Vec<Attachment>>,
    clusters: BTreeMap<String, Cluster>,
) -> Ir {
    let mut listeners = Vec::new();
    let mut secrets: BTreeMap<String, TlsSecret> = BTreeMap::new();
    for (gw_index, gateway) in gateways.iter().enumerate() {
        let mut ports: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
        for (i, l) in gateway.listeners.iter().enumerate() {
            if l.programmed {
                ports.entry(l.port).or_default().push(i);
            }
        }
        for (port, indices) in ports {
            let Some(bind) = gateway.binds.get(&port) else {
                continue;
            };
            let name = format!("{}/{port}", gateway.key);
            let protocol = gateway.listeners[indices[0]].protocol.unwrap_or(Protocol::Http);
            let attachments_of = |i: usize| {
                attached
                    .get(&(gw_index, i))
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
            };
            let mut listener = Listener {
                name: name.clone(),
                port,
                bind: bind.to_string(),
                protocol,
                virtual_hosts: Vec::new(),
                tls_chains: Vec::new(),
                enforcer_fail_open: gateway.enforcer_fail_open,
            };
            match protocol {
                Protocol::Http => {
                    let all: Vec<&Attachment> = indices.iter().flat_map(|&i| attachments_of(i)).collect();
                    listener.virtual_hosts = virtual_hosts(&all);
                }
                Protocol::Https => {
                    for &i in &indices {
                        let l = &gateway.listeners[i];
                        for s in &l.secrets {
                            secrets.entry(s.name.clone()).or_insert_with(|| s.clone());
                        }
                        listener.tls_chains.push(TlsChain {
                            name: format!("{name}/{}", l.name),
                            server_names: l.hostname.iter().cloned().collect(),
                            secrets: l.secrets.iter().map(|s| s.name.clone()).collect(),
                            virtual_hosts: virtual_hosts(&attachments_of(i)),
                        });
                    }
                }
            }
            listeners.push(listener);
        }
    }
    // Only clusters some listener routes to reach Envoy, so no resource is orphaned.
    let mut used = BTreeSet::new();
    for l in &listeners {
        let hosts = l
            .virtual_hosts
            .iter()
            .chain(l.tls_chains.iter().flat_map(|c| c.virtual_hosts.iter()));
        for vh in hosts {
            for r in &vh.routes {
                if let Action::Forward(backends) = &r.action {
                    used.extend(backends.iter().map(|b| b.cluster.clone()));
                }
            }
        }
    }
    Ir {
        listeners,
        clusters: clusters
            .into_values()
            .filter(|c| used.contains(&c.name))
            .collect(),
        secrets: secrets.into_values().collect(),
        rate_limits: Vec::new(),
        security: Security::default(),
    }
}
