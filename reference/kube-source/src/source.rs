//! Watches every served kind on an API server and keeps the objects in reflector stores.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kube::Client;
use kube::api::{Api, DynamicObject};
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use portcullis_model::{LoadError, LoadReport, ObjectRef, Resource};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::error::KubeSourceError;
use crate::follow::{KindSync, KindWatch};
use crate::kinds::{Filter, WatchedKind, watched_kinds};
use crate::options::KubeSourceOptions;
use crate::rediscover::{Candidate, rediscover};
use crate::status::malformed::Malformed;

/// What every source name in a [`KubeSource::report`] starts with, e.g.
/// `kube:HTTPRoute default/foo`.
pub const SOURCE_PREFIX: &str = "kube:";

/// How often [`KubeSource::start`] looks again for kinds the API server does not serve.
pub const REDISCOVERY_INTERVAL: Duration = Duration::from_secs(10);

struct WatchedState {
    kind: WatchedKind,
    store: Store<DynamicObject>,
    sync: watch::Receiver<KindSync>,
}

/// A converted object, kept while its `resourceVersion` is the same.
struct Converted {
    resource_version: String,
    result: Result<Resource, LoadError>,
}

/// Every watched kind's objects, kept current by kube-rs watchers.
pub struct KubeSource {
    kinds: Vec<WatchedState>,
    changes: watch::Receiver<u64>,
    tasks: Vec<JoinHandle<()>>,
    converted: Mutex<HashMap<ObjectRef, Converted>>,
    /// The objects of the last report that did not fit their schema.
    malformed: Mutex<Vec<Malformed>>,
}

impl KubeSource {
    /// Starts one watcher per kind (in the background; see [`KubeSource::wait_until_synced`]).
    /// Kinds the API server does not serve are looked for again every
    /// [`REDISCOVERY_INTERVAL`].
    pub fn start(client: Client, options: KubeSourceOptions) -> Result<KubeSource, KubeSourceError> {
        Self::start_with_rediscovery(client, options, REDISCOVERY_INTERVAL)
    }

