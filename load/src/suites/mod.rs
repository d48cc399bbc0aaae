//! The load suites: which requests each makes, with what credentials, and what it expects.
//!
//! Every suite is one goose scenario of [`Call`]s (one transaction each) against the resources
//! under `load/resources/` (see [`resources`]). Expected statuses are successes, whatever
//! they are: the 401s of requests sent without credentials, the 429s over a limit.

pub mod call;
pub mod cluster;
pub mod resources;
pub mod target;

use std::sync::Arc;

use anyhow::{Result, bail};
use bytes::Bytes;
use clap::ValueEnum;
use goose::prelude::Scenario;

pub use call::{Body, Call, Expect, Observations, Observed, Target};
pub use target::{Credentials, HostMap};

use crate::scenario::PROBES;
use resources::{BODIES, ECHO_SERVICE, JWT, KEYS, OVER, UNDER};

/// A suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suite {
    /// Routing by host, path and header; no auth, no limits.
    Plain,
    /// An APK API with OAuth2: a token on most requests (200), none on some (401).
    Jwt,
    /// An APK API with API keys: a key on most requests (200), none on some (401).
    ApiKey,
    /// Two APK APIs, one under its limit (only 200s) and one over it (429s expected).
    RateLimited,
    /// A weighted mix of the others, with JSON POSTs.
    Mixed,
    /// POSTs of 1 KiB and 100 KiB, the echo confirming each length.
    LargeBodies,
    /// Requests spread over the generated hostnames × paths.
    ManyHosts,
}

impl Suite {
    /// Every suite, in the order `all` runs them.
    pub const ALL: [Suite; 7] = [
        Suite::Plain,
        Suite::Jwt,
        Suite::ApiKey,
        Suite::RateLimited,
        Suite::LargeBodies,
        Suite::ManyHosts,
        Suite::Mixed,
    ];

    /// Its `--suite` value.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Plain => "plain",
            Suite::Jwt => "jwt",
            Suite::ApiKey => "api-key",
            Suite::RateLimited => "rate-limited",
            Suite::Mixed => "mixed",
            Suite::LargeBodies => "large-bodies",
            Suite::ManyHosts => "many-hosts",
        }
    }

    /// Its goose scenario's name (and its default reports' `reports/load-<scenario>.*`).
    pub fn scenario_name(self) -> &'static str {
        match self {
            Suite::Plain => crate::scenario::SCENARIO,
            other => other.name(),
        }
    }

    /// Whether it needs a bearer token and an API key.
    pub fn needs(self) -> (bool, bool) {
        match self {
            Suite::Jwt => (true, false),
            Suite::ApiKey => (false, true),
            Suite::Mixed => (true, true),
            _ => (false, false),
        }
    }

    /// Whether it calls APK APIs (`resources/apis.yaml`).
    pub fn needs_apis(self) -> bool {
        matches!(
            self,
            Suite::Jwt | Suite::ApiKey | Suite::RateLimited | Suite::Mixed
        )
    }

    /// Whether it needs the resources beyond plain routing (the APK profile's IdP, APIs).
    pub fn needs_suite_resources(self) -> bool {
        self != Suite::Plain
    }

    /// Its requests against `context`'s target.
    pub fn calls(self, context: &SuiteContext) -> Vec<Call> {
        match self {
            Suite::Plain => plain(context),
            Suite::Jwt => jwt(context),
            Suite::ApiKey => api_key(context),
            Suite::RateLimited => rate_limited(context),
            Suite::Mixed => mixed(context),
            Suite::LargeBodies => large_bodies(context),
            Suite::ManyHosts => many_hosts(context),
        }
    }

    /// Its goose scenario against `context`'s target; `observed` collects what the echo
    /// backends saw.
    pub fn scenario(self, context: &SuiteContext, observed: &Arc<Observed>) -> Result<Scenario> {
        Ok(call::scenario(
            self.scenario_name(),
            self.calls(context),
            observed,
        )?)
    }
}

/// A `--suite` value: one suite or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SuiteArg {
    /// Routing by host, path and header
    Plain,
    /// OAuth2 tokens (the enforcer)
    Jwt,
    /// API keys (the enforcer)
    ApiKey,
    /// Under and over a limit (the limiter)
    RateLimited,
    /// 1 KiB and 100 KiB POST bodies
    LargeBodies,
    /// Many hostnames × paths
    ManyHosts,
    /// A weighted mix of the others, with JSON POSTs
    Mixed,
    /// Every suite, one after another
    All,
}

/// The suites `args` name, in [`Suite::ALL`]'s order, each once.
pub fn selected(args: &[SuiteArg]) -> Vec<Suite> {
    let wanted = |suite: Suite| {
        args.iter().any(|arg| {
            *arg == SuiteArg::All
                || matches!(
                    (arg, suite),
                    (SuiteArg::Plain, Suite::Plain)
                        | (SuiteArg::Jwt, Suite::Jwt)
                        | (SuiteArg::ApiKey, Suite::ApiKey)
                        | (SuiteArg::RateLimited, Suite::RateLimited)
                        | (SuiteArg::Mixed, Suite::Mixed)
                        | (SuiteArg::LargeBodies, Suite::LargeBodies)
                        | (SuiteArg::ManyHosts, Suite::ManyHosts)
                )
        })
    };
    Suite::ALL.into_iter().filter(|s| wanted(*s)).collect()
}

