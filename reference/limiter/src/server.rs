//! The RLS v3 gRPC front end: a thin tonic service over [`Limiter`], served by hyper's HTTP/2
//! server directly.
//!
//! Envoy is the only client and speaks HTTP/2 only, multiplexing each worker's calls on one
//! connection, so tonic's router and layers (path routing, `grpc-timeout`, error recovery) are
//! per-call work with nothing to do: the one service is mounted on the connection as is.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_server::{
    RateLimitService, RateLimitServiceServer,
};
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tracing::{debug, info, warn};

use crate::error::{LimitError, ServeError};
use crate::limiter::Limiter;

/// Streams one connection may carry at once; Envoy opens few connections and multiplexes.
const MAX_CONCURRENT_STREAMS: u32 = 1024;
/// Pause after a failed accept (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

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
    if let Ok(addr) = listener.local_addr() {
        info!(%addr, "rate limit service listening");
    }
    let service = LimiterServer::new(limiter).into_service();
    let mut http2 = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    http2
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        // A `date` header formatted and HPACK-encoded on every answer that Envoy never reads.
        .auto_date_header(false);
    // Each connection holds a receiver: a send asks them to finish, and `closed` tells when the
    // last one has.
    let (drain, draining) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn!(%error, "accepting a rate limit connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Decisions are tiny messages: without TCP_NODELAY, Nagle's algorithm meets Envoy's
        // delayed ACKs and adds tens of milliseconds to some of them.
        if let Err(error) = stream.set_nodelay(true) {
            debug!(%peer, %error, "could not set TCP_NODELAY");
        }
        let connection =
            http2.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service.clone()));
        let mut draining = draining.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = draining.changed() => {
                    // GOAWAY: calls in flight finish, new ones go elsewhere.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                debug!(%peer, %error, "rate limit connection ended with an error");
            }
        });
    }
    // Closing the listener first: new clients are refused at once instead of hanging.
    drop(listener);
    drop(draining);
    let _ = drain.send(());
    drain.closed().await;
    Ok(())
}
