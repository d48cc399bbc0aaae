//! One request a suite makes, what it expects back, and the checks on the echo backend's
//! answer. Each [`Call`] becomes one goose transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use goose::prelude::*;
use serde::Deserialize;

/// Where a request goes: its Host header and its path (and query).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The Host header.
    pub host: String,
    /// Path and query.
    pub path: String,
}

impl Target {
    /// A target from a host and a path.
    pub fn new(host: impl Into<String>, path: impl Into<String>) -> Self {
        Target {
            host: host.into(),
            path: path.into(),
        }
    }
}

/// A request body and its content type.
#[derive(Clone, Debug)]
pub struct Body {
    /// The bytes sent (shared by every request: cloning is cheap).
    pub bytes: Bytes,
    /// The Content-Type header.
    pub content_type: &'static str,
}

/// What an answer must be.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// The expected status; any other counts as a failure.
    pub status: u16,
    /// A second status that also counts as expected (the 200s before a limit is reached).
    pub also: Option<u16>,
    /// For a 2xx: the Service the echo backend must report.
    pub service: Option<String>,
    /// For a 2xx: the echo backend must have received a Content-Length equal to the body's.
    pub echoed_length: bool,
    /// For a 2xx: the echo backend must have seen the Host sent (and it is recorded).
    pub echoed_host: bool,
}

impl Expect {
    /// Expects `status` and nothing else.
    pub fn status(status: u16) -> Self {
        Expect {
            status,
            ..Expect::default()
        }
    }

    fn checks_echo(&self) -> bool {
        self.service.is_some() || self.echoed_length || self.echoed_host
    }
}

/// One request of a suite, as one goose transaction.
#[derive(Clone, Debug)]
pub struct Call {
    /// Its name in goose's metrics (reported as `<METHOD> <name>`).
    pub name: String,
    /// The method.
    pub method: GooseMethod,
    /// Where it goes; several are taken in turn, across all users.
    pub targets: Vec<Target>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Body>,
    /// What the answer must be.
    pub expect: Expect,
    /// Its weight among the scenario's transactions.
    pub weight: usize,
}

impl Call {
    /// A GET of `path` on `host` expecting `expect`, weight 1.
    pub fn get(name: impl Into<String>, target: Target, expect: Expect) -> Self {
        Call {
            name: name.into(),
            method: GooseMethod::Get,
            targets: vec![target],
            headers: Vec::new(),
            body: None,
            expect,
            weight: 1,
        }
    }

    /// The same call with a header added.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same call as a POST of `body`.
    pub fn post(mut self, body: Body) -> Self {
        self.method = GooseMethod::Post;
        self.body = Some(body);
        self
    }

    /// The same call with another weight.
    pub fn weight(mut self, weight: usize) -> Self {
        self.weight = weight;
        self
    }

    /// The key of its metrics in goose's request metrics.
    pub fn metric_key(&self) -> String {
        format!("{} {}", method_label(self.method), self.name)
    }
}

fn method_label(method: GooseMethod) -> &'static str {
    match method {
        GooseMethod::Delete => "DELETE",
        GooseMethod::Get => "GET",
        GooseMethod::Head => "HEAD",
        GooseMethod::Patch => "PATCH",
        GooseMethod::Post => "POST",
        GooseMethod::Put => "PUT",
        _ => "OTHER",
    }
}

/// What the echo backends reported during a run, beyond pass or fail.
#[derive(Debug, Default)]
pub struct Observed {
    hosts: Mutex<BTreeSet<String>>,
    lengths: Mutex<BTreeMap<usize, usize>>,
}

/// A copy of [`Observed`] once the run is over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observations {
    /// Distinct Host values the echo backends saw (calls with [`Expect::echoed_host`]).
    pub distinct_hosts: usize,
    /// Request body lengths the echo backends confirmed, with how often.
    pub echoed_lengths: BTreeMap<usize, usize>,
}

