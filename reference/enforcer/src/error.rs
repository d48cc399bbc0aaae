//! Authentication failures and how they map to APK's HTTP status, code and JSON body.

use serde::Serialize;

/// Why a JWKS could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The issuer has neither a JWKS URL nor a usable certificate.
    #[error("issuer has no signature validation configured")]
    NotConfigured,
    /// The HTTP fetch failed or timed out.
    #[error("fetching JWKS: {0}")]
    Fetch(#[from] reqwest::Error),
    /// The endpoint answered with a non-success status.
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    /// The body is not a JWK set.
    #[error("JWKS body is not a JWK set: {0}")]
    Parse(#[from] serde_json::Error),
    /// No key with this `kid`, even after a refetch.
    #[error("no key with kid {0:?}")]
    UnknownKid(String),
    /// The key exists but cannot be used to verify.
    #[error("unusable key: {0}")]
    BadKey(#[source] jsonwebtoken::errors::Error),
}

/// Why a JWT was rejected.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url segments, or a header/payload that is not JSON.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Only RS256 and ES256 are accepted.
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(jsonwebtoken::Algorithm),
    /// The `iss` claim matches no configured issuer.
    #[error("untrusted issuer {0:?}")]
    UnknownIssuer(String),
    /// No verification key could be found.
    #[error(transparent)]
    Key(#[from] JwksError),
    /// The token is past `exp` (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// Signature, audience, `nbf` or another claim check failed.
    #[error("validation failed: {0}")]
    Invalid(#[source] jsonwebtoken::errors::Error),
}

/// A denied request, in APK's vocabulary.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credentials where the route expects them (900902).
    #[error("missing credentials")]
    MissingCredentials,
    /// The bearer header is present but not a usable bearer token (900903).
    #[error("bad authorization header: {0}")]
    BadHeader(&'static str),
    /// A JWT that failed validation (900901 when expired, else 900903).
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// An API key that was not issued for this API (900903).
    #[error("invalid API key")]
    InvalidApiKey,
    /// The credential lacks a required scope (900910).
    #[error("missing scope {0:?}")]
    MissingScope(String),
    /// Envoy asked about a route the enforcer does not know (fail closed).
    #[error("unknown route {0:?}")]
    UnknownRoute(String),
}

/// APK's JSON error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorBody {
    /// Short message, e.g. "Invalid Credentials".
    pub error_message: String,
    /// APK error code as a string, e.g. "900901".
    pub code: String,
    /// Longer explanation.
    pub error_description: String,
}

impl AuthError {
    /// APK error code.
    pub fn code(&self) -> u32 {
        match self {
            Self::MissingCredentials => 900902,
            Self::Jwt(JwtError::Expired) => 900901,
            Self::BadHeader(_) | Self::Jwt(_) | Self::InvalidApiKey => 900903,
            Self::MissingScope(_) => 900910,
            Self::UnknownRoute(_) => 900908,
        }
    }

    /// HTTP status sent to the client.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::MissingScope(_) | Self::UnknownRoute(_) => 403,
            _ => 401,
        }
    }

    /// The JSON body sent to the client; it never echoes token contents.
    pub fn body(&self) -> ErrorBody {
        let (message, description) = match self.code() {
            900901 => ("Invalid Credentials", "The access token has expired"),
            900902 => (
                "Missing Credentials",
                "Invalid Credentials. Make sure your API invocation call has a header: \
                 'Authorization : Bearer ACCESS_TOKEN' or an API key",
            ),
            900910 => (
                "The access token does not allow you to access the requested resource",
                "User is NOT authorized to access the Resource. Scope validation failed.",
            ),
            900908 => ("Resource forbidden", "The requested resource is not available"),
            _ => (
                "Invalid Credentials",
                "Make sure you have provided the correct security credentials",
            ),
        };
        ErrorBody {
            error_message: message.to_owned(),
            code: self.code().to_string(),
            error_description: description.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        assert_eq!(AuthError::Jwt(JwtError::Expired).code(), 900901);
        assert_eq!(AuthError::MissingCredentials.code(), 900902);
        assert_eq!(AuthError::InvalidApiKey.code(), 900903);
        assert_eq!(AuthError::MissingScope("a".into()).code(), 900910);
        assert_eq!(AuthError::MissingScope("a".into()).http_status(), 403);
        assert_eq!(AuthError::UnknownRoute("r".into()).http_status(), 403);
        assert_eq!(AuthError::BadHeader("x").http_status(), 401);
        let body = serde_json::to_value(AuthError::MissingCredentials.body()).unwrap();
        assert_eq!(body["code"], "900902");
        assert!(body["error_message"].is_string() && body["error_description"].is_string());
    }
}
