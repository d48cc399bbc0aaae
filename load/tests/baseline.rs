//! The binary end to end against a URL target (the suites' embedded gateway, started here, with
//! credentials passed as options): it writes a summary, then compares later runs with
//! baselines derived from it, failing past the thresholds.

use std::path::Path;
use std::process::Output;

use anyhow::{Context, Result, ensure};
use portcullis_load::report::RunReport;
use portcullis_load::{Credentials, GatewayOptions, LocalGateway};

fn load(args: &[&str]) -> Result<Output> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis-load"))
        .args([
            "--users",
            "2",
            "--run-time",
            "2s",
            "--quiet",
            "--no-print-metrics",
        ])
        .args(args)
        .output()
        .context("running portcullis-load")?;
    eprintln!(
        "portcullis-load {args:?}: {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output)
}

/// `summary` with every suite's throughput and p99 multiplied.
fn scaled(summary: &RunReport, throughput: f64, p99: f64, path: &Path) -> Result<()> {
    let mut baseline = summary.clone();
    for suite in &mut baseline.suites {
        suite.total.requests_per_second *= throughput;
        suite.total.p99_ms *= p99;
    }
    std::fs::write(path, baseline.json())?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_compares_its_summary_with_a_baseline() -> Result<()> {
    let gateway = LocalGateway::start_suites(GatewayOptions::default(), 1).await?;
    let result = runs(&gateway).await;
    gateway.shutdown().await?;
    result
}

async fn runs(gateway: &LocalGateway) -> Result<()> {
    let idp = gateway
        .gateway()
        .idp()
        .context("the suites' gateway has an IdP")?;
    let token = Credentials::mint(idp)?.bearer_token.context("a token")?;
    let dir = tempfile::tempdir()?;
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (first, html, json) = (path("first"), path("reports/r.html"), path("reports/r.json"));

    // Against a URL, the jwt suite needs a token.
    let refused = load(&[
        "--host",
        gateway.url(),
        "--suite",
        "jwt",
        "--summary",
        first.as_str(),
    ])?;
    ensure!(!refused.status.success(), "the jwt suite ran without a token");
    ensure!(String::from_utf8_lossy(&refused.stderr).contains("--bearer-token"));

    let args = [
        "--host",
        gateway.url(),
        "--suite",
        "plain,jwt",
        "--bearer-token",
        token.as_str(),
    ];
    let output = load(
        &[
            &args[..],
            &[
                "--summary",
                first.as_str(),
                "--report-file",
                html.as_str(),
                "--report-file",
                json.as_str(),
            ],
        ]
        .concat(),
    )?;
    ensure!(output.status.success(), "the first run failed");
    let summary = RunReport::read(&dir.path().join("first.json"))?;
    let suites: Vec<&str> = summary.suites.iter().map(|s| s.suite.as_str()).collect();
    assert_eq!(suites, ["plain", "jwt"]);
    assert!(!summary.embedded);
    assert!(
        summary
            .suites
            .iter()
            .all(|s| s.total.requests > 0 && s.total.failures == 0)
    );
    let markdown = std::fs::read_to_string(dir.path().join("first.md"))?;
    assert!(markdown.contains("| jwt | **all** |"), "{markdown}");
    // Several suites: each its own goose reports.
    assert!(dir.path().join("reports/r-plain-routing.html").exists());
    assert!(dir.path().join("reports/r-jwt.html").exists());

    // A baseline a hundred times faster, with a p99 a hundred times lower: a regression.
    let fast = dir.path().join("fast.json");
    scaled(&summary, 100.0, 0.01, &fast)?;
    let fast = fast.to_string_lossy().into_owned();
    // Reports into the temporary folder too (the default is ./reports).
    let (second, later) = (path("second"), path("reports/later.html"));
    let plain = [
        "--host",
        gateway.url(),
        "--suite",
        "plain",
        "--summary",
        second.as_str(),
        "--report-file",
        later.as_str(),
    ];
    let output = load(&[&plain[..], &["--baseline", fast.as_str()]].concat())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(!output.status.success(), "a regression passed");
    assert!(stdout.contains("**REGRESSED**: throughput dropped"), "{stdout}");
    assert!(stdout.contains("p99 rose"), "{stdout}");
    assert!(
        stdout.contains("| jwt | – |"),
        "the suite not run is listed: {stdout}"
    );

    // A baseline a hundred times slower: within any threshold.
    let slow = dir.path().join("slow.json");
    scaled(&summary, 0.01, 100.0, &slow)?;
    let slow = slow.to_string_lossy().into_owned();
    let output = load(
        &[
            &plain[..],
            &[
                "--baseline",
                slow.as_str(),
                "--max-throughput-drop",
                "5",
                "--max-p99-rise",
                "5",
            ],
        ]
        .concat(),
    )?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(output.status.success(), "an improvement failed: {stdout}");
    assert!(stdout.contains("PASS."), "{stdout}");

    // goose's own JSON report is no baseline.
    let goose_json = path("reports/r-plain-routing.json");
    let output = load(&[&plain[..], &["--baseline", goose_json.as_str()]].concat())?;
    ensure!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("portcullis-load-summary"));
    Ok(())
}
