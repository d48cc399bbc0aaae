//! The limiter alone: an in-memory [`Limiter`] served over gRPC on loopback, asked by
//! concurrent tonic clients the same question Envoy asks for the limited route.
//!
//! The server runs on a tokio runtime of its own (`server_threads` workers), so the CPU time it
//! spends can be told apart from the clients' (read from `/proc/self/task/*/schedstat`).

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_client::RateLimitServiceClient;
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use portcullis_limiter::{Limiter, LimiterConfig, StatsSnapshot, serve_with_shutdown};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint};

use super::cpu::{self, CpuUse};
use super::http::REQUEST_TIMEOUT;
use super::tally::{Tally, Window};

/// The request Envoy sends for a route limited by the first top-level descriptor of `config`
/// that has both a value and a limit (an APK API limit: `generic_key` `api` = `ns/name`).
pub fn request_for(config: &LimiterConfig) -> Option<RateLimitRequest> {
    config.domains.iter().find_map(|(domain, tree)| {
        tree.descriptors.iter().find_map(|descriptor| {
            let value = descriptor.value.as_ref()?;
            descriptor.rate_limit.as_ref()?;
            Some(RateLimitRequest {
                domain: domain.clone(),
                descriptors: vec![RateLimitDescriptor {
                    entries: vec![Entry {
                        key: descriptor.key.clone(),
                        value: value.clone(),
                    }],
                    ..Default::default()
                }],
                hits_addend: 0,
            })
        })
    })
}

/// What the limiter-alone run measured, and what the limiter counted meanwhile.
#[derive(Debug)]
pub struct LimiterRun {
    /// The answers.
    pub tally: Tally,
    /// The limiter's counters after the run (it starts fresh).
    pub stats: StatsSnapshot,
    /// CPU time the server's threads spent during the measured window, where the OS tells.
    pub server_cpu: Option<Duration>,
    /// Where the machine's CPU went during the measured window.
    pub cpu: Option<CpuUse>,
}

/// Serves a fresh in-memory limiter with `config` on a loopback port, on `server_threads`
/// threads of its own, and has `tasks` clients, spread over `connections` HTTP/2 connections,
/// ask it `request` back to back through `warmup` and then `measure`.
pub async fn limiter_alone(
    config: LimiterConfig,
    request: RateLimitRequest,
    clients: Clients,
    warmup: Duration,
    measure: Duration,
) -> Result<LimiterRun> {
    let limiter = Arc::new(Limiter::in_memory());
    let errors = limiter.update_config(config);
    if !errors.is_empty() {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        bail!("the limiter refused the config: {}", errors.join("; "));
    }
    let listener =
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding the rate-limit service")?;
    listener
        .set_nonblocking(true)
        .context("making the rate-limit service's socket non-blocking")?;
    let address = listener.local_addr().context("rate-limit service address")?;
    let (runtime, threads) = server_runtime(clients.server_threads)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let served = limiter.clone();
    let server = runtime.spawn(async move {
        // Registered with the server runtime's reactor, not the clients'.
        let listener = TcpListener::from_std(listener)?;
        serve_with_shutdown(listener, served, async {
            let _ = stopped.await;
        })
        .await
        .map_err(std::io::Error::other)
    });

    let cpu = move || server_cpu(&threads);
    let result = drive(
        &format!("http://{address}"),
        request,
        clients,
        warmup,
        measure,
        cpu,
    )
    .await;

    let _ = stop.send(());
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(error))) => tracing::warn!("the rate-limit service stopped with an error: {error}"),
        Ok(Err(error)) => tracing::warn!("the rate-limit service task failed: {error}"),
        Err(_) => tracing::warn!("the rate-limit service did not stop within 5 s"),
    }
    // Dropping a runtime blocks, which async code must not.
    runtime.shutdown_background();
    let (tally, server_cpu, cpu) = result?;
    Ok(LimiterRun {
        tally,
        stats: limiter.stats().snapshot(),
        server_cpu,
        cpu,
    })
}

/// How the limiter alone is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clients {
    /// Concurrent clients, each one request at a time.
    pub tasks: usize,
    /// HTTP/2 connections they share, round robin.
    pub connections: usize,
    /// Worker threads of the server's runtime.
    pub server_threads: usize,
}

/// A multi-thread runtime for the server, and the Linux thread ids of its threads.
fn server_runtime(threads: usize) -> Result<(Runtime, Arc<Mutex<Vec<u32>>>)> {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let recorder = ids.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("limiter-server")
        .on_thread_start(move || {
            if let (Some(id), Ok(mut ids)) = (this_thread_id(), recorder.lock()) {
                ids.push(id);
            }
        })
        .enable_all()
        .build()
        .context("building the rate-limit service's runtime")?;
    Ok((runtime, ids))
}

/// The Linux thread id of the calling thread.
fn this_thread_id() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU time of `threads` (of this process) so far, from the scheduler's statistics.
fn server_cpu(threads: &Mutex<Vec<u32>>) -> Option<Duration> {
    let ids = threads.lock().ok()?.clone();
    if ids.is_empty() {
        return None;
    }
    let mut total = 0u64;
    for id in ids {
        let text = std::fs::read_to_string(format!("/proc/self/task/{id}/schedstat")).ok()?;
        total += schedstat_ns(&text)?;
    }
    Some(Duration::from_nanos(total))
}

