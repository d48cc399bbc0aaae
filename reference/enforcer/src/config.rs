//! Configuration pushed by the control plane: token issuers, per-route authentication and the
//! applications with their subscriptions.
//!
//! Enumerations serialise as their variant names (`"Production"`, `"Mandatory"`, `"Base64url"`);
//! APK's spellings (`"PRODUCTION"`, `"mandatory"`, `"base64"`, …) are accepted on input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything the enforcer needs to decide on a request; swapped atomically as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnforcerConfig {
    /// Trusted token issuers (APK `TokenIssuer`).
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
    /// Authentication per route id; Envoy sends the id as `context_extensions["route"]`.
    #[serde(default)]
    pub routes: BTreeMap<String, RouteAuth>,
    /// Applications, their consumer keys and subscriptions (cp.wso2.com `Application`,
    /// `ApplicationMapping`, `Subscription`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<ApplicationConfig>,
}

/// One trusted JWT issuer and how to verify its signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssuerConfig {
    /// Name of the `TokenIssuer` resource, used in logs.
    pub name: String,
    /// Expected `iss` claim.
    pub issuer: String,
    /// Claim naming the client application (APK `consumerKeyClaim`), read after claim mapping.
    #[serde(default = "default_consumer_key_claim")]
    pub consumer_key_claim: String,
    /// Claim carrying the granted scopes (APK `scopesClaim`), read after claim mapping.
    #[serde(default = "default_scopes_claim")]
    pub scopes_claim: String,
    /// JWKS endpoint used to look keys up by `kid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// PEM public key or certificate, used when the token's `kid` is not in a JWKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
    /// Accepted `aud` values; empty means the audience is not checked.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Claims renamed (remote → local) before the consumer key and scopes are read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_mappings: Vec<ClaimMapping>,
    /// APK environments whose routes accept this issuer's tokens; empty or `"*"` means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// Organization whose routes accept this issuer's tokens; `None` means every organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

impl IssuerConfig {
    /// An issuer verified with the keys at `jwks_url`, with every other setting at its default.
    pub fn with_jwks(
        name: impl Into<String>,
        issuer: impl Into<String>,
        jwks_url: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            issuer: issuer.into(),
            consumer_key_claim: default_consumer_key_claim(),
            scopes_claim: default_scopes_claim(),
            jwks_url: Some(jwks_url.into()),
            certificate_pem: None,
            audiences: Vec::new(),
            claim_mappings: Vec::new(),
            environments: Vec::new(),
            organization: None,
        }
    }

    /// Whether routes of `environment` accept this issuer's tokens.
    pub fn serves_environment(&self, environment: &str) -> bool {
        self.environments.is_empty() || self.environments.iter().any(|e| e == "*" || e == environment)
    }

    /// Whether routes of `organization` accept this issuer's tokens.
    pub fn serves_organization(&self, organization: &str) -> bool {
        self.organization.as_deref().is_none_or(|o| o == organization)
    }
}

/// A claim renamed before it is read (APK `claimMappings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimMapping {
    /// Claim as the issuer names it.
    pub remote_claim: String,
    /// Claim as the enforcer reads it.
    pub local_claim: String,
}

fn default_consumer_key_claim() -> String {
    "azp".to_owned()
}

fn default_scopes_claim() -> String {
    "scope".to_owned()
}

/// Whether an authentication scheme must succeed or is one alternative among others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Required {
    /// The credential must be presented and valid.
    #[default]
    #[serde(alias = "mandatory", alias = "MANDATORY")]
    Mandatory,
    /// Any one valid credential of an optional scheme is enough.
    #[serde(alias = "optional", alias = "OPTIONAL")]
    Optional,
}

impl Required {
    fn is_mandatory(&self) -> bool {
        *self == Self::Mandatory
    }

    fn is_optional(&self) -> bool {
        *self == Self::Optional
    }
}

/// Production or sandbox: which keys of an application a route accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum KeyType {
    /// Production routes and keys (APK `PRODUCTION`).
    #[default]
    #[serde(alias = "PRODUCTION", alias = "production")]
    Production,
    /// Sandbox routes and keys (APK `SANDBOX`).
    #[serde(alias = "SANDBOX", alias = "sandbox")]
    Sandbox,
}

