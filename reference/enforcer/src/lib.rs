//! APK-style request enforcer served to Envoy as an ext_authz v3 gRPC service.
//!
//! The control plane pushes an [`EnforcerConfig`] (issuers and per-route authentication); Envoy
//! calls `Check` with the route id in `context_extensions["route"]`; denials carry APK's HTTP status
//! and `{"error_message","code","error_description"}` body.

pub mod apikey;
pub mod bearer;
pub mod config;
pub mod enforcer;
pub mod error;
pub mod jwks;
pub mod jwt;
pub mod server;

pub use config::{ApiKeyLocation, EnforcerConfig, IssuerConfig, KeyIn, OAuth2Config, RouteAuth};
pub use enforcer::{Allowed, Enforcer, EnforcerError, RequestView};
pub use error::{AuthError, ErrorBody, JwksError, JwtError};
pub use jwt::{Principal, ValidationOptions};
pub use server::{AuthzService, ServeError, serve};
