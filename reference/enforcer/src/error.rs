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
    BadKey(&'static str),
}

/// Why a JWT was rejected.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url segments, or a header/payload that is not JSON.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Only RS256 and ES256 are accepted (never `none` nor HMAC).
    #[error("algorithm {0:?} is not accepted")]
    Algorithm(String),
    /// The `iss` claim matches no configured issuer.
    #[error("untrusted issuer {0:?}")]
    UnknownIssuer(String),
    /// The issuer is trusted, but not for the route's environment or organization.
    #[error("issuer {0:?} is not enabled for this environment or organization")]
    IssuerNotEnabled(String),
    /// A header value above the size limit.
    #[error("token too large")]
    TooLarge,
    /// No verification key could be found.
    #[error(transparent)]
    Key(#[from] JwksError),
    /// The token is past `exp` (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// Signature, audience, `nbf` or another claim check failed.
    #[error("validation failed: {0}")]
    Invalid(&'static str),
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
    /// A valid token that may not be used this way, e.g. an API key sent as a bearer token, a
    /// wrong audience or key type (900903).
    #[error("invalid credentials: {0}")]
    InvalidCredentials(&'static str),
    /// An API key that is not an API key, or not for this API or key type (900903).
    #[error("invalid API key: {0}")]
    InvalidApiKey(&'static str),
    /// The caller's application has no ACTIVE subscription to the API (403, 900908).
    #[error("subscription validation failed: {0}")]
    NotSubscribed(&'static str),
    /// The enforcer could not complete an allowed request, e.g. sign the backend JWT (500, 900900).
    #[error("internal error: {0}")]
    Internal(&'static str),
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
            Self::BadHeader(_) | Self::Jwt(_) | Self::InvalidCredentials(_) | Self::InvalidApiKey(_) => {
                900903
            }
            Self::MissingScope(_) => 900910,
            Self::UnknownRoute(_) | Self::NotSubscribed(_) => 900908,
            Self::Internal(_) => 900900,
        }
    }

    /// HTTP status sent to the client.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::MissingScope(_) | Self::UnknownRoute(_) | Self::NotSubscribed(_) => 403,
            Self::Internal(_) => 500,
            _ => 401,
        }
    }

    /// The JSON body sent to the client; it never echoes token contents.
    pub fn body(&self) -> ErrorBody {
        let (message, description) = match self {
            Self::NotSubscribed(_) => (
                "Resource forbidden",
                "User is NOT authorized to access the Resource. API Subscription validation failed.",
            ),
            Self::UnknownRoute(_) => ("Resource forbidden", "The requested resource is not available"),
            _ => self.generic_text(),
        };
        ErrorBody {
            error_message: message.to_owned(),
            code: self.code().to_string(),
            error_description: description.to_owned(),
        }
    }

    fn generic_text(&self) -> (&'static str, &'static str) {
        match self.code() {
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
            900900 => ("Unclassified Authentication Failure", "Internal Server Error"),
            _ => (
                "Invalid Credentials",
                "Make sure you have provided the correct security credentials",
            ),
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
        assert_eq!(AuthError::InvalidApiKey("x").code(), 900903);
        assert_eq!(AuthError::InvalidCredentials("x").code(), 900903);
        assert_eq!(
            AuthError::Jwt(JwtError::IssuerNotEnabled("i".into())).code(),
            900903
        );
        let forbidden = AuthError::NotSubscribed("x");
        assert_eq!((forbidden.http_status(), forbidden.code()), (403, 900908));
        assert_eq!(forbidden.body().error_message, "Resource forbidden");
        assert_eq!(AuthError::Internal("x").http_status(), 500);
        assert_eq!(AuthError::MissingScope("a".into()).code(), 900910);
        assert_eq!(AuthError::MissingScope("a".into()).http_status(), 403);
        assert_eq!(AuthError::UnknownRoute("r".into()).http_status(), 403);
        assert_eq!(AuthError::BadHeader("x").http_status(), 401);
        let body = serde_json::to_value(AuthError::MissingCredentials.body()).unwrap();
        assert_eq!(body["code"], "900902");
        assert!(body["error_message"].is_string() && body["error_description"].is_string());
    }
}
