//! The `portcullis` binary as users run it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const RESOURCES: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portcullis}
spec: {controllerName: portcullis.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: portcullis
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec: {}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cart, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /cart}}]
    backendRefs: [{name: cart, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lost, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  rules:
  - backendRefs: [{name: nowhere, port: 8080}]
"#;

fn portcullis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
}

fn folder(extra: &[(&str, &str)]) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("shop.yaml"), RESOURCES)?;
    for (name, text) in extra {
        std::fs::write(dir.path().join(name), text)?;
    }
    Ok(dir)
}

fn translate(dir: &Path, output: &str) -> Result<(bool, String, String)> {
    let out = portcullis()
        .args(["translate", "--resources"])
        .arg(dir)
        .args(["-o", output])
        .output()?;
    Ok((
        out.status.success(),
        String::from_utf8(out.stdout)?,
        String::from_utf8(out.stderr)?,
    ))
}

#[test]
fn translate_prints_every_condition() -> Result<()> {
    let dir = folder(&[])?;
    let (ok, stdout, stderr) = translate(dir.path(), "status")?;
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("HTTPRoute shop/lost parent shop/edge"),
        "{stdout}"
    );
    assert!(stdout.contains("BackendNotFound"), "{stdout}");
    assert!(
        stdout.contains("spec.rules[0].backendRefs[0]: Service shop/nowhere not found"),
        "{stdout}"
    );
    assert!(stdout.contains("Gateway shop/edge listener http"), "{stdout}");
    assert!(stderr.contains("skipped: Deployment cart"), "{stderr}");
    Ok(())
}

#[test]
fn translate_shows_ir_and_envoy_resources() -> Result<()> {
    let dir = folder(&[])?;
    let (ok, ir, stderr) = translate(dir.path(), "ir")?;
    assert!(ok, "{stderr}");
    assert!(ir.contains("shop/cart/8080"), "{ir}");
    let (ok, xds, stderr) = translate(dir.path(), "xds")?;
    assert!(ok, "{stderr}");
    assert!(
        xds.contains("type.googleapis.com/envoy.config.listener.v3.Listener"),
        "{xds}"
    );
    assert!(xds.contains("path_separated_prefix: /cart"), "{xds}");
    assert!(xds.contains("shop.example.com"), "{xds}");
    Ok(())
}

#[test]
fn translate_names_the_file_and_field_of_bad_input() -> Result<()> {
    let dir = folder(&[
        ("broken.yaml", "kind: [unclosed\n"),
        (
            "typo.yaml",
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: typo, namespace: shop}\nspec:\n  rules:\n  - matches: [{path: {type: Prefix, value: /}}]\n",
        ),
    ])?;
    let (ok, stdout, stderr) = translate(dir.path(), "status")?;
    assert!(!ok, "bad input must fail the command");
    assert!(stderr.contains("broken.yaml#1: invalid YAML"), "{stderr}");
    assert!(
        stderr.contains("typo.yaml#1: HTTPRoute shop/typo: field `spec.rules[0].matches[0].path.type`"),
        "{stderr}"
    );
    // Everything else is still translated.
    assert!(stdout.contains("HTTPRoute shop/cart"), "{stdout}");
    Ok(())
}

struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn run_serves_the_folder_and_writes_the_ready_file() -> Result<()> {
    let dir = folder(&[])?;
    let ready = dir.path().join("state").join("ready.json");
    std::fs::create_dir_all(ready.parent().context("parent")?)?;
    let mut child = Running(
        portcullis()
            .args(["run", "--echo-backends", "--resources"])
            .arg(dir.path())
            .arg("--ready-file")
            .arg(&ready)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let started = Instant::now();
    while !ready.exists() {
        if let Some(status) = child.0.try_wait()? {
            bail!("portcullis run exited early: {status}");
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("no ready file after 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&ready)?)?;
    let listener = &state["listeners"][0];
    assert_eq!(listener["gateway"], "shop/edge");
    assert_eq!(listener["listener"], "http");
    assert_eq!(listener["port"], 80);
    let address = listener["address"].as_str().context("address")?.to_string();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (status, body) = runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build()?;
        let response = client
            .get(format!("http://{address}/cart/1"))
            .header("host", "shop.example.com")
            .send()
            .await?;
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await?;
        anyhow::Ok((status, body))
    })?;
    assert_eq!(status, 200);
    assert!(body["pod"].as_str().unwrap_or("").starts_with("cart-"), "{body}");

    // Ctrl-C stops everything, Envoy included.
    let pid = child.0.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status()?;
    let stopped = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait()? {
            assert!(status.success(), "{status}");
            break;
        }
        if stopped.elapsed() > Duration::from_secs(20) {
            bail!("portcullis run did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.0.stdout.take().context("stdout")?, &mut stdout)?;
    assert!(
        stdout.contains(&format!("gateway shop/edge listener http port 80 -> {address}")),
        "{stdout}"
    );
    Ok(())
}