    /// [`KubeSource::start`], looking for kinds the API server does not serve (CRD not
    /// installed yet, or deleted) every `every`: one discovery call per group-version with
    /// missing kinds; a kind found served is watched and its first list is a change.
    pub fn start_with_rediscovery(
        client: Client,
        options: KubeSourceOptions,
        every: Duration,
    ) -> Result<KubeSource, KubeSourceError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| KubeSourceError::NoRuntime)?;
        check_options(&options)?;
        if every.is_zero() {
            return Err(KubeSourceError::Option {
                option: "rediscovery interval",
                message: "is zero; it must be a positive duration".to_string(),
            });
        }
        let (changes_tx, changes) = watch::channel(0u64);
        let changes_tx = Arc::new(changes_tx);
        let mut kinds = Vec::new();
        let mut candidates = Vec::new();
        let mut tasks = Vec::new();
        for kind in watched_kinds() {
            let api = match (&options.namespace, kind.namespaced) {
                (Some(namespace), true) => Api::namespaced_with(client.clone(), namespace, &kind.api),
                _ => Api::all_with(client.clone(), &kind.api),
            };
            let writer = reflector::store::Writer::new(kind.api.clone());
            let store = writer.as_reader();
            let (sync_tx, sync) = watch::channel(KindSync::Listing);
            let served_again = Arc::new(Notify::new());
            let watch = KindWatch {
                kind: kind.kind().to_string(),
                api,
                config: watcher_config(&kind, &options),
                writer,
                sync: sync_tx,
                changes: changes_tx.clone(),
                served_again: served_again.clone(),
                rediscover_every: every,
            };
            tasks.push(runtime.spawn(watch.run()));
            candidates.push(Candidate {
                api: kind.api.clone(),
                sync: sync.clone(),
                served_again,
            });
            kinds.push(WatchedState { kind, store, sync });
        }
        tasks.push(runtime.spawn(rediscover(client, candidates, every)));
        Ok(KubeSource {
            kinds,
            changes,
            tasks,
            converted: Mutex::new(HashMap::new()),
            malformed: Mutex::new(Vec::new()),
        })
    }

    /// A counter that goes up on every watch event applied after a kind's initial list, and
    /// when a kind starts or stops being served: the signal to reload (debounce it; a burst
    /// of events bumps it many times).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// Resolves once every kind has completed its initial list (or turned out not to be
    /// served). Watch errors are retried, so without an API server this waits forever: put a
    /// timeout around it.
    pub async fn wait_until_synced(&self) {
        for state in &self.kinds {
            let mut sync = state.sync.clone();
            // An error means the watcher task is gone (the source is being dropped).
            let _ = sync.wait_for(|s| *s != KindSync::Listing).await;
        }
    }

    /// Kinds the API server does not serve (their CRDs are not installed), as of now; each
    /// is looked for again periodically.
    pub fn missing_kinds(&self) -> Vec<String> {
        self.kinds
            .iter()
            .filter(|s| s.sync.borrow().is_missing())
            .map(|s| s.kind.kind().to_string())
            .collect()
    }

    /// The current objects, typed, in table order and then by namespace and name. Each is
    /// named `kube:<Kind> <namespace>/<name>`; objects that do not fit their schema are in
    /// `errors`, naming the field, and never hide the others.
    pub fn report(&self) -> LoadReport {
        let mut report = LoadReport::default();
        let mut converted = self.converted.lock().unwrap_or_else(PoisonError::into_inner);
        let mut seen = HashMap::with_capacity(converted.len());
        let mut malformed = Vec::new();
        for state in &self.kinds {
            let mut objects = state.store.state();
            objects.sort_by(|a, b| {
                (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
            });
            for object in objects {
                let object_ref = ObjectRef::new(
                    state.kind.kind(),
                    object.metadata.namespace.clone().unwrap_or_default(),
                    object.metadata.name.clone().unwrap_or_default(),
                );
                let resource_version = object.metadata.resource_version.clone().unwrap_or_default();
                let entry = match converted.remove(&object_ref) {
                    // Objects without a resourceVersion never come from a real server; convert
                    // them every time rather than trust an empty version.
                    Some(c) if !resource_version.is_empty() && c.resource_version == resource_version => c,
                    _ => Converted {
                        result: convert(&state.kind, &object_ref, &object),
                        resource_version,
                    },
                };
                let source = format!("{SOURCE_PREFIX}{object_ref}");
                match &entry.result {
                    Ok(resource) => report.resources.push((source, resource.clone())),
                    Err(error) => {
                        report.errors.push(error.clone());
                        malformed.push(malformed_object(object_ref.clone(), &object, error));
                    }
                }
                seen.insert(object_ref, entry);
            }
        }
        // Objects gone from the stores leave the cache too.
        *converted = seen;
        *self.malformed.lock().unwrap_or_else(PoisonError::into_inner) = malformed;
        report
    }

    /// The objects that did not fit their kind's schema in the last [`KubeSource::report`],
    /// in its order, with what their statuses need (see [`crate::status::malformed`]).
    pub fn malformed(&self) -> Vec<Malformed> {
        self.malformed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What a status needs of an object that could not be read as its kind.
fn malformed_object(object: ObjectRef, raw: &DynamicObject, error: &LoadError) -> Malformed {
    let (field, message) = match error {
        LoadError::Field { field, message, .. } => (field.clone(), message.clone()),
        other => ("(root)".to_string(), other.to_string()),
    };
    Malformed {
        object,
        generation: raw.metadata.generation,
        field,
        message,
        spec: raw.data.get("spec").cloned().unwrap_or_default(),
        status: raw.data.get("status").cloned(),
    }
}

impl Drop for KubeSource {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn check_options(options: &KubeSourceOptions) -> Result<(), KubeSourceError> {
    let empty = |option: &'static str, value: &Option<String>| match value {
        Some(v) if v.trim().is_empty() => Err(KubeSourceError::Option {
            option,
            message: "is empty; leave it unset instead".to_string(),
        }),
        _ => Ok(()),
    };
    empty("namespace", &options.namespace)?;
    empty("secretSelector", &options.secret_selector)?;
    empty("configMapSelector", &options.config_map_selector)
}

fn watcher_config(kind: &WatchedKind, options: &KubeSourceOptions) -> watcher::Config {
    let config = watcher::Config::default();
    match (kind.filter, options) {
        (
            Filter::Secrets,
            KubeSourceOptions {
                secret_selector: Some(s),
                ..
            },
        )
        | (
            Filter::ConfigMaps,
            KubeSourceOptions {
                config_map_selector: Some(s),
                ..
            },
        ) => config.labels(s),
        (
            Filter::Namespaces,
            KubeSourceOptions {
                namespace: Some(ns), ..
            },
        ) => config.fields(&format!("metadata.name={ns}")),
        _ => config,
    }
}

fn convert(
    kind: &WatchedKind,
    object_ref: &ObjectRef,
    object: &DynamicObject,
) -> Result<Resource, LoadError> {
    let name = if object_ref.namespace.is_empty() {
        object_ref.name.clone()
    } else {
        format!("{}/{}", object_ref.namespace, object_ref.name)
    };
    let field_error = |field: String, message: String| LoadError::Field {
        source_name: format!("{SOURCE_PREFIX}{object_ref}"),
        kind: object_ref.kind.clone(),
        name: name.clone(),
        field,
        message,
    };
    let value = serde_json::to_value(object).map_err(|e| field_error("(root)".to_string(), e.to_string()))?;
    kind.convert(value).map_err(|error| {
        let field = error.path().to_string();
        let field = if field == "." { "(root)".to_string() } else { field };
        field_error(field, error.into_inner().to_string())
    })
}