/// The first field of a `schedstat` line: nanoseconds spent on a CPU.
fn schedstat_ns(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

async fn drive(
    url: &str,
    request: RateLimitRequest,
    clients: Clients,
    warmup: Duration,
    measure: Duration,
    cpu: impl Fn() -> Option<Duration> + Send + 'static,
) -> Result<(Tally, Option<Duration>, Option<CpuUse>)> {
    let Clients {
        tasks, connections, ..
    } = clients;
    let endpoint = Endpoint::from_shared(url.to_string())
        .context("the rate-limit service URL")?
        .tcp_nodelay(true)
        .connect_timeout(REQUEST_TIMEOUT);
    let mut channels = Vec::with_capacity(connections.max(1));
    for _ in 0..connections.max(1) {
        channels.push(
            endpoint
                .connect()
                .await
                .with_context(|| format!("connecting to the rate-limit service at {url}"))?,
        );
    }
    let window = Window::starting_now(warmup, measure);
    let machine = cpu::over(window, cpu::Processes::default());
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(window.start.into()).await;
        let start = cpu();
        tokio::time::sleep_until(window.end.into()).await;
        Some(cpu()?.saturating_sub(start?))
    });
    let mut running = JoinSet::new();
    for task in 0..tasks {
        let client = RateLimitServiceClient::new(channels[task % channels.len()].clone());
        let request = request.clone();
        running.spawn(async move { ask(client, request, window).await });
    }
    let mut tally = Tally::new(measure);
    let deadline = window.end + REQUEST_TIMEOUT + Duration::from_secs(5);
    while let Some(joined) = tokio::time::timeout_at(deadline.into(), running.join_next())
        .await
        .context("the gRPC clients did not stop in time")?
    {
        tally.merge(joined.context("a gRPC client task failed")?);
    }
    tally.finish();
    let server_cpu = sampler.await.context("the CPU sampler failed")?;
    let machine = machine.await.context("the CPU sampler failed")?;
    Ok((tally, server_cpu, machine))
}

/// What an answer means: `None` if it allowed the request with the limit's headers.
fn judge(response: &RateLimitResponse) -> Option<String> {
    if response.overall_code == Code::OverLimit as i32 {
        return Some("OVER_LIMIT".to_string());
    }
    if response.overall_code != Code::Ok as i32 {
        return Some(format!("overall code {}", response.overall_code));
    }
    if response.response_headers_to_add.is_empty() {
        return Some("OK without RateLimit-* headers: no limit matched, or the store failed".to_string());
    }
    None
}

async fn ask(
    mut client: RateLimitServiceClient<Channel>,
    request: RateLimitRequest,
    window: Window,
) -> Tally {
    let mut tally = Tally::new(window.measure());
    loop {
        let started = Instant::now();
        if started >= window.end {
            break;
        }
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, client.should_rate_limit(request.clone())).await;
        let done = Instant::now();
        let phase = window.phase(done);
        match outcome {
            Ok(Ok(response)) => {
                let response = response.into_inner();
                let problem = judge(&response);
                let throttled = response.overall_code == Code::OverLimit as i32;
                tally.answer(phase, response.overall_code, done - started, problem, throttled);
            }
            Ok(Err(status)) => tally.error(phase, format!("gRPC {:?}: {}", status.code(), status.message())),
            Err(_) => tally.error(phase, format!("no answer within {REQUEST_TIMEOUT:?}")),
        }
    }
    tally
}

/// The name of an RLS overall code, for reports.
pub fn code_name(code: i32) -> String {
    match Code::try_from(code) {
        Ok(code) => code.as_str_name().to_string(),
        Err(_) => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use portcullis_limiter::{DescriptorConfig, DomainConfig, Unit};

    use super::*;

    fn config() -> LimiterConfig {
        let mut domains = BTreeMap::new();
        domains.insert(
            "portcullis".to_string(),
            DomainConfig {
                descriptors: vec![
                    DescriptorConfig::key("remote_address").limit(5, Unit::Second),
                    DescriptorConfig::key_value("api", "bench/limited").limit(1_000_000_000, Unit::Minute),
                ],
            },
        );
        LimiterConfig { domains }
    }

    #[test]
    fn the_request_is_the_one_envoy_sends_for_an_api_limit() {
        let request = request_for(&config()).expect("a limited descriptor with a value");
        assert_eq!(request.domain, "portcullis");
        let entries: Vec<(&str, &str)> = request.descriptors[0]
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(entries, [("api", "bench/limited")]);
        assert!(request_for(&LimiterConfig::default()).is_none());
    }

    #[test]
    fn codes_have_names() {
        assert_eq!(code_name(Code::Ok as i32), "OK");
        assert_eq!(code_name(Code::OverLimit as i32), "OVER_LIMIT");
        assert_eq!(code_name(99), "99");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_short_run_allows_everything_with_headers() -> Result<()> {
        let config = config();
        let request = request_for(&config).context("no request")?;
        let clients = Clients {
            tasks: 4,
            connections: 2,
            server_threads: 1,
        };
        let run = limiter_alone(
            config,
            request,
            clients,
            Duration::from_millis(50),
            Duration::from_millis(300),
        )
        .await?;
        let mut tally = run.tally;
        assert!(tally.requests > 0);
        assert_eq!((tally.failures, tally.throttled), (0, 0), "{:?}", tally.errors);
        assert!(run.stats.decisions >= tally.requests);
        assert_eq!(run.stats.no_match, 0);
        assert!(tally.percentile_ms(0.99) > 0.0);
        let cpu = run.server_cpu.context("no CPU time of the server's thread")?;
        assert!(
            cpu > Duration::ZERO && cpu < Duration::from_millis(400),
            "{cpu:?}"
        );
        Ok(())
    }

    #[test]
    fn schedstat_gives_nanoseconds_on_cpu() {
        assert_eq!(schedstat_ns("555888679 1607172 65\n"), Some(555_888_679));
        assert_eq!(schedstat_ns(""), None);
        assert!(this_thread_id().is_some());
    }
}
