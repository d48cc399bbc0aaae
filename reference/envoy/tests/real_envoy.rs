//! Tests against the real Envoy binary. On a fresh machine the first of them installs Envoy
//! into the portcullis cache, as the project does on first use.
//!
//! Readiness with no xDS server: Envoy stays `PRE_INITIALIZING`/`INITIALIZING` (admin `/ready`
//! answers 503) until the CDS and then the LDS `initial_fetch_timeout` have run out, one after
//! the other, and only then goes `LIVE`. So these tests use a short timeout to reach LIVE fast.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use portcullis_envoy::{
    BootstrapConfig, EnvoyError, EnvoyOptions, EnvoyProcess, EnvoySource, XDS_CLUSTER_NAME, envoy_version,
    resolve_envoy, resolve_envoy_with,
};

fn envoy_binary() -> PathBuf {
    let (path, source) = resolve_envoy().expect("Envoy resolves (or installs)");
    eprintln!("using Envoy {} ({source:?})", path.display());
    path
}

/// A loopback address nobody listens on, so the ADS stream is refused.
fn unused_loopback_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
    listener.local_addr().expect("local addr")
}

fn options(binary: PathBuf, work_dir: &Path, delta: bool, initial_fetch_timeout: Duration) -> EnvoyOptions {
    let mut bootstrap = BootstrapConfig::new("test-node", unused_loopback_addr());
    bootstrap.delta = delta;
    bootstrap.initial_fetch_timeout = initial_fetch_timeout;
    let mut options = EnvoyOptions::new(binary, bootstrap, work_dir.to_path_buf());
    options.log_level = "info".to_string();
    options.concurrency = Some(1);
    options
}

fn process_exists(pid: u32) -> bool {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid fits i32"));
    nix::sys::signal::kill(pid, None).is_ok()
}

async fn goes_live_without_xds_and_stops(delta: bool) {
    let work = tempfile::tempdir().expect("tempdir");
    let envoy = EnvoyProcess::start(options(
        envoy_binary(),
        work.path(),
        delta,
        Duration::from_millis(300),
    ))
    .await
    .expect("Envoy starts");
    assert!(envoy.admin_address().ip().is_loopback());
    assert_ne!(envoy.admin_address().port(), 0);

    envoy
        .wait_ready(Duration::from_secs(15))
        .await
        .expect("Envoy goes LIVE once the initial fetches time out");

    let info: serde_json::Value =
        serde_json::from_str(&envoy.admin_get("/server_info").await.expect("server_info"))
            .expect("server_info is JSON");
    assert_eq!(info["state"], "LIVE");
    assert_eq!(info["node"]["id"], "test-node");
    let version = info["version"].as_str().unwrap_or_default();
    assert!(version.contains("/1.40."), "{version}");

    let clusters = envoy.admin_get("/clusters").await.expect("clusters");
    assert!(clusters.contains(XDS_CLUSTER_NAME), "{clusters}");
    let dump = envoy.admin_get("/config_dump").await.expect("config_dump");
    let api_type = if delta { "DELTA_GRPC" } else { "\"GRPC\"" };
    assert!(dump.contains(api_type), "{dump}");

    let missing = envoy.admin_get("/no-such-endpoint").await.unwrap_err();
    assert!(
        matches!(missing, EnvoyError::AdminStatus { status: 404, .. }),
        "{missing}"
    );

    let pid = envoy.pid().expect("running Envoy has a pid");
    let log = envoy.log_path().to_path_buf();
    envoy.stop().await.expect("Envoy stops");
    assert!(!process_exists(pid), "Envoy {pid} still exists after stop");
    let log = std::fs::read_to_string(log).expect("envoy.log");
    assert!(log.contains("caught ENVOY_SIGTERM"), "{log}");
}

#[tokio::test]
async fn delta_envoy_goes_live_without_xds_server_and_stops() {
    goes_live_without_xds_and_stops(true).await;
}

