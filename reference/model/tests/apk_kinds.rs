//! APK 1.x manifests of every API-management kind load into typed resources.

use portcullis_model::{Snapshot, parse_documents};

const MANIFESTS: &str = r#"
apiVersion: dp.wso2.com/v1alpha2
kind: Authentication
metadata: {name: pets-auth, namespace: apk}
spec:
  override:
    disabled: false
    authTypes:
      oauth2: {required: mandatory, header: testAuth, sendTokenToUpstream: true}
      jwt: {disabled: false, header: custom-jwt, audience: [aud1]}
      apiKey:
        - {in: Header, name: apikey, sendTokenToUpstream: false}
        - {in: Query, name: apikey}
  targetRef: {group: gateway.networking.k8s.io, kind: API, name: pets}
---
apiVersion: dp.wso2.com/v1alpha2
kind: TokenIssuer
metadata: {name: idp-1, namespace: apk}
spec:
  name: idp-1
  organization: default
  issuer: https://idp1.com
  consumerKeyClaim: azp
  scopesClaim: scope
  signatureValidation:
    jwks: {url: "http://127.0.0.1:1/jwks"}
  claimMappings: [{remoteClaim: client_id, localClaim: azp}]
  environments: ["*"]
  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: wso2-apk-default}
---
apiVersion: dp.wso2.com/v1alpha1
kind: Scope
metadata: {name: read-scope, namespace: apk}
spec: {names: ["pets:read"]}
---
apiVersion: dp.wso2.com/v1alpha2
kind: Backend
metadata: {name: pets-backend, namespace: apk}
spec:
  services: [{host: pets.apk, port: 8080}]
  basePath: /v2
  protocol: http
  security:
    basic: {secretRef: {name: creds, usernameKey: username, passwordKey: password}}
  timeout: {upstreamResponseTimeout: 5}
  retry: {count: 2, baseIntervalMillis: 50, statusCodes: [503]}
  circuitBreaker: {maxRequests: 10}
---
apiVersion: dp.wso2.com/v1alpha4
kind: APIPolicy
metadata: {name: pets-policy, namespace: apk}
spec:
  override:
    subscriptionValidation: true
    backendJwtPolicy: {name: pets-jwt}
    cORSPolicy:
      enabled: true
      accessControlAllowCredentials: true
      accessControlAllowOrigins: ["abc.com"]
      accessControlAllowMethods: [GET, POST]
      accessControlMaxAge: 3600
  targetRef: {group: gateway.networking.k8s.io, kind: API, name: pets}
---
apiVersion: dp.wso2.com/v1alpha1
kind: BackendJWT
metadata: {name: pets-jwt, namespace: apk}
spec:
  encoding: Base64
  tokenTTL: 3600
  customClaims: [{claim: claim1, value: value1, type: string}]
---
apiVersion: cp.wso2.com/v1alpha2
kind: Application
metadata: {name: app-1, namespace: apk}
spec:
  name: sample-app
  owner: alice
  organization: default
  securitySchemes:
    oauth2:
      environments: [{envId: Default, appId: client-1, keyType: PRODUCTION}]
---
apiVersion: cp.wso2.com/v1alpha3
kind: Subscription
metadata: {name: sub-1, namespace: apk}
spec:
  subscriptionStatus: ACTIVE
  organization: default
  api: {name: pets, version: "1.0"}
  ratelimitRef: {name: Gold, level: Subscription}
---
apiVersion: cp.wso2.com/v1alpha2
kind: ApplicationMapping
metadata: {name: map-1, namespace: apk}
spec: {applicationRef: app-1, subscriptionRef: sub-1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: pets-definition, namespace: apk}
data: {definition: "openapi: 3.0.0"}
"#;

#[test]
fn every_apk_kind_loads() {
    let report = parse_documents("apk.yaml", MANIFESTS);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let (snapshot, errors) = Snapshot::from_report(&report);
    assert!(errors.is_empty());
    let key = |name: &str| portcullis_model::ObjectKey::new("apk".to_string(), name.to_string());

    let auth = snapshot.authentications[&key("pets-auth")]
        .spec
        .r#override
        .clone()
        .unwrap();
    let types = auth.auth_types.unwrap();
    assert_eq!(types.oauth2.header.as_deref(), Some("testAuth"));
    assert_eq!(types.jwt.disabled, Some(false));
    assert_eq!(types.api_key.unwrap()[1].location, "Query");

    let issuer = &snapshot.token_issuers[&key("idp-1")].spec;
    assert_eq!(
        issuer
            .signature_validation
            .as_ref()
            .unwrap()
            .jwks
            .as_ref()
            .unwrap()
            .url,
        "http://127.0.0.1:1/jwks"
    );
    assert_eq!(issuer.claim_mappings.as_ref().unwrap()[0].local_claim, "azp");

    assert_eq!(snapshot.scopes[&key("read-scope")].spec.names, ["pets:read"]);
    let backend = &snapshot.backends[&key("pets-backend")].spec;
    assert_eq!(
        (backend.services[0].host.as_str(), backend.services[0].port),
        ("pets.apk", 8080)
    );
    assert_eq!(backend.retry.as_ref().unwrap().status_codes, [503]);

    let policy = snapshot.api_policies[&key("pets-policy")]
        .spec
        .r#override
        .clone()
        .unwrap();
    assert_eq!(policy.subscription_validation, Some(true));
    assert_eq!(policy.cors_policy.unwrap().access_control_max_age, Some(3600));
    assert_eq!(snapshot.backend_jwts[&key("pets-jwt")].spec.token_ttl, Some(3600));

    let app = &snapshot.applications[&key("app-1")].spec;
    assert_eq!(
        app.security_schemes
            .as_ref()
            .unwrap()
            .oauth2
            .as_ref()
            .unwrap()
            .environments[0]
            .app_id,
        "client-1"
    );
    assert_eq!(
        snapshot.subscriptions[&key("sub-1")].spec.ratelimit_ref.name,
        "Gold"
    );
    assert_eq!(
        snapshot.application_mappings[&key("map-1")].spec.subscription_ref,
        "sub-1"
    );
    assert!(snapshot.config_maps.contains_key(&key("pets-definition")));
}

#[test]
fn a_wrong_field_type_names_the_resource_and_field() {
    let report = parse_documents(
        "bad.yaml",
        "apiVersion: dp.wso2.com/v1alpha2\nkind: Backend\nmetadata: {name: b, namespace: apk}\nspec:\n  services: [{host: x, port: eighty}]\n",
    );
    let message = report.errors[0].to_string();
    assert!(
        message.contains("Backend") && message.contains("apk/b") && message.contains("services[0].port"),
        "{message}"
    );
}
