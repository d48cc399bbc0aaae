//! Black-box tests of the echo backend over real sockets.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use portcullis_echo::{EchoIdentity, EchoResponse, EchoServer, pod_name};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode, Version};

/// Upper bound for any single test, so a hang fails instead of stalling CI.
const TEST_TIMEOUT: Duration = Duration::from_secs(20);

fn identity() -> EchoIdentity {
    EchoIdentity {
        namespace: "gateway-conformance-infra".to_owned(),
        service: "infra-backend-v1".to_owned(),
        pod: pod_name("infra-backend-v1", 0),
    }
}

async fn start() -> EchoServer {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    EchoServer::start(bind, identity()).await.unwrap()
}

/// HTTP/1.1 client that ignores any proxy settings of the environment.
fn client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn url(server: &EchoServer, path_and_query: &str) -> String {
    format!("http://{}{}", server.local_addr(), path_and_query)
}

async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("test timed out");
}

#[tokio::test]
async fn echo_json_shape_and_field_order() {
    bounded(async {
        let server = start().await;
        let port = server.local_addr().port();
        let response = client()
            .get(url(&server, "/?animal=whale"))
            .header("user-agent", "curl/8")
            .header("x-echo-set-header", "")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let raw = response.text().await.unwrap();

        // Go's MarshalIndent with a one-space indent.
        assert!(
            raw.starts_with("{\n \"path\": \"/?animal=whale\",\n \"host\": "),
            "{raw}"
        );
        let keys = [
            "\"path\"",
            "\"host\"",
            "\"method\"",
            "\"proto\"",
            "\"headers\"",
            "\"namespace\"",
            "\"ingress\"",
            "\"service\"",
            "\"pod\"",
            "\"httpPort\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| raw.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "field order: {raw}");
        let top: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&raw).unwrap();
        assert_eq!(top.len(), keys.len(), "no extra fields: {raw}");

        let echo: EchoResponse = serde_json::from_str(&raw).unwrap();
        assert_eq!(echo.path, "/?animal=whale");
        assert_eq!(echo.host, format!("127.0.0.1:{port}"));
        assert_eq!(echo.method, "GET");
        assert_eq!(echo.proto, "HTTP/1.1");
        assert_eq!(echo.namespace, "gateway-conformance-infra");
        assert_eq!(echo.ingress, "");
        assert_eq!(echo.service, "infra-backend-v1");
        assert_eq!(echo.pod, server.identity().pod);
        assert!(echo.pod.starts_with("infra-backend-v1-"));
        assert_eq!(echo.http_port, port.to_string());
        assert_eq!(echo.headers["User-Agent"], vec!["curl/8".to_owned()]);
        assert_eq!(echo.headers["X-Echo-Set-Header"], vec![String::new()]);
        assert!(!echo.headers.contains_key("Host"), "Host is excluded like Go");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn canonical_header_names_and_multiple_values() {
    bounded(async {
        let server = start().await;
        let mut headers = HeaderMap::new();
        headers.append("x-custom-thing", HeaderValue::from_static("a"));
        headers.append("x-custom-thing", HeaderValue::from_static("b"));
        headers.append("www-authenticate", HeaderValue::from_static("Basic"));
        let echo: EchoResponse = client()
            .get(url(&server, "/some/path"))
            .headers(headers)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echo.path, "/some/path");
        assert_eq!(echo.headers["X-Custom-Thing"], vec!["a", "b"]);
        assert_eq!(echo.headers["Www-Authenticate"], vec!["Basic"]);
        assert_eq!(echo.header("x-CUSTOM-thing").as_deref(), Some("a,b"));
        assert_eq!(echo.header("missing"), None);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn echo_set_header_sets_response_headers() {
    bounded(async {
        let server = start().await;
        let response = client()
            .get(url(&server, "/"))
            .header(
                "X-Echo-Set-Header",
                " X-Foo: bar , X-Empty:,bad name:x, X-Foo:baz,Content-Type:text/plain",
            )
            .header("x-echo-set-header", "X-Second-List:1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["x-foo"], "bar,baz");
        assert_eq!(headers["x-empty"], "");
        assert_eq!(headers["x-second-list"], "1");
        assert!(!headers.contains_key("bad name"));
        // The echo's own content type wins, as in echo-basic.
        assert_eq!(headers["content-type"], "application/json");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn status_and_health_endpoints() {
    bounded(async {
        let server = start().await;
        let client = client();
        for (path, want) in [
            ("/status/404", StatusCode::NOT_FOUND),
            ("/status/503", StatusCode::SERVICE_UNAVAILABLE),
            ("/status/200", StatusCode::OK),
            ("/status/abc", StatusCode::BAD_REQUEST),
            ("/status/099", StatusCode::BAD_REQUEST),
            ("/status/999", StatusCode::BAD_REQUEST),
            ("/status/5000", StatusCode::BAD_REQUEST),
        ] {
            let response = client.get(url(&server, path)).send().await.unwrap();
            assert_eq!(response.status(), want, "{path}");
            assert!(!response.headers().contains_key("content-type"), "{path}");
            assert_eq!(response.text().await.unwrap(), "", "{path}");
        }
        let health = client.get(url(&server, "/health")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        assert_eq!(health.text().await.unwrap(), "OK");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn delay_query_parameter() {
    bounded(async {
        let server = start().await;
        let client = client();
        let started = Instant::now();
        let echo: EchoResponse = client
            .get(url(&server, "/delayed?delay=300ms"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(echo.path, "/delayed?delay=300ms");

        let bad = client.get(url(&server, "/?delay=soon")).send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(bad.headers()["content-type"], "application/json");
        let body: serde_json::Value = bad.json().await.unwrap();
        assert_eq!(body["message"], "time: invalid duration \"soon\"");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn head_post_put_methods() {
    bounded(async {
        let server = start().await;
        let client = client();

        let head = client.head(url(&server, "/head")).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(head.headers()["content-type"], "application/json");
        assert_eq!(head.text().await.unwrap(), "");

        for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            let echo: EchoResponse = client
                .request(method.clone(), url(&server, "/upload?x=1"))
                .body("hello")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(echo.method, method.as_str());
            assert_eq!(echo.path, "/upload?x=1");
            assert_eq!(echo.header("content-length").as_deref(), Some("5"));
        }
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn h2c_prior_knowledge() {
    bounded(async {
        let server = start().await;
        let client = Client::builder()
            .no_proxy()
            .http2_prior_knowledge()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let response = client
            .get(url(&server, "/h2?x=y"))
            .header("x-echo-set-header", "X-Via-H2:yes")
            .header("x-mixed-case", "v")
            .send()
            .await
            .unwrap();
        assert_eq!(response.version(), Version::HTTP_2);
        assert_eq!(response.headers()["x-via-h2"], "yes");
        let echo: EchoResponse = response.json().await.unwrap();
        assert_eq!(echo.proto, "HTTP/2.0");
        assert_eq!(echo.path, "/h2?x=y");
        assert_eq!(echo.host, server.local_addr().to_string());
        assert_eq!(echo.headers["X-Mixed-Case"], vec!["v"]);
        assert!(!echo.headers.contains_key("Host"));
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_requests() {
    bounded(async {
        let server = start().await;
        let client = client();
        let started = Instant::now();
        let requests = (0..32).map(|i| {
            let client = client.clone();
            let url = url(&server, &format!("/req/{i}?delay=200ms"));
            async move {
                let echo: EchoResponse = client.get(url).send().await?.json().await?;
                Ok::<_, reqwest::Error>((i, echo))
            }
        });
        for result in futures::future::join_all(requests).await {
            let (i, echo) = result.unwrap();
            assert_eq!(echo.path, format!("/req/{i}?delay=200ms"));
        }
        // Served in parallel, not one after another (32 × 200 ms).
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn stops_on_shutdown_and_on_drop() {
    bounded(async {
        let server = start().await;
        let addr = server.local_addr();
        server.shutdown().await;
        let refused = client().get(format!("http://{addr}/")).send().await;
        assert!(refused.is_err(), "still serving after shutdown");

        let server = start().await;
        let addr = server.local_addr();
        drop(server);
        // Shutdown after drop happens in the background; poll until it is gone.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if client().get(format!("http://{addr}/")).send().await.is_err() {
                break;
            }
            assert!(Instant::now() < deadline, "still serving after drop");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[test]
fn pod_names_are_deterministic_and_prefixed() {
    let first = pod_name("infra-backend-v1", 0);
    assert_eq!(first, pod_name("infra-backend-v1", 0));
    let second = pod_name("infra-backend-v1", 1);
    assert_ne!(first, second);
    for name in [&first, &second] {
        let rest = name.strip_prefix("infra-backend-v1-").unwrap();
        let (replica_set, pod) = rest.split_once('-').unwrap();
        assert_eq!(replica_set.len(), 10, "{name}");
        assert_eq!(pod.len(), 5, "{name}");
        assert!(
            rest.bytes()
                .all(|b| b == b'-' || b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{name}"
        );
    }
    // Pods of one service share the ReplicaSet-like hash.
    assert_eq!(first[..first.len() - 5], second[..second.len() - 5]);
    assert_ne!(pod_name("infra-backend-v2", 0), first);
}
