//! The HTTP face of the IdP: token, API key, JWKS and discovery endpoints on axum.

mod api_keys;
mod client_auth;
mod discovery;
pub(crate) mod error;
mod form;
mod token;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::idp::Idp;

/// Largest request body accepted; token requests are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

impl Idp {
    /// The IdP's routes: token (1.x and 2.x paths), JWKS, API keys and OpenID discovery.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/oauth2/token", post(token::token))
            .route("/oauth2/1.0.0/token", post(token::token))
            .route("/oauth2/jwks", get(discovery::jwks))
            .route("/oauth2/1.0.0/jwks", get(discovery::jwks))
            .route("/oauth2/api-keys", post(api_keys::api_key))
            .route(
                "/.well-known/openid-configuration",
                get(discovery::openid_configuration),
            )
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self)
    }
}

/// Serves the IdP's router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    idp: Arc<Idp>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, idp.router())
        .with_graceful_shutdown(shutdown)
        .await
}
