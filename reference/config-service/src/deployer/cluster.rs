//! The Deployer's Kubernetes mode: an API's generated resources are server-side applied to a
//! cluster, each labelled [`API_ID_LABEL`]` = <id>` so they can be found again.
//!
//! A deploy is all or nothing: the API's objects as they are now are read first, and if any
//! apply fails, the objects this deploy created are deleted and the ones it changed are
//! re-applied as they were, so the previous version keeps serving. After a successful
//! redeploy, the API's objects the new version no longer has are deleted.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, TypeMeta};
use kube::discovery::ApiResource;

use super::{
    DEFAULT_ORGANIZATION, DeployError, DeployFuture, DeployTarget, DeployedApi, is_valid_id, prepare,
};
use crate::resources::GeneratedResources;

/// Field manager of every apply, so the deployer owns (and may later drop) its fields.
pub const FIELD_MANAGER: &str = "portcullis-deployer";
/// Label carrying the API id on every object a deploy applies.
pub const API_ID_LABEL: &str = "portcullis.dev/api-id";

/// The request the API server refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterAction {
    /// Listing the API's objects of one kind.
    List,
    /// Server-side applying an object.
    Apply,
    /// Deleting an object.
    Delete,
}

impl std::fmt::Display for ClusterAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClusterAction::List => "list",
            ClusterAction::Apply => "apply",
            ClusterAction::Delete => "delete",
        })
    }
}

/// The Kubernetes API server refused a request of a deploy or undeploy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} {object}: {message}{}", rollback_note(.rollback_failures))]
pub struct ClusterError {
    /// What was being done.
    pub action: ClusterAction,
    /// The object (`<Kind> <namespace>/<name>`) or, for a list, the kind and selector.
    pub object: String,
    /// The API server's message (or the transport error).
    pub message: String,
    /// Steps of restoring the previous state that failed too (empty when it was restored).
    pub rollback_failures: Vec<String>,
}

fn rollback_note(failures: &[String]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!(
            "; restoring the previous state failed too: {}",
            failures.join("; ")
        )
    }
}

/// One object of an API: its kind (an index into the kind table) and the object.
#[derive(Debug, Clone)]
struct Entry {
    kind: usize,
    object: DynamicObject,
}

impl Entry {
    fn name(&self) -> &str {
        self.object.metadata.name.as_deref().unwrap_or_default()
    }
}

/// Deploys APIs into a Kubernetes namespace with server-side apply.
#[derive(Clone)]
pub struct KubeDeployer {
    client: Client,
    namespace: String,
    organization: String,
    kinds: Vec<ApiResource>,
}

impl std::fmt::Debug for KubeDeployer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeDeployer")
            .field("namespace", &self.namespace)
            .field("organization", &self.organization)
            .finish_non_exhaustive()
    }
}

impl KubeDeployer {
    /// A deployer applying into `namespace` through `client`, for APK's default organization.
    pub fn new(client: Client, namespace: impl Into<String>) -> Self {
        KubeDeployer {
            client,
            namespace: namespace.into(),
            organization: DEFAULT_ORGANIZATION.to_owned(),
            kinds: super::cluster_kinds(),
        }
    }

