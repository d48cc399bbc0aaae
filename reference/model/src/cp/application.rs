//! `cp.wso2.com/v1alpha2` Application and ApplicationMapping: a client application, its
//! consumer keys per environment, and which subscriptions it holds.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired state of an Application.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cp.wso2.com",
    version = "v1alpha2",
    kind = "Application",
    root = "Application",
    plural = "applications",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The user owning it (the backend JWT's subscriber).
    #[serde(default)]
    pub owner: String,
    /// Organization.
    #[serde(default)]
    pub organization: String,
    /// Free-form attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Credentials per environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_schemes: Option<SecuritySchemes>,
}

/// Credentials of an application.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SecuritySchemes {
    /// OAuth2 client ids per environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<SecurityScheme>,
}

/// OAuth2 client ids per environment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SecurityScheme {
    /// One consumer key per environment and key type.
    #[serde(default)]
    pub environments: Vec<AppEnvironment>,
}

/// A consumer key of one environment and key type.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppEnvironment {
    /// Environment name (`Default` for APK's default environment).
    #[serde(default)]
    pub env_id: String,
    /// The consumer key (OAuth2 client id).
    #[serde(default)]
    pub app_id: String,
    /// `PRODUCTION` or `SANDBOX`.
    #[serde(default)]
    pub key_type: String,
}

/// The desired state of an ApplicationMapping.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cp.wso2.com",
    version = "v1alpha2",
    kind = "ApplicationMapping",
    root = "ApplicationMapping",
    plural = "applicationmappings",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationMappingSpec {
    /// Name of the Application.
    pub application_ref: String,
    /// Name of the Subscription.
    pub subscription_ref: String,
}
