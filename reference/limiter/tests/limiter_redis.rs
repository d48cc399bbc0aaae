//! Decisions against a real Redis-compatible server started by the test on a loopback port.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use common::*;
use portcullis_limiter::redis_process::{RedisProcess, resolve_redis_server};
use portcullis_limiter::{DescriptorConfig, Limiter, LimiterOptions, RedisStore, RedisStoreOptions, Unit};
use redis::AsyncCommands;

const WINDOW_START: u64 = 1_700_000_000 / 60 * 60;

/// 20 s into a fixed minute, so a test's requests share one window.
fn mid_minute() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(WINDOW_START + 20)
}

/// Resolve (and on first use install) the server binary once per test binary.
async fn redis_binary() -> Result<PathBuf> {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    if let Some(path) = BINARY.get() {
        return Ok(path.clone());
    }
    let (path, source) = tokio::task::spawn_blocking(resolve_redis_server).await??;
    tracing::info!(path = %path.display(), ?source, "Redis server for tests");
    Ok(BINARY.get_or_init(|| path).clone())
}

async fn start_redis() -> Result<RedisProcess> {
    let binary = redis_binary().await?;
    Ok(tokio::task::spawn_blocking(move || RedisProcess::start(&binary)).await??)
}

/// Generous timeouts: the machine may be busy compiling; fail-open latency is checked separately.
fn store(redis: &RedisProcess) -> Result<Arc<RedisStore>> {
    let options = RedisStoreOptions {
        operation_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_millis(500),
    };
    Ok(Arc::new(RedisStore::with_options(&redis.url(), options)?))
}

async fn redis_get(redis: &RedisProcess, key: &str) -> Result<(Option<u64>, i64)> {
    let client = redis::Client::open(redis.url())?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let value: Option<u64> = connection.get(key).await?;
    let ttl: i64 = connection.ttl(key).await?;
    Ok((value, ttl))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_limiters_sharing_redis_allow_exactly_the_limit() -> Result<()> {
    init_tracing();
    bounded(90, async {
        const TASKS: usize = 40;
        const PER_TASK: usize = 5;
        const LIMIT: usize = 50;
        let redis = start_redis().await?;
        let gateways: Vec<Arc<Limiter>> = (0..2)
            .map(|_| -> Result<Arc<Limiter>> {
                let limiter = Limiter::new(store(&redis)?, LimiterOptions::default());
                let errors = limiter.update_config(config(
                    "gw",
                    vec![DescriptorConfig::key("route").limit(LIMIT as i64, Unit::Minute)],
                ));
                assert!(errors.is_empty());
                Ok(Arc::new(limiter))
            })
            .collect::<Result<_>>()?;
        let now = mid_minute();
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let limiter = gateways[i % 2].clone();
                tokio::spawn(async move {
                    let mut allowed = 0;
                    for _ in 0..PER_TASK {
                        let req = request("gw", &[&[("route", "orders")]]);
                        allowed += usize::from(is_ok(&limiter.should_rate_limit_at(&req, now).await?));
                    }
                    anyhow::Ok(allowed)
                })
            })
            .collect();
        let mut allowed = 0;
        for task in tasks {
            allowed += task.await??;
        }
        assert_eq!(allowed, LIMIT);
        for gateway in &gateways {
            assert_eq!(gateway.stats().snapshot().store_errors, 0);
        }
        let key = format!("portcullis:gw_route_orders_{WINDOW_START}");
        let (count, ttl) = redis_get(&redis, &key).await?;
        assert_eq!(
            count,
            Some((TASKS * PER_TASK) as u64),
            "every hit counted once in Redis"
        );
        assert!((1..=60).contains(&ttl), "TTL {ttl}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_redis_fails_open_and_restarted_redis_counts_again() -> Result<()> {
    init_tracing();
    bounded(90, async {
        let mut redis = start_redis().await?;
        let port = redis.port();
        let limiter = Limiter::new(store(&redis)?, LimiterOptions::default());
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(3, Unit::Minute)],
        ));
        let now = mid_minute();
        let req = |value: &str| request("gw", &[&[("k", value)]]);

        for _ in 0..2 {
            assert!(is_ok(&limiter.should_rate_limit_at(&req("a"), now).await?));
        }
        assert_eq!(limiter.stats().snapshot().store_errors, 0);

        let mut redis = tokio::task::spawn_blocking(move || {
            redis.kill();
            redis
        })
        .await?;
        // Over the limit if counted, but the store is gone: allowed, and each error counted.
        for i in 1..=5 {
            let started = Instant::now();
            let response = limiter.should_rate_limit_at(&req("a"), now).await?;
            assert!(is_ok(&response), "fail open");
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "a down store answers within its timeout"
            );
            assert_eq!(limiter.stats().snapshot().store_errors, i);
        }

        let redis = tokio::task::spawn_blocking(move || redis.restart().map(|()| redis)).await??;
        assert_eq!(redis.port(), port);
        // The connection manager reconnects on demand; wait until a request gets through.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut probe = 0;
        loop {
            let errors_before = limiter.stats().snapshot().store_errors;
            limiter
                .should_rate_limit_at(&req(&format!("probe-{probe}")), now)
                .await?;
            if limiter.stats().snapshot().store_errors == errors_before {
                break;
            }
            probe += 1;
            anyhow::ensure!(Instant::now() < deadline, "limiter never reconnected to Redis");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // Counting is exact again, on the same limiter.
        let mut verdicts = Vec::new();
        for _ in 0..5 {
            verdicts.push(is_ok(&limiter.should_rate_limit_at(&req("b"), now).await?));
        }
        assert_eq!(verdicts, [true, true, true, false, false]);
        let (count, _) = redis_get(&redis, &format!("portcullis:gw_k_b_{WINDOW_START}")).await?;
        assert_eq!(count, Some(5));
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_limit_cache_stops_redis_traffic_for_the_window() -> Result<()> {
    init_tracing();
    bounded(60, async {
        let redis = start_redis().await?;
        let options = LimiterOptions {
            over_limit_cache: true,
            ..Default::default()
        };
        let limiter = Limiter::new(store(&redis)?, options);
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(2, Unit::Minute)],
        ));
        let now = mid_minute();
        let req = request("gw", &[&[("k", "v")]]);
        let mut verdicts = Vec::new();
        for _ in 0..6 {
            verdicts.push(is_ok(&limiter.should_rate_limit_at(&req, now).await?));
        }
        assert_eq!(verdicts, [true, true, false, false, false, false]);
        let (count, _) = redis_get(&redis, &format!("portcullis:gw_k_v_{WINDOW_START}"))
            .await
            .context("reading the counter")?;
        assert_eq!(
            count,
            Some(3),
            "requests after the first denial never reached Redis"
        );
        assert_eq!(limiter.stats().snapshot().over_limit_cache_hits, 3);
        Ok(())
    })
    .await
}
