//! An echo backend that answers like the Gateway API conformance `echo-basic`
//! server, so the same assertions hold whichever gateway sits in front of it.
//!
//! Besides echoing the request as JSON it honours `X-Echo-Set-Header`,
//! `/status/NNN`, `/health` and `?delay=<go duration>`, and speaks HTTP/1.1
//! and h2c (prior knowledge) on one port. gRPC calls on that port are answered by the
//! [`grpc`] echo service.

mod duration;
pub mod grpc;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, TRANSFER_ENCODING, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::duration::parse_go_duration;

/// Longest `?delay=` honoured, so a typo cannot wedge a test run.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// How long `shutdown()` waits for in-flight requests before giving up.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Request header listing response headers to set: `Name:val,Name2:val2`.
const ECHO_SET_HEADER: &str = "x-echo-set-header";

/// Identity an echo backend reports, like the env vars of a pod.
#[derive(Clone, Debug)]
pub struct EchoIdentity {
    /// Reported as `namespace` (echo-basic's `NAMESPACE`).
    pub namespace: String,
    /// Reported as `service` (echo-basic's `SERVICE_NAME`).
    pub service: String,
    /// Reported as `pod` (echo-basic's `POD_NAME`); see [`pod_name`].
    pub pod: String,
}

/// Errors starting an echo backend.
#[derive(Debug, thiserror::Error)]
pub enum EchoError {
    /// The listening socket could not be bound.
    #[error("failed to bind echo server to {addr}")]
    Bind {
        /// Address that was asked for.
        addr: SocketAddr,
        /// Underlying socket error.
        #[source]
        source: io::Error,
    },
    /// The bound socket did not report its address.
    #[error("failed to read the echo server's local address")]
    LocalAddr(#[source] io::Error),
}

/// The echo JSON as the harness parses it, reusable by the harness's assertions.
///
/// Field order is the wire order of echo-basic.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct EchoResponse {
    /// Request URI as received: path plus `?query` when present.
    pub path: String,
    /// `Host` header, or `:authority` for HTTP/2.
    pub host: String,
    /// Request method.
    pub method: String,
    /// Protocol, Go style: `HTTP/1.1`, `HTTP/2.0`.
    pub proto: String,
    /// Request headers keyed by Go canonical name (`X-Foo-Bar`), `Host` excluded.
    pub headers: BTreeMap<String, Vec<String>>,
    /// Namespace of the backend.
    pub namespace: String,
    /// Always empty; kept for echo-basic compatibility.
    #[serde(default)]
    pub ingress: String,
    /// Service name of the backend.
    #[serde(default)]
    pub service: String,
    /// Pod name of the backend.
    pub pod: String,
    /// Port the backend listens on, as a string.
    #[serde(rename = "httpPort", default)]
    pub http_port: String,
}

impl EchoResponse {
    /// Values of request header `name` (case-insensitive), joined by `,`;
    /// `None` when the header was not received.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut values = self
            .headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .flat_map(|(_, values)| values.iter().map(String::as_str))
            .peekable();
        values.peek()?;
        Some(values.collect::<Vec<_>>().join(","))
    }
}

/// Alphabet Kubernetes uses for generated name suffixes (no vowels, no
/// look-alike digits), so generated pod names look like real ones.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Pod name for a service: `<service>-<10 lowercase alnum>-<5 lowercase alnum>`.
///
/// Deterministic in `(service, index)`. The 10-character part depends only on
/// the service, like a ReplicaSet hash shared by all pods of a Deployment, so
/// checks that the pod name starts with the service/deployment name hold.
pub fn pod_name(service: &str, index: usize) -> String {
    let replica_set = suffix(fnv1a(service.as_bytes()), 10);
    let mut seed = service.as_bytes().to_vec();
    seed.push(0);
    seed.extend_from_slice(&(index as u64).to_le_bytes());
    let pod = suffix(fnv1a(&seed), 5);
    format!("{service}-{replica_set}-{pod}")
}

/// 64-bit FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `len` characters of [`NAME_ALPHABET`] drawn from a splitmix64 stream.
fn suffix(mut state: u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            // The modulus is tiny, so the truncation is exact.
            char::from(NAME_ALPHABET[(z % NAME_ALPHABET.len() as u64) as usize])
        })
        .collect()
}

/// What every request handler needs.
struct Shared {
    identity: EchoIdentity,
    http_port: String,
}

