//! Running and supervising one Envoy process.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::{BootstrapConfig, EnvoyError, bootstrap_yaml};
use portcullis_pip_cache::tail_lines;

/// File name of the bootstrap inside the work dir.
pub const BOOTSTRAP_FILE: &str = "envoy.yaml";
/// File name Envoy writes its bound admin address to, inside the work dir.
pub const ADMIN_ADDRESS_FILE: &str = "admin-address";
/// File name of Envoy's combined stdout and stderr, inside the work dir.
pub const LOG_FILE: &str = "envoy.log";

/// How long Envoy may take to parse its bootstrap and bind admin (a cold start takes ~0.1 s).
const ADMIN_ADDRESS_TIMEOUT: Duration = Duration::from_secs(20);
/// How long Envoy may take to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Lines of envoy.log quoted in errors.
const LOG_TAIL_LINES: usize = 20;

/// How to run Envoy.
#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    /// The Envoy binary, e.g. from [`crate::resolve_envoy`].
    pub binary: PathBuf,
    /// The bootstrap to run with.
    pub bootstrap: BootstrapConfig,
    /// Where the bootstrap, admin address file and envoy.log are written (created if missing).
    pub work_dir: PathBuf,
    /// Envoy `--log-level` (trace, debug, info, warning, error, critical, off).
    pub log_level: String,
    /// Envoy `--concurrency` (worker threads); `None` leaves Envoy's default of one per core.
    pub concurrency: Option<u32>,
}

impl EnvoyOptions {
    /// Options with log level `warning` and default concurrency.
    pub fn new(binary: PathBuf, bootstrap: BootstrapConfig, work_dir: PathBuf) -> Self {
        EnvoyOptions {
            binary,
            bootstrap,
            work_dir,
            log_level: "warning".to_string(),
            concurrency: None,
        }
    }
}

/// A running Envoy; killed when dropped.
#[derive(Debug)]
pub struct EnvoyProcess {
    // A std mutex: it is only held for non-blocking `try_wait`, never across an await.
    child: Mutex<Child>,
    admin: SocketAddr,
    log_path: PathBuf,
    http: reqwest::Client,
}

