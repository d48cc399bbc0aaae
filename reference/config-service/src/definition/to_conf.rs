//! APK's mapping from a definition to an apk-conf (its `fromAPIModelToAPKConf`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::description::{ApiDescription, Resource};
use super::error::DefinitionError;
use crate::apk_conf::{
    ApiType, ApkConf, Endpoint, EndpointConfiguration, EndpointConfigurations, Operation, Verb,
};

/// Builds the apk-conf APK generates for `description`.
pub(crate) fn to_apk_conf(
    mut description: ApiDescription,
    api_type: ApiType,
) -> Result<ApkConf, DefinitionError> {
    if description.paths_have_servers {
        // APK strips `servers` under `paths` by re-serialising the document with sorted keys,
        // which also sorts the paths.
        description.resources.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let operations = description
        .resources
        .iter()
        .map(|resource| {
            Ok(Operation {
                target: resource.path.clone(),
                verb: Verb(resource.verb.to_owned()),
                secured: Some(true),
                endpoint_configurations: None,
                operation_policies: None,
                rate_limit: None,
                scopes: Some(scopes(resource, &description.declared_scopes)?),
            })
        })
        .collect::<Result<Vec<_>, DefinitionError>>()?;
    let endpoint_configurations = if description.server_url.is_empty() {
        EndpointConfigurations::default()
    } else {
        EndpointConfigurations {
            production: Some(vec![EndpointConfiguration {
                endpoint: Endpoint::Url(description.server_url.clone()),
                endpoint_security: None,
                certificate: None,
                resiliency: None,
                ai_ratelimit: None,
                weight: None,
            }]),
            sandbox: None,
        }
    };
    Ok(ApkConf {
        id: None,
        base_path: generated_base_path(&description.title, &description.version),
        name: description.title,
        version: description.version,
        api_type,
        definition_path: None,
        default_version: false,
        subscription_validation: false,
        environment: None,
        endpoint_configurations,
        ai_provider: None,
        operations,
        api_policies: None,
        rate_limit: None,
        authentication: None,
        additional_properties: None,
        cors_configuration: None,
    })
}

/// APK's generated base path: `/` + base64(name + version) without `=` padding.
pub fn generated_base_path(name: &str, version: &str) -> String {
    let encoded = STANDARD.encode(format!("{name}{version}"));
    format!("/{}", encoded.trim_end_matches('='))
}

/// Scopes of one operation, the way APK finds them: the `default` requirement (or `x-scope`),
/// else the `OAuth2Security` requirement; each must be declared by the security scheme.
fn scopes(resource: &Resource, declared: &[String]) -> Result<Vec<String>, DefinitionError> {
    let mut wanted = scopes_for(resource, "default");
    if wanted.is_empty() {
        wanted = scopes_for(resource, "OAuth2Security");
    }
    wanted
        .into_iter()
        .filter(|scope| !scope.trim().is_empty())
        .map(|scope| {
            if declared.contains(&scope) {
                Ok(scope)
            } else {
                Err(DefinitionError::UndeclaredScope { scope })
            }
        })
        .collect()
}

fn scopes_for(resource: &Resource, scheme: &str) -> Vec<String> {
    for requirement in &resource.security {
        if let Some((_, scopes)) = requirement.iter().find(|(name, _)| name == scheme) {
            return scopes.clone();
        }
    }
    match &resource.x_scope {
        Some(list) => list.split(',').map(str::to_owned).collect(),
        None => Vec::new(),
    }
}