/// A running echo backend; stops when dropped or on `shutdown()`.
pub struct EchoServer {
    local_addr: SocketAddr,
    identity: EchoIdentity,
    // Dropping the sender (with the server) is what triggers shutdown.
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for EchoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EchoServer")
            .field("local_addr", &self.local_addr)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl EchoServer {
    /// Binds `bind` (port 0 picks a free port) and starts serving in the background.
    pub async fn start(bind: SocketAddr, identity: EchoIdentity) -> Result<EchoServer, EchoError> {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|source| EchoError::Bind { addr: bind, source })?;
        let local_addr = listener.local_addr().map_err(EchoError::LocalAddr)?;
        let shared = Arc::new(Shared {
            identity: identity.clone(),
            http_port: local_addr.port().to_string(),
        });
        // Routing is done by hand in `handle` to mirror echo-basic's ServeMux.
        let app = Router::new().fallback(handle).with_state(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // axum's serve uses hyper-util's auto builder: HTTP/1.1 and h2c
            // prior knowledge on the same socket.
            let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                // A send or a dropped sender both mean "stop".
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::warn!(%local_addr, %error, "echo server stopped with an error");
            }
            tracing::debug!(%local_addr, "echo server stopped");
        });
        tracing::info!(
            %local_addr,
            service = %identity.service,
            pod = %identity.pod,
            "echo server listening"
        );
        Ok(EchoServer {
            local_addr,
            identity,
            stop,
            task,
        })
    }

    /// Address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Identity the server reports.
    pub fn identity(&self) -> &EchoIdentity {
        &self.identity
    }

    /// Stops accepting connections and waits (boundedly) for in-flight requests.
    pub async fn shutdown(self) {
        let EchoServer {
            local_addr,
            stop,
            mut task,
            ..
        } = self;
        let _ = stop.send(());
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await.is_err() {
            tracing::warn!(%local_addr, "echo server did not drain in time; aborting");
            task.abort();
        }
    }
}

/// Single entry point; routes like echo-basic's mux (which matches on the
/// path with `//` collapsed).
async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    if grpc::is_grpc(request.headers()) {
        return grpc::handle(&shared.identity, request).await;
    }
    let (parts, body) = request.into_parts();
    let request_uri = request_uri(&parts.uri, parts.version);
    // Read the body so the connection stays reusable; its content is unused.
    drain(body).await;

    let route = parts.uri.path().replace("//", "/");
    if route == "/health" {
        tracing::debug!(%remote, "health check");
        return (StatusCode::OK, "OK").into_response();
    }
    if route.starts_with("/status/") {
        tracing::debug!(%remote, uri = %request_uri, "status request");
        return status_response(&request_uri);
    }

    tracing::info!("Echoing back request made to {request_uri} to client ({remote})");

    if let Some(raw) = first_query_value(&parts.uri, "delay") {
        match parse_go_duration(&raw) {
            Ok(delay) => tokio::time::sleep(delay.min(MAX_DELAY)).await,
            Err(error) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, &error),
        }
    }

    let echo = EchoResponse {
        path: request_uri,
        host: request_host(&parts.uri, &parts.headers),
        method: parts.method.as_str().to_owned(),
        proto: proto(parts.version),
        headers: echoed_headers(&parts.headers),
        namespace: shared.identity.namespace.clone(),
        ingress: String::new(),
        service: shared.identity.service.clone(),
        pod: shared.identity.pod.clone(),
        http_port: shared.http_port.clone(),
    };
    let body = match to_go_json(&echo) {
        Ok(body) => body,
        Err(error) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, &error),
    };

    let mut response = Response::new(Body::from(body));
    // Requested headers first, so they cannot override the content type.
    for (name, value) in requested_response_headers(&parts.headers) {
        response.headers_mut().insert(name, value);
    }
    set_json_headers(response.headers_mut());
    response
}

/// Discards a request body, stopping at the first error.
async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        if chunk.is_err() {
            break;
        }
    }
}

/// Go's `r.RequestURI`: the request target as sent. HTTP/2 requests carry
/// scheme and authority separately, so only `:path` counts there.
fn request_uri(uri: &Uri, version: Version) -> String {
    if version >= Version::HTTP_2 {
        uri.path_and_query()
            .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
    } else {
        uri.to_string()
    }
}

