//! The embedded identity provider: an OAuth2 `client_credentials` token endpoint and its JWKS.
