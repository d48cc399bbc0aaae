//! The intermediate representation: what the gateway must do, with every Gateway API decision
//! already made and no Kubernetes or Envoy types left. Everything is sorted.

use serde::Serialize;

/// The whole data plane.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ir {
    /// One per Gateway port.
    pub listeners: Vec<Listener>,
    /// Backends referenced by some route.
    pub clusters: Vec<Cluster>,
    /// TLS certificates referenced by some listener.
    pub secrets: Vec<TlsSecret>,
    /// Limits the rate-limit service enforces, by descriptor.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<RateLimitRule>,
    /// What the enforcer checks: trusted issuers, per-operation security, applications.
    #[serde(skip_serializing_if = "Security::is_empty")]
    pub security: Security,
}

/// The descriptor key for limits shared by every route of an APK API.
pub const API_DESCRIPTOR: &str = "api";
/// The descriptor key for limits on one operation (one rule of one route).
pub const OPERATION_DESCRIPTOR: &str = "operation";
/// The descriptor key of a subscription tier (its value is the tier's name). Requests of
/// secured API routes send it from the enforcer's identity, followed by the application
/// ([`APPLICATION_DESCRIPTOR`]) and the API ([`SUBSCRIBED_API_DESCRIPTOR`]).
pub const SUBSCRIPTION_TIER_DESCRIPTOR: &str = "subscription_tier";
/// The descriptor key of the calling application (a tier's counters are per application and API).
pub const APPLICATION_DESCRIPTOR: &str = "application";
/// The descriptor key of the API a subscription is to.
pub const SUBSCRIBED_API_DESCRIPTOR: &str = "subscribed_api";

/// One descriptor entry a route sends to the rate-limit service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RateLimitDescriptor {
    /// `api`, `operation`, or `custom:<policy>`.
    pub key: String,
    /// Which API or operation; for a custom limit the header value limited (empty: every value
    /// counted on its own).
    pub value: String,
    /// For a custom limit, the request header whose value is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_header: Option<String>,
}

impl RateLimitDescriptor {
    /// The descriptor a secured API route sends for subscription tiers: tier and application
    /// from the enforcer's identity, then the API.
    pub fn subscription(api: &str) -> Self {
        RateLimitDescriptor {
            key: SUBSCRIPTION_TIER_DESCRIPTOR.to_string(),
            value: api.to_string(),
            from_header: None,
        }
    }
}

/// A window unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum RateLimitUnit {
    /// One second (for tests).
    Second,
    /// One minute.
    Minute,
    /// One hour.
    Hour,
    /// One day.
    Day,
}

/// A limit on one descriptor.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RateLimitRule {
    /// The descriptor it limits.
    pub descriptor: RateLimitDescriptor,
    /// Requests allowed per window.
    pub requests_per_unit: u32,
    /// The window.
    pub unit: RateLimitUnit,
    /// The policy it comes from, `namespace/name`.
    pub policy: String,
    /// Count and report, but never throttle.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shadow: bool,
    /// A subscription tier: counted per application and API under the tier.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub per_subscription: bool,
}

/// A socket Envoy listens on: one Gateway port, possibly shared by several Gateway listeners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// `<namespace>/<gateway>/<port>`.
    pub name: String,
    /// The Gateway's declared port.
    pub port: i32,
    /// Where it binds.
    pub bind: String,
    /// Plain HTTP or TLS-terminating HTTPS.
    pub protocol: Protocol,
    /// For HTTP: the route table. For HTTPS: empty (each TLS chain has its own).
    pub virtual_hosts: Vec<VirtualHost>,
    /// For HTTPS: one chain per Gateway listener, selected by SNI.
    pub tls_chains: Vec<TlsChain>,
    /// Requests go through unchecked when the enforcer cannot be reached.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub enforcer_fail_open: bool,
}

/// A listener protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Protocol {
    /// Cleartext HTTP/1.1 (and h2c).
    Http,
    /// HTTPS terminated at the gateway.
    Https,
}

/// A TLS filter chain of an HTTPS port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlsChain {
    /// `<listener name>/<gateway listener name>`: also the route table's name.
    pub name: String,
    /// SNI names it answers (empty: any).
    pub server_names: Vec<String>,
    /// The certificates' secret names.
    pub secrets: Vec<String>,
    /// Its route table.
    pub virtual_hosts: Vec<VirtualHost>,
}

/// Routes for one hostname.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VirtualHost {
    /// The hostname (`*` for any, `*.example.com` for a wildcard).
    pub hostname: String,
    /// In match order: the first that matches wins.
    pub routes: Vec<Route>,
}

