//! A Kubernetes client from a kubeconfig file, or from the in-cluster / default configuration.

use std::path::Path;

use anyhow::Context;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// The client for `kubeconfig` (its current context), or the in-cluster configuration (a
/// pod's service account), or `$KUBECONFIG` / `~/.kube/config` when `None`.
pub async fn kube_client(kubeconfig: Option<&Path>) -> anyhow::Result<Client> {
    match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
            let config = Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .with_context(|| format!("using {}", path.display()))?;
            Client::try_from(config).context("building a Kubernetes client")
        }
        None => Client::try_default()
            .await
            .context("building a Kubernetes client from the in-cluster or default configuration"),
    }
}
