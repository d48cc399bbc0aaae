//! The embedded gateway's resources for the auth benchmark, and the checks they must pass.

use anyhow::{Result, bail};
use portcullis_operator::EmbeddedGateway;

/// The resources: one plain-HTTP Gateway of our own class (an APK API works on any Gateway,
/// and HTTPS on APK's would tax only the enforcer's path), one Service (an echo backend), a
/// plain HTTPRoute to it, and an APK API whose HTTPRoute goes to the same Service. The API has
/// no Authentication of its own, so APK's default applies: OAuth2, mandatory, trusting the
/// profile's TokenIssuer (the built-in IdP).
pub const YAML: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portcullis}
spec: {controllerName: portcullis.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: bench}
spec:
  gatewayClassName: portcullis
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: bench}
spec:
  ports: [{name: http, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: open, namespace: bench}
spec:
  parentRefs: [{name: edge}]
  hostnames: [open.auth.example]
  rules: [{backendRefs: [{name: echo, port: 8080}]}]
---
apiVersion: dp.wso2.com/v1alpha3
kind: API
metadata: {name: secured, namespace: bench}
spec:
  apiName: secured
  apiVersion: "1.0"
  basePath: /secured/1.0
  organization: default
  production: [{routeRefs: [secured]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: secured, namespace: bench}
spec:
  parentRefs: [{name: edge}]
  hostnames: [secured.auth.example]
  rules: [{backendRefs: [{name: echo, port: 8080}]}]
"#;

/// The file the resources are written to.
pub const FILE_NAME: &str = "auth.yaml";

/// The Gateway, `namespace/name`, and its declared port.
pub const GATEWAY: (&str, i32) = ("bench/edge", 80);

/// The Service the echo backend serves, as the control plane names it.
pub const ECHO_SERVICE: &str = "bench/echo";

/// The plain route's hostname.
pub const OPEN_HOST: &str = "open.auth.example";

/// The API's hostname.
pub const SECURED_HOST: &str = "secured.auth.example";

/// The path every configuration is asked for: inside the API's base path, and matched by the
/// plain route and the jwt_authn Envoy's catch-all alike.
pub const PATH: &str = "/secured/1.0/";

/// Fails if the resources were read with errors.
pub fn check(gateway: &EmbeddedGateway) -> Result<()> {
    let view = gateway.view();
    if !view.errors.is_empty() {
        bail!(
            "the benchmark's resources have errors: {}",
            view.errors.join("; ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use portcullis_model::{Resource, parse_documents};

    use super::*;

    #[test]
    fn the_resources_parse_into_one_api_and_two_routes() {
        let report = parse_documents(FILE_NAME, YAML);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let count = |f: fn(&Resource) -> bool| report.resources.iter().filter(|(_, r)| f(r)).count();
        assert_eq!(count(|r| matches!(r, Resource::HttpRoute(_))), 2);
        assert_eq!(count(|r| matches!(r, Resource::Api(_))), 1);
        assert_eq!(count(|r| matches!(r, Resource::Authentication(_))), 0);
    }
}
