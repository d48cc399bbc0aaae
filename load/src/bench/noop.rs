//! Services that answer Envoy at once, doing no work: an ext_authz service and a rate-limit
//! service. Through them the benchmarks measure the floor of the protocol itself — what
//! Envoy's `ext_authz` or `ratelimit` filter costs per request whatever the service does — so
//! a report can tell the price of the call from the price of portcullis's enforcer or limiter.

use std::future::Future;

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

/// Serves [`NoopAuthorizer`] on `listener` until `shutdown`, as the enforcer is served.
pub async fn serve_authorizer(listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let service = AuthorizationServer::new(NoopAuthorizer);
    portcullis_grpc_serve::serve_until("no-op ext_authz", listener, service, shutdown).await;
}

/// Serves [`NoopRateLimiter`] on `listener` until `shutdown`, as the limiter is served.
pub async fn serve_rate_limiter(listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let service = RateLimitServiceServer::new(NoopRateLimiter);
    portcullis_grpc_serve::serve_until("no-op rate-limit service", listener, service, shutdown).await;
}
