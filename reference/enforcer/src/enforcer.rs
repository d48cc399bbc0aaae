//! The authorization decision, independent of the ext_authz wire format.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::apikey::ApiKeyStore;
use crate::bearer::parse_bearer;
use crate::config::{EnforcerConfig, KeyIn, RouteAuth};
use crate::error::AuthError;
use crate::jwt::{JwtValidator, Principal, ValidationOptions};

/// The parts of an HTTP request the enforcer looks at.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Request headers with lower-case names, as Envoy sends them.
    pub headers: &'a HashMap<String, String>,
    /// Path including the query string.
    pub path: &'a str,
}

/// How an allowed request was authenticated and what to change before forwarding it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allowed {
    /// The token's principal when a JWT was presented.
    pub principal: Option<Principal>,
    /// Headers to strip from the upstream request.
    pub headers_to_remove: Vec<String>,
}

/// Configuration and the validator built from it, swapped as one.
#[derive(Debug)]
struct Snapshot {
    config: EnforcerConfig,
    validator: JwtValidator,
}

/// APK's enforcer: validates credentials per route against the current configuration.
#[derive(Debug)]
pub struct Enforcer {
    snapshot: ArcSwap<Snapshot>,
    api_keys: ApiKeyStore,
    client: reqwest::Client,
    options: ValidationOptions,
}

/// Failure to set up the enforcer.
#[derive(Debug, thiserror::Error)]
pub enum EnforcerError {
    /// The HTTP client for JWKS fetches could not be built.
    #[error("building the JWKS HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl Enforcer {
    /// An enforcer with an empty configuration (every route is unknown, so every request is denied).
    pub fn new(options: ValidationOptions) -> Result<Self, EnforcerError> {
        let client = reqwest::Client::builder()
            .timeout(options.jwks_timeout)
            .connect_timeout(options.jwks_timeout)
            .build()?;
        let config = EnforcerConfig::default();
        let validator = JwtValidator::new(&config.issuers, &client, &options, None);
        Ok(Self {
            snapshot: ArcSwap::from_pointee(Snapshot { config, validator }),
            api_keys: ApiKeyStore::default(),
            client,
            options,
        })
    }

    /// Replaces the configuration atomically; in-flight checks finish on the old one.
    pub fn update_config(&self, config: EnforcerConfig) {
        let previous = self.snapshot.load();
        let validator = JwtValidator::new(
            &config.issuers,
            &self.client,
            &self.options,
            Some(&previous.validator),
        );
        tracing::info!(
            issuers = config.issuers.len(),
            routes = config.routes.len(),
            "enforcer config updated"
        );
        self.snapshot.store(Arc::new(Snapshot { config, validator }));
    }

    /// The configuration in force.
    pub fn config(&self) -> EnforcerConfig {
        self.snapshot.load().config.clone()
    }

    /// Issues an API key for `api`; only its SHA-256 is kept.
    pub fn issue_api_key(&self, api: &str) -> String {
        tracing::info!(%api, "API key issued");
        self.api_keys.issue(api)
    }

    /// Revokes an API key; returns whether it existed.
    pub fn revoke_api_key(&self, key: &str) -> bool {
        self.api_keys.revoke(key)
    }

    /// Decides on a request for route `route_id`.
    pub async fn check(&self, route_id: &str, request: RequestView<'_>) -> Result<Allowed, AuthError> {
        let snapshot = self.snapshot.load_full();
        let Some(route) = snapshot.config.routes.get(route_id) else {
            return Err(AuthError::UnknownRoute(route_id.to_owned()));
        };
        if route.disabled {
            return Ok(Allowed::default());
        }
        if let Some(oauth2) = &route.oauth2 {
            let header = oauth2.header.to_ascii_lowercase();
            if let Some(value) = request.headers.get(&header).filter(|v| !v.trim().is_empty()) {
                let token = parse_bearer(value)?;
                let principal = snapshot.validator.validate(token).await?;
                require_scopes(route, |scope| principal.scopes.contains(scope))?;
                let headers_to_remove = if oauth2.send_token_to_upstream {
                    Vec::new()
                } else {
                    vec![header]
                };
                return Ok(Allowed {
                    principal: Some(principal),
                    headers_to_remove,
                });
            }
        }
        for location in &route.api_keys {
            let presented = match location.location {
                KeyIn::Header => request.headers.get(&location.name.to_ascii_lowercase()).cloned(),
                KeyIn::Query => query_param(request.path, &location.name),
            };
            let Some(key) = presented.filter(|k| !k.is_empty()) else {
                continue;
            };
            if !self.api_keys.is_valid(&key, &route.api) {
                return Err(AuthError::InvalidApiKey);
            }
            // An API key carries no scopes, so a scoped route stays closed to it.
            require_scopes(route, |_| false)?;
            return Ok(Allowed::default());
        }
        Err(AuthError::MissingCredentials)
    }
}

