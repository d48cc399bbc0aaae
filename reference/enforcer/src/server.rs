//! The Envoy ext_authz v3 gRPC service over [`Enforcer`] (served by [`crate::serve`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use envoy_types::ext_authz::v3::pb::{
    Authorization, CheckRequest, CheckResponse, HeaderAppendAction, HttpStatusCode,
};
use envoy_types::ext_authz::v3::{CheckResponseExt as _, DeniedHttpResponseBuilder, OkHttpResponseBuilder};
use envoy_types::pb::envoy::service::auth::v3::AttributeContext;
use envoy_types::pb::google::protobuf::{Struct, Value, value::Kind};
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use crate::enforcer::{Allowed, Enforcer, RequestView};
use crate::error::AuthError;

/// Context extension naming the route, set per route in Envoy's ext_authz filter config.
pub const ROUTE_EXTENSION: &str = "route";
/// Route metadata namespace the gateway's routes carry (sent with
/// `route_metadata_context_namespaces`): `operation` names the route, `public: true` marks a
/// route open to everyone (security disabled, or a CORS preflight).
pub const ROUTE_METADATA_NAMESPACE: &str = "portcullis";

/// What a request's route asks of the enforcer.
enum RouteCheck<'a> {
    /// Check against this route's configuration.
    Operation(&'a str),
    /// Allow without credentials.
    Public,
}

/// The route id from route metadata, else from the context extension; public routes are
/// marked explicitly, so a route that says nothing is checked (and, unknown, denied).
fn route_check(attributes: &AttributeContext) -> RouteCheck<'_> {
    let fields = attributes
        .route_metadata_context
        .as_ref()
        .and_then(|m| m.filter_metadata.get(ROUTE_METADATA_NAMESPACE))
        .map(|s| &s.fields);
    if let Some(fields) = fields {
        if let Some(Kind::StringValue(id)) = fields.get("operation").and_then(|v| v.kind.as_ref()) {
            return RouteCheck::Operation(id);
        }
        if let Some(Kind::BoolValue(true)) = fields.get("public").and_then(|v| v.kind.as_ref()) {
            return RouteCheck::Public;
        }
    }
    RouteCheck::Operation(
        attributes
            .context_extensions
            .get(ROUTE_EXTENSION)
            .map_or("", String::as_str),
    )
}

/// tonic service answering Envoy's `Check` calls.
#[derive(Debug, Clone)]
pub struct AuthzService {
    enforcer: Arc<Enforcer>,
}

impl AuthzService {
    /// A service deciding with `enforcer`.
    pub fn new(enforcer: Arc<Enforcer>) -> Self {
        Self { enforcer }
    }
}

#[tonic::async_trait]
impl Authorization for AuthzService {
    async fn check(&self, request: Request<CheckRequest>) -> Result<Response<CheckResponse>, Status> {
        let request = request.into_inner();
        let attributes = request.attributes.unwrap_or_default();
        let route = match route_check(&attributes) {
            RouteCheck::Public => {
                let mut response = CheckResponse::with_status(Status::ok("public"));
                response.set_http_response(OkHttpResponseBuilder::new());
                return Ok(Response::new(response));
            }
            RouteCheck::Operation(id) => id,
        };
        let (headers, path, method) = http_parts(&attributes);
        let span = tracing::info_span!("check", %route, %method);
        let view = RequestView {
            headers: &headers,
            path,
        };
        let decision = self.enforcer.check(route, view).instrument(span).await;
        let response = match decision {
            Ok(allowed) => {
                tracing::debug!(
                    %route,
                    mechanism = ?allowed.mechanism,
                    application = ?allowed.application.as_ref().map(|a| &a.id),
                    "allowed"
                );
                allowed_response(allowed)
            }
            Err(error) => {
                tracing::info!(%route, %error, code = error.code(), "denied");
                denied(&error)
            }
        };
        Ok(Response::new(response))
    }
}

/// Headers (lower-cased), path and method of the checked request. Envoy sends header names
/// lower-cased in `headers`, so that map is borrowed as is unless a name needs folding or
/// `header_map` is used.
fn http_parts(attributes: &AttributeContext) -> (Cow<'_, HashMap<String, String>>, &str, &str) {
    let Some(http) = attributes.request.as_ref().and_then(|r| r.http.as_ref()) else {
        return (Cow::Owned(HashMap::new()), "", "");
    };
    let lower_case = http
        .headers
        .keys()
        .all(|k| !k.bytes().any(|b| b.is_ascii_uppercase()));
    let raw = http.header_map.as_ref().filter(|m| !m.headers.is_empty());
    let headers = if lower_case && raw.is_none() {
        Cow::Borrowed(&http.headers)
    } else {
        let mut headers: HashMap<String, String> = http
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        // Envoy fills `header_map` instead of `headers` when `encode_raw_headers` is on.
        for header in raw.iter().flat_map(|m| &m.headers) {
            let value = if header.raw_value.is_empty() {
                header.value.clone()
            } else {
                String::from_utf8_lossy(&header.raw_value).into_owned()
            };
            headers.entry(header.key.to_ascii_lowercase()).or_insert(value);
        }
        Cow::Owned(headers)
    };
    (headers, &http.path, &http.method)
}

