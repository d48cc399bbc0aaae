//! The embedded identity provider: an OAuth2 `client_credentials` token endpoint and its JWKS.
//!
//! Modelled on WSO2 APK 1.x's IdP (`idp.am.wso2.com`, `/oauth2/token`): clients come from
//! resources pushed by the control plane, tokens are RS256 JWTs the enforcer verifies through the
//! JWKS, and API keys are JWTs of the same key naming the APIs they may call.

#![warn(missing_docs)]

mod claims;
mod config;
mod error;
mod http;
mod idp;
mod registry;
mod scope;
mod signing;

pub use claims::{API_KEY_TOKEN_TYPE, AccessTokenClaims, ApiKeyClaims};
pub use config::{ApplicationRef, DEFAULT_ISSUER, IdpConfig, KeyType, OAuthClient};
pub use error::IdpError;
pub use http::{MAX_BODY_BYTES, serve};
pub use idp::{DEFAULT_API_KEY_VALIDITY, Idp, IssuedApiKey, IssuedToken, MAX_API_KEY_VALIDITY};
pub use scope::parse_scope;
