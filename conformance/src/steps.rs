//! Step definitions. Requests retry until answers settle; status checks poll until they hold.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::Value;

use crate::request::{self, RequestSpec, send_many, send_until_consistent};
use crate::world::GatewayWorld;

const STATUS_TIMEOUT: Duration = Duration::from_secs(30);

type StepResult = anyhow::Result<()>;

async fn apply_file(world: &mut GatewayWorld, file: &str) -> StepResult {
    let path = world.features_dir()?.join("manifests").join(file);
    let yaml = tokio::fs::read_to_string(&path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    let yaml = crate::apk_steps::substitute(world, &yaml);
    world.driver()?.apply(file, &yaml).await?;
    if !world.applied.iter().any(|n| n == file) {
        world.applied.push(file.to_string());
    }
    Ok(())
}

#[given("the base manifests are applied")]
async fn base_applied(world: &mut GatewayWorld) -> StepResult {
    // The runner applies the base once before any scenario; this step states the dependency.
    let _ = world.driver()?;
    Ok(())
}

#[given(expr = "the manifests {string} are applied")]
#[when(expr = "the manifests {string} are applied")]
async fn manifests_applied(world: &mut GatewayWorld, file: String) -> StepResult {
    apply_file(world, &file).await
}

#[given("the following manifests are applied:")]
async fn inline_manifests(world: &mut GatewayWorld, step: &Step) -> StepResult {
    let yaml = step
        .docstring
        .as_deref()
        .context("the step needs a \"\"\" docstring with YAML")?;
    let name = format!("inline-{}-{}", std::process::id(), world.applied.len());
    let yaml = crate::apk_steps::substitute(world, yaml);
    world.driver()?.apply(&name, &yaml).await?;
    world.applied.push(name);
    Ok(())
}

/// Applies a new version of what an earlier file applied, as `kubectl apply` of an edited file
/// would: same objects, updated in place (on a cluster, their generation goes up).
#[when(expr = "the manifests {string} are applied in place of {string}")]
async fn manifests_replace(world: &mut GatewayWorld, file: String, previous: String) -> StepResult {
    let path = world.features_dir()?.join("manifests").join(&file);
    let yaml = tokio::fs::read_to_string(&path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    world.driver()?.apply(&previous, &yaml).await?;
    if !world.applied.iter().any(|n| n == &previous) {
        world.applied.push(previous);
    }
    Ok(())
}

#[when(expr = "the manifest file {string} is deleted")]
async fn manifest_deleted(world: &mut GatewayWorld, file: String) -> StepResult {
    world.driver()?.delete(&file).await?;
    world.applied.retain(|n| n != &file);
    Ok(())
}

async fn spec(
    world: &GatewayWorld,
    method: &str,
    path: &str,
    host: &str,
    gateway: &str,
    port: i32,
    https: bool,
) -> anyhow::Result<RequestSpec> {
    let address = world.driver()?.gateway_address(gateway, port).await?;
    Ok(RequestSpec {
        method: method.to_string(),
        path: path.to_string(),
        host: host.to_string(),
        headers: Vec::new(),
        https,
        address,
        body: None,
    })
}

#[when(expr = "I send a {string} request for {string} to host {string} through gateway {string}")]
async fn send(
    world: &mut GatewayWorld,
    method: String,
    path: String,
    host: String,
    gateway: String,
) -> StepResult {
    let spec = spec(world, &method, &path, &host, &gateway, 80, false).await?;
    world.last = Some(send_until_consistent(&spec).await?);
    Ok(())
}

#[when(
    expr = "I send a {string} request for {string} to host {string} through gateway {string} on port {int} over HTTPS"
)]
async fn send_https(
    world: &mut GatewayWorld,
    method: String,
    path: String,
    host: String,
    gateway: String,
    port: i32,
) -> StepResult {
    let spec = spec(world, &method, &path, &host, &gateway, port, true).await?;
    world.last = Some(send_until_consistent(&spec).await?);
    Ok(())
}

