//! The enforcer's and the IdP's view of a translation: the IR's security section becomes the
//! enforcer's configuration, and OAuth2 clients come from labelled Secrets (plus, with the APK
//! profile, APK's test client).

use portcullis_enforcer::{
    ApiKeyLocation, ApplicationConfig, BackendJwtConfig, ClaimMapping, ConsumerKey, CustomClaim, Encoding,
    EnforcerConfig, IssuerConfig, JwtHeaderConfig, KeyIn, KeyType, OAuth2Config, Required, RouteAuth,
    SubscriptionConfig,
};
use portcullis_idp::{ApplicationRef, OAuthClient};
use portcullis_model::Snapshot;
use portcullis_translate::ir::{self, Security};

/// The label marking a Secret as an OAuth2 client of the built-in IdP. Its data: `clientId`,
/// `clientSecret`, and optionally `scopes` (space separated; any scope when absent) and `apis`
/// (space separated `name:version`, the APIs its API keys may call).
pub const OAUTH_CLIENT_LABEL: &str = "portcullis.dev/oauth-client";

fn key_type(k: ir::KeyType) -> KeyType {
    match k {
        ir::KeyType::Production => KeyType::Production,
        ir::KeyType::Sandbox => KeyType::Sandbox,
    }
}

/// The enforcer configuration for a translation's security section.
pub fn enforcer_config(security: &Security) -> EnforcerConfig {
    let issuers = security
        .issuers
        .iter()
        .map(|i| IssuerConfig {
            name: i.name.clone(),
            issuer: i.issuer.clone(),
            consumer_key_claim: i.consumer_key_claim.clone(),
            scopes_claim: i.scopes_claim.clone(),
            jwks_url: i.jwks_url.clone(),
            certificate_pem: i.certificate_pem.clone(),
            audiences: Vec::new(),
            claim_mappings: i
                .claim_mappings
                .iter()
                .map(|(remote, local)| ClaimMapping {
                    remote_claim: remote.clone(),
                    local_claim: local.clone(),
                })
                .collect(),
            environments: i.environments.clone(),
            organization: Some(i.organization.clone()).filter(|o| !o.is_empty()),
        })
        .collect();
    let routes = security
        .operations
        .iter()
        .map(|(id, op)| (id.clone(), route_auth(op)))
        .collect();
    let applications = security
        .applications
        .iter()
        .map(|a| ApplicationConfig {
            id: a.id.clone(),
            name: a.name.clone(),
            owner: a.owner.clone(),
            organization: a.organization.clone(),
            consumer_keys: a
                .consumer_keys
                .iter()
                .map(|(key, kind, environment)| ConsumerKey {
                    key: key.clone(),
                    key_type: key_type(*kind),
                    // APK names its default environment `Default`; an API without an
                    // `environment` lives there.
                    environment: if environment.eq_ignore_ascii_case("default") {
                        String::new()
                    } else {
                        environment.clone()
                    },
                })
                .collect(),
            subscriptions: a
                .subscriptions
                .iter()
                .map(|s| SubscriptionConfig {
                    id: s.id.clone(),
                    api_name: s.api_name.clone(),
                    api_version: s.api_version.clone(),
                    status: s.status.clone(),
                    rate_limit_tier: s.rate_limit_tier.clone(),
                })
                .collect(),
        })
        .collect();
    EnforcerConfig {
        issuers,
        routes,
        applications,
    }
}

fn route_auth(op: &ir::OperationSecurity) -> RouteAuth {
    RouteAuth {
        disabled: op.disabled,
        oauth2: op.oauth2.as_ref().map(|h| OAuth2Config {
            header: h.header.clone(),
            send_token_to_upstream: h.send_token_to_upstream,
            required: if h.mandatory {
                Required::Mandatory
            } else {
                Required::Optional
            },
        }),
        api_keys: op
            .api_keys
            .iter()
            .map(|k| ApiKeyLocation {
                location: if k.in_query { KeyIn::Query } else { KeyIn::Header },
                name: k.name.clone(),
                send_token_to_upstream: k.send_token_to_upstream,
            })
            .collect(),
        api_key_required: Required::Optional,
        jwt: op.jwt.as_ref().map(|h| JwtHeaderConfig {
            header: h.header.clone(),
            send_token_to_upstream: h.send_token_to_upstream,
            audiences: h.audiences.clone(),
        }),
        scopes: op.scopes.clone(),
        api_name: op.api_name.clone(),
        api_version: op.api_version.clone(),
        api_context: op.api_context.clone(),
        organization: op.organization.clone(),
        environment: op.environment.clone(),
        key_type: key_type(op.key_type),
        subscription_validation: op.subscription_validation,
        backend_jwt: op.backend_jwt.as_ref().map(|b| BackendJwtConfig {
            header: b.header.clone(),
            encoding: if b.encoding == "Base64url" {
                Encoding::Base64url
            } else {
                Encoding::Base64
            },
            token_ttl_seconds: u64::from(b.ttl_seconds),
            custom_claims: b
                .custom_claims
                .iter()
                .map(|(claim, value, kind)| CustomClaim {
                    claim: claim.clone(),
                    value: value.clone(),
                    claim_type: kind.clone(),
                })
                .collect(),
        }),
    }
}

/// OAuth2 clients from Secrets labelled [`OAUTH_CLIENT_LABEL`], tied to the Application whose
/// consumer key is the client id.
pub fn oauth_clients(snapshot: &Snapshot, security: &Security) -> Vec<OAuthClient> {
    let mut out = Vec::new();
    for (key, secret) in &snapshot.secrets {
        let labelled = secret
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(OAUTH_CLIENT_LABEL))
            .is_some_and(|v| v == "true");
        if !labelled {
            continue;
        }
        let data = |name: &str| {
            secret
                .data
                .as_ref()
                .and_then(|d| d.get(name))
                .map(|b| String::from_utf8_lossy(&b.0).trim().to_string())
        };
        let (Some(client_id), Some(client_secret)) = (data("clientId"), data("clientSecret")) else {
            tracing::warn!(secret = %key, "an OAuth client Secret needs clientId and clientSecret");
            continue;
        };
        let mut client = OAuthClient::new(client_id.clone(), client_secret);
        client.allowed_scopes = data("scopes").map(|s| s.split_whitespace().map(str::to_string).collect());
        client.apis = data("apis")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        for app in &security.applications {
            if let Some((_, kind, _)) = app.consumer_keys.iter().find(|(k, _, _)| *k == client_id) {
                client.application = Some(ApplicationRef {
                    id: app.id.clone(),
                    name: app.name.clone(),
                    owner: app.owner.clone(),
                });
                client.key_type = match kind {
                    ir::KeyType::Production => portcullis_idp::KeyType::Production,
                    ir::KeyType::Sandbox => portcullis_idp::KeyType::Sandbox,
                };
            }
        }
        out.push(client);
    }
    out
}
