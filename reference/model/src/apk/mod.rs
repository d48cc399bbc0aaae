//! WSO2 APK's resources, with the same API groups, versions and field names as APK 1.x's
//! storage versions, so APK manifests apply unchanged.

pub mod api;
pub mod api_policy;
pub mod authentication;
pub mod backend;
pub mod backend_jwt;
pub mod rate_limit;
pub mod scope;
pub mod token_issuer;

/// APK's data-plane API group.
pub const DP_GROUP: &str = "dp.wso2.com";

/// A reference to the object a policy applies to (Gateway API's policy target reference).
#[derive(
    serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTargetReference {
    /// API group of the target (`dp.wso2.com` for an API).
    #[serde(default)]
    pub group: String,
    /// Kind of the target: `API`, `Gateway`, `HTTPRoute`…
    pub kind: String,
    /// Name of the target.
    pub name: String,
    /// Namespace of the target; the policy's own when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}
