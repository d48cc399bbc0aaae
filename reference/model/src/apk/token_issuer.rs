//! `dp.wso2.com/v1alpha2` TokenIssuer: a trusted JWT issuer and how to verify its tokens.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PolicyTargetReference;

/// The desired state of a TokenIssuer.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "dp.wso2.com",
    version = "v1alpha2",
    kind = "TokenIssuer",
    root = "TokenIssuer",
    plural = "tokenissuers",
    namespaced
)]
#[serde(rename_all = "camelCase")]
pub struct TokenIssuerSpec {
    /// Name of the issuer within its organization.
    #[serde(default)]
    pub name: String,
    /// Organization of the issuer.
    #[serde(default)]
    pub organization: String,
    /// Expected `iss` claim.
    #[serde(default)]
    pub issuer: String,
    /// Claim naming the client application.
    #[serde(default)]
    pub consumer_key_claim: String,
    /// Claim carrying the scopes.
    #[serde(default)]
    pub scopes_claim: String,
    /// How signatures are verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_validation: Option<SignatureValidation>,
    /// Claims renamed before they are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_mappings: Option<Vec<ClaimMapping>>,
    /// The Gateway it applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<PolicyTargetReference>,
    /// Environments whose APIs accept its tokens; empty or `*` means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
}

/// A claim renamed before it is read.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimMapping {
    /// Claim as the issuer names it.
    pub remote_claim: String,
    /// Claim as the gateway reads it.
    pub local_claim: String,
}

/// How a token's signature is verified.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignatureValidation {
    /// Keys fetched from a JWKS endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    /// A certificate holding the public key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertConfig>,
}

/// A JWKS endpoint.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Jwks {
    /// URL of the key set.
    #[serde(default)]
    pub url: String,
    /// Trust for the endpoint's TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<CertConfig>,
}

/// A certificate, inline or from a Secret or ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertConfig {
    /// PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_inline: Option<String>,
    /// A key of a Secret in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<RefConfig>,
    /// A key of a ConfigMap in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<RefConfig>,
}

/// A key of a Secret or ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct RefConfig {
    /// Object name.
    pub name: String,
    /// Key within its data.
    pub key: String,
}
