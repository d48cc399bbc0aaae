//! The whole gateway in one process: control plane, xDS server, echo backends, and a real
//! Envoy as a child process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use portcullis_envoy::{BootstrapConfig, EnvoyOptions, EnvoyProcess, EnvoySource, StaticCluster};
use portcullis_limiter::{Limiter, LimiterOptions, RedisStore};
use portcullis_translate::envoy::rate_limit::RATE_LIMIT_CLUSTER;
use portcullis_xds::XdsServer;
use tokio::net::TcpListener;

use crate::cluster::{ClusterFollower, ClusterOptions, follow, start_source};
use crate::control::{ControlPlane, ControlView};
use crate::error::OperatorError;
use crate::ports::PortPolicy;
use crate::profile::{APK_GATEWAY, APK_TEST_CLIENT_ID, APK_TEST_CLIENT_SECRET, ApkProfile, Profile};
use crate::system::SystemServer;
use crate::watch::{FolderWatch, watch_folder};
use portcullis_config_service::deployer::{ChangeHook, DeployTarget, Deployer, KubeDeployer};
use portcullis_enforcer::{APK_GATEWAY_ISSUER, BackendJwtSigner, Enforcer, ValidationOptions};
use portcullis_idp::{Idp, IdpConfig, OAuthClient};
use portcullis_kube_source::{LeaderElection, StatusWriter};
use portcullis_translate::envoy::security::ENFORCER_CLUSTER;

/// How to run the embedded gateway.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// The folder of resources (watched for changes); unused with [`EmbeddedOptions::cluster`].
    pub resources_dir: PathBuf,
    /// Serve the Gateways of this API server instead of a folder, writing statuses back.
    pub cluster: Option<ClusterOptions>,
    /// The GatewayClass controller name to serve.
    pub controller_name: String,
    /// Start an echo backend for every Service without endpoints.
    pub echo_backends: bool,
    /// Delta xDS (default) or State-of-the-World.
    pub delta: bool,
    /// How listener ports are chosen.
    pub port_policy: PortPolicy,
    /// Envoy's log level.
    pub envoy_log_level: String,
    /// Where Envoy's bootstrap and log go; a temporary folder when `None`.
    pub work_dir: Option<PathBuf>,
    /// Reload when files change.
    pub watch: bool,
    /// Keep rate-limit counters in this Redis (shared by every gateway using it) instead of
    /// in memory.
    pub redis_url: Option<String>,
    /// Which install to imitate; [`Profile::Apk`] adds APK's Gateway, IdP and system routes
    /// and serves APK's controller name.
    pub profile: Profile,
}

impl EmbeddedOptions {
    /// Defaults for a folder: delta xDS, declared ports first, watching, no echo backends.
    pub fn new(resources_dir: PathBuf) -> Self {
        EmbeddedOptions {
            resources_dir,
            cluster: None,
            controller_name: portcullis_model::CONTROLLER_NAME.to_string(),
            echo_backends: false,
            delta: true,
            port_policy: PortPolicy::DeclaredFirst,
            envoy_log_level: "warning".to_string(),
            work_dir: None,
            watch: true,
            redis_url: None,
            profile: Profile::Plain,
        }
    }

    /// Defaults for an API server: delta xDS, declared ports first (on `cluster.listen_ip`),
    /// no echo backends.
    pub fn for_cluster(cluster: ClusterOptions) -> Self {
        EmbeddedOptions {
            cluster: Some(cluster),
            ..EmbeddedOptions::new(PathBuf::new())
        }
    }
}

/// How long Envoy may take to apply a configuration.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running gateway. Dropping it kills Envoy; `shutdown` stops everything gracefully.
pub struct EmbeddedGateway {
    control: Arc<ControlPlane>,
    xds: XdsServer,
    xds_address: SocketAddr,
    envoy: Option<EnvoyProcess>,
    envoy_source: EnvoySource,
    _watch: Option<FolderWatch>,
    _cluster: Option<ClusterFollower>,
    xds_task: tokio::task::JoinHandle<()>,
    limiter: Arc<Limiter>,
    limiter_task: tokio::task::JoinHandle<()>,
    enforcer: Arc<Enforcer>,
    enforcer_task: tokio::task::JoinHandle<()>,
    enforcer_stop: tokio::sync::watch::Sender<bool>,
    reload_task: tokio::task::JoinHandle<()>,
    idp: Option<Arc<Idp>>,
    _system: Option<SystemServer>,
    _work_dir: Option<tempfile::TempDir>,
}

