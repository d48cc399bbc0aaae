//! Sending requests through a gateway, and waiting until its answers settle.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use portcullis_echo::EchoResponse;

/// Answers must agree this many times in a row, as in the upstream suite.
pub const REQUIRED_CONSECUTIVE: usize = 3;
/// The longest a gateway may take to settle (upstream's MaxTimeToConsistency).
pub const MAX_TIME_TO_CONSISTENCY: Duration = Duration::from_secs(30);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What to send.
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Host header (and SNI over HTTPS).
    pub host: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// TLS or not.
    pub https: bool,
    /// Where the gateway listens.
    pub address: SocketAddr,
    /// Request body, if any.
    pub body: Option<String>,
}

/// What came back.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Status code.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// The echo backend's account of the request, when it answered.
    pub echo: Option<EchoResponse>,
    /// The body, when it is JSON (the echo, or an error the gateway wrote).
    pub body: Option<serde_json::Value>,
    /// The body as text (lossy UTF-8).
    pub text: String,
}

impl Exchange {
    /// What must stay the same across answers for them to count as settled.
    fn signature(&self) -> (u16, Option<String>, Option<String>) {
        (
            self.status,
            self.echo.as_ref().map(|e| e.service.clone()),
            self.headers.get("location").cloned(),
        )
    }
}

fn client(spec: &RequestSpec) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0);
    if spec.https {
        builder = builder
            .resolve(&spec.host, spec.address)
            .tls_danger_accept_invalid_certs(true);
    }
    Ok(builder.build()?)
}

/// Sends one request.
pub async fn send_once(client: &reqwest::Client, spec: &RequestSpec) -> anyhow::Result<Exchange> {
    let url = if spec.https {
        format!("https://{}:{}{}", spec.host, spec.address.port(), spec.path)
    } else {
        format!("http://{}{}", spec.address, spec.path)
    };
    let method = reqwest::Method::from_bytes(spec.method.as_bytes()).context("HTTP method")?;
    let mut request = client.request(method, &url);
    if !spec.https {
        request = request.header("host", &spec.host);
    }
    for (name, value) in &spec.headers {
        request = request.header(name, value);
    }
    if let Some(body) = &spec.body {
        request = request.body(body.clone());
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{} {url} (host {})", spec.method, spec.host))?;
    exchange(response).await
}

/// Reads a response into an [`Exchange`]: JSON bodies parsed, echo answers recognised.
pub async fn exchange(response: reqwest::Response) -> anyhow::Result<Exchange> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let is_json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = response.bytes().await?;
    let json: Option<serde_json::Value> = if is_json {
        serde_json::from_slice(&body).ok()
    } else {
        None
    };
    let echo = json.clone().and_then(|v| serde_json::from_value(v).ok());
    Ok(Exchange {
        status,
        headers,
        echo,
        body: json,
        text: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Sends the request exactly once, with the same client settings as every other request (no
/// redirects followed, TLS to the host's name), for answers that change from one request to the next.
pub async fn send_single(spec: &RequestSpec) -> anyhow::Result<Exchange> {
    send_once(&client(spec)?, spec).await
}

/// Sends the request until [`REQUIRED_CONSECUTIVE`] answers in a row agree, and returns the
/// last; fails after [`MAX_TIME_TO_CONSISTENCY`].
pub async fn send_until_consistent(spec: &RequestSpec) -> anyhow::Result<Exchange> {
    let client = client(spec)?;
    let started = Instant::now();
    let mut streak: Vec<Exchange> = Vec::new();
    let mut last_error = None;
    loop {
        match send_once(&client, spec).await {
            Ok(exchange) => {
                if streak
                    .last()
                    .is_some_and(|prev| prev.signature() != exchange.signature())
                {
                    streak.clear();
                }
                streak.push(exchange);
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
                Some(error) => bail!("no consistent answer within {MAX_TIME_TO_CONSISTENCY:?}: {error:#}"),
                None => bail!("answers did not settle within {MAX_TIME_TO_CONSISTENCY:?}"),
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Sends `count` requests, ten at a time, and returns every answer.
pub async fn send_many(spec: &RequestSpec, count: usize) -> anyhow::Result<Vec<Exchange>> {
    use futures::StreamExt;
    let client = client(spec)?;
    let results: Vec<anyhow::Result<Exchange>> = futures::stream::iter(0..count)
        .map(|_| send_once(&client, spec))
        .buffer_unordered(10)
        .collect()
        .await;
    results.into_iter().collect()
}
