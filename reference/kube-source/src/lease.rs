//! Leader election with a `coordination.k8s.io/v1` Lease, so that several gateway replicas all
//! serve traffic while one writes statuses.
//!
//! The holder renews the Lease every `renew_every`; another replica takes it over once it has
//! seen the Lease unchanged for `lease_duration` by its own clock (so clock skew between nodes
//! does not matter, as in client-go). Every write carries the `resourceVersion` read, so two
//! replicas racing for an expired Lease cannot both win (the API server answers 409 to one).

use std::time::Duration;

use tokio::time::Instant;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Which Lease, held as whom, for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseOptions {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// This replica's name in `holderIdentity` (its pod name).
    pub identity: String,
    /// How long a holder that stopped renewing keeps it (whole seconds in the Lease, rounded up).
    pub lease_duration: Duration,
    /// How often the holder renews (and the others look).
    pub renew_every: Duration,
}

impl LeaseOptions {
    /// The usual timing: 15 s leases renewed every 5 s.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, identity: impl Into<String>) -> Self {
        LeaseOptions {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

/// Takes part in the election until dropped (a dropped holder stops renewing; another
/// replica takes over when the Lease expires).
pub struct LeaderElection {
    leader: watch::Receiver<bool>,
    task: JoinHandle<()>,
}

impl LeaderElection {
    /// Starts trying to acquire, then to renew, the Lease.
    pub fn start(client: Client, options: LeaseOptions) -> LeaderElection {
        let (tx, leader) = watch::channel(false);
        let api: Api<Lease> = Api::namespaced(client, &options.namespace);
        let task = tokio::spawn(async move {
            let mut seen = None;
            loop {
                let holding = match acquire_or_renew(&api, &options, &mut seen).await {
                    Ok(holding) => holding,
                    Err(error) => {
                        tracing::warn!(lease = %options.name, "leader election: {error}");
                        // Unsure whether the renewal landed: a holder that cannot renew must
                        // assume another replica takes over.
                        false
                    }
                };
                if tx.send_replace(holding) != holding {
                    tracing::info!(identity = %options.identity, lease = %options.name, leader = holding, "leadership changed");
                }
                tokio::time::sleep(options.renew_every).await;
            }
        });
        LeaderElection { leader, task }
    }

    /// Whether this replica holds the Lease now; changes are signalled.
    pub fn leader(&self) -> watch::Receiver<bool> {
        self.leader.clone()
    }
}

impl Drop for LeaderElection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The Lease as last read: its `resourceVersion`, and when (locally) it was first seen so.
type Seen = Option<(String, Instant)>;

/// One round: creates the Lease if there is none, renews it if ours, takes it if it has not
/// changed for a lease duration. Returns whether this replica holds it afterwards.
async fn acquire_or_renew(
    api: &Api<Lease>,
    options: &LeaseOptions,
    seen: &mut Seen,
) -> Result<bool, kube::Error> {
    let now = jiff::Timestamp::now();
    // Leases count whole seconds: round up, so that a short lease is never stored as 0 (always
    // expired, and taken over by every other replica on every round).
    let whole = options.lease_duration.as_secs() + u64::from(options.lease_duration.subsec_nanos() > 0);
    let seconds = i32::try_from(whole.max(1)).unwrap_or(i32::MAX);
    let Some(current) = api.get_opt(&options.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(options.name.clone()),
                namespace: Some(options.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(options.identity.clone()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(MicroTime(now)),
                renew_time: Some(MicroTime(now)),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return settle(api.create(&PostParams::default(), &lease).await);
    };
    let spec = current.spec.clone().unwrap_or_default();
    let ours = spec.holder_identity.as_deref() == Some(options.identity.as_str());
    let version = current.metadata.resource_version.clone().unwrap_or_default();
    let unchanged_since = match seen.take() {
        Some((seen_version, since)) if seen_version == version => since,
        _ => Instant::now(),
    };
    *seen = Some((version, unchanged_since));
    let duration = spec.lease_duration_seconds.map_or(options.lease_duration, |s| {
        Duration::from_secs(u64::try_from(s).unwrap_or(0))
    });
    let expired = unchanged_since.elapsed() > duration || spec.holder_identity.is_none();
    if !ours && !expired {
        return Ok(false);
    }
    let mut lease = current;
    lease.spec = Some(LeaseSpec {
        holder_identity: Some(options.identity.clone()),
        lease_duration_seconds: Some(seconds),
        acquire_time: if ours {
            spec.acquire_time
        } else {
            Some(MicroTime(now))
        },
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(spec.lease_transitions.unwrap_or(0) + i32::from(!ours)),
        ..spec
    });
    settle(api.replace(&options.name, &PostParams::default(), &lease).await)
}

/// A write that lost a race (409) means another replica holds the Lease.
fn settle(result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(error) => Err(error),
    }
}