/// What the suites know of their target.
#[derive(Clone, Debug, Default)]
pub struct SuiteContext {
    /// Credentials for the protected APIs.
    pub credentials: Credentials,
    /// Host headers replacing the shipped hostnames.
    pub hosts: HostMap,
    /// How many generated hostnames the many-hosts suite spreads over.
    pub many_hosts: usize,
}

impl SuiteContext {
    /// Fails, naming the options to give, if `suites` need credentials this context lacks.
    pub fn check(&self, suites: &[Suite]) -> Result<()> {
        let mut missing = Vec::new();
        for suite in suites {
            let (token, key) = suite.needs();
            if token && self.credentials.bearer_token.is_none() {
                missing.push(format!("the {} suite needs --bearer-token", suite.name()));
            }
            if key && self.credentials.api_key.is_none() {
                missing.push(format!("the {} suite needs --api-key", suite.name()));
            }
        }
        if suites.contains(&Suite::ManyHosts) && self.many_hosts == 0 {
            missing.push("the many-hosts suite needs --many-hosts of at least 1".to_string());
        }
        if !missing.is_empty() {
            bail!("{}", missing.join("; "));
        }
        Ok(())
    }

    fn target(&self, (host, path): (&str, &str)) -> Target {
        Target::new(self.hosts.host(host), path)
    }

    fn with_token(&self, call: Call) -> Call {
        match self.credentials.authorization() {
            Some(value) => call.header("authorization", value),
            None => call,
        }
    }

    fn with_key(&self, call: Call) -> Call {
        match &self.credentials.api_key {
            Some(key) => call.header("apikey", key.clone()),
            None => call,
        }
    }
}

/// Expects a 200 from the echo Service.
fn echoed() -> Expect {
    Expect {
        service: Some(ECHO_SERVICE.to_string()),
        ..Expect::status(200)
    }
}

fn plain(context: &SuiteContext) -> Vec<Call> {
    PROBES
        .iter()
        .map(|probe| {
            let expect = Expect {
                service: probe.service.map(str::to_string),
                ..Expect::status(probe.status)
            };
            let mut call = Call::get(probe.name, context.target((probe.host, probe.path)), expect);
            for (name, value) in probe.headers {
                call = call.header(*name, *value);
            }
            call
        })
        .collect()
}

fn jwt_with_token(context: &SuiteContext, name: &str) -> Call {
    context.with_token(Call::get(name, context.target(JWT), echoed()))
}

fn jwt_without_token(context: &SuiteContext, name: &str) -> Call {
    Call::get(name, context.target(JWT), Expect::status(401))
}

fn jwt(context: &SuiteContext) -> Vec<Call> {
    vec![
        jwt_with_token(context, "jwt: token -> 200").weight(9),
        jwt_without_token(context, "jwt: no token -> 401"),
    ]
}

fn key_with_key(context: &SuiteContext, name: &str) -> Call {
    context.with_key(Call::get(name, context.target(KEYS), echoed()))
}

fn api_key(context: &SuiteContext) -> Vec<Call> {
    let mut calls = vec![
        key_with_key(context, "api-key: key -> 200").weight(9),
        Call::get(
            "api-key: no key -> 401",
            context.target(KEYS),
            Expect::status(401),
        ),
    ];
    // The API takes keys only: the enforcer must refuse a token there (when there is one).
    if context.credentials.bearer_token.is_some() {
        calls.push(context.with_token(Call::get(
            "api-key: bearer token instead -> 401",
            context.target(KEYS),
            Expect::status(401),
        )));
    }
    calls
}

fn under(context: &SuiteContext, name: &str) -> Call {
    Call::get(name, context.target(UNDER), echoed())
}

fn rate_limited(context: &SuiteContext) -> Vec<Call> {
    let over = Expect {
        also: Some(200),
        ..Expect::status(429)
    };
    vec![
        under(context, "rate-limited: under the limit -> 200"),
        Call::get("rate-limited: over the limit -> 429", context.target(OVER), over),
    ]
}

/// `size` bytes of a body that is not JSON (so nothing on the way parses it).
fn payload(size: usize) -> Body {
    Body {
        bytes: Bytes::from(vec![b'x'; size]),
        content_type: "application/octet-stream",
    }
}

/// Expects a 200 from the echo Service, which received the whole body.
fn echoed_body() -> Expect {
    Expect {
        echoed_length: true,
        ..echoed()
    }
}

fn large_bodies(context: &SuiteContext) -> Vec<Call> {
    [
        ("large-bodies: POST 1 KiB", 1024),
        ("large-bodies: POST 100 KiB", 100 * 1024),
    ]
    .into_iter()
    .map(|(name, size)| Call::get(name, context.target(BODIES), echoed_body()).post(payload(size)))
    .collect()
}

