//! APK RateLimitPolicies: API-level limits shared by every route of an API (production and
//! sandbox alike), and operation-level limits attached to one rule through an `ExtensionRef`.

use std::collections::BTreeMap;

use portcullis_model::apk::DP_GROUP;
use portcullis_model::apk::rate_limit::{ApiRateLimitPolicy, RateLimitPolicy};
use portcullis_model::{GATEWAY_GROUP, ObjectKey, Snapshot};

use crate::ir::{
    API_DESCRIPTOR, OPERATION_DESCRIPTOR, RateLimitDescriptor, RateLimitRule, RateLimitUnit,
    SUBSCRIPTION_TIER_DESCRIPTOR,
};
use crate::status::{Condition, PolicyStatus, Statuses};

/// API-level limits, resolved once per snapshot.
#[derive(Debug, Default)]
pub struct ApiLimits {
    /// Descriptors every rule of a route sends, by route.
    by_route: BTreeMap<ObjectKey, RateLimitDescriptor>,
    /// Routes whose API limit is an `override`: operation limits do not apply to them.
    overridden: BTreeMap<ObjectKey, bool>,
    /// Every valid limit, by descriptor.
    pub rules: BTreeMap<RateLimitDescriptor, RateLimitRule>,
}

impl ApiLimits {
    /// The API descriptor of a route, if its API is limited.
    pub fn for_route(&self, route: &ObjectKey) -> Option<&RateLimitDescriptor> {
        self.by_route.get(route)
    }

    /// Whether the route's API limit overrides its operations' limits.
    pub fn overrides_operations(&self, route: &ObjectKey) -> bool {
        self.overridden.get(route).copied().unwrap_or(false)
    }
}

fn parse_limit(field: &str, limit: &ApiRateLimitPolicy) -> Result<(u32, RateLimitUnit), String> {
    let unit = match limit.unit.as_str() {
        "Second" => RateLimitUnit::Second,
        "Minute" => RateLimitUnit::Minute,
        "Hour" => RateLimitUnit::Hour,
        "Day" => RateLimitUnit::Day,
        other => {
            return Err(format!(
                "{field}.unit: {other:?} is not one of Second, Minute, Hour, Day"
            ));
        }
    };
    let count = u32::try_from(limit.requests_per_unit)
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            format!(
                "{field}.requestsPerUnit: {} must be at least 1",
                limit.requests_per_unit
            )
        })?;
    Ok((count, unit))
}

/// The API-or-operation limit of a policy: `override` wins over `default`.
fn policy_limit(policy: &RateLimitPolicy) -> Result<(u32, RateLimitUnit, bool), String> {
    let (field, limit, is_override) = match (&policy.spec.r#override, &policy.spec.default) {
        (Some(o), _) if o.api.is_some() => ("spec.override.api", o.api.as_ref(), true),
        (_, Some(d)) if d.api.is_some() => ("spec.default.api", d.api.as_ref(), false),
        _ => return Err("spec: neither default.api nor override.api is set".to_string()),
    };
    let limit = limit.ok_or_else(|| format!("{field}: missing"))?;
    let (count, unit) = parse_limit(field, limit)?;
    Ok((count, unit, is_override))
}

/// The annotation that puts a policy in shadow mode: counted and reported, never enforced.
/// (APK's RateLimitPolicy has no such field; an annotation keeps APK manifests unchanged.)
pub const SHADOW_MODE_ANNOTATION: &str = "portcullis.dev/shadow-mode";

fn shadow_mode(policy: &RateLimitPolicy) -> bool {
    policy
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SHADOW_MODE_ANNOTATION))
        .is_some_and(|v| v == "true")
}

fn generation(policy: &RateLimitPolicy) -> i64 {
    policy.metadata.generation.unwrap_or(1)
}