impl EnvoyProcess {
    /// Write the bootstrap, spawn Envoy and wait until it reports its admin address.
    pub async fn start(options: EnvoyOptions) -> Result<Self, EnvoyError> {
        let EnvoyOptions {
            binary,
            bootstrap,
            work_dir,
            log_level,
            concurrency,
        } = options;
        tokio::fs::create_dir_all(&work_dir)
            .await
            .map_err(|e| EnvoyError::io(format!("creating {}", work_dir.display()), e))?;
        let bootstrap_path = work_dir.join(BOOTSTRAP_FILE);
        tokio::fs::write(&bootstrap_path, bootstrap_yaml(&bootstrap))
            .await
            .map_err(|e| EnvoyError::io(format!("writing {}", bootstrap_path.display()), e))?;
        // A stale file from an earlier run would give us the wrong address.
        let admin_path = work_dir.join(ADMIN_ADDRESS_FILE);
        match tokio::fs::remove_file(&admin_path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(EnvoyError::io(format!("removing {}", admin_path.display()), e));
            }
        }
        let log_path = work_dir.join(LOG_FILE);
        let log = std::fs::File::create(&log_path)
            .map_err(|e| EnvoyError::io(format!("creating {}", log_path.display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| EnvoyError::io(format!("duplicating {}", log_path.display()), e))?;

        let mut command = Command::new(&binary);
        command
            .arg("-c")
            .arg(&bootstrap_path)
            // Hot restart uses a shared-memory region per base id; without this flag a second
            // Envoy on the same machine fails to start.
            .arg("--disable-hot-restart")
            .arg("--admin-address-path")
            .arg(&admin_path)
            .arg("--log-level")
            .arg(&log_level);
        if let Some(n) = concurrency {
            command.arg("--concurrency").arg(n.to_string());
        }
        command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true);
        // If the control plane dies without cleaning up (SIGKILL, a panicking test), the
        // kernel stops Envoy too instead of leaving it holding the ports.
        // SAFETY: the closure runs in the forked child before exec and only makes one
        // async-signal-safe system call.
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        let mut child = command.spawn().map_err(|source| EnvoyError::NotExecutable {
            path: binary.clone(),
            source,
        })?;
        debug!(binary = %binary.display(), pid = ?child.id(), "spawned Envoy");

        let deadline = Instant::now() + ADMIN_ADDRESS_TIMEOUT;
        let bound = loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|e| EnvoyError::io("checking on Envoy", e))?
            {
                return Err(exited(status, &log_path));
            }
            // Envoy may be mid-write, so only a parseable address counts.
            if let Ok(text) = tokio::fs::read_to_string(&admin_path).await
                && let Ok(addr) = text.trim().parse::<SocketAddr>()
            {
                break addr;
            }
            if Instant::now() >= deadline {
                return Err(EnvoyError::AdminAddressTimeout {
                    path: admin_path,
                    timeout: ADMIN_ADDRESS_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let admin = connectable(bound);
        info!(%admin, node = %bootstrap.node_id, log = %log_path.display(), "Envoy started");

        // Loopback admin traffic must never go through a proxy from the environment.
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| EnvoyError::Admin {
                path: "(building HTTP client)".to_string(),
                source,
            })?;
        Ok(EnvoyProcess {
            child: Mutex::new(child),
            admin,
            log_path,
            http,
        })
    }

    /// The admin address, with an unspecified bind address replaced by loopback.
    pub fn admin_address(&self) -> SocketAddr {
        self.admin
    }

    /// Path of envoy.log (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The OS process id, unless the process has already been reaped.
    pub fn pid(&self) -> Option<u32> {
        self.lock_child().id()
    }

    /// `Ok` while Envoy runs; [`EnvoyError::Exited`] with the log tail once it has exited.
    pub fn check_running(&self) -> Result<(), EnvoyError> {
        let status = self
            .lock_child()
            .try_wait()
            .map_err(|e| EnvoyError::io("checking on Envoy", e))?;
        match status {
            Some(status) => Err(exited(status, &self.log_path)),
            None => Ok(()),
        }
    }

    /// Poll admin `GET /ready` until it answers 200 `LIVE`.
    ///
    /// With ADS configured Envoy stays `INITIALIZING` until the xDS server has answered CDS and
    /// LDS, or until each `initial_fetch_timeout` has run out (one after the other).
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), EnvoyError> {
        let deadline = Instant::now() + timeout;
        let url = self.url("/ready");
        loop {
            self.check_running()?;
            let attempt = self.http.get(&url).timeout(Duration::from_secs(1)).send().await;
            let last = match attempt {
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    if status.is_success() && body.trim() == "LIVE" {
                        debug!(admin = %self.admin, "Envoy is LIVE");
                        return Ok(());
                    }
                    format!("{} {}", status.as_u16(), body.trim())
                }
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(EnvoyError::NotReady { timeout, last });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET` an admin path such as `/config_dump` or `/stats?filter=...`; the body on 2xx.
    pub async fn admin_get(&self, path: &str) -> Result<String, EnvoyError> {
        self.admin_request(reqwest::Method::GET, path).await
    }

    /// `POST` an admin path such as `/logging?level=debug` or `/drain_listeners`; the body on 2xx.
    pub async fn admin_post(&self, path: &str) -> Result<String, EnvoyError> {
        self.admin_request(reqwest::Method::POST, path).await
    }

    /// Send SIGTERM, wait up to a grace period, then kill; an earlier crash is reported.
    pub async fn stop(self) -> Result<(), EnvoyError> {
        let mut child = self.child.into_inner().unwrap_or_else(PoisonError::into_inner);
        if let Some(status) = child
            .try_wait()
            .map_err(|e| EnvoyError::io("checking on Envoy", e))?
        {
            return if status.success() {
                Ok(())
            } else {
                Err(exited(status, &self.log_path))
            };
        }
        let pid = child.id().and_then(|pid| i32::try_from(pid).ok());
        if let Some(pid) = pid {
            use nix::sys::signal::{Signal, kill};
            if let Err(e) = kill(nix::unistd::Pid::from_raw(pid), Signal::SIGTERM) {
                warn!(pid, error = %e, "sending SIGTERM to Envoy failed");
            }
        }
        match tokio::time::timeout(STOP_GRACE, child.wait()).await {
            Ok(Ok(status)) => {
                debug!(%status, "Envoy stopped");
                Ok(())
            }
            Ok(Err(e)) => Err(EnvoyError::io("waiting for Envoy to exit", e)),
            Err(_) => {
                warn!(grace = ?STOP_GRACE, "Envoy ignored SIGTERM; killing it");
                child.kill().await.map_err(|e| EnvoyError::io("killing Envoy", e))
            }
        }
    }

    async fn admin_request(&self, method: reqwest::Method, path: &str) -> Result<String, EnvoyError> {
        let admin_err = |source| EnvoyError::Admin {
            path: path.to_string(),
            source,
        };
        let response = self
            .http
            .request(method, self.url(path))
            .send()
            .await
            .map_err(admin_err)?;
        let status = response.status();
        let body = response.text().await.map_err(admin_err)?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(EnvoyError::AdminStatus {
                path: path.to_string(),
                status: status.as_u16(),
                body,
            })
        }
    }

    fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.admin)
    }

    fn lock_child(&self) -> std::sync::MutexGuard<'_, Child> {
        // Poisoning only means a panic elsewhere; the Child handle itself stays valid.
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An address a client can connect to: `0.0.0.0`/`::` become loopback.
fn connectable(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bound.port())
        }
        _ => bound,
    }
}

fn exited(status: ExitStatus, log_path: &Path) -> EnvoyError {
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    EnvoyError::Exited {
        status,
        log: log_path.to_path_buf(),
        log_tail: tail_lines(&log, LOG_TAIL_LINES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_admin_becomes_loopback() {
        assert_eq!(
            connectable("0.0.0.0:9901".parse().unwrap()),
            "127.0.0.1:9901".parse().unwrap()
        );
        assert_eq!(
            connectable("[::]:9901".parse().unwrap()),
            "[::1]:9901".parse().unwrap()
        );
        assert_eq!(
            connectable("127.0.0.2:1".parse().unwrap()),
            "127.0.0.2:1".parse().unwrap()
        );
    }
}
