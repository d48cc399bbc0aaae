//! An Envoy started from a static bootstrap, the same binary as the gateway's: listeners
//! whose HTTP filters the benchmark chooses (native `jwt_authn`, `local_ratelimit`, or only the
//! router), all routing every request to one backend. The control every benchmark compares
//! the gateway with.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use super::http;

/// How long Envoy may take to bind its admin address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The only cluster: the backend.
const BACKEND_CLUSTER: &str = "backend";

/// One listener: its name (also its stat prefix), address and HTTP filters before the router.
#[derive(Clone, Debug, PartialEq)]
pub struct StaticListener {
    /// Its name, and its HTTP connection manager's `stat_prefix`.
    pub name: String,
    /// Where it listens.
    pub address: SocketAddr,
    /// HTTP filters, in order; the router is added last.
    pub filters: Vec<Value>,
    /// The route's `rate_limits` (what the `ratelimit` filter sends); empty for none.
    pub rate_limits: Vec<Value>,
}

/// A gRPC service the static Envoy's filters call: an HTTP/2 cluster of one endpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrpcCluster {
    /// The cluster's name, which the filter names.
    pub name: &'static str,
    /// Where the service listens.
    pub address: SocketAddr,
}

/// The `jwt_authn` provider's name in [`jwt_authn`].
pub const JWT_PROVIDER: &str = "idp";

/// `envoy.filters.http.jwt_authn` requiring a token of `issuer`, verified against `jwks`
/// (inlined as `local_jwks`), on every path; `cache_size` sets `jwt_cache_config` (`None`
/// leaves the cache off).
pub fn jwt_authn(issuer: &str, jwks: &Value, cache_size: Option<u32>) -> Value {
    let mut provider = json!({
        "issuer": issuer,
        "local_jwks": {"inline_string": jwks.to_string()},
        "forward": false,
    });
    if let Some(size) = cache_size {
        provider["jwt_cache_config"] = json!({"jwt_cache_size": size});
    }
    json!({
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {JWT_PROVIDER: provider},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": JWT_PROVIDER}}],
        },
    })
}

/// `envoy.filters.http.ext_authz` asking the gRPC service of `cluster`, with the options the
/// gateway's own ext_authz filter has (2 s timeout, fail closed with 503).
pub fn ext_authz(cluster: &str) -> Value {
    json!({
        "name": "envoy.filters.http.ext_authz",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            "grpc_service": {"envoy_grpc": {"cluster_name": cluster}, "timeout": "2s"},
            "transport_api_version": "V3",
            "failure_mode_allow": false,
            "status_on_error": {"code": 503},
        },
    })
}

/// `envoy.filters.http.ratelimit` asking the rate-limit service of `cluster` for `domain`,
/// with the options the gateway's own filter has (500 ms timeout, fail open). Only routes
/// with `rate_limits` ([`generic_rate_limit`]) call it.
pub fn ratelimit(cluster: &str, domain: &str) -> Value {
    json!({
        "name": "envoy.filters.http.ratelimit",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit",
            "domain": domain,
            "timeout": "0.5s",
            "failure_mode_deny": false,
            "rate_limit_service": {
                "grpc_service": {"envoy_grpc": {"cluster_name": cluster}},
                "transport_api_version": "V3",
            },
        },
    })
}

/// A route's `rate_limits` entry sending one descriptor, `generic_key` = `value`, per request.
pub fn generic_rate_limit(value: &str) -> Value {
    json!({"actions": [{"generic_key": {"descriptor_value": value}}]})
}

/// The `local_ratelimit` stat prefix in [`local_ratelimit`]; its counters are
/// `<prefix>.http_local_rate_limit.{enabled,enforced,ok,rate_limited}`.
pub const LOCAL_RATE_LIMIT_PREFIX: &str = "local_rate_limit";

