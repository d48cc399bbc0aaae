//! A second Envoy, the same binary as the gateway's, started from a static bootstrap: one
//! listener with Envoy's native `jwt_authn` filter in front of the echo backend, and one
//! without it (a control: the same static Envoy, no auth).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The jwt_authn provider's name.
pub const PROVIDER: &str = "idp";

/// How long Envoy may take to bind its admin address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the static Envoy verifies tokens against and where it sends requests.
#[derive(Clone, Debug)]
pub struct JwtEnvoyConfig {
    /// The tokens' `iss`.
    pub issuer: String,
    /// The IdP's JWKS, inlined as `local_jwks`.
    pub jwks: Value,
    /// The echo backend.
    pub backend: SocketAddr,
    /// `jwt_cache_config.jwt_cache_size` of the provider; `None` leaves the cache off.
    pub jwt_cache_size: Option<u32>,
    /// The listener with `jwt_authn`.
    pub secured: SocketAddr,
    /// The listener without it.
    pub open: SocketAddr,
}

/// The bootstrap, as JSON (which Envoy reads as YAML too).
pub fn bootstrap(config: &JwtEnvoyConfig) -> Value {
    let mut provider = json!({
        "issuer": config.issuer,
        "local_jwks": {"inline_string": config.jwks.to_string()},
        "forward": false,
    });
    if let Some(size) = config.jwt_cache_size {
        provider["jwt_cache_config"] = json!({"jwt_cache_size": size});
    }
    let jwt_authn = json!({
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {PROVIDER: provider},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": PROVIDER}}],
        },
    });
    json!({
        "node": {"id": "portcullis-bench-auth", "cluster": "portcullis-bench-auth"},
        "admin": {"address": socket(SocketAddr::from(([127, 0, 0, 1], 0)))},
        "static_resources": {
            "listeners": [
                listener("jwt_authn", config.secured, vec![jwt_authn]),
                listener("open", config.open, Vec::new()),
            ],
            "clusters": [{
                "name": "echo",
                "type": "STATIC",
                "connect_timeout": "1s",
                "load_assignment": {
                    "cluster_name": "echo",
                    "endpoints": [{"lb_endpoints": [{"endpoint": {"address": socket(config.backend)}}]}],
                },
            }],
        },
    })
}

fn socket(address: SocketAddr) -> Value {
    json!({"socket_address": {"address": address.ip().to_string(), "port_value": address.port()}})
}

fn listener(name: &str, address: SocketAddr, mut filters: Vec<Value>) -> Value {
    filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
    }));
    json!({
        "name": name,
        "address": socket(address),
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
                        "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "echo"}}],
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
pub struct JwtEnvoy {
    child: Child,
    log: PathBuf,
    _work_dir: tempfile::TempDir,
}

impl JwtEnvoy {
    /// Writes the bootstrap and starts `binary` on it; returns once its admin address is bound
    /// (the listeners are checked by the caller's probes).
    pub async fn start(binary: &Path, config: &JwtEnvoyConfig, log_level: &str) -> Result<Self> {
        let work_dir = tempfile::Builder::new()
            .prefix("portcullis-bench-auth-")
            .tempdir()
            .context("creating Envoy's work folder")?;
        let bootstrap_path = work_dir.path().join("bootstrap.yaml");
        let text = serde_json::to_string_pretty(&bootstrap(config)).context("rendering the bootstrap")?;
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
        loop {
            if let Some(status) = child.try_wait().context("checking on Envoy")? {
                bail!("Envoy exited ({status}): {}", tail(&log));
            }
            if std::fs::read_to_string(&admin_path).is_ok_and(|t| t.trim().parse::<SocketAddr>().is_ok()) {
                break;
            }
            if Instant::now() >= deadline {
                bail!("Envoy did not start within {START_TIMEOUT:?}: {}", tail(&log));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(JwtEnvoy {
            child,
            log,
            _work_dir: work_dir,
        })
    }

    /// Its process id, unless it has been reaped.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The end of its log, for errors.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// Kills it and waits for it.
    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await.context("stopping the jwt_authn Envoy")
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

    fn config(cache: Option<u32>) -> JwtEnvoyConfig {
        JwtEnvoyConfig {
            issuer: "https://idp.example/token".into(),
            jwks: json!({"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"}]}),
            backend: SocketAddr::from(([127, 0, 0, 1], 9000)),
            jwt_cache_size: cache,
            secured: SocketAddr::from(([127, 0, 0, 1], 9001)),
            open: SocketAddr::from(([127, 0, 0, 1], 9002)),
        }
    }

    #[test]
    fn the_secured_listener_requires_the_provider_and_the_open_one_does_not() {
        let boot = bootstrap(&config(Some(100)));
        let listeners = &boot["static_resources"]["listeners"];
        let filters = |i: usize| {
            listeners[i]["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let secured = filters(0);
        assert_eq!(secured.len(), 2);
        let authn = &secured[0]["typed_config"];
        assert_eq!(authn["rules"][0]["requires"]["provider_name"], PROVIDER);
        let provider = &authn["providers"][PROVIDER];
        assert_eq!(provider["issuer"], "https://idp.example/token");
        assert_eq!(provider["jwt_cache_config"]["jwt_cache_size"], 100);
        let inline: Value =
            serde_json::from_str(provider["local_jwks"]["inline_string"].as_str().unwrap_or(""))
                .expect("the JWKS inlined as a JSON string");
        assert_eq!(inline["keys"][0]["kid"], "k");
        assert_eq!(filters(1).len(), 1, "the open listener has the router only");
        assert_eq!(listeners[1]["address"]["socket_address"]["port_value"], 9002);
        let cluster = &boot["static_resources"]["clusters"][0];
        assert_eq!(
            cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]
                ["port_value"],
            9000
        );
        assert!(bootstrap(&config(None))["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"]["http_filters"][0]["typed_config"]["providers"][PROVIDER]
            .get("jwt_cache_config")
            .is_none());
    }
}
