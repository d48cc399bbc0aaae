//! `dp.wso2.com/v1alpha2` Backend: where APK routes send traffic (the `backendRefs` target of
//! APK's HTTPRoutes), with base path, TLS, credentials, timeouts and retries.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::token_issuer::RefConfig;

/// The desired state of a Backend.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha2",
    kind = "Backend",
    root = "Backend",
    plural = "backends",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct BackendSpec {
    /// Exactly one host and port.
    #[serde(default)]
    pub services: Vec<BackendService>,
    /// `http` (default), `https`, `ws` or `wss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Path prepended to every request's path after the API's base path is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_path: Option<String>,
    /// TLS to the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<BackendTls>,
    /// Credentials the gateway adds for the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<BackendSecurity>,
    /// Connection and request limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Timeouts in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Timeout>,
    /// Retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// TCP health check (parsed; not yet applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<serde_json::Value>,
}

/// A host and port.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct BackendService {
    /// DNS name or IP address (a Service's `name.namespace` or `name.namespace.svc…` too).
    pub host: String,
    /// Port.
    pub port: u32,
}

/// TLS to the backend.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendTls {
    /// Trusted CA, inline PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_inline: Option<String>,
    /// Trusted CA in a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<RefConfig>,
    /// Trusted CA in a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<RefConfig>,
    /// Accepted subject alternative names.
    #[serde(default, rename = "allowedSANs", skip_serializing_if = "Vec::is_empty")]
    pub allowed_sans: Vec<String>,
}

/// Credentials the gateway adds for the backend.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendSecurity {
    /// HTTP Basic credentials from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<BasicSecurity>,
    /// An API key from a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKeySecurity>,
}

/// HTTP Basic credentials.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BasicSecurity {
    /// Where the username and password are.
    pub secret_ref: BasicSecretRef,
}

/// A Secret's username and password keys.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BasicSecretRef {
    /// Secret name, in the Backend's namespace.
    pub name: String,
    /// Key of the username.
    pub username_key: String,
    /// Key of the password.
    pub password_key: String,
}

/// An API key sent to the backend.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeySecurity {
    /// `Header` or `Query`.
    #[serde(default, rename = "in")]
    pub location: String,
    /// Header or parameter name.
    #[serde(default)]
    pub name: String,
    /// Where the value is.
    pub value_from: ValueRef,
}

/// A key of a Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueRef {
    /// Secret name, in the Backend's namespace.
    pub name: String,
    /// Key of the value.
    pub value_key: String,
}

/// Connection and request limits towards the backend.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreaker {
    /// Maximum connections (APK default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Maximum pending requests (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pending_requests: Option<u32>,
    /// Maximum parallel requests (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u32>,
    /// Maximum parallel retries (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Maximum connection pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connection_pools: Option<u32>,
}

/// Timeouts in seconds.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeout {
    /// Whole-response timeout (APK default 15; 0 disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_response_timeout: Option<u32>,
    /// Idle timeout of the request stream (APK default 300; 0 disables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downstream_request_idle_timeout: Option<u32>,
}

/// Retries.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// Number of retries (APK default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Base back-off interval in milliseconds (default 25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_interval_millis: Option<u32>,
    /// Upstream statuses that are retried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_codes: Vec<u32>,
}
