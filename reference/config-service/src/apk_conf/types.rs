//! The apk-conf document: APK 1.x's `APKConf` and the records it holds.
//!
//! Field order follows APK's Ballerina records (`types.bal`), which is the order APK writes
//! them back; defaults that APK fills in when it reads a document are filled in here too.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::auth::Authentication;
use super::policy::ApiPolicies;

/// One API described in APK's apk-conf format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApkConf {
    /// API id; the Deployer derives one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// API name (1–60 characters).
    pub name: String,
    /// Context the API is served under; starts with `/`.
    pub base_path: String,
    /// API version (1–30 characters, no reserved characters).
    pub version: String,
    /// Kind of API; REST unless told.
    #[serde(rename = "type", default)]
    pub api_type: ApiType,
    /// Path that exposes the API definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition_path: Option<String>,
    /// Whether this version also answers without the version in the path.
    #[serde(default)]
    pub default_version: bool,
    /// Whether subscriptions are checked.
    #[serde(default)]
    pub subscription_validation: bool,
    /// Environment label of the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Production and sandbox backends of the whole API. Required, so always written (`{}`
    /// when empty): leaving it out made printed documents that no longer parse.
    pub endpoint_configurations: EndpointConfigurations,
    /// AI provider of an AI API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_provider: Option<AiProvider>,
    /// Resources of the API.
    pub operations: Vec<Operation>,
    /// Request/response policies applied to every operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_policies: Option<ApiPolicies>,
    /// API-level rate limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Authentication methods; APK's defaults apply when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Vec<Authentication>>,
    /// Free-form name/value properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_properties: Option<Vec<AdditionalProperty>>,
    /// CORS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<CorsConfiguration>,
}

/// Kind of API (`type` in apk-conf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ApiType {
    /// HTTP/REST API (the default).
    #[default]
    #[serde(rename = "REST")]
    Rest,
    /// GraphQL API.
    #[serde(rename = "GRAPHQL")]
    Graphql,
    /// gRPC API.
    #[serde(rename = "GRPC")]
    Grpc,
    /// WebSocket API.
    #[serde(rename = "WEBSOCKET")]
    Websocket,
}

impl ApiType {
    /// The spelling APK uses (`REST`, `GRAPHQL`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ApiType::Rest => "REST",
            ApiType::Graphql => "GRAPHQL",
            ApiType::Grpc => "GRPC",
            ApiType::Websocket => "WEBSOCKET",
        }
    }
}

impl fmt::Display for ApiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Production and sandbox backends.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointConfigurations {
    /// Backends for production traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<Vec<EndpointConfiguration>>,
    /// Backends for sandbox traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<Vec<EndpointConfiguration>>,
}

impl EndpointConfigurations {
    /// Whether neither production nor sandbox backends are given.
    pub fn is_empty(&self) -> bool {
        self.production.is_none() && self.sandbox.is_none()
    }
}

/// One backend and how to reach it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointConfiguration {
    /// URL or Kubernetes Service of the backend.
    pub endpoint: Endpoint,
    /// Credentials sent to the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_security: Option<EndpointSecurity>,
    /// CA certificate used to verify the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Timeouts, retries and circuit breaking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resiliency: Option<Resiliency>,
    /// Token and request limits of an AI backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_ratelimit: Option<AiRatelimit>,
    /// Weight in weighted routing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}

/// A backend: a URL string, or a Kubernetes Service reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Endpoint {
    /// `http(s)://host[:port][/path]`.
    Url(String),
    /// A Service in the cluster.
    Service(K8sService),
}

impl<'de> Deserialize<'de> for Endpoint {
    // Hand-written so that errors inside a K8sService keep their field path (an untagged
    // enum would only say that no variant matched).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EndpointVisitor;
        impl<'de> serde::de::Visitor<'de> for EndpointVisitor {
            type Value = Endpoint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a URL string or a K8sService {name, namespace, port, protocol}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Endpoint, E> {
                Ok(Endpoint::Url(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Endpoint, A::Error> {
                K8sService::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Endpoint::Service)
            }
        }
        deserializer.deserialize_any(EndpointVisitor)
    }
}

/// A Kubernetes Service used as a backend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct K8sService {
    /// Service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Service namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Service port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `http` or `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// Credentials APK adds to requests sent to the backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointSecurity {
    /// Whether backend security is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Basic or API-key credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_type: Option<EndpointSecurityType>,
}

/// Basic or API-key backend credentials; told apart by their fields, as APK's schema does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EndpointSecurityType {
    /// Username and password from a Secret.
    Basic(BasicEndpointSecurity),
    /// An API key from a Secret.
    ApiKey(ApiKeyEndpointSecurity),
}

/// Basic credentials kept in a Secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BasicEndpointSecurity {
    /// Secret holding the credentials.
    pub secret_name: String,
    /// Key of the username in the Secret.
    pub user_name_key: String,
    /// Key of the password in the Secret.
    pub password_key: String,
}