/// The OK response: upstream header changes, and the caller's identity as dynamic metadata
/// (namespace `envoy.filters.http.ext_authz`, see [`Allowed::metadata`]).
pub fn allowed_response(allowed: Allowed) -> CheckResponse {
    let metadata = allowed.metadata();
    let mut ok = OkHttpResponseBuilder::new();
    for (name, value) in allowed.headers_to_add {
        ok.add_header(
            name,
            value,
            Some(HeaderAppendAction::OverwriteIfExistsOrAdd),
            false,
        );
    }
    for header in allowed.headers_to_remove {
        ok.remove_header(header);
    }
    for param in allowed.query_params_to_remove {
        ok.remove_query_parameter(param);
    }
    let mut response = CheckResponse::with_status(Status::ok("allowed"));
    response.set_http_response(ok);
    if !metadata.is_empty() {
        let fields = metadata
            .into_iter()
            .map(|(key, value)| {
                (
                    key.to_owned(),
                    Value {
                        kind: Some(Kind::StringValue(value)),
                    },
                )
            })
            .collect();
        response.set_dynamic_metadata(Some(Struct { fields }));
    }
    response
}

/// A denial carrying APK's status, JSON body and content type.
pub fn denied(error: &AuthError) -> CheckResponse {
    let status = match error.http_status() {
        403 => HttpStatusCode::Forbidden,
        500 => HttpStatusCode::InternalServerError,
        _ => HttpStatusCode::Unauthorized,
    };
    let body = serde_json::to_string(&error.body()).unwrap_or_default();
    let mut http = DeniedHttpResponseBuilder::new();
    http.set_http_status(status)
        .add_header("content-type", "application/json", None, false)
        .set_body(body);
    let grpc = match error.http_status() {
        403 => Status::permission_denied(error.body().error_message),
        500 => Status::internal(error.body().error_message),
        _ => Status::unauthenticated(error.body().error_message),
    };
    let mut response = CheckResponse::with_status(grpc);
    response.set_http_response(http);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::config::core::v3::{HeaderMap, HeaderValue};
    use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request as AttrRequest};

    #[test]
    fn raw_header_map_is_read() {
        let attributes = AttributeContext {
            request: Some(AttrRequest {
                http: Some(HttpRequest {
                    path: "/p?q=1".into(),
                    method: "GET".into(),
                    header_map: Some(HeaderMap {
                        headers: vec![HeaderValue {
                            key: "Authorization".into(),
                            value: String::new(),
                            raw_value: b"Bearer a.b.c".to_vec(),
                        }],
                    }),
                    ..HttpRequest::default()
                }),
                ..AttrRequest::default()
            }),
            ..AttributeContext::default()
        };
        let (headers, path, method) = http_parts(&attributes);
        assert_eq!(
            headers.get("authorization").map(String::as_str),
            Some("Bearer a.b.c")
        );
        assert_eq!((path, method), ("/p?q=1", "GET"));
        assert!(http_parts(&AttributeContext::default()).0.is_empty());
    }

    #[test]
    fn lower_case_headers_are_borrowed_and_others_folded() {
        let attributes = |headers: &[(&str, &str)]| AttributeContext {
            request: Some(AttrRequest {
                http: Some(HttpRequest {
                    headers: headers
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                    ..HttpRequest::default()
                }),
                ..AttrRequest::default()
            }),
            ..AttributeContext::default()
        };
        let envoy = attributes(&[("authorization", "Bearer t"), (":path", "/")]);
        let (headers, ..) = http_parts(&envoy);
        assert!(matches!(headers, Cow::Borrowed(_)));
        assert_eq!(headers.len(), 2);
        let mixed = attributes(&[("Authorization", "Bearer t")]);
        let (headers, ..) = http_parts(&mixed);
        assert_eq!(headers.get("authorization").map(String::as_str), Some("Bearer t"));
    }

    #[test]
    fn denial_carries_status_and_json() {
        let response = denied(&AuthError::MissingScope("read".into()));
        assert_eq!(
            response.status.as_ref().map(|s| s.code),
            Some(tonic::Code::PermissionDenied as i32)
        );
        let Some(envoy_types::ext_authz::v3::pb::HttpResponse::DeniedResponse(http)) = response.http_response
        else {
            panic!("denied response expected");
        };
        assert_eq!(http.status.map(|s| s.code), Some(403));
        let body: serde_json::Value = serde_json::from_str(&http.body).unwrap();
        assert_eq!(body["code"], "900910");
    }
}
