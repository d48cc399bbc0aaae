//! The whole gateway benchmark, tiny: 1 user, 1 s per run, 1 repeat — a static Envoy (bare and
//! with jwt_authn + local_ratelimit), two embedded gateways (limiter in memory, in Redis), a
//! real Valkey, one echo backend. No timing is asserted: only that every configuration was
//! checked, measured, answered and counted by its filters.

use std::time::Duration;

use anyhow::{Context, Result};
use portcullis_load::bench::gateway::{self, COMMAND, Configuration, GatewayBenchOptions, REPORT_FILES};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_benchmark_measures_all_four_configurations_and_their_filters() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("reports");
    let options = GatewayBenchOptions::try_parse_args([
        COMMAND.as_ref(),
        "--users".as_ref(),
        "1".as_ref(),
        "--seconds".as_ref(),
        "1".as_ref(),
        "--repeats".as_ref(),
        "1".as_ref(),
        "--warmup".as_ref(),
        "0.2".as_ref(),
        "--out-dir".as_ref(),
        out.as_os_str(),
    ])?;
    // An Err here means a configuration failed its check (401 without the token or with a
    // forged one, 200 with it, its filters' counters moved) before the first run.
    let report = tokio::time::timeout(Duration::from_secs(240), gateway::run(&options))
        .await
        .context("the benchmark did not end within 240 s")??;
    let markdown = report.markdown();
    eprintln!("{markdown}");

    assert!(report.ok(), "{:?}", report.problems);
    let measured: Vec<Configuration> = report.rows.iter().map(|r| r.configuration).collect();
    assert_eq!(measured, Configuration::ALL);
    for row in &report.rows {
        assert_eq!(row.runs.len(), 1, "{}", row.label);
        let run = &row.runs[0];
        assert!(
            row.requests > 0 && row.per_second.value.median > 0.0,
            "{}: no throughput",
            row.label
        );
        assert_eq!(row.failures, 0, "{}", row.label);
        assert_eq!(
            run.sample.outcomes.keys().collect::<Vec<_>>(),
            ["200"],
            "{}",
            row.label
        );
        let requests = run.sample.requests;
        let calls = run.calls;
        match row.configuration {
            Configuration::BareEnvoy => assert_eq!(calls, gateway::Calls::default()),
            Configuration::NativeFilters => {
                assert!(
                    calls.jwt_authn_allowed.is_some_and(|n| n >= requests),
                    "{calls:?}"
                );
                assert!(
                    calls.local_rate_limit_ok.is_some_and(|n| n >= requests),
                    "{calls:?}"
                );
                assert_eq!(calls.enforcer_calls, None);
            }
            Configuration::GatewayInMemory | Configuration::GatewayRedis => {
                assert!(calls.enforcer_calls.is_some_and(|n| n >= requests), "{calls:?}");
                assert!(
                    calls.limiter_decisions.is_some_and(|n| n >= requests),
                    "{calls:?}"
                );
                assert_eq!(calls.limiter_store_errors, Some(0));
                assert_eq!(calls.jwt_authn_allowed, None);
            }
            Configuration::CallsFloor => {
                assert!(calls.noop_authz_calls.is_some_and(|n| n >= requests), "{calls:?}");
                assert!(
                    calls.noop_rate_limit_calls.is_some_and(|n| n >= requests),
                    "{calls:?}"
                );
                assert_eq!(calls.enforcer_calls, None);
            }
        }
        assert!(row.per_second.vs_bare.is_some(), "{}: no ratio to (1)", row.label);
        let line = format!("| {} | {} | ", row.number, row.label);
        assert!(markdown.contains(&line), "no row {line:?} in\n{markdown}");
    }
    assert_eq!(report.rows[0].per_second.vs_bare.map(|s| s.median), Some(1.0));
    assert_eq!(report.targets.len(), 3);
    assert!(report.targets.iter().all(|t| t.measured.is_some()));
    assert!(
        report.machine.nproc >= 1 && !report.machine.envoy.is_empty() && !report.machine.redis.is_empty()
    );

    let files = gateway::write(&report, &out)?;
    assert_eq!(files, REPORT_FILES.map(|f| out.join(f)));
    assert_eq!(std::fs::read_to_string(&files[0])?, markdown);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[1])?)?;
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(5));
    assert_eq!(json["rows"][3]["configuration"], "gateway-redis");
    assert!(
        json["rows"][2]["runs"][0]["calls"]["enforcer_calls"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    Ok(())
}
