//! The closed-loop HTTP/1.1 load generator every benchmark uses: each user owns one keep-alive
//! connection and sends the next GET as soon as the previous answer's body is read, with a
//! bearer token from its own share of the target's tokens (if any).
//!
//! Lighter than goose (no per-request metrics channel, no reqwest pool), so more of the two
//! cores go to what is measured; and timed with `Instant`, where goose's `metrics.duration`
//! counts whole seconds.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, HOST, HeaderValue};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::cpu::{self, CpuUse, Processes};
use super::tally::{Tally, Window};

/// The longest one request may take before it counts as failed (and its connection is
/// replaced).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a probe keeps retrying while a listener comes up.
const PROBE_PATIENCE: Duration = Duration::from_secs(15);

/// What to attack and what every answer must look like.
#[derive(Clone, Debug)]
pub struct HttpTarget {
    /// The listener.
    pub address: SocketAddr,
    /// The Host header, which picks the route.
    pub host: &'static str,
    /// The path.
    pub path: &'static str,
    /// `Authorization` values; empty for none. Users split them into equal shares and each
    /// cycles through its own.
    pub tokens: Arc<Vec<HeaderValue>>,
    /// Whether answers must carry the limiter's `RateLimit-Limit` header (`Some(true)`: its
    /// absence means the limiter was not asked or failed open), must not (`Some(false)`), or
    /// either (`None`).
    pub limit_header: Option<bool>,
}

impl HttpTarget {
    /// A target without tokens, answers judged by status only.
    pub fn new(address: SocketAddr, host: &'static str, path: &'static str) -> Self {
        HttpTarget {
            address,
            host,
            path,
            tokens: Arc::new(Vec::new()),
            limit_header: None,
        }
    }

    /// The same target, each request carrying one of `tokens`.
    pub fn with_tokens(mut self, tokens: Arc<Vec<HeaderValue>>) -> Self {
        self.tokens = tokens;
        self
    }

    /// The same target, answers required to carry the limiter's header (`true`) or not to.
    pub fn with_limit_header(mut self, required: bool) -> Self {
        self.limit_header = Some(required);
        self
    }

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

    fn url(&self) -> String {
        format!("http://{}{} (Host {})", self.address, self.path, self.host)
    }
}

