//! The whole rate-limit benchmark, tiny: 2 users, 1 s per run, 1 repeat — two real Envoys, a
//! real Valkey, and the limiter alone over gRPC.

use std::time::Duration;

use anyhow::{Context, Result};
use portcullis_load::bench::{self, BenchOptions, COMMAND, Configuration, REPORT_FILES};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_benchmark_measures_all_four_configurations_without_failures() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("reports");
    let options = BenchOptions::try_parse_args([
        COMMAND.as_ref(),
        "--users".as_ref(),
        "2".as_ref(),
        "--seconds".as_ref(),
        "1".as_ref(),
        "--repeats".as_ref(),
        "1".as_ref(),
        "--warmup".as_ref(),
        "0.2".as_ref(),
        "--out-dir".as_ref(),
        out.as_os_str(),
    ])?;
    let report = tokio::time::timeout(Duration::from_secs(180), bench::run(&options))
        .await
        .context("the benchmark did not end within 180 s")??;
    let markdown = report.markdown();
    eprintln!("{markdown}");

    assert!(report.ok(), "{:?}", report.problems);
    let numbers: Vec<usize> = report.rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    for row in &report.rows {
        assert_eq!(row.samples.len(), 1, "{}", row.label);
        assert!(row.requests > 0, "{}: no requests", row.label);
        assert_eq!((row.failures, row.throttled), (0, 0), "{}", row.label);
        assert!(
            row.per_second.median > 0.0 && row.p99_ms.median > 0.0,
            "{}",
            row.label
        );
        let line = format!("| {} | {} | ", row.number, row.label);
        assert!(markdown.contains(&line), "no row {line:?} in\n{markdown}");
    }
    // Every limited request was decided by the limiter behind its route (for the floor: the
    // no-op service was called); the open ones never.
    for row in &report.rows {
        let decisions = row.samples[0].limiter.map_or(0, |l| l.decisions);
        match row.configuration {
            Configuration::Unlimited | Configuration::StaticControl => assert_eq!(decisions, 0),
            _ => assert!(decisions >= row.requests, "{}: {decisions} decisions", row.label),
        }
    }
    assert_eq!(report.rows[0].ratio_to_unlimited, Some(1.0));
    assert_eq!(report.targets.len(), 2);
    assert!(markdown.contains("PASS") || markdown.contains("MISS"));
    assert!(report.machine.nproc >= 1);
    assert!(!report.machine.cpu_model.is_empty());

    let files = bench::write(&report, &out)?;
    assert_eq!(files, REPORT_FILES.map(|f| out.join(f)));
    assert_eq!(std::fs::read_to_string(&files[0])?, markdown);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[1])?)?;
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(6));
    assert!(
        report.rows[5].ratio_to_unlimited.is_some(),
        "the floor is held against (5)"
    );
    assert!(markdown.contains("The floor:"), "{markdown}");
    assert_eq!(json["rows"][2]["configuration"], "redis");
    Ok(())
}