impl KeyType {
    /// APK's spelling: `PRODUCTION` or `SANDBOX` (backend JWT `keytype`, dynamic metadata).
    pub fn as_apk_str(&self) -> &'static str {
        match self {
            Self::Production => "PRODUCTION",
            Self::Sandbox => "SANDBOX",
        }
    }

    /// Parses APK's spelling, case-insensitively.
    pub fn from_apk_str(value: &str) -> Option<Self> {
        if value.eq_ignore_ascii_case("PRODUCTION") {
            Some(Self::Production)
        } else if value.eq_ignore_ascii_case("SANDBOX") {
            Some(Self::Sandbox)
        } else {
            None
        }
    }

    fn is_production(&self) -> bool {
        *self == Self::Production
    }
}

/// Authentication, authorization and identity of one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteAuth {
    /// Security disabled: every request is allowed without credentials.
    #[serde(default)]
    pub disabled: bool,
    /// OAuth2 bearer tokens (JWTs) accepted on this route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Config>,
    /// Places where an API key (a JWT with `tokenType: apiKey`) may be presented.
    #[serde(default)]
    pub api_keys: Vec<ApiKeyLocation>,
    /// Whether the API key must be presented (APK `apiKey.required`, default optional).
    #[serde(default = "optional", skip_serializing_if = "Required::is_optional")]
    pub api_key_required: Required,
    /// Raw JWTs in a custom header (APK's `JWT` auth type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtHeaderConfig>,
    /// Scopes the token must all carry.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Name of the API the route belongs to; API keys and subscriptions name it.
    #[serde(default, alias = "api")]
    pub api_name: String,
    /// Version of the API.
    #[serde(default)]
    pub api_version: String,
    /// Base path of the API including the version, e.g. `/pets/1.0`.
    #[serde(default)]
    pub api_context: String,
    /// Organization owning the API.
    #[serde(default)]
    pub organization: String,
    /// APK environment name of the API (empty by default).
    #[serde(default)]
    pub environment: String,
    /// Production route or sandbox route.
    #[serde(default, skip_serializing_if = "KeyType::is_production")]
    pub key_type: KeyType,
    /// Require the caller's application to hold an ACTIVE subscription to this API.
    #[serde(default)]
    pub subscription_validation: bool,
    /// Sign a JWT describing the caller and send it to the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_jwt: Option<BackendJwtConfig>,
}

impl Default for RouteAuth {
    /// No scheme enabled (every request is denied with 900902), API keys optional once enabled.
    fn default() -> Self {
        Self {
            disabled: false,
            oauth2: None,
            api_keys: Vec::new(),
            api_key_required: Required::Optional,
            jwt: None,
            scopes: Vec::new(),
            api_name: String::new(),
            api_version: String::new(),
            api_context: String::new(),
            organization: String::new(),
            environment: String::new(),
            key_type: KeyType::Production,
            subscription_validation: false,
            backend_jwt: None,
        }
    }
}

fn optional() -> Required {
    Required::Optional
}

/// Where the bearer token is read and whether it reaches the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2Config {
    /// Request header holding `Bearer <token>`.
    #[serde(default = "default_oauth2_header")]
    pub header: String,
    /// Keep the token on the upstream request; otherwise the header is removed.
    #[serde(default)]
    pub send_token_to_upstream: bool,
    /// Whether the bearer token must be presented (default mandatory).
    #[serde(default, skip_serializing_if = "Required::is_mandatory")]
    pub required: Required,
}

impl Default for OAuth2Config {
    fn default() -> Self {
        Self {
            header: default_oauth2_header(),
            send_token_to_upstream: false,
            required: Required::Mandatory,
        }
    }
}

fn default_oauth2_header() -> String {
    "authorization".to_owned()
}

/// APK's `JWT` auth type: the raw token (no `Bearer `) in a custom header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtHeaderConfig {
    /// Request header holding the token.
    #[serde(default = "default_jwt_header")]
    pub header: String,
    /// Keep the token on the upstream request; otherwise the header is removed.
    #[serde(default)]
    pub send_token_to_upstream: bool,
    /// The token's `aud` must name one of these; empty accepts any audience.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
}

impl Default for JwtHeaderConfig {
    fn default() -> Self {
        Self {
            header: default_jwt_header(),
            send_token_to_upstream: false,
            audiences: Vec::new(),
        }
    }
}

fn default_jwt_header() -> String {
    "internal-key".to_owned()
}

/// One place an API key may be presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyLocation {
    /// Header or query parameter.
    #[serde(rename = "in")]
    pub location: KeyIn,
    /// Header or parameter name.
    pub name: String,
    /// Keep the key on the upstream request; otherwise the header or parameter is removed.
    #[serde(default)]
    pub send_token_to_upstream: bool,
}

