//! apk-conf security and policy settings → Authentication, Scope, RateLimitPolicy, APIPolicy
//! and BackendJWT specs.

use portcullis_model::apk::PolicyTargetReference;
use portcullis_model::apk::api_policy::{CorsPolicy, NameRef, PolicySpec};
use portcullis_model::apk::authentication::{ApiAuth, ApiKeyAuth, AuthSpec, JwtAuth, Oauth2Auth};
use portcullis_model::apk::backend_jwt::{BackendJwtSpec, CustomClaim};
use portcullis_model::apk::rate_limit::{ApiRateLimitPolicy, RateLimitApiPolicy};

use super::GenerateError;
use crate::apk_conf::{
    Authentication, BackendJwtParameters, CorsConfiguration, RateLimit, RateUnit, Requirement,
};

fn requirement(requirement: Requirement) -> String {
    match requirement {
        Requirement::Mandatory => "mandatory",
        Requirement::Optional => "optional",
    }
    .to_owned()
}

/// The accepted schemes of `authentication[]`, as APK maps them. OAuth2 stays on unless an
/// OAuth2 entry turns it off (APK leaves it out, and the data plane's default is on).
pub(crate) fn auth_types(methods: &[Authentication]) -> ApiAuth {
    let mut auth = ApiAuth::default();
    for method in methods {
        match method {
            Authentication::OAuth2(oauth2) => {
                auth.oauth2 = Oauth2Auth {
                    required: Some(requirement(oauth2.required)),
                    disabled: !oauth2.enabled,
                    header: Some(oauth2.header_name.clone()),
                    send_token_to_upstream: oauth2.send_token_to_upstream,
                }
            }
            Authentication::Jwt(jwt) => {
                auth.jwt = JwtAuth {
                    disabled: Some(!jwt.enabled),
                    header: Some(jwt.header_name.clone()),
                    send_token_to_upstream: jwt.send_token_to_upstream,
                    audience: jwt.audience.clone(),
                }
            }
            Authentication::ApiKey(key) if key.enabled => {
                let mut keys = Vec::new();
                if key.header_enable {
                    keys.push(ApiKeyAuth {
                        location: "Header".to_owned(),
                        name: key.header_name.clone(),
                        send_token_to_upstream: key.send_token_to_upstream,
                    });
                }
                if key.query_param_enable {
                    keys.push(ApiKeyAuth {
                        location: "Query".to_owned(),
                        name: key.query_param_name.clone(),
                        send_token_to_upstream: key.send_token_to_upstream,
                    });
                }
                auth.api_key = Some(keys);
            }
            Authentication::ApiKey(_) => {}
            Authentication::Mtls(mtls) => {
                let refs: Vec<serde_json::Value> = mtls
                    .certificates
                    .iter()
                    .map(|c| serde_json::json!({"name": c.name, "key": c.key}))
                    .collect();
                auth.mtls = Some(serde_json::json!({
                    "disabled": !mtls.enabled,
                    "required": requirement(mtls.required),
                    "configMapRefs": refs,
                }));
            }
        }
    }
    auth
}

/// The spec of an API-level Authentication (`default`, as APK writes it).
pub(crate) fn api_authentication(methods: &[Authentication]) -> AuthSpec {
    AuthSpec {
        disabled: Some(false),
        auth_types: Some(auth_types(methods)),
    }
}

/// The spec of the rule-level Authentication that opens an operation.
pub(crate) fn disabled_authentication() -> AuthSpec {
    AuthSpec {
        disabled: Some(true),
        auth_types: None,
    }
}

/// A target reference to the API `id` (kind `API`) or to one of its resources.
pub(crate) fn target(kind: &str, id: &str) -> PolicyTargetReference {
    PolicyTargetReference {
        group: portcullis_model::apk::DP_GROUP.to_owned(),
        kind: kind.to_owned(),
        name: id.to_owned(),
        namespace: None,
    }
}

/// The limits of a RateLimitPolicy.
pub(crate) fn rate_limit(limit: &RateLimit) -> RateLimitApiPolicy {
    RateLimitApiPolicy {
        api: Some(ApiRateLimitPolicy {
            requests_per_unit: i64::from(limit.requests_per_unit),
            unit: match limit.unit {
                RateUnit::Minute => "Minute",
                RateUnit::Hour => "Hour",
                RateUnit::Day => "Day",
            }
            .to_owned(),
        }),
        subscription: None,
        custom: None,
    }
}

/// The CORS policy of an APIPolicy.
pub(crate) fn cors(config: &CorsConfiguration) -> CorsPolicy {
    CorsPolicy {
        enabled: Some(config.cors_configuration_enabled),
        access_control_allow_credentials: config.access_control_allow_credentials.unwrap_or(false),
        access_control_allow_headers: config.access_control_allow_headers.clone().unwrap_or_default(),
        access_control_allow_methods: config.access_control_allow_methods.clone().unwrap_or_default(),
        access_control_allow_origins: config.access_control_allow_origins.clone().unwrap_or_default(),
        access_control_expose_headers: config.access_control_expose_headers.clone().unwrap_or_default(),
        access_control_max_age: config.access_control_allow_max_age,
    }
}

/// Whether an APIPolicy would say nothing.
pub(crate) fn is_empty(spec: &PolicySpec) -> bool {
    spec == &PolicySpec::default()
}

/// A reference to a BackendJWT by name.
pub(crate) fn name_ref(name: &str) -> NameRef {
    NameRef {
        name: name.to_owned(),
    }
}

/// The BackendJWT spec of a `BackendJwt` policy.
pub(crate) fn backend_jwt(
    parameters: Option<&BackendJwtParameters>,
) -> Result<BackendJwtSpec, GenerateError> {
    let Some(parameters) = parameters else {
        return Ok(BackendJwtSpec::default());
    };
    let token_ttl = parameters
        .token_ttl
        .map(u32::try_from)
        .transpose()
        .map_err(|_| GenerateError::InvalidPolicy("BackendJwt tokenTTL is too large".to_owned()))?;
    Ok(BackendJwtSpec {
        encoding: parameters.encoding.clone(),
        header: parameters.header.clone(),
        signing_algorithm: parameters.signing_algorithm.clone(),
        token_ttl,
        custom_claims: parameters.custom_claims.as_ref().map(|claims| {
            claims
                .iter()
                .map(|claim| CustomClaim {
                    claim: claim.claim.clone(),
                    value: claim.value.clone(),
                    claim_type: claim.claim_type.clone(),
                })
                .collect()
        }),
    })
}
