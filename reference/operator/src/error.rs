//! Errors of the operator.

use thiserror::Error;

/// What can go wrong running the gateway.
#[derive(Debug, Error)]
pub enum OperatorError {
    /// Envoy could not be found, installed, started or made ready.
    #[error("envoy: {0}")]
    Envoy(#[from] portcullis_envoy::EnvoyError),
    /// The xDS server failed, or Envoy rejected or did not apply a configuration.
    #[error("xds: {0}")]
    Xds(#[from] portcullis_xds::XdsError),
    /// An echo backend could not start.
    #[error("echo backend for {service}: {message}")]
    Echo {
        /// The Service it would back.
        service: String,
        /// Why.
        message: String,
    },
    /// The APK profile's resources could not be built.
    #[error("apk profile: {0}")]
    Profile(String),
    /// The enforcer or the IdP could not be set up.
    #[error("enforcer: {0}")]
    Enforcer(String),
    /// The rate-limit service could not be set up.
    #[error("rate-limit service: {0}")]
    Limiter(String),
    /// A file system or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The API server could not be watched.
    #[error("kubernetes: {0}")]
    Cluster(String),
    /// The resource folder could not be watched.
    #[error("watching {path}: {message}")]
    Watch {
        /// The folder.
        path: String,
        /// Why.
        message: String,
    },
}

impl OperatorError {
    /// An IO error with context.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        OperatorError::Io {
            what: what.into(),
            source,
        }
    }
}