/// Go's `r.Host`: the URI authority (absolute-form or `:authority`) wins over `Host`.
fn request_host(uri: &Uri, headers: &HeaderMap) -> String {
    if let Some(authority) = uri.authority() {
        return authority.as_str().to_owned();
    }
    headers
        .get(HOST)
        .map(|host| String::from_utf8_lossy(host.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// Go's `r.Proto` spelling.
fn proto(version: Version) -> String {
    match version {
        Version::HTTP_09 => "HTTP/0.9".to_owned(),
        Version::HTTP_10 => "HTTP/1.0".to_owned(),
        Version::HTTP_11 => "HTTP/1.1".to_owned(),
        Version::HTTP_2 => "HTTP/2.0".to_owned(),
        Version::HTTP_3 => "HTTP/3.0".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Go's `r.Header`: canonical names, values in arrival order, without the
/// headers Go's server moves elsewhere (`Host`, `Transfer-Encoding`).
fn echoed_headers(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut echoed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        if name == HOST || name == TRANSFER_ENCODING {
            continue;
        }
        echoed
            .entry(canonical_header_name(name.as_str()))
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    echoed
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: upper-case the first letter and
/// each letter after `-`, lower-case the rest; names with characters outside
/// the token set are left alone, as Go does.
fn canonical_header_name(name: &str) -> String {
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !name.bytes().all(is_token) {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// Response headers asked for with `X-Echo-Set-Header`. Like echo-basic, an
/// entry without `:` sets an empty value and repeated names are joined with
/// `,`; entries that are not a valid header name or value are skipped.
fn requested_response_headers(headers: &HeaderMap) -> Vec<(HeaderName, HeaderValue)> {
    let mut requested: Vec<(HeaderName, String)> = Vec::new();
    for list in headers.get_all(ECHO_SET_HEADER) {
        let Ok(list) = list.to_str() else { continue };
        for entry in list.split(',') {
            let (name, value) = entry.trim().split_once(':').unwrap_or((entry.trim(), ""));
            let Ok(name) = HeaderName::from_bytes(name.trim().as_bytes()) else {
                continue;
            };
            let value = value.trim();
            match requested.iter_mut().find(|(known, _)| *known == name) {
                Some((_, joined)) => {
                    joined.push(',');
                    joined.push_str(value);
                }
                None => requested.push((name, value.to_owned())),
            }
        }
    }
    requested
        .into_iter()
        .filter_map(|(name, value)| Some((name, HeaderValue::from_str(&value).ok()?)))
        .collect()
}

/// First value of query parameter `key`, URL-decoded (Go's `FormValue`).
fn first_query_value(uri: &Uri, key: &str) -> Option<String> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri).ok()?;
    pairs.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// echo-basic's `/status/` handler: the code must be exactly three digits at
/// the end of the request URI (a query string makes it a 400). Informational
/// codes cannot be a final response, so like Go's net/http they end as 200.
fn status_response(request_uri: &str) -> Response {
    let code = request_uri
        .strip_prefix("/status/")
        .filter(|digits| digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u16>().ok())
        .filter(|code| (100..=599).contains(code))
        .map_or(StatusCode::BAD_REQUEST, |code| {
            if code < 200 {
                StatusCode::OK
            } else {
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
            }
        });
    code.into_response()
}

/// echo-basic's `processError`: `{"message": "..."}` with the JSON headers.
fn error_response(status: StatusCode, error: &dyn std::fmt::Display) -> Response {
    let body = serde_json::json!({ "message": error.to_string() }).to_string();
    let mut response = (status, body).into_response();
    set_json_headers(response.headers_mut());
    response
}

fn set_json_headers(headers: &mut HeaderMap) {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// Serialises like Go's `json.MarshalIndent(v, "", " ")`: one-space indent and
/// HTML-sensitive characters escaped.
fn to_go_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer)?;
    let json = String::from_utf8_lossy(&out);
    // These characters can only occur inside JSON strings, so a textual
    // replacement over the whole document is exact.
    let mut escaped = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => escaped.push_str("\\u003c"),
            '>' => escaped.push_str("\\u003e"),
            '&' => escaped.push_str("\\u0026"),
            '\u{2028}' => escaped.push_str("\\u2028"),
            '\u{2029}' => escaped.push_str("\\u2029"),
            other => escaped.push(other),
        }
    }
    Ok(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_like_go() {
        assert_eq!(canonical_header_name("x-echo-set-header"), "X-Echo-Set-Header");
        assert_eq!(canonical_header_name("user-agent"), "User-Agent");
        assert_eq!(canonical_header_name("WWW-AUTHENTICATE"), "Www-Authenticate");
        assert_eq!(canonical_header_name("a--b"), "A--B");
        assert_eq!(canonical_header_name("bad header"), "bad header");
    }

    #[test]
    fn go_json_escapes_html() {
        let json = to_go_json(&serde_json::json!({ "a": ["<&>"] })).unwrap();
        assert_eq!(json, "{\n \"a\": [\n  \"\\u003c\\u0026\\u003e\"\n ]\n}");
    }
}
