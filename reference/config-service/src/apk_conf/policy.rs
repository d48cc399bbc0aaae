//! Request/response policies, told apart by `policyName`.

use serde::{Deserialize, Serialize};

/// Policies of an API or an operation, per flow.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiPolicies {
    /// Applied to requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Vec<Policy>>,
    /// Applied to responses (Interceptor, BackendJwt and header policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Vec<Policy>>,
}

/// One policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policyName")]
pub enum Policy {
    /// Adds a header.
    AddHeader(PolicySpec<HeaderModifierParameters>),
    /// Sets (replaces) a header.
    SetHeader(PolicySpec<HeaderModifierParameters>),
    /// Removes a header.
    RemoveHeader(PolicySpec<HeaderModifierParameters>),
    /// Calls an interceptor service.
    Interceptor(PolicySpec<Option<InterceptorParameters>>),
    /// Sends a JWT describing the caller to the backend.
    BackendJwt(PolicySpec<Option<BackendJwtParameters>>),
    /// Mirrors requests to other URLs.
    RequestMirror(PolicySpec<RequestMirrorParameters>),
    /// Redirects requests.
    RequestRedirect(PolicySpec<RequestRedirectParameters>),
    /// Spreads requests over AI models by weight.
    ModelBasedRoundRobin(PolicySpec<ModelBasedRoundRobinParameters>),
}

impl Policy {
    /// The `policyName` of this policy.
    pub fn name(&self) -> &'static str {
        match self {
            Policy::AddHeader(_) => "AddHeader",
            Policy::SetHeader(_) => "SetHeader",
            Policy::RemoveHeader(_) => "RemoveHeader",
            Policy::Interceptor(_) => "Interceptor",
            Policy::BackendJwt(_) => "BackendJwt",
            Policy::RequestMirror(_) => "RequestMirror",
            Policy::RequestRedirect(_) => "RequestRedirect",
            Policy::ModelBasedRoundRobin(_) => "ModelBasedRoundRobin",
        }
    }

    /// Whether APK allows this policy in the response flow.
    pub fn allowed_in_response(&self) -> bool {
        matches!(
            self,
            Policy::AddHeader(_)
                | Policy::SetHeader(_)
                | Policy::RemoveHeader(_)
                | Policy::Interceptor(_)
                | Policy::BackendJwt(_)
        )
    }
}

/// What every policy carries besides its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec<P: Parameters> {
    /// Policy version; `v1` unless told.
    #[serde(default = "v1")]
    pub policy_version: String,
    /// Policy id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Parameters of the policy.
    #[serde(skip_serializing_if = "Parameters::is_absent")]
    pub parameters: P,
}

fn v1() -> String {
    "v1".to_owned()
}

/// Parameters of a policy; some policies may leave them out.
pub trait Parameters {
    /// Whether there is nothing to write.
    fn is_absent(&self) -> bool {
        false
    }
}

impl<T> Parameters for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

/// Header to add, set or remove.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderModifierParameters {
    /// Header name.
    pub header_name: String,
    /// Header value (not for RemoveHeader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_value: Option<String>,
}
impl Parameters for HeaderModifierParameters {}

/// Interceptor service settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InterceptorParameters {
    /// URL of the interceptor service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_url: Option<String>,
    /// Send headers to the interceptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers_enabled: Option<bool>,
    /// Send the body to the interceptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_enabled: Option<bool>,
    /// Send trailers to the interceptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailers_enabled: Option<bool>,
    /// Send request context to the interceptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_enabled: Option<bool>,
    /// Secret with the interceptor's TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret_name: Option<String>,
    /// Key of the certificate in that Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret_key: Option<String>,
}

/// Backend JWT settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendJwtParameters {
    /// Encoding of the token header value (e.g. `Base64`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Signing algorithm (e.g. `SHA256withRSA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    /// Header carrying the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Token lifetime in seconds.
    #[serde(rename = "tokenTTL", default, skip_serializing_if = "Option::is_none")]
    pub token_ttl: Option<u64>,
    /// Extra claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_claims: Option<Vec<CustomClaim>>,
}

/// An extra claim of the backend JWT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomClaim {
    /// Claim name.
    pub claim: String,
    /// Claim value.
    pub value: String,
    /// Claim type; `string` unless told.
    #[serde(rename = "type", default = "string_type")]
    pub claim_type: String,
}

fn string_type() -> String {
    "string".to_owned()
}

/// URLs that receive a copy of each request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestMirrorParameters {
    /// Mirror URLs.
    pub urls: Vec<String>,
}
impl Parameters for RequestMirrorParameters {}

/// Where to redirect requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestRedirectParameters {
    /// Redirect target.
    pub url: String,
    /// 301 or 302 (APK's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
}
impl Parameters for RequestRedirectParameters {}

/// Weighted round robin over AI models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelBasedRoundRobinParameters {
    /// Seconds a model is skipped after it ran out of quota.
    pub on_quota_exceed_suspend_duration: u64,
    /// Models for production traffic.
    pub production_models: Vec<AiModel>,
    /// Models for sandbox traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_models: Option<Vec<AiModel>>,
}
impl Parameters for ModelBasedRoundRobinParameters {}

/// One AI model and its share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiModel {
    /// Model name.
    pub model: String,
    /// Backend serving the model.
    pub endpoint: String,
    /// Weight of the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}
