//! Steps for gRPC: unary calls to the echo backend's service through a gateway, the status
//! code and what the backend saw, and GRPCRoute statuses.

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use cucumber::gherkin::Step;
use cucumber::{then, when};
use futures::StreamExt;
use portcullis_echo::grpc::{GrpcAnswer, GrpcCall, call};

use crate::request::{MAX_TIME_TO_CONSISTENCY, REQUIRED_CONSECUTIVE};
use crate::steps::parent_condition;
use crate::world::GatewayWorld;

type StepResult = anyhow::Result<()>;

const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What must stay the same across answers for them to count as settled: the code and who
/// answered.
fn signature(answer: &GrpcAnswer) -> (i32, Option<String>) {
    (
        answer.code,
        answer
            .response
            .as_ref()
            .and_then(|r| r.context())
            .map(|c| c.service_name.clone()),
    )
}

/// Calls until [`REQUIRED_CONSECUTIVE`] answers in a row agree, as HTTP requests do.
async fn call_until_consistent(request: &GrpcCall) -> anyhow::Result<GrpcAnswer> {
    let started = Instant::now();
    let mut streak: Vec<GrpcAnswer> = Vec::new();
    let mut last_error = None;
    loop {
        match call(request).await {
            Ok(answer) => {
                if streak
                    .last()
                    .is_some_and(|prev| signature(prev) != signature(&answer))
                {
                    streak.clear();
                }
                streak.push(answer);
                if streak.len() >= REQUIRED_CONSECUTIVE {
                    return streak.pop().context("streak is non-empty");
                }
            }
            Err(error) => {
                streak.clear();
                last_error = Some(error);
            }
        }
        if started.elapsed() > MAX_TIME_TO_CONSISTENCY {
            match last_error {
                Some(error) => {
                    bail!("no consistent gRPC answer within {MAX_TIME_TO_CONSISTENCY:?}: {error:#}")
                }
                None => bail!("gRPC answers did not settle within {MAX_TIME_TO_CONSISTENCY:?}"),
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn grpc_call(
    world: &GatewayWorld,
    method: &str,
    service: &str,
    host: &str,
    gateway: &str,
) -> anyhow::Result<GrpcCall> {
    let address = world.driver()?.gateway_address(gateway, 80).await?;
    Ok(GrpcCall {
        address,
        authority: host.to_string(),
        service: service.to_string(),
        method: method.to_string(),
        metadata: Vec::new(),
    })
}

fn metadata_table(step: &Step) -> anyhow::Result<Vec<(String, String)>> {
    crate::steps::name_value_table(step, "metadata")
}

#[when(expr = "I call gRPC method {string} of service {string} on host {string} through gateway {string}")]
async fn send(
    world: &mut GatewayWorld,
    method: String,
    service: String,
    host: String,
    gateway: String,
) -> StepResult {
    let request = grpc_call(world, &method, &service, &host, &gateway).await?;
    world.grpc = Some(call_until_consistent(&request).await?);
    Ok(())
}

#[when(
    expr = "I call gRPC method {string} of service {string} on host {string} through gateway {string} with metadata:"
)]
async fn send_with_metadata(
    world: &mut GatewayWorld,
    method: String,
    service: String,
    host: String,
    gateway: String,
    step: &Step,
) -> StepResult {
    let mut request = grpc_call(world, &method, &service, &host, &gateway).await?;
    request.metadata = metadata_table(step)?;
    world.grpc = Some(call_until_consistent(&request).await?);
    Ok(())
}

#[when(
    expr = "I make {int} gRPC calls to method {string} of service {string} on host {string} through gateway {string}"
)]
async fn send_batch(
    world: &mut GatewayWorld,
    count: usize,
    method: String,
    service: String,
    host: String,
    gateway: String,
) -> StepResult {
    let request = grpc_call(world, &method, &service, &host, &gateway).await?;
    // Settle first, so the batch measures the configuration, not its rollout.
    world.grpc = Some(call_until_consistent(&request).await?);
    let answers: Vec<_> = futures::stream::iter(0..count)
        .map(|_| call(&request))
        .buffer_unordered(10)
        .collect()
        .await;
    world.grpc_batch = answers.into_iter().collect::<Result<_, _>>()?;
    Ok(())
}

fn last(world: &GatewayWorld) -> anyhow::Result<&GrpcAnswer> {
    world
        .grpc
        .as_ref()
        .context("no gRPC call has been made in this scenario")
}

fn echo(world: &GatewayWorld) -> anyhow::Result<&portcullis_echo::grpc::EchoResponse> {
    let answer = last(world)?;
    answer.response.as_ref().with_context(|| {
        format!(
            "the call ended with {} ({}), not an echo",
            answer.code_name(),
            answer.message
        )
    })
}