/// An API key kept in a Secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyEndpointSecurity {
    /// Secret holding the key.
    pub secret_name: String,
    /// Where the key is sent.
    #[serde(rename = "in", default)]
    pub location: ApiKeyLocation,
    /// Key of the header/query name in the Secret.
    pub api_key_name_key: String,
    /// Key of the API key value in the Secret.
    pub api_key_value_key: String,
}

/// Where a backend API key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ApiKeyLocation {
    /// In a header (APK's default).
    #[default]
    Header,
    /// In the query string.
    Query,
}

/// A certificate kept in a Secret.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Certificate {
    /// Secret name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Key in the Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
}

/// Timeouts, retries and circuit breaking of a backend.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resiliency {
    /// Connection and request caps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Timeouts in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Timeout>,
    /// Retry policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
}

/// Circuit-breaker caps.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CircuitBreaker {
    /// Maximum connection pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connection_pools: Option<u32>,
    /// Maximum connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Maximum pending requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pending_requests: Option<u32>,
    /// Maximum parallel requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u32>,
    /// Maximum parallel retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
}

/// Timeouts, in seconds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timeout {
    /// Idle timeout of the downstream request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downstream_request_idle_timeout: Option<u32>,
    /// Timeout for the upstream response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_response_timeout: Option<u32>,
}

/// Retries of failed backend calls.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryPolicy {
    /// Number of retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Base back-off interval in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_interval_millis: Option<u32>,
    /// Status codes that trigger a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_codes: Option<Vec<u16>>,
}

/// Token and request limits of an AI backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiRatelimit {
    /// Whether the limits apply.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Token limits.
    pub token: TokenAiRatelimit,
    /// Request limits.
    pub request: RequestAiRatelimit,
}

/// Token limits of an AI backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenAiRatelimit {
    /// Prompt tokens per unit.
    #[serde(default)]
    pub prompt_limit: u64,
    /// Completion tokens per unit.
    #[serde(default)]
    pub completion_limit: u64,
    /// Total tokens per unit.
    #[serde(default)]
    pub total_limit: u64,
    /// Unit of time.
    #[serde(default)]
    pub unit: RateUnit,
}

/// Request limits of an AI backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestAiRatelimit {
    /// Requests per unit.
    #[serde(default)]
    pub request_limit: u64,
    /// Unit of time.
    #[serde(default)]
    pub unit: RateUnit,
}

/// AI provider of an AI API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiProvider {
    /// Provider name (an AIProvider resource).
    pub name: String,
    /// Provider API version.
    pub api_version: String,
}

/// One resource of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
    /// Path template (REST), field name (GraphQL) or method (gRPC).
    pub target: String,
    /// HTTP method (REST), QUERY/MUTATION/SUBSCRIPTION (GraphQL), or gRPC method.
    pub verb: Verb,
    /// Whether authentication applies; see [`Operation::is_secured`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secured: Option<bool>,
    /// Backends for this operation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_configurations: Option<EndpointConfigurations>,
    /// Policies for this operation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_policies: Option<ApiPolicies>,
    /// Rate limit for this operation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// OAuth2 scopes required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

impl Operation {
    /// Whether authentication applies (APK's default: yes).
    pub fn is_secured(&self) -> bool {
        self.secured.unwrap_or(true)
    }
}

/// An operation's verb, kept as written; checked against the API type on parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Verb(pub String);

impl Verb {
    /// HTTP methods a REST operation may use (APK's supported methods).
    pub const HTTP_METHODS: [&'static str; 7] = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    /// Operation kinds of a GraphQL API.
    pub const GRAPHQL_OPERATIONS: [&'static str; 3] = ["QUERY", "MUTATION", "SUBSCRIPTION"];

    /// The verb as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed per unit (> 0).
    pub requests_per_unit: u32,
    /// Unit of time.
    pub unit: RateUnit,
}

/// Unit of time of a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RateUnit {
    /// Per minute.
    #[default]
    Minute,
    /// Per hour.
    Hour,
    /// Per day.
    Day,
}

/// A free-form property of the API.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdditionalProperty {
    /// Property name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Property value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// CORS settings of the API.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CorsConfiguration {
    /// Whether CORS handling is on.
    #[serde(default)]
    pub cors_configuration_enabled: bool,
    /// Allowed origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_allow_origins: Option<Vec<String>>,
    /// Whether credentials are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_allow_credentials: Option<bool>,
    /// Allowed request headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_allow_headers: Option<Vec<String>>,
    /// Allowed methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_allow_methods: Option<Vec<String>>,
    /// Max age of a preflight answer, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_allow_max_age: Option<i64>,
    /// Response headers exposed to the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_control_expose_headers: Option<Vec<String>>,
}

pub(crate) fn yes() -> bool {
    true
}
