//! One consistent view of every resource, the translator's whole input.

use std::collections::BTreeMap;

use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::Gateway;
use gateway_api::grpcroutes::GrpcRoute;
use gateway_api::httproutes::HttpRoute;
use gateway_api::referencegrants::ReferenceGrant;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::apk::api::Api;
use crate::apk::api_policy::ApiPolicy;
use crate::apk::authentication::Authentication;
use crate::apk::backend::Backend;
use crate::apk::backend_jwt::BackendJwt;
use crate::apk::rate_limit::RateLimitPolicy;
use crate::apk::scope::Scope;
use crate::apk::token_issuer::TokenIssuer;
use crate::cp::application::Application;
use crate::cp::application::ApplicationMapping;
use crate::cp::subscription::Subscription;
use crate::key::{ObjectKey, ObjectRef};
use crate::load::{LoadError, LoadReport};
use crate::resource::Resource;
use k8s_openapi::api::core::v1::ConfigMap;

/// Every resource, keyed and sorted so that translation is deterministic.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// GatewayClasses by name.
    pub gateway_classes: BTreeMap<String, GatewayClass>,
    /// Gateways.
    pub gateways: BTreeMap<ObjectKey, Gateway>,
    /// HTTPRoutes.
    pub http_routes: BTreeMap<ObjectKey, HttpRoute>,
    /// GRPCRoutes.
    pub grpc_routes: BTreeMap<ObjectKey, GrpcRoute>,
    /// ReferenceGrants.
    pub reference_grants: BTreeMap<ObjectKey, ReferenceGrant>,
    /// Services.
    pub services: BTreeMap<ObjectKey, Service>,
    /// EndpointSlices.
    pub endpoint_slices: BTreeMap<ObjectKey, EndpointSlice>,
    /// Secrets.
    pub secrets: BTreeMap<ObjectKey, Secret>,
    /// Namespaces by name (a namespace that is referenced but not declared has no labels).
    pub namespaces: BTreeMap<String, Namespace>,
    /// APK APIs.
    pub apis: BTreeMap<ObjectKey, Api>,
    /// APK RateLimitPolicies.
    pub rate_limit_policies: BTreeMap<ObjectKey, RateLimitPolicy>,
    /// APK Authentications.
    pub authentications: BTreeMap<ObjectKey, Authentication>,
    /// APK TokenIssuers.
    pub token_issuers: BTreeMap<ObjectKey, TokenIssuer>,
    /// APK Scopes.
    pub scopes: BTreeMap<ObjectKey, Scope>,
    /// APK Backends.
    pub backends: BTreeMap<ObjectKey, Backend>,
    /// APK APIPolicies.
    pub api_policies: BTreeMap<ObjectKey, ApiPolicy>,
    /// APK BackendJWTs.
    pub backend_jwts: BTreeMap<ObjectKey, BackendJwt>,
    /// APK Applications.
    pub applications: BTreeMap<ObjectKey, Application>,
    /// APK ApplicationMappings.
    pub application_mappings: BTreeMap<ObjectKey, ApplicationMapping>,
    /// APK Subscriptions.
    pub subscriptions: BTreeMap<ObjectKey, Subscription>,
    /// Core ConfigMaps: API definitions and certificates.
    pub config_maps: BTreeMap<ObjectKey, ConfigMap>,
    /// Where each object came from, for error messages.
    pub sources: BTreeMap<ObjectRef, String>,
}

