//! Errors of this crate.

use std::time::Duration;

/// Everything that can go wrong serving xDS or waiting for Envoy.
#[derive(Debug, thiserror::Error)]
pub enum XdsError {
    /// The gRPC server failed.
    #[error("xDS gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// An Envoy node NACKed the configuration.
    #[error("Envoy node {node} rejected {type_url} version {version}: {message}")]
    Rejected {
        /// The node id of the rejecting Envoy.
        node: String,
        /// The resource type it rejected.
        type_url: String,
        /// The snapshot version it rejected.
        version: u64,
        /// Envoy's explanation.
        message: String,
    },
    /// Envoy did not apply the version in time.
    #[error("timed out after {timeout:?} waiting for Envoy to apply version {version}: {pending}")]
    Timeout {
        /// The version waited for.
        version: u64,
        /// How long was waited.
        timeout: Duration,
        /// What was still missing when time ran out.
        pending: String,
    },
}
