//! Following an API server: every change reloads the control plane, and statuses are written
//! back once Envoy serves what they describe (so `Programmed=True` means traffic flows).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use portcullis_kube_source::{
    KubeSource, KubeSourceOptions, LeaderElection, LeaseOptions, REDISCOVERY_INTERVAL, StatusWriter,
};
use portcullis_xds::XdsServer;
use tokio::sync::watch;

use crate::control::ControlPlane;
use crate::embedded::APPLY_TIMEOUT;
use crate::error::OperatorError;

/// A burst of watch events (an `kubectl apply -f dir/`) reloads once.
const SETTLE: Duration = Duration::from_millis(50);

/// How soon status writes that failed are tried again, without waiting for a change.
const STATUS_RETRY: Duration = Duration::from_secs(5);

/// The field manager of the status writes unless told otherwise.
pub const STATUS_FIELD_MANAGER: &str = "portcullis";

/// How to serve the Gateways of an API server.
#[derive(Clone)]
pub struct ClusterOptions {
    /// The API server.
    pub client: kube::Client,
    /// What to watch (namespace, Secret and ConfigMap selectors).
    pub watch: KubeSourceOptions,
    /// Listeners bind this IP: `0.0.0.0` in a pod, so that traffic from outside reaches them.
    pub listen_ip: IpAddr,
    /// Gateway statuses name this IP instead of an unspecified `listen_ip` (the pod's or the
    /// node's IP, from the downward API).
    pub advertise_ip: Option<IpAddr>,
    /// The field manager of status writes.
    pub field_manager: String,
    /// How long the first list of every kind may take.
    pub sync_timeout: Duration,
    /// How often kinds the API server does not serve (CRDs not installed yet) are looked for.
    pub rediscovery: Duration,
    /// The namespace the Deployer (APK profile) applies deployed APIs to.
    pub deploy_namespace: String,
    /// With several replicas: only the holder of this Lease writes statuses (all serve
    /// traffic). Without one, this replica always writes them.
    pub lease: Option<LeaseOptions>,
}

impl ClusterOptions {
    /// Every namespace, listeners on all interfaces, statuses as `portcullis`.
    pub fn new(client: kube::Client) -> Self {
        ClusterOptions {
            client,
            watch: KubeSourceOptions::default(),
            listen_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            advertise_ip: None,
            field_manager: STATUS_FIELD_MANAGER.to_string(),
            sync_timeout: Duration::from_secs(60),
            rediscovery: REDISCOVERY_INTERVAL,
            deploy_namespace: "default".to_string(),
            lease: None,
        }
    }
}

impl fmt::Debug for ClusterOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterOptions")
            .field("watch", &self.watch)
            .field("listen_ip", &self.listen_ip)
            .field("advertise_ip", &self.advertise_ip)
            .field("field_manager", &self.field_manager)
            .field("sync_timeout", &self.sync_timeout)
            .field("rediscovery", &self.rediscovery)
            .field("deploy_namespace", &self.deploy_namespace)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// Starts watching and returns once every kind has been listed.
pub(crate) async fn start_source(options: &ClusterOptions) -> Result<Arc<KubeSource>, OperatorError> {
    let source = KubeSource::start_with_rediscovery(
        options.client.clone(),
        options.watch.clone(),
        options.rediscovery,
    )
    .map_err(|e| OperatorError::Cluster(e.to_string()))?;
    tokio::time::timeout(options.sync_timeout, source.wait_until_synced())
        .await
        .map_err(|_| {
            OperatorError::Cluster(format!(
                "the API server did not list every watched kind within {:?} (is it reachable, and may this account list and watch them? see reference/kube-source/README.md)",
                options.sync_timeout
            ))
        })?;
    Ok(Arc::new(source))
}

/// Writes the statuses of the control plane's last translation, and those of our objects that
/// did not fit their schema (so a broken route says why on itself); returns how many failed.
pub(crate) async fn write_statuses(
    control: &ControlPlane,
    source: &KubeSource,
    writer: &StatusWriter,
) -> usize {
    let view = control.view().borrow().clone();
    let Some(snapshot) = &view.snapshot else {
        return 0;
    };
    let errors = writer
        .write_all(&view.statuses, snapshot, &source.malformed())
        .await;
    for error in &errors {
        tracing::warn!("writing a status: {error}");
    }
    errors.len()
}

/// Reloads on every change of the source until dropped.
pub(crate) struct ClusterFollower {
    task: tokio::task::JoinHandle<()>,
    _election: Option<LeaderElection>,
}

impl Drop for ClusterFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What woke the follower.
enum Wake {
    Change,
    Leadership,
    Retry,
}

/// Follows `source`: reload, wait until Envoy applied, write statuses (when leading, with an
/// election); failed status writes are retried every few seconds. A replica that becomes the
/// leader writes every status again (the previous leader may have left some unwritten).
pub(crate) async fn follow(
    control: Arc<ControlPlane>,
    source: Arc<KubeSource>,
    xds: XdsServer,
    writer: Arc<StatusWriter>,
    election: Option<LeaderElection>,
) -> ClusterFollower {
    let mut changes = source.changes();
    let mut leader = election.as_ref().map(LeaderElection::leader);
    let leading = |leader: &Option<watch::Receiver<bool>>| leader.as_ref().is_none_or(|l| *l.borrow());
    let mut failed_writes = if leading(&leader) {
        write_statuses(&control, &source, &writer).await
    } else {
        0
    };
    let task = tokio::spawn(async move {
        loop {
            let wake = tokio::select! {
                changed = changes.changed() => match changed {
                    Ok(()) => Wake::Change,
                    Err(_) => return,
                },
                () = leadership_changed(&mut leader) => Wake::Leadership,
                () = tokio::time::sleep(STATUS_RETRY), if failed_writes > 0 => Wake::Retry,
            };
            match wake {
                Wake::Change => {
                    tokio::time::sleep(SETTLE).await;
                    changes.borrow_and_update();
                    match control.reload().await {
                        Ok(version) => {
                            if let Err(error) = xds.wait_until_applied(version, APPLY_TIMEOUT).await {
                                tracing::warn!("a change from the API server was not applied: {error}");
                            }
                        }
                        Err(error) => tracing::warn!("reloading after a change on the API server: {error}"),
                    }
                }
                Wake::Leadership => writer.forget(),
                Wake::Retry => {}
            }
            failed_writes = if leading(&leader) {
                write_statuses(&control, &source, &writer).await
            } else {
                0
            };
        }
    });
    ClusterFollower {
        task,
        _election: election,
    }
}

/// Resolves when leadership changes; never without an election.
async fn leadership_changed(leader: &mut Option<watch::Receiver<bool>>) {
    if let Some(receiver) = leader
        && receiver.changed().await.is_ok()
    {
        return;
    }
    std::future::pending().await
}