/// Part of the request carrying an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyIn {
    /// An HTTP request header.
    #[serde(alias = "header", alias = "HEADER")]
    Header,
    /// A URL query parameter.
    #[serde(alias = "query", alias = "QUERY")]
    Query,
}

/// The signed JWT sent to the backend (APK `BackendJWT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendJwtConfig {
    /// Upstream request header carrying the JWT.
    #[serde(default = "default_backend_jwt_header")]
    pub header: String,
    /// APK's `encoding`; both produce a standard compact JWS (see [`Encoding`]).
    #[serde(default)]
    pub encoding: Encoding,
    /// Lifetime of the JWT in seconds.
    #[serde(default = "default_token_ttl", alias = "tokenTTL")]
    pub token_ttl_seconds: u64,
    /// Extra claims.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_claims: Vec<CustomClaim>,
}

impl Default for BackendJwtConfig {
    fn default() -> Self {
        Self {
            header: default_backend_jwt_header(),
            encoding: Encoding::default(),
            token_ttl_seconds: default_token_ttl(),
            custom_claims: Vec::new(),
        }
    }
}

fn default_backend_jwt_header() -> String {
    "X-JWT-Assertion".to_owned()
}

fn default_token_ttl() -> u64 {
    3600
}

/// APK BackendJWT `encoding` (CRD default `Base64`).
///
/// APK 1.x's generators for both values encode every JWS part with base64url without padding
/// (its `Base64` generator uses `java.util.Base64.getUrlEncoder().withoutPadding()`, its
/// `Base64url` one commons-codec's `encodeBase64URLSafeString`), so both produce the same
/// standard compact JWS here, verifiable by any JWT library.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    /// APK's default.
    #[default]
    #[serde(alias = "base64", alias = "BASE64")]
    Base64,
    /// URL-safe base64.
    #[serde(alias = "base64url", alias = "Base64Url", alias = "BASE64URL")]
    Base64url,
}

/// An extra backend JWT claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomClaim {
    /// Claim name.
    pub claim: String,
    /// Claim value as text.
    pub value: String,
    /// `string` (default), `int`, `long`, `float`, `bool`; `date` stays a string.
    #[serde(default = "default_claim_type", rename = "type")]
    pub claim_type: String,
}

fn default_claim_type() -> String {
    "string".to_owned()
}

/// A client application with its keys and subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationConfig {
    /// Application UUID.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Owner (APK `subscriber`).
    #[serde(default)]
    pub owner: String,
    /// Organization; only routes of the same organization see the application.
    #[serde(default)]
    pub organization: String,
    /// OAuth client ids (consumer keys) of the application.
    #[serde(default)]
    pub consumer_keys: Vec<ConsumerKey>,
    /// APIs the application is subscribed to.
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionConfig>,
}

/// An OAuth client id of an application, for one key type and environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerKey {
    /// The client id, as found in the token's consumer key claim.
    pub key: String,
    /// Production or sandbox key.
    #[serde(default)]
    pub key_type: KeyType,
    /// APK environment the key is for; must equal the route's (`"*"` matches any).
    #[serde(default)]
    pub environment: String,
}

/// A subscription of an application to an API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionConfig {
    /// Subscription UUID.
    #[serde(default)]
    pub id: String,
    /// Subscribed API name.
    pub api_name: String,
    /// Subscribed API version, or `"*"` for every version.
    pub api_version: String,
    /// `ACTIVE` passes; anything else (`BLOCKED`, `INACTIVE`, …) does not.
    #[serde(default = "active")]
    pub status: String,
    /// Subscription rate-limit tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_tier: Option<String>,
}

/// Status of a usable subscription.
pub const ACTIVE: &str = "ACTIVE";

fn active() -> String {
    ACTIVE.to_owned()
}

