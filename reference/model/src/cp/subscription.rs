//! `cp.wso2.com/v1alpha3` Subscription: an API (name and version) that applications mapped to
//! it may call, with its rate-limit tier.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired state of a Subscription.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cp.wso2.com",
    version = "v1alpha3",
    kind = "Subscription",
    root = "Subscription",
    plural = "subscriptions",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionSpec {
    /// `ACTIVE` lets calls through; anything else (e.g. `BLOCKED`) does not.
    #[serde(default)]
    pub subscription_status: String,
    /// Organization.
    #[serde(default)]
    pub organization: String,
    /// The subscribed API.
    #[serde(default)]
    pub api: SubscribedApi,
    /// The subscription's rate-limit tier.
    #[serde(default)]
    pub ratelimit_ref: RatelimitRef,
}

/// An API by name and version.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SubscribedApi {
    /// API name.
    #[serde(default)]
    pub name: String,
    /// API version (a regular expression in APK; an exact version or `*` here).
    #[serde(default)]
    pub version: String,
}

/// A rate-limit tier.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct RatelimitRef {
    /// Tier name (a subscription RateLimitPolicy's name).
    #[serde(default)]
    pub name: String,
    /// Tier level.
    #[serde(default)]
    pub level: String,
}