/// `"Bearer <token>"` as a header value.
pub fn bearer(token: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(&format!("Bearer {token}")).context("a token that is no header value")
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

/// What came back: the status, whether the limiter's header did, and the body.
struct Answer {
    status: u16,
    limit_header: bool,
    body: Bytes,
}

/// One GET of `path` with `token`, if any. The body is read in full.
async fn exchange(
    sender: &mut Sender,
    host: &str,
    path: &str,
    token: Option<&HeaderValue>,
    header: &str,
) -> Result<Answer, String> {
    sender.ready().await.map_err(|e| format!("connection: {e}"))?;
    let mut request = Request::get(path).header(HOST, host);
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
    let limit_header = response.headers().contains_key(header);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    Ok(Answer {
        status,
        limit_header,
        body,
    })
}

/// What an answer means: `None` if it is as expected (a 2xx, with or without the limiter's
/// header as the target says), else why it failed.
fn judge(target: &HttpTarget, status: u16, limit_header: bool) -> Option<String> {
    if status == StatusCode::TOO_MANY_REQUESTS.as_u16() {
        return Some("429 Too Many Requests".to_string());
    }
    if !(200..300).contains(&status) {
        return Some(format!("status {status}"));
    }
    match (target.limit_header, limit_header) {
        (Some(true), false) => Some(format!(
            "no {} header: the limiter was not asked, or failed open",
            portcullis_limiter::LIMIT_HEADER
        )),
        (Some(false), true) => Some(format!(
            "a {} header on a route without a limit",
            portcullis_limiter::LIMIT_HEADER
        )),
        _ => None,
    }
}

/// One GET of `path` on a fresh connection to `address`, with `token` or none; returns the
/// status and the body.
pub async fn get(
    address: SocketAddr,
    host: &str,
    path: &str,
    token: Option<&HeaderValue>,
) -> Result<(u16, Bytes)> {
    let answer = one(address, host, path, token).await?;
    Ok((answer.status, answer.body))
}

async fn one(address: SocketAddr, host: &str, path: &str, token: Option<&HeaderValue>) -> Result<Answer> {
    let mut sender = connect(address).await.map_err(anyhow::Error::msg)?;
    tokio::time::timeout(
        REQUEST_TIMEOUT,
        exchange(&mut sender, host, path, token, &limit_header_name()),
    )
    .await
    .map_err(|_| anyhow!("no answer within {REQUEST_TIMEOUT:?}"))?
    .map_err(anyhow::Error::msg)
}

/// What a probe checks besides the answer to a request as the attack sends it.
#[derive(Clone, Debug, Default)]
pub struct Refusals {
    /// The status a request without a token must get (401 on a secured route, 200 on an open
    /// one); unchecked if `None`.
    pub without_token: Option<u16>,
    /// A token the route must refuse with a 401 (signed by a key it does not trust).
    pub forged: Option<HeaderValue>,
}

/// Checks the target before the attack: a request with its first token (or none) must be
/// answered as the attack expects, and `refusals` must hold. Retries for a few seconds while
/// the listener comes up.
pub async fn probe(target: &HttpTarget, refusals: &Refusals) -> Result<()> {
    let deadline = Instant::now() + PROBE_PATIENCE;
    loop {
        let problem = match check(target, refusals).await {
            Ok(None) => return Ok(()),
            Ok(Some(problem)) => problem,
            Err(error) => format!("{error:#}"),
        };
        if Instant::now() >= deadline {
            bail!("GET {}: {problem}", target.url());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn check(target: &HttpTarget, refusals: &Refusals) -> Result<Option<String>> {
    let ask = |token| one(target.address, target.host, target.path, token);
    if let Some(expected) = refusals.without_token {
        let bare = ask(None).await?.status;
        if bare != expected {
            return Ok(Some(format!("without a token: {bare}, not {expected}")));
        }
    }
    let answer = ask(target.tokens.first()).await?;
    if let Some(problem) = judge(target, answer.status, answer.limit_header) {
        let with = if target.tokens.is_empty() {
            ""
        } else {
            " with a token"
        };
        return Ok(Some(format!("{problem}{with}")));
    }
    if let Some(forged) = &refusals.forged {
        let refused = ask(Some(forged)).await?.status;
        if refused != 401 {
            return Ok(Some(format!("with a forged token: {refused}, not 401")));
        }
    }
    Ok(None)
}

/// `users` connections sending GETs back to back through `warmup` (not counted) and then
/// `measure` (counted). Answers completed after the window are dropped. Also returns where the
/// CPU went meanwhile, counting `processes` apart.
pub async fn attack(
    target: &HttpTarget,
    users: usize,
    warmup: Duration,
    measure: Duration,
    processes: Processes,
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
    let cpu = cpu::over(window, processes);
    let header = limit_header_name();
    let mut running = JoinSet::new();
    for (number, sender) in senders.into_iter().enumerate() {
        let target = target.clone();
        let share = target.share(number, users);
        let header = header.clone();
        running.spawn(async move { user(sender, &target, share, &header, window).await });
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

async fn user(
    first: Sender,
    target: &HttpTarget,
    (start, len): (usize, usize),
    header: &str,
    window: Window,
) -> Tally {
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
                    // Not a hot loop while the listener is unreachable.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let token = (len > 0).then(|| &target.tokens[start + next % len]);
        next += 1;
        let outcome = tokio::time::timeout(
            REQUEST_TIMEOUT,
            exchange(connection, target.host, target.path, token, header),
        )
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {REQUEST_TIMEOUT:?}")));
        let done = Instant::now();
        let phase = window.phase(done);
        match outcome {
            Ok(answer) => {
                let problem = judge(target, answer.status, answer.limit_header);
                let throttled = answer.status == StatusCode::TOO_MANY_REQUESTS.as_u16();
                tally.answer(
                    phase,
                    i32::from(answer.status),
                    done - started,
                    problem,
                    throttled,
                );
            }
            Err(error) => {
                sender = None;
                tally.error(phase, error);
            }
        }
    }
    tally
}

/// Envoy's counters whose names match `filter` (a regular expression), from its admin
/// `/stats`. Gauges come back too; histograms, which are not plain numbers, do not.
pub async fn envoy_counters(admin: SocketAddr, filter: &str) -> Result<BTreeMap<String, u64>> {
    let path = format!("/stats?filter={}", query_escape(filter));
    let (status, body) = get(admin, "localhost", &path, None)
        .await
        .with_context(|| format!("asking Envoy's admin {admin} for its stats"))?;
    if status != 200 {
        bail!("Envoy's admin {admin} answered {status} to GET {path}");
    }
    Ok(parse_stats(&String::from_utf8_lossy(&body)))
}

/// Requests Envoy (admin at `admin`) has sent to `cluster`: its `upstream_rq_total`.
pub async fn cluster_requests(admin: SocketAddr, cluster: &str) -> Result<u64> {
    let name = format!("cluster.{cluster}.upstream_rq_total");
    let counters = envoy_counters(admin, &format!("^{}$", regex_escape(&name))).await?;
    Ok(counters.get(&name).copied().unwrap_or(0))
}

/// `text` as a regular expression matching itself (for Envoy's `/stats?filter=`).
pub fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// `name: value` lines with a whole-number value.
fn parse_stats(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(": ")?;
            Some((name.trim().to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

/// Percent-encodes what a query value may not hold as is.
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_are_escaped() {
        assert_eq!(
            regex_escape("cluster.a_b.upstream_rq_total"),
            "cluster\\.a_b\\.upstream_rq_total"
        );
        assert_eq!(regex_escape("a|b$"), "a\\|b\\$");
    }

    fn target(limit_header: Option<bool>) -> HttpTarget {
        HttpTarget {
            limit_header,
            ..HttpTarget::new(SocketAddr::from(([127, 0, 0, 1], 1)), "example", "/")
        }
    }

    fn with_tokens(tokens: usize) -> HttpTarget {
        target(None).with_tokens(Arc::new(
            (0..tokens).map(|i| HeaderValue::from(i as u64)).collect(),
        ))
    }

    #[test]
    fn answers_are_judged_by_status_and_header() {
        assert_eq!(judge(&target(Some(true)), 200, true), None);
        assert_eq!(judge(&target(Some(false)), 200, false), None);
        assert_eq!(judge(&target(None), 204, true), None);
        assert_eq!(
            judge(&target(Some(true)), 429, true).as_deref(),
            Some("429 Too Many Requests")
        );
        assert_eq!(
            judge(&target(Some(false)), 503, false).as_deref(),
            Some("status 503")
        );
        assert_eq!(judge(&target(None), 401, false).as_deref(), Some("status 401"));
        assert!(judge(&target(Some(true)), 200, false).is_some_and(|p| p.contains("failed open")));
        assert!(judge(&target(Some(false)), 200, true).is_some_and(|p| p.contains("without a limit")));
    }

    #[test]
    fn the_limit_header_is_looked_up_lower_case() {
        assert_eq!(limit_header_name(), "ratelimit-limit");
    }

    #[test]
    fn users_get_disjoint_shares_and_share_when_tokens_are_few() {
        let many = with_tokens(1000);
        assert_eq!(many.share(0, 10), (0, 100));
        assert_eq!(many.share(9, 10), (900, 100));
        let one = with_tokens(1);
        assert_eq!(one.share(0, 10), (0, 1));
        assert_eq!(one.share(7, 10), (0, 1));
        assert_eq!(with_tokens(0).share(3, 10), (0, 0));
        // 10 tokens for 4 users: 2 each, the rest unused.
        assert_eq!(with_tokens(10).share(3, 4), (6, 2));
    }

    #[test]
    fn bearer_values_are_headers() -> Result<()> {
        assert_eq!(bearer("a.b.c")?, "Bearer a.b.c");
        assert!(bearer("bad\ntoken").is_err());
        Ok(())
    }

    #[test]
    fn envoy_stats_parse_and_filters_are_escaped() {
        let text = "cluster.a.upstream_rq_total: 12\nhttp.x.jwt_authn.allowed: 3\n\
                    cluster.a.upstream_rq_time: P0(nan,1) P25(nan,2)\nbroken line\n";
        let stats = parse_stats(text);
        assert_eq!(stats.len(), 2);
        assert_eq!(stats["cluster.a.upstream_rq_total"], 12);
        assert_eq!(stats["http.x.jwt_authn.allowed"], 3);
        assert_eq!(query_escape("^a\\.b|c$"), "%5Ea%5C.b%7Cc%24");
    }
}
