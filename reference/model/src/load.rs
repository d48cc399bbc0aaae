//! Reading resources from YAML text and folders of YAML files.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_yaml::Value;
use thiserror::Error;

use crate::resource::{Resource, Skipped};

/// Why a document could not become a resource. Every variant names where it came from.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum LoadError {
    /// The text is not YAML.
    #[error("{source_name}: invalid YAML: {message}")]
    Syntax {
        /// File (and document) name.
        source_name: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A document lacks `apiVersion`, `kind` or `metadata.name`.
    #[error("{source_name}: {message}")]
    Shape {
        /// File and document.
        source_name: String,
        /// What is missing.
        message: String,
    },
    /// A known kind whose fields do not fit its schema.
    #[error("{source_name}: {kind} {name}: field `{field}`: {message}")]
    Field {
        /// File and document.
        source_name: String,
        /// The resource kind.
        kind: String,
        /// `namespace/name` of the resource.
        name: String,
        /// Path of the offending field, e.g. `spec.rules[0].matches[0].path.type`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The same object is defined twice; the first definition is kept.
    #[error("{source_name}: {object} is already defined in {first}; this definition is ignored")]
    Duplicate {
        /// Where the ignored definition is.
        source_name: String,
        /// The object.
        object: String,
        /// Where the kept definition is.
        first: String,
    },
    /// A file could not be read.
    #[error("{path}: cannot read: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
}

/// What came out of a set of documents: resources, skipped kinds, and errors.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Resources parsed, in file and document order.
    pub resources: Vec<(String, Resource)>,
    /// Documents of kinds the gateway does not serve.
    pub skipped: Vec<Skipped>,
    /// Documents that could not be parsed.
    pub errors: Vec<LoadError>,
}

