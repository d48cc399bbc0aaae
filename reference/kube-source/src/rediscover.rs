//! Looks again, periodically, for kinds the API server did not serve: one discovery call per
//! group-version that has missing kinds, and a nudge to each kind's watcher that is now served.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::core::ApiResource;
use tokio::sync::{Notify, watch};
use tokio::time::MissedTickBehavior;

use crate::follow::KindSync;

/// A kind rediscovery may wake.
pub(crate) struct Candidate {
    /// The group-version and plural to look for.
    pub api: ApiResource,
    /// Only kinds that are `Missing` are looked for.
    pub sync: watch::Receiver<KindSync>,
    /// Wakes the kind's watcher task.
    pub served_again: Arc<Notify>,
}

/// Every `every`, asks the API server which of the missing kinds it serves and wakes their
/// watchers. Asks nothing while no kind is missing.
pub(crate) async fn rediscover(client: Client, candidates: Vec<Candidate>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick is immediate, and the kinds have only just been found missing.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let mut missing: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
        for candidate in &candidates {
            if *candidate.sync.borrow() == KindSync::Missing {
                missing
                    .entry(candidate.api.api_version.as_str())
                    .or_default()
                    .push(candidate);
            }
        }
        for (api_version, kinds) in missing {
            let Some(served) = served_resources(&client, api_version).await else {
                continue;
            };
            for kind in kinds {
                if served.contains(&kind.api.plural) {
                    kind.served_again.notify_one();
                }
            }
        }
    }
}

/// The resources (plurals) the API server serves at a group-version: none when it answers
/// 404, `None` when it cannot be asked (logged; the next round asks again).
async fn served_resources(client: &Client, api_version: &str) -> Option<BTreeSet<String>> {
    let answer = match api_version.split_once('/') {
        Some(_) => client.list_api_group_resources(api_version).await,
        // The core group: `v1`.
        None => client.list_core_api_resources(api_version).await,
    };
    match answer {
        Ok(list) => Some(list.resources.into_iter().map(|r| r.name).collect()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Some(BTreeSet::new()),
        Err(error) => {
            tracing::debug!(%api_version, %error, "discovery failed; asking again next round");
            None
        }
    }
}
