//! APK APIs: which HTTPRoutes belong to which API and environment, where their paths live, and
//! what each operation requires (authentication, scopes, subscriptions, backend JWT, CORS).

use std::collections::BTreeMap;

use portcullis_model::apk::DP_GROUP;
use portcullis_model::apk::api::Api;
use portcullis_model::apk::api_policy::PolicySpec;
use portcullis_model::apk::authentication::AuthSpec;
use portcullis_model::apk::token_issuer::RefConfig;
use portcullis_model::{ObjectKey, Snapshot};

use crate::ir::{
    ApiKeyPlace, Application, BackendJwt, Cors, Issuer, KeyType, OperationSecurity, SubscriptionIr,
    TokenHeader,
};
use crate::status::{Condition, PolicyStatus, Statuses};

/// A route's place in an API.
#[derive(Clone, Debug)]
pub struct ApiRoute<'a> {
    /// The API resource.
    pub key: ObjectKey,
    /// Its spec.
    pub api: &'a Api,
    /// Production or sandbox.
    pub key_type: KeyType,
}

impl ApiRoute<'_> {
    /// The base paths requests arrive on: the API's, and for the default version the same
    /// without its trailing version segment.
    pub fn base_paths(&self) -> Vec<String> {
        let base = normalise_base(&self.api.spec.base_path);
        let mut out = vec![base.clone()];
        if self.api.spec.is_default_version {
            let suffix = format!("/{}", self.api.spec.api_version);
            if let Some(unversioned) = base.strip_suffix(&suffix) {
                out.push(normalise_base(unversioned));
            }
        }
        out
    }
}

/// `/a/b/` → `/a/b`; empty → `/`.
fn normalise_base(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

/// APK's organization, `default` when a resource names none.
fn organization(name: &str) -> String {
    if name.is_empty() {
        "default".to_string()
    } else {
        name.to_string()
    }
}

/// Joins an API base path and a route path: `/base` + `/items` → `/base/items`.
pub fn join_path(base: &str, path: &str) -> String {
    match (base, path) {
        ("/", p) => p.to_string(),
        (b, "/" | "") => b.to_string(),
        (b, p) => format!("{b}{p}"),
    }
}

/// APIs by the routes they name.
#[derive(Debug, Default)]
pub struct ApiIndex<'a> {
    by_route: BTreeMap<ObjectKey, ApiRoute<'a>>,
}

impl<'a> ApiIndex<'a> {
    /// Indexes every API's production and sandbox routes (same namespace as the API).
    pub fn new(snapshot: &'a Snapshot) -> Self {
        let mut by_route = BTreeMap::new();
        for (key, api) in &snapshot.apis {
            for (env, route) in api.route_refs() {
                let key_type = if env == "sandbox" {
                    KeyType::Sandbox
                } else {
                    KeyType::Production
                };
                by_route
                    .entry(ObjectKey::new(key.namespace.clone(), route))
                    .or_insert(ApiRoute {
                        key: key.clone(),
                        api,
                        key_type,
                    });
            }
        }
        ApiIndex { by_route }
    }

    /// The API a route belongs to.
    pub fn for_route(&self, route: &ObjectKey) -> Option<&ApiRoute<'a>> {
        self.by_route.get(route)
    }
}

/// The `ExtensionRef` filters of one rule that concern security.
#[derive(Clone, Debug, Default)]
pub struct RuleExtensions {
    /// Scope names.
    pub scopes: Vec<String>,
    /// Authentication names.
    pub authentications: Vec<String>,
    /// APIPolicy names.
    pub api_policies: Vec<String>,
}

/// A policy's `default` and `override` halves.
struct Layers<'a, T> {
    default: Option<&'a T>,
    overriding: Option<&'a T>,
}

