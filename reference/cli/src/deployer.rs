//! `portcullis deployer`: the Config Service and the Deployer in Kubernetes mode, for a cluster.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use portcullis_config_service::deployer::KubeDeployer;

/// Options of `portcullis deployer`.
#[derive(Args, Debug)]
pub struct DeployerArgs {
    /// Where to serve APK's Config Service and Deployer paths (plain HTTP). Put it behind the
    /// gateway as an API whose operations need the scope `apk:api_create`, as APK does: the
    /// service itself does not check tokens.
    #[arg(long, default_value = "127.0.0.1:9444")]
    listen: SocketAddr,
    /// The cluster to deploy into (its current context); the in-cluster or default
    /// configuration when omitted.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The namespace deployed APIs' resources go to.
    #[arg(long, default_value = "default")]
    namespace: String,
}

/// Serves until interrupted.
pub async fn deployer(args: DeployerArgs) -> anyhow::Result<()> {
    let client = crate::kube_client::kube_client(args.kubeconfig.as_deref()).await?;
    let deployer = Arc::new(KubeDeployer::new(client, args.namespace.clone()));
    let app = portcullis_config_service::http::router()
        .merge(portcullis_config_service::http::deployer_router(deployer));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    println!(
        "Config Service and Deployer on http://{} (deploying into namespace {})",
        listener.local_addr()?,
        args.namespace
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")?;
    Ok(())
}