/// One match of one rule of one route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// `<namespace>/<route>/rule/<i>/match/<j>`: stable, for logs and stats.
    pub name: String,
    /// What requests it takes.
    pub matcher: RouteMatch,
    /// Request headers to set, add and remove before forwarding.
    pub request_headers: HeaderModifier,
    /// Response headers to set, add and remove.
    pub response_headers: HeaderModifier,
    /// What to do with them.
    pub action: Action,
    /// Rate-limit descriptors sent for it, one request to the limiter each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<RateLimitDescriptor>,
    /// Path rewrite before forwarding (an APK API's base path becomes its Backend's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_rewrite: Option<PathRewrite>,
    /// Upstream behaviour from an APK Backend: timeout and retries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<UpstreamPolicy>,
    /// What the enforcer checks; none for routes outside APK APIs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforcer: Option<EnforcerCheck>,
    /// CORS answered by Envoy for this route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
}

/// What the enforcer is asked about a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum EnforcerCheck {
    /// An operation whose security is in [`Security::operations`].
    Operation(String),
    /// An API route open to everyone (security disabled, or a CORS preflight).
    Public,
}

/// A regular-expression path rewrite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathRewrite {
    /// RE2 pattern matched against the path (without the query).
    pub pattern: String,
    /// Replacement.
    pub substitution: String,
}

/// Upstream timeout and retries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamPolicy {
    /// Whole-response timeout in seconds (0 disables).
    pub timeout_seconds: u32,
    /// Stream idle timeout in seconds (0 disables).
    pub idle_timeout_seconds: u32,
    /// Retries, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

/// Retries of failed upstream attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// Number of retries.
    pub count: u32,
    /// Base back-off in milliseconds.
    pub base_interval_millis: u32,
    /// Retried statuses; empty means connection failures and 5xx.
    pub status_codes: Vec<u32>,
}

/// Cross-origin resource sharing on a route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cors {
    /// Allowed origins (`*` for any).
    pub allow_origins: Vec<String>,
    /// Allowed methods.
    pub allow_methods: Vec<String>,
    /// Allowed request headers.
    pub allow_headers: Vec<String>,
    /// Headers the browser may read.
    pub expose_headers: Vec<String>,
    /// Preflight cache lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
}

/// Everything the enforcer needs, resolved from APK resources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Security {
    /// Trusted token issuers, by TokenIssuer `namespace/name`.
    pub issuers: Vec<Issuer>,
    /// Security of each operation (an API route rule), by operation id.
    pub operations: std::collections::BTreeMap<String, OperationSecurity>,
    /// Client applications and their subscriptions.
    pub applications: Vec<Application>,
}

impl Security {
    /// Whether nothing is secured.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty() && self.operations.is_empty() && self.applications.is_empty()
    }
}

/// A trusted JWT issuer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    /// `namespace/name` of the TokenIssuer.
    pub name: String,
    /// Expected `iss`.
    pub issuer: String,
    /// Organization.
    pub organization: String,
    /// Claim naming the client application.
    pub consumer_key_claim: String,
    /// Claim carrying the scopes.
    pub scopes_claim: String,
    /// JWKS URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// PEM certificate or public key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
    /// Remote claim → local claim.
    pub claim_mappings: Vec<(String, String)>,
    /// Environments whose APIs accept it (empty: all).
    pub environments: Vec<String>,
}

/// Production or sandbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum KeyType {
    /// Production routes and keys.
    #[default]
    Production,
    /// Sandbox routes and keys.
    Sandbox,
}

/// What one operation requires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationSecurity {
    /// No credentials needed.
    pub disabled: bool,
    /// Bearer tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<TokenHeader>,
    /// Raw JWTs in a header (APK's `JWT` type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<TokenHeader>,
    /// API keys: (`Header`|`Query`, name, send upstream).
    pub api_keys: Vec<ApiKeyPlace>,
    /// Scopes a token must all carry.
    pub scopes: Vec<String>,
    /// API name.
    pub api_name: String,
    /// API version.
    pub api_version: String,
    /// API base path (its context).
    pub api_context: String,
    /// Organization.
    pub organization: String,
    /// APK environment.
    pub environment: String,
    /// Production or sandbox route.
    pub key_type: KeyType,
    /// Tokens must come from an application subscribed to the API.
    pub subscription_validation: bool,
    /// JWT sent to the backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_jwt: Option<BackendJwt>,
}

/// Where a token is read and whether the backend sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenHeader {
    /// Header name (lower-case).
    pub header: String,
    /// Keep it on the upstream request.
    pub send_token_to_upstream: bool,
    /// Mandatory (else optional when another credential is given).
    pub mandatory: bool,
    /// Accepted audiences (empty: any).
    pub audiences: Vec<String>,
}

/// One place an API key may be presented.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyPlace {
    /// In a query parameter rather than a header.
    pub in_query: bool,
    /// Header or parameter name.
    pub name: String,
    /// Keep it on the upstream request.
    pub send_token_to_upstream: bool,
}

