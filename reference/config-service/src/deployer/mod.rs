//! APK's Deployer: an apk-conf (and its definition) becomes the API's generated resources,
//! stored where a gateway picks them up; undeploying removes them.
//!
//! Two targets behind one seam, [`DeployTarget`], so the HTTP layer does not care which:
//! - [`Deployer`] (folder mode): one file `<dir>/api-<id>.yaml` per API, which the embedded
//!   gateway's folder mode loads.
//! - [`KubeDeployer`] (Kubernetes mode): the resources server-side applied to a cluster,
//!   labelled [`API_ID_LABEL`]` = <id>`, all or nothing.
//!
//! Neither stores the apk-conf itself: a deploy answers with the apk-conf as parsed, with its
//! `id` filled in, and that id is what undeploy takes.
//!
//! # Running the Kubernetes mode
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use portcullis_config_service::deployer::KubeDeployer;
//! // In-cluster service account or the local kubeconfig, as kubectl would pick.
//! let client = kube::Client::try_default().await?;
//! let deployer = Arc::new(KubeDeployer::new(client, "apk-apis"));
//! let app = portcullis_config_service::deployer_router(deployer);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//! The service account needs `get`, `list`, `patch`, `create` and `delete` on the kinds in
//! [`cluster_kinds`] in that namespace.

mod cluster;
mod folder;
mod kinds;

use std::future::Future;
use std::pin::Pin;

pub use cluster::{API_ID_LABEL, ClusterAction, ClusterError, FIELD_MANAGER, KubeDeployer};
pub use folder::{ChangeHook, Deployer};
pub use kinds::cluster_kinds;

use crate::apk_conf::{ApkConf, ApkConfError, parse_apk_conf};
use crate::resources::{GenerateError, GeneratedResources, generate_resources};

/// Organization used when none is given (APK's default organization).
pub const DEFAULT_ORGANIZATION: &str = "default";

/// Why a deploy or undeploy failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The apk-conf is not valid.
    #[error(transparent)]
    InvalidConf(#[from] ApkConfError),
    /// Resources could not be generated.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// The id cannot be used as a file name.
    #[error("invalid API id {0:?}: only letters, digits, '.', '_' and '-' are allowed")]
    InvalidId(String),
    /// The id cannot be a Kubernetes label value (Kubernetes mode only).
    #[error(
        "invalid API id {0:?}: in Kubernetes mode an id has at most 63 characters and starts and ends \
         with a letter or digit"
    )]
    IdNotALabel(String),
    /// No API with this id is deployed.
    #[error("{0} not found")]
    NotFound(String),
    /// The folder could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Kubernetes API server refused a request.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

/// A deployed API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedApi {
    /// Its id.
    pub id: String,
    /// The apk-conf as stored, with `id` filled in.
    pub apk_conf_yaml: String,
}

/// The future a [`DeployTarget`] returns.
pub type DeployFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DeployError>> + Send + 'a>>;

/// Where deployed APIs go; the Deployer routes serve any of them. A call returns once the
/// change is stored (and, for targets with a change hook, served).
pub trait DeployTarget: Send + Sync + 'static {
    /// Deploys (or redeploys) the API of `conf_yaml` with its `definition`.
    fn deploy(&self, conf_yaml: String, definition: Option<String>) -> DeployFuture<'_, DeployedApi>;
    /// Removes everything API `id` deployed; [`DeployError::NotFound`] when nothing was.
    fn undeploy(&self, id: String) -> DeployFuture<'_, ()>;
}

/// Whether `id` is non-empty, made of `[A-Za-z0-9._-]`, and not `.` or `..`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// An apk-conf parsed and turned into resources, ready to be stored.
struct Prepared {
    conf: ApkConf,
    generated: GeneratedResources,
}

impl Prepared {
    /// The answer of a deploy: the id and the apk-conf with the id filled in.
    fn into_deployed(mut self) -> DeployedApi {
        self.conf.id = Some(self.generated.api_id.clone());
        DeployedApi {
            id: self.generated.api_id,
            apk_conf_yaml: self.conf.to_yaml(),
        }
    }
}

/// Parses `conf_yaml`, checks its id and generates its resources.
fn prepare(
    conf_yaml: &str,
    definition: Option<&str>,
    organization: &str,
    namespace: &str,
) -> Result<Prepared, DeployError> {
    let conf = parse_apk_conf(conf_yaml)?;
    if let Some(id) = &conf.id
        && !is_valid_id(id)
    {
        return Err(DeployError::InvalidId(id.clone()));
    }
    let generated = generate_resources(&conf, definition, organization, namespace)?;
    Ok(Prepared { conf, generated })
}
