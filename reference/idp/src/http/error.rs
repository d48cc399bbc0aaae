//! RFC 6749 §5.2 error responses, and the one place that maps failures to HTTP statuses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::IdpError;

/// The `error` codes this IdP answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
        }
    }
}

/// An OAuth2 error answer: code, human-readable description and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) code: ErrorCode,
    pub(crate) description: String,
    pub(crate) status: StatusCode,
}

impl OAuthError {
    fn new(code: ErrorCode, status: StatusCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            status,
        }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, StatusCode::BAD_REQUEST, description)
    }

    pub(crate) fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, StatusCode::UNAUTHORIZED, description)
    }

    pub(crate) fn unsupported_grant_type(grant_type: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedGrantType,
            StatusCode::BAD_REQUEST,
            format!("grant_type `{grant_type}` is not supported; use client_credentials"),
        )
    }

    /// The RFC 6749 `error` code, for logs.
    pub(crate) fn code_str(&self) -> &'static str {
        self.code.as_str()
    }

    pub(crate) fn too_large() -> Self {
        Self::new(
            ErrorCode::InvalidRequest,
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is too large",
        )
    }
}

impl From<IdpError> for OAuthError {
    fn from(err: IdpError) -> Self {
        match err {
            IdpError::InvalidScope(_) => {
                Self::new(ErrorCode::InvalidScope, StatusCode::BAD_REQUEST, err.to_string())
            }
            IdpError::ApiNotAllowed(_) | IdpError::InvalidValidity(_) => {
                Self::invalid_request(err.to_string())
            }
            IdpError::UnknownClient(_) => Self::invalid_client("client authentication failed"),
            IdpError::InvalidConfig(_)
            | IdpError::KeyGeneration
            | IdpError::InvalidKey(_)
            | IdpError::Signing(_) => {
                tracing::error!(error = %err, "IdP failed to issue a credential");
                Self::new(
                    ErrorCode::ServerError,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error",
                )
            }
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    error_description: &'a str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code.as_str(),
            error_description: &self.description,
        };
        let mut response = (self.status, no_store(), Json(body)).into_response();
        if self.code == ErrorCode::InvalidClient {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"portcullis\""),
            );
        }
        response
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, required on token responses (RFC 6749 §5.1).
pub(crate) fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}
