//! The RLS v3 gRPC front end: a thin tonic service over [`Limiter`], served by hyper's HTTP/2
//! server directly through [`portcullis_grpc_serve`] (no tonic router, Nagle off).

use std::future::Future;
use std::sync::Arc;

use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_server::{
    RateLimitService, RateLimitServiceServer,
};
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use crate::error::{LimitError, ServeError};
use crate::limiter::Limiter;

/// `envoy.service.ratelimit.v3.RateLimitService` backed by a shared [`Limiter`].
#[derive(Debug, Clone)]
pub struct LimiterServer {
    limiter: Arc<Limiter>,
}

impl LimiterServer {
    /// A service answering from `limiter`.
    pub fn new(limiter: Arc<Limiter>) -> Self {
        LimiterServer { limiter }
    }

    /// The tonic service, to mount in a `tonic::transport::Server`.
    pub fn into_service(self) -> RateLimitServiceServer<LimiterServer> {
        RateLimitServiceServer::new(self)
    }
}

#[tonic::async_trait]
impl RateLimitService for LimiterServer {
    async fn should_rate_limit(
        &self,
        request: Request<RateLimitRequest>,
    ) -> Result<Response<RateLimitResponse>, Status> {
        match self.limiter.should_rate_limit(request.get_ref()).await {
            Ok(response) => Ok(Response::new(response)),
            // A gRPC error is what Envoy's `failure_mode_deny` acts on (see `FailMode::Closed`).
            Err(error @ LimitError::StoreUnavailable(_)) => Err(Status::unavailable(error.to_string())),
        }
    }
}

/// Serve RLS on an already-bound listener, forever.
pub async fn serve(listener: TcpListener, limiter: Arc<Limiter>) -> Result<(), ServeError> {
    serve_with_shutdown(listener, limiter, std::future::pending()).await
}

/// Serve RLS on `listener` until `shutdown` completes, then stop accepting, drain in-flight calls
/// and return. Failed accepts are logged and retried, as tonic's server does.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    limiter: Arc<Limiter>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let service = LimiterServer::new(limiter).into_service();
    portcullis_grpc_serve::serve_until("rate limit service", listener, service, shutdown).await;
    Ok(())
}