impl EmbeddedGateway {
    /// Starts the gateway and returns once Envoy has applied the folder's resources.
    pub async fn start(options: EmbeddedOptions) -> Result<Self, OperatorError> {
        let (work_dir, temp) = match &options.work_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| OperatorError::io(format!("creating {}", dir.display()), e))?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("portcullis-")
                    .tempdir()
                    .map_err(|e| OperatorError::io("creating a work folder", e))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let xds = XdsServer::new();
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| OperatorError::io("binding the xDS server", e))?;
        let xds_address = listener
            .local_addr()
            .map_err(|e| OperatorError::io("xDS address", e))?;
        let server = xds.clone();
        let xds_task = tokio::spawn(async move {
            if let Err(error) = server.serve(listener).await {
                tracing::error!("xDS server stopped: {error}");
            }
        });
        // Counters in memory serve one gateway; several share theirs through Redis.
        let limiter = Arc::new(match &options.redis_url {
            None => Limiter::in_memory(),
            Some(url) => {
                let store = RedisStore::new(url).map_err(|e| OperatorError::Limiter(e.to_string()))?;
                Limiter::new(Arc::new(store), LimiterOptions::default())
            }
        });
        let rls_listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| OperatorError::io("binding the rate-limit service", e))?;
        let rls_address = rls_listener
            .local_addr()
            .map_err(|e| OperatorError::io("rate-limit service address", e))?;
        let rls = limiter.clone();
        let limiter_task = tokio::spawn(async move {
            if let Err(error) = portcullis_limiter::serve(rls_listener, rls).await {
                tracing::error!("rate-limit service stopped: {error}");
            }
        });
        let signer = Arc::new(
            BackendJwtSigner::generate(APK_GATEWAY_ISSUER)
                .map_err(|e| OperatorError::Enforcer(e.to_string()))?,
        );
        let enforcer = Arc::new(
            Enforcer::new(ValidationOptions::default())
                .map_err(|e| OperatorError::Enforcer(e.to_string()))?
                .with_backend_jwt_signer(signer.clone()),
        );
        let authz_listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| OperatorError::io("binding the enforcer", e))?;
        let authz_address = authz_listener
            .local_addr()
            .map_err(|e| OperatorError::io("enforcer address", e))?;
        let authz = enforcer.clone();
        let (enforcer_stop, mut stop) = tokio::sync::watch::channel(false);
        let enforcer_task = tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(error) = portcullis_enforcer::serve_until(authz_listener, authz, stopped).await {
                tracing::error!("enforcer stopped: {error}");
            }
        });
        let (reload_requests, mut reload_queue) =
            tokio::sync::mpsc::channel::<tokio::sync::oneshot::Sender<()>>(16);
        let (source, status_writer) = match &options.cluster {
            Some(cluster) => {
                let source = start_source(cluster).await?;
                let writer = StatusWriter::new(cluster.client.clone(), cluster.field_manager.clone());
                (Some((source, cluster)), Some(Arc::new(writer)))
            }
            None => (None, None),
        };
        let control = match &source {
            Some((objects, cluster)) => {
                if options.echo_backends {
                    tracing::warn!(
                        "echo backends are for folders of resources; a cluster has its own Services"
                    );
                }
                ControlPlane::for_cluster(
                    objects.clone(),
                    options.controller_name.clone(),
                    xds.clone(),
                    options.port_policy,
                    cluster.listen_ip,
                    cluster.advertise_ip,
                )
            }
            None => ControlPlane::new(
                options.resources_dir.clone(),
                options.controller_name.clone(),
                xds.clone(),
                options.port_policy,
                options.echo_backends,
            ),
        };
        let mut control = control
            .with_limiter(limiter.clone())
            .with_enforcer(enforcer.clone());
        let (idp, system) = match options.profile {
            Profile::Plain => (None, None),
            Profile::Apk => {
                let idp = Arc::new(
                    Idp::new(IdpConfig::default()).map_err(|e| OperatorError::Enforcer(e.to_string()))?,
                );
                let deployer: Arc<dyn DeployTarget> = match &options.cluster {
                    // Deployed APIs are applied to the API server; the watch brings them back.
                    Some(cluster) => Arc::new(KubeDeployer::new(
                        cluster.client.clone(),
                        cluster.deploy_namespace.clone(),
                    )),
                    None => {
                        // Deployed APIs land in the resource folder, one file each, like any
                        // resource; the Deployer answers once Envoy serves the change.
                        let requests = reload_requests.clone();
                        let hook: ChangeHook = Arc::new(move || {
                            let requests = requests.clone();
                            Box::pin(async move {
                                let (done, applied) = tokio::sync::oneshot::channel();
                                if requests.send(done).await.is_ok() {
                                    let _ = applied.await;
                                }
                            })
                        });
                        Arc::new(Deployer::new(options.resources_dir.clone(), "default").with_on_change(hook))
                    }
                };
                let system = SystemServer::start(idp.clone(), signer.clone(), deployer).await?;
                let profile = ApkProfile::new(system.address(), &idp.config().issuer)?;
                tracing::info!(system = %system.address(), "APK profile: IdP and system routes on gateway {APK_GATEWAY}");
                control = control.with_profile(profile).with_idp(
                    idp.clone(),
                    vec![OAuthClient::new(APK_TEST_CLIENT_ID, APK_TEST_CLIENT_SECRET)],
                );
                (Some(idp), Some(system))
            }
        };
        let control = Arc::new(control);
        let (reloader, reloader_xds) = (control.clone(), xds.clone());
        let reload_task = tokio::spawn(async move {
            while let Some(done) = reload_queue.recv().await {
                match reloader.reload().await {
                    Ok(version) => {
                        if let Err(error) = reloader_xds.wait_until_applied(version, APPLY_TIMEOUT).await {
                            tracing::warn!("a deployed change was not applied: {error}");
                        }
                    }
                    Err(error) => tracing::warn!("reloading after a deploy: {error}"),
                }
                let _ = done.send(());
            }
        });
        let version = control.reload().await?;

        let (binary, envoy_source) = tokio::task::spawn_blocking(portcullis_envoy::resolve_envoy)
            .await
            .map_err(|e| OperatorError::io("resolving Envoy", std::io::Error::other(e)))??;
        let mut bootstrap = BootstrapConfig::new("portcullis-embedded", xds_address);
        bootstrap.delta = options.delta;
        bootstrap.extra_static_clusters.push(StaticCluster {
            name: RATE_LIMIT_CLUSTER.to_string(),
            address: rls_address,
            http2: true,
        });
        bootstrap.extra_static_clusters.push(StaticCluster {
            name: ENFORCER_CLUSTER.to_string(),
            address: authz_address,
            http2: true,
        });
        let mut envoy_options = EnvoyOptions::new(binary, bootstrap, work_dir.join("envoy"));
        envoy_options.log_level = options.envoy_log_level.clone();
        let envoy = EnvoyProcess::start(envoy_options).await?;
        envoy.wait_ready(APPLY_TIMEOUT).await?;
        tracing::info!(admin = %envoy.admin_address(), xds = %xds_address, "envoy is ready");
        let watch = if options.watch && options.cluster.is_none() {
            Some(watch_folder(control.clone())?)
        } else {
            None
        };
        xds.wait_until_applied(version, APPLY_TIMEOUT).await?;
        let cluster = match (source, status_writer) {
            (Some((objects, cluster)), Some(writer)) => {
                let election = cluster
                    .lease
                    .clone()
                    .map(|lease| LeaderElection::start(cluster.client.clone(), lease));
                Some(follow(control.clone(), objects, xds.clone(), writer, election).await)
            }
            _ => None,
        };
        let gateway = EmbeddedGateway {
            control,
            xds,
            xds_address,
            envoy: Some(envoy),
            envoy_source,
            _watch: watch,
            _cluster: cluster,
            xds_task,
            limiter,
            limiter_task,
            enforcer,
            enforcer_task,
            enforcer_stop,
            reload_task,
            idp,
            _system: system,
            _work_dir: temp,
        };
        Ok(gateway)
    }

    /// Re-reads the resources now and waits until Envoy has applied the result.
    pub async fn reload_and_wait(&self) -> Result<u64, OperatorError> {
        let version = self.control.reload().await?;
        self.xds.wait_until_applied(version, APPLY_TIMEOUT).await?;
        Ok(version)
    }

    /// The control plane.
    pub fn control(&self) -> &Arc<ControlPlane> {
        &self.control
    }

    /// The xDS server.
    pub fn xds(&self) -> &XdsServer {
        &self.xds
    }

    /// Where the xDS server listens.
    pub fn xds_address(&self) -> SocketAddr {
        self.xds_address
    }

    /// The latest statuses, listener addresses and errors.
    pub fn view(&self) -> Arc<ControlView> {
        self.control.view().borrow().clone()
    }

    /// The rate-limit service.
    pub fn limiter(&self) -> &Arc<Limiter> {
        &self.limiter
    }

    /// The enforcer.
    pub fn enforcer(&self) -> &Arc<Enforcer> {
        &self.enforcer
    }

    /// Stops the enforcer's gRPC server and closes its connections, as an outage would (for
    /// fault tests: what Envoy does then depends on the Gateway's enforcer failure mode).
    pub fn stop_enforcer(&self) {
        self.enforcer_stop.send_replace(true);
    }

    /// The built-in IdP, with the APK profile.
    pub fn idp(&self) -> Option<&Arc<Idp>> {
        self.idp.as_ref()
    }

    /// Where Envoy came from.
    pub fn envoy_source(&self) -> &EnvoySource {
        &self.envoy_source
    }

    /// The Envoy process.
    pub fn envoy(&self) -> Option<&EnvoyProcess> {
        self.envoy.as_ref()
    }

    /// The local address serving a Gateway's declared port.
    pub fn listener_address(&self, gateway: &str, port: i32) -> Option<SocketAddr> {
        self.view()
            .listeners
            .iter()
            .find(|l| l.gateway == gateway && l.port == port)
            .map(|l| l.address)
    }

    /// Stops Envoy, the echo backends and the xDS server.
    pub async fn shutdown(mut self) -> Result<(), OperatorError> {
        let result = match self.envoy.take() {
            Some(envoy) => envoy.stop().await.map_err(OperatorError::from),
            None => Ok(()),
        };
        self.control.shutdown().await;
        self.xds_task.abort();
        self.limiter_task.abort();
        self.enforcer_task.abort();
        self.reload_task.abort();
        result
    }
}