/// `envoy.filters.http.local_ratelimit`, enabled and enforced on every request, with a token
/// bucket of `tokens` refilled every second.
pub fn local_ratelimit(tokens: u32) -> Value {
    // Without filter_enabled and filter_enforced the filter neither counts nor limits.
    let all = |key: &str| json!({"runtime_key": key, "default_value": {"numerator": 100, "denominator": "HUNDRED"}});
    json!({
        "name": "envoy.filters.http.local_ratelimit",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
            "stat_prefix": LOCAL_RATE_LIMIT_PREFIX,
            "token_bucket": {"max_tokens": tokens, "tokens_per_fill": tokens, "fill_interval": "1s"},
            "filter_enabled": all("local_rate_limit_enabled"),
            "filter_enforced": all("local_rate_limit_enforced"),
        },
    })
}

/// The bootstrap, as JSON (which Envoy reads as YAML too): `listeners`, each routing every
/// request to `backend`, the `grpc` clusters their filters call, and an admin address on a
/// free loopback port.
pub fn bootstrap(
    node: &str,
    backend: SocketAddr,
    listeners: &[StaticListener],
    grpc: &[GrpcCluster],
) -> Value {
    let mut clusters = vec![cluster(BACKEND_CLUSTER, backend)];
    for service in grpc {
        let mut cluster = cluster(service.name, service.address);
        cluster["typed_extension_protocol_options"] = json!({
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            },
        });
        clusters.push(cluster);
    }
    json!({
        "node": {"id": node, "cluster": node},
        "admin": {"address": socket(SocketAddr::from(([127, 0, 0, 1], 0)))},
        "static_resources": {
            "listeners": listeners.iter().map(listener).collect::<Vec<_>>(),
            "clusters": clusters,
        },
    })
}

fn cluster(name: &str, address: SocketAddr) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket(address)}}]}],
        },
    })
}

fn socket(address: SocketAddr) -> Value {
    json!({"socket_address": {"address": address.ip().to_string(), "port_value": address.port()}})
}

fn listener(listener: &StaticListener) -> Value {
    let name = &listener.name;
    let mut filters = listener.filters.clone();
    let mut route = json!({"match": {"prefix": "/"}, "route": {"cluster": BACKEND_CLUSTER}});
    if !listener.rate_limits.is_empty() {
        route["route"]["rate_limits"] = Value::Array(listener.rate_limits.clone());
    }
    filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    }));
    json!({
        "name": name,
        "address": socket(listener.address),
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": name,
                "route_config": {
                    "name": name,
                    "virtual_hosts": [{
                        "name": name,
                        "domains": ["*"],
                        "routes": [route],
                    }],
                },
                "http_filters": filters,
            },
        }]}],
    })
}

/// A free loopback port, found by binding and letting go (Envoy binds it a moment later).
pub fn free_loopback() -> Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    listener.local_addr().context("finding a free port")
}

/// The running static Envoy; killed when dropped.
pub struct StaticEnvoy {
    child: Child,
    admin: SocketAddr,
    log: PathBuf,
    _work_dir: tempfile::TempDir,
}