#[when(
    expr = "I send a {string} request for {string} to host {string} through gateway {string} with headers:"
)]
async fn send_with_headers(
    world: &mut GatewayWorld,
    method: String,
    path: String,
    host: String,
    gateway: String,
    step: &Step,
) -> StepResult {
    let mut spec = spec(world, &method, &path, &host, &gateway, 80, false).await?;
    spec.headers = header_table(step)?;
    world.last = Some(send_until_consistent(&spec).await?);
    Ok(())
}

/// One request, no retries: for answers that are meant to change from one request to the
/// next, like rate limits. The gateway has programmed the scenario's resources already.
#[when(expr = "I send a single {string} request for {string} to host {string} through gateway {string}")]
async fn send_single(
    world: &mut GatewayWorld,
    method: String,
    path: String,
    host: String,
    gateway: String,
) -> StepResult {
    let spec = spec(world, &method, &path, &host, &gateway, 80, false).await?;
    world.last = Some(request::send_single(&spec).await?);
    Ok(())
}

#[when(
    expr = "I send a single {string} request for {string} to host {string} through gateway {string} with headers:"
)]
async fn send_single_with_headers(
    world: &mut GatewayWorld,
    method: String,
    path: String,
    host: String,
    gateway: String,
    step: &Step,
) -> StepResult {
    let mut spec = spec(world, &method, &path, &host, &gateway, 80, false).await?;
    spec.headers = header_table(step)?;
    world.last = Some(request::send_single(&spec).await?);
    Ok(())
}

fn header_table(step: &Step) -> anyhow::Result<Vec<(String, String)>> {
    name_value_table(step, "header")
}

/// The rows of a step's `| name | value |` table (headers, gRPC metadata), header row skipped.
pub(crate) fn name_value_table(step: &Step, what: &str) -> anyhow::Result<Vec<(String, String)>> {
    let table = step
        .table
        .as_ref()
        .context("the step needs a | name | value | table")?;
    let mut out = Vec::new();
    for row in table.rows.iter().skip(1) {
        ensure!(row.len() == 2, "{what} rows need a name and a value: {row:?}");
        out.push((row[0].clone(), row[1].clone()));
    }
    Ok(out)
}

