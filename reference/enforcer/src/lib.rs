//! APK-style request enforcer served to Envoy as an ext_authz v3 gRPC service.
//!
//! The control plane pushes an [`EnforcerConfig`] (issuers, per-route authentication,
//! applications and subscriptions); Envoy calls `Check` with the route id in
//! `context_extensions["route"]`; denials carry APK's HTTP status and
//! `{"error_message","code","error_description"}` body; allowed requests carry the caller's
//! identity as dynamic metadata and, where configured, a signed backend JWT.

pub mod apikey;
pub mod backend_jwt;
pub mod bearer;
pub mod config;
pub mod enforcer;
pub mod error;
pub mod jwks;
pub mod jwt;
pub mod keys;
pub mod serve;
pub mod server;
pub mod subscriptions;

pub use backend_jwt::{APK_GATEWAY_ISSUER, BackendJwtError, BackendJwtSigner};
pub use config::{
    ApiKeyLocation, ApplicationConfig, BackendJwtConfig, ClaimMapping, ConsumerKey, CustomClaim, Encoding,
    EnforcerConfig, IssuerConfig, JwtHeaderConfig, KeyIn, KeyType, OAuth2Config, Required, RouteAuth,
    SubscriptionConfig,
};
pub use enforcer::{Allowed, AuthMechanism, Enforcer, EnforcerError, RequestView};
pub use error::{AuthError, ErrorBody, JwksError, JwtError};
pub use jwt::{Principal, TokenContext, ValidationOptions};
pub use serve::{ServeError, serve, serve_until};
pub use server::AuthzService;
pub use subscriptions::{ApplicationIdentity, SubscriptionIndex, SubscriptionMatch};
