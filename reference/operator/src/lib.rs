//! The gateway's moving parts around the pure translator: resource sources (a folder of YAML,
//! hot-reloaded, or an API server, with statuses written back), the control loop (snapshot → translate → xDS), port allocation, echo
//! backends, and the embedded gateway that runs it all with a real Envoy.

pub mod cluster;
pub mod control;
pub mod embedded;
pub mod error;
pub mod ports;
pub mod profile;
pub mod security;
pub mod system;
pub mod watch;

pub use cluster::ClusterOptions;
pub use control::{ControlPlane, ListenerAddress};
pub use embedded::{EmbeddedGateway, EmbeddedOptions};
pub use error::OperatorError;
pub use ports::PortPolicy;
pub use profile::Profile;
