//! From an API definition (OpenAPI 3.0/3.1, Swagger 2.0; JSON or YAML) to the apk-conf that
//! APK 1.x's `generate-configuration` returns for it.

mod description;
mod error;
mod loose;
mod oas30;
mod to_conf;

use serde_yaml::Value;

pub use error::DefinitionError;
pub use to_conf::generated_base_path;

use crate::apk_conf::{ApiType, ApkConf};

/// Turns a definition into an apk-conf as APK's generator does: name and version from `info`,
/// a generated base path, the first server as production endpoint, one secured operation per
/// path and method with the scopes the definition asks for.
pub fn generate_apk_conf(definition: &str, api_type: ApiType) -> Result<ApkConf, DefinitionError> {
    if api_type != ApiType::Rest {
        return Err(DefinitionError::UnsupportedApiType(api_type));
    }
    let document = read_tree(definition)?;
    let Value::Mapping(root) = document else {
        return Err(DefinitionError::NotOpenApi(
            "the document is not an object".to_owned(),
        ));
    };
    let description = if let Some(version) = root.get("openapi") {
        let version = version_text(version);
        if version.starts_with("3.0") {
            let description = loose::read(&root, loose::Layout::OpenApi30)?;
            oas30::check(&Value::Mapping(root))?;
            description
        } else if version.starts_with("3.1") {
            loose::read(&root, loose::Layout::OpenApi31)?
        } else {
            return Err(DefinitionError::Invalid(vec![format!(
                "unsupported OpenAPI version {version:?}"
            )]));
        }
    } else if let Some(version) = root.get("swagger") {
        let version = version_text(version);
        if version != "2.0" {
            return Err(DefinitionError::Invalid(vec![format!(
                "unsupported Swagger version {version:?}"
            )]));
        }
        loose::read(&root, loose::Layout::Swagger20)?
    } else {
        return Err(DefinitionError::NotOpenApi(
            "attribute openapi is missing".to_owned(),
        ));
    };
    tracing::debug!(name = %description.title, operations = description.resources.len(), "definition read");
    to_conf::to_apk_conf(description, api_type)
}

/// Parses JSON or YAML into one order-keeping tree.
fn read_tree(definition: &str) -> Result<Value, DefinitionError> {
    let parsed = if definition.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(definition).map_err(|e| e.to_string())
    } else {
        serde_yaml::from_str::<Value>(definition).map_err(|e| e.to_string())
    };
    parsed.map_err(|error| {
        DefinitionError::NotOpenApi(format!("the document is neither JSON nor YAML: {error}"))
    })
}

fn version_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}
