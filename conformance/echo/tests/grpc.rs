//! The echo backend's gRPC service, called over a real h2c connection.

use std::net::SocketAddr;
use std::time::Duration;

use portcullis_echo::grpc::{GrpcCall, SERVICE, call};
use portcullis_echo::{EchoIdentity, EchoServer, pod_name};

const TEST_TIMEOUT: Duration = Duration::from_secs(20);

async fn start() -> EchoServer {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let identity = EchoIdentity {
        namespace: "gateway-conformance-infra".to_owned(),
        service: "grpc-infra-backend-v1".to_owned(),
        pod: pod_name("grpc-infra-backend-v1", 0),
    };
    EchoServer::start(bind, identity).await.unwrap()
}

fn echo_call(server: &EchoServer, method: &str) -> GrpcCall {
    GrpcCall {
        address: server.local_addr(),
        authority: "grpc.example.com".to_owned(),
        service: SERVICE.to_owned(),
        method: method.to_owned(),
        metadata: vec![("X-Flavour".to_owned(), "lemon".to_owned())],
    }
}

#[tokio::test]
async fn echo_reports_method_authority_metadata_and_backend() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = start().await;
        for method in ["Echo", "EchoTwo"] {
            let answer = call(&echo_call(&server, method)).await.unwrap();
            assert_eq!(answer.code_name(), "OK", "{answer:?}");
            let response = answer.response.unwrap();
            let assertions = response.assertions.as_ref().unwrap();
            assert_eq!(assertions.fully_qualified_method, format!("/{SERVICE}/{method}"));
            assert_eq!(assertions.authority, "grpc.example.com");
            assert_eq!(response.header("x-flavour").as_deref(), Some("lemon"));
            assert_eq!(
                response.header("content-type").as_deref(),
                Some("application/grpc")
            );
            let context = response.context().unwrap();
            assert_eq!(context.namespace, "gateway-conformance-infra");
            assert_eq!(context.service_name, "grpc-infra-backend-v1");
            assert!(
                context.pod.starts_with("grpc-infra-backend-v1-"),
                "{}",
                context.pod
            );
        }
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn other_methods_are_unimplemented_and_http_still_echoes() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = start().await;
        let answer = call(&echo_call(&server, "EchoThree")).await.unwrap();
        assert_eq!(answer.code_name(), "UNIMPLEMENTED", "{answer:?}");
        assert!(answer.response.is_none());
        // The same port keeps answering plain HTTP with the JSON echo.
        let body: serde_json::Value = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://{}/plain", server.local_addr()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["path"], "/plain");
    })
    .await
    .expect("test timed out");
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let server = start().await;
    let address = server.local_addr();
    server.shutdown().await;
    let mut request = GrpcCall {
        address,
        authority: "x".to_owned(),
        service: SERVICE.to_owned(),
        method: "Echo".to_owned(),
        metadata: Vec::new(),
    };
    assert!(call(&request).await.is_err());
    request.metadata.push(("bad header".to_owned(), "v".to_owned()));
    assert!(call(&request).await.is_err());
}
