//! gRPC on the echo port: the conformance echo server's `GrpcEcho` service, and a client for it.
//!
//! Requests whose `content-type` is `application/grpc…` are answered here (h2c on the same
//! socket as HTTP). `Echo` and `EchoTwo` of any service answer with what the backend saw —
//! method, `:authority`, metadata — and who it is, in the message shape of upstream's
//! `grpcecho.proto` (declared by hand below, so no `protoc` is needed). Every other method is
//! `UNIMPLEMENTED`, as upstream's `EchoThree` is.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::response::Response;
use tonic::server::UnaryService;

use crate::EchoIdentity;

/// The package and service of upstream's echo server.
pub const SERVICE: &str = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho";

/// Methods that echo; any other is `UNIMPLEMENTED`.
pub const ECHO_METHODS: &[&str] = &["Echo", "EchoTwo"];

/// A request header (gRPC metadata) as the backend saw it.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Header {
    /// Lower-case name.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// Who answered.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Context {
    /// Namespace of the backend.
    #[prost(string, tag = "1")]
    pub namespace: String,
    /// Always empty; kept for wire compatibility.
    #[prost(string, tag = "2")]
    pub ingress: String,
    /// Service name of the backend.
    #[prost(string, tag = "3")]
    pub service_name: String,
    /// Pod name of the backend.
    #[prost(string, tag = "4")]
    pub pod: String,
}

/// The TLS connection to the backend; never filled here (the echo port is cleartext).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TlsAssertions {
    /// TLS version.
    #[prost(string, tag = "1")]
    pub version: String,
    /// ALPN result.
    #[prost(string, tag = "2")]
    pub negotiated_protocol: String,
    /// SNI.
    #[prost(string, tag = "3")]
    pub server_name: String,
    /// Cipher suite.
    #[prost(string, tag = "4")]
    pub cipher_suite: String,
    /// PEM certificates of the peer.
    #[prost(string, repeated, tag = "5")]
    pub peer_certificates: Vec<String>,
}

/// What the backend saw of the call.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Assertions {
    /// `/<service>/<method>`.
    #[prost(string, tag = "1")]
    pub fully_qualified_method: String,
    /// Request headers, in arrival order.
    #[prost(message, repeated, tag = "2")]
    pub headers: Vec<Header>,
    /// The `:authority` pseudo-header.
    #[prost(string, tag = "3")]
    pub authority: String,
    /// Who answered.
    #[prost(message, optional, tag = "4")]
    pub context: Option<Context>,
    /// TLS facts, if any.
    #[prost(message, optional, tag = "5")]
    pub tls_assertions: Option<TlsAssertions>,
}

/// The (empty) request message.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct EchoRequest {}

/// The answer of `Echo` and `EchoTwo`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct EchoResponse {
    /// What the backend saw.
    #[prost(message, optional, tag = "1")]
    pub assertions: Option<Assertions>,
    /// The request, echoed.
    #[prost(message, optional, tag = "2")]
    pub request: Option<EchoRequest>,
}

impl EchoResponse {
    /// Values of request header `name` (case-insensitive) joined by `,`; `None` when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .assertions
            .iter()
            .flat_map(|a| a.headers.iter())
            .filter(|h| h.key.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    /// Who answered, if the backend said.
    pub fn context(&self) -> Option<&Context> {
        self.assertions.as_ref().and_then(|a| a.context.as_ref())
    }
}

/// Whether a request is a gRPC call.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// A unary service whose answer was computed from the HTTP request before tonic decoded it.
struct Prepared(Option<EchoResponse>);

impl UnaryService<EchoRequest> for Prepared {
    type Response = EchoResponse;
    type Future = std::future::Ready<Result<tonic::Response<EchoResponse>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<EchoRequest>) -> Self::Future {
        let mut response = self.0.take().unwrap_or_default();
        response.request = Some(request.into_inner());
        std::future::ready(Ok(tonic::Response::new(response)))
    }
}

/// Answers one gRPC call.
pub(crate) async fn handle(identity: &EchoIdentity, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let method = path.rsplit('/').next().unwrap_or("");
    if !ECHO_METHODS.contains(&method) {
        tracing::info!(%path, "gRPC method not implemented");
        return tonic::Status::unimplemented(format!("{path} is not implemented"))
            .into_http::<tonic::body::Body>()
            .map(Body::new);
    }
    let authority = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            request
                .headers()
                .get(HOST)
                .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        })
        .unwrap_or_default();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| Header {
            key: name.as_str().to_owned(),
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })
        .collect();
    tracing::info!("Echoing back gRPC call to {path} for {authority}");
    let answer = EchoResponse {
        assertions: Some(Assertions {
            fully_qualified_method: path,
            headers,
            authority,
            context: Some(Context {
                namespace: identity.namespace.clone(),
                ingress: String::new(),
                service_name: identity.service.clone(),
                pod: identity.pod.clone(),
            }),
            tls_assertions: None,
        }),
        request: None,
    };
    let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::<EchoResponse, EchoRequest>::default());
    grpc.unary(Prepared(Some(answer)), request).await.map(Body::new)
}

