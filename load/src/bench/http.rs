//! A closed-loop HTTP/1.1 load generator: each user owns one keep-alive connection and sends
//! the next GET as soon as the previous answer's body is read.
//!
//! Lighter than goose (no per-request metrics channel, no reqwest pool), so more of the two
//! cores go to what is measured; and timed with `Instant`, where goose's `metrics.duration`
//! counts whole seconds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper::header::HOST;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::cpu::{self, CpuUse};
use super::tally::{Tally, Window};

/// The longest one request may take before it counts as failed (and its connection is
/// replaced).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What to attack and what every answer must look like.
#[derive(Clone, Debug)]
pub struct HttpTarget {
    /// The Envoy listener.
    pub address: SocketAddr,
    /// The Host header, which picks the route.
    pub host: &'static str,
    /// Whether answers must carry the limiter's `RateLimit-Limit` header (the limited routes:
    /// its absence means the limiter was not asked or failed open) or must not (the open
    /// route).
    pub limit_header: bool,
}

type Sender = http1::SendRequest<Empty<Bytes>>;

/// The header the limiter adds to every answer it counted, lower-cased as `HeaderMap` keeps it.
fn limit_header_name() -> String {
    portcullis_limiter::LIMIT_HEADER.to_ascii_lowercase()
}

async fn connect(address: SocketAddr) -> Result<Sender, String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connecting to {address}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the peer closes; an error then is the request's.
        let _ = connection.await;
    });
    Ok(sender)
}

/// One GET: the status and whether the limiter's header came back. The body is read in full.
async fn exchange(sender: &mut Sender, host: &str, header: &str) -> Result<(u16, bool), String> {
    sender.ready().await.map_err(|e| format!("connection: {e}"))?;
    let request = Request::get("/")
        .header(HOST, host)
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("building the request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("sending: {e}"))?;
    let status = response.status().as_u16();
    let limited = response.headers().contains_key(header);
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    Ok((status, limited))
}

/// What an answer means: `None` if it is as expected, else why it failed.
fn judge(target: &HttpTarget, status: u16, limit_header: bool) -> Option<String> {
    if status == StatusCode::TOO_MANY_REQUESTS.as_u16() {
        return Some("429 Too Many Requests".to_string());
    }
    if status != StatusCode::OK.as_u16() {
        return Some(format!("status {status}"));
    }
    match (target.limit_header, limit_header) {
        (true, false) => Some(format!(
            "no {} header: the limiter was not asked, or failed open",
            portcullis_limiter::LIMIT_HEADER
        )),
        (false, true) => Some(format!(
            "a {} header on the unlimited route",
            portcullis_limiter::LIMIT_HEADER
        )),
        _ => None,
    }
}

/// One request, for a check before the attack: fails unless the answer is as expected.
pub async fn probe(target: &HttpTarget) -> Result<()> {
    let mut sender = connect(target.address).await.map_err(anyhow::Error::msg)?;
    let (status, header) = tokio::time::timeout(
        REQUEST_TIMEOUT,
        exchange(&mut sender, target.host, &limit_header_name()),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no answer within {REQUEST_TIMEOUT:?}"))?
    .map_err(anyhow::Error::msg)?;
    match judge(target, status, header) {
        None => Ok(()),
        Some(problem) => bail!("GET http://{}/ (Host {}): {problem}", target.address, target.host),
    }
}

/// `users` connections, each sending GETs back to back through `warmup` (not counted) and then
/// `measure` (counted). Answers completed after the window are dropped. Also returns where the
/// CPU went meanwhile, counting the processes `envoys` as Envoy.
pub async fn attack(
    target: &HttpTarget,
    users: usize,
    warmup: Duration,
    measure: Duration,
    envoys: Vec<u32>,
) -> Result<(Tally, Option<CpuUse>)> {
    let mut senders = Vec::with_capacity(users);
    for user in 0..users {
        let sender = connect(target.address)
            .await
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("opening the connection of user {user}"))?;
        senders.push(sender);
    }
    let window = Window::starting_now(warmup, measure);
    let cpu = cpu::over(window, envoys);
    let header = limit_header_name();
    let mut users_running = JoinSet::new();
    for sender in senders {
        let target = target.clone();
        let header = header.clone();
        users_running.spawn(async move { user(sender, &target, &header, window).await });
    }
    let mut tally = Tally::new(measure);
    let deadline = window.end + REQUEST_TIMEOUT + Duration::from_secs(5);
    while let Some(joined) = tokio::time::timeout_at(deadline.into(), users_running.join_next())
        .await
        .context("the users did not stop in time")?
    {
        tally.merge(joined.context("a user task failed")?);
    }
    tally.finish();
    let cpu = cpu.await.context("the CPU sampler failed")?;
    Ok((tally, cpu))
}

async fn user(first: Sender, target: &HttpTarget, header: &str, window: Window) -> Tally {
    let mut tally = Tally::new(window.measure());
    let mut sender = Some(first);
    loop {
        let started = Instant::now();
        if started >= window.end {
            break;
        }
        let connection = match sender.as_mut() {
            Some(connection) => connection,
            None => match connect(target.address).await {
                Ok(connection) => sender.insert(connection),
                Err(error) => {
                    tally.error(window.phase(Instant::now()), error);
                    // Not a hot loop while the gateway is unreachable.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, exchange(connection, target.host, header))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {REQUEST_TIMEOUT:?}")));
        let done = Instant::now();
        let phase = window.phase(done);
        match outcome {
            Ok((status, limit_header)) => {
                let problem = judge(target, status, limit_header);
                tally.answer(phase, i32::from(status), done - started, problem, status == 429);
            }
            Err(error) => {
                sender = None;
                tally.error(phase, error);
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(limit_header: bool) -> HttpTarget {
        HttpTarget {
            address: SocketAddr::from(([127, 0, 0, 1], 1)),
            host: "example",
            limit_header,
        }
    }

    #[test]
    fn answers_are_judged_by_status_and_header() {
        assert_eq!(judge(&target(true), 200, true), None);
        assert_eq!(judge(&target(false), 200, false), None);
        assert_eq!(
            judge(&target(true), 429, true).as_deref(),
            Some("429 Too Many Requests")
        );
        assert_eq!(judge(&target(false), 503, false).as_deref(), Some("status 503"));
        assert!(judge(&target(true), 200, false).is_some_and(|p| p.contains("failed open")));
        assert!(judge(&target(false), 200, true).is_some_and(|p| p.contains("unlimited route")));
    }

    #[test]
    fn the_limit_header_is_looked_up_lower_case() {
        assert_eq!(limit_header_name(), "ratelimit-limit");
    }
}
