//! Reading an apk-conf: YAML → [`ApkConf`], with errors that name the field and the line.

use std::fmt;

use super::location::{Location, LocationIndex};
use super::types::ApkConf;
use super::validate::validate;

/// One problem in an apk-conf, at a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Field path like `operations[2].verb`; empty for the document itself.
    pub path: String,
    /// Where the field (or the syntax error) is, when known.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "document"
        } else {
            self.path.as_str()
        };
        match self.location {
            Some(at) => write!(
                f,
                "{path} (line {}, column {}): {}",
                at.line, at.column, self.message
            ),
            None => write!(f, "{path}: {}", self.message),
        }
    }
}

/// Why an apk-conf was rejected: one syntax/type error, or every validation error found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid apk-conf: {}", join(.errors))]
pub struct ApkConfError {
    errors: Vec<FieldError>,
}

impl ApkConfError {
    /// The problems found, in document order for validation errors.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Parses and validates an apk-conf document (YAML or JSON).
///
/// Structure and types are checked first (the first error stops there); then the rules of
/// APK's schema that serde cannot express are checked and all their errors are returned.
pub fn parse_apk_conf(yaml: &str) -> Result<ApkConf, ApkConfError> {
    let index = LocationIndex::build(yaml);
    let deserializer = serde_yaml::Deserializer::from_str(yaml);
    let conf: ApkConf = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = match error.path().to_string() {
            root if root == "." => String::new(),
            path => path,
        };
        let inner = error.into_inner();
        let location = inner.location().map(|at| Location {
            line: at.line(),
            column: at.column(),
        });
        let message = bare_message(&inner, &path);
        let location = location.or_else(|| index.locate(&path));
        ApkConfError {
            errors: vec![FieldError {
                path,
                location,
                message,
            }],
        }
    })?;
    let problems = validate(&conf);
    if problems.is_empty() {
        return Ok(conf);
    }
    let mut errors: Vec<FieldError> = problems
        .into_iter()
        .map(|(path, message)| FieldError {
            location: index.locate(&path),
            path,
            message,
        })
        .collect();
    errors.sort_by_key(|error| error.location.map(|at| (at.line, at.column)));
    Err(ApkConfError { errors })
}

/// serde_yaml's message without the path prefix and position suffix it adds to Display
/// (both are reported in their own fields).
fn bare_message(error: &serde_yaml::Error, path: &str) -> String {
    let mut message = error.to_string();
    if let Some(at) = error.location() {
        let suffix = format!(" at line {} column {}", at.line(), at.column());
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
    }
    // serde_yaml names the innermost place it knows (the field, or its parent mapping).
    if let Some((prefix, rest)) = message.split_once(": ")
        && !prefix.is_empty()
        && !prefix.contains(' ')
        && path.starts_with(prefix)
    {
        return rest.to_owned();
    }
    message
}
