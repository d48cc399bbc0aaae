//! The apk-conf format of WSO2 APK 1.x: types, parsing with located errors, and YAML output
//! in APK's field order.

mod auth;
mod location;
mod parse;
mod policy;
mod types;
mod validate;

pub use auth::{
    ApiKeyAuthentication, Authentication, ConfigMapRef, JwtAuthentication, MtlsAuthentication,
    OAuth2Authentication, Requirement,
};
pub use location::Location;
pub use parse::{ApkConfError, FieldError, parse_apk_conf};
pub use policy::{
    AiModel, ApiPolicies, BackendJwtParameters, CustomClaim, HeaderModifierParameters, InterceptorParameters,
    ModelBasedRoundRobinParameters, Parameters, Policy, PolicySpec, RequestMirrorParameters,
    RequestRedirectParameters,
};
pub use types::{
    AdditionalProperty, AiProvider, AiRatelimit, ApiKeyEndpointSecurity, ApiKeyLocation, ApiType, ApkConf,
    BasicEndpointSecurity, Certificate, CircuitBreaker, CorsConfiguration, Endpoint, EndpointConfiguration,
    EndpointConfigurations, EndpointSecurity, EndpointSecurityType, K8sService, Operation, RateLimit,
    RateUnit, RequestAiRatelimit, Resiliency, RetryPolicy, Timeout, TokenAiRatelimit, Verb,
};

impl ApkConf {
    /// The document as APK writes it: `---` first, fields in APK's order, every string
    /// double-quoted, sequences not indented under their key (Jackson's YAML style).
    pub fn to_yaml(&self) -> String {
        match serde_yaml::to_value(self) {
            Ok(value) => crate::yaml_out::to_jackson_yaml(&value),
            // Unreachable: these types hold only strings, integers, booleans, sequences and
            // string-keyed mappings, which always serialise.
            Err(error) => {
                tracing::error!(%error, "apk-conf did not serialise");
                String::new()
            }
        }
    }
}
