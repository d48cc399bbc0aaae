//! apk-conf (+ definition) → the Kubernetes resources APK 1.x's Config Service generates:
//! API, HTTPRoutes, Backends, Authentications, Scopes, RateLimitPolicies, APIPolicies,
//! BackendJWTs and the definition ConfigMap.
//!
//! Names follow APK where APK derives them from the API (`<id>-production-httproute-1`,
//! `api-0-<id>`, …); where APK draws a random UUID (routes' backends of an operation) a hash
//! of the operation is used instead, so the same input always gives the same names and bytes.

mod backend;
mod names;
mod policies;
mod route;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use portcullis_model::apk::api::{Api, ApiSpec, EnvConfig, Property};
use portcullis_model::apk::api_policy::{ApiPolicy, ApiPolicySpec, PolicySpec};
use portcullis_model::apk::authentication::{Authentication, AuthenticationSpec};
use portcullis_model::apk::backend::Backend;
use portcullis_model::apk::backend_jwt::BackendJwt;
use portcullis_model::apk::rate_limit::{RateLimitPolicy, RateLimitPolicySpec};
use portcullis_model::apk::scope::{Scope, ScopeSpec};
use serde::Serialize;
use serde_json::Value;

pub use names::api_id;

use crate::apk_conf::{ApiType, ApkConf, EndpointConfiguration, Operation, Policy};

/// Operations per HTTPRoute (APK splits larger APIs over several routes).
pub const OPERATIONS_PER_ROUTE: usize = 8;
/// Key of the definition in its ConfigMap.
pub const DEFINITION_KEY: &str = "definition";
/// Name of the Gateway every route attaches to.
pub const GATEWAY_NAME: &str = "wso2-apk-default";
/// Namespace of that Gateway.
pub const GATEWAY_NAMESPACE: &str = "apk";
/// Listener of that Gateway.
pub const GATEWAY_LISTENER: &str = "httpslistener";

/// The environments APK generates routes for, in order.
const ENVIRONMENTS: [&str; 2] = ["production", "sandbox"];

/// Why resources could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// Only REST APIs are generated.
    #[error("API type {0} is not supported; only REST APIs can be generated")]
    UnsupportedApiType(ApiType),
    /// An endpoint URL or Service that cannot become a Backend.
    #[error("invalid endpoint {endpoint}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as written.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// APK's 909026: API-level and operation-level rate limits together.
    #[error("Presence of both resource level and API level rate limits is not allowed")]
    ConflictingRateLimits,
    /// A policy whose parameters cannot be expressed.
    #[error("invalid policy: {0}")]
    InvalidPolicy(String),
    /// A resource did not serialise (never expected).
    #[error("resource did not serialise: {0}")]
    Serialize(String),
}

/// The generated resources of one API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedResources {
    /// The API id: the apk-conf's `id`, or [`api_id`] of organization, name and version.
    pub api_id: String,
    /// `(file name, YAML document)` per resource: API, ConfigMap, HTTPRoutes, Backends,
    /// Authentications, Scopes, RateLimitPolicies, APIPolicies, BackendJWTs, each kind
    /// sorted by name. File names are `<kind>-<name>.yaml`.
    pub files: Vec<(String, String)>,
}

impl GeneratedResources {
    /// Every document in one multi-document YAML text, in file order.
    pub fn to_multi_document(&self) -> String {
        let mut out = String::new();
        for (_, yaml) in &self.files {
            out.push_str("---\n");
            out.push_str(yaml);
        }
        out
    }
}