impl Observed {
    /// A copy of what was seen so far.
    pub fn snapshot(&self) -> Observations {
        Observations {
            distinct_hosts: self.hosts.lock().unwrap_or_else(PoisonError::into_inner).len(),
            echoed_lengths: self
                .lengths
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    fn host(&self, host: &str) {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        if !hosts.contains(host) {
            hosts.insert(host.to_string());
        }
    }

    fn length(&self, length: usize) {
        *self
            .lengths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(length)
            .or_insert(0) += 1;
    }
}

/// A scenario named `name` with one transaction per call.
pub fn scenario(name: &str, calls: Vec<Call>, observed: &Arc<Observed>) -> Result<Scenario, GooseError> {
    let mut scenario = Scenario::new(name);
    for call in calls {
        let weight = call.weight;
        let call = Arc::new(call);
        let cursor = Arc::new(AtomicUsize::new(0));
        let observed = observed.clone();
        let name = call.name.clone();
        let function: TransactionFunction = Arc::new(move |user| {
            let (call, cursor, observed) = (call.clone(), cursor.clone(), observed.clone());
            Box::pin(async move { send(user, &call, &cursor, &observed).await })
        });
        scenario =
            scenario.register_transaction(Transaction::new(function).set_name(&name).set_weight(weight)?);
    }
    Ok(scenario)
}

/// The part of the echo backend's answer the checks read.
#[derive(Deserialize)]
struct Echoed {
    host: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    headers: BTreeMap<String, Vec<String>>,
}

async fn send(
    user: &mut GooseUser,
    call: &Call,
    cursor: &AtomicUsize,
    observed: &Observed,
) -> TransactionResult {
    let Some(target) = call
        .targets
        .get(cursor.fetch_add(1, Ordering::Relaxed) % call.targets.len().max(1))
    else {
        return Ok(());
    };
    let mut builder = user
        .get_request_builder(&call.method, &target.path)?
        .header("host", target.host.as_str());
    for (name, value) in &call.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = &call.body {
        builder = builder
            .header("content-type", body.content_type)
            .body(body.bytes.clone());
    }
    let request = GooseRequest::builder()
        .name(call.name.as_str())
        .method(call.method)
        // Another status is recorded as a failed request; the expected one as a success.
        .expect_status_code(call.expect.status)
        .set_request_builder(builder)
        .build();
    let mut goose = user.request(request).await?;
    // A transport error is already recorded as a failure.
    let Ok(response) = goose.response else {
        return Ok(());
    };
    let status = response.status().as_u16();
    if status != call.expect.status {
        if Some(status) == call.expect.also {
            return user.set_success(&mut goose.request);
        }
        return Ok(());
    }
    if !(call.expect.checks_echo() && response.status().is_success()) {
        return Ok(());
    }
    let body = match response.text().await {
        Ok(body) => body,
        Err(error) => {
            let tag = format!("reading the body: {error}");
            return user.set_failure(&tag, &mut goose.request, None, None);
        }
    };
    match check(call, target, &body) {
        Ok(seen) => {
            if call.expect.echoed_host {
                observed.host(&seen.host);
            }
            if let Some(length) = seen.length {
                observed.length(length);
            }
            Ok(())
        }
        Err(tag) => user.set_failure(&tag, &mut goose.request, None, Some(&body)),
    }
}

/// What a passed check saw.
#[derive(Debug, PartialEq)]
struct Seen {
    host: String,
    length: Option<usize>,
}

/// Checks the echo backend's answer `body` to `call` sent to `target`; the error is the
/// failure's tag.
fn check(call: &Call, target: &Target, body: &str) -> Result<Seen, String> {
    let echoed: Echoed = serde_json::from_str(body).map_err(|e| format!("not an echo answer: {e}"))?;
    if let Some(service) = &call.expect.service
        && echoed.service != *service
    {
        return Err(format!(
            "answered by Service {}, expected {service}",
            echoed.service
        ));
    }
    // The echo reports the authority as sent; a port never is.
    if call.expect.echoed_host && echoed.host != target.host {
        return Err(format!(
            "the backend saw host {}, sent {}",
            echoed.host, target.host
        ));
    }
    let mut length = None;
    if call.expect.echoed_length {
        let sent = call.body.as_ref().map_or(0, |b| b.bytes.len());
        let received = echoed
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, values)| values.first())
            .and_then(|v| v.parse::<usize>().ok());
        if received != Some(sent) {
            return Err(format!(
                "the backend received Content-Length {received:?}, sent {sent} bytes"
            ));
        }
        length = Some(sent);
    }
    Ok(Seen {
        host: echoed.host,
        length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(host: &str, service: &str, length: Option<usize>) -> String {
        let headers = match length {
            Some(n) => serde_json::json!({"Content-Length": [n.to_string()]}),
            None => serde_json::json!({}),
        };
        serde_json::json!({"path": "/", "host": host, "method": "POST", "service": service, "headers": headers})
            .to_string()
    }

    fn upload(bytes: usize) -> Call {
        let mut expect = Expect::status(200);
        expect.echoed_length = true;
        expect.echoed_host = true;
        expect.service = Some("echo".into());
        Call::get("upload", Target::new("b.example", "/u"), expect).post(Body {
            bytes: Bytes::from(vec![b'x'; bytes]),
            content_type: "application/octet-stream",
        })
    }

    #[test]
    fn an_echo_of_the_right_length_host_and_service_passes() {
        let call = upload(1024);
        let seen = check(&call, &call.targets[0], &echo("b.example", "echo", Some(1024)));
        assert_eq!(
            seen,
            Ok(Seen {
                host: "b.example".into(),
                length: Some(1024)
            })
        );
        assert_eq!(call.metric_key(), "POST upload");
    }

    #[test]
    fn a_wrong_length_host_or_service_fails_with_a_reason() {
        let call = upload(1024);
        let target = &call.targets[0];
        let wrong = |body: String| check(&call, target, &body).err().unwrap_or_default();
        assert!(wrong(echo("b.example", "echo", Some(1000))).contains("Content-Length Some(1000)"));
        assert!(wrong(echo("b.example", "echo", None)).contains("Content-Length None"));
        assert!(wrong(echo("c.example", "echo", Some(1024))).contains("saw host c.example"));
        assert!(wrong(echo("b.example", "cart", Some(1024))).contains("Service cart"));
        assert!(wrong("<html>".into()).contains("not an echo answer"));
    }

    #[test]
    fn observations_count_distinct_hosts_and_lengths() {
        let observed = Observed::default();
        for host in ["a", "b", "a"] {
            observed.host(host);
        }
        observed.length(10);
        observed.length(10);
        let seen = observed.snapshot();
        assert_eq!(seen.distinct_hosts, 2);
        assert_eq!(seen.echoed_lengths, BTreeMap::from([(10, 2)]));
    }
}