/// Parses every document of a (multi-document) YAML text. `source_name` names the text in
/// errors, usually the file name. One bad document never hides the others.
pub fn parse_documents(source_name: &str, text: &str) -> LoadReport {
    let mut report = LoadReport::default();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let doc_name = format!("{source_name}#{}", index + 1);
        let value = match Value::deserialize_from(document) {
            Ok(value) => value,
            Err(error) => {
                report.errors.push(LoadError::Syntax {
                    source_name: doc_name,
                    message: error.to_string(),
                });
                // After a syntax error the parser cannot find the next document reliably.
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        match parse_value(&doc_name, value) {
            Ok(Parsed::Resource(resource)) => report.resources.push((doc_name, *resource)),
            Ok(Parsed::List(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    let item_name = format!("{doc_name}.items[{i}]");
                    match parse_value(&item_name, item) {
                        Ok(Parsed::Resource(resource)) => report.resources.push((item_name, *resource)),
                        Ok(Parsed::Skipped(skipped)) => report.skipped.push(skipped),
                        Ok(Parsed::List(_)) => report.errors.push(LoadError::Shape {
                            source_name: item_name,
                            message: "nested List is not supported".to_string(),
                        }),
                        Err(error) => report.errors.push(error),
                    }
                }
            }
            Ok(Parsed::Skipped(skipped)) => report.skipped.push(skipped),
            Err(error) => report.errors.push(error),
        }
    }
    report
}

trait DeserializeFrom: Sized {
    fn deserialize_from(document: serde_yaml::Deserializer<'_>) -> Result<Self, serde_yaml::Error>;
}

impl DeserializeFrom for Value {
    fn deserialize_from(document: serde_yaml::Deserializer<'_>) -> Result<Self, serde_yaml::Error> {
        serde::Deserialize::deserialize(document)
    }
}

enum Parsed {
    Resource(Box<Resource>),
    List(Vec<Value>),
    Skipped(Skipped),
}

fn str_field<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut current = value;
    for key in path {
        current = current.get(*key)?;
    }
    current.as_str()
}

fn parse_value(source_name: &str, value: Value) -> Result<Parsed, LoadError> {
    if !value.is_mapping() {
        return Err(LoadError::Shape {
            source_name: source_name.to_string(),
            message: "a resource must be a mapping with apiVersion, kind and metadata".to_string(),
        });
    }
    let shape = |message: &str| LoadError::Shape {
        source_name: source_name.to_string(),
        message: message.to_string(),
    };
    let api_version = str_field(&value, &["apiVersion"])
        .ok_or_else(|| shape("missing `apiVersion`"))?
        .to_string();
    let kind = str_field(&value, &["kind"])
        .ok_or_else(|| shape("missing `kind`"))?
        .to_string();
    if kind == "List" || kind.ends_with("List") && api_version == "v1" {
        let items = match value.get("items") {
            Some(Value::Sequence(items)) => items.clone(),
            _ => Vec::new(),
        };
        return Ok(Parsed::List(items));
    }
    let name = str_field(&value, &["metadata", "name"])
        .ok_or_else(|| shape(&format!("{kind}: missing `metadata.name`")))?
        .to_string();
    let namespace = str_field(&value, &["metadata", "namespace"]).unwrap_or("default");
    let group = api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    let display_name = format!("{namespace}/{name}");
    let typed = |value: Value| -> Result<Parsed, LoadError> {
        let resource = match (group, kind.as_str()) {
            ("gateway.networking.k8s.io", "GatewayClass") => {
                Resource::GatewayClass(deserialize(source_name, &kind, &name, value)?)
            }
            ("gateway.networking.k8s.io", "Gateway") => {
                Resource::Gateway(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("gateway.networking.k8s.io", "HTTPRoute") => {
                Resource::HttpRoute(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("gateway.networking.k8s.io", "GRPCRoute") => {
                Resource::GrpcRoute(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("gateway.networking.k8s.io", "ReferenceGrant") => {
                Resource::ReferenceGrant(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("", "Service") => Resource::Service(deserialize(source_name, &kind, &display_name, value)?),
            ("discovery.k8s.io", "EndpointSlice") => {
                Resource::EndpointSlice(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("", "Secret") => Resource::Secret(deserialize(source_name, &kind, &display_name, value)?),
            ("", "Namespace") => Resource::Namespace(deserialize(source_name, &kind, &name, value)?),
            ("dp.wso2.com", "API") => Resource::Api(deserialize(source_name, &kind, &display_name, value)?),
            ("dp.wso2.com", "RateLimitPolicy") => {
                Resource::RateLimitPolicy(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("dp.wso2.com", "Authentication") => {
                Resource::Authentication(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("dp.wso2.com", "TokenIssuer") => {
                Resource::TokenIssuer(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("dp.wso2.com", "Scope") => {
                Resource::Scope(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("dp.wso2.com", "Backend") => {
                Resource::Backend(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("dp.wso2.com", "APIPolicy") => {
                Resource::ApiPolicy(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("dp.wso2.com", "BackendJWT") => {
                Resource::BackendJwt(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("cp.wso2.com", "Application") => {
                Resource::Application(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("cp.wso2.com", "ApplicationMapping") => {
                Resource::ApplicationMapping(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("cp.wso2.com", "Subscription") => {
                Resource::Subscription(deserialize(source_name, &kind, &display_name, value)?)
            }
            ("", "ConfigMap") => Resource::ConfigMap(deserialize(source_name, &kind, &display_name, value)?),
            _ => {
                return Ok(Parsed::Skipped(Skipped {
                    source: source_name.to_string(),
                    api_version: api_version.clone(),
                    kind: kind.clone(),
                    name: name.clone(),
                }));
            }
        };
        Ok(Parsed::Resource(Box::new(resource)))
    };
    let mut parsed = typed(value)?;
    if let Parsed::Resource(resource) = &mut parsed {
        resource.normalise();
    }
    Ok(parsed)
}

fn deserialize<T: DeserializeOwned>(
    source_name: &str,
    kind: &str,
    name: &str,
    value: Value,
) -> Result<T, LoadError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        LoadError::Field {
            source_name: source_name.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            field: if field == "." { "(root)".to_string() } else { field },
            message: error.into_inner().to_string(),
        }
    })
}

/// Whether a path looks like a resource file (`.yaml`, `.yml` or `.json`, not hidden).
pub fn is_resource_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    !hidden && matches!(ext, "yaml" | "yml" | "json")
}

/// Reads every resource file below `dir` (recursively, in sorted path order, so the result
/// does not depend on the file system's listing order). A control plane that reloads keeps a
/// [`crate::folder::FolderCache`] instead, which re-reads only changed files.
pub fn load_dir(dir: &Path) -> LoadReport {
    use rayon::prelude::*;
    let (files, walk_errors) = crate::folder::list_files(dir);
    let parts: Vec<LoadReport> = files
        .par_iter()
        .map(|path| crate::folder::read_file(dir, path))
        .collect();
    let mut report = LoadReport::default();
    for part in parts {
        report.resources.extend(part.resources);
        report.skipped.extend(part.skipped);
        report.errors.extend(part.errors);
    }
    report.errors.extend(walk_errors);
    report
}
