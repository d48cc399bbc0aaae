//! Errors of the IdP as a library.

/// Why the IdP could not start or could not issue a credential.
#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// The configuration cannot work (empty issuer, zero lifetime…).
    #[error("invalid IdP configuration: {0}")]
    InvalidConfig(&'static str),
    /// The RSA signing key could not be generated.
    #[error("could not generate the RSA signing key")]
    KeyGeneration,
    /// The signing key given as PEM is not an RSA private key.
    #[error("invalid RSA signing key: {0}")]
    InvalidKey(#[source] jsonwebtoken::errors::Error),
    /// Signing a token failed.
    #[error("could not sign the token: {0}")]
    Signing(#[source] jsonwebtoken::errors::Error),
    /// No client with this id is registered.
    #[error("unknown client `{0}`")]
    UnknownClient(String),
    /// A requested scope is not among the client's allowed scopes, or is malformed.
    #[error("scope `{0}` is not allowed")]
    InvalidScope(String),
    /// A requested API is not among the client's APIs, or no API was requested.
    #[error("{0}")]
    ApiNotAllowed(String),
    /// A requested validity period is not a positive number of seconds.
    #[error("invalid validity period: {0}")]
    InvalidValidity(String),
}