impl StaticEnvoy {
    /// Writes `bootstrap` and starts `binary` on it; returns once its admin address is bound
    /// (the listeners are checked by the caller's probes).
    pub async fn start(binary: &Path, bootstrap: &Value, log_level: &str) -> Result<Self> {
        let work_dir = tempfile::Builder::new()
            .prefix("portcullis-static-envoy-")
            .tempdir()
            .context("creating Envoy's work folder")?;
        let bootstrap_path = work_dir.path().join("bootstrap.yaml");
        let text = serde_json::to_string_pretty(bootstrap).context("rendering the bootstrap")?;
        std::fs::write(&bootstrap_path, text).context("writing the bootstrap")?;
        let admin_path = work_dir.path().join("admin-address");
        let log = work_dir.path().join("envoy.log");
        let out = std::fs::File::create(&log).context("creating envoy.log")?;
        let err = out.try_clone().context("duplicating envoy.log")?;
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&bootstrap_path)
            // As the gateway's Envoy: two Envoys on one machine need this.
            .arg("--disable-hot-restart")
            .arg("--admin-address-path")
            .arg(&admin_path)
            .arg("--log-level")
            .arg(log_level)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let deadline = Instant::now() + START_TIMEOUT;
        let admin = loop {
            if let Some(status) = child.try_wait().context("checking on Envoy")? {
                bail!("Envoy exited ({status}): {}", tail(&log));
            }
            if let Some(admin) = std::fs::read_to_string(&admin_path)
                .ok()
                .and_then(|t| t.trim().parse::<SocketAddr>().ok())
            {
                break admin;
            }
            if Instant::now() >= deadline {
                bail!("Envoy did not start within {START_TIMEOUT:?}: {}", tail(&log));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Ok(StaticEnvoy {
            child,
            admin,
            log,
            _work_dir: work_dir,
        })
    }

    /// Its process id, unless it has been reaped.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Its admin address.
    pub fn admin(&self) -> SocketAddr {
        self.admin
    }

    /// Its counters whose names match `filter` (a regular expression).
    pub async fn counters(&self, filter: &str) -> Result<BTreeMap<String, u64>> {
        http::envoy_counters(self.admin, filter).await
    }

    /// The end of its log, for errors.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// Kills it and waits for it.
    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await.context("stopping the static Envoy")
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn http_filters(boot: &Value, i: usize) -> Vec<Value> {
        boot["static_resources"]["listeners"][i]["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn each_listener_gets_its_filters_then_the_router_to_the_backend() {
        let listeners = [
            StaticListener {
                name: "open".into(),
                address: at(9001),
                filters: Vec::new(),
                rate_limits: Vec::new(),
            },
            StaticListener {
                name: "native".into(),
                address: at(9002),
                filters: vec![local_ratelimit(1_000_000_000)],
                rate_limits: Vec::new(),
            },
        ];
        let boot = bootstrap("node", at(9000), &listeners, &[]);
        let open = http_filters(&boot, 0);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["name"], "envoy.filters.http.router");
        let native = http_filters(&boot, 1);
        assert_eq!(native.len(), 2);
        let limit = &native[0]["typed_config"];
        assert_eq!(limit["token_bucket"]["max_tokens"], 1_000_000_000);
        assert_eq!(limit["filter_enforced"]["default_value"]["numerator"], 100);
        assert_eq!(limit["stat_prefix"], LOCAL_RATE_LIMIT_PREFIX);
        let listener = &boot["static_resources"]["listeners"][1];
        assert_eq!(listener["address"]["socket_address"]["port_value"], 9002);
        assert_eq!(
            listener["filter_chains"][0]["filters"][0]["typed_config"]["stat_prefix"],
            "native"
        );
        let cluster = &boot["static_resources"]["clusters"][0];
        assert_eq!(
            cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
                ["port_value"],
            9000
        );
        assert_eq!(boot["node"]["id"], "node");
    }

    #[test]
    fn jwt_authn_requires_the_provider_with_its_jwks_inline() -> Result<()> {
        let jwks = json!({"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"}]});
        let filter = jwt_authn("https://idp.example/token", &jwks, Some(100));
        let config = &filter["typed_config"];
        assert_eq!(config["rules"][0]["requires"]["provider_name"], JWT_PROVIDER);
        let provider = &config["providers"][JWT_PROVIDER];
        assert_eq!(provider["issuer"], "https://idp.example/token");
        assert_eq!(provider["jwt_cache_config"]["jwt_cache_size"], 100);
        let inline: Value =
            serde_json::from_str(provider["local_jwks"]["inline_string"].as_str().unwrap_or(""))?;
        assert_eq!(inline["keys"][0]["kid"], "k");
        let uncached = jwt_authn("i", &jwks, None);
        assert!(
            uncached["typed_config"]["providers"][JWT_PROVIDER]
                .get("jwt_cache_config")
                .is_none()
        );
        Ok(())
    }
}
