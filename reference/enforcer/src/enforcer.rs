//! The authorization decision, independent of the ext_authz wire format.
//!
//! # Authentication semantics (APK)
//!
//! A route enables up to three schemes: OAuth2 bearer tokens, API keys and APK's `JWT` header.
//! Each enabled scheme whose credential is present is tried, in that order, and the first one
//! that succeeds (token, scopes, subscription) allows the request. When none is present the
//! answer is 401 `900902`; when every presented one fails, the first failure is returned
//! (401 `900903`, `900901` if expired; 403 `900910` for scopes, `900908` for subscriptions).
//!
//! As in APK's `AuthFilter`, `required: Mandatory` only changes this when *both* OAuth2 and API
//! keys are mandatory: then both credentials must be present and valid.
//!
//! The headers and query parameters carrying the credentials of every configured scheme are
//! removed from the upstream request unless the scheme has `sendTokenToUpstream`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::apikey::{INTERNAL_KEY_TOKEN_TYPE, TOKEN_TYPE_CLAIM, api_entry, check_api_key, is_api_key};
use crate::backend_jwt::{BackendJwtSigner, BackendJwtTemplate, Caller};
use crate::bearer::{parse_bearer, parse_raw_jwt};
use crate::config::{EnforcerConfig, KeyIn, KeyType, Required, RouteAuth};
use crate::error::AuthError;
use crate::jwt::{JwtValidator, Principal, TokenContext, ValidationOptions, check_audience};
use crate::subscriptions::{ApplicationIdentity, SubscriptionIndex};

/// The parts of an HTTP request the enforcer looks at.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// Request headers with lower-case names, as Envoy sends them.
    pub headers: &'a HashMap<String, String>,
    /// Path including the query string.
    pub path: &'a str,
}

/// The scheme that authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMechanism {
    /// An OAuth2 bearer token.
    OAuth2,
    /// An API key (a JWT with `tokenType: apiKey`).
    ApiKey,
    /// A raw JWT in APK's `JWT` header.
    Jwt,
}

/// Dynamic metadata key: application UUID.
pub const METADATA_APPLICATION_ID: &str = "applicationId";
/// Dynamic metadata key: rate-limit tier of the subscription.
pub const METADATA_SUBSCRIPTION_TIER: &str = "subscriptionTier";
/// Dynamic metadata key: organization of the API.
pub const METADATA_ORGANIZATION: &str = "organization";
/// Dynamic metadata key: `PRODUCTION` or `SANDBOX`.
pub const METADATA_KEY_TYPE: &str = "keyType";
/// Dynamic metadata key: consumer key (OAuth client id) of the caller.
pub const METADATA_CONSUMER_KEY: &str = "consumerKey";

/// How an allowed request was authenticated, who made it, and what to change before forwarding it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allowed {
    /// The scheme that authenticated the request; `None` on routes with security disabled.
    pub mechanism: Option<AuthMechanism>,
    /// The token's principal.
    pub principal: Option<Arc<Principal>>,
    /// The caller's consumer key (OAuth client id), when the token names one.
    pub consumer_key: Option<String>,
    /// The application owning the consumer key, when configured.
    pub application: Option<ApplicationIdentity>,
    /// UUID of the application's ACTIVE subscription to the API.
    pub subscription_id: Option<String>,
    /// Rate-limit tier of that subscription.
    pub subscription_tier: Option<String>,
    /// Key type of the route (production or sandbox).
    pub key_type: Option<KeyType>,
    /// Organization of the API, when set.
    pub organization: Option<String>,
    /// Headers to strip from the upstream request.
    pub headers_to_remove: Vec<String>,
    /// Query parameters to strip from the upstream request.
    pub query_params_to_remove: Vec<String>,
    /// Headers to set (overwriting) on the upstream request, e.g. the backend JWT.
    pub headers_to_add: Vec<(String, String)>,
}

impl Allowed {
    /// The identity as Envoy dynamic metadata (namespace `envoy.filters.http.ext_authz`):
    /// `applicationId`, `subscriptionTier`, `organization`, `keyType`, `consumerKey`, each when known.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(5);
        if let Some(app) = &self.application {
            out.push((METADATA_APPLICATION_ID, app.id.clone()));
        }
        if let Some(tier) = &self.subscription_tier {
            out.push((METADATA_SUBSCRIPTION_TIER, tier.clone()));
        }
        if let Some(org) = &self.organization {
            out.push((METADATA_ORGANIZATION, org.clone()));
        }
        if let Some(key_type) = self.key_type {
            out.push((METADATA_KEY_TYPE, key_type.as_apk_str().to_owned()));
        }
        if let Some(key) = &self.consumer_key {
            out.push((METADATA_CONSUMER_KEY, key.clone()));
        }
        out
    }
}