fn key_of(resource: &Resource) -> ObjectKey {
    let meta = resource.meta();
    ObjectKey::new(
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

impl Snapshot {
    /// Builds a snapshot from loaded resources, and returns every error: the report's own and
    /// objects defined twice (the first definition is kept).
    pub fn from_report(report: &LoadReport) -> (Snapshot, Vec<LoadError>) {
        Self::from_reports(std::iter::once(report))
    }

    /// As [`Snapshot::from_report`], over several reports in order (a folder cache's files).
    pub fn from_reports<'a>(reports: impl IntoIterator<Item = &'a LoadReport>) -> (Snapshot, Vec<LoadError>) {
        let mut snapshot = Snapshot::default();
        let mut errors = Vec::new();
        let mut resource_errors = Vec::new();
        for report in reports {
            errors.extend(report.errors.iter().cloned());
            for (source, resource) in &report.resources {
                if let Err(error) = snapshot.insert(source, resource.clone()) {
                    resource_errors.push(error);
                }
            }
        }
        // Parse errors first, then duplicates, as for a single report.
        errors.extend(resource_errors);
        (snapshot, errors)
    }

    /// Adds one resource, refusing a second definition of the same object.
    pub fn insert(&mut self, source: &str, resource: Resource) -> Result<(), LoadError> {
        let object = resource.object_ref();
        if let Some(first) = self.sources.get(&object) {
            return Err(LoadError::Duplicate {
                source_name: source.to_string(),
                object: object.to_string(),
                first: first.clone(),
            });
        }
        let key = key_of(&resource);
        match resource {
            Resource::GatewayClass(r) => {
                self.gateway_classes.insert(key.name, r);
            }
            Resource::Gateway(r) => {
                self.gateways.insert(key, r);
            }
            Resource::HttpRoute(r) => {
                self.http_routes.insert(key, r);
            }
            Resource::GrpcRoute(r) => {
                self.grpc_routes.insert(key, r);
            }
            Resource::ReferenceGrant(r) => {
                self.reference_grants.insert(key, r);
            }
            Resource::Service(r) => {
                self.services.insert(key, r);
            }
            Resource::EndpointSlice(r) => {
                self.endpoint_slices.insert(key, r);
            }
            Resource::Secret(r) => {
                self.secrets.insert(key, r);
            }
            Resource::Namespace(r) => {
                self.namespaces.insert(key.name, r);
            }
            Resource::Api(r) => {
                self.apis.insert(key, r);
            }
            Resource::RateLimitPolicy(r) => {
                self.rate_limit_policies.insert(key, r);
            }
            Resource::Authentication(r) => {
                self.authentications.insert(key, r);
            }
            Resource::TokenIssuer(r) => {
                self.token_issuers.insert(key, r);
            }
            Resource::Scope(r) => {
                self.scopes.insert(key, r);
            }
            Resource::Backend(r) => {
                self.backends.insert(key, r);
            }
            Resource::ApiPolicy(r) => {
                self.api_policies.insert(key, r);
            }
            Resource::BackendJwt(r) => {
                self.backend_jwts.insert(key, r);
            }
            Resource::Application(r) => {
                self.applications.insert(key, r);
            }
            Resource::ApplicationMapping(r) => {
                self.application_mappings.insert(key, r);
            }
            Resource::Subscription(r) => {
                self.subscriptions.insert(key, r);
            }
            Resource::ConfigMap(r) => {
                self.config_maps.insert(key, r);
            }
        }
        self.sources.insert(object, source.to_string());
        Ok(())
    }

    /// Takes one object out, with its source; `None` when it is not here.
    pub fn remove(&mut self, object: &ObjectRef) -> Option<(String, Resource)> {
        let source = self.sources.remove(object)?;
        let key = ObjectKey::new(object.namespace.as_str(), object.name.as_str());
        let resource = match object.kind.as_str() {
            "GatewayClass" => self
                .gateway_classes
                .remove(&object.name)
                .map(Resource::GatewayClass),
            "Gateway" => self.gateways.remove(&key).map(Resource::Gateway),
            "HTTPRoute" => self.http_routes.remove(&key).map(Resource::HttpRoute),
            "GRPCRoute" => self.grpc_routes.remove(&key).map(Resource::GrpcRoute),
            "ReferenceGrant" => self.reference_grants.remove(&key).map(Resource::ReferenceGrant),
            "Service" => self.services.remove(&key).map(Resource::Service),
            "EndpointSlice" => self.endpoint_slices.remove(&key).map(Resource::EndpointSlice),
            "Secret" => self.secrets.remove(&key).map(Resource::Secret),
            "Namespace" => self.namespaces.remove(&object.name).map(Resource::Namespace),
            "API" => self.apis.remove(&key).map(Resource::Api),
            "RateLimitPolicy" => self
                .rate_limit_policies
                .remove(&key)
                .map(Resource::RateLimitPolicy),
            "Authentication" => self.authentications.remove(&key).map(Resource::Authentication),
            "TokenIssuer" => self.token_issuers.remove(&key).map(Resource::TokenIssuer),
            "Scope" => self.scopes.remove(&key).map(Resource::Scope),
            "Backend" => self.backends.remove(&key).map(Resource::Backend),
            "APIPolicy" => self.api_policies.remove(&key).map(Resource::ApiPolicy),
            "BackendJWT" => self.backend_jwts.remove(&key).map(Resource::BackendJwt),
            "Application" => self.applications.remove(&key).map(Resource::Application),
            "ApplicationMapping" => self
                .application_mappings
                .remove(&key)
                .map(Resource::ApplicationMapping),
            "Subscription" => self.subscriptions.remove(&key).map(Resource::Subscription),
            "ConfigMap" => self.config_maps.remove(&key).map(Resource::ConfigMap),
            _ => None,
        }?;
        Some((source, resource))
    }

    /// Labels of a namespace; empty when the namespace is not declared.
    pub fn namespace_labels(&self, namespace: &str) -> BTreeMap<String, String> {
        self.namespaces
            .get(namespace)
            .and_then(|ns| ns.metadata.labels.clone())
            .unwrap_or_default()
    }

    /// Services that have no EndpointSlice naming them: the ones an embedded run backs with
    /// echo servers.
    pub fn services_without_endpoints(&self) -> Vec<ObjectKey> {
        self.services
            .keys()
            .filter(|key| {
                !self.endpoint_slices.iter().any(|(slice_key, slice)| {
                    slice_key.namespace == key.namespace
                        && slice
                            .metadata
                            .labels
                            .as_ref()
                            .and_then(|l| l.get(SERVICE_NAME_LABEL))
                            .is_some_and(|n| n == &key.name)
                })
            })
            .cloned()
            .collect()
    }
}

/// The label tying an EndpointSlice to its Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