/// Fixed windows restart on the clock's boundaries; a scenario that counts requests waits for a
/// fresh window when the current one is about to end.
#[given(expr = "the current rate-limit window has at least {int} seconds left")]
async fn window_left(_world: &mut GatewayWorld, seconds: u64) -> StepResult {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let into_minute = now.as_secs() % 60;
    if 60 - into_minute < seconds {
        let wait =
            Duration::from_secs(60 - into_minute) - Duration::from_nanos(u64::from(now.subsec_nanos()));
        tokio::time::sleep(wait + Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Sleeps into the next one-second window (windows align to the epoch, as the limiter's do).
#[when("the next one-second rate-limit window starts")]
async fn next_second(_world: &mut GatewayWorld) -> StepResult {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let left = Duration::from_secs(1) - Duration::from_nanos(u64::from(now.subsec_nanos()));
    tokio::time::sleep(left + Duration::from_millis(20)).await;
    Ok(())
}

#[when(expr = "I send {int} {string} requests for {string} to host {string} through gateway {string}")]
async fn send_batch(
    world: &mut GatewayWorld,
    count: usize,
    method: String,
    path: String,
    host: String,
    gateway: String,
) -> StepResult {
    let spec = spec(world, &method, &path, &host, &gateway, 80, false).await?;
    // Settle first, so the batch measures the configuration, not its rollout.
    world.last = Some(send_until_consistent(&spec).await?);
    world.batch = send_many(&spec, count).await?;
    Ok(())
}

#[then(expr = "the response status is {int}")]
#[then(expr = "the response status code should be {int}")]
async fn response_status(world: &mut GatewayWorld, status: u16) -> StepResult {
    let last = world.last()?;
    ensure!(
        last.status == status,
        "expected status {status}, got {} (echo: {:?})",
        last.status,
        last.echo
    );
    Ok(())
}

#[then(expr = "the request reached backend {string} in namespace {string}")]
async fn reached_backend(world: &mut GatewayWorld, backend: String, namespace: String) -> StepResult {
    let echo = world
        .last()?
        .echo
        .as_ref()
        .context("the answer did not come from an echo backend")?;
    ensure!(
        echo.pod.starts_with(&backend),
        "expected backend {backend}, the answer came from pod {}",
        echo.pod
    );
    ensure!(
        echo.namespace == namespace,
        "expected namespace {namespace}, got {}",
        echo.namespace
    );
    Ok(())
}

#[then(expr = "the backend saw path {string}")]
async fn backend_path(world: &mut GatewayWorld, path: String) -> StepResult {
    let echo = world.last()?.echo.as_ref().context("no echo body")?;
    ensure!(
        echo.path == path,
        "expected the backend to see path {path}, it saw {}",
        echo.path
    );
    Ok(())
}

#[then(expr = "the backend saw host {string}")]
async fn backend_host(world: &mut GatewayWorld, host: String) -> StepResult {
    let echo = world.last()?.echo.as_ref().context("no echo body")?;
    ensure!(
        echo.host == host,
        "expected the backend to see host {host}, it saw {}",
        echo.host
    );
    Ok(())
}

#[then(expr = "the backend saw header {string} with value {string}")]
async fn backend_header(world: &mut GatewayWorld, name: String, value: String) -> StepResult {
    let echo = world.last()?.echo.as_ref().context("no echo body")?;
    let seen = echo.header(&name);
    ensure!(
        seen.as_deref() == Some(value.as_str()),
        "expected header {name}: {value}, the backend saw {seen:?}"
    );
    Ok(())
}

#[then(expr = "the backend did not see header {string}")]
async fn backend_no_header(world: &mut GatewayWorld, name: String) -> StepResult {
    let echo = world.last()?.echo.as_ref().context("no echo body")?;
    let seen = echo.header(&name);
    ensure!(
        seen.is_none(),
        "expected no header {name}, the backend saw {seen:?}"
    );
    Ok(())
}

#[then(expr = "the response header {string} is {string}")]
async fn response_header(world: &mut GatewayWorld, name: String, value: String) -> StepResult {
    let seen = world.last()?.headers.get(&name.to_ascii_lowercase());
    ensure!(
        seen == Some(&value),
        "expected response header {name}: {value}, got {seen:?}"
    );
    Ok(())
}

#[then(expr = "the response body field {string} is {string}")]
async fn body_field(world: &mut GatewayWorld, field: String, value: String) -> StepResult {
    let last = world.last()?;
    let body = last.body.as_ref().context("the response had no JSON body")?;
    let seen = body.get(&field).and_then(|v| v.as_str());
    ensure!(
        seen == Some(value.as_str()),
        "expected body field {field} = {value}, got {seen:?} in {body}"
    );
    Ok(())
}

#[then(expr = "the response has header {string}")]
async fn response_has_header(world: &mut GatewayWorld, name: String) -> StepResult {
    let last = world.last()?;
    ensure!(
        last.headers.contains_key(&name.to_ascii_lowercase()),
        "no response header {name}: {:?}",
        last.headers
    );
    Ok(())
}

#[then(expr = "the response does not have header {string}")]
async fn response_lacks_header(world: &mut GatewayWorld, name: String) -> StepResult {
    let last = world.last()?;
    let seen = last.headers.get(&name.to_ascii_lowercase());
    ensure!(seen.is_none(), "unexpected response header {name}: {seen:?}");
    Ok(())
}

#[then(expr = "the RateLimitPolicy {string} has condition {string} {string} with reason {string}")]
async fn policy_condition(
    world: &mut GatewayWorld,
    policy: String,
    type_: String,
    status: String,
    reason: String,
) -> StepResult {
    eventually(world, "RateLimitPolicy", &policy, |s| {
        has_condition(&s.context("no status")?["conditions"], &type_, &status, &reason)
    })
    .await
}

#[then(expr = "the TokenIssuer {string} has condition {string} {string} with reason {string}")]
async fn issuer_condition(
    world: &mut GatewayWorld,
    issuer: String,
    type_: String,
    status: String,
    reason: String,
) -> StepResult {
    eventually(world, "TokenIssuer", &issuer, |s| {
        has_condition(&s.context("no status")?["conditions"], &type_, &status, &reason)
    })
    .await
}

#[then(expr = "the requests were split between backends in namespace {string}:")]
async fn split(world: &mut GatewayWorld, namespace: String, step: &Step) -> StepResult {
    ensure!(!world.batch.is_empty(), "no batch of requests was sent");
    let served: Vec<(&str, &str)> = world
        .batch
        .iter()
        .filter_map(|e| e.echo.as_ref())
        .map(|echo| (echo.pod.as_str(), echo.namespace.as_str()))
        .collect();
    check_split(step, &namespace, world.batch.len(), &served, "requests")
}

/// Checks the step's `| backend | percent |` table against a batch of `total` requests, of
/// which `served` are those a backend answered, as its (pod, namespace); a backend's pods are
/// named after it.
pub(crate) fn check_split(
    step: &Step,
    namespace: &str,
    total: usize,
    served: &[(&str, &str)],
    what: &str,
) -> StepResult {
    let table = step
        .table
        .as_ref()
        .context("the step needs a | backend | percent | table")?;
    for row in table.rows.iter().skip(1) {
        let backend = &row[0];
        let percent: f64 = row[1].parse().with_context(|| format!("percent {:?}", row[1]))?;
        let hits = served
            .iter()
            .filter(|(pod, ns)| pod.starts_with(backend.as_str()) && *ns == namespace)
            .count();
        check_share(backend, hits, total, percent, what)?;
    }
    Ok(())
}

/// Checks that `hits` of `total` requests is the share a backend of weight `percent` should get.
///
/// Weighted picks are random, so the band is five binomial standard deviations (a false failure
/// about once in two million checks); weights of 0 and 100 must hold exactly.
pub(crate) fn check_share(backend: &str, hits: usize, total: usize, percent: f64, what: &str) -> StepResult {
    let share = 100.0 * hits as f64 / total as f64;
    let p = percent / 100.0;
    let tolerance = 500.0 * (p * (1.0 - p) / total as f64).sqrt();
    ensure!(
        (share - percent).abs() <= tolerance,
        "backend {backend} got {share:.1}% of {total} {what}, expected {percent}% ± {tolerance:.1}"
    );
    Ok(())
}

/// Polls an object's status until `check` passes or the time runs out.
pub(crate) async fn eventually<F>(world: &GatewayWorld, kind: &str, key: &str, check: F) -> StepResult
where
    F: Fn(Option<&Value>) -> anyhow::Result<()>,
{
    let driver = world.driver()?;
    let started = Instant::now();
    loop {
        let status = driver.status(kind, key).await?;
        match check(status.as_ref()) {
            Ok(()) => return Ok(()),
            Err(error) if started.elapsed() > STATUS_TIMEOUT => {
                bail!(
                    "{kind} {key}: {error:#}\nstatus: {}",
                    serde_json::to_string_pretty(&status).unwrap_or_default()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("default", key))
}

/// The status of a route for one parent Gateway (`namespace/name`).
pub(crate) fn route_parent<'a>(status: Option<&'a Value>, gateway: &str) -> anyhow::Result<&'a Value> {
    let (ns, name) = split_key(gateway);
    status
        .and_then(|s| s["parents"].as_array())
        .and_then(|parents| {
            parents.iter().find(|p| {
                p["parentRef"]["name"] == name && p["parentRef"]["namespace"].as_str().is_none_or(|n| n == ns)
            })
        })
        .with_context(|| format!("no status for parent gateway {gateway}"))
}

/// Whether a condition list has a condition of this type, status and reason.
pub(crate) fn has_condition(
    conditions: &Value,
    type_: &str,
    status: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let list = conditions.as_array().context("no conditions")?;
    let found = list
        .iter()
        .find(|c| c["type"] == type_)
        .with_context(|| format!("no {type_} condition"))?;
    ensure!(
        found["status"] == status && found["reason"] == reason,
        "{type_} is {} with reason {} ({}), expected {status} with reason {reason}",
        found["status"],
        found["reason"],
        found["message"]
    );
    Ok(())
}

#[then(expr = "the route {string} has condition {string} {string} with reason {string} for gateway {string}")]
async fn route_condition(
    world: &mut GatewayWorld,
    route: String,
    type_: String,
    status: String,
    reason: String,
    gateway: String,
) -> StepResult {
    let expected = (type_.as_str(), status.as_str(), reason.as_str());
    parent_condition(world, "HTTPRoute", &route, &gateway, expected).await
}

/// Waits until a route's status for one parent Gateway has a condition `(type, status, reason)`.
pub(crate) async fn parent_condition(
    world: &GatewayWorld,
    kind: &str,
    route: &str,
    gateway: &str,
    (type_, status, reason): (&str, &str, &str),
) -> StepResult {
    eventually(world, kind, route, |s| {
        has_condition(&route_parent(s, gateway)?["conditions"], type_, status, reason)
    })
    .await
}

#[then(expr = "the route {string} has no status for gateway {string}")]
async fn route_no_status(world: &mut GatewayWorld, route: String, gateway: String) -> StepResult {
    eventually(world, "HTTPRoute", &route, |s| match route_parent(s, &gateway) {
        Ok(parent) => bail!("unexpected status for gateway {gateway}: {parent}"),
        Err(_) => Ok(()),
    })
    .await
}

#[then(expr = "the route {string} has observed generation {int} for gateway {string}")]
async fn route_generation(
    world: &mut GatewayWorld,
    route: String,
    generation: i64,
    gateway: String,
) -> StepResult {
    eventually(world, "HTTPRoute", &route, |s| {
        let parent = route_parent(s, &gateway)?;
        let conditions = parent["conditions"].as_array().context("no conditions")?;
        ensure!(!conditions.is_empty(), "no conditions");
        for c in conditions {
            ensure!(
                c["observedGeneration"] == generation,
                "condition {} has observedGeneration {}",
                c["type"],
                c["observedGeneration"]
            );
        }
        Ok(())
    })
    .await
}

#[then(expr = "the gateway {string} has condition {string} {string} with reason {string}")]
async fn gateway_condition(
    world: &mut GatewayWorld,
    gateway: String,
    type_: String,
    status: String,
    reason: String,
) -> StepResult {
    eventually(world, "Gateway", &gateway, |s| {
        has_condition(&s.context("no status")?["conditions"], &type_, &status, &reason)
    })
    .await
}

fn listener<'a>(status: Option<&'a Value>, name: &str) -> anyhow::Result<&'a Value> {
    status
        .and_then(|s| s["listeners"].as_array())
        .and_then(|ls| ls.iter().find(|l| l["name"] == name))
        .with_context(|| format!("no status for listener {name}"))
}

#[then(
    expr = "the listener {string} of gateway {string} has condition {string} {string} with reason {string}"
)]
async fn listener_condition(
    world: &mut GatewayWorld,
    name: String,
    gateway: String,
    type_: String,
    status: String,
    reason: String,
) -> StepResult {
    eventually(world, "Gateway", &gateway, |s| {
        has_condition(&listener(s, &name)?["conditions"], &type_, &status, &reason)
    })
    .await
}

#[then(expr = "the listener {string} of gateway {string} has {int} attached routes")]
async fn listener_attached(
    world: &mut GatewayWorld,
    name: String,
    gateway: String,
    count: i64,
) -> StepResult {
    eventually(world, "Gateway", &gateway, |s| {
        let attached = &listener(s, &name)?["attachedRoutes"];
        ensure!(
            attached == count,
            "attachedRoutes is {attached}, expected {count}"
        );
        Ok(())
    })
    .await
}

/// As upstream checks `supportedKinds`: every kind listed must be supported (more may be), and
/// an empty list means none.
#[then(expr = "the listener {string} of gateway {string} supports kinds {string}")]
async fn listener_kinds(
    world: &mut GatewayWorld,
    name: String,
    gateway: String,
    kinds: String,
) -> StepResult {
    let mut expected: Vec<&str> = kinds
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    expected.sort();
    eventually(world, "Gateway", &gateway, |s| {
        let mut got: Vec<&str> = listener(s, &name)?["supportedKinds"]
            .as_array()
            .map(|a| a.iter().filter_map(|k| k["kind"].as_str()).collect())
            .unwrap_or_default();
        got.sort();
        let covered = if expected.is_empty() {
            got.is_empty()
        } else {
            expected.iter().all(|k| got.contains(k))
        };
        ensure!(covered, "supportedKinds is {got:?}, expected {expected:?}");
        Ok(())
    })
    .await
}
