//! Why a definition could not become an apk-conf.

use crate::apk_conf::ApiType;

/// Why [`generate_apk_conf`](super::generate_apk_conf) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// Only REST (OpenAPI/Swagger) definitions are handled so far.
    #[error("unsupported API type {0}: only REST definitions are turned into an apk-conf for now")]
    UnsupportedApiType(ApiType),
    /// The document is JSON/YAML but not an OpenAPI or Swagger definition.
    #[error("not an OpenAPI definition: {0}")]
    NotOpenApi(String),
    /// The document is an OpenAPI/Swagger definition with problems (each one described).
    #[error("invalid API definition: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// An operation asks for a scope its security scheme does not declare.
    #[error("Resource Scope '{scope}' not found.")]
    UndeclaredScope {
        /// The scope asked for.
        scope: String,
    },
}