fn many_hosts(context: &SuiteContext) -> Vec<Call> {
    // Path-major, so consecutive requests go to different hosts.
    let targets = resources::MANY_HOSTS_PATHS
        .iter()
        .flat_map(|path| (0..context.many_hosts).map(move |i| Target::new(resources::many_host(i), *path)))
        .collect();
    let expect = Expect {
        echoed_host: true,
        ..echoed()
    };
    let mut call = Call::get(
        format!(
            "many-hosts: {} hosts × {} paths",
            context.many_hosts,
            resources::MANY_HOSTS_PATHS.len()
        ),
        Target::new("", ""),
        expect,
    );
    call.targets = targets;
    vec![call]
}

/// A JSON order, as a shop's API would take it.
fn order() -> Body {
    let order = serde_json::json!({
        "customer": "c-1042",
        "items": [{"sku": "A-1", "quantity": 2}, {"sku": "B-7", "quantity": 1}],
        "shipping": {"method": "standard", "address": {"city": "Colombo", "country": "LK"}},
    });
    Body {
        bytes: Bytes::from(order.to_string()),
        content_type: "application/json",
    }
}

fn mixed(context: &SuiteContext) -> Vec<Call> {
    let plain = PROBES[0];
    let plain_get = Call::get(
        "mixed: plain GET -> 200",
        context.target((plain.host, plain.path)),
        Expect {
            service: plain.service.map(str::to_string),
            ..Expect::status(200)
        },
    );
    vec![
        plain_get.weight(4),
        jwt_with_token(context, "mixed: jwt GET -> 200").weight(3),
        context
            .with_token(Call::get(
                "mixed: jwt POST JSON -> 200",
                context.target(JWT),
                echoed_body(),
            ))
            .post(order())
            .weight(2),
        key_with_key(context, "mixed: api-key GET -> 200").weight(2),
        under(context, "mixed: rate-limited GET -> 200").weight(2),
        Call::get(
            "mixed: plain POST JSON -> 200",
            context.target(BODIES),
            echoed_body(),
        )
        .post(order()),
        jwt_without_token(context, "mixed: jwt no token -> 401"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> SuiteContext {
        SuiteContext {
            credentials: Credentials {
                bearer_token: Some("t0k3n".into()),
                api_key: Some("k3y".into()),
            },
            hosts: HostMap::new([("jwt.load.example".to_string(), "api.example.com".to_string())]),
            many_hosts: 4,
        }
    }

    #[test]
    fn all_selects_every_suite_once_in_order() {
        assert_eq!(selected(&[SuiteArg::All, SuiteArg::Jwt]), Suite::ALL);
        assert_eq!(
            selected(&[SuiteArg::Mixed, SuiteArg::Plain]),
            [Suite::Plain, Suite::Mixed]
        );
        let names: Vec<_> = Suite::ALL.iter().map(|s| s.name()).collect();
        for (name, arg) in names.iter().zip(SuiteArg::value_variants()) {
            assert_eq!(
                arg.to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .as_deref(),
                Some(*name)
            );
        }
    }

    #[test]
    fn protected_calls_carry_credentials_and_mapped_hosts() {
        let calls = Suite::Jwt.calls(&context());
        assert_eq!(calls[0].targets[0].host, "api.example.com");
        assert_eq!(
            calls[0].headers,
            [("authorization".to_string(), "Bearer t0k3n".to_string())]
        );
        assert!(calls[1].headers.is_empty());
        assert_eq!((calls[0].weight, calls[1].expect.status), (9, 401));
        let keys = Suite::ApiKey.calls(&context());
        assert_eq!(keys[0].headers, [("apikey".to_string(), "k3y".to_string())]);
        assert_eq!(keys.len(), 3);
    }

    #[test]
    fn many_hosts_spreads_consecutive_requests_over_hosts() {
        let calls = Suite::ManyHosts.calls(&context());
        let targets = &calls[0].targets;
        assert_eq!(targets.len(), 4 * resources::MANY_HOSTS_PATHS.len());
        assert_ne!(targets[0].host, targets[1].host);
        assert!(calls[0].expect.echoed_host);
    }

    #[test]
    fn missing_credentials_name_the_options() {
        let none = SuiteContext {
            many_hosts: 1,
            ..SuiteContext::default()
        };
        assert!(
            none.check(&[Suite::Plain, Suite::RateLimited, Suite::LargeBodies])
                .is_ok()
        );
        let error = none
            .check(&[Suite::Mixed])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("--bearer-token") && error.contains("--api-key"),
            "{error}"
        );
        assert!(context().check(&Suite::ALL).is_ok());
    }

    #[test]
    fn every_suite_builds_a_scenario() -> Result<()> {
        let observed = Arc::new(Observed::default());
        for suite in Suite::ALL {
            let scenario = suite.scenario(&context(), &observed)?;
            assert_eq!(&*scenario.name, suite.scenario_name());
            assert!(!scenario.transactions.is_empty());
        }
        Ok(())
    }
}
