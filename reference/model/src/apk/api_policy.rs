//! `dp.wso2.com/v1alpha4` APIPolicy: CORS, backend JWT and subscription validation for an API,
//! a Gateway or a route rule.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyTargetReference;

/// The desired state of an APIPolicy.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha4",
    kind = "APIPolicy",
    root = "ApiPolicy",
    plural = "apipolicies",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct ApiPolicySpec {
    /// Applies unless something more specific sets its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<PolicySpec>,
    /// Wins over anything more specific.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#override: Option<PolicySpec>,
    /// The API or Gateway it applies to; unused when attached as an `ExtensionRef` filter.
    #[serde(default)]
    pub target_ref: PolicyTargetReference,
}

/// The policies.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicySpec {
    /// Request interceptor services (parsed; not yet applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_interceptors: Option<Vec<NameRef>>,
    /// Response interceptor services (parsed; not yet applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_interceptors: Option<Vec<NameRef>>,
    /// The BackendJWT resource configuring the JWT sent to the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_jwt_policy: Option<NameRef>,
    /// CORS.
    #[serde(default, rename = "cORSPolicy", skip_serializing_if = "Option::is_none")]
    pub cors_policy: Option<CorsPolicy>,
    /// Whether tokens must come from an application subscribed to the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_validation: Option<bool>,
    /// AI provider (parsed; not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_provider: Option<serde_json::Value>,
    /// Model-based round robin (parsed; not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_based_round_robin: Option<serde_json::Value>,
}

/// A reference to a resource in the same namespace, by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct NameRef {
    /// Name of the resource.
    #[serde(default)]
    pub name: String,
}

/// Cross-origin resource sharing.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorsPolicy {
    /// Whether CORS is on (APK default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `Access-Control-Allow-Credentials`.
    #[serde(default)]
    pub access_control_allow_credentials: bool,
    /// `Access-Control-Allow-Headers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_control_allow_headers: Vec<String>,
    /// `Access-Control-Allow-Methods`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_control_allow_methods: Vec<String>,
    /// Allowed origins; `*` allows any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_control_allow_origins: Vec<String>,
    /// `Access-Control-Expose-Headers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_control_expose_headers: Vec<String>,
    /// `Access-Control-Max-Age` in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_max_age: Option<i64>,
}