impl SubscriptionConfig {
    /// Whether the subscription lets calls through.
    pub fn is_active(&self) -> bool {
        self.status == ACTIVE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply() {
        let cfg: EnforcerConfig = serde_json::from_str(
            r#"{"issuers":[{"name":"idp","issuer":"https://idp","jwksUrl":"http://x/jwks"}],
                "routes":{"r1":{"oauth2":{},"apiKeys":[{"in":"Query","name":"apikey"}],"api":"a",
                                "jwt":{},"backendJwt":{}}}}"#,
        )
        .unwrap();
        let issuer = &cfg.issuers[0];
        assert_eq!(issuer.consumer_key_claim, "azp");
        assert_eq!(issuer.scopes_claim, "scope");
        assert!(issuer.serves_environment("anything") && issuer.serves_organization("any"));
        let route = &cfg.routes["r1"];
        let oauth2 = route.oauth2.as_ref().unwrap();
        assert_eq!(
            (oauth2.header.as_str(), oauth2.required),
            ("authorization", Required::Mandatory)
        );
        assert_eq!(route.api_keys[0].location, KeyIn::Query);
        assert_eq!(route.api_key_required, Required::Optional);
        assert_eq!(route.api_name, "a", "`api` is an alias of apiName");
        assert_eq!(route.key_type, KeyType::Production);
        assert_eq!(route.jwt.as_ref().unwrap().header, "internal-key");
        let backend = route.backend_jwt.as_ref().unwrap();
        assert_eq!(
            (
                backend.header.as_str(),
                backend.encoding,
                backend.token_ttl_seconds
            ),
            ("X-JWT-Assertion", Encoding::Base64, 3600)
        );
        assert!(!route.disabled && !route.subscription_validation);
    }

    #[test]
    fn apk_spellings_accepted_and_round_trip() {
        let cfg: EnforcerConfig = serde_json::from_str(
            r#"{"issuers":[{"name":"idp","issuer":"https://idp","environments":["dev"],"organization":"org1",
                            "claimMappings":[{"remoteClaim":"client_id","localClaim":"azp"}]}],
                "routes":{"r":{"oauth2":{"required":"optional"},"apiKeyRequired":"mandatory",
                               "keyType":"SANDBOX","environment":"dev",
                               "backendJwt":{"encoding":"base64url","tokenTTL":60,
                                             "customClaims":[{"claim":"n","value":"1","type":"int"}]}}},
                "applications":[{"id":"a1","name":"app","owner":"alice","organization":"org1",
                    "consumerKeys":[{"key":"ck","keyType":"PRODUCTION","environment":"dev"}],
                    "subscriptions":[{"id":"s1","apiName":"pets","apiVersion":"*","status":"BLOCKED"}]}]}"#,
        )
        .unwrap();
        let issuer = &cfg.issuers[0];
        assert!(issuer.serves_environment("dev") && !issuer.serves_environment("prod"));
        assert!(issuer.serves_organization("org1") && !issuer.serves_organization("org2"));
        let route = &cfg.routes["r"];
        assert_eq!(route.oauth2.as_ref().unwrap().required, Required::Optional);
        assert_eq!(route.api_key_required, Required::Mandatory);
        assert_eq!(route.key_type, KeyType::Sandbox);
        let backend = route.backend_jwt.as_ref().unwrap();
        assert_eq!(
            (backend.encoding, backend.token_ttl_seconds),
            (Encoding::Base64url, 60)
        );
        assert_eq!(backend.custom_claims[0].claim_type, "int");
        assert!(!cfg.applications[0].subscriptions[0].is_active());
        // Canonical spellings come back out and parse again to the same value.
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(json.contains(r#""keyType":"Sandbox""#) && json.contains(r#""required":"Optional""#));
        assert_eq!(serde_json::from_str::<EnforcerConfig>(&json).unwrap(), cfg);
    }

    #[test]
    fn rust_default_matches_serde_default() {
        assert_eq!(
            RouteAuth::default(),
            serde_json::from_str::<RouteAuth>("{}").unwrap()
        );
        assert_eq!(
            OAuth2Config::default(),
            serde_json::from_str::<OAuth2Config>("{}").unwrap()
        );
        assert_eq!(
            BackendJwtConfig::default(),
            serde_json::from_str::<BackendJwtConfig>("{}").unwrap()
        );
        assert_eq!(
            JwtHeaderConfig::default(),
            serde_json::from_str::<JwtHeaderConfig>("{}").unwrap()
        );
    }

    #[test]
    fn wildcard_environment() {
        let mut issuer = IssuerConfig::with_jwks("i", "https://i", "http://i/jwks");
        issuer.environments = vec!["*".into()];
        assert!(issuer.serves_environment("whatever"));
    }

    #[test]
    fn unknown_fields_rejected() {
        assert!(serde_json::from_str::<RouteAuth>(r#"{"disabld":true}"#).is_err());
        assert!(serde_json::from_str::<RouteAuth>(r#"{"keyType":"Staging"}"#).is_err());
    }
}
