//! The embedded gateway end to end: YAML folder → translator → xDS → real Envoy → echo backend.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy};

const BASE: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portcullis}
spec: {controllerName: portcullis.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: portcullis
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  ports: [{name: http, port: 8080, targetPort: 3000}]
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec:
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec: {}
"#;

fn route(path: &str, service: &str) -> String {
    format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: shop, namespace: shop}}
spec:
  parentRefs: [{{name: edge}}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: {path}}}}}]
    backendRefs: [{{name: {service}, port: 8080}}]
"#
    )
}

fn options(dir: &Path, delta: bool) -> EmbeddedOptions {
    let mut options = EmbeddedOptions::new(dir.to_path_buf());
    options.echo_backends = true;
    options.port_policy = PortPolicy::AlwaysFree;
    options.delta = delta;
    options
}

async fn get(gateway: &EmbeddedGateway, host: &str, path: &str) -> Result<(u16, serde_json::Value)> {
    let address = gateway
        .listener_address("shop/edge", 80)
        .context("listener address")?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()?;
    let response = client
        .get(format!("http://{address}{path}"))
        .header("host", host)
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response
        .json::<serde_json::Value>()
        .await
        .unwrap_or(serde_json::Value::Null);
    Ok((status, body))
}

async fn routes_and_reloads(delta: bool) -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("base.yaml"), BASE)?;
    std::fs::write(dir.path().join("route.yaml"), route("/cart", "cart"))?;
    let gateway = EmbeddedGateway::start(options(dir.path(), delta)).await?;

    let (status, body) = get(&gateway, "shop.example.com", "/cart/items?id=7").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["path"], "/cart/items?id=7");
    assert_eq!(body["namespace"], "shop");
    assert!(body["pod"].as_str().unwrap_or("").starts_with("cart-"), "{body}");
    assert_eq!(get(&gateway, "other.example.com", "/cart").await?.0, 404);
    assert_eq!(get(&gateway, "shop.example.com", "/cartons").await?.0, 404);

    let view = gateway.view();
    let parent = &view.statuses.http_routes["shop/shop"].parents[0];
    assert!(parent.conditions.iter().all(|c| c.status == "True"), "{parent:?}");

    // Hot reload: the watcher alone must bring the change to Envoy, within a second.
    std::fs::write(dir.path().join("route.yaml"), route("/orders", "orders"))?;
    let changed = Instant::now();
    loop {
        let (status, body) = get(&gateway, "shop.example.com", "/orders").await?;
        if status == 200 && body["service"] == "orders" {
            break;
        }
        if changed.elapsed() > Duration::from_secs(10) {
            bail!("route change not applied after 10 s (last status {status})");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = changed.elapsed();
    eprintln!("route change reflected by Envoy after {elapsed:?} (delta={delta})");
    assert!(elapsed < Duration::from_secs(1), "hot reload took {elapsed:?}");
    assert_eq!(get(&gateway, "shop.example.com", "/cart").await?.0, 404);

    // An editor's save: a temp file renamed over the original (only the named paths are read).
    let staged = dir.path().join(".route.yaml.tmp");
    std::fs::write(&staged, route("/basket", "cart"))?;
    std::fs::rename(&staged, dir.path().join("route.yaml"))?;
    wait_for(&gateway, "/basket", 200).await?;
    assert_eq!(get(&gateway, "shop.example.com", "/orders").await?.0, 404);
    // A deleted file takes its route with it.
    std::fs::remove_file(dir.path().join("route.yaml"))?;
    wait_for(&gateway, "/basket", 404).await?;
    gateway.shutdown().await?;
    Ok(())
}

/// Polls until `path` on the shop's host answers `status`.
async fn wait_for(gateway: &EmbeddedGateway, path: &str, status: u16) -> Result<()> {
    let start = Instant::now();
    loop {
        let last = get(gateway, "shop.example.com", path).await?.0;
        if last == status {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(10) {
            bail!("{path} still answers {last}, not {status}, after 10 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn delta_xds_routes_and_hot_reloads() -> Result<()> {
    routes_and_reloads(true).await
}

#[tokio::test]
async fn sotw_xds_routes_and_hot_reloads() -> Result<()> {
    routes_and_reloads(false).await
}

#[tokio::test]
async fn a_broken_file_does_not_take_down_the_rest() -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("base.yaml"), BASE)?;
    std::fs::write(dir.path().join("route.yaml"), route("/cart", "cart"))?;
    std::fs::write(dir.path().join("broken.yaml"), "kind: [unclosed\n")?;
    std::fs::write(
        dir.path().join("bad-regex.yaml"),
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [bad.example.com]
  rules:
  - matches: [{path: {type: RegularExpression, value: "/(unclosed"}}]
    backendRefs: [{name: cart, port: 8080}]
"#,
    )?;
    let mut options = options(dir.path(), true);
    options.watch = false;
    let gateway = EmbeddedGateway::start(options).await?;
    assert_eq!(get(&gateway, "shop.example.com", "/cart").await?.0, 200);
    let view = gateway.view();
    assert!(
        view.errors.iter().any(|e| e.contains("broken.yaml")),
        "{:?}",
        view.errors
    );
    let bad = &view.statuses.http_routes["shop/bad"].parents[0].conditions[0];
    assert_eq!(
        (bad.status.as_str(), bad.reason.as_str()),
        ("False", "UnsupportedValue")
    );
    assert!(
        bad.message.contains("spec.rules[0].matches[0].path.value"),
        "{}",
        bad.message
    );
    assert_eq!(get(&gateway, "bad.example.com", "/x").await?.0, 404);
    gateway.shutdown().await?;
    Ok(())
}
