//! The APK profile: what an APK 1.x install provides before any API is deployed — its
//! GatewayClass, the `wso2-apk-default` Gateway with its HTTPS listeners on 9095, and the system
//! routes (the token endpoint on `idp.am.wso2.com`, the backend-JWT JWKS on `api.am.wso2.com`)
//! with the TokenIssuer that trusts the built-in IdP. Its resources join every snapshot after
//! the user's, so a user's object of the same name wins.

use std::net::SocketAddr;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use portcullis_model::{LoadError, Resource, SERVICE_NAME_LABEL, Snapshot, parse_documents};

use crate::error::OperatorError;

/// APK's GatewayClass controller name.
pub const APK_CONTROLLER_NAME: &str = "wso2.com/apk-gateway-default";
/// Namespace of the profile's own resources (APK's default install namespace).
pub const APK_NAMESPACE: &str = "apk";
/// The profile's Gateway, `namespace/name`.
pub const APK_GATEWAY: &str = "apk/wso2-apk-default";
/// The port of APK's HTTPS listeners.
pub const APK_HTTPS_PORT: i32 = 9095;
/// The IdP's host.
pub const IDP_HOST: &str = "idp.am.wso2.com";
/// The host of APK's system APIs (JWKS, Config Service, Deployer).
pub const API_HOST: &str = "api.am.wso2.com";
/// The path of the backend-JWT JWKS on [`API_HOST`].
pub const BACKEND_JWKS_PATH: &str = "/.wellknown/jwks";
/// The OAuth2 client APK's test suites use for tokens (with scope `apk:api_create`).
pub const APK_TEST_CLIENT_ID: &str = "45f1c5c8-a92e-11ed-afa1-0242ac120002";
/// Its secret.
pub const APK_TEST_CLIENT_SECRET: &str = "4fbd62ec-a92e-11ed-afa1-0242ac120002";

/// Which install the embedded gateway imitates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// Gateway API only: nothing beyond the user's resources.
    #[default]
    Plain,
    /// WSO2 APK 1.x.
    Apk,
}

/// The APK profile's resources for one run: fixed manifests plus a fresh TLS certificate and
/// the address of the system server.
#[derive(Clone, Debug)]
pub struct ApkProfile {
    resources: Vec<Resource>,
}

impl ApkProfile {
    /// Builds the resources, pointing the system routes at `system` and trusting `issuer`.
    pub fn new(system: SocketAddr, issuer: &str) -> Result<Self, OperatorError> {
        let (system_ip, system_port) = (system.ip(), system.port());
        let manifests = format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: wso2-apk-default}}
