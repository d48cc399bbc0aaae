//! HTTPRoutes and their rules, built as Gateway API `gateway.networking.k8s.io/v1` documents.
//!
//! Match paths are relative to the API's base path (the data plane prefixes it) and are
//! regular expressions as APK writes them: `{param}` becomes `(.*)`, a trailing `/*` becomes
//! `(.*)`. Unlike APK, literal segments are regex-escaped so `.` only matches a dot.

use serde_json::{Value, json};

use super::{BackendRef, GATEWAY_LISTENER, GATEWAY_NAME, GATEWAY_NAMESPACE, GenerateError, backend};
use crate::apk_conf::{Operation, Policy, RequestRedirectParameters};

/// The hostname of an environment: `<org>[-<environment>].gw.wso2.com` for production,
/// `<org>[-<environment>].sandbox.gw.wso2.com` for sandbox.
pub(crate) fn hostname(organization: &str, environment: Option<&str>, env: &str) -> String {
    let prefix = match environment.filter(|e| !e.is_empty()) {
        Some(environment) => format!("{organization}-{environment}"),
        None => organization.to_owned(),
    };
    match env {
        "production" => format!("{prefix}.gw.wso2.com"),
        _ => format!("{prefix}.sandbox.gw.wso2.com"),
    }
}

/// An HTTPRoute attached to APK's default Gateway.
pub(crate) fn http_route(name: &str, namespace: &str, hostname: String, rules: Vec<Value>) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "hostnames": [hostname],
            "parentRefs": [{
                "group": "gateway.networking.k8s.io",
                "kind": "Gateway",
                "name": GATEWAY_NAME,
                "namespace": GATEWAY_NAMESPACE,
                "sectionName": GATEWAY_LISTENER,
            }],
            "rules": rules,
        },
    })
}

/// The match path of an operation target, relative to the base path.
pub(crate) fn match_path(target: &str) -> String {
    match target {
        "/*" => return "(.*)".to_owned(),
        "/" => return "/".to_owned(),
        _ => {}
    }
    let segments: Vec<&str> = target
        .split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut path = String::new();
    for (i, segment) in segments.iter().enumerate() {
        if i + 1 == segments.len() && *segment == "*" {
            path.push_str("(.*)");
            return path;
        }
        path.push('/');
        if segment.starts_with('{') && segment.ends_with('}') {
            path.push_str("(.*)");
        } else {
            path.push_str(&regex::escape(segment));
        }
    }
    path
}

/// The rule of one operation: method and path match, filters, and its backends unless it
/// redirects.
pub(crate) fn rule(operation: &Operation, filters: Vec<Value>, refs: Option<&[BackendRef]>) -> Value {
    let mut rule = json!({
        "matches": [{
            "method": operation.verb.as_str(),
            "path": {"type": "RegularExpression", "value": match_path(&operation.target)},
        }],
    });
    if !filters.is_empty() {
        rule["filters"] = Value::Array(filters);
    }
    if let Some(refs) = refs {
        rule["backendRefs"] = refs
            .iter()
            .map(|r| {
                let mut value = backend_ref(&r.name);
                if let Some(weight) = r.weight {
                    value["weight"] = json!(weight);
                }
                value
            })
            .collect();
    }
    rule
}

fn backend_ref(name: &str) -> Value {
    json!({"group": portcullis_model::apk::DP_GROUP, "kind": "Backend", "name": name})
}

/// An `ExtensionRef` filter to a `dp.wso2.com` resource.
pub(crate) fn extension_ref(kind: &str, name: &str) -> Value {
    json!({
        "type": "ExtensionRef",
        "extensionRef": {"group": portcullis_model::apk::DP_GROUP, "kind": kind, "name": name},
    })
}

/// A RequestMirror filter to a Backend.
pub(crate) fn mirror_filter(backend: &str) -> Value {
    json!({"type": "RequestMirror", "requestMirror": {"backendRef": backend_ref(backend)}})
}

/// A RequestRedirect filter to the policy's URL (path `/` when the URL has none).
pub(crate) fn redirect_filter(parameters: &RequestRedirectParameters) -> Result<Value, GenerateError> {
    let target = backend::parse_url(&parameters.url)?;
    let path = if target.path.is_empty() {
        "/".to_owned()
    } else {
        target.path.clone()
    };
    let mut redirect = json!({
        "scheme": target.protocol,
        "hostname": target.host,
        "path": {"type": "ReplaceFullPath", "replaceFullPath": path},
    });
    let default_port = if target.protocol == "https" { 443 } else { 80 };
    if target.port != default_port {
        redirect["port"] = json!(target.port);
    }
    if let Some(status) = parameters.status_code {
        redirect["statusCode"] = json!(status);
    }
    Ok(json!({"type": "RequestRedirect", "requestRedirect": redirect}))
}

/// One header-modifier filter (`RequestHeaderModifier` or `ResponseHeaderModifier`) holding
/// every AddHeader, SetHeader and RemoveHeader policy of a flow, or none.
pub(crate) fn header_filter(policies: Option<&[Policy]>, filter_type: &str) -> Option<Value> {
    let (mut add, mut set, mut remove) = (Vec::new(), Vec::new(), Vec::new());
    for policy in policies.into_iter().flatten() {
        match policy {
            Policy::AddHeader(spec) => add.push(header(&spec.parameters)),
            Policy::SetHeader(spec) => set.push(header(&spec.parameters)),
            Policy::RemoveHeader(spec) => remove.push(json!(spec.parameters.header_name)),
            _ => {}
        }
    }
    if add.is_empty() && set.is_empty() && remove.is_empty() {
        return None;
    }
    let mut modifier = json!({});
    for (key, list) in [("add", add), ("set", set), ("remove", remove)] {
        if !list.is_empty() {
            modifier[key] = Value::Array(list);
        }
    }
    let key = if filter_type == "RequestHeaderModifier" {
        "requestHeaderModifier"
    } else {
        "responseHeaderModifier"
    };
    Some(json!({"type": filter_type, key: modifier}))
}

fn header(parameters: &crate::apk_conf::HeaderModifierParameters) -> Value {
    json!({
        "name": parameters.header_name,
        "value": parameters.header_value.clone().unwrap_or_default(),
    })
}