/// Resolves every RateLimitPolicy that targets an API, and reports each policy's status.
/// Policies attached to rules are checked when their rule is compiled.
pub fn api_limits(snapshot: &Snapshot, statuses: &mut Statuses) -> ApiLimits {
    let mut out = ApiLimits::default();
    let mut own: BTreeMap<ObjectKey, ApiLimit> = BTreeMap::new();
    for (key, policy) in &snapshot.rate_limit_policies {
        let target = &policy.spec.target_ref;
        if target.kind != "API" {
            continue;
        }
        let gen_ = generation(policy);
        let namespace = target.namespace.clone().unwrap_or_else(|| key.namespace.clone());
        let api_key = ObjectKey::new(namespace, target.name.clone());
        let condition = if !(target.group.is_empty() || target.group == DP_GROUP) {
            Condition::new(
                "Accepted",
                false,
                "InvalidKind",
                format!("spec.targetRef.group: {} is not {DP_GROUP}", target.group),
                gen_,
            )
        } else if let Some(api) = snapshot.apis.get(&api_key) {
            match policy_limit(policy) {
                Err(message) => Condition::new("Accepted", false, "Invalid", message, gen_),
                Ok((count, unit, is_override)) => {
                    let _ = api;
                    own.insert(
                        api_key.clone(),
                        ApiLimit {
                            count,
                            unit,
                            is_override,
                            policy: key.to_string(),
                            shadow: shadow_mode(policy),
                        },
                    );
                    Condition::new(
                        "Accepted",
                        true,
                        "Accepted",
                        format!("limits API {api_key}"),
                        gen_,
                    )
                }
            }
        } else {
            Condition::new(
                "Accepted",
                false,
                "TargetNotFound",
                format!("spec.targetRef: API {api_key} not found"),
                gen_,
            )
        };
        statuses.rate_limit_policies.insert(
            key.to_string(),
            PolicyStatus {
                conditions: vec![condition],
            },
        );
    }
    let on_gateways = gateway_api_limits(snapshot);
    for (api_key, api) in &snapshot.apis {
        // A Gateway's override beats the API's own limit, which beats the Gateway's default.
        let gateways = api_gateways(snapshot, api_key, api);
        let from_gateway = |want_override: bool| {
            gateways
                .iter()
                .find_map(|g| on_gateways.get(g).filter(|l| l.is_override == want_override))
        };
        let Some(limit) = from_gateway(true)
            .or(own.get(api_key))
            .or_else(|| from_gateway(false))
        else {
            continue;
        };
        let descriptor = RateLimitDescriptor {
            key: API_DESCRIPTOR.to_string(),
            value: api_key.to_string(),
            from_header: None,
        };
        out.rules.insert(
            descriptor.clone(),
            RateLimitRule {
                descriptor: descriptor.clone(),
                requests_per_unit: limit.count,
                unit: limit.unit,
                policy: limit.policy.clone(),
                shadow: limit.shadow,
                per_subscription: false,
            },
        );
        for (_, route) in api.route_refs() {
            let route_key = ObjectKey::new(api_key.namespace.clone(), route);
            out.by_route.insert(route_key.clone(), descriptor.clone());
            out.overridden.insert(route_key, limit.is_override);
        }
    }
    out
}

/// An API-level limit and where it comes from.
#[derive(Clone, Debug)]
struct ApiLimit {
    count: u32,
    unit: RateLimitUnit,
    is_override: bool,
    policy: String,
    shadow: bool,
}

/// API-level limits set on Gateways (`default.api`/`override.api` with a Gateway target): each
/// API through the Gateway gets that limit as its own counter.
fn gateway_api_limits(snapshot: &Snapshot) -> BTreeMap<ObjectKey, ApiLimit> {
    let mut out = BTreeMap::new();
    for (key, policy) in &snapshot.rate_limit_policies {
        let target = &policy.spec.target_ref;
        if target.kind != "Gateway" {
            continue;
        }
        let Ok((count, unit, is_override)) = policy_limit(policy) else {
            continue;
        };
        let namespace = target.namespace.clone().unwrap_or_else(|| key.namespace.clone());
        // Of two such policies on one Gateway, the first by namespace/name applies.
        out.entry(ObjectKey::new(namespace, target.name.clone()))
            .or_insert(ApiLimit {
                count,
                unit,
                is_override,
                policy: key.to_string(),
                shadow: shadow_mode(policy),
            });
    }
    out
}

