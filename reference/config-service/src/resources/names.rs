//! How generated resources are named: APK's names where APK derives them from the API, and
//! hash-based names where APK draws a random UUID, so the same input always gives the same
//! names.

use sha1::{Digest, Sha1};

use crate::apk_conf::Operation;

/// Lower-case hex SHA-1 of `text`.
pub(crate) fn sha1_hex(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// APK's API id: SHA-1 hex of `<organization>-<name>-<version>`.
pub fn api_id(organization: &str, name: &str, version: &str) -> String {
    sha1_hex(&format!("{organization}-{name}-{version}"))
}

/// Hash of an operation as APK computes it (`target` then `verb`, no separator).
pub(crate) fn operation_hash(operation: &Operation) -> String {
    sha1_hex(&format!("{}{}", operation.target, operation.verb))
}

/// HTTPRoute of one partition (APK puts up to eight operations in a route).
pub(crate) fn http_route(id: &str, env: &str, index: usize) -> String {
    format!("{id}-{env}-httproute-{index}")
}

/// A Backend of the API (`operation` = None) or of one operation.
pub(crate) fn backend(
    organization: &str,
    name: &str,
    version: &str,
    env: &str,
    host: &str,
    path: &str,
    operation: Option<&Operation>,
) -> String {
    let base = format!("{organization}-{name}-{version}-{env}-{host}-{path}");
    match operation {
        // APK draws a UUID here; the operation's own hash keeps it stable instead.
        Some(operation) => format!(
            "backend-{}-resource",
            sha1_hex(&format!("{base}-{}{}", operation.target, operation.verb))
        ),
        None => format!("backend-{}-api", sha1_hex(&base)),
    }
}

/// The API-level Authentication of an environment.
pub(crate) fn authentication(id: &str, env: &str) -> String {
    format!("{id}-{env}-authentication")
}

/// The Authentication that opens unsecured operations of an environment.
pub(crate) fn no_authentication(id: &str, env: &str) -> String {
    format!("{id}-{env}-no-authentication")
}

/// A Scope, named after the first operation that asks for it.
pub(crate) fn scope(id: &str, operation: &Operation, count: usize) -> String {
    let hash = sha1_hex(&format!("{id}{}{}", operation.target, operation.verb));
    format!("{hash}-scope-{count}")
}

/// A RateLimitPolicy of the API or of one operation.
pub(crate) fn rate_limit_policy(id: &str, operation: Option<&Operation>) -> String {
    match operation {
        Some(operation) => format!("resource-0-{}-{id}", operation_hash(operation)),
        None => format!("api-0-{id}"),
    }
}

/// An APIPolicy of the API or of one operation.
pub(crate) fn api_policy(id: &str, operation: Option<&Operation>) -> String {
    match operation {
        Some(operation) => format!("{id}-{}-resource-policy", operation_hash(operation)),
        None => format!("{id}-api-policy"),
    }
}

/// A BackendJWT of the API or of one operation (APK's spelling, double dash included).
pub(crate) fn backend_jwt(
    organization: &str,
    name: &str,
    version: &str,
    operation: Option<&Operation>,
) -> String {
    let base = sha1_hex(&format!("{organization}-{name}-{version}"));
    match operation {
        Some(operation) => format!(
            "{base}-{}--resource-backend-jwt-policy",
            operation_hash(operation)
        ),
        None => format!("{base}--api-backend-jwt-policy"),
    }
}

/// The ConfigMap holding the definition.
pub(crate) fn definition(id: &str) -> String {
    format!("{id}-definition")
}