#[tokio::test]
async fn sotw_envoy_goes_live_without_xds_server_and_stops() {
    goes_live_without_xds_and_stops(false).await;
}

#[tokio::test]
async fn envoy_is_not_ready_while_waiting_for_xds() {
    let work = tempfile::tempdir().expect("tempdir");
    let envoy = EnvoyProcess::start(options(
        envoy_binary(),
        work.path(),
        true,
        Duration::from_secs(60),
    ))
    .await
    .expect("Envoy starts");
    let err = envoy.wait_ready(Duration::from_millis(1500)).await.unwrap_err();
    match &err {
        EnvoyError::NotReady { last, .. } => {
            assert!(last.starts_with("503"), "{err}");
            assert!(last.contains("INITIALIZING"), "{err}");
        }
        other => panic!("expected NotReady, got {other}"),
    }
    envoy.stop().await.expect("Envoy stops");
}

#[tokio::test]
async fn envoy_that_exits_reports_status_and_log_tail() {
    // Envoy cannot bind its admin port while we hold it, and exits.
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let work = tempfile::tempdir().expect("tempdir");
    let mut options = options(envoy_binary(), work.path(), true, Duration::from_secs(1));
    options.bootstrap.admin_address = held.local_addr().expect("addr");
    let err = match EnvoyProcess::start(options).await {
        Err(e) => e,
        Ok(envoy) => envoy
            .wait_ready(Duration::from_secs(10))
            .await
            .expect_err("Envoy cannot become ready"),
    };
    match &err {
        EnvoyError::Exited { status, log_tail, .. } => {
            assert!(!status.success(), "{err}");
            assert!(log_tail.contains("cannot bind"), "{err}");
        }
        other => panic!("expected Exited, got {other}"),
    }
}

#[tokio::test]
async fn bad_binary_path_is_a_clear_error() {
    let work = tempfile::tempdir().expect("tempdir");
    let options = options(
        PathBuf::from("/nonexistent/envoy"),
        work.path(),
        true,
        Duration::from_secs(1),
    );
    let err = EnvoyProcess::start(options).await.unwrap_err();
    assert!(
        matches!(err, EnvoyError::NotExecutable { .. }),
        "unexpected {err}"
    );
    assert!(err.to_string().contains("/nonexistent/envoy"), "{err}");
    assert!(envoy_version(Path::new("/nonexistent/envoy")).is_err());
}

#[test]
fn env_var_names_the_binary_to_use() {
    let real = envoy_binary();
    assert!(envoy_version(&real).expect("version").starts_with("1.40."));
    let value = real.display().to_string();
    let env = move |name: &str| (name == "PORTCULLIS_ENVOY").then(|| value.clone());
    let (path, source) = resolve_envoy_with(&env).expect("resolves");
    assert_eq!(path, real);
    assert_eq!(source, EnvoySource::EnvVar);
}

/// Several callers racing on an empty cache: one installs, the others wait and reuse it.
#[test]
fn concurrent_first_use_installs_once() {
    let cache = tempfile::tempdir().expect("tempdir");
    let env: HashMap<String, String> = [(
        "PORTCULLIS_CACHE_DIR".to_string(),
        cache.path().display().to_string(),
    )]
    .into();
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| resolve_envoy_with(&|name| env.get(name).cloned())))
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let mut installs = 0;
    for result in &results {
        let (path, source) = result.as_ref().expect("resolves");
        assert!(path.starts_with(cache.path().join("envoy-1.40")), "{path:?}");
        match source {
            EnvoySource::Cache { installed_now } => installs += usize::from(*installed_now),
            other => panic!("expected Cache, got {other:?}"),
        }
    }
    assert_eq!(installs, 1);
    // Only the final directory and the lock remain: no temp dirs left behind.
    let mut names: Vec<String> = std::fs::read_dir(cache.path())
        .expect("read cache")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["envoy-1.40", "envoy-1.40.lock"]);
}
