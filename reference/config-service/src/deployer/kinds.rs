//! The kinds the generator emits, as the API server knows them.
//!
//! A fixed table rather than `kube::discovery`: the generator only ever emits these kinds, so
//! discovery would cost a round trip per group on every deploy to learn nothing new, and a
//! cluster without a CRD would then fail later and less clearly (on the apply naming the
//! kind). The entries come from the model's own `Resource` impls, so group, version and
//! plural cannot drift from what the generator writes.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::discovery::ApiResource;
use portcullis_model::apk::api::Api;
use portcullis_model::apk::api_policy::ApiPolicy;
use portcullis_model::apk::authentication::Authentication;
use portcullis_model::apk::backend::Backend;
use portcullis_model::apk::backend_jwt::BackendJwt;
use portcullis_model::apk::rate_limit::RateLimitPolicy;
use portcullis_model::apk::scope::Scope;

/// Every kind a deployed API may own, in the generator's order (API first, so a gateway
/// sees the API before the routes it names, and stops serving it first on undeploy).
pub fn cluster_kinds() -> Vec<ApiResource> {
    vec![
        ApiResource::erase::<Api>(&()),
        ApiResource::erase::<ConfigMap>(&()),
        ApiResource::erase::<gateway_api::httproutes::HttpRoute>(&()),
        ApiResource::erase::<Backend>(&()),
        ApiResource::erase::<Authentication>(&()),
        ApiResource::erase::<Scope>(&()),
        ApiResource::erase::<RateLimitPolicy>(&()),
        ApiResource::erase::<ApiPolicy>(&()),
        ApiResource::erase::<BackendJwt>(&()),
    ]
}
