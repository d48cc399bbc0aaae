//! Applies statuses to the API server, skipping objects whose status did not change.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use portcullis_model::{ObjectRef, Snapshot};
use portcullis_translate::Statuses;
use serde_json::Value;

use crate::error::StatusWriteError;
use crate::status::body::{StatusTarget, current_status, targets};
use crate::status::malformed::{Malformed, malformed_targets};

/// How many applies are in flight at once.
const CONCURRENT_WRITES: usize = 8;

type Clock = Arc<dyn Fn() -> jiff::Timestamp + Send + Sync>;

/// Writes the translator's statuses back with server-side apply, as one field manager.
pub struct StatusWriter {
    client: Client,
    field_manager: String,
    clock: Clock,
    /// The body last applied successfully, per object.
    written: Mutex<HashMap<ObjectRef, Value>>,
    /// Controller names seen in our route parents: parents with other names belong to other
    /// controllers and are kept.
    controllers: Mutex<BTreeSet<String>>,
}

impl StatusWriter {
    /// A writer applying as `field_manager` (the name shown in `managedFields`).
    pub fn new(client: Client, field_manager: impl Into<String>) -> Self {
        StatusWriter {
            client,
            field_manager: field_manager.into(),
            clock: Arc::new(jiff::Timestamp::now),
            written: Mutex::new(HashMap::new()),
            controllers: Mutex::new(BTreeSet::new()),
        }
    }

    /// Uses `clock` for new `lastTransitionTime`s instead of the system clock.
    pub fn with_clock(mut self, clock: impl Fn() -> jiff::Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Forgets what was written, so the next [`StatusWriter::write`] applies every status
    /// (after regaining leadership, say, when another writer may have changed them).
    pub fn forget(&self) {
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Applies the status of every GatewayClass, Gateway, HTTPRoute, GRPCRoute and APK policy in
    /// `statuses` that came from the API server (per `snapshot`) and changed since its last
    /// successful write. Returns one error per object that failed; the others are written.
    pub async fn write(&self, statuses: &Statuses, snapshot: &Snapshot) -> Vec<StatusWriteError> {
        self.write_all(statuses, snapshot, &[]).await
    }

    /// [`StatusWriter::write`], and the statuses of the objects that did not fit their schema
    /// and belong to this controller (see [`crate::status::malformed::malformed_targets`]).
    pub async fn write_all(
        &self,
        statuses: &Statuses,
        snapshot: &Snapshot,
        malformed: &[Malformed],
    ) -> Vec<StatusWriteError> {
        let ours = {
            let mut controllers = self.controllers.lock().unwrap_or_else(PoisonError::into_inner);
            controllers.extend(
                statuses
                    .http_routes
                    .values()
                    .chain(statuses.grpc_routes.values())
                    .flat_map(|r| &r.parents)
                    .map(|p| p.controller_name.clone()),
            );
            controllers.clone()
        };
        let (mut targets, mut errors) = targets(statuses, snapshot, &ours);
        targets.extend(malformed_targets(malformed, statuses, snapshot));
        let now = second_precision(&(self.clock)());
        let changed: Vec<(StatusTarget, Value)> = {
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            // Objects without a status any more are forgotten: if they come back, they are written.
            let present: BTreeSet<&ObjectRef> = targets.iter().map(|t| &t.object).collect();
            written.retain(|object, _| present.contains(object));
            targets
                .into_iter()
                .filter_map(|target| {
                    let last = written.get(&target.object);
                    // What we wrote last wins over the snapshot, which may not have seen it yet.
                    let previous = last
                        .map(|body| body["status"].clone())
                        .or_else(|| current_status(snapshot, &target.object))
                        .or_else(|| {
                            malformed
                                .iter()
                                .find(|m| m.object == target.object)
                                .and_then(|m| m.status.clone())
                        });
                    let body = target.body(previous.as_ref(), &now);
                    (last != Some(&body)).then_some((target, body))
                })
                .collect()
        };
        let results: Vec<_> = futures::stream::iter(changed)
            .map(|(target, body)| async move {
                let result = self.apply(&target, &body).await;
                (target, body, result)
            })
            .buffered(CONCURRENT_WRITES)
            .collect()
            .await;
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        for (target, body, result) in results {
            match result {
                Ok(()) => {
                    tracing::debug!(object = %target.object, "status written");
                    written.insert(target.object, body);
                }
                Err(source) => {
                    let error = StatusWriteError::Api {
                        object: target.object.to_string(),
                        source: Box::new(source),
                    };
                    tracing::warn!("{error}");
                    errors.push(error);
                }
            }
        }
        errors
    }

    async fn apply(&self, target: &StatusTarget, body: &Value) -> Result<(), kube::Error> {
        let api: Api<DynamicObject> = if target.object.namespace.is_empty() {
            Api::all_with(self.client.clone(), &target.api)
        } else {
            Api::namespaced_with(self.client.clone(), &target.object.namespace, &target.api)
        };
        let params = PatchParams::apply(&self.field_manager).force();
        api.patch_status(&target.object.name, &params, &Patch::Apply(body))
            .await?;
        Ok(())
    }
}

/// Kubernetes times are RFC 3339 with whole seconds.
fn second_precision(now: &jiff::Timestamp) -> String {
    match jiff::Timestamp::from_second(now.as_second()) {
        Ok(seconds) => seconds.to_string(),
        Err(_) => now.to_string(),
    }
}