/// Generates the resources of `conf` for `organization` in `namespace`. `definition`, when
/// given, is stored in a ConfigMap that the API refers to.
pub fn generate_resources(
    conf: &ApkConf,
    definition: Option<&str>,
    organization: &str,
    namespace: &str,
) -> Result<GeneratedResources, GenerateError> {
    if conf.api_type != ApiType::Rest {
        return Err(GenerateError::UnsupportedApiType(conf.api_type));
    }
    if conf.rate_limit.is_some() && conf.operations.iter().any(|op| op.rate_limit.is_some()) {
        return Err(GenerateError::ConflictingRateLimits);
    }
    let id = conf
        .id
        .clone()
        .unwrap_or_else(|| api_id(organization, &conf.name, &conf.version));
    let mut generator = Generator {
        conf,
        organization,
        namespace,
        id,
        documents: BTreeMap::new(),
        scopes: BTreeMap::new(),
    };
    generator.generate(definition)?;
    let files = generator
        .documents
        .into_iter()
        .map(|((_, file_name), value)| {
            serde_yaml::to_string(&value)
                .map(|yaml| (file_name, yaml))
                .map_err(|error| GenerateError::Serialize(error.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    tracing::debug!(api_id = %generator.id, files = files.len(), "resources generated");
    Ok(GeneratedResources {
        api_id: generator.id,
        files,
    })
}

/// Output order of the kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Api,
    ConfigMap,
    HttpRoute,
    Backend,
    Authentication,
    Scope,
    RateLimitPolicy,
    ApiPolicy,
    BackendJwt,
}

impl Kind {
    fn file_prefix(self) -> &'static str {
        match self {
            Kind::Api => "api",
            Kind::ConfigMap => "configmap",
            Kind::HttpRoute => "httproute",
            Kind::Backend => "backend",
            Kind::Authentication => "authentication",
            Kind::Scope => "scope",
            Kind::RateLimitPolicy => "ratelimitpolicy",
            Kind::ApiPolicy => "apipolicy",
            Kind::BackendJwt => "backendjwt",
        }
    }
}

/// A reference from a rule to a Backend.
#[derive(Debug, Clone)]
pub(crate) struct BackendRef {
    name: String,
    weight: Option<u32>,
}

struct Generator<'a> {
    conf: &'a ApkConf,
    organization: &'a str,
    namespace: &'a str,
    id: String,
    documents: BTreeMap<(Kind, String), Value>,
    /// Scope name → name of the Scope resource that holds it.
    scopes: BTreeMap<String, String>,
}

fn meta(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        ..ObjectMeta::default()
    }
}

