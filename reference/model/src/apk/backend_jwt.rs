//! `dp.wso2.com/v1alpha1` BackendJWT: the signed JWT the gateway sends to backends.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired state of a BackendJWT.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha1",
    kind = "BackendJWT",
    root = "BackendJwt",
    plural = "backendjwts",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct BackendJwtSpec {
    /// `Base64` (APK default) or `Base64url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Header carrying the JWT; `X-JWT-Assertion` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `SHA256withRSA` by default (the only one supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    /// Lifetime in seconds; 3600 by default.
    #[serde(default, rename = "tokenTTL", skip_serializing_if = "Option::is_none")]
    pub token_ttl: Option<u32>,
    /// Extra claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_claims: Option<Vec<CustomClaim>>,
}

/// An extra claim.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomClaim {
    /// Claim name.
    #[serde(default)]
    pub claim: String,
    /// Claim value, as text.
    #[serde(default)]
    pub value: String,
    /// `string` (default), `int`, `float`, `bool`, `long` or `date`.
    #[serde(default, rename = "type")]
    pub claim_type: String,
}
