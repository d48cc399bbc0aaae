//! What the source watches: which namespace, and which Secrets and ConfigMaps.

use serde::Deserialize;

/// Options of [`crate::KubeSource`]. The default watches every namespace and every Secret and
/// ConfigMap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeSourceOptions {
    /// Watch namespaced kinds in this namespace only (and only this Namespace object); all
    /// namespaces when unset. GatewayClasses are cluster-scoped and always watched.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Label selector for Secrets, e.g. `portcullis.dev/watch=true`. Secrets are most of what
    /// a cluster stores and hold every credential, so a large cluster may want only labelled
    /// ones; Secrets that Gateways and APK resources reference must then carry the label.
    #[serde(default)]
    pub secret_selector: Option<String>,
    /// Label selector for ConfigMaps (same trade-off as Secrets).
    #[serde(default)]
    pub config_map_selector: Option<String>,
}
