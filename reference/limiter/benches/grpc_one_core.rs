//! Decisions per second of the RLS gRPC server on ONE core.
//!
//! `cargo bench -p portcullis-limiter --bench grpc_one_core`
//!
//! The server (`portcullis_limiter::serve_with_shutdown`, in-memory counters) runs on a tokio
//! current-thread runtime on a thread pinned to CPU 0; the load client runs on a current-thread
//! runtime pinned to CPU 1 and talks to it over loopback TCP, HTTP/2, many concurrent streams
//! multiplexed on a few connections, as Envoy does (one connection per worker). Every call is the
//! request Envoy sends for an APK API-level limit (`org` → `environment` → `path` → `method`),
//! counted under a limit it never reaches.
//!
//! Prints decisions/s, client-side latency p50/p99, and the server thread's CPU time per
//! decision (from `/proc/self/task/<tid>/schedstat`): when the server thread is not 100 % busy
//! the client is the bound, and `1 / cpu-per-decision` is what the server alone could answer.
//!
//! Knobs (environment): `BENCH_SECONDS` (measured, default 5), `BENCH_WARMUP` (default 1),
//! `BENCH_CONNECTIONS` (default 4), `BENCH_STREAMS` (concurrent calls in total, default 128).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3::RateLimitRequest;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_client::RateLimitServiceClient;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::unistd::{Pid, gettid};
use portcullis_limiter::{DescriptorConfig, DomainConfig, Limiter, LimiterConfig, Unit, serve_with_shutdown};
use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint};

const SERVER_CPU: usize = 0;
const CLIENT_CPU: usize = 1;
const DOMAIN: &str = "Default";

fn main() -> Result<()> {
    let settings = Settings::from_env()?;
    let limiter = Arc::new(Limiter::in_memory());
    let errors = limiter.update_config(config());
    if !errors.is_empty() {
        bail!("config refused: {errors:?}");
    }

    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let (tid_tx, tid_rx) = mpsc::channel();
    let served = limiter.clone();
    let server = std::thread::Builder::new()
        .name("limiter-server".into())
        .spawn(move || -> Result<()> {
            pin(SERVER_CPU)?;
            let _ = tid_tx.send(gettid());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                serve_with_shutdown(listener, served, async {
                    let _ = stopped.await;
                })
                .await?;
                Ok(())
            })
        })?;
    let server_tid = tid_rx.recv().context("the server thread died before starting")?;

    let client =
        std::thread::Builder::new()
            .name("load-client".into())
            .spawn(move || -> Result<Measured> {
                pin(CLIENT_CPU)?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(drive(address, settings, server_tid))
            })?;
    let measured = client
        .join()
        .map_err(|_| anyhow::anyhow!("the client thread panicked"))??;
    let _ = stop.send(());
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))??;

    let stats = limiter.stats().snapshot();
    if stats.over_limit != 0 || stats.no_match != 0 || stats.store_errors != 0 {
        bail!("the limiter did not simply allow every call: {stats:?}");
    }
    measured.print(&settings);
    Ok(())
}

/// How hard to push.
#[derive(Debug, Clone, Copy)]
struct Settings {
    warmup: Duration,
    measure: Duration,
    connections: usize,
    streams: usize,
}

impl Settings {
    fn from_env() -> Result<Self> {
        fn var(name: &str, default: u64) -> Result<u64> {
            match std::env::var(name) {
                Ok(text) => text.parse().with_context(|| format!("{name}={text}")),
                Err(_) => Ok(default),
            }
        }
        Ok(Settings {
            warmup: Duration::from_secs(var("BENCH_WARMUP", 1)?),
            measure: Duration::from_secs(var("BENCH_SECONDS", 5)?.max(1)),
            connections: usize::try_from(var("BENCH_CONNECTIONS", 4)?.max(1))?,
            streams: usize::try_from(var("BENCH_STREAMS", 128)?.max(1))?,
        })
    }
}

/// The rate-limit config APK's common-controller pushes for one API-level limit.
fn config() -> LimiterConfig {
    let mut domains = BTreeMap::new();
    domains.insert(
        DOMAIN.to_string(),
        DomainConfig {
            descriptors: vec![DescriptorConfig::key_value("org", "default").children([
                DescriptorConfig::key_value("environment", "Default").children([
                    DescriptorConfig::key_value("path", "/orders/1.0.0").children([
                        DescriptorConfig::key_value("method", "ALL").limit(1_000_000_000, Unit::Minute),
                    ]),
                ]),
            ])],
        },
    );
    LimiterConfig { domains }
}

