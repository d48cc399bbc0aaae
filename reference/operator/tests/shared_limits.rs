//! Two gateways (two real Envoys, two limiters) sharing one real Redis: a limit of L per window
//! lets exactly L requests through across both, the chosen fail mode (open) holds while Redis is
//! down, and counting resumes exactly once it is back — no restart of either gateway.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use portcullis_limiter::redis_process::{RedisProcess, resolve_redis_server};
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy};

const LIMIT: usize = 20;

fn resources() -> String {
    let api = |name: &str, limit: usize| {
        format!(
            r#"---
apiVersion: dp.wso2.com/v1alpha3
kind: API
metadata: {{name: {name}, namespace: shop}}
spec:
  apiName: {name}
  apiVersion: "1.0"
  basePath: /
  production: [{{routeRefs: [{name}]}}]
---
apiVersion: dp.wso2.com/v1alpha2
kind: Authentication
metadata: {{name: {name}-open, namespace: shop}}
spec:
  override: {{disabled: true}}
  targetRef: {{group: dp.wso2.com, kind: API, name: {name}}}
---
apiVersion: dp.wso2.com/v1alpha3
kind: RateLimitPolicy
metadata: {{name: {name}, namespace: shop}}
spec:
  default: {{api: {{requestsPerUnit: {limit}, unit: Minute}}}}
  targetRef: {{group: dp.wso2.com, kind: API, name: {name}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: shop}}
spec:
  parentRefs: [{{name: edge}}]
  hostnames: [{name}.example]
  rules: [{{backendRefs: [{{name: cart, port: 8080}}]}}]
"#
        )
    };
    format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: portcullis}}
spec: {{controllerName: portcullis.dev/gateway-controller}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: edge, namespace: shop}}
spec:
  gatewayClassName: portcullis
  listeners: [{{name: http, port: 80, protocol: HTTP}}]
---
apiVersion: v1
kind: Service
metadata: {{name: cart, namespace: shop}}
spec: {{ports: [{{name: http, port: 8080}}]}}
{}{}{}"#,
        api("limited", LIMIT),
        api("resumed", LIMIT),
        api("canary", 100_000)
    )
}

async fn statuses(gateways: &[SocketAddr], host: &str, count: usize) -> Result<Vec<u16>> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()?;
    let results: Vec<Result<u16>> = futures::stream::iter(0..count)
        .map(|i| {
            let client = client.clone();
            let address = gateways[i % gateways.len()];
            async move {
                let response = client
                    .get(format!("http://{address}/"))
                    .header("host", host)
                    .send()
                    .await?;
                Ok(response.status().as_u16())
            }
        })
        .buffer_unordered(10)
        .collect()
        .await;
    results.into_iter().collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Waits until a limited request through `address` is counted in Redis again (the limiter
/// answered with headers), i.e. the limiter has reconnected.
async fn wait_counted(address: SocketAddr) -> Result<()> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    for _ in 0..100 {
        let response = client
            .get(format!("http://{address}/"))
            .header("host", "canary.example")
            .send()
            .await?;
        if response.headers().contains_key("ratelimit-limit") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the limiter behind {address} did not reconnect to Redis")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_share_exact_limits_through_redis() -> Result<()> {
    let (binary, _) = tokio::task::spawn_blocking(resolve_redis_server).await??;
    let mut redis = tokio::task::spawn_blocking(move || RedisProcess::start(&binary)).await??;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("shop.yaml"), resources())?;

    // Counters live in minute windows: start with enough of the window left for the whole test.
    let into_minute = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() % 60;
    if into_minute > 30 {
        tokio::time::sleep(Duration::from_secs(61 - into_minute)).await;
    }

    let mut gateways = Vec::new();
    for _ in 0..2 {
        let mut options = EmbeddedOptions::new(dir.path().to_path_buf());
        options.echo_backends = true;
        options.port_policy = PortPolicy::AlwaysFree;
        options.watch = false;
        options.redis_url = Some(redis.url());
        gateways.push(EmbeddedGateway::start(options).await?);
    }
    let addresses: Vec<SocketAddr> = gateways
        .iter()
        .map(|g| g.listener_address("shop/edge", 80).context("listener"))
        .collect::<Result<_>>()?;

    // Exactly LIMIT pass across both gateways; none lost, none counted twice.
    let answers = statuses(&addresses, "limited.example", 3 * LIMIT).await?;
    assert_eq!(count(&answers, 200), LIMIT, "{answers:?}");
    assert_eq!(count(&answers, 429), 2 * LIMIT, "{answers:?}");

    // Redis down: fail open, every request passes, each gateway's limiter says so.
    let killed = redis.port();
    redis = tokio::task::spawn_blocking(move || {
        redis.kill();
        redis
    })
    .await?;
    let answers = statuses(&addresses, "limited.example", 10).await?;
    assert_eq!(count(&answers, 200), 10, "fail open: {answers:?}");
    assert!(
        gateways
            .iter()
            .all(|g| g.limiter().stats().snapshot().store_errors > 0)
    );

    // Redis back, empty, on the same port: counting resumes exactly, without restarts.
    redis = tokio::task::spawn_blocking(move || redis.restart().map(|_| redis)).await??;
    assert_eq!(redis.port(), killed);
    for address in &addresses {
        wait_counted(*address).await?;
    }
    let answers = statuses(&addresses, "resumed.example", 2 * LIMIT).await?;
    assert_eq!(count(&answers, 200), LIMIT, "{answers:?}");
    assert_eq!(count(&answers, 429), LIMIT, "{answers:?}");

    for gateway in gateways {
        gateway.shutdown().await?;
    }
    Ok(())
}
