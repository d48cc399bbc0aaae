//! `dp.wso2.com/v1alpha3` RateLimitPolicy: request limits on an API, an operation, a
//! subscription, or custom keys.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyTargetReference;

/// The desired state of a RateLimitPolicy.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha3",
    kind = "RateLimitPolicy",
    root = "RateLimitPolicy",
    plural = "ratelimitpolicies",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitPolicySpec {
    /// Limits that apply unless something more specific sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<RateLimitApiPolicy>,
    /// Limits that win over anything more specific.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#override: Option<RateLimitApiPolicy>,
    /// What the policy applies to: an API, a Gateway (custom limits), or a route rule (through
    /// an `ExtensionRef` filter, in which case the target is not used).
    #[serde(default)]
    pub target_ref: PolicyTargetReference,
}

/// The limits of a policy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitApiPolicy {
    /// Limit on the API or operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiRateLimitPolicy>,
    /// Limit per subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<SubscriptionRateLimitPolicy>,
    /// Limit keyed on a request value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomRateLimitPolicy>,
}

/// Requests per unit of time.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiRateLimitPolicy {
    /// Requests allowed per unit.
    #[serde(default)]
    pub requests_per_unit: i64,
    /// `Minute`, `Hour` or `Day` (and `Second`, for tests).
    #[serde(default)]
    pub unit: String,
}

/// A subscription tier's limit.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionRateLimitPolicy {
    /// Whether requests stop when the quota is reached.
    #[serde(default)]
    pub stop_on_quota_reach: bool,
    /// Organization.
    #[serde(default)]
    pub organization: String,
    /// Request quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_count: Option<ApiRateLimitPolicy>,
    /// Burst control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_control: Option<ApiRateLimitPolicy>,
}

/// A limit keyed on a request value.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomRateLimitPolicy {
    /// Requests allowed per unit.
    #[serde(default)]
    pub requests_per_unit: i64,
    /// `Minute`, `Hour` or `Day` (and `Second`).
    #[serde(default)]
    pub unit: String,
    /// The key.
    #[serde(default)]
    pub key: String,
    /// The value (empty: every value).
    #[serde(default)]
    pub value: String,
    /// Organization.
    #[serde(default)]
    pub organization: String,
}