    /// The same deployer for another organization.
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organization = organization.into();
        self
    }

    /// The namespace applied into.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Parses `conf_yaml`, generates its resources with `definition` and applies them, all or
    /// nothing; a redeploy deletes the objects the new version no longer has. Returns the
    /// apk-conf with its id.
    pub async fn deploy(
        &self,
        conf_yaml: &str,
        definition: Option<&str>,
    ) -> Result<DeployedApi, DeployError> {
        let prepared = prepare(conf_yaml, definition, &self.organization, &self.namespace)?;
        let id = prepared.generated.api_id.clone();
        check_label_value(&id)?;
        let desired = self.desired(&id, &prepared.generated)?;
        let existing = self.existing(&id).await?;
        self.apply_all(&desired, &existing).await?;
        let wanted: BTreeSet<(usize, &str)> = desired.iter().map(|e| (e.kind, e.name())).collect();
        for stale in existing.iter().filter(|e| !wanted.contains(&(e.kind, e.name()))) {
            self.delete(stale).await.map_err(|message| ClusterError {
                action: ClusterAction::Delete,
                object: self.describe(stale),
                message,
                rollback_failures: Vec::new(),
            })?;
        }
        tracing::info!(%id, namespace = %self.namespace, objects = desired.len(), "API deployed");
        Ok(prepared.into_deployed())
    }

    /// Deletes every object labelled with `id`; [`DeployError::NotFound`] when there is none.
    pub async fn undeploy(&self, id: &str) -> Result<(), DeployError> {
        if !is_valid_id(id) {
            return Err(DeployError::InvalidId(id.to_owned()));
        }
        check_label_value(id)?;
        let existing = self.existing(id).await?;
        if existing.is_empty() {
            return Err(DeployError::NotFound(id.to_owned()));
        }
        for entry in &existing {
            self.delete(entry).await.map_err(|message| ClusterError {
                action: ClusterAction::Delete,
                object: self.describe(entry),
                message,
                rollback_failures: Vec::new(),
            })?;
        }
        tracing::info!(%id, namespace = %self.namespace, objects = existing.len(), "API undeployed");
        Ok(())
    }

    /// The generated documents as labelled objects of known kinds.
    fn desired(&self, id: &str, generated: &GeneratedResources) -> Result<Vec<Entry>, DeployError> {
        generated
            .files
            .iter()
            .map(|(file_name, yaml)| {
                let mut object: DynamicObject = serde_yaml::from_str(yaml).map_err(|error| {
                    crate::resources::GenerateError::Serialize(format!("{file_name}: {error}"))
                })?;
                let types = object.types.clone().unwrap_or_default();
                let kind = self
                    .kinds
                    .iter()
                    .position(|k| k.api_version == types.api_version && k.kind == types.kind)
                    .ok_or_else(|| ClusterError {
                        action: ClusterAction::Apply,
                        object: format!("{file_name} ({} {})", types.api_version, types.kind),
                        message: "the deployer knows no API resource for this kind".to_owned(),
                        rollback_failures: Vec::new(),
                    })?;
                object.metadata.namespace = Some(self.namespace.clone());
                object
                    .metadata
                    .labels
                    .get_or_insert_default()
                    .insert(API_ID_LABEL.to_owned(), id.to_owned());
                Ok(Entry { kind, object })
            })
            .collect()
    }

    /// The objects labelled with `id` now, per kind in table order.
    async fn existing(&self, id: &str) -> Result<Vec<Entry>, DeployError> {
        let selector = format!("{API_ID_LABEL}={id}");
        let params = ListParams::default().labels(&selector);
        let mut found = Vec::new();
        for (kind, resource) in self.kinds.iter().enumerate() {
            match self.api(kind).list(&params).await {
                Ok(list) => {
                    let mut items = list.items;
                    items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
                    found.extend(items.into_iter().map(|object| Entry { kind, object }));
                }
                // No such kind in this cluster (its CRD is not installed): nothing to find.
                Err(error) if is_not_found(&error) => {}
                Err(error) => {
                    return Err(ClusterError {
                        action: ClusterAction::List,
                        object: format!("{} in {} labelled {selector}", resource.plural, self.namespace),
                        message: server_message(&error),
                        rollback_failures: Vec::new(),
                    }
                    .into());
                }
            }
        }
        Ok(found)
    }

    /// Applies `desired` in order; on the first failure, restores `existing` and fails.
    async fn apply_all(&self, desired: &[Entry], existing: &[Entry]) -> Result<(), ClusterError> {
        for (done, entry) in desired.iter().enumerate() {
            if let Err(message) = self.apply(entry).await {
                tracing::warn!(object = %self.describe(entry), %message, "apply failed, restoring the previous state");
                let rollback_failures = self.restore(&desired[..done], existing).await;
                return Err(ClusterError {
                    action: ClusterAction::Apply,
                    object: self.describe(entry),
                    message,
                    rollback_failures,
                });
            }
        }
        Ok(())
    }

    /// Undoes the applies of `applied`, newest first: deletes what did not exist before and
    /// re-applies the previous version of the rest. Returns what could not be undone.
    async fn restore(&self, applied: &[Entry], existing: &[Entry]) -> Vec<String> {
        let mut failures = Vec::new();
        for entry in applied.iter().rev() {
            let previous = existing
                .iter()
                .find(|e| e.kind == entry.kind && e.name() == entry.name());
            let (action, result) = match previous {
                Some(previous) => (ClusterAction::Apply, self.apply(&self.restorable(previous)).await),
                None => (ClusterAction::Delete, self.delete(entry).await),
            };
            if let Err(message) = result {
                tracing::error!(object = %self.describe(entry), %message, "cannot restore");
                failures.push(format!("cannot {action} {}: {message}", self.describe(entry)));
            }
        }
        failures
    }

    /// `previous` as an apply body: its content without server-set metadata or status, so
    /// applying it with the same field manager brings back exactly its fields.
    fn restorable(&self, previous: &Entry) -> Entry {
        let resource = &self.kinds[previous.kind];
        let mut data = previous.object.data.clone();
        if let Some(fields) = data.as_object_mut() {
            fields.remove("status");
        }
        let meta = &previous.object.metadata;
        Entry {
            kind: previous.kind,
            object: DynamicObject {
                types: Some(TypeMeta {
                    api_version: resource.api_version.clone(),
                    kind: resource.kind.clone(),
                }),
                metadata: ObjectMeta {
                    name: meta.name.clone(),
                    namespace: Some(self.namespace.clone()),
                    labels: meta.labels.clone(),
                    annotations: meta.annotations.clone(),
                    ..ObjectMeta::default()
                },
                data,
            },
        }
    }

    async fn apply(&self, entry: &Entry) -> Result<(), String> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        self.api(entry.kind)
            .patch(entry.name(), &params, &Patch::Apply(&entry.object))
            .await
            .map(drop)
            .map_err(|error| server_message(&error))
    }

    /// Deletes `entry`; one already gone counts as deleted.
    async fn delete(&self, entry: &Entry) -> Result<(), String> {
        match self
            .api(entry.kind)
            .delete(entry.name(), &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Ok(()),
            Err(error) => Err(server_message(&error)),
        }
    }

    fn api(&self, kind: usize) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &self.kinds[kind])
    }

    fn describe(&self, entry: &Entry) -> String {
        format!(
            "{} {}/{}",
            self.kinds[entry.kind].kind,
            self.namespace,
            entry.name()
        )
    }
}

impl DeployTarget for KubeDeployer {
    fn deploy(&self, conf_yaml: String, definition: Option<String>) -> DeployFuture<'_, DeployedApi> {
        Box::pin(async move { KubeDeployer::deploy(self, &conf_yaml, definition.as_deref()).await })
    }

    fn undeploy(&self, id: String) -> DeployFuture<'_, ()> {
        Box::pin(async move { KubeDeployer::undeploy(self, &id).await })
    }
}

/// Label values have at most 63 characters and start and end with a letter or digit; the
/// rest of the alphabet is that of a valid id.
fn check_label_value(id: &str) -> Result<(), DeployError> {
    let edges_ok = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    if id.len() <= 63 && edges_ok(id.as_bytes().first()) && edges_ok(id.as_bytes().last()) {
        Ok(())
    } else {
        Err(DeployError::IdNotALabel(id.to_owned()))
    }
}

fn is_not_found(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.is_not_found())
}

/// The API server's own message when it sent one, else the client's error.
fn server_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}