spec: {{controllerName: {APK_CONTROLLER_NAME}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: wso2-apk-default, namespace: {APK_NAMESPACE}}}
spec:
  gatewayClassName: wso2-apk-default
  listeners:
    - name: httpslistener
      hostname: "*.gw.wso2.com"
      port: {APK_HTTPS_PORT}
      protocol: HTTPS
      tls: {{certificateRefs: [{{name: portcullis-gateway-tls}}]}}
      allowedRoutes: {{namespaces: {{from: All}}}}
    - name: apilistener
      hostname: {API_HOST}
      port: {APK_HTTPS_PORT}
      protocol: HTTPS
      tls: {{certificateRefs: [{{name: portcullis-gateway-tls}}]}}
      allowedRoutes: {{namespaces: {{from: All}}}}
    - name: idplistener
      hostname: {IDP_HOST}
      port: {APK_HTTPS_PORT}
      protocol: HTTPS
      tls: {{certificateRefs: [{{name: portcullis-gateway-tls}}]}}
      allowedRoutes: {{namespaces: {{from: All}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: portcullis-system, namespace: {APK_NAMESPACE}}}
spec: {{ports: [{{name: http, port: 80}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: portcullis-idp, namespace: {APK_NAMESPACE}}}
spec:
  parentRefs: [{{name: wso2-apk-default, sectionName: idplistener}}]
  hostnames: [{IDP_HOST}]
  rules:
    - matches: [{{path: {{type: PathPrefix, value: /oauth2}}}}, {{path: {{type: PathPrefix, value: /.well-known}}}}]
      backendRefs: [{{name: portcullis-system, port: 80}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: portcullis-backend-jwks, namespace: {APK_NAMESPACE}}}
spec:
  parentRefs: [{{name: wso2-apk-default, sectionName: apilistener}}]
  hostnames: [{API_HOST}]
  rules:
    - matches: [{{path: {{type: Exact, value: {BACKEND_JWKS_PATH}}}}}]
      backendRefs: [{{name: portcullis-system, port: 80}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: portcullis-configurator, namespace: {APK_NAMESPACE}}}
spec:
  parentRefs: [{{name: wso2-apk-default, sectionName: apilistener}}]
  hostnames: [{API_HOST}]
  rules:
    - matches: [{{path: {{type: PathPrefix, value: /api/configurator}}}}]
      backendRefs: [{{name: portcullis-system, port: 80}}]
---
# The Deployer is an API like any other: tokens need the scope apk:api_create.
apiVersion: dp.wso2.com/v1alpha3
kind: API
metadata: {{name: portcullis-deployer, namespace: {APK_NAMESPACE}}}
spec:
  apiName: DeployerAPI
  apiVersion: 1.3.0
  basePath: /api/deployer/1.3.0
  organization: default
  systemAPI: true
  production: [{{routeRefs: [portcullis-deployer]}}]
---
apiVersion: dp.wso2.com/v1alpha2
kind: Backend
metadata: {{name: portcullis-deployer, namespace: {APK_NAMESPACE}}}
spec:
  services: [{{host: "{system_ip}", port: {system_port}}}]
  basePath: /api/deployer/1.3.0
---
apiVersion: dp.wso2.com/v1alpha1
kind: Scope
metadata: {{name: portcullis-api-create, namespace: {APK_NAMESPACE}}}
spec: {{names: ["apk:api_create"]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: portcullis-deployer, namespace: {APK_NAMESPACE}}}
spec:
  parentRefs: [{{name: wso2-apk-default, sectionName: apilistener}}]
  hostnames: [{API_HOST}]
  rules:
    - matches: [{{path: {{type: PathPrefix, value: /apis}}}}]
      filters: [{{type: ExtensionRef, extensionRef: {{group: dp.wso2.com, kind: Scope, name: portcullis-api-create}}}}]
      backendRefs: [{{group: dp.wso2.com, kind: Backend, name: portcullis-deployer}}]
---
apiVersion: dp.wso2.com/v1alpha2
kind: TokenIssuer
metadata: {{name: portcullis-idp, namespace: {APK_NAMESPACE}}}
spec:
  name: portcullis-idp
  organization: default
  issuer: "{issuer}"
  consumerKeyClaim: azp
  scopesClaim: scope
  signatureValidation: {{jwks: {{url: "http://{system}/oauth2/jwks"}}}}
  environments: ["*"]
"#
        );
        let report = parse_documents("(apk profile)", &manifests);
        if let Some(error) = report.errors.first() {
            return Err(OperatorError::Profile(error.to_string()));
        }
        let mut resources: Vec<Resource> = report.resources.into_iter().map(|(_, r)| r).collect();
        let names = vec![
            "*.gw.wso2.com".to_string(),
            API_HOST.to_string(),
            IDP_HOST.to_string(),
            "localhost".to_string(),
        ];
        let certified =
            rcgen::generate_simple_self_signed(names).map_err(|e| OperatorError::Profile(e.to_string()))?;
        resources.push(Resource::Secret(Secret {
            metadata: ObjectMeta {
                name: Some("portcullis-gateway-tls".to_string()),
                namespace: Some(APK_NAMESPACE.to_string()),
                ..Default::default()
            },
            type_: Some("kubernetes.io/tls".to_string()),
            data: Some(
                [
                    (
                        "tls.crt".to_string(),
                        ByteString(certified.cert.pem().into_bytes()),
                    ),
                    (
                        "tls.key".to_string(),
                        ByteString(certified.signing_key.serialize_pem().into_bytes()),
                    ),
                ]
                .into(),
            ),
            ..Default::default()
        }));
        resources.push(Resource::EndpointSlice(EndpointSlice {
            metadata: ObjectMeta {
                name: Some("portcullis-system".to_string()),
                namespace: Some(APK_NAMESPACE.to_string()),
                labels: Some([(SERVICE_NAME_LABEL.to_string(), "portcullis-system".to_string())].into()),
                generation: Some(1),
                ..Default::default()
            },
            address_type: "IPv4".to_string(),
            endpoints: Some(vec![Endpoint {
                addresses: vec![system.ip().to_string()],
                ..Default::default()
            }]),
            ports: Some(vec![EndpointPort {
                name: Some("http".to_string()),
                port: Some(i32::from(system.port())),
                ..Default::default()
            }]),
        }));
        Ok(ApkProfile { resources })
    }

    /// The profile's resources.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Adds the profile's resources to a snapshot; objects the user defined keep theirs.
    pub fn add_to(&self, snapshot: &mut Snapshot) {
        for resource in &self.resources {
            if let Err(LoadError::Duplicate { object, .. }) =
                snapshot.insert("(apk profile)", resource.clone())
            {
                tracing::debug!(%object, "the user's definition replaces the profile's");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_resources_parse_and_yield_to_the_users() {
        let profile = ApkProfile::new(
            SocketAddr::from(([127, 0, 0, 1], 4000)),
            "https://idp.am.wso2.com/token",
        )
        .expect("profile");
        let mut snapshot = Snapshot::default();
        let user = parse_documents(
            "user.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: portcullis-system, namespace: apk}\nspec: {ports: [{port: 81}]}\n",
        );
        let (user_snapshot, _) = Snapshot::from_report(&user);
        snapshot.services = user_snapshot.services;
        snapshot.sources = user_snapshot.sources;
        profile.add_to(&mut snapshot);
        assert_eq!(snapshot.gateways.len(), 1);
        assert_eq!(snapshot.token_issuers.len(), 1);
        assert_eq!(snapshot.http_routes.len(), 4);
        assert_eq!(snapshot.apis.len(), 1);
        let service = &snapshot.services
            [&portcullis_model::ObjectKey::new("apk".to_string(), "portcullis-system".to_string())];
        let port = service
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .map(|p| p[0].port);
        assert_eq!(port, Some(81), "the user's Service is kept");
    }
}
