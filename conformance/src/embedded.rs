//! The embedded driver: the reference gateway in this process, fed through its resource folder.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use async_trait::async_trait;
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy};

use crate::driver::Driver;

/// The features the reference gateway implements, as upstream names them.
pub const SUPPORTED_FEATURES: &[&str] = &[
    "Gateway",
    "HTTPRoute",
    "GRPCRoute",
    "ReferenceGrant",
    "HTTPRouteQueryParamMatching",
    "HTTPRouteMethodMatching",
    "HTTPRouteResponseHeaderModification",
    "HTTPRoutePortRedirect",
    "HTTPRouteSchemeRedirect",
    "HTTPRoutePathRedirect",
    "HTTPRoute303RedirectStatusCode",
    "HTTPRoute307RedirectStatusCode",
    "HTTPRoute308RedirectStatusCode",
    "APKRateLimit",
    "APKAuthentication",
    "APKSubscription",
    "APKBackendJWT",
    "APKCORS",
    "APKBackend",
    "APKDeployer",
];

/// Runs scenarios against an [`EmbeddedGateway`] whose folder the driver writes.
pub struct EmbeddedDriver {
    gateway: EmbeddedGateway,
    dir: PathBuf,
    _temp: tempfile::TempDir,
}

impl EmbeddedDriver {
    /// Starts a gateway on an empty folder, with echo backends and free local ports.
    pub async fn start() -> anyhow::Result<Self> {
        let temp = tempfile::Builder::new()
            .prefix("portcullis-resources-")
            .tempdir()?;
        let dir = temp.path().to_path_buf();
        let mut options = EmbeddedOptions::new(dir.clone());
        options.echo_backends = true;
        options.port_policy = PortPolicy::AlwaysFree;
        // The driver reloads explicitly after each change; the watcher would only add noise.
        options.watch = false;
        // APK's Gateway, IdP and system routes, for the APK suite; the Gateway API suite's own
        // GatewayClass is served alongside.
        options.profile = portcullis_operator::Profile::Apk;
        let gateway = EmbeddedGateway::start(options)
            .await
            .context("starting the embedded gateway")?;
        Ok(EmbeddedDriver {
            gateway,
            dir,
            _temp: temp,
        })
    }

    /// The gateway.
    pub fn gateway(&self) -> &EmbeddedGateway {
        &self.gateway
    }

    fn file(&self, name: &str) -> PathBuf {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.yaml"))
    }

    /// Stops the gateway.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.gateway.shutdown().await?;
        Ok(())
    }
}

#[async_trait]
impl Driver for EmbeddedDriver {
    fn name(&self) -> &str {
        "embedded"
    }

    async fn apply(&self, name: &str, yaml: &str) -> anyhow::Result<()> {
        let path = self.file(name);
        // Write then rename, so a reload never reads half a file.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, yaml).await?;
        tokio::fs::rename(&partial, &path).await?;
        self.gateway.reload_and_wait().await?;
        let errors: Vec<String> = self
            .gateway
            .view()
            .errors
            .iter()
            .filter(|e| e.starts_with(path.file_name().and_then(|f| f.to_str()).unwrap_or("?")))
            .cloned()
            .collect();
        if !errors.is_empty() {
            bail!("the gateway rejected {name}: {}", errors.join("; "));
        }
        Ok(())
    }

    async fn delete(&self, name: &str) -> anyhow::Result<()> {
        let path = self.file(name);
        if path.exists() {
            tokio::fs::remove_file(&path).await?;
        }
        self.gateway.reload_and_wait().await?;
        Ok(())
    }

    async fn gateway_address(&self, gateway: &str, port: i32) -> anyhow::Result<SocketAddr> {
        self.gateway
            .listener_address(gateway, port)
            .with_context(|| format!("gateway {gateway} has no listener on port {port}"))
    }

    async fn status(&self, kind: &str, key: &str) -> anyhow::Result<Option<serde_json::Value>> {
        let view = self.gateway.view();
        let statuses = &view.statuses;
        Ok(match kind {
            "GatewayClass" => statuses
                .gateway_classes
                .get(key)
                .map(serde_json::to_value)
                .transpose()?,
            "Gateway" => statuses.gateways.get(key).map(serde_json::to_value).transpose()?,
            "HTTPRoute" => statuses
                .http_routes
                .get(key)
                .map(serde_json::to_value)
                .transpose()?,
            "GRPCRoute" => statuses
                .grpc_routes
                .get(key)
                .map(serde_json::to_value)
                .transpose()?,
            "RateLimitPolicy" => statuses
                .rate_limit_policies
                .get(key)
                .map(serde_json::to_value)
                .transpose()?,
            "TokenIssuer" => statuses
                .policies
                .get(&format!("TokenIssuer {key}"))
                .map(serde_json::to_value)
                .transpose()?,
            other => bail!("the embedded gateway keeps no status for kind {other}"),
        })
    }

    fn supported_features(&self) -> BTreeSet<String> {
        SUPPORTED_FEATURES.iter().map(|s| s.to_string()).collect()
    }
}
