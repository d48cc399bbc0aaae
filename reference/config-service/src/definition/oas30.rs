//! Structural check of OpenAPI 3.0 documents with the `openapiv3` crate (parameters, schemas,
//! responses… must have the shapes the specification gives them).

use openapiv3::OpenAPI;

use super::error::DefinitionError;

/// Checks that `document` deserialises as an OpenAPI 3.0 document.
pub(crate) fn check(document: &serde_yaml::Value) -> Result<(), DefinitionError> {
    serde_path_to_error::deserialize::<_, OpenAPI>(document)
        .map(drop)
        .map_err(|error| {
            let path = error.path().to_string();
            DefinitionError::Invalid(vec![format!("attribute {path}: {}", error.into_inner())])
        })
}