impl Generator<'_> {
    fn put<T: Serialize>(&mut self, kind: Kind, name: &str, resource: &T) -> Result<(), GenerateError> {
        let value =
            serde_json::to_value(resource).map_err(|error| GenerateError::Serialize(error.to_string()))?;
        let file_name = format!("{}-{name}.yaml", kind.file_prefix());
        self.documents.insert((kind, file_name), value);
        Ok(())
    }

    fn generate(&mut self, definition: Option<&str>) -> Result<(), GenerateError> {
        let mut routes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for env in ENVIRONMENTS {
            let names = self.routes(env)?;
            if names.is_empty() {
                continue;
            }
            if let Some(methods) = &self.conf.authentication {
                let name = names::authentication(&self.id, env);
                let mut auth = Authentication::new(
                    &name,
                    AuthenticationSpec {
                        default: Some(policies::api_authentication(methods)),
                        r#override: None,
                        target_ref: policies::target("API", &self.id),
                    },
                );
                auth.metadata = meta(&name, self.namespace);
                self.put(Kind::Authentication, &name, &auth)?;
            }
            routes.insert(env, names);
        }
        if let Some(limit) = &self.conf.rate_limit {
            let name = names::rate_limit_policy(&self.id, None);
            let mut policy = RateLimitPolicy::new(
                &name,
                RateLimitPolicySpec {
                    default: Some(policies::rate_limit(limit)),
                    r#override: None,
                    target_ref: policies::target("API", &self.id),
                },
            );
            policy.metadata = meta(&name, self.namespace);
            self.put(Kind::RateLimitPolicy, &name, &policy)?;
        }
        if let Some(spec) = self.policy_spec(None)? {
            let name = names::api_policy(&self.id, None);
            let mut policy = ApiPolicy::new(
                &name,
                ApiPolicySpec {
                    default: Some(spec),
                    r#override: None,
                    target_ref: policies::target("API", &self.id),
                },
            );
            policy.metadata = meta(&name, self.namespace);
            self.put(Kind::ApiPolicy, &name, &policy)?;
        }
        let definition_ref = match definition {
            Some(text) => {
                let name = names::definition(&self.id);
                let config_map = ConfigMap {
                    metadata: meta(&name, self.namespace),
                    data: Some([(DEFINITION_KEY.to_owned(), text.to_owned())].into()),
                    ..ConfigMap::default()
                };
                self.put(Kind::ConfigMap, &name, &config_map)?;
                name
            }
            None => String::new(),
        };
        let env_config = |env: &str| {
            routes.get(env).map(|names| {
                vec![EnvConfig {
                    route_refs: names.clone(),
                }]
            })
        };
        let conf = self.conf;
        let spec = ApiSpec {
            api_name: conf.name.clone(),
            api_version: conf.version.clone(),
            is_default_version: conf.default_version,
            definition_file_ref: definition_ref,
            definition_path: conf
                .definition_path
                .clone()
                .unwrap_or_else(|| "/api-definition".to_owned()),
            production: env_config("production"),
            sandbox: env_config("sandbox"),
            api_type: "REST".to_owned(),
            base_path: full_base_path(&conf.base_path, &conf.version),
            organization: self.organization.to_owned(),
            system_api: false,
            api_properties: conf.additional_properties.as_ref().map(|properties| {
                properties
                    .iter()
                    .map(|p| Property {
                        name: p.name.clone().unwrap_or_default(),
                        value: p.value.clone().unwrap_or_default(),
                    })
                    .collect()
            }),
            environment: conf.environment.clone(),
        };
        let id = self.id.clone();
        let mut api = Api::new(&id, spec);
        api.metadata = meta(&id, self.namespace);
        self.put(Kind::Api, &id, &api)
    }

    /// The HTTPRoutes of one environment; returns their names.
    fn routes(&mut self, env: &str) -> Result<Vec<String>, GenerateError> {
        let api_level = match env_list(&self.conf.endpoint_configurations, env) {
            Some(configs) => Some(self.backends(configs, env, None)?),
            None => None,
        };
        let conf = self.conf;
        let mut names = Vec::new();
        for (index, chunk) in conf.operations.chunks(OPERATIONS_PER_ROUTE).enumerate() {
            let mut rules = Vec::new();
            for operation in chunk {
                // An operation with its own endpoints uses only those (APK's rule).
                let refs = match &operation.endpoint_configurations {
                    Some(own) => match env_list(own, env) {
                        Some(configs) => Some(self.backends(configs, env, Some(operation))?),
                        None => None,
                    },
                    None => api_level.clone(),
                };
                let Some(refs) = refs.filter(|refs| !refs.is_empty()) else {
                    continue;
                };
                rules.push(self.rule(operation, env, &refs)?);
            }
            if rules.is_empty() {
                continue;
            }
            let name = names::http_route(&self.id, env, index + 1);
            let route = route::http_route(
                &name,
                self.namespace,
                route::hostname(self.organization, self.conf.environment.as_deref(), env),
                rules,
            );
            self.put(Kind::HttpRoute, &name, &route)?;
            names.push(name);
        }
        Ok(names)
    }

    /// Backends of endpoint configurations; returns the references to them.
    fn backends(
        &mut self,
        configs: &[EndpointConfiguration],
        env: &str,
        operation: Option<&Operation>,
    ) -> Result<Vec<BackendRef>, GenerateError> {
        let mut refs = Vec::new();
        for config in configs {
            let target = backend::target(&config.endpoint, self.namespace)?;
            let name = names::backend(
                self.organization,
                &self.conf.name,
                &self.conf.version,
                env,
                &target.host,
                &target.path,
                operation,
            );
            let mut resource = Backend::new(&name, backend::backend_spec(&target, config));
            resource.metadata = meta(&name, self.namespace);
            self.put(Kind::Backend, &name, &resource)?;
            refs.push(BackendRef {
                name,
                weight: config.weight,
            });
        }
        Ok(refs)
    }

    /// The APIPolicy spec of the API (`None`) or of an operation, when it says anything.
    fn policy_spec(&mut self, operation: Option<&Operation>) -> Result<Option<PolicySpec>, GenerateError> {
        let conf = self.conf;
        let policies = match operation {
            Some(operation) => operation.operation_policies.as_ref(),
            None => conf.api_policies.as_ref(),
        };
        let mut spec = PolicySpec::default();
        // APK reads BackendJwt from the request flow only.
        for policy in policies.and_then(|p| p.request.as_ref()).into_iter().flatten() {
            if let Policy::BackendJwt(jwt) = policy {
                let name = names::backend_jwt(self.organization, &conf.name, &conf.version, operation);
                let mut resource = BackendJwt::new(&name, policies::backend_jwt(jwt.parameters.as_ref())?);
                resource.metadata = meta(&name, self.namespace);
                self.put(Kind::BackendJwt, &name, &resource)?;
                spec.backend_jwt_policy = Some(policies::name_ref(&name));
            }
        }
        // As APK: the API's subscription validation and CORS go into every APIPolicy it makes.
        if conf.subscription_validation {
            spec.subscription_validation = Some(true);
        }
        if let Some(cors) = &conf.cors_configuration {
            spec.cors_policy = Some(policies::cors(cors));
        }
        Ok((!policies::is_empty(&spec)).then_some(spec))
    }

    /// The route rule of one operation in one environment.
    fn rule(
        &mut self,
        operation: &Operation,
        env: &str,
        refs: &[BackendRef],
    ) -> Result<Value, GenerateError> {
        let conf = self.conf;
        // As APK: API-level policies, when there are any, replace the operation's.
        let policies = match &conf.api_policies {
            Some(api) if api.request.is_some() || api.response.is_some() => Some(api),
            _ => operation.operation_policies.as_ref(),
        };
        let mut filters = Vec::new();
        let mut redirect = false;
        if let Some(policies) = policies {
            for policy in policies.request.iter().flatten() {
                match policy {
                    Policy::RequestMirror(mirror) => {
                        for url in &mirror.parameters.urls {
                            let target = backend::parse_url(url)?;
                            let name = names::backend(
                                self.organization,
                                &conf.name,
                                &conf.version,
                                "",
                                &target.host,
                                &target.path,
                                None,
                            );
                            let config = EndpointConfiguration {
                                endpoint: crate::apk_conf::Endpoint::Url(url.clone()),
                                endpoint_security: None,
                                certificate: None,
                                resiliency: None,
                                ai_ratelimit: None,
                                weight: None,
                            };
                            let mut resource = Backend::new(&name, backend::backend_spec(&target, &config));
                            resource.metadata = meta(&name, self.namespace);
                            self.put(Kind::Backend, &name, &resource)?;
                            filters.push(route::mirror_filter(&name));
                        }
                    }
                    Policy::RequestRedirect(target) => {
                        redirect = true;
                        filters.push(route::redirect_filter(&target.parameters)?);
                    }
                    _ => {}
                }
            }
            if let Some(filter) = route::header_filter(policies.request.as_deref(), "RequestHeaderModifier") {
                filters.push(filter);
            }
            if let Some(filter) = route::header_filter(policies.response.as_deref(), "ResponseHeaderModifier")
            {
                filters.push(filter);
            }
        }
        if !operation.is_secured() {
            let name = names::no_authentication(&self.id, env);
            let mut auth = Authentication::new(
                &name,
                AuthenticationSpec {
                    default: None,
                    r#override: Some(policies::disabled_authentication()),
                    target_ref: policies::target("Resource", &self.id),
                },
            );
            auth.metadata = meta(&name, self.namespace);
            self.put(Kind::Authentication, &name, &auth)?;
            filters.push(route::extension_ref("Authentication", &name));
        }
        let mut count = 1;
        for scope in operation.scopes.iter().flatten() {
            let name = match self.scopes.get(scope) {
                Some(name) => name.clone(),
                None => {
                    let name = names::scope(&self.id, operation, count);
                    count += 1;
                    let mut resource = Scope::new(
                        &name,
                        ScopeSpec {
                            names: vec![scope.clone()],
                        },
                    );
                    resource.metadata = meta(&name, self.namespace);
                    self.put(Kind::Scope, &name, &resource)?;
                    self.scopes.insert(scope.clone(), name.clone());
                    name
                }
            };
            filters.push(route::extension_ref("Scope", &name));
        }
        if let Some(limit) = &operation.rate_limit {
            let name = names::rate_limit_policy(&self.id, Some(operation));
            let mut policy = RateLimitPolicy::new(
                &name,
                RateLimitPolicySpec {
                    default: Some(policies::rate_limit(limit)),
                    r#override: None,
                    target_ref: policies::target("Resource", &self.id),
                },
            );
            policy.metadata = meta(&name, self.namespace);
            self.put(Kind::RateLimitPolicy, &name, &policy)?;
            filters.push(route::extension_ref("RateLimitPolicy", &name));
        }
        if operation.operation_policies.is_some()
            && let Some(spec) = self.policy_spec(Some(operation))?
        {
            let name = names::api_policy(&self.id, Some(operation));
            let mut policy = ApiPolicy::new(
                &name,
                ApiPolicySpec {
                    default: Some(spec),
                    r#override: None,
                    target_ref: policies::target("Resource", &self.id),
                },
            );
            policy.metadata = meta(&name, self.namespace);
            self.put(Kind::ApiPolicy, &name, &policy)?;
            filters.push(route::extension_ref("APIPolicy", &name));
        }
        Ok(route::rule(operation, filters, (!redirect).then_some(refs)))
    }
}

fn env_list<'c>(
    configs: &'c crate::apk_conf::EndpointConfigurations,
    env: &str,
) -> Option<&'c [EndpointConfiguration]> {
    match env {
        "production" => configs.production.as_deref(),
        _ => configs.sandbox.as_deref(),
    }
}

/// APK's API base path: the apk-conf's, with the version appended unless it already ends so.
pub fn full_base_path(base_path: &str, version: &str) -> String {
    if base_path.ends_with(version) {
        base_path.to_owned()
    } else {
        format!("{}/{version}", base_path.trim_end_matches('/'))
    }
}
