//! Endpoints (URLs or Kubernetes Services) → `dp.wso2.com` Backends.

use portcullis_model::apk::backend::{
    ApiKeySecurity, BackendSecurity, BackendService, BackendSpec, BackendTls, BasicSecretRef, BasicSecurity,
    CircuitBreaker, Retry, Timeout, ValueRef,
};
use portcullis_model::apk::token_issuer::RefConfig;

use super::GenerateError;
use crate::apk_conf::{ApiKeyLocation, Endpoint, EndpointConfiguration, EndpointSecurityType, K8sService};

/// Where an endpoint is: protocol, host, port and path, as APK reads a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub protocol: String,
    pub host: String,
    pub port: u32,
    /// Path after the authority; empty when the URL has none.
    pub path: String,
}

/// Splits `http(s)://host[:port][/path]`; other schemes are rejected, as APK rejects them.
pub(crate) fn parse_url(url: &str) -> Result<Target, GenerateError> {
    let invalid = |reason: &str| GenerateError::InvalidEndpoint {
        endpoint: url.to_owned(),
        reason: reason.to_owned(),
    };
    let (protocol, rest, default_port) = if let Some(rest) = url.strip_prefix("https://") {
        ("https", rest, 443)
    } else if let Some(rest) = url.strip_prefix("http://") {
        ("http", rest, 80)
    } else {
        return Err(invalid("only http:// and https:// URLs are supported"));
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .map_err(|_| invalid("the port is not a number from 0 to 65535"))?,
        ),
        None => (authority, default_port),
    };
    if host.is_empty() {
        return Err(invalid("the host is empty"));
    }
    Ok(Target {
        protocol: protocol.to_owned(),
        host: host.to_owned(),
        port: u32::from(port),
        path: path.to_owned(),
    })
}

/// Where a Service endpoint is: `name.namespace` (the namespace defaults to the API's).
fn service_target(service: &K8sService, namespace: &str) -> Result<Target, GenerateError> {
    let name = service
        .name
        .as_deref()
        .ok_or_else(|| GenerateError::InvalidEndpoint {
            endpoint: format!("{service:?}"),
            reason: "a K8sService endpoint needs a name".to_owned(),
        })?;
    let protocol = service.protocol.clone().unwrap_or_else(|| "http".to_owned());
    let default_port = if protocol == "https" { 443 } else { 80 };
    Ok(Target {
        host: format!("{name}.{}", service.namespace.as_deref().unwrap_or(namespace)),
        port: u32::from(service.port.unwrap_or(default_port)),
        protocol,
        path: String::new(),
    })
}

/// The target of any endpoint.
pub(crate) fn target(endpoint: &Endpoint, namespace: &str) -> Result<Target, GenerateError> {
    match endpoint {
        Endpoint::Url(url) => parse_url(url),
        Endpoint::Service(service) => service_target(service, namespace),
    }
}

/// The Backend spec of one endpoint configuration.
pub(crate) fn backend_spec(target: &Target, config: &EndpointConfiguration) -> BackendSpec {
    let mut spec = BackendSpec {
        services: vec![BackendService {
            host: target.host.clone(),
            port: target.port,
        }],
        protocol: Some(target.protocol.clone()),
        base_path: (!target.path.is_empty()).then(|| target.path.clone()),
        ..BackendSpec::default()
    };
    // APK adds credentials only when security is explicitly enabled.
    if let Some(security) = &config.endpoint_security
        && security.enabled == Some(true)
    {
        spec.security = security.security_type.as_ref().map(|kind| match kind {
            EndpointSecurityType::Basic(basic) => BackendSecurity {
                basic: Some(BasicSecurity {
                    secret_ref: BasicSecretRef {
                        name: basic.secret_name.clone(),
                        username_key: basic.user_name_key.clone(),
                        password_key: basic.password_key.clone(),
                    },
                }),
                api_key: None,
            },
            EndpointSecurityType::ApiKey(key) => BackendSecurity {
                basic: None,
                api_key: Some(ApiKeySecurity {
                    location: match key.location {
                        ApiKeyLocation::Header => "Header",
                        ApiKeyLocation::Query => "Query",
                    }
                    .to_owned(),
                    name: key.api_key_name_key.clone(),
                    value_from: ValueRef {
                        name: key.secret_name.clone(),
                        value_key: key.api_key_value_key.clone(),
                    },
                }),
            },
        });
    }
    // As APK: the CA is read from a ConfigMap named by `secretName`, for https only.
    if let Some(certificate) = &config.certificate
        && target.protocol == "https"
        && let (Some(name), Some(key)) = (&certificate.secret_name, &certificate.secret_key)
    {
        spec.tls = Some(BackendTls {
            config_map_ref: Some(RefConfig {
                name: name.clone(),
                key: key.clone(),
            }),
            ..BackendTls::default()
        });
    }
    if let Some(resiliency) = &config.resiliency {
        spec.timeout = resiliency.timeout.as_ref().map(|timeout| Timeout {
            upstream_response_timeout: timeout.upstream_response_timeout,
            downstream_request_idle_timeout: timeout.downstream_request_idle_timeout,
        });
        spec.retry = resiliency.retry_policy.as_ref().map(|retry| Retry {
            count: retry.count,
            base_interval_millis: retry.base_interval_millis,
            status_codes: retry
                .status_codes
                .iter()
                .flatten()
                .map(|code| u32::from(*code))
                .collect(),
        });
        spec.circuit_breaker = resiliency.circuit_breaker.as_ref().map(|breaker| CircuitBreaker {
            max_connections: breaker.max_connections,
            max_pending_requests: breaker.max_pending_requests,
            max_requests: breaker.max_requests,
            max_retries: breaker.max_retries,
            max_connection_pools: breaker.max_connection_pools,
        });
    }
    spec
}
