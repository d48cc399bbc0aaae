//! Resource types the gateway understands, and how they are read from YAML.
//!
//! Gateway API kinds come from the `gateway-api` crate and core kinds from `k8s-openapi`, so
//! upstream manifests apply unchanged. Everything is parsed into typed values at this edge;
//! the translator never sees raw YAML.

pub mod apk;
pub mod cp;
pub mod crds;
pub mod folder;
pub mod key;
pub mod load;
pub mod resource;
pub mod snapshot;

pub use folder::{FolderCache, RefreshStats};
pub use key::{ObjectKey, ObjectRef};
pub use load::{LoadError, LoadReport, load_dir, parse_documents};
pub use resource::{Resource, Skipped};
pub use snapshot::{SERVICE_NAME_LABEL, Snapshot};

/// The controller name portcullis answers to in `GatewayClass.spec.controllerName`.
pub const CONTROLLER_NAME: &str = "portcullis.dev/gateway-controller";

/// The API group of the Gateway API.
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
