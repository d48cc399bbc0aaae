//! The rules of APK's apk-conf schema (and of its Deployer) that serde types cannot express.

use super::policy::{ApiPolicies, Policy};
use super::types::{ApiType, ApkConf, Endpoint, EndpointConfigurations, Operation, RateLimit, Verb};

/// Characters APK's version pattern forbids (besides white space).
const VERSION_FORBIDDEN: &str = "~!@#;:%^*()+={}|\\<>\"',&/$[]";

/// Every rule broken by `conf`, as (field path, message).
pub(crate) fn validate(conf: &ApkConf) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let mut report = |path: String, message: String| problems.push((path, message));

    check_length(&mut report, "name", &conf.name, 60);
    check_length(&mut report, "basePath", &conf.base_path, 256);
    if !conf.base_path.is_empty() && !conf.base_path.starts_with('/') {
        report(
            "basePath".into(),
            format!("must start with '/', found {:?}", conf.base_path),
        );
    }
    check_length(&mut report, "version", &conf.version, 30);
    if let Some(bad) = conf
        .version
        .chars()
        .find(|c| c.is_whitespace() || VERSION_FORBIDDEN.contains(*c))
    {
        report("version".into(), format!("must not contain {bad:?}"));
    }
    check_endpoints(
        &mut report,
        "endpointConfigurations",
        &conf.endpoint_configurations,
    );
    if let Some(limit) = &conf.rate_limit {
        check_rate_limit(&mut report, "rateLimit", limit);
    }
    if let Some(policies) = &conf.api_policies {
        check_policies(&mut report, "apiPolicies", policies);
    }
    if conf.operations.is_empty() {
        // APK's Deployer error 909021.
        report(
            "operations".into(),
            "at least one operation must be specified".into(),
        );
    }
    for (i, operation) in conf.operations.iter().enumerate() {
        check_operation(&mut report, &format!("operations[{i}]"), conf.api_type, operation);
        // APK's Deployer refuses limits at both levels (its error 909026).
        if conf.rate_limit.is_some() && operation.rate_limit.is_some() {
            report(
                format!("operations[{i}].rateLimit"),
                "resource level and API level rate limits are not allowed together".into(),
            );
        }
    }
    problems
}

fn check_length(report: &mut impl FnMut(String, String), path: &str, value: &str, max: usize) {
    let length = value.chars().count();
    if length == 0 {
        report(path.into(), "must not be empty".into());
    } else if length > max {
        report(
            path.into(),
            format!("must be at most {max} characters, found {length}"),
        );
    }
}

fn check_operation(report: &mut impl FnMut(String, String), path: &str, api_type: ApiType, op: &Operation) {
    if op.target.is_empty() {
        report(format!("{path}.target"), "must not be empty".into());
    } else if api_type == ApiType::Rest && !op.target.starts_with('/') {
        report(
            format!("{path}.target"),
            format!("must start with '/', found {:?}", op.target),
        );
    }
    check_verb(report, &format!("{path}.verb"), api_type, &op.verb);
    if let Some(endpoints) = &op.endpoint_configurations {
        check_endpoints(report, &format!("{path}.endpointConfigurations"), endpoints);
    }
    if let Some(limit) = &op.rate_limit {
        check_rate_limit(report, &format!("{path}.rateLimit"), limit);
    }
    if let Some(policies) = &op.operation_policies {
        check_policies(report, &format!("{path}.operationPolicies"), policies);
    }
    for (i, scope) in op.scopes.iter().flatten().enumerate() {
        if scope.trim().is_empty() {
            report(format!("{path}.scopes[{i}]"), "must not be blank".into());
        }
    }
}

fn check_verb(report: &mut impl FnMut(String, String), path: &str, api_type: ApiType, verb: &Verb) {
    let allowed: &[&str] = match api_type {
        ApiType::Rest => &Verb::HTTP_METHODS,
        ApiType::Graphql => &Verb::GRAPHQL_OPERATIONS,
        // gRPC verbs are method names; WebSocket verbs are free-form in APK.
        ApiType::Grpc | ApiType::Websocket => &[],
    };
    if verb.as_str().is_empty() {
        report(path.into(), "must not be empty".into());
    } else if !allowed.is_empty() && !allowed.iter().any(|v| v.eq_ignore_ascii_case(verb.as_str())) {
        report(
            path.into(),
            format!(
                "unknown verb {:?} for a {api_type} API, expected one of {}",
                verb.as_str(),
                allowed.join(", ")
            ),
        );
    }
}

fn check_rate_limit(report: &mut impl FnMut(String, String), path: &str, limit: &RateLimit) {
    if limit.requests_per_unit == 0 {
        report(format!("{path}.requestsPerUnit"), "must be greater than 0".into());
    }
}

fn check_endpoints(report: &mut impl FnMut(String, String), path: &str, endpoints: &EndpointConfigurations) {
    for (env, list) in [
        ("production", &endpoints.production),
        ("sandbox", &endpoints.sandbox),
    ] {
        for (i, config) in list.iter().flatten().enumerate() {
            if let Endpoint::Url(url) = &config.endpoint
                && url.trim().is_empty()
            {
                report(format!("{path}.{env}[{i}].endpoint"), "must not be empty".into());
            }
            let Some(retry) = config.resiliency.as_ref().and_then(|r| r.retry_policy.as_ref()) else {
                continue;
            };
            for (j, code) in retry.status_codes.iter().flatten().enumerate() {
                if !(100..=599).contains(code) {
                    report(
                        format!("{path}.{env}[{i}].resiliency.retryPolicy.statusCodes[{j}]"),
                        format!("{code} is not an HTTP status code"),
                    );
                }
            }
        }
    }
}

fn check_policies(report: &mut impl FnMut(String, String), path: &str, policies: &ApiPolicies) {
    for (flow, list) in [("request", &policies.request), ("response", &policies.response)] {
        for (i, policy) in list.iter().flatten().enumerate() {
            let here = format!("{path}.{flow}[{i}]");
            if flow == "response" && !policy.allowed_in_response() {
                report(
                    format!("{here}.policyName"),
                    format!("{} is not allowed in the response flow", policy.name()),
                );
            }
            if let Policy::RequestRedirect(spec) = policy
                && let Some(code) = spec.parameters.status_code
                && code != 301
                && code != 302
            {
                report(
                    format!("{here}.parameters.statusCode"),
                    format!("must be 301 or 302, found {code}"),
                );
            }
        }
    }
}
