//! The gateway's own HTTP endpoints, reached through Envoy like any backend: the built-in IdP
//! (token endpoint, JWKS, API keys), the JWKS of the backend-JWT signer, APK's Config Service
//! and its Deployer (which writes into the resource folder, or applies to the cluster; the
//! gateway protects it with a Scope, so it does no authentication of its own).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use portcullis_config_service::deployer::DeployTarget;
use portcullis_enforcer::BackendJwtSigner;
use portcullis_idp::Idp;
use tokio::net::TcpListener;

use crate::error::OperatorError;
use crate::profile::BACKEND_JWKS_PATH;

/// A running system server.
pub struct SystemServer {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl SystemServer {
    /// Serves the IdP and the backend-JWT JWKS on a free loopback port.
    pub async fn start(
        idp: Arc<Idp>,
        signer: Arc<BackendJwtSigner>,
        deployer: Arc<dyn DeployTarget>,
    ) -> Result<Self, OperatorError> {
        let jwks = signer.jwks();
        let router = idp
            .router()
            .route(
                BACKEND_JWKS_PATH,
                get(move || std::future::ready(Json(jwks.clone()))),
            )
            .merge(portcullis_config_service::http::router())
            .merge(portcullis_config_service::http::deployer_router(deployer));
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| OperatorError::io("binding the system server", e))?;
        let address = listener
            .local_addr()
            .map_err(|e| OperatorError::io("system server address", e))?;
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!("system server stopped: {error}");
            }
        });
        Ok(SystemServer { address, task })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for SystemServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