/// A route prepared at configuration time so a check does no per-request setup.
#[derive(Debug)]
struct CompiledRoute {
    /// The route with header names lower-cased.
    auth: RouteAuth,
    /// `"<apiName>:<apiVersion>"` as listed in API keys.
    api_entry: String,
    headers_to_remove: Vec<String>,
    query_params_to_remove: Vec<String>,
    backend_jwt: Option<BackendJwtTemplate>,
}

impl CompiledRoute {
    fn new(id: &str, route: &RouteAuth) -> Self {
        let mut auth = route.clone();
        if let Some(oauth2) = &mut auth.oauth2 {
            oauth2.header.make_ascii_lowercase();
        }
        if let Some(jwt) = &mut auth.jwt {
            jwt.header.make_ascii_lowercase();
        }
        for location in &mut auth.api_keys {
            if location.location == KeyIn::Header {
                location.name.make_ascii_lowercase();
            }
        }
        let backend_jwt = route
            .backend_jwt
            .as_ref()
            .map(|config| BackendJwtTemplate::new(id, route, config));
        let added = backend_jwt.as_ref().map(|t| t.header.to_ascii_lowercase());
        let mut headers_to_remove = Vec::new();
        let mut query_params_to_remove = Vec::new();
        let mut remove_header = |name: &str| {
            if added.as_deref() != Some(name) && !headers_to_remove.iter().any(|h| h == name) {
                headers_to_remove.push(name.to_owned());
            }
        };
        if let Some(oauth2) = auth.oauth2.as_ref().filter(|o| !o.send_token_to_upstream) {
            remove_header(&oauth2.header);
        }
        if let Some(jwt) = auth.jwt.as_ref().filter(|j| !j.send_token_to_upstream) {
            remove_header(&jwt.header);
        }
        for location in auth.api_keys.iter().filter(|l| !l.send_token_to_upstream) {
            match location.location {
                KeyIn::Header => remove_header(&location.name),
                KeyIn::Query => query_params_to_remove.push(location.name.clone()),
            }
        }
        Self {
            api_entry: api_entry(&auth.api_name, &auth.api_version),
            auth,
            headers_to_remove,
            query_params_to_remove,
            backend_jwt,
        }
    }

    fn token_context(&self) -> TokenContext<'_> {
        TokenContext {
            environment: &self.auth.environment,
            organization: &self.auth.organization,
        }
    }
}

/// Largest number of backend JWTs kept for reuse; the cache is emptied when it is full.
const MAX_CACHED_BACKEND_JWTS: usize = 10_000;

#[derive(Debug)]
struct CachedJwt {
    token: String,
    expires_at: u64,
}

/// Configuration and everything derived from it, swapped as one.
#[derive(Debug)]
struct Snapshot {
    config: EnforcerConfig,
    validator: JwtValidator,
    routes: HashMap<String, CompiledRoute>,
    subscriptions: SubscriptionIndex,
    /// Signed backend JWTs by route, consumer key and subject.
    backend_jwts: Mutex<HashMap<String, CachedJwt>>,
}

/// APK's enforcer: validates credentials per route against the current configuration.
#[derive(Debug)]
pub struct Enforcer {
    snapshot: ArcSwap<Snapshot>,
    client: reqwest::Client,
    options: ValidationOptions,
    signer: Option<Arc<BackendJwtSigner>>,
}

/// Failure to set up the enforcer.
#[derive(Debug, thiserror::Error)]
pub enum EnforcerError {
    /// The HTTP client for JWKS fetches could not be built.
    #[error("building the JWKS HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A credential found on the request.
struct Authenticated {
    mechanism: AuthMechanism,
    principal: Arc<Principal>,
    consumer_key: Option<String>,
    application: Option<ApplicationIdentity>,
    subscription_id: Option<String>,
    subscription_tier: Option<String>,
}

impl Enforcer {
    /// An enforcer with an empty configuration (every route is unknown, so every request is denied).
    pub fn new(options: ValidationOptions) -> Result<Self, EnforcerError> {
        let client = reqwest::Client::builder()
            .timeout(options.jwks_timeout)
            .connect_timeout(options.jwks_timeout)
            .build()?;
        let snapshot = Self::snapshot(EnforcerConfig::default(), &client, &options, None);
        Ok(Self {
            snapshot: ArcSwap::from_pointee(snapshot),
            client,
            options,
            signer: None,
        })
    }

