//! The cucumber World: what one scenario has applied and what came back.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use cucumber::World;

use crate::driver::Driver;
use crate::request::Exchange;

struct Harness {
    driver: Arc<dyn Driver>,
    features_dir: PathBuf,
}

static HARNESS: RwLock<Option<Harness>> = RwLock::new(None);

/// Points every World at a driver and a features folder (manifests are read relative to it).
pub fn install(driver: Arc<dyn Driver>, features_dir: PathBuf) {
    if let Ok(mut harness) = HARNESS.write() {
        *harness = Some(Harness { driver, features_dir });
    }
}

/// Forgets the installed driver.
pub fn uninstall() {
    if let Ok(mut harness) = HARNESS.write() {
        *harness = None;
    }
}

/// One scenario's state.
#[derive(World, Default)]
#[world(init = Self::new)]
pub struct GatewayWorld {
    /// Names of what this scenario applied, deleted when it ends.
    pub applied: Vec<String>,
    /// The last settled answer.
    pub last: Option<Exchange>,
    /// Answers of a batch of requests.
    pub batch: Vec<Exchange>,
    /// The last settled gRPC answer.
    pub grpc: Option<portcullis_echo::grpc::GrpcAnswer>,
    /// Answers of a batch of gRPC calls.
    pub grpc_batch: Vec<portcullis_echo::grpc::GrpcAnswer>,
    /// Values captured in one step and used in later ones as `${name}`.
    pub vars: std::collections::BTreeMap<String, String>,
    /// Headers sent with every request by URL (APK's "I set headers").
    pub headers: Vec<(String, String)>,
    /// Identity providers that are not the gateway's, by name.
    pub foreign_idps: std::collections::BTreeMap<String, crate::apk_steps::ForeignIdp>,
}

impl std::fmt::Debug for GatewayWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayWorld")
            .field("applied", &self.applied)
            .field("last_status", &self.last.as_ref().map(|e| e.status))
            .field("last_echo", &self.last.as_ref().and_then(|e| e.echo.as_ref()))
            .finish()
    }
}

impl GatewayWorld {
    fn new() -> Self {
        Self::default()
    }

    /// The driver in use.
    pub fn driver(&self) -> anyhow::Result<Arc<dyn Driver>> {
        let harness = HARNESS
            .read()
            .map_err(|_| anyhow::anyhow!("harness lock poisoned"))?;
        harness
            .as_ref()
            .map(|h| h.driver.clone())
            .context("no driver installed")
    }

    /// The features folder.
    pub fn features_dir(&self) -> anyhow::Result<PathBuf> {
        let harness = HARNESS
            .read()
            .map_err(|_| anyhow::anyhow!("harness lock poisoned"))?;
        harness
            .as_ref()
            .map(|h| h.features_dir.clone())
            .context("no driver installed")
    }

    /// The last answer, or an error saying no request was sent.
    pub fn last(&self) -> anyhow::Result<&Exchange> {
        self.last
            .as_ref()
            .context("no request has been sent in this scenario")
    }

    /// Deletes what this scenario applied.
    pub async fn clean_up(&mut self) -> anyhow::Result<()> {
        let driver = self.driver()?;
        for name in std::mem::take(&mut self.applied).into_iter().rev() {
            driver.delete(&name).await?;
        }
        Ok(())
    }
}
