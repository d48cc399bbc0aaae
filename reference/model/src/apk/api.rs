//! `dp.wso2.com/v1alpha3` API: a named, versioned API made of HTTPRoutes, per environment.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired state of an API.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha3",
    kind = "API",
    root = "Api",
    plural = "apis",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct ApiSpec {
    /// Unique name of the API.
    pub api_name: String,
    /// Version of the API.
    pub api_version: String,
    /// Whether this version also answers without the version in its path.
    #[serde(default)]
    pub is_default_version: bool,
    /// ConfigMap holding the API definition.
    #[serde(default)]
    pub definition_file_ref: String,
    /// Path that exposes the definition.
    #[serde(default = "default_definition_path")]
    pub definition_path: String,
    /// Production routes (at most one entry).
    #[serde(default)]
    pub production: Option<Vec<EnvConfig>>,
    /// Sandbox routes (at most one entry).
    #[serde(default)]
    pub sandbox: Option<Vec<EnvConfig>>,
    /// REST, GraphQL or GRPC.
    #[serde(default)]
    pub api_type: String,
    /// Base path, e.g. `/pet-store-api/1.0.6`.
    #[serde(default)]
    pub base_path: String,
    /// Organization owning the API.
    #[serde(default)]
    pub organization: String,
    /// Whether it is an internal system API.
    #[serde(default, rename = "systemAPI")]
    pub system_api: bool,
    /// Custom properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_properties: Option<Vec<Property>>,
    /// Environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

fn default_definition_path() -> String {
    "/api-definition".to_string()
}

/// Routes of one environment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvConfig {
    /// Names of HTTPRoutes in the API's namespace.
    #[serde(default)]
    pub route_refs: Vec<String>,
}

/// A custom property.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Property {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Value.
    #[serde(default)]
    pub value: String,
}

impl Api {
    /// Names of every route of the API, production and sandbox, with the environment.
    pub fn route_refs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (env, configs) in [
            ("production", &self.spec.production),
            ("sandbox", &self.spec.sandbox),
        ] {
            for config in configs.iter().flatten() {
                out.extend(config.route_refs.iter().map(|r| (env, r.clone())));
            }
        }
        out
    }
}