    /// Signs backend JWTs with `signer`; without one, routes with `backendJwt` deny with 500.
    pub fn with_backend_jwt_signer(mut self, signer: Arc<BackendJwtSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The backend JWT signer, whose [`BackendJwtSigner::jwks`] the gateway publishes.
    pub fn backend_jwt_signer(&self) -> Option<&Arc<BackendJwtSigner>> {
        self.signer.as_ref()
    }

    fn snapshot(
        config: EnforcerConfig,
        client: &reqwest::Client,
        options: &ValidationOptions,
        previous: Option<&Snapshot>,
    ) -> Snapshot {
        let validator = JwtValidator::new(&config.issuers, client, options, previous.map(|p| &p.validator));
        let routes = config
            .routes
            .iter()
            .map(|(id, route)| (id.clone(), CompiledRoute::new(id, route)))
            .collect();
        let subscriptions = SubscriptionIndex::new(&config.applications);
        Snapshot {
            config,
            validator,
            routes,
            subscriptions,
            backend_jwts: Mutex::new(HashMap::new()),
        }
    }

    /// Replaces the configuration atomically; in-flight checks finish on the old one.
    pub fn update_config(&self, config: EnforcerConfig) {
        let previous = self.snapshot.load();
        tracing::info!(
            issuers = config.issuers.len(),
            routes = config.routes.len(),
            applications = config.applications.len(),
            "enforcer config updated"
        );
        let snapshot = Self::snapshot(config, &self.client, &self.options, Some(&previous));
        self.snapshot.store(Arc::new(snapshot));
    }

    /// The configuration in force.
    pub fn config(&self) -> EnforcerConfig {
        self.snapshot.load().config.clone()
    }

    /// Decides on a request for route `route_id`.
    pub async fn check(&self, route_id: &str, request: RequestView<'_>) -> Result<Allowed, AuthError> {
        let snapshot = self.snapshot.load_full();
        let Some(route) = snapshot.routes.get(route_id) else {
            return Err(AuthError::UnknownRoute(route_id.to_owned()));
        };
        if route.auth.disabled {
            return Ok(Allowed::default());
        }
        let authenticated = self.authenticate(&snapshot, route, request).await?;
        let mut allowed = Allowed {
            mechanism: Some(authenticated.mechanism),
            consumer_key: authenticated.consumer_key,
            application: authenticated.application,
            subscription_id: authenticated.subscription_id,
            subscription_tier: authenticated.subscription_tier,
            key_type: Some(route.auth.key_type),
            organization: Some(route.auth.organization.clone()).filter(|o| !o.is_empty()),
            headers_to_remove: route.headers_to_remove.clone(),
            query_params_to_remove: route.query_params_to_remove.clone(),
            headers_to_add: Vec::new(),
            principal: None,
        };
        if let Some(template) = &route.backend_jwt {
            let token =
                self.backend_jwt(&snapshot, route_id, template, &allowed, &authenticated.principal)?;
            allowed.headers_to_add.push((template.header.clone(), token));
        }
        allowed.principal = Some(authenticated.principal);
        Ok(allowed)
    }

    async fn authenticate(
        &self,
        snapshot: &Snapshot,
        route: &CompiledRoute,
        request: RequestView<'_>,
    ) -> Result<Authenticated, AuthError> {
        let auth = &route.auth;
        let oauth2 = auth
            .oauth2
            .as_ref()
            .and_then(|o| present_header(request, &o.header));
        let api_key = api_key_value(auth, request);
        let jwt = auth.jwt.as_ref().and_then(|j| present_header(request, &j.header));

        let both_mandatory = auth
            .oauth2
            .as_ref()
            .is_some_and(|o| o.required == Required::Mandatory)
            && !auth.api_keys.is_empty()
            && auth.api_key_required == Required::Mandatory;
        if both_mandatory {
            let (Some(token), Some(key)) = (oauth2, api_key.as_deref()) else {
                return Err(AuthError::MissingCredentials);
            };
            let first = self.oauth2(snapshot, route, token).await?;
            self.api_key(snapshot, route, key).await?;
            return Ok(first);
        }

        let mut first_error = None;
        if let Some(token) = oauth2 {
            match self.oauth2(snapshot, route, token).await {
                Ok(done) => return Ok(done),
                Err(error) => first_error = Some(error),
            }
        }
        if let Some(key) = api_key.as_deref() {
            match self.api_key(snapshot, route, key).await {
                Ok(done) => return Ok(done),
                Err(error) => first_error = first_error.or(Some(error)),
            }
        }
        if let Some(token) = jwt {
            match self.jwt_header(snapshot, route, token).await {
                Ok(done) => return Ok(done),
                Err(error) => first_error = first_error.or(Some(error)),
            }
        }
        Err(first_error.unwrap_or(AuthError::MissingCredentials))
    }

    async fn oauth2(
        &self,
        snapshot: &Snapshot,
        route: &CompiledRoute,
        value: &str,
    ) -> Result<Authenticated, AuthError> {
        let token = parse_bearer(value)?;
        let principal = snapshot.validator.validate(token, route.token_context()).await?;
        if is_api_key(&principal) {
            return Err(AuthError::InvalidCredentials("an API key is not an access token"));
        }
        require_scopes(&route.auth, |scope| principal.scopes.contains(scope))?;
        let consumer_key = principal.consumer_key.clone();
        identify(snapshot, route, AuthMechanism::OAuth2, principal, consumer_key)
    }

    async fn api_key(
        &self,
        snapshot: &Snapshot,
        route: &CompiledRoute,
        value: &str,
    ) -> Result<Authenticated, AuthError> {
        let token = parse_raw_jwt(value)?;
        let principal = snapshot.validator.validate(token, route.token_context()).await?;
        let consumer_key = check_api_key(&principal, &route.api_entry, route.auth.key_type)?;
        // An API key carries no scopes, so a scoped route stays closed to it.
        require_scopes(&route.auth, |_| false)?;
        identify(snapshot, route, AuthMechanism::ApiKey, principal, consumer_key)
    }

    async fn jwt_header(
        &self,
        snapshot: &Snapshot,
        route: &CompiledRoute,
        value: &str,
    ) -> Result<Authenticated, AuthError> {
        let token = parse_raw_jwt(value)?;
        let principal = snapshot.validator.validate(token, route.token_context()).await?;
        if is_api_key(&principal) {
            return Err(AuthError::InvalidCredentials(
                "an API key is not a JWT credential",
            ));
        }
        if let Some(config) = &route.auth.jwt {
            check_audience(&principal.claims, &config.audiences)
                .map_err(|_| AuthError::InvalidCredentials("audience not accepted"))?;
        }
        if let Some(key_type) = principal.claim_str(crate::apikey::KEY_TYPE_CLAIM)
            && KeyType::from_apk_str(key_type) != Some(route.auth.key_type)
        {
            return Err(AuthError::InvalidCredentials("token is for another key type"));
        }
        // APK skips scope validation for its internal keys.
        if principal.claim_str(TOKEN_TYPE_CLAIM) != Some(INTERNAL_KEY_TOKEN_TYPE) {
            require_scopes(&route.auth, |scope| principal.scopes.contains(scope))?;
        }
        let consumer_key = principal.consumer_key.clone();
        identify(snapshot, route, AuthMechanism::Jwt, principal, consumer_key)
    }

    /// The backend JWT for an allowed request, reused while more than half its lifetime is left.
    fn backend_jwt(
        &self,
        snapshot: &Snapshot,
        route_id: &str,
        template: &BackendJwtTemplate,
        allowed: &Allowed,
        principal: &Principal,
    ) -> Result<String, AuthError> {
        let Some(signer) = &self.signer else {
            tracing::error!(
                route = route_id,
                "route requires a backend JWT but no signer is configured"
            );
            return Err(AuthError::Internal("no backend JWT signer"));
        };
        let now = jsonwebtoken::get_current_timestamp();
        let subject = principal.subject.as_deref();
        let key = format!(
            "{route_id}\u{0}{}\u{0}{}",
            allowed.consumer_key.as_deref().unwrap_or_default(),
            subject.unwrap_or_default()
        );
        let mut cache = snapshot
            .backend_jwts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(cached) = cache.get(&key)
            && cached.expires_at.saturating_sub(now) > template.ttl / 2
        {
            return Ok(cached.token.clone());
        }
        let caller = Caller {
            subject,
            application: allowed.application.as_ref(),
            tier: allowed.subscription_tier.as_deref(),
        };
        let claims = template.claims(signer.issuer(), caller, now);
        let token = signer.sign(&claims).map_err(|error| {
            tracing::error!(route = route_id, %error, "backend JWT signing failed");
            AuthError::Internal("backend JWT signing failed")
        })?;
        if cache.len() >= MAX_CACHED_BACKEND_JWTS {
            cache.clear();
        }
        cache.insert(
            key,
            CachedJwt {
                token: token.clone(),
                expires_at: now.saturating_add(template.ttl),
            },
        );
        Ok(token)
    }
}

/// Finds the caller's application and subscription; with subscription validation on, the
/// application must hold an ACTIVE subscription to the route's API.
fn identify(
    snapshot: &Snapshot,
    route: &CompiledRoute,
    mechanism: AuthMechanism,
    principal: Arc<Principal>,
    consumer_key: Option<String>,
) -> Result<Authenticated, AuthError> {
    let auth = &route.auth;
    let resolution = consumer_key.as_deref().and_then(|key| {
        snapshot.subscriptions.resolve(
            key,
            &auth.organization,
            auth.key_type,
            &auth.environment,
            &auth.api_name,
            &auth.api_version,
        )
    });
    if auth.subscription_validation {
        if consumer_key.is_none() {
            return Err(AuthError::NotSubscribed("the token names no consumer key"));
        }
        let Some(resolution) = resolution else {
            return Err(AuthError::NotSubscribed("no application has this consumer key"));
        };
        match resolution.subscription {
            None => {
                return Err(AuthError::NotSubscribed(
                    "the application is not subscribed to the API",
                ));
            }
            Some(sub) if !sub.is_active() => {
                return Err(AuthError::NotSubscribed("the subscription is not active"));
            }
            Some(_) => {}
        }
    }
    let active = resolution.and_then(|r| r.subscription).filter(|s| s.is_active());
    Ok(Authenticated {
        mechanism,
        principal,
        consumer_key,
        application: resolution.map(|r| r.application.clone()),
        subscription_id: active.map(|s| s.id.clone()).filter(|id| !id.is_empty()),
        subscription_tier: active.and_then(|s| s.rate_limit_tier.clone()),
    })
}

/// A header's value when present and not blank.
fn present_header<'a>(request: RequestView<'a>, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

/// The first API key presented in one of the route's locations.
fn api_key_value<'a>(auth: &RouteAuth, request: RequestView<'a>) -> Option<Cow<'a, str>> {
    auth.api_keys.iter().find_map(|location| match location.location {
        KeyIn::Header => present_header(request, &location.name).map(Cow::Borrowed),
        KeyIn::Query => query_param(request.path, &location.name)
            .filter(|v| !v.trim().is_empty())
            .map(Cow::Owned),
    })
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
    use crate::config::{ApiKeyLocation, BackendJwtConfig, JwtHeaderConfig, OAuth2Config};

