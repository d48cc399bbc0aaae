//! OpenAPI 3.0/3.1 and Swagger 2.0 documents, read field by field from the YAML tree (only
//! the fields the generator needs, with the checks that make them usable; messages follow
//! swagger-parser's, which APK reports).

use serde_yaml::{Mapping, Value};

use super::description::{ApiDescription, METHODS, Resource};
use super::error::DefinitionError;

/// Which layout the document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// OpenAPI 3.0: `servers`, `components.securitySchemes`; paths and responses required.
    OpenApi30,
    /// OpenAPI 3.1: like 3.0, but paths and responses may be left out.
    OpenApi31,
    /// Swagger 2.0: `host`/`basePath`/`schemes`, `securityDefinitions`.
    Swagger20,
}

/// Reads a 3.1 or 2.0 document; every problem found is reported.
pub(crate) fn read(root: &Mapping, layout: Layout) -> Result<ApiDescription, DefinitionError> {
    let mut problems = Vec::new();
    let info = root.get("info").and_then(Value::as_mapping);
    if info.is_none() {
        problems.push("attribute info is missing".to_owned());
    }
    let mut text_field = |name: &str| match info.and_then(|i| i.get(name)).and_then(scalar_text) {
        Some(text) => text,
        None => {
            if info.is_some() {
                problems.push(format!("attribute info.{name} is missing"));
            }
            String::new()
        }
    };
    let title = text_field("title");
    let version = text_field("version");
    let paths = root.get("paths");
    if layout != Layout::OpenApi31 && paths.is_none() {
        problems.push("attribute paths is missing".to_owned());
    }
    let mut description = ApiDescription {
        title,
        version,
        server_url: match layout {
            Layout::OpenApi30 | Layout::OpenApi31 => first_server(root),
            Layout::Swagger20 => swagger2_server(root),
        },
        declared_scopes: declared_scopes(root, layout),
        ..ApiDescription::default()
    };
    match paths {
        None => {}
        Some(Value::Mapping(paths)) => read_paths(paths, layout, &mut description, &mut problems),
        Some(_) => problems.push("attribute paths is not of type `object`".to_owned()),
    }
    if problems.is_empty() {
        Ok(description)
    } else {
        Err(DefinitionError::Invalid(problems))
    }
}

fn read_paths(paths: &Mapping, layout: Layout, description: &mut ApiDescription, problems: &mut Vec<String>) {
    description.paths_have_servers = has_servers_key(paths);
    for (path, item) in paths {
        let Some(path) = path.as_str() else { continue };
        if !path.starts_with('/') {
            // Specification extensions (`x-…`) may sit among the paths.
            continue;
        }
        let Some(item) = item.as_mapping() else {
            problems.push(format!("attribute paths.'{path}' is not of type `object`"));
            continue;
        };
        for (method, verb) in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let Some(operation) = operation.as_mapping() else {
                problems.push(format!(
                    "attribute paths.'{path}'({method}) is not of type `object`"
                ));
                continue;
            };
            if layout != Layout::OpenApi31 && !operation.contains_key("responses") {
                problems.push(format!("attribute paths.'{path}'({method}).responses is missing"));
            }
            let security = operation
                .get("security")
                .and_then(Value::as_sequence)
                .map(|requirements| {
                    requirements
                        .iter()
                        .filter_map(Value::as_mapping)
                        .map(requirement)
                        .collect()
                })
                .unwrap_or_default();
            let x_scope = operation
                .get("x-scope")
                .and_then(Value::as_str)
                .map(str::to_owned);
            description.resources.push(Resource {
                path: path.to_owned(),
                verb,
                security,
                x_scope,
            });
        }
    }
}

/// Whether `servers` is a key of `map` or of any mapping nested in it through mappings (the
/// blocks APK removes from under `paths`).
fn has_servers_key(map: &Mapping) -> bool {
    map.contains_key("servers") || map.values().filter_map(Value::as_mapping).any(has_servers_key)
}

fn requirement(map: &Mapping) -> Vec<(String, Vec<String>)> {
    map.iter()
        .filter_map(|(scheme, scopes)| {
            let scopes = scopes.as_sequence()?.iter().filter_map(scalar_text).collect();
            Some((scheme.as_str()?.to_owned(), scopes))
        })
        .collect()
}

/// Text of a scalar; numbers count (`version: 1.0` is common in hand-written files).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn first_server(root: &Mapping) -> String {
    root.get("servers")
        .and_then(Value::as_sequence)
        .and_then(|servers| servers.first())
        .and_then(|server| server.get("url"))
        .and_then(Value::as_str)
        .map_or_else(|| "/".to_owned(), str::to_owned)
}

/// Swagger 2.0's `schemes[0]://host basePath` (the first scheme, `http` when none is given);
/// without a host, the base path alone (or `/`).
fn swagger2_server(root: &Mapping) -> String {
    let base_path = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    let Some(host) = root.get("host").and_then(Value::as_str) else {
        return if base_path.is_empty() {
            "/".to_owned()
        } else {
            base_path.to_owned()
        };
    };
    let scheme = root
        .get("schemes")
        .and_then(Value::as_sequence)
        .and_then(|schemes| schemes.first())
        .and_then(Value::as_str)
        .unwrap_or("http");
    let base_path = if base_path == "/" { "" } else { base_path };
    format!("{scheme}://{host}{base_path}")
}

fn declared_scopes(root: &Mapping, layout: Layout) -> Vec<String> {
    let schemes = match layout {
        Layout::OpenApi30 | Layout::OpenApi31 => {
            root.get("components").and_then(|c| c.get("securitySchemes"))
        }
        Layout::Swagger20 => root.get("securityDefinitions"),
    };
    let Some(schemes) = schemes else { return Vec::new() };
    let flow_scopes = |name: &str, flow: &str| -> Option<Vec<String>> {
        let scheme = schemes.get(name)?;
        if scheme.get("type").and_then(Value::as_str) != Some("oauth2") {
            return None;
        }
        let scopes = match layout {
            Layout::OpenApi30 | Layout::OpenApi31 => scheme.get("flows")?.get(flow)?.get("scopes")?,
            Layout::Swagger20 => {
                if scheme.get("flow").and_then(Value::as_str) != Some(flow) {
                    return None;
                }
                scheme.get("scopes")?
            }
        };
        Some(scopes.as_mapping()?.keys().filter_map(scalar_text).collect())
    };
    let mut scopes = flow_scopes("default", "implicit")
        .or_else(|| flow_scopes("OAuth2Security", "password"))
        .unwrap_or_default();
    scopes.sort();
    scopes
}
