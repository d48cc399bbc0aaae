//! One kind's watcher across its CRD coming and going: lists and watches while the API server
//! serves the kind, empties the kind's store when it stops, and waits to be told it is back.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher::{self, Event};
use tokio::sync::{Notify, watch};

/// How far a kind's watcher got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KindSync {
    /// The initial list has not completed.
    Listing,
    /// The initial list completed; the store follows the API server.
    Synced,
    /// The API server does not serve the kind (its CRD is not installed, or was deleted).
    Missing,
    /// Discovery says the kind is served now; its first list is under way.
    Appearing,
}

impl KindSync {
    /// Whether the kind's objects are missing from the store because it is not served (yet).
    pub(crate) fn is_missing(self) -> bool {
        matches!(self, KindSync::Missing | KindSync::Appearing)
    }
}

/// Everything one kind's watcher task needs.
pub(crate) struct KindWatch {
    /// The kind as Kubernetes spells it, for logs.
    pub kind: String,
    /// Where the kind is listed and watched (all namespaces or one).
    pub api: Api<DynamicObject>,
    /// Label and field selectors from the options.
    pub config: watcher::Config,
    /// Feeds the kind's store; kept across watchers so that the store outlives them.
    pub writer: Writer<DynamicObject>,
    /// How far the watcher got, for `wait_until_synced`, `missing_kinds` and rediscovery.
    pub sync: watch::Sender<KindSync>,
    /// The source's reload signal, shared by every kind.
    pub changes: Arc<watch::Sender<u64>>,
    /// Notified by rediscovery when the API server serves the kind again.
    pub served_again: Arc<Notify>,
    /// How often rediscovery looks, for the log lines.
    pub rediscover_every: Duration,
}

impl KindWatch {
    /// Watches the kind for as long as the source lives.
    pub(crate) async fn run(mut self) {
        let mut at_start = true;
        loop {
            let was_synced = self.watch_while_served(at_start).await;
            if was_synced {
                // Init then InitDone swaps an empty buffer into the store.
                self.writer.apply_watcher_event(&Event::Init);
                self.writer.apply_watcher_event(&Event::InitDone);
                tracing::info!(
                    kind = %self.kind,
                    every = ?self.rediscover_every,
                    "the API server no longer serves this kind (CRD deleted?); dropped its objects, looking for it again periodically"
                );
                self.changes.send_modify(|n| *n += 1);
            } else if at_start {
                tracing::info!(
                    kind = %self.kind,
                    every = ?self.rediscover_every,
                    "the API server does not serve this kind (CRD not installed?); looking for it again periodically"
                );
            } else {
                // Discovery listed it but the list did not answer (yet): try at the next round.
                tracing::debug!(kind = %self.kind, "discovered but not listable yet");
            }
            self.sync.send_replace(KindSync::Missing);
            at_start = false;
            self.served_again.notified().await;
            self.sync.send_replace(KindSync::Appearing);
        }
    }

    /// Runs a watcher until the API server answers that it does not serve the kind; returns
    /// whether the initial list had completed (the store then holds objects of a gone kind).
    /// Marks the kind synced after its first list and bumps `changes` for every later event,
    /// and for the first list too when the kind appeared after the start. Other errors are
    /// logged and retried by the stream with backoff.
    async fn watch_while_served(&mut self, at_start: bool) -> bool {
        let stream = watcher::watcher(self.api.clone(), self.config.clone()).default_backoff();
        let mut stream = std::pin::pin!(stream);
        let mut synced = false;
        while let Some(item) = stream.next().await {
            let event = match item {
                Ok(event) => event,
                Err(error) if is_not_served(&error) => return synced,
                Err(error) => {
                    tracing::warn!(kind = %self.kind, %error, "watch failed; retrying with backoff");
                    continue;
                }
            };
            self.writer.apply_watcher_event(&event);
            match event {
                Event::InitDone if !synced => {
                    synced = true;
                    self.sync.send_replace(KindSync::Synced);
                    if at_start {
                        tracing::debug!(kind = %self.kind, "initial list complete");
                    } else {
                        tracing::info!(kind = %self.kind, "the API server serves this kind now; watching it");
                        self.changes.send_modify(|n| *n += 1);
                    }
                }
                // A relist (after a 410 Gone, say) may have changed anything.
                Event::InitDone | Event::Apply(_) | Event::Delete(_) => {
                    self.changes.send_modify(|n| *n += 1);
                }
                Event::Init | Event::InitApply(_) => {}
            }
        }
        // kube-rs watchers never end; should one, the caller starts another after rediscovery.
        synced
    }
}

/// A 404 from the list, the watch or a watch event: the API server does not serve the kind.
/// (A CRD deleted under a watch ends it or answers 410; the next watch or list answers 404.
/// kube-rs reports a watch answered 404 as a failed stream, not a failed start.)
fn is_not_served(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.is_not_found(),
        watcher::Error::WatchError(status) => status.is_not_found(),
        _ => false,
    }
}
