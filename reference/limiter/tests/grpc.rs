//! The RLS gRPC server end to end, through envoy-types' generated client.

mod common;

use std::sync::Arc;

use anyhow::Result;
use common::*;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_client::RateLimitServiceClient;
use portcullis_limiter::{DescriptorConfig, FailMode, Limiter, LimiterOptions, Unit, serve_with_shutdown};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::Code as GrpcCode;

/// Serve `limiter` on a loopback port; returns the client, the shutdown trigger and the server task.
async fn start(
    limiter: Arc<Limiter>,
) -> Result<(
    RateLimitServiceClient<tonic::transport::Channel>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), portcullis_limiter::ServeError>>,
)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(listener, limiter, async {
        let _ = stopped.await;
    }));
    let client = RateLimitServiceClient::connect(format!("http://{addr}")).await?;
    Ok((client, stop, server))
}

#[tokio::test]
async fn grpc_answers_ok_then_over_limit_with_headers() -> Result<()> {
    init_tracing();
    bounded(30, async {
        let limiter = Arc::new(Limiter::in_memory());
        // Hours: the calls below cannot straddle a window boundary in practice.
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("route").limit(2, Unit::Hour)],
        ));
        let (mut client, stop, server) = start(limiter.clone()).await?;

        let mut codes = Vec::new();
        for _ in 0..3 {
            let response = client
                .should_rate_limit(request("gw", &[&[("route", "orders")]]))
                .await?
                .into_inner();
            assert_eq!(header(&response, "RateLimit-Limit"), Some("2"));
            assert!(header(&response, "RateLimit-Reset").is_some());
            codes.push((
                response.overall_code,
                header(&response, "RateLimit-Remaining").map(String::from),
            ));
        }
        let ok = 1;
        let over = 2;
        assert_eq!(
            codes,
            vec![
                (ok, Some("1".into())),
                (ok, Some("0".into())),
                (over, Some("0".into()))
            ]
        );
        let unmatched = client
            .should_rate_limit(request("gw", &[&[("tenant", "acme")]]))
            .await?
            .into_inner();
        assert!(is_ok(&unmatched));
        assert_eq!(limiter.stats().snapshot().decisions, 4);

        let _ = stop.send(());
        server.await??;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn grpc_fail_closed_is_unavailable_so_envoy_applies_failure_mode_deny() -> Result<()> {
    init_tracing();
    bounded(30, async {
        let options = LimiterOptions {
            fail_mode: FailMode::Closed,
            ..Default::default()
        };
        let limiter = Arc::new(Limiter::new(Arc::new(FailingStore), options));
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("route").limit(2, Unit::Hour)],
        ));
        let (mut client, stop, server) = start(limiter).await?;
        let status = client
            .should_rate_limit(request("gw", &[&[("route", "orders")]]))
            .await
            .unwrap_err();
        assert_eq!(status.code(), GrpcCode::Unavailable, "{status}");
        let _ = stop.send(());
        server.await??;
        Ok(())
    })
    .await
}
