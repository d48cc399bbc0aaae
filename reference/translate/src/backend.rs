//! APK Backends: a host and port (a Service of the snapshot, an IP, or a DNS name), with the
//! base path, TLS, credentials, timeouts, retries and limits APK lets a Backend carry.

use base64::Engine as _;
use portcullis_model::apk::backend::Backend;
use portcullis_model::{ObjectKey, Snapshot};

use crate::ir::{Cluster, Retry, UpstreamPolicy};

/// A Backend made ready for a route.
#[derive(Debug)]
pub struct ResolvedBackend {
    /// Its cluster.
    pub cluster: Cluster,
    /// Path that replaces the API's base path (`""` for none).
    pub base_path: String,
    /// Timeout and retries.
    pub upstream: Option<UpstreamPolicy>,
    /// Request headers carrying the backend's credentials.
    pub request_headers: Vec<(String, String)>,
}

/// Resolves a Backend; the error names the field at fault.
pub fn resolve(snapshot: &Snapshot, key: &ObjectKey) -> Result<ResolvedBackend, String> {
    let backend = snapshot
        .backends
        .get(key)
        .ok_or_else(|| format!("Backend {key} not found"))?;
    let spec = &backend.spec;
    let service = match spec.services.as_slice() {
        [one] => one,
        [] => {
            return Err(format!(
                "Backend {key}: spec.services must hold one host and port"
            ));
        }
        _ => return Err(format!("Backend {key}: spec.services holds more than one entry")),
    };
    if service.host.is_empty() {
        return Err(format!("Backend {key}: spec.services[0].host must not be empty"));
    }
    let port = u16::try_from(service.port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            format!(
                "Backend {key}: spec.services[0].port {} is not a port",
                service.port
            )
        })?;
    let protocol = spec.protocol.as_deref().unwrap_or("http");
    let tls = match protocol {
        "http" | "ws" => false,
        "https" | "wss" => true,
        other => {
            return Err(format!(
                "Backend {key}: spec.protocol {other:?} is not http, https, ws or wss"
            ));
        }
    };
    let (endpoints, dns) = addresses(snapshot, key, &service.host, port)?;
    let cluster = Cluster {
        name: format!("backend:{key}"),
        endpoints,
        dns,
        tls_sni: tls.then(|| service.host.clone()),
        circuit_breaker: spec.circuit_breaker.as_ref().map(|c| {
            (
                c.max_connections.unwrap_or(1024),
                c.max_pending_requests.unwrap_or(1024),
                c.max_requests.unwrap_or(1024),
                c.max_retries.unwrap_or(3),
            )
        }),
        http2: false,
    };
    let base_path = spec.base_path.clone().unwrap_or_default();
    if !(base_path.is_empty() || base_path.starts_with('/')) {
        return Err(format!(
            "Backend {key}: spec.basePath {base_path:?} must start with '/'"
        ));
    }
    let upstream = (spec.timeout.is_some() || spec.retry.is_some()).then(|| UpstreamPolicy {
        timeout_seconds: spec
            .timeout
            .as_ref()
            .and_then(|t| t.upstream_response_timeout)
            .unwrap_or(15),
        idle_timeout_seconds: spec
            .timeout
            .as_ref()
            .and_then(|t| t.downstream_request_idle_timeout)
            .unwrap_or(300),
        retry: spec.retry.as_ref().map(|r| Retry {
            count: r.count.unwrap_or(1),
            base_interval_millis: r.base_interval_millis.unwrap_or(25).max(1),
            status_codes: r.status_codes.clone(),
        }),
    });
    Ok(ResolvedBackend {
        cluster,
        base_path: base_path.trim_end_matches('/').to_string(),
        upstream,
        request_headers: credentials(snapshot, key, backend)?,
    })
}

/// Where a host is: a Service of the snapshot (`name`, `name.namespace`, `name.namespace.svc…`)
/// by its endpoints, an IP as is, anything else by DNS.
fn addresses(
    snapshot: &Snapshot,
    key: &ObjectKey,
    host: &str,
    port: u16,
) -> Result<(Vec<String>, bool), String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok((vec![std::net::SocketAddr::new(ip, port).to_string()], false));
    }
    let mut parts = host.split('.');
    let name = parts.next().unwrap_or_default();
    let namespace = parts.next().unwrap_or(&key.namespace);
    let rest: Vec<&str> = parts.collect();
    let in_cluster = rest.is_empty() || rest.first() == Some(&"svc");
    let service_key = ObjectKey::new(namespace.to_string(), name.to_string());
    if in_cluster && let Some(service) = snapshot.services.get(&service_key) {
        let service_port = service
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .and_then(|ports| ports.iter().find(|p| p.port == i32::from(port)))
            .ok_or_else(|| format!("Backend {key}: Service {service_key} has no port {port}"))?;
        return Ok((
            crate::route::endpoints(snapshot, &service_key, service_port),
            false,
        ));
    }
    Ok((vec![format!("{host}:{port}")], true))
}

/// Headers carrying the credentials the Backend's `security` names, read from Secrets.
fn credentials(
    snapshot: &Snapshot,
    key: &ObjectKey,
    backend: &Backend,
) -> Result<Vec<(String, String)>, String> {
    let Some(security) = &backend.spec.security else {
        return Ok(Vec::new());
    };
    let secret_value = |name: &str, data_key: &str, field: &str| -> Result<String, String> {
        let secret_key = ObjectKey::new(key.namespace.clone(), name.to_string());
        snapshot
            .secrets
            .get(&secret_key)
            .and_then(|s| s.data.as_ref())
            .and_then(|d| d.get(data_key))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .ok_or_else(|| format!("Backend {key}: {field}: Secret {secret_key} has no key {data_key:?}"))
    };
    let mut out = Vec::new();
    if let Some(basic) = &security.basic {
        let r = &basic.secret_ref;
        let user = secret_value(
            &r.name,
            &r.username_key,
            "spec.security.basic.secretRef.usernameKey",
        )?;
        let password = secret_value(
            &r.name,
            &r.password_key,
            "spec.security.basic.secretRef.passwordKey",
        )?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        out.push(("Authorization".to_string(), format!("Basic {token}")));
    }
    if let Some(api_key) = &security.api_key {
        if api_key.location != "Header" {
            return Err(format!(
                "Backend {key}: spec.security.apiKey.in: {:?} is not supported (Header is)",
                api_key.location
            ));
        }
        if api_key.name.is_empty() {
            return Err(format!(
                "Backend {key}: spec.security.apiKey.name must not be empty"
            ));
        }
        let v = &api_key.value_from;
        let value = secret_value(&v.name, &v.value_key, "spec.security.apiKey.valueFrom")?;
        out.push((api_key.name.clone(), value));
    }
    Ok(out)
}
