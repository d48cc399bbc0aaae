//! Services that answer Envoy at once, doing no work: an ext_authz service and a rate-limit
//! service. Through them the benchmarks measure the floor of the protocol itself — what
//! Envoy's `ext_authz` or `ratelimit` filter costs per request whatever the service does — so
//! a report can tell the price of the call from the price of portcullis's enforcer or limiter.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, HttpStatusCode,
};
use envoy_types::ext_authz::v3::{CheckResponseExt as _, DeniedHttpResponseBuilder, OkHttpResponseBuilder};
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_server::{
    RateLimitService, RateLimitServiceServer,
};
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::{Request, Response, Status};

/// Allows a request that carries an `authorization` header and denies (401) one that does not,
/// without looking at the credential: the presence check shows the call is made, and costs
/// next to nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopAuthorizer;

#[tonic::async_trait]
impl Authorization for NoopAuthorizer {
    async fn check(&self, request: Request<CheckRequest>) -> Result<Response<CheckResponse>, Status> {
        let has_credential = request
            .get_ref()
            .attributes
            .as_ref()
            .and_then(|a| a.request.as_ref())
            .and_then(|r| r.http.as_ref())
            .is_some_and(|http| http.headers.contains_key("authorization"));
        let response = if has_credential {
            let mut response = CheckResponse::with_status(Status::ok("allowed"));
            response.set_http_response(OkHttpResponseBuilder::new());
            response
        } else {
            let mut response = CheckResponse::with_status(Status::unauthenticated("no credential"));
            let mut denied = DeniedHttpResponseBuilder::new();
            denied.set_http_status(HttpStatusCode::Unauthorized);
            response.set_http_response(denied);
            response
        };
        Ok(Response::new(response))
    }
}

/// Answers every rate-limit request "OK" without counting.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopRateLimiter;

#[tonic::async_trait]
impl RateLimitService for NoopRateLimiter {
    async fn should_rate_limit(
        &self,
        _request: Request<RateLimitRequest>,
    ) -> Result<Response<RateLimitResponse>, Status> {
        Ok(Response::new(RateLimitResponse {
            overall_code: Code::Ok as i32,
            ..Default::default()
        }))
    }
}

/// Which no-op service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoopKind {
    /// [`NoopAuthorizer`], Envoy's ext_authz service.
    Authorizer,
    /// [`NoopRateLimiter`], Envoy's rate-limit service.
    RateLimiter,
}

/// A no-op service served on a free loopback port (as the enforcer and the limiter are served,
/// through [`portcullis_grpc_serve`]) until [`NoopService::stop`].
pub struct NoopService {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl NoopService {
    /// Binds a free loopback port and serves `kind` on it.
    pub async fn start(kind: NoopKind) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .with_context(|| format!("binding the no-op {kind:?}"))?;
        let address = listener
            .local_addr()
            .with_context(|| format!("the no-op {kind:?}'s address"))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = match kind {
            NoopKind::Authorizer => tokio::spawn(portcullis_grpc_serve::serve_until(
                "no-op ext_authz",
                listener,
                AuthorizationServer::new(NoopAuthorizer),
                shutdown,
            )),
            NoopKind::RateLimiter => tokio::spawn(portcullis_grpc_serve::serve_until(
                "no-op rate-limit service",
                listener,
                RateLimitServiceServer::new(NoopRateLimiter),
                shutdown,
            )),
        };
        Ok(NoopService { address, stop, task })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops it and waits until it has.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
