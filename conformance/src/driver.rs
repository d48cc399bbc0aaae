//! How the harness reaches a gateway.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use async_trait::async_trait;

/// A gateway under test: somewhere to apply resources, read statuses and send requests.
#[async_trait]
pub trait Driver: Send + Sync {
    /// A short name for reports, e.g. `embedded`.
    fn name(&self) -> &str;
    /// Applies the resources of a YAML text under a name (a later apply with the same name
    /// replaces them), and waits until the gateway has programmed them.
    async fn apply(&self, name: &str, yaml: &str) -> anyhow::Result<()>;
    /// Deletes the resources applied under a name, and waits until programmed.
    async fn delete(&self, name: &str) -> anyhow::Result<()>;
    /// The socket serving a Gateway's declared port (`namespace/name`).
    async fn gateway_address(&self, gateway: &str, port: i32) -> anyhow::Result<SocketAddr>;
    /// The `status` of an object (`kind` as Kubernetes spells it, `namespace/name`), if it has one.
    async fn status(&self, kind: &str, key: &str) -> anyhow::Result<Option<serde_json::Value>>;
    /// The upstream feature names the gateway claims (`Gateway`, `HTTPRoute`, …).
    fn supported_features(&self) -> BTreeSet<String>;
}
