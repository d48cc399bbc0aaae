//! The table of kinds the source watches: one line per kind, and how an object of that kind
//! becomes a typed [`Resource`].

use std::sync::Arc;

use gateway_api::gatewayclasses::GatewayClass;
use gateway_api::gateways::Gateway;
use gateway_api::grpcroutes::GrpcRoute;
use gateway_api::httproutes::HttpRoute;
use gateway_api::referencegrants::ReferenceGrant;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::core::ApiResource;
use portcullis_model::Resource;
use portcullis_model::apk::api::Api;
use portcullis_model::apk::api_policy::ApiPolicy;
use portcullis_model::apk::authentication::Authentication;
use portcullis_model::apk::backend::Backend;
use portcullis_model::apk::backend_jwt::BackendJwt;
use portcullis_model::apk::rate_limit::RateLimitPolicy;
use portcullis_model::apk::scope::Scope;
use portcullis_model::apk::token_issuer::TokenIssuer;
use portcullis_model::cp::application::{Application, ApplicationMapping};
use portcullis_model::cp::subscription::Subscription;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a JSON object did not fit its kind's schema: the path of the field and the message.
pub type ConvertError = serde_path_to_error::Error<serde_json::Error>;

type Convert = Arc<dyn Fn(Value) -> Result<Resource, ConvertError> + Send + Sync>;

/// Which objects of a kind to watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Every object the namespace option allows.
    All,
    /// Secrets: limited by the Secret label selector option.
    Secrets,
    /// ConfigMaps: limited by the ConfigMap label selector option.
    ConfigMaps,
    /// Namespaces: only the watched namespace when there is one.
    Namespaces,
}

/// One watched kind: where the API server serves it and how to type its objects.
#[derive(Clone)]
pub struct WatchedKind {
    /// Group, version, kind and plural as the API server serves them.
    pub api: ApiResource,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
    /// Which objects to watch.
    pub filter: Filter,
    convert: Convert,
}

impl std::fmt::Debug for WatchedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchedKind")
            .field("api", &self.api)
            .field("namespaced", &self.namespaced)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl WatchedKind {
    fn of<K>(namespaced: bool, wrap: fn(K) -> Resource) -> Self
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned + 'static,
    {
        WatchedKind {
            api: ApiResource::erase::<K>(&()),
            namespaced,
            filter: Filter::All,
            convert: Arc::new(move |value: Value| serde_path_to_error::deserialize(value).map(wrap)),
        }
    }

    /// A namespaced kind.
    fn namespaced<K>(wrap: fn(K) -> Resource) -> Self
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned + 'static,
    {
        Self::of(true, wrap)
    }

    /// A cluster-scoped kind.
    fn cluster<K>(wrap: fn(K) -> Resource) -> Self
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned + 'static,
    {
        Self::of(false, wrap)
    }

    /// Watches another served version than the type declares (same schema).
    fn at_version(mut self, version: &str) -> Self {
        self.api.version = version.to_string();
        self.api.api_version = if self.api.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{version}", self.api.group)
        };
        self
    }

    fn filtered(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// The kind as Kubernetes spells it, e.g. `HTTPRoute`.
    pub fn kind(&self) -> &str {
        &self.api.kind
    }

    /// Types one object (`apiVersion` and `kind` are filled in first: list items lack them).
    pub fn convert(&self, mut value: Value) -> Result<Resource, ConvertError> {
        if let Value::Object(map) = &mut value {
            map.insert("apiVersion".into(), Value::String(self.api.api_version.clone()));
            map.insert("kind".into(), Value::String(self.api.kind.clone()));
        }
        (self.convert)(value)
    }
}

/// Every kind `portcullis_model::Resource` has, in the order reports list them. Adding a kind
/// is one line here.
pub fn watched_kinds() -> Vec<WatchedKind> {
    use WatchedKind as K;
    vec![
        K::cluster::<GatewayClass>(Resource::GatewayClass),
        K::namespaced::<Gateway>(Resource::Gateway),
        K::namespaced::<HttpRoute>(Resource::HttpRoute),
        K::namespaced::<GrpcRoute>(Resource::GrpcRoute),
        // v1beta1 is served by every Gateway API release that has ReferenceGrant; same schema.
        K::namespaced::<ReferenceGrant>(Resource::ReferenceGrant).at_version("v1beta1"),
        K::namespaced::<Service>(Resource::Service),
        K::namespaced::<EndpointSlice>(Resource::EndpointSlice),
        K::namespaced::<Secret>(Resource::Secret).filtered(Filter::Secrets),
        K::cluster::<Namespace>(Resource::Namespace).filtered(Filter::Namespaces),
        K::namespaced::<ConfigMap>(Resource::ConfigMap).filtered(Filter::ConfigMaps),
        K::namespaced::<Api>(Resource::Api),
        K::namespaced::<RateLimitPolicy>(Resource::RateLimitPolicy),
        K::namespaced::<Authentication>(Resource::Authentication),
        K::namespaced::<TokenIssuer>(Resource::TokenIssuer),
        K::namespaced::<Scope>(Resource::Scope),
        K::namespaced::<Backend>(Resource::Backend),
        K::namespaced::<ApiPolicy>(Resource::ApiPolicy),
        K::namespaced::<BackendJwt>(Resource::BackendJwt),
        K::namespaced::<Application>(Resource::Application),
        K::namespaced::<ApplicationMapping>(Resource::ApplicationMapping),
        K::namespaced::<Subscription>(Resource::Subscription),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_watched_once_at_the_models_kind_name() {
        let kinds = watched_kinds();
        let mut names: Vec<&str> = kinds.iter().map(WatchedKind::kind).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a kind is listed twice");
        let reference_grant = kinds
            .iter()
            .find(|k| k.kind() == "ReferenceGrant")
            .expect("listed");
        assert_eq!(
            reference_grant.api.api_version,
            "gateway.networking.k8s.io/v1beta1"
        );
        let api = kinds.iter().find(|k| k.kind() == "API").expect("listed");
        assert_eq!(
            (api.api.api_version.as_str(), api.api.plural.as_str()),
            ("dp.wso2.com/v1alpha3", "apis")
        );
    }

    #[test]
    fn conversion_names_the_field_at_fault() {
        let kinds = watched_kinds();
        let route = kinds.iter().find(|k| k.kind() == "HTTPRoute").expect("listed");
        let value = serde_json::json!({
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {"rules": [{"matches": [{"path": {"type": "Nonsense", "value": "/"}}]}]}
        });
        let error = route.convert(value).expect_err("an invalid path type");
        assert_eq!(error.path().to_string(), "spec.rules[0].matches[0].path.type");
        let ok = route
            .convert(serde_json::json!({"metadata": {"name": "r", "namespace": "ns"}, "spec": {}}))
            .expect("a valid route");
        assert_eq!(ok.kind(), "HTTPRoute");
    }
}