fn require_scopes(route: &RouteAuth, granted: impl Fn(&str) -> bool) -> Result<(), AuthError> {
    match route.scopes.iter().find(|scope| !granted(scope)) {
        Some(missing) => Err(AuthError::MissingScope(missing.clone())),
        None => Ok(()),
    }
}

/// The first value of query parameter `name` in `path`, percent-decoded.
fn query_param(path: &str, name: &str) -> Option<String> {
    let (_, query) = path.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ApiKeyLocation, OAuth2Config};

    fn enforcer(routes: &[(&str, RouteAuth)]) -> Enforcer {
        let enforcer = Enforcer::new(ValidationOptions::default()).unwrap();
        let routes = routes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        enforcer.update_config(EnforcerConfig {
            issuers: Vec::new(),
            routes,
        });
        enforcer
    }

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn query_params() {
        assert_eq!(
            query_param("/a?x=1&apikey=k%2B1", "apikey").as_deref(),
            Some("k+1")
        );
        assert_eq!(query_param("/a?apikey", "apikey").as_deref(), Some(""));
        assert_eq!(query_param("/a", "apikey"), None);
    }

    #[tokio::test]
    async fn unknown_route_fails_closed() {
        let enforcer = enforcer(&[]);
        let h = headers(&[]);
        let err = enforcer
            .check(
                "nope",
                RequestView {
                    headers: &h,
                    path: "/",
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.http_status(), 403);
    }

    #[tokio::test]
    async fn missing_and_garbage_tokens() {
        let route = RouteAuth {
            oauth2: Some(OAuth2Config::default()),
            ..RouteAuth::default()
        };
        let enforcer = enforcer(&[("r", route)]);
        for (hs, code) in [
            (headers(&[]), 900902),
            (headers(&[("authorization", "  ")]), 900902),
            (headers(&[("authorization", "Bearer invalidToken")]), 900903),
            (headers(&[("authorization", "Basic YWRtaW46YWRtaW4=")]), 900903),
            (headers(&[("authorization", "Bearer a.b.c")]), 900903),
        ] {
            let err = enforcer
                .check(
                    "r",
                    RequestView {
                        headers: &hs,
                        path: "/",
                    },
                )
                .await
                .unwrap_err();
            assert_eq!(err.code(), code, "{hs:?}");
            assert_eq!(err.http_status(), 401);
        }
    }

    #[tokio::test]
    async fn api_keys_and_scopes() {
        let keys = vec![ApiKeyLocation {
            location: KeyIn::Header,
            name: "ApiKey".into(),
        }];
        let open = RouteAuth {
            api_keys: keys.clone(),
            api: "pets".into(),
            ..RouteAuth::default()
        };
        let scoped = RouteAuth {
            scopes: vec!["read".into()],
            ..open.clone()
        };
        let enforcer = enforcer(&[("open", open), ("scoped", scoped)]);
        let key = enforcer.issue_api_key("pets");
        let other = enforcer.issue_api_key("orders");
        let good = headers(&[("apikey", &key)]);
        assert!(
            enforcer
                .check(
                    "open",
                    RequestView {
                        headers: &good,
                        path: "/"
                    }
                )
                .await
                .is_ok()
        );
        let err = enforcer
            .check(
                "scoped",
                RequestView {
                    headers: &good,
                    path: "/",
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), 900910);
        let wrong = headers(&[("apikey", &other)]);
        let err = enforcer
            .check(
                "open",
                RequestView {
                    headers: &wrong,
                    path: "/",
                },
            )
            .await
            .unwrap_err();
        assert_eq!((err.http_status(), err.code()), (401, 900903));
        assert!(enforcer.revoke_api_key(&key));
        assert!(
            enforcer
                .check(
                    "open",
                    RequestView {
                        headers: &good,
                        path: "/"
                    }
                )
                .await
                .is_err()
        );
    }
}
