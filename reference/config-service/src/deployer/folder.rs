//! APK's Deployer over a resource folder: deploying an apk-conf writes its generated resources
//! as one file `<dir>/api-<id>.yaml`, which the embedded gateway's folder mode loads;
//! undeploying removes it.
//!
//! Files are replaced atomically (written to a temporary file in the same folder, then
//! renamed), so a failed deploy leaves the previous state.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{
    DEFAULT_ORGANIZATION, DeployError, DeployFuture, DeployTarget, DeployedApi, is_valid_id, prepare,
};

/// Called after the folder changed; the HTTP answer waits for it (the embedded gateway
/// reloads and waits until Envoy serves the change).
pub type ChangeHook =
    std::sync::Arc<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync>;

/// Deploys APIs into a resource folder.
#[derive(Clone)]
pub struct Deployer {
    dir: PathBuf,
    namespace: String,
    organization: String,
    on_change: Option<ChangeHook>,
}

impl std::fmt::Debug for Deployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployer")
            .field("dir", &self.dir)
            .field("namespace", &self.namespace)
            .field("organization", &self.organization)
            .finish_non_exhaustive()
    }
}

impl Deployer {
    /// A deployer writing into `dir`, placing resources in `namespace`, for APK's default
    /// organization.
    pub fn new(dir: impl Into<PathBuf>, namespace: impl Into<String>) -> Self {
        Deployer {
            dir: dir.into(),
            namespace: namespace.into(),
            organization: DEFAULT_ORGANIZATION.to_owned(),
            on_change: None,
        }
    }

    /// Runs `hook` after every deploy and undeploy, before the HTTP answer.
    pub fn with_on_change(mut self, hook: ChangeHook) -> Self {
        self.on_change = Some(hook);
        self
    }

    /// Runs the change hook, if any.
    pub async fn changed(&self) {
        if let Some(hook) = &self.on_change {
            hook().await;
        }
    }

    /// The same deployer for another organization.
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = organization.into();
        self
    }

    /// The folder written into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the resources of API `id` (the id must be valid).
    pub fn file_for(&self, id: &str) -> Result<PathBuf, DeployError> {
        if !is_valid_id(id) {
            return Err(DeployError::InvalidId(id.to_owned()));
        }
        Ok(self.dir.join(format!("api-{id}.yaml")))
    }

    /// Parses `conf_yaml`, generates its resources with `definition` and writes them; a
    /// redeploy of the same id replaces the file. Returns the stored apk-conf.
    pub fn deploy(&self, conf_yaml: &str, definition: Option<&str>) -> Result<DeployedApi, DeployError> {
        let prepared = prepare(conf_yaml, definition, &self.organization, &self.namespace)?;
        let path = self.file_for(&prepared.generated.api_id)?;
        write_atomically(
            &self.dir,
            &path,
            prepared.generated.to_multi_document().as_bytes(),
        )?;
        tracing::info!(id = %prepared.generated.api_id, path = %path.display(), "API deployed");
        Ok(prepared.into_deployed())
    }

    /// Removes the resources of API `id`.
    pub fn undeploy(&self, id: &str) -> Result<(), DeployError> {
        let path = self.file_for(id)?;
        match std::fs::remove_file(&path) {
            Ok(()) => {
                tracing::info!(%id, "API undeployed");
                Ok(())
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                Err(DeployError::NotFound(id.to_owned()))
            }
            Err(source) => Err(DeployError::Io { path, source }),
        }
    }
}

impl DeployTarget for Deployer {
    fn deploy(&self, conf_yaml: String, definition: Option<String>) -> DeployFuture<'_, DeployedApi> {
        Box::pin(async move {
            // File IO off the async threads.
            let writer = self.clone();
            let deployed = blocking(&self.dir, move || {
                writer.deploy(&conf_yaml, definition.as_deref())
            })
            .await?;
            self.changed().await;
            Ok(deployed)
        })
    }

    fn undeploy(&self, id: String) -> DeployFuture<'_, ()> {
        Box::pin(async move {
            let writer = self.clone();
            blocking(&self.dir, move || writer.undeploy(&id)).await?;
            self.changed().await;
            Ok(())
        })
    }
}

/// Runs `work` on the blocking pool; a task that did not finish counts as an IO failure on `dir`.
async fn blocking<T: Send + 'static>(
    dir: &Path,
    work: impl FnOnce() -> Result<T, DeployError> + Send + 'static,
) -> Result<T, DeployError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| DeployError::Io {
            path: dir.to_owned(),
            source: std::io::Error::other(error),
        })?
}

/// Writes `bytes` to a temporary file in `dir`, then renames it over `path`.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), DeployError> {
    let io = |source| DeployError::Io {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    // A dot-name without `.yaml` so the gateway's folder scan never loads a half-written file.
    let mut temp = tempfile::Builder::new()
        .prefix(".deploying-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    temp.write_all(bytes).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|error| io(error.error))?;
    Ok(())
}