    fn enforcer(routes: &[(&str, RouteAuth)]) -> Enforcer {
        let enforcer = Enforcer::new(ValidationOptions::default()).unwrap();
        let routes = routes.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        enforcer.update_config(EnforcerConfig {
            routes,
            ..EnforcerConfig::default()
        });
        enforcer
    }

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    async fn check(
        enforcer: &Enforcer,
        route: &str,
        hs: &HashMap<String, String>,
        path: &str,
    ) -> Result<Allowed, AuthError> {
        enforcer.check(route, RequestView { headers: hs, path }).await
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
        let err = check(&enforcer, "nope", &headers(&[]), "/").await.unwrap_err();
        assert_eq!((err.http_status(), err.code()), (403, 900908));
    }

    #[tokio::test]
    async fn route_without_schemes_fails_closed() {
        let enforcer = enforcer(&[("r", RouteAuth::default())]);
        let err = check(
            &enforcer,
            "r",
            &headers(&[("authorization", "Bearer a.b.c")]),
            "/",
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), 900902);
    }

    #[tokio::test]
    async fn missing_and_garbage_credentials() {
        let route = RouteAuth {
            oauth2: Some(OAuth2Config::default()),
            api_keys: vec![ApiKeyLocation {
                location: KeyIn::Header,
                name: "ApiKey".into(),
                send_token_to_upstream: false,
            }],
            jwt: Some(JwtHeaderConfig::default()),
            ..RouteAuth::default()
        };
        let enforcer = enforcer(&[("r", route)]);
        let big = "a".repeat(9 * 1024);
        for (hs, code) in [
            (headers(&[]), 900902),
            (
                headers(&[("authorization", "  "), ("apikey", ""), ("internal-key", " ")]),
                900902,
            ),
            (headers(&[("authorization", "Bearer invalidToken")]), 900903),
            (headers(&[("authorization", "Basic YWRtaW46YWRtaW4=")]), 900903),
            (headers(&[("authorization", "Bearer a.b.c")]), 900903),
            (
                headers(&[("authorization", &format!("Bearer {big}.b.c"))]),
                900903,
            ),
            (headers(&[("apikey", "not-a-jwt")]), 900903),
            (headers(&[("apikey", &format!("{big}.b.c"))]), 900903),
            (headers(&[("internal-key", "Bearer a.b.c")]), 900903),
            (headers(&[("internal-key", &format!("{big}.b.c"))]), 900903),
        ] {
            let err = check(&enforcer, "r", &hs, "/").await.unwrap_err();
            assert_eq!(
                (err.http_status(), err.code()),
                (401, code),
                "{:?} {err}",
                hs.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>()
            );
        }
    }

    #[tokio::test]
    async fn both_mandatory_needs_both_credentials() {
        let route = RouteAuth {
            oauth2: Some(OAuth2Config::default()),
            api_keys: vec![ApiKeyLocation {
                location: KeyIn::Query,
                name: "apikey".into(),
                send_token_to_upstream: false,
            }],
            api_key_required: Required::Mandatory,
            ..RouteAuth::default()
        };
        let enforcer = enforcer(&[("r", route)]);
        let err = check(
            &enforcer,
            "r",
            &headers(&[("authorization", "Bearer a.b.c")]),
            "/",
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), 900902);
        let err = check(&enforcer, "r", &headers(&[]), "/?apikey=a.b.c")
            .await
            .unwrap_err();
        assert_eq!(err.code(), 900902);
    }

    #[tokio::test]
    async fn disabled_route_allows_without_identity() {
        let route = RouteAuth {
            disabled: true,
            oauth2: Some(OAuth2Config::default()),
            ..RouteAuth::default()
        };
        let enforcer = enforcer(&[("r", route)]);
        let allowed = check(&enforcer, "r", &headers(&[("authorization", "Bearer junk")]), "/")
            .await
            .unwrap();
        assert_eq!(allowed, Allowed::default());
        assert!(allowed.metadata().is_empty());
    }

    #[test]
    fn compiled_routes_list_credentials_to_strip() {
        let route = RouteAuth {
            oauth2: Some(OAuth2Config {
                header: "Authorization".into(),
                ..OAuth2Config::default()
            }),
            jwt: Some(JwtHeaderConfig {
                send_token_to_upstream: true,
                ..JwtHeaderConfig::default()
            }),
            api_keys: vec![
                ApiKeyLocation {
                    location: KeyIn::Header,
                    name: "X-Api-Key".into(),
                    send_token_to_upstream: false,
                },
                ApiKeyLocation {
                    location: KeyIn::Query,
                    name: "apikey".into(),
                    send_token_to_upstream: false,
                },
                ApiKeyLocation {
                    location: KeyIn::Query,
                    name: "kept".into(),
                    send_token_to_upstream: true,
                },
            ],
            api_name: "pets".into(),
            api_version: "1.0".into(),
            ..RouteAuth::default()
        };
        let compiled = CompiledRoute::new("r", &route);
        assert_eq!(compiled.headers_to_remove, vec!["authorization", "x-api-key"]);
        assert_eq!(compiled.query_params_to_remove, vec!["apikey"]);
        assert_eq!(compiled.api_entry, "pets:1.0");
        // The backend JWT header is never stripped after being set.
        let with_jwt = RouteAuth {
            backend_jwt: Some(BackendJwtConfig {
                header: "authorization".into(),
                ..BackendJwtConfig::default()
            }),
            ..route
        };
        assert_eq!(
            CompiledRoute::new("r", &with_jwt).headers_to_remove,
            vec!["x-api-key"]
        );
    }

    #[test]
    fn metadata_lists_known_fields() {
        let allowed = Allowed {
            application: Some(ApplicationIdentity {
                id: "app".into(),
                ..ApplicationIdentity::default()
            }),
            subscription_tier: Some("Gold".into()),
            key_type: Some(KeyType::Sandbox),
            consumer_key: Some("ck".into()),
            ..Allowed::default()
        };
        assert_eq!(
            allowed.metadata(),
            vec![
                ("applicationId", "app".to_owned()),
                ("subscriptionTier", "Gold".to_owned()),
                ("keyType", "SANDBOX".to_owned()),
                ("consumerKey", "ck".to_owned()),
            ]
        );
    }
}
