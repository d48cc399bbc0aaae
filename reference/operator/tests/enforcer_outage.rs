//! What a real Envoy does when the enforcer goes away: APIs fail closed (503) unless their
//! Gateway asks to fail open; routes outside APIs never depend on the enforcer.

use std::time::Duration;

use anyhow::{Context, Result};
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy, Profile};

fn resources(failure_mode: &str) -> String {
    format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portcullis}}
spec: {{controllerName: portcullis.dev/gateway-controller}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: shop
  annotations: {{portcullis.dev/enforcer-failure-mode: {failure_mode}}}
spec:
  gatewayClassName: portcullis
  listeners: [{{name: http, port: 80, protocol: HTTP}}]
---
apiVersion: v1
kind: Service
metadata: {{name: cart, namespace: shop}}
spec: {{ports: [{{name: http, port: 8080}}]}}
---
apiVersion: dp.wso2.com/v1alpha3
kind: API
metadata: {{name: cart-api, namespace: shop}}
spec:
  apiName: Cart
  apiVersion: "1.0"
  basePath: /cart/1.0
  production: [{{routeRefs: [cart-api]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: cart-api, namespace: shop}}
spec:
  parentRefs: [{{name: edge}}]
  hostnames: [api.shop.example]
  rules: [{{backendRefs: [{{name: cart, port: 8080}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: plain, namespace: shop}}
spec:
  parentRefs: [{{name: edge}}]
  hostnames: [plain.shop.example]
  rules: [{{backendRefs: [{{name: cart, port: 8080}}]}}]
"#
    )
}

async fn start(failure_mode: &str) -> Result<(EmbeddedGateway, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("shop.yaml"), resources(failure_mode))?;
    let mut options = EmbeddedOptions::new(dir.path().to_path_buf());
    options.echo_backends = true;
    options.port_policy = PortPolicy::AlwaysFree;
    options.watch = false;
    options.profile = Profile::Apk;
    let gateway = EmbeddedGateway::start(options).await?;
    Ok((gateway, dir))
}

async fn status(gateway: &EmbeddedGateway, host: &str, token: Option<&str>) -> Result<u16> {
    let address = gateway.listener_address("shop/edge", 80).context("listener")?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut request = client
        .get(format!("http://{address}/cart/1.0/items"))
        .header("host", host);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Ok(request.send().await?.status().as_u16())
}

/// Polls until Envoy gives up on the stopped enforcer (its connection closes asynchronously).
async fn status_after_outage(gateway: &EmbeddedGateway, token: &str, expected: u16) -> Result<u16> {
    let mut last = 0;
    for _ in 0..50 {
        last = status(gateway, "api.shop.example", Some(token)).await?;
        if last == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(last)
}

fn token(gateway: &EmbeddedGateway) -> Result<String> {
    let idp = gateway.idp().context("the APK profile runs the IdP")?;
    Ok(idp
        .issue_token("45f1c5c8-a92e-11ed-afa1-0242ac120002", ["read"])?
        .access_token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apis_fail_closed_when_the_enforcer_is_down() -> Result<()> {
    let (gateway, _dir) = start("deny").await?;
    let token = token(&gateway)?;
    assert_eq!(status(&gateway, "api.shop.example", None).await?, 401);
    assert_eq!(status(&gateway, "api.shop.example", Some(&token)).await?, 200);

    gateway.stop_enforcer();
    assert_eq!(
        status_after_outage(&gateway, &token, 503).await?,
        503,
        "fails closed"
    );
    assert_eq!(
        status(&gateway, "plain.shop.example", None).await?,
        200,
        "a route outside APIs does not need the enforcer"
    );
    gateway.shutdown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_may_choose_to_fail_open() -> Result<()> {
    let (gateway, _dir) = start("allow").await?;
    let token = token(&gateway)?;
    assert_eq!(status(&gateway, "api.shop.example", None).await?, 401);

    gateway.stop_enforcer();
    assert_eq!(
        status_after_outage(&gateway, &token, 200).await?,
        200,
        "fails open"
    );
    gateway.shutdown().await?;
    Ok(())
}
