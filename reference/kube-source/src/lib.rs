//! portcullis on Kubernetes: watch every kind the gateway serves on an API server, hand the
//! objects to the control plane as a [`portcullis_model::LoadReport`], and write the
//! translator's statuses back.
//!
//! [`KubeSource`] keeps a kube-rs reflector store per kind and signals changes;
//! [`StatusWriter`] server-side applies `status` subresources, only when they changed;
//! [`LeaderElection`] lets one of several replicas be the one that writes them.

pub mod error;
mod follow;
pub mod kinds;
pub mod lease;
pub mod options;
mod rediscover;
pub mod source;
pub mod status;

pub use error::{KubeSourceError, StatusWriteError};
pub use lease::{LeaderElection, LeaseOptions};
pub use options::KubeSourceOptions;
pub use source::{KubeSource, REDISCOVERY_INTERVAL, SOURCE_PREFIX};
pub use status::malformed::Malformed;
pub use status::writer::StatusWriter;