/// The JWT the gateway signs for the backend.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendJwt {
    /// Header name.
    pub header: String,
    /// `Base64` or `Base64url`.
    pub encoding: String,
    /// Lifetime in seconds.
    pub ttl_seconds: u32,
    /// Extra claims: (name, value, type).
    pub custom_claims: Vec<(String, String, String)>,
}

/// A client application, its consumer keys and its subscriptions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `namespace/name` of the Application.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Owner.
    pub owner: String,
    /// Organization.
    pub organization: String,
    /// (consumer key, key type, environment).
    pub consumer_keys: Vec<(String, KeyType, String)>,
    /// Subscriptions.
    pub subscriptions: Vec<SubscriptionIr>,
}

/// A subscription of an application to an API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionIr {
    /// `namespace/name` of the Subscription.
    pub id: String,
    /// API name.
    pub api_name: String,
    /// API version (or `*`).
    pub api_version: String,
    /// `ACTIVE` passes.
    pub status: String,
    /// Rate-limit tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_tier: Option<String>,
}

/// How a request's path is matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum PathMatch {
    /// The whole path equals the value.
    Exact(String),
    /// The path starts with the value at a segment boundary; `/` matches everything.
    Prefix(String),
    /// The path matches the regular expression (RE2 syntax).
    Regex(String),
}

/// How a header or query parameter value is matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ValueMatch {
    /// Equals.
    Exact(String),
    /// Matches the regular expression.
    Regex(String),
}

/// A request matcher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteMatch {
    /// Path.
    pub path: PathMatch,
    /// HTTP method, if constrained.
    pub method: Option<String>,
    /// Headers (lower-case names), all must match.
    pub headers: Vec<(String, ValueMatch)>,
    /// Query parameters, all must match.
    pub query_params: Vec<(String, ValueMatch)>,
}

/// Header changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeaderModifier {
    /// Replace or add.
    pub set: Vec<(String, String)>,
    /// Append.
    pub add: Vec<(String, String)>,
    /// Remove.
    pub remove: Vec<String>,
}

impl HeaderModifier {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// What a route does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Action {
    /// Forward to backends, split by weight.
    Forward(Vec<WeightedBackend>),
    /// Answer with a redirect.
    Redirect(Redirect),
    /// Answer directly with a status (500 for a rule whose backends are all invalid).
    Respond {
        /// HTTP status.
        status: u32,
        /// Why, for people reading the IR.
        reason: String,
    },
}

/// The cluster that stands for the share of invalid backendRefs in a split with valid ones. No
/// cluster has this name (real ones are `<namespace>/<service>/<port>`), and requests sent to
/// it get a 500, as the Gateway API requires.
pub const INVALID_BACKEND: &str = "portcullis.invalid-backend";

/// As [`INVALID_BACKEND`] for GRPCRoutes, whose invalid share must get `UNAVAILABLE`: Envoy
/// answers 503 for it, which gRPC clients read as that status.
pub const UNAVAILABLE_BACKEND: &str = "portcullis.unavailable-backend";

/// A backend and its share of the traffic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeightedBackend {
    /// Cluster name.
    pub cluster: String,
    /// Relative weight.
    pub weight: u32,
}

/// A redirect.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Redirect {
    /// New scheme.
    pub scheme: Option<String>,
    /// New host.
    pub hostname: Option<String>,
    /// New port.
    pub port: Option<u32>,
    /// New path: the full path or a prefix replacement.
    pub path: Option<RedirectPath>,
    /// 301 or 302 (default 302).
    pub status: u32,
}

/// A redirect's path change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum RedirectPath {
    /// Replace the whole path.
    Full(String),
    /// Replace the matched prefix.
    Prefix(String),
}

/// A backend: a Service port and the addresses behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// `<namespace>/<service>/<port>`, or `backend:<namespace>/<name>` for an APK Backend.
    pub name: String,
    /// Endpoint addresses (`ip:port`, or `host:port` when `dns`), sorted.
    pub endpoints: Vec<String>,
    /// Endpoints are DNS names Envoy resolves.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dns: bool,
    /// TLS to the backend, with this SNI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_sni: Option<String>,
    /// Connection and request limits: (connections, pending, requests, retries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<(u32, u32, u32, u32)>,
    /// Speak HTTP/2 to the backend (h2c without TLS): gRPC backends, and Service ports with
    /// `appProtocol: kubernetes.io/h2c`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub http2: bool,
}

/// A TLS certificate and key, from a Secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlsSecret {
    /// `<namespace>/<secret>`.
    pub name: String,
    /// PEM certificate chain.
    #[serde(skip)]
    pub certificate_chain: Vec<u8>,
    /// PEM private key.
    #[serde(skip)]
    pub private_key: Vec<u8>,
}