/// The Gateways an API's routes name as parents.
fn api_gateways(
    snapshot: &Snapshot,
    api_key: &ObjectKey,
    api: &portcullis_model::apk::api::Api,
) -> Vec<ObjectKey> {
    let mut out = Vec::new();
    for (_, route) in api.route_refs() {
        let route_key = ObjectKey::new(api_key.namespace.clone(), route);
        let Some(route) = snapshot.http_routes.get(&route_key) else {
            continue;
        };
        for parent in route.spec.parent_refs.iter().flatten() {
            let gateway = ObjectKey::new(
                parent
                    .namespace
                    .clone()
                    .unwrap_or_else(|| route_key.namespace.clone()),
                parent.name.clone(),
            );
            if !out.contains(&gateway) {
                out.push(gateway);
            }
        }
    }
    out
}

/// The limit an `ExtensionRef` to a RateLimitPolicy puts on one rule: its own counter,
/// separate from every other rule's.
pub fn operation_limit(
    snapshot: &Snapshot,
    route: &ObjectKey,
    rule_index: usize,
    policy_name: &str,
) -> Result<RateLimitRule, String> {
    let key = ObjectKey::new(route.namespace.clone(), policy_name.to_string());
    let policy = snapshot
        .rate_limit_policies
        .get(&key)
        .ok_or_else(|| format!("RateLimitPolicy {key} not found"))?;
    let (count, unit, _) = policy_limit(policy).map_err(|m| format!("RateLimitPolicy {key}: {m}"))?;
    Ok(RateLimitRule {
        descriptor: RateLimitDescriptor {
            key: OPERATION_DESCRIPTOR.to_string(),
            value: format!("{route}/rule/{rule_index}"),
            from_header: None,
        },
        requests_per_unit: count,
        unit,
        policy: key.to_string(),
        shadow: shadow_mode(policy),
        per_subscription: false,
    })
}

/// Subscription tiers: every RateLimitPolicy with a `subscription.requestCount` is a tier named
/// after the policy (a Subscription's `ratelimitRef.name`). Each subscription (application and
/// API) of the tier has its own counter; without `stopOnQuotaReach` the tier only counts.
pub fn subscription_tiers(snapshot: &Snapshot, statuses: &mut Statuses) -> Vec<RateLimitRule> {
    let mut out = Vec::new();
    for (key, policy) in &snapshot.rate_limit_policies {
        let tier = match (&policy.spec.r#override, &policy.spec.default) {
            (Some(o), _) if o.subscription.is_some() => {
                o.subscription.as_ref().map(|s| ("spec.override.subscription", s))
            }
            (_, Some(d)) if d.subscription.is_some() => {
                d.subscription.as_ref().map(|s| ("spec.default.subscription", s))
            }
            _ => None,
        };
        let Some((field, tier)) = tier else { continue };
        let gen_ = generation(policy);
        let condition = match &tier.request_count {
            None => Condition::new(
                "Accepted",
                false,
                "Invalid",
                format!("{field}.requestCount: a subscription tier needs a request count"),
                gen_,
            ),
            Some(limit) => match parse_limit(&format!("{field}.requestCount"), limit) {
                Err(message) => Condition::new("Accepted", false, "Invalid", message, gen_),
                Ok((count, unit)) => {
                    out.push(RateLimitRule {
                        descriptor: RateLimitDescriptor {
                            key: SUBSCRIPTION_TIER_DESCRIPTOR.to_string(),
                            value: key.name.clone(),
                            from_header: None,
                        },
                        requests_per_unit: count,
                        unit,
                        policy: key.to_string(),
                        shadow: shadow_mode(policy) || !tier.stop_on_quota_reach,
                        per_subscription: true,
                    });
                    Condition::new(
                        "Accepted",
                        true,
                        "Accepted",
                        format!("subscription tier {}", key.name),
                        gen_,
                    )
                }
            },
        };
        statuses.rate_limit_policies.insert(
            key.to_string(),
            PolicyStatus {
                conditions: vec![condition],
            },
        );
    }
    out
}