/// One unary call to make.
#[derive(Clone, Debug)]
pub struct GrpcCall {
    /// Where to connect (h2c).
    pub address: SocketAddr,
    /// The `:authority` to send.
    pub authority: String,
    /// The fully qualified service, e.g. [`SERVICE`].
    pub service: String,
    /// The method, e.g. `Echo`.
    pub method: String,
    /// Metadata (request headers) to send.
    pub metadata: Vec<(String, String)>,
}

/// How a call ended.
#[derive(Clone, Debug)]
pub struct GrpcAnswer {
    /// The gRPC status code (0 is `OK`).
    pub code: i32,
    /// The status message.
    pub message: String,
    /// The response message, when the call succeeded.
    pub response: Option<EchoResponse>,
    /// Response headers and trailers (lower-case names), as metadata.
    pub headers: Vec<(String, String)>,
}

impl GrpcAnswer {
    /// The status code's canonical name, e.g. `OK`, `UNIMPLEMENTED`.
    pub fn code_name(&self) -> &'static str {
        code_name(self.code)
    }
}

/// The canonical name of a gRPC status code.
pub fn code_name(code: i32) -> &'static str {
    use tonic::Code;
    match Code::from_i32(code) {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Errors making a call (as opposed to a call that ended with a non-OK status).
#[derive(Debug, thiserror::Error)]
pub enum GrpcCallError {
    /// The address, authority or method do not form a valid URI.
    #[error("invalid gRPC target: {0}")]
    Target(String),
    /// The connection could not be made.
    #[error("cannot connect to {address}")]
    Connect {
        /// Where.
        address: SocketAddr,
        /// Why.
        #[source]
        source: tonic::transport::Error,
    },
    /// Metadata that cannot be sent.
    #[error("invalid metadata {0:?}")]
    Metadata(String),
}

/// How long a call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes one unary call over a fresh h2c connection, sending `:authority` as given.
pub async fn call(call: &GrpcCall) -> Result<GrpcAnswer, GrpcCallError> {
    use tonic::metadata::{Ascii, MetadataKey, MetadataValue};
    let target = |what: &str| GrpcCallError::Target(what.to_owned());
    let origin: axum::http::Uri = format!("http://{}", call.authority)
        .parse()
        .map_err(|_| target(&call.authority))?;
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{}", call.address))
        .map_err(|_| target(&call.address.to_string()))?
        .origin(origin)
        .connect_timeout(CALL_TIMEOUT)
        .timeout(CALL_TIMEOUT);
    let channel = endpoint
        .connect()
        .await
        .map_err(|source| GrpcCallError::Connect {
            address: call.address,
            source,
        })?;
    let path_text = format!("/{}/{}", call.service, call.method);
    let path: axum::http::uri::PathAndQuery = path_text.parse().map_err(|_| target(&path_text))?;
    let mut request = tonic::Request::new(EchoRequest {});
    for (name, value) in &call.metadata {
        let key = MetadataKey::<Ascii>::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map_err(|_| GrpcCallError::Metadata(name.clone()))?;
        let value = MetadataValue::<Ascii>::try_from(value.as_str())
            .map_err(|_| GrpcCallError::Metadata(value.clone()))?;
        request.metadata_mut().append(key, value);
    }
    let mut client = tonic::client::Grpc::new(channel);
    let outcome = match client.ready().await {
        Ok(()) => {
            client
                .unary(
                    request,
                    path,
                    tonic_prost::ProstCodec::<EchoRequest, EchoResponse>::default(),
                )
                .await
        }
        Err(error) => Err(tonic::Status::unavailable(error.to_string())),
    };
    let metadata = |m: &tonic::metadata::MetadataMap| -> Vec<(String, String)> {
        m.clone()
            .into_headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    };
    Ok(match outcome {
        Ok(response) => GrpcAnswer {
            code: 0,
            message: String::new(),
            headers: metadata(response.metadata()),
            response: Some(response.into_inner()),
        },
        Err(status) => GrpcAnswer {
            code: status.code() as i32,
            message: status.message().to_owned(),
            headers: metadata(status.metadata()),
            response: None,
        },
    })
}
