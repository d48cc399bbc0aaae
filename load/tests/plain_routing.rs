//! The plain-routing attack, short and light: 2 users for 2 seconds against the embedded
//! gateway on loopback.

use std::time::Duration;

use anyhow::{Context, Result};
use portcullis_load::scenario::PROBES;
use portcullis_load::{LoadArgs, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_attack_routes_every_request_as_expected() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let html = dir.path().join("reports/load.html");
    let json = dir.path().join("reports/load.json");
    let args = LoadArgs::try_parse_args([
        "portcullis-load".as_ref(),
        "--users".as_ref(),
        "2".as_ref(),
        "--run-time".as_ref(),
        "2s".as_ref(),
        "--quiet".as_ref(),
        "--no-print-metrics".as_ref(),
        "--report-file".as_ref(),
        html.as_os_str(),
        "--report-file".as_ref(),
        json.as_os_str(),
    ])?;
    let outcome = tokio::time::timeout(Duration::from_secs(120), run(args))
        .await
        .context("the attack did not end within 120 s")??;
    eprintln!("{}", outcome.summary);

    assert!(
        outcome.target.starts_with("http://127.0.0.1:"),
        "{}",
        outcome.target
    );
    let summary = &outcome.summary;
    assert!(summary.total.requests > 0, "no requests were made");
    assert_eq!(summary.total.failures, 0, "{summary}");
    for probe in PROBES {
        let counts = summary
            .by_request
            .get(&format!("GET {}", probe.name))
            .with_context(|| format!("no metrics for {}: {summary}", probe.name))?;
        assert!(counts.requests > 0, "{}", probe.name);
        assert_eq!(
            counts.statuses.keys().copied().collect::<Vec<_>>(),
            [probe.status],
            "{}",
            probe.name
        );
    }

    assert_eq!(outcome.reports.len(), 2);
    let html = std::fs::read_to_string(&html)?;
    assert!(
        html.contains("plain-routing"),
        "the HTML report names the scenario"
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    assert!(json.is_object());
    Ok(())
}

/// The checks can fail: a probe that expects the wrong Service, and one that expects a 200 where
/// no route matches, are counted as failures with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misrouted_answers_are_counted_as_failures() -> Result<()> {
    use goose::config::GooseConfiguration;
    use goose::prelude::*;
    use portcullis_load::scenario::{Probe, probe_scenario};
    use portcullis_load::{GatewayOptions, LocalGateway, Summary};

    static WRONG: &[Probe] = &[
        Probe {
            name: "cart expected from orders",
            host: "shop.example.com",
            path: "/cart",
            headers: &[],
            status: 200,
            service: Some("orders"),
        },
        Probe {
            name: "200 expected from a miss",
            host: "shop.example.com",
            path: "/nowhere",
            headers: &[],
            status: 200,
            service: Some("cart"),
        },
    ];
    let gateway = LocalGateway::start(GatewayOptions::default()).await?;
    let config = GooseConfiguration::parse_args_default(&[
        "--users",
        "1",
        "--iterations",
        "2",
        "--quiet",
        "--no-print-metrics",
        "--no-telnet",
    ])?;
    let attack = GooseAttack::initialize_with_config(config)?
        .register_scenario(probe_scenario("wrong", WRONG))
        .set_default(GooseDefault::Host, gateway.url())?
        .execute();
    let metrics = tokio::time::timeout(Duration::from_secs(60), attack).await;
    gateway.shutdown().await?;
    let metrics = metrics.context("the attack did not end within 60 s")??;

    let summary = Summary::from_metrics(&metrics);
    assert_eq!(
        (summary.total.requests, summary.total.failures),
        (4, 4),
        "{summary}"
    );
    let errors: Vec<&str> = metrics.errors.values().map(|e| e.error.as_str()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("answered by Service cart, expected orders")),
        "{errors:?}"
    );
    assert_eq!(
        summary.by_request["GET 200 expected from a miss"]
            .statuses
            .get(&404),
        Some(&2)
    );
    Ok(())
}
