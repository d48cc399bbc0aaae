//! Errors starting the source and writing statuses.

use thiserror::Error;

/// Why [`crate::KubeSource::start`] refused to start.
#[derive(Debug, Error)]
pub enum KubeSourceError {
    /// Watchers are tokio tasks; `start` was called outside a runtime.
    #[error("the Kubernetes source must be started inside a tokio runtime")]
    NoRuntime,
    /// An option is not usable.
    #[error("option `{option}`: {message}")]
    Option {
        /// The option's name.
        option: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// Why one object's status was not written. The others are still written.
#[derive(Debug, Error)]
pub enum StatusWriteError {
    /// The API server refused the apply, or could not be reached.
    #[error("{object}: writing status: {source}")]
    Api {
        /// e.g. `Gateway ns/gw`.
        object: String,
        /// The client's error (boxed: it is large and errors are rare).
        #[source]
        source: Box<kube::Error>,
    },
    /// The translator named an object this writer cannot address.
    #[error("{object}: cannot write status: {message}")]
    Unaddressable {
        /// The object as the translator named it.
        object: String,
        /// Why.
        message: String,
    },
}
