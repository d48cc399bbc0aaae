//! The load: `users` keep-alive HTTP/1.1 connections, each sending the next GET as soon as the
//! previous answer's body is read, with a bearer token from its own share of a token set.
//! Timing, windows and CPU sampling are the rate-limit benchmark's ([`tally`], [`cpu`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench::cpu::{self, CpuUse};
use crate::bench::tally::{Tally, Window};
use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, HOST, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// The longest one request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What to attack.
#[derive(Clone, Debug)]
pub struct Target {
    /// The Envoy listener.
    pub address: SocketAddr,
    /// The Host header.
    pub host: &'static str,
    /// The path.
    pub path: &'static str,
    /// `Authorization` values; empty for none. Users split them into equal shares and each
    /// cycles through its own.
    pub tokens: Arc<Vec<HeaderValue>>,
}

impl Target {
    /// The share of tokens of user `user` of `users`: a contiguous slice, never empty when
    /// there are tokens (users share when there are fewer tokens than users).
    fn share(&self, user: usize, users: usize) -> (usize, usize) {
        let n = self.tokens.len();
        if n == 0 {
            return (0, 0);
        }
        let per = (n / users.max(1)).max(1);
        let start = (user * per) % n;
        (start, per.min(n - start))
    }
}

/// `"Bearer <token>"` as a header value.
pub fn bearer(token: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(&format!("Bearer {token}")).context("a token that is no header value")
}

type Sender = http1::SendRequest<Empty<Bytes>>;

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

/// One GET; returns the status. The body is read in full.
async fn exchange(sender: &mut Sender, target: &Target, token: Option<&HeaderValue>) -> Result<u16, String> {
    sender.ready().await.map_err(|e| format!("connection: {e}"))?;
    let mut request = Request::get(target.path).header(HOST, target.host);
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, token.clone());
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("building the request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("sending: {e}"))?;
    let status = response.status().as_u16();
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    Ok(status)
}

/// One request on a fresh connection, with `token` or none; returns the status.
pub async fn status(target: &Target, token: Option<&HeaderValue>) -> Result<u16> {
    let mut sender = connect(target.address).await.map_err(anyhow::Error::msg)?;
    tokio::time::timeout(REQUEST_TIMEOUT, exchange(&mut sender, target, token))
        .await
        .map_err(|_| anyhow!("no answer within {REQUEST_TIMEOUT:?}"))?
        .map_err(anyhow::Error::msg)
}

/// Checks the target before the attack: `without` is the status a request without a token
/// must get; a request with the target's first token must get a 2xx; and, if the target has
/// tokens, a request with `forged` (signed by a key the gateway does not trust) must get a 401.
/// Retries for a few seconds while the listener comes up.
pub async fn probe(target: &Target, without: u16, forged: &HeaderValue) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let url = format!("http://{}{} (Host {})", target.address, target.path, target.host);
    loop {
        let problem = match check(target, without, forged).await {
            Ok(None) => return Ok(()),
            Ok(Some(problem)) => problem,
            Err(error) => format!("{error:#}"),
        };
        if Instant::now() >= deadline {
            bail!("GET {url}: {problem}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn check(target: &Target, without: u16, forged: &HeaderValue) -> Result<Option<String>> {
    let bare = status(target, None).await?;
    if bare != without {
        return Ok(Some(format!("without a token: {bare}, not {without}")));
    }
    let Some(token) = target.tokens.first() else {
        return Ok(None);
    };
    let with = status(target, Some(token)).await?;
    if !(200..300).contains(&with) {
        return Ok(Some(format!("with a token: {with}")));
    }
    let refused = status(target, Some(forged)).await?;
    Ok((refused != 401).then(|| format!("with a forged token: {refused}, not 401")))
}

/// `users` connections sending GETs back to back through `warmup` (not counted) and then
/// `measure` (counted); any answer but a 2xx is a failure. Also returns where the CPU went,
/// counting the processes `envoys` as Envoy.
pub async fn attack(
    target: &Target,
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
    let mut running = JoinSet::new();
    for (number, sender) in senders.into_iter().enumerate() {
        let target = target.clone();
        let share = target.share(number, users);
        running.spawn(async move { user(sender, &target, share, window).await });
    }
    let mut tally = Tally::new(measure);
    let deadline = window.end + REQUEST_TIMEOUT + Duration::from_secs(5);
    while let Some(joined) = tokio::time::timeout_at(deadline.into(), running.join_next())
        .await
        .context("the users did not stop in time")?
    {
        tally.merge(joined.context("a user task failed")?);
    }
    tally.finish();
    let cpu = cpu.await.context("the CPU sampler failed")?;
    Ok((tally, cpu))
}

async fn user(first: Sender, target: &Target, (start, len): (usize, usize), window: Window) -> Tally {
    let mut tally = Tally::new(window.measure());
    let mut sender = Some(first);
    let mut next = 0;
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
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let token = (len > 0).then(|| &target.tokens[start + next % len]);
        next += 1;
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, exchange(connection, target, token))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {REQUEST_TIMEOUT:?}")));
        let done = Instant::now();
        let phase = window.phase(done);
        match outcome {
            Ok(status) => {
                let problem = (!(200..300).contains(&status)).then(|| format!("status {status}"));
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

    fn target(tokens: usize) -> Target {
        Target {
            address: SocketAddr::from(([127, 0, 0, 1], 1)),
            host: "example",
            path: "/",
            tokens: Arc::new((0..tokens).map(|i| HeaderValue::from(i as u64)).collect()),
        }
    }

    #[test]
    fn users_get_disjoint_shares_and_share_when_tokens_are_few() {
        let many = target(1000);
        assert_eq!(many.share(0, 10), (0, 100));
        assert_eq!(many.share(9, 10), (900, 100));
        let one = target(1);
        assert_eq!(one.share(0, 10), (0, 1));
        assert_eq!(one.share(7, 10), (0, 1));
        assert_eq!(target(0).share(3, 10), (0, 0));
        // 10 tokens for 4 users: 2 each, the rest unused.
        assert_eq!(target(10).share(3, 4), (6, 2));
    }

    #[test]
    fn bearer_values_are_headers() -> Result<()> {
        assert_eq!(bearer("a.b.c")?, "Bearer a.b.c");
        assert!(bearer("bad\ntoken").is_err());
        Ok(())
    }
}
