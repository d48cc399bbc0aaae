//! Every suite beyond plain routing, briefly, through one embedded gateway (one Envoy, the real
//! enforcer and limiter, tokens and API keys from its IdP): each must see the outcomes it is
//! built to provoke, with no failed request.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use goose::config::GooseConfiguration;
use portcullis_load::summary::Counts;
use portcullis_load::{Credentials, GatewayOptions, LocalGateway, Suite, SuiteContext, SuiteRun, run_suite};

/// A few seconds of 2 users, no reports.
fn short() -> Result<GooseConfiguration> {
    Ok(GooseConfiguration::parse_args_default(&[
        "--users",
        "2",
        "--run-time",
        "2s",
        "--quiet",
        "--no-print-metrics",
    ])?)
}

fn statuses(counts: &Counts) -> Vec<u16> {
    counts.statuses.keys().copied().collect()
}

fn request<'a>(run: &'a SuiteRun, key: &str) -> Result<&'a Counts> {
    let counts = run
        .summary
        .by_request
        .get(key)
        .with_context(|| format!("no metrics for {key}: {}", run.summary))?;
    ensure!(counts.requests > 0, "{key} made no request");
    Ok(counts)
}

async fn attack(suite: Suite, context: &SuiteContext, url: &str) -> Result<SuiteRun> {
    let run = tokio::time::timeout(
        Duration::from_secs(60),
        run_suite(suite, short()?, context, Some(url), false),
    )
    .await
    .with_context(|| format!("{} did not end within 60 s", suite.name()))??;
    eprintln!("[{}] {}", suite.name(), run.summary);
    ensure!(run.summary.total.requests > 0, "{}: no requests", suite.name());
    ensure!(
        run.summary.total.failures == 0,
        "{}: failures: {}\n{:?}",
        suite.name(),
        run.summary,
        run.metrics.errors.values().map(|e| &e.error).collect::<Vec<_>>()
    );
    Ok(run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_suite_sees_the_outcomes_it_provokes() -> Result<()> {
    const HOSTS: usize = 50;
    let gateway = LocalGateway::start_suites(GatewayOptions::default(), HOSTS).await?;
    let result = suites(&gateway, HOSTS).await;
    gateway.shutdown().await?;
    result
}

async fn suites(gateway: &LocalGateway, hosts: usize) -> Result<()> {
    let idp = gateway
        .gateway()
        .idp()
        .context("the suites' gateway has an IdP")?;
    let context = SuiteContext {
        credentials: Credentials::mint(idp)?,
        many_hosts: hosts,
        ..SuiteContext::default()
    };
    let url = gateway.url();

    // jwt: the token opens the API, and the enforcer checks: no token is a 401.
    let run = attack(Suite::Jwt, &context, url).await?;
    assert_eq!(statuses(request(&run, "GET jwt: token -> 200")?), [200]);
    assert_eq!(statuses(request(&run, "GET jwt: no token -> 401")?), [401]);

    // api-key: the key opens the API; no key, or a token instead, is a 401.
    let run = attack(Suite::ApiKey, &context, url).await?;
    assert_eq!(statuses(request(&run, "GET api-key: key -> 200")?), [200]);
    assert_eq!(statuses(request(&run, "GET api-key: no key -> 401")?), [401]);
    assert_eq!(
        statuses(request(&run, "GET api-key: bearer token instead -> 401")?),
        [401]
    );

    // rate-limited: 429s over the limit (counted as expected), none under it.
    let run = attack(Suite::RateLimited, &context, url).await?;
    let under = request(&run, "GET rate-limited: under the limit -> 200")?;
    assert_eq!(statuses(under), [200]);
    let over = request(&run, "GET rate-limited: over the limit -> 429")?;
    let throttled = over.statuses.get(&429).copied().unwrap_or(0);
    assert!(throttled > 0, "no 429 over the limit: {over:?}");
    assert!(over.statuses.get(&200).copied().unwrap_or(0) <= 10, "{over:?}");
    assert_eq!(over.failures, 0);

    // large-bodies: the echo backend received every byte of both sizes.
    let run = attack(Suite::LargeBodies, &context, url).await?;
    for key in ["POST large-bodies: POST 1 KiB", "POST large-bodies: POST 100 KiB"] {
        assert_eq!(statuses(request(&run, key)?), [200], "{key}");
    }
    let lengths: Vec<usize> = run.observed.echoed_lengths.keys().copied().collect();
    assert_eq!(lengths, [1024, 100 * 1024]);

    // many-hosts: requests spread over (nearly) every generated hostname.
    let run = attack(Suite::ManyHosts, &context, url).await?;
    assert!(
        run.observed.distinct_hosts >= hosts.min(run.summary.total.requests),
        "{} distinct hosts of {hosts} in {} requests",
        run.observed.distinct_hosts,
        run.summary.total.requests
    );
    assert!(run.observed.distinct_hosts > 1);
    assert_eq!(run.stats().distinct_hosts, run.observed.distinct_hosts);

    // mixed: every kind of request, JSON POSTs included, each with its expected status.
    let run = attack(Suite::Mixed, &context, url).await?;
    let posts = request(&run, "POST mixed: jwt POST JSON -> 200")?;
    assert_eq!(statuses(posts), [200]);
    assert_eq!(statuses(request(&run, "GET mixed: jwt no token -> 401")?), [401]);
    assert!(run.summary.by_request.len() >= 5, "{}", run.summary);
    assert!(!run.observed.echoed_lengths.is_empty());
    Ok(())
}
