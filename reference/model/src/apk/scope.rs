//! `dp.wso2.com/v1alpha1` Scope: OAuth2 scopes a route rule requires, attached as an
//! `ExtensionRef` filter.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired state of a Scope.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha1",
    kind = "Scope",
    root = "Scope",
    plural = "scopes",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct ScopeSpec {
    /// Scopes the token must all carry.
    #[serde(default)]
    pub names: Vec<String>,
}
