//! `portcullis run`.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use portcullis_kube_source::{KubeSourceOptions, LeaseOptions};
use portcullis_operator::{ClusterOptions, EmbeddedGateway, EmbeddedOptions, Profile};

/// Options of `portcullis run`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["resources", "kubeconfig", "in_cluster"])))]
#[command(group(clap::ArgGroup::new("cluster").args(["kubeconfig", "in_cluster"])))]
pub struct RunArgs {
    /// Folder of YAML resources (watched; changes apply without a restart).
    #[arg(long)]
    resources: Option<PathBuf>,
    /// Serve the Gateways of this cluster (the kubeconfig's current context): watch its
    /// resources and write their statuses back.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Serve the Gateways of the cluster this pod runs in (its service account), or of
    /// `$KUBECONFIG` / `~/.kube/config` outside a cluster.
    #[arg(long)]
    in_cluster: bool,
    /// With a cluster: watch this namespace only (all namespaces when omitted).
    #[arg(long, requires = "cluster")]
    namespace: Option<String>,
    /// With a cluster: only Secrets with these labels (e.g. `portcullis.dev/watch=true`).
    #[arg(long, requires = "cluster")]
    secret_selector: Option<String>,
    /// With a cluster: only ConfigMaps with these labels.
    #[arg(long, requires = "cluster")]
    config_map_selector: Option<String>,
    /// With a cluster: the IP listeners bind.
    #[arg(long, default_value = "0.0.0.0", requires = "cluster")]
    listen_address: IpAddr,
    /// With a cluster: the IP written into Gateway `status.addresses` (the pod's or node's IP,
    /// e.g. from the downward API).
    #[arg(long, env = "PORTCULLIS_ADVERTISE_ADDRESS", requires = "cluster")]
    advertise_address: Option<IpAddr>,
    /// With a cluster and several replicas: only the holder of this Lease writes statuses
    /// (every replica serves traffic).
    #[arg(long, value_name = "NAMESPACE/NAME", requires = "cluster")]
    lease: Option<String>,
    /// With `--lease`: this replica's name in it (e.g. its pod name); the host name when omitted.
    #[arg(long, env = "PORTCULLIS_IDENTITY", requires = "lease")]
    identity: Option<String>,
    /// With a cluster: how often, in seconds, to look for kinds the API server does not serve
    /// yet (CRDs installed after the start are then watched without a restart).
    #[arg(long, value_name = "SECONDS", default_value_t = portcullis_kube_source::REDISCOVERY_INTERVAL.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600), requires = "cluster")]
    rediscover_every: u64,
    /// With a cluster and `--profile apk`: the namespace the Deployer applies APIs to.
    #[arg(long, default_value = "default", requires = "cluster")]
    deploy_namespace: String,
    /// Start an echo backend for every Service that has no endpoints.
    #[arg(long)]
    echo_backends: bool,
    /// Write the listener addresses as JSON here once everything is programmed.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Use State-of-the-World xDS instead of Delta.
    #[arg(long)]
    sotw: bool,
    /// Envoy's log level.
    #[arg(long, default_value = "warning")]
    envoy_log_level: String,
    /// Keep rate-limit counters in this Redis (`redis://host:port`), shared with every gateway
    /// that uses it; in memory when not given.
    #[arg(long)]
    redis: Option<String>,
    /// Serve GatewayClasses with this `spec.controllerName`.
    #[arg(long, default_value = portcullis_model::CONTROLLER_NAME)]
    controller_name: String,
    /// Imitate an install: `apk` adds WSO2 APK 1.x's GatewayClass and Gateway
    /// (`apk/wso2-apk-default`, HTTPS on 9095 for `*.gw.wso2.com`, `api.am.wso2.com` and
    /// `idp.am.wso2.com`), the token endpoint, the backend-JWT JWKS and APK's controller name.
    #[arg(long, value_enum, default_value = "plain")]
    profile: ProfileArg,
}

/// The `--profile` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ProfileArg {
    /// Gateway API only.
    Plain,
    /// WSO2 APK 1.x.
    Apk,
}

/// Runs the gateway until interrupted (Ctrl-C, or SIGTERM as in a pod).
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let mut options = match &args.resources {
        Some(resources) => {
            anyhow::ensure!(
                resources.is_dir(),
                "--resources {}: not a folder",
                resources.display()
            );
            EmbeddedOptions::new(resources.clone())
        }
        None => {
            let client = crate::kube_client::kube_client(args.kubeconfig.as_deref()).await?;
            let mut cluster = ClusterOptions::new(client);
            cluster.watch = KubeSourceOptions {
                namespace: args.namespace.clone(),
                secret_selector: args.secret_selector.clone(),
                config_map_selector: args.config_map_selector.clone(),
            };
            cluster.listen_ip = args.listen_address;
            cluster.advertise_ip = args.advertise_address;
            cluster.deploy_namespace = args.deploy_namespace.clone();
            cluster.rediscovery = std::time::Duration::from_secs(args.rediscover_every);
            if let Some(lease) = &args.lease {
                let (namespace, name) = lease
                    .split_once('/')
                    .filter(|(ns, name)| !ns.is_empty() && !name.is_empty())
                    .with_context(|| format!("--lease {lease}: expected namespace/name"))?;
                let identity = match &args.identity {
                    Some(identity) => identity.clone(),
                    None => std::env::var("HOSTNAME")
                        .ok()
                        .filter(|h| !h.is_empty())
                        .context("--lease needs --identity (or PORTCULLIS_IDENTITY, or HOSTNAME)")?,
                };
                cluster.lease = Some(LeaseOptions::new(namespace, name, identity));
            }
            EmbeddedOptions::for_cluster(cluster)
        }
    };
    options.echo_backends = args.echo_backends;
    options.delta = !args.sotw;
    options.envoy_log_level = args.envoy_log_level;
    options.controller_name = args.controller_name;
    options.redis_url = args.redis;
    options.profile = match args.profile {
        ProfileArg::Plain => Profile::Plain,
        ProfileArg::Apk => Profile::Apk,
    };
    let gateway = EmbeddedGateway::start(options)
        .await
        .context("starting the gateway")?;
    let view = gateway.view();
    for error in &view.errors {
        eprintln!("error: {error}");
    }
    for l in &view.listeners {
        println!(
            "gateway {} listener {} port {} -> {}",
            l.gateway, l.listener, l.port, l.address
        );
    }
    if let Some(envoy) = gateway.envoy() {
        println!("envoy admin on http://{}", envoy.admin_address());
    }
    if let Some(path) = &args.ready_file {
        let ready = serde_json::json!({
            "listeners": view.listeners,
            "xds": gateway.xds_address().to_string(),
            "envoyAdmin": gateway.envoy().map(|e| e.admin_address().to_string()),
            "echoBackends": view.echo_backends,
        });
        let partial = path.with_extension("partial");
        std::fs::write(&partial, serde_json::to_vec_pretty(&ready)?)?;
        std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("ready; press Ctrl-C to stop");
    stopped().await?;
    gateway.shutdown().await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what Kubernetes sends a pod it stops).
async fn stopped() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted.context("listening for Ctrl-C")?,
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
    }
    Ok(())
}