/// What Envoy sends for a request on that API.
fn request() -> RateLimitRequest {
    let entry = |key: &str, value: &str| Entry {
        key: key.into(),
        value: value.into(),
    };
    RateLimitRequest {
        domain: DOMAIN.into(),
        descriptors: vec![RateLimitDescriptor {
            entries: vec![
                entry("org", "default"),
                entry("environment", "Default"),
                entry("path", "/orders/1.0.0"),
                entry("method", "ALL"),
            ],
            ..Default::default()
        }],
        hits_addend: 0,
    }
}

/// Pin the calling thread to `cpu`.
fn pin(cpu: usize) -> Result<()> {
    let mut set = CpuSet::new();
    set.set(cpu).with_context(|| format!("CPU {cpu}"))?;
    sched_setaffinity(Pid::from_raw(0), &set).with_context(|| format!("pinning to CPU {cpu}"))?;
    Ok(())
}

/// Nanoseconds thread `tid` of this process has spent on a CPU.
fn thread_cpu(tid: Pid) -> Result<Duration> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))?;
    let ns = text
        .split_whitespace()
        .next()
        .context("empty schedstat")?
        .parse()?;
    Ok(Duration::from_nanos(ns))
}

/// The results of the measured window.
struct Measured {
    decisions: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    server_cpu: Duration,
    client_cpu: Duration,
}

impl Measured {
    fn print(mut self, settings: &Settings) {
        self.latencies_us.sort_unstable();
        let quantile = |q: f64| {
            let last = self.latencies_us.len().saturating_sub(1);
            self.latencies_us
                .get(((last as f64) * q).round() as usize)
                .copied()
                .unwrap_or(0)
        };
        let seconds = self.elapsed.as_secs_f64();
        let per_decision = self.server_cpu.as_nanos() as f64 / self.decisions.max(1) as f64;
        println!(
            "grpc_one_core: {} connections, {} concurrent streams, {:.1} s measured",
            settings.connections, settings.streams, seconds
        );
        println!(
            "  decisions/s           {:>10.0}",
            self.decisions as f64 / seconds
        );
        println!(
            "  latency p50 / p99     {:>7} / {} µs (client side)",
            quantile(0.50),
            quantile(0.99)
        );
        println!(
            "  server CPU/decision   {:>10.2} µs  (server thread {:.0} % busy → {:.0} decisions/s at 100 %)",
            per_decision / 1_000.0,
            100.0 * self.server_cpu.as_secs_f64() / seconds,
            1e9 / per_decision.max(1.0)
        );
        println!(
            "  client CPU/decision   {:>10.2} µs  (client thread {:.0} % busy)",
            self.client_cpu.as_nanos() as f64 / self.decisions.max(1) as f64 / 1_000.0,
            100.0 * self.client_cpu.as_secs_f64() / seconds
        );
    }
}

async fn drive(address: SocketAddr, settings: Settings, server_tid: Pid) -> Result<Measured> {
    let endpoint = Endpoint::from_shared(format!("http://{address}"))?.tcp_nodelay(true);
    let mut channels = Vec::with_capacity(settings.connections);
    for _ in 0..settings.connections {
        channels.push(endpoint.connect().await?);
    }
    let client_tid = gettid();
    let start = Instant::now() + settings.warmup;
    let end = start + settings.measure;
    let mut tasks = Vec::with_capacity(settings.streams);
    for stream in 0..settings.streams {
        let client = RateLimitServiceClient::new(channels[stream % channels.len()].clone());
        tasks.push(tokio::spawn(ask(client, start, end)));
    }
    tokio::time::sleep_until(start.into()).await;
    let (server_before, client_before) = (thread_cpu(server_tid)?, thread_cpu(client_tid)?);
    tokio::time::sleep_until(end.into()).await;
    let (server_after, client_after) = (thread_cpu(server_tid)?, thread_cpu(client_tid)?);
    let elapsed = Instant::now() - start;
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await??);
    }
    Ok(Measured {
        decisions: latencies_us.len() as u64,
        elapsed,
        latencies_us,
        server_cpu: server_after.saturating_sub(server_before),
        client_cpu: client_after.saturating_sub(client_before),
    })
}

/// One stream: ask back to back until `end`; latencies of calls completed in `[start, end)`.
async fn ask(mut client: RateLimitServiceClient<Channel>, start: Instant, end: Instant) -> Result<Vec<u32>> {
    let request = request();
    let mut latencies = Vec::new();
    loop {
        let sent = Instant::now();
        if sent >= end {
            return Ok(latencies);
        }
        let response = client.should_rate_limit(request.clone()).await?.into_inner();
        if response.overall_code != Code::Ok as i32 || response.response_headers_to_add.is_empty() {
            bail!("unexpected answer: {response:?}");
        }
        let done = Instant::now();
        if done >= start && done < end {
            latencies.push(u32::try_from((done - sent).as_micros()).unwrap_or(u32::MAX));
        }
    }
}