/// APK precedence: an API-level override, else the operation's own, else the API's default.
fn pick<'a, T>(api: &[Layers<'a, T>], rule: &[Layers<'a, T>]) -> Option<&'a T> {
    api.iter()
        .find_map(|l| l.overriding)
        .or_else(|| rule.iter().find_map(|l| l.overriding.or(l.default)))
        .or_else(|| api.iter().find_map(|l| l.default))
}

fn targets_api(group: &str, kind: &str, name: &str, api: &ObjectKey) -> bool {
    (group.is_empty() || group == DP_GROUP || group == portcullis_model::GATEWAY_GROUP)
        && kind == "API"
        && name == api.name
}

/// Security and CORS of one operation (a rule of an API's route); an error names what is
/// missing, and the rule then answers 500 rather than run unprotected.
pub fn operation_security(
    snapshot: &Snapshot,
    api: &ApiRoute<'_>,
    extensions: &RuleExtensions,
) -> Result<(OperationSecurity, Option<Cors>), String> {
    let namespace = &api.key.namespace;
    let api_auth: Vec<Layers<'_, AuthSpec>> = snapshot
        .authentications
        .iter()
        .filter(|(k, a)| {
            &k.namespace == namespace
                && targets_api(
                    &a.spec.target_ref.group,
                    &a.spec.target_ref.kind,
                    &a.spec.target_ref.name,
                    &api.key,
                )
        })
        .map(|(_, a)| Layers {
            default: a.spec.default.as_ref(),
            overriding: a.spec.r#override.as_ref(),
        })
        .collect();
    let mut rule_auth = Vec::new();
    for name in &extensions.authentications {
        let key = ObjectKey::new(namespace.clone(), name.clone());
        let auth = snapshot
            .authentications
            .get(&key)
            .ok_or_else(|| format!("Authentication {key} not found"))?;
        rule_auth.push(Layers {
            default: auth.spec.default.as_ref(),
            overriding: auth.spec.r#override.as_ref(),
        });
    }
    let api_policy: Vec<Layers<'_, PolicySpec>> = snapshot
        .api_policies
        .iter()
        .filter(|(k, p)| {
            &k.namespace == namespace
                && targets_api(
                    &p.spec.target_ref.group,
                    &p.spec.target_ref.kind,
                    &p.spec.target_ref.name,
                    &api.key,
                )
        })
        .map(|(_, p)| Layers {
            default: p.spec.default.as_ref(),
            overriding: p.spec.r#override.as_ref(),
        })
        .collect();
    let mut rule_policy = Vec::new();
    for name in &extensions.api_policies {
        let key = ObjectKey::new(namespace.clone(), name.clone());
        let policy = snapshot
            .api_policies
            .get(&key)
            .ok_or_else(|| format!("APIPolicy {key} not found"))?;
        rule_policy.push(Layers {
            default: policy.spec.default.as_ref(),
            overriding: policy.spec.r#override.as_ref(),
        });
    }
    let mut scopes = Vec::new();
    for name in &extensions.scopes {
        let key = ObjectKey::new(namespace.clone(), name.clone());
        let scope = snapshot
            .scopes
            .get(&key)
            .ok_or_else(|| format!("Scope {key} not found"))?;
        for s in &scope.spec.names {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
    }

    let spec = &api.api.spec;
    let mut security = OperationSecurity {
        scopes,
        api_name: spec.api_name.clone(),
        api_version: spec.api_version.clone(),
        api_context: normalise_base(&spec.base_path),
        organization: organization(&spec.organization),
        environment: spec.environment.clone().unwrap_or_default(),
        key_type: api.key_type,
        ..OperationSecurity::default()
    };
    apply_auth(&mut security, pick(&api_auth, &rule_auth))?;

    let policy = pick(&api_policy, &rule_policy);
    let mut cors = None;
    if let Some(policy) = policy {
        security.subscription_validation = policy.subscription_validation.unwrap_or(false);
        if let Some(reference) = &policy.backend_jwt_policy {
            let key = ObjectKey::new(namespace.clone(), reference.name.clone());
            let jwt = snapshot
                .backend_jwts
                .get(&key)
                .ok_or_else(|| format!("BackendJWT {key} not found"))?;
            let algorithm = jwt.spec.signing_algorithm.as_deref().unwrap_or("SHA256withRSA");
            if algorithm != "SHA256withRSA" {
                return Err(format!(
                    "BackendJWT {key}: spec.signingAlgorithm {algorithm:?} is not supported (SHA256withRSA is)"
                ));
            }
            let encoding = jwt.spec.encoding.clone().unwrap_or_else(|| "Base64".to_string());
            if encoding != "Base64" && encoding != "Base64url" {
                return Err(format!(
                    "BackendJWT {key}: spec.encoding {encoding:?} is not Base64 or Base64url"
                ));
            }
            security.backend_jwt = Some(BackendJwt {
                header: jwt
                    .spec
                    .header
                    .clone()
                    .unwrap_or_else(|| "X-JWT-Assertion".to_string()),
                encoding,
                ttl_seconds: jwt.spec.token_ttl.unwrap_or(3600),
                custom_claims: jwt
                    .spec
                    .custom_claims
                    .iter()
                    .flatten()
                    .map(|c| {
                        let kind = if c.claim_type.is_empty() {
                            "string"
                        } else {
                            &c.claim_type
                        };
                        (c.claim.clone(), c.value.clone(), kind.to_string())
                    })
                    .collect(),
            });
        }
        if let Some(policy) = &policy.cors_policy
            && policy.enabled.unwrap_or(true)
        {
            cors = Some(Cors {
                allow_origins: policy.access_control_allow_origins.clone(),
                allow_methods: policy.access_control_allow_methods.clone(),
                allow_headers: policy.access_control_allow_headers.clone(),
                expose_headers: policy.access_control_expose_headers.clone(),
                max_age: policy.access_control_max_age,
                allow_credentials: policy.access_control_allow_credentials,
            });
        }
    }
    Ok((security, cors))
}

/// Fills in the credentials an Authentication accepts; none means APK's default (OAuth2 bearer
/// tokens in `Authorization`, mandatory).
fn apply_auth(security: &mut OperationSecurity, auth: Option<&AuthSpec>) -> Result<(), String> {
    let Some(auth) = auth else {
        security.oauth2 = Some(TokenHeader {
            header: "authorization".to_string(),
            mandatory: true,
            ..TokenHeader::default()
        });
        return Ok(());
    };
    if auth.disabled == Some(true) {
        security.disabled = true;
        return Ok(());
    }
    let types = auth.auth_types.clone().unwrap_or_default();
    if !types.oauth2.disabled {
        let required = types.oauth2.required.as_deref().unwrap_or("mandatory");
        if required != "mandatory" && required != "optional" {
            return Err(format!(
                "authTypes.oauth2.required: {required:?} is not mandatory or optional"
            ));
        }
        security.oauth2 = Some(TokenHeader {
            header: types
                .oauth2
                .header
                .clone()
                .unwrap_or_else(|| "authorization".to_string())
                .to_ascii_lowercase(),
            send_token_to_upstream: types.oauth2.send_token_to_upstream,
            mandatory: required == "mandatory",
            audiences: Vec::new(),
        });
    }
    if types.jwt.disabled == Some(false) {
        security.jwt = Some(TokenHeader {
            header: types
                .jwt
                .header
                .clone()
                .unwrap_or_else(|| "internal-key".to_string())
                .to_ascii_lowercase(),
            send_token_to_upstream: types.jwt.send_token_to_upstream,
            mandatory: false,
            audiences: types.jwt.audience.clone(),
        });
    }
    for (i, key) in types.api_key.iter().flatten().enumerate() {
        let in_query = match key.location.as_str() {
            "Header" => false,
            "Query" => true,
            other => {
                return Err(format!(
                    "authTypes.apiKey[{i}].in: {other:?} is not Header or Query"
                ));
            }
        };
        if key.name.is_empty() {
            return Err(format!("authTypes.apiKey[{i}].name: must not be empty"));
        }
        security.api_keys.push(ApiKeyPlace {
            in_query,
            name: if in_query {
                key.name.clone()
            } else {
                key.name.to_ascii_lowercase()
            },
            send_token_to_upstream: key.send_token_to_upstream,
        });
    }
    Ok(())
}

/// Data of a Secret or ConfigMap key, as text.
fn referenced_text(
    snapshot: &Snapshot,
    namespace: &str,
    kind: &str,
    r: &RefConfig,
) -> Result<String, String> {
    let key = ObjectKey::new(namespace.to_string(), r.name.clone());
    let text = match kind {
        "Secret" => snapshot
            .secrets
            .get(&key)
            .and_then(|s| s.data.as_ref())
            .and_then(|d| d.get(&r.key))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned()),
        _ => snapshot
            .config_maps
            .get(&key)
            .and_then(|c| c.data.as_ref())
            .and_then(|d| d.get(&r.key))
            .cloned(),
    };
    text.ok_or_else(|| format!("{kind} {key} has no key {:?}", r.key))
}

/// Every usable TokenIssuer; each gets an Accepted condition saying why it is or is not used.
pub fn issuers(snapshot: &Snapshot, statuses: &mut Statuses) -> Vec<Issuer> {
    let mut out = Vec::new();
    for (key, issuer) in &snapshot.token_issuers {
        let spec = &issuer.spec;
        let generation = issuer.metadata.generation.unwrap_or(1);
        let resolved = (|| {
            if spec.issuer.is_empty() {
                return Err("spec.issuer: must not be empty".to_string());
            }
            let validation = spec
                .signature_validation
                .as_ref()
                .ok_or_else(|| "spec.signatureValidation: needs jwks or certificate".to_string())?;
            let jwks_url = validation.jwks.as_ref().map(|j| j.url.clone());
            if jwks_url
                .as_deref()
                .is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://")))
            {
                return Err("spec.signatureValidation.jwks.url: must be an http(s) URL".to_string());
            }
            let certificate_pem = match &validation.certificate {
                None => None,
                Some(c) => Some(if let Some(inline) = &c.certificate_inline {
                    inline.clone()
                } else if let Some(r) = &c.secret_ref {
                    referenced_text(snapshot, &key.namespace, "Secret", r)
                        .map_err(|e| format!("spec.signatureValidation.certificate.secretRef: {e}"))?
                } else if let Some(r) = &c.config_map_ref {
                    referenced_text(snapshot, &key.namespace, "ConfigMap", r)
                        .map_err(|e| format!("spec.signatureValidation.certificate.configMapRef: {e}"))?
                } else {
                    return Err("spec.signatureValidation.certificate: needs certificateInline, secretRef or configMapRef".to_string());
                }),
            };
            if jwks_url.is_none() && certificate_pem.is_none() {
                return Err("spec.signatureValidation: needs jwks or certificate".to_string());
            }
            Ok(Issuer {
                name: key.to_string(),
                issuer: spec.issuer.clone(),
                organization: spec.organization.clone(),
                consumer_key_claim: if spec.consumer_key_claim.is_empty() {
                    "azp".to_string()
                } else {
                    spec.consumer_key_claim.clone()
                },
                scopes_claim: if spec.scopes_claim.is_empty() {
                    "scope".to_string()
                } else {
                    spec.scopes_claim.clone()
                },
                jwks_url,
                certificate_pem,
                claim_mappings: spec
                    .claim_mappings
                    .iter()
                    .flatten()
                    .map(|m| (m.remote_claim.clone(), m.local_claim.clone()))
                    .collect(),
                environments: spec
                    .environments
                    .iter()
                    .flatten()
                    .filter(|e| e.as_str() != "*")
                    .cloned()
                    .collect(),
            })
        })();
        let condition = match resolved {
            Ok(issuer) => {
                out.push(issuer);
                Condition::new("Accepted", true, "Accepted", "issuer is trusted", generation)
            }
            Err(message) => Condition::new("Accepted", false, "Invalid", message, generation),
        };
        statuses.policies.insert(
            format!("TokenIssuer {key}"),
            PolicyStatus {
                conditions: vec![condition],
            },
        );
    }
    out
}

/// Applications with their consumer keys and the subscriptions mapped to them.
pub fn applications(snapshot: &Snapshot) -> Vec<Application> {
    let mut out = Vec::new();
    for (key, app) in &snapshot.applications {
        let spec = &app.spec;
        let consumer_keys = spec
            .security_schemes
            .iter()
            .flat_map(|s| s.oauth2.iter())
            .flat_map(|o| o.environments.iter())
            .filter(|e| !e.app_id.is_empty())
            .map(|e| {
                let key_type = if e.key_type.eq_ignore_ascii_case("SANDBOX") {
                    KeyType::Sandbox
                } else {
                    KeyType::Production
                };
                (e.app_id.clone(), key_type, e.env_id.clone())
            })
            .collect();
        let subscriptions = snapshot
            .application_mappings
            .iter()
            .filter(|(k, m)| k.namespace == key.namespace && m.spec.application_ref == key.name)
            .filter_map(|(k, m)| {
                let sub_key = ObjectKey::new(k.namespace.clone(), m.spec.subscription_ref.clone());
                snapshot.subscriptions.get(&sub_key).map(|s| SubscriptionIr {
                    id: sub_key.to_string(),
                    api_name: s.spec.api.name.clone(),
                    api_version: s.spec.api.version.clone(),
                    status: s.spec.subscription_status.clone(),
                    rate_limit_tier: Some(s.spec.ratelimit_ref.name.clone()).filter(|n| !n.is_empty()),
                })
            })
            .collect();
        out.push(Application {
            id: key.to_string(),
            name: spec.name.clone(),
            owner: spec.owner.clone(),
            organization: organization(&spec.organization),
            consumer_keys,
            subscriptions,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_without_doubled_slashes() {
        assert_eq!(join_path("/pets/1.0", "/items"), "/pets/1.0/items");
        assert_eq!(join_path("/pets/1.0", "/"), "/pets/1.0");
        assert_eq!(join_path("/", "/items"), "/items");
        assert_eq!(normalise_base("pets/1.0/"), "/pets/1.0");
    }
}