#[then(expr = "the gRPC status is {string}")]
async fn status(world: &mut GatewayWorld, expected: String) -> StepResult {
    let answer = last(world)?;
    ensure!(
        answer.code_name() == expected,
        "expected gRPC status {expected}, got {} ({})",
        answer.code_name(),
        answer.message
    );
    Ok(())
}

#[then(expr = "the gRPC call reached backend {string} in namespace {string}")]
async fn reached_backend(world: &mut GatewayWorld, backend: String, namespace: String) -> StepResult {
    let context = echo(world)?
        .context()
        .context("the backend did not say who it is")?;
    ensure!(
        context.pod.starts_with(&backend),
        "expected backend {backend}, the answer came from pod {}",
        context.pod
    );
    ensure!(
        context.namespace == namespace,
        "expected namespace {namespace}, got {}",
        context.namespace
    );
    Ok(())
}

#[then(expr = "the gRPC backend saw method {string}")]
async fn saw_method(world: &mut GatewayWorld, method: String) -> StepResult {
    let seen = echo(world)?
        .assertions
        .as_ref()
        .map(|a| a.fully_qualified_method.clone())
        .unwrap_or_default();
    ensure!(
        seen == method,
        "expected the backend to see {method}, it saw {seen}"
    );
    Ok(())
}

#[then(expr = "the gRPC backend saw authority {string}")]
async fn saw_authority(world: &mut GatewayWorld, authority: String) -> StepResult {
    let seen = echo(world)?
        .assertions
        .as_ref()
        .map(|a| a.authority.clone())
        .unwrap_or_default();
    ensure!(
        seen == authority,
        "expected the backend to see authority {authority}, it saw {seen}"
    );
    Ok(())
}

#[then(expr = "the gRPC backend saw metadata {string} with value {string}")]
async fn saw_metadata(world: &mut GatewayWorld, name: String, value: String) -> StepResult {
    let seen = echo(world)?.header(&name);
    ensure!(
        seen.as_deref() == Some(value.as_str()),
        "expected metadata {name}: {value}, the backend saw {seen:?}"
    );
    Ok(())
}

#[then(expr = "the gRPC backend did not see metadata {string}")]
async fn no_metadata(world: &mut GatewayWorld, name: String) -> StepResult {
    let seen = echo(world)?.header(&name);
    ensure!(
        seen.is_none(),
        "expected no metadata {name}, the backend saw {seen:?}"
    );
    Ok(())
}

#[then(expr = "the gRPC response metadata {string} is {string}")]
async fn response_metadata(world: &mut GatewayWorld, name: String, value: String) -> StepResult {
    let answer = last(world)?;
    let seen: Vec<&str> = answer
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(&name))
        .map(|(_, v)| v.as_str())
        .collect();
    ensure!(
        seen == [value.as_str()],
        "expected response metadata {name}: {value}, got {seen:?}"
    );
    Ok(())
}

#[then(expr = "the gRPC calls were split between backends in namespace {string}:")]
async fn split(world: &mut GatewayWorld, namespace: String, step: &Step) -> StepResult {
    ensure!(!world.grpc_batch.is_empty(), "no batch of gRPC calls was made");
    let served: Vec<(&str, &str)> = world
        .grpc_batch
        .iter()
        .filter_map(|a| a.response.as_ref().and_then(|r| r.context()))
        .map(|c| (c.pod.as_str(), c.namespace.as_str()))
        .collect();
    crate::steps::check_split(step, &namespace, world.grpc_batch.len(), &served, "calls")
}

#[then(expr = "some of the gRPC calls ended with status {string}")]
async fn some_status(world: &mut GatewayWorld, expected: String) -> StepResult {
    ensure!(!world.grpc_batch.is_empty(), "no batch of gRPC calls was made");
    ensure!(
        world.grpc_batch.iter().any(|a| a.code_name() == expected),
        "none of {} calls ended with {expected}",
        world.grpc_batch.len()
    );
    Ok(())
}

#[then(expr = "some of the gRPC calls reached backend {string} in namespace {string}")]
async fn some_backend(world: &mut GatewayWorld, backend: String, namespace: String) -> StepResult {
    ensure!(!world.grpc_batch.is_empty(), "no batch of gRPC calls was made");
    let reached = world
        .grpc_batch
        .iter()
        .filter_map(|a| a.response.as_ref().and_then(|r| r.context()))
        .any(|c| c.pod.starts_with(backend.as_str()) && c.namespace == namespace);
    ensure!(
        reached,
        "none of {} calls reached backend {backend}",
        world.grpc_batch.len()
    );
    Ok(())
}

#[then(
    expr = "the GRPCRoute {string} has condition {string} {string} with reason {string} for gateway {string}"
)]
async fn route_condition(
    world: &mut GatewayWorld,
    route: String,
    type_: String,
    status: String,
    reason: String,
    gateway: String,
) -> StepResult {
    let expected = (type_.as_str(), status.as_str(), reason.as_str());
    parent_condition(world, "GRPCRoute", &route, &gateway, expected).await
}
