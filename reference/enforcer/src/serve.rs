//! The ext_authz transport: [`AuthzService`] served by hyper's HTTP/2 server directly, through
//! [`portcullis_grpc_serve`] (no tonic router; Nagle off, which a denial's trailers need: with
//! it on, every denial waited ~40 ms for Envoy's delayed ACK).

use std::future::Future;
use std::sync::Arc;

use envoy_types::ext_authz::v3::pb::AuthorizationServer;
use tokio::net::TcpListener;

use crate::enforcer::Enforcer;
use crate::server::AuthzService;

/// Failure of the ext_authz server: there is none once it listens (failed accepts are retried
/// and connections end on their own); the type keeps callers' `Result` handling uniform.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {}

/// Serves ext_authz on `listener` forever.
pub async fn serve(listener: TcpListener, enforcer: Arc<Enforcer>) -> Result<(), ServeError> {
    serve_until(listener, enforcer, std::future::pending()).await
}

/// Like [`serve`], until `shutdown` completes; then the listener is closed and open connections
/// are told to go away (GOAWAY) once their checks in flight are answered, so Envoy sees the
/// enforcer go away.
pub async fn serve_until(
    listener: TcpListener,
    enforcer: Arc<Enforcer>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let service = AuthorizationServer::new(AuthzService::new(enforcer));
    portcullis_grpc_serve::serve_until("ext_authz server", listener, service, shutdown).await;
    Ok(())
}
