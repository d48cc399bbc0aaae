//! Serves one gRPC service (a tonic-generated server) to Envoy on hyper's HTTP/2 server
//! directly, as the enforcer (ext_authz) and the limiter (RLS) do.
//!
//! Envoy is the only client: it speaks HTTP/2 only and multiplexes each worker's calls on one
//! connection, so tonic's router and layers (path routing, `grpc-timeout`, error recovery)
//! would be per-call work with nothing to do; the one service is mounted on each connection as
//! is. Every accepted socket has Nagle's algorithm off: an answer is small frames written one
//! after the other (headers, message, trailers), and with Nagle a write waits for the ACK of
//! the one before, which Envoy delays by up to 40 ms.

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Streams one connection may carry at once; Envoy opens one connection per worker and
/// multiplexes every call in flight on it.
const MAX_CONCURRENT_STREAMS: u32 = 1024;
/// Pause after a failed accept (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

type BoxError = Box<dyn StdError + Send + Sync>;

/// Serves `service` on `listener` until `shutdown` completes; then the listener is closed and
/// open connections are told to go away (GOAWAY) once their calls in flight are answered.
/// Failed accepts are logged and retried, so this only returns after `shutdown`. `what` names
/// the service in logs.
pub async fn serve_until<S, B>(
    what: &'static str,
    listener: TcpListener,
    service: S,
    shutdown: impl Future<Output = ()>,
) where
    S: tower_service::Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    tracing::info!(addr = ?listener.local_addr().ok(), "{what} listening");
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
            accepted = accept(&listener, what) => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a {what} connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
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
                tracing::debug!(%peer, %error, "{what} connection ended with an error");
            }
        });
    }
    // Closing the listener first: new clients are refused at once instead of hanging.
    drop(listener);
    drop(draining);
    let _ = drain.send(());
    drain.closed().await;
}

/// The next connection, with Nagle's algorithm off.
async fn accept(listener: &TcpListener, what: &str) -> std::io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%peer, %error, "could not set TCP_NODELAY on a {what} connection");
    }
    Ok((stream, peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn accepted_connections_disable_nagle() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let _first = TcpStream::connect(address).await.expect("connect");
        let (plain, _) = listener.accept().await.expect("accept");
        assert!(
            !plain.nodelay().expect("nodelay"),
            "sockets are accepted with Nagle on"
        );
        let _second = TcpStream::connect(address).await.expect("connect");
        let (ours, _) = accept(&listener, "test").await.expect("accept");
        assert!(ours.nodelay().expect("nodelay"));
    }
}
