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
}

/// The descriptor key for limits shared by every route of an APK API.
pub const API_DESCRIPTOR: &str = "api";
/// The descriptor key for limits on one operation (one rule of one route).
pub const OPERATION_DESCRIPTOR: &str = "operation";

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
    /// `<namespace>/<service>/<port>`.
    pub name: String,
    /// Endpoint addresses (`ip:port`), sorted.
    pub endpoints: Vec<String>,
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
