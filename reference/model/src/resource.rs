//! One parsed resource of any kind the gateway serves.

use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::Gateway;
use gateway_api::grpcroutes::GrpcRoute;
use gateway_api::httproutes::HttpRoute;
use gateway_api::referencegrants::ReferenceGrant;
use k8s_openapi::api::core::v1::{Namespace, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

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
use crate::key::ObjectRef;
use k8s_openapi::api::core::v1::ConfigMap;

/// A resource of a kind the gateway serves.
#[derive(Clone, Debug)]
pub enum Resource {
    /// `gateway.networking.k8s.io` GatewayClass.
    GatewayClass(GatewayClass),
    /// `gateway.networking.k8s.io` Gateway.
    Gateway(Gateway),
    /// `gateway.networking.k8s.io` HTTPRoute.
    HttpRoute(HttpRoute),
    /// `gateway.networking.k8s.io` GRPCRoute.
    GrpcRoute(GrpcRoute),
    /// `gateway.networking.k8s.io` ReferenceGrant (v1beta1 and v1 share one shape).
    ReferenceGrant(ReferenceGrant),
    /// Core Service: a backend's ports.
    Service(Service),
    /// discovery.k8s.io EndpointSlice: a backend's addresses.
    EndpointSlice(EndpointSlice),
    /// Core Secret: TLS certificates.
    Secret(Secret),
    /// Core Namespace: its labels select routes.
    Namespace(Namespace),
    /// `dp.wso2.com` API.
    Api(Api),
    /// `dp.wso2.com` RateLimitPolicy.
    RateLimitPolicy(RateLimitPolicy),
    /// `dp.wso2.com` Authentication.
    Authentication(Authentication),
    /// `dp.wso2.com` TokenIssuer.
    TokenIssuer(TokenIssuer),
    /// `dp.wso2.com` Scope.
    Scope(Scope),
    /// `dp.wso2.com` Backend.
    Backend(Backend),
    /// `dp.wso2.com` APIPolicy.
    ApiPolicy(ApiPolicy),
    /// `dp.wso2.com` BackendJWT.
    BackendJwt(BackendJwt),
    /// `cp.wso2.com` Application.
    Application(Application),
    /// `cp.wso2.com` ApplicationMapping.
    ApplicationMapping(ApplicationMapping),
    /// `cp.wso2.com` Subscription.
    Subscription(Subscription),
    /// `core` ConfigMap.
    ConfigMap(ConfigMap),
}

/// A document of a kind the gateway does not serve (Deployments, for example).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where it came from, e.g. `routes.yaml#3`.
    pub source: String,
    /// Its `apiVersion`.
    pub api_version: String,
    /// Its `kind`.
    pub kind: String,
    /// Its `metadata.name`, if any.
    pub name: String,
}

impl Resource {
    /// The object's metadata.
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Resource::GatewayClass(r) => &r.metadata,
            Resource::Gateway(r) => &r.metadata,
            Resource::HttpRoute(r) => &r.metadata,
            Resource::GrpcRoute(r) => &r.metadata,
            Resource::ReferenceGrant(r) => &r.metadata,
            Resource::Service(r) => &r.metadata,
            Resource::EndpointSlice(r) => &r.metadata,
            Resource::Secret(r) => &r.metadata,
            Resource::Namespace(r) => &r.metadata,
            Resource::Api(r) => &r.metadata,
            Resource::RateLimitPolicy(r) => &r.metadata,
            Resource::Authentication(r) => &r.metadata,
            Resource::TokenIssuer(r) => &r.metadata,
            Resource::Scope(r) => &r.metadata,
            Resource::Backend(r) => &r.metadata,
            Resource::ApiPolicy(r) => &r.metadata,
            Resource::BackendJwt(r) => &r.metadata,
            Resource::Application(r) => &r.metadata,
            Resource::ApplicationMapping(r) => &r.metadata,
            Resource::Subscription(r) => &r.metadata,
            Resource::ConfigMap(r) => &r.metadata,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Resource::GatewayClass(r) => &mut r.metadata,
            Resource::Gateway(r) => &mut r.metadata,
            Resource::HttpRoute(r) => &mut r.metadata,
            Resource::GrpcRoute(r) => &mut r.metadata,
            Resource::ReferenceGrant(r) => &mut r.metadata,
            Resource::Service(r) => &mut r.metadata,
            Resource::EndpointSlice(r) => &mut r.metadata,
            Resource::Secret(r) => &mut r.metadata,
            Resource::Namespace(r) => &mut r.metadata,
            Resource::Api(r) => &mut r.metadata,
            Resource::RateLimitPolicy(r) => &mut r.metadata,
            Resource::Authentication(r) => &mut r.metadata,
            Resource::TokenIssuer(r) => &mut r.metadata,
            Resource::Scope(r) => &mut r.metadata,
            Resource::Backend(r) => &mut r.metadata,
            Resource::ApiPolicy(r) => &mut r.metadata,
            Resource::BackendJwt(r) => &mut r.metadata,
            Resource::Application(r) => &mut r.metadata,
            Resource::ApplicationMapping(r) => &mut r.metadata,
            Resource::Subscription(r) => &mut r.metadata,
            Resource::ConfigMap(r) => &mut r.metadata,
        }
    }

    /// The kind as Kubernetes spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::GatewayClass(_) => "GatewayClass",
            Resource::Gateway(_) => "Gateway",
            Resource::HttpRoute(_) => "HTTPRoute",
            Resource::GrpcRoute(_) => "GRPCRoute",
            Resource::ReferenceGrant(_) => "ReferenceGrant",
            Resource::Service(_) => "Service",
            Resource::EndpointSlice(_) => "EndpointSlice",
            Resource::Secret(_) => "Secret",
            Resource::Namespace(_) => "Namespace",
            Resource::Api(_) => "API",
            Resource::RateLimitPolicy(_) => "RateLimitPolicy",
            Resource::Authentication(_) => "Authentication",
            Resource::TokenIssuer(_) => "TokenIssuer",
            Resource::Scope(_) => "Scope",
            Resource::Backend(_) => "Backend",
            Resource::ApiPolicy(_) => "APIPolicy",
            Resource::BackendJwt(_) => "BackendJWT",
            Resource::Application(_) => "Application",
            Resource::ApplicationMapping(_) => "ApplicationMapping",
            Resource::Subscription(_) => "Subscription",
            Resource::ConfigMap(_) => "ConfigMap",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn is_namespaced(&self) -> bool {
        !matches!(self, Resource::GatewayClass(_) | Resource::Namespace(_))
    }

    /// The object's identity.
    pub fn object_ref(&self) -> ObjectRef {
        let meta = self.meta();
        ObjectRef::new(
            self.kind(),
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        )
    }

    /// Fills in what the API server would: the `default` namespace, generation 1, and a
    /// Secret's `stringData` folded into `data`.
    pub(crate) fn normalise(&mut self) {
        let namespaced = self.is_namespaced();
        let meta = self.meta_mut();
        if namespaced && meta.namespace.as_deref().unwrap_or("").is_empty() {
            meta.namespace = Some("default".to_string());
        }
        if !namespaced {
            meta.namespace = None;
        }
        if meta.generation.is_none() {
            meta.generation = Some(1);
        }
        if let Resource::Secret(secret) = self
            && let Some(strings) = secret.string_data.take()
        {
            let data = secret.data.get_or_insert_with(Default::default);
            for (key, value) in strings {
                data.insert(key, k8s_openapi::ByteString(value.into_bytes()));
            }
        }
    }
}
