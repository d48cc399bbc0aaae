//! The embedded gateways' resources for the gateway benchmark, and what they must look like
//! once applied.

use std::net::SocketAddr;

use anyhow::{Result, bail};
use portcullis_operator::EmbeddedGateway;

use super::issuer::ISSUER;

/// The file the resources are written to.
pub const FILE_NAME: &str = "gateway.yaml";

/// The Gateway, `namespace/name`, and its declared port.
pub const GATEWAY: (&str, i32) = ("bench/edge", 80);

/// The API's hostname (the static Envoy answers any).
pub const HOST: &str = "api.bench.example";

/// The path every configuration is asked for.
pub const PATH: &str = "/";

/// The API's limit: so high that nothing is throttled, so every request asks the limiter and
/// is allowed.
pub const REQUESTS_PER_MINUTE: u64 = 1_000_000_000;

/// The resources: one plain-HTTP Gateway of our own class, one APK Backend (the echo backend
/// every configuration shares, by address), an APK API whose HTTPRoute goes to it, with APK's
/// default Authentication (OAuth2, mandatory) and a RateLimitPolicy of
/// [`REQUESTS_PER_MINUTE`], and the TokenIssuer that trusts the benchmark's IdP by its
/// certificate.
pub fn yaml(echo: SocketAddr, certificate_pem: &str) -> String {
    let certificate: String = certificate_pem
        .lines()
        .map(|line| format!("        {line}\n"))
        .collect();
    format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portcullis}}
spec: {{controllerName: portcullis.dev/gateway-controller}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: edge, namespace: bench}}
spec:
  gatewayClassName: portcullis
  listeners:
  - {{name: http, port: 80, protocol: HTTP}}
---
apiVersion: dp.wso2.com/v1alpha2
kind: Backend
metadata: {{name: echo, namespace: bench}}
spec:
  services: [{{host: "{echo_ip}", port: {echo_port}}}]
---
apiVersion: dp.wso2.com/v1alpha3
kind: API
metadata: {{name: gated, namespace: bench}}
spec:
  apiName: gated
  apiVersion: "1.0"
  basePath: /
  organization: default
  production: [{{routeRefs: [gated]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: gated, namespace: bench}}
spec:
  parentRefs: [{{name: edge}}]
  hostnames: [{HOST}]
  rules: [{{backendRefs: [{{group: dp.wso2.com, kind: Backend, name: echo}}]}}]
---
apiVersion: dp.wso2.com/v1alpha3
kind: RateLimitPolicy
metadata: {{name: gated, namespace: bench}}
spec:
  default: {{api: {{requestsPerUnit: {REQUESTS_PER_MINUTE}, unit: Minute}}}}
  targetRef: {{group: dp.wso2.com, kind: API, name: gated}}
---
apiVersion: dp.wso2.com/v1alpha2
kind: TokenIssuer
metadata: {{name: bench-idp, namespace: bench}}
spec:
  name: bench-idp
  organization: default
  issuer: "{ISSUER}"
  consumerKeyClaim: azp
  scopesClaim: scope
  signatureValidation:
    certificate:
      certificateInline: |
{certificate}  environments: ["*"]
  targetRef: {{group: gateway.networking.k8s.io, kind: Gateway, name: edge}}
"#,
        echo_ip = echo.ip(),
        echo_port = echo.port(),
    )
}

/// Fails if the resources were read with errors or a status condition that must hold does
/// not (naming them), so a misread resource shows before a probe's bare 401 or 404 does.
pub fn check(gateway: &EmbeddedGateway) -> Result<()> {
    let view = gateway.view();
    if !view.errors.is_empty() {
        bail!(
            "the benchmark's resources have errors: {}",
            view.errors.join("; ")
        );
    }
    let failing: Vec<String> = view
        .statuses
        .rows()
        .iter()
        .filter(|row| {
            ["Accepted", "ResolvedRefs", "Programmed"].contains(&row.condition.type_.as_str())
                && !row.condition.is_true()
        })
        .map(|row| {
            format!(
                "{} {}={} ({}: {})",
                row.object,
                row.condition.type_,
                row.condition.status,
                row.condition.reason,
                row.condition.message
            )
        })
        .collect();
    if !failing.is_empty() {
        bail!("conditions that do not hold: {}", failing.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use portcullis_model::{Resource, parse_documents};

    use super::*;

    #[test]
    fn the_resources_parse_into_one_limited_api_its_backend_and_the_issuer() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let yaml = yaml(SocketAddr::from(([127, 0, 0, 1], 8088)), pem);
        let report = parse_documents(FILE_NAME, &yaml);
        assert!(report.errors.is_empty(), "{:?}\n{yaml}", report.errors);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let count = |f: fn(&Resource) -> bool| report.resources.iter().filter(|(_, r)| f(r)).count();
        assert_eq!(count(|r| matches!(r, Resource::Api(_))), 1);
        assert_eq!(count(|r| matches!(r, Resource::HttpRoute(_))), 1);
        assert_eq!(count(|r| matches!(r, Resource::RateLimitPolicy(_))), 1);
        assert_eq!(count(|r| matches!(r, Resource::Authentication(_))), 0);
        let issuer = report
            .resources
            .iter()
            .find_map(|(_, r)| match r {
                Resource::TokenIssuer(issuer) => Some(issuer.spec.clone()),
                _ => None,
            })
            .expect("a TokenIssuer");
        assert_eq!(issuer.issuer, ISSUER);
        let inline = issuer
            .signature_validation
            .and_then(|v| v.certificate)
            .and_then(|c| c.certificate_inline);
        assert_eq!(inline.as_deref(), Some(pem));
        assert!(yaml.contains("host: \"127.0.0.1\", port: 8088"), "{yaml}");
    }
}
