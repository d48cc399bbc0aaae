//! CustomResourceDefinitions for the APK kinds portcullis serves, generated from the same types
//! that parse them, so a cluster accepts exactly what the gateway understands.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceSubresourceStatus, CustomResourceSubresources, JSONSchemaProps,
};
use kube::CustomResourceExt;

use crate::apk::api::Api;
use crate::apk::api_policy::ApiPolicy;
use crate::apk::authentication::Authentication;
use crate::apk::backend::Backend;
use crate::apk::backend_jwt::BackendJwt;
use crate::apk::rate_limit::RateLimitPolicy;
use crate::apk::scope::Scope;
use crate::apk::token_issuer::TokenIssuer;
use crate::cp::application::{Application, ApplicationMapping};
use crate::cp::subscription::Subscription;

/// One CRD per APK kind (`dp.wso2.com`, `cp.wso2.com`), each with a `status` subresource: the
/// gateway writes conditions there (RateLimitPolicy, TokenIssuer), and APK's own CRDs have one.
pub fn apk_crds() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![
        Api::crd(),
        ApiPolicy::crd(),
        Authentication::crd(),
        Backend::crd(),
        BackendJwt::crd(),
        RateLimitPolicy::crd(),
        Scope::crd(),
        TokenIssuer::crd(),
        Application::crd(),
        ApplicationMapping::crd(),
        Subscription::crd(),
    ];
    for crd in &mut crds {
        for version in &mut crd.spec.versions {
            version.subresources = Some(CustomResourceSubresources {
                status: Some(CustomResourceSubresourceStatus(serde_json::json!({}))),
                ..Default::default()
            });
            // Statuses are the controller's business; any shape is stored.
            if let Some(root) = version
                .schema
                .as_mut()
                .and_then(|s| s.open_api_v3_schema.as_mut())
            {
                root.properties.get_or_insert_with(Default::default).insert(
                    "status".to_string(),
                    JSONSchemaProps {
                        type_: Some("object".to_string()),
                        x_kubernetes_preserve_unknown_fields: Some(true),
                        ..Default::default()
                    },
                );
            }
        }
    }
    crds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_apk_kind_has_a_crd_with_a_status_subresource() {
        let crds = apk_crds();
        let names: Vec<String> = crds.iter().filter_map(|c| c.metadata.name.clone()).collect();
        assert_eq!(
            names,
            [
                "apis.dp.wso2.com",
                "apipolicies.dp.wso2.com",
                "authentications.dp.wso2.com",
                "backends.dp.wso2.com",
                "backendjwts.dp.wso2.com",
                "ratelimitpolicies.dp.wso2.com",
                "scopes.dp.wso2.com",
                "tokenissuers.dp.wso2.com",
                "applications.cp.wso2.com",
                "applicationmappings.cp.wso2.com",
                "subscriptions.cp.wso2.com",
            ]
        );
        for crd in &crds {
            assert_eq!(crd.spec.scope, "Namespaced");
            let version = &crd.spec.versions[0];
            assert!(version.served && version.storage);
            assert!(
                version.subresources.as_ref().is_some_and(|s| s.status.is_some()),
                "{:?}",
                crd.metadata.name
            );
            let schema = version
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .expect("a schema");
            let properties = schema.properties.as_ref().expect("properties");
            assert!(properties.contains_key("spec") && properties.contains_key("status"));
        }
    }
}