/// Custom limits of RateLimitPolicies that target a Gateway: every route through the Gateway
/// sends the value of the request header `custom.key`; with `custom.value` only that value is
/// limited, without it each value has its own counter. Returns the limits by Gateway.
pub fn gateway_limits(snapshot: &Snapshot, statuses: &mut Statuses) -> BTreeMap<String, Vec<RateLimitRule>> {
    let mut out: BTreeMap<String, Vec<RateLimitRule>> = BTreeMap::new();
    for (key, policy) in &snapshot.rate_limit_policies {
        let target = &policy.spec.target_ref;
        if target.kind != "Gateway" {
            continue;
        }
        let gen_ = generation(policy);
        let namespace = target.namespace.clone().unwrap_or_else(|| key.namespace.clone());
        let gateway = ObjectKey::new(namespace, target.name.clone());
        let custom = match (&policy.spec.r#override, &policy.spec.default) {
            (Some(o), _) if o.custom.is_some() => o.custom.as_ref().map(|c| ("spec.override.custom", c)),
            (_, Some(d)) => d.custom.as_ref().map(|c| ("spec.default.custom", c)),
            _ => None,
        };
        let condition = if !(target.group.is_empty() || target.group == GATEWAY_GROUP) {
            Condition::new(
                "Accepted",
                false,
                "InvalidKind",
                format!("spec.targetRef.group: {} is not {GATEWAY_GROUP}", target.group),
                gen_,
            )
        } else if !snapshot.gateways.contains_key(&gateway) {
            Condition::new(
                "Accepted",
                false,
                "TargetNotFound",
                format!("spec.targetRef: Gateway {gateway} not found"),
                gen_,
            )
        } else {
            match custom {
                None => match policy_limit(policy) {
                    Ok(_) => Condition::new(
                        "Accepted",
                        true,
                        "Accepted",
                        format!("limits each API through Gateway {gateway}"),
                        gen_,
                    ),
                    Err(_) => Condition::new(
                        "Accepted",
                        false,
                        "Invalid",
                        "spec: a policy on a Gateway needs an api or a custom limit",
                        gen_,
                    ),
                },
                Some((field, custom)) if custom.key.trim().is_empty() => Condition::new(
                    "Accepted",
                    false,
                    "Invalid",
                    format!("{field}.key: the request header to count by is required"),
                    gen_,
                ),
                Some((field, custom)) => {
                    let limit = ApiRateLimitPolicy {
                        requests_per_unit: custom.requests_per_unit,
                        unit: custom.unit.clone(),
                    };
                    match parse_limit(field, &limit) {
                        Err(message) => Condition::new("Accepted", false, "Invalid", message, gen_),
                        Ok((count, unit)) => {
                            out.entry(gateway.to_string()).or_default().push(RateLimitRule {
                                descriptor: RateLimitDescriptor {
                                    key: format!("custom:{key}"),
                                    value: custom.value.clone(),
                                    from_header: Some(custom.key.to_ascii_lowercase()),
                                },
                                requests_per_unit: count,
                                unit,
                                policy: key.to_string(),
                                shadow: shadow_mode(policy),
                                per_subscription: false,
                            });
                            Condition::new(
                                "Accepted",
                                true,
                                "Accepted",
                                format!(
                                    "limits requests through Gateway {gateway} by header {}",
                                    custom.key
                                ),
                                gen_,
                            )
                        }
                    }
                }
            }
        };
        statuses.rate_limit_policies.insert(
            key.to_string(),
            PolicyStatus {
                conditions: vec![condition],
            },
        );
    }
    out
}
