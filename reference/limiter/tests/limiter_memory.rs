//! Decisions with the in-memory store: exactness, headers, shadow mode, windows, config swaps,
//! fail modes.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use common::*;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::google::protobuf::UInt64Value;
use portcullis_limiter::{
    DescriptorConfig, FailMode, LimitError, Limiter, LimiterOptions, MemoryStore, StoreError, Unit,
};

/// A fixed instant mid-minute, so every request of a test lands in one window.
fn mid_minute() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 / 60 * 60 + 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_the_limit_is_allowed_under_concurrency() -> Result<()> {
    bounded(30, async {
        const TASKS: usize = 64;
        const PER_TASK: usize = 8;
        const LIMIT: usize = 100;
        let limiter = Arc::new(Limiter::in_memory());
        let errors = limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("route").limit(LIMIT as i64, Unit::Minute)],
        ));
        assert!(errors.is_empty());
        let now = mid_minute();
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    let mut allowed = 0;
                    for _ in 0..PER_TASK {
                        let response = limiter
                            .should_rate_limit_at(&request("gw", &[&[("route", "orders")]]), now)
                            .await?;
                        allowed += usize::from(is_ok(&response));
                        tokio::task::yield_now().await;
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
        let stats = limiter.stats().snapshot();
        assert_eq!(stats.decisions, (TASKS * PER_TASK) as u64);
        assert_eq!(stats.over_limit, (TASKS * PER_TASK - LIMIT) as u64);
        // A different value under the key-only entry has its own counter.
        let other = limiter
            .should_rate_limit_at(&request("gw", &[&[("route", "users")]]), now)
            .await?;
        assert!(is_ok(&other));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn headers_report_the_tightest_descriptor_on_ok_and_over_limit() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::in_memory();
        limiter.update_config(config(
            "gw",
            vec![
                DescriptorConfig::key("route").limit(10, Unit::Minute),
                DescriptorConfig::key("user").limit(2, Unit::Minute),
            ],
        ));
        let now = mid_minute();
        let req = request("gw", &[&[("route", "r")], &[("user", "alice")]]);
        let expect = [
            ("2", "1", Code::Ok),
            ("2", "0", Code::Ok),
            ("2", "0", Code::OverLimit),
        ];
        for (limit, remaining, code) in expect {
            let response = limiter.should_rate_limit_at(&req, now).await?;
            assert_eq!(response.overall_code, code as i32);
            assert_eq!(header(&response, "RateLimit-Limit"), Some(limit));
            assert_eq!(header(&response, "RateLimit-Remaining"), Some(remaining));
            // 20 s into the minute: 40 s left.
            assert_eq!(header(&response, "RateLimit-Reset"), Some("40"));
            assert_eq!(response.statuses.len(), 2);
            let route = &response.statuses[0];
            assert_eq!(route.code, Code::Ok as i32);
            assert_eq!(
                route.current_limit.as_ref().map(|l| l.requests_per_unit),
                Some(10)
            );
            assert_eq!(route.duration_until_reset.map(|d| d.seconds), Some(40));
        }
        Ok(())
    })
    .await
}

#[tokio::test]
async fn descriptors_matching_nothing_are_allowed_without_headers() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::in_memory();
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("route").limit(1, Unit::Minute)],
        ));
        for _ in 0..3 {
            let unknown_key = limiter
                .should_rate_limit(&request("gw", &[&[("header", "x")]]))
                .await?;
            assert!(is_ok(&unknown_key));
            assert!(unknown_key.response_headers_to_add.is_empty());
            let unknown_domain = limiter
                .should_rate_limit(&request("nope", &[&[("route", "x")]]))
                .await?;
            assert!(is_ok(&unknown_domain));
        }
        assert_eq!(limiter.stats().snapshot().no_match, 6);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn shadow_mode_counts_but_allows() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::in_memory();
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("route").limit(1, Unit::Minute).shadow()],
        ));
        let now = mid_minute();
        for _ in 0..3 {
            let response = limiter
                .should_rate_limit_at(&request("gw", &[&[("route", "r")]]), now)
                .await?;
            assert!(is_ok(&response));
            assert_eq!(response.statuses[0].code, Code::Ok as i32);
            // Shadow limits are not advertised to clients.
            assert!(response.response_headers_to_add.is_empty());
        }
        let stats = limiter.stats().snapshot();
        assert_eq!((stats.shadow_over_limit, stats.over_limit), (2, 0));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_second_window_resets_the_count() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::in_memory();
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(2, Unit::Second)],
        ));
        let req = request("gw", &[&[("k", "v")]]);
        sleep_past_next_second().await;
        let first: Vec<bool> = vec![
            is_ok(&limiter.should_rate_limit(&req).await?),
            is_ok(&limiter.should_rate_limit(&req).await?),
            is_ok(&limiter.should_rate_limit(&req).await?),
        ];
        assert_eq!(first, [true, true, false]);
        sleep_past_next_second().await;
        assert!(
            is_ok(&limiter.should_rate_limit(&req).await?),
            "new window, fresh count"
        );
        Ok(())
    })
    .await
}

/// Sleep until 20 ms after the next whole Unix second.
async fn sleep_past_next_second() {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let to_next = Duration::from_secs(1) - Duration::from_nanos(u64::from(since_epoch.subsec_nanos()));
    tokio::time::sleep(to_next + Duration::from_millis(20)).await;
}

#[tokio::test]
async fn hits_addend_is_honoured_per_request_and_per_descriptor() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::in_memory();
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(5, Unit::Minute)],
        ));
        let now = mid_minute();
        let mut req = request("gw", &[&[("k", "v")]]);
        req.hits_addend = 3;
        let response = limiter.should_rate_limit_at(&req, now).await?;
        assert_eq!(
            (is_ok(&response), response.statuses[0].limit_remaining),
            (true, 2)
        );
        // The descriptor's own addend overrides the request's.
        req.descriptors[0].hits_addend = Some(UInt64Value { value: 2 });
        let response = limiter.should_rate_limit_at(&req, now).await?;
        assert_eq!(
            (is_ok(&response), response.statuses[0].limit_remaining),
            (true, 0)
        );
        req.descriptors[0].hits_addend = Some(UInt64Value { value: 1 });
        assert!(is_over(&limiter.should_rate_limit_at(&req, now).await?));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn config_updates_apply_without_restart_and_drop_only_invalid_entries() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::in_memory();
        let now = mid_minute();
        let req = request("gw", &[&[("route", "a")]]);
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("route").limit(1, Unit::Minute)],
        ));
        assert!(is_ok(&limiter.should_rate_limit_at(&req, now).await?));
        assert!(is_over(&limiter.should_rate_limit_at(&req, now).await?));

        let pushed = config(
            "gw",
            vec![
                DescriptorConfig::key("route").limit(5, Unit::Minute),
                DescriptorConfig::key("user").limit(0, Unit::Minute),
            ],
        );
        let errors = limiter.update_config(pushed.clone());
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].domain(), errors[0].path()), ("gw", "user"));
        assert_eq!(*limiter.config(), pushed);
        // Same window, same counter (now 3 of 5).
        assert!(is_ok(&limiter.should_rate_limit_at(&req, now).await?));
        // The dropped entry limits nothing.
        let user = request("gw", &[&[("user", "bob")]]);
        assert!(is_ok(&limiter.should_rate_limit_at(&user, now).await?));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn fail_open_allows_and_counts_store_errors() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::new(Arc::new(FailingStore), LimiterOptions::default());
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(1, Unit::Minute)],
        ));
        for _ in 0..3 {
            let response = limiter
                .should_rate_limit(&request("gw", &[&[("k", "v")]]))
                .await?;
            assert!(is_ok(&response));
            assert!(response.response_headers_to_add.is_empty());
        }
        let stats = limiter.stats().snapshot();
        assert_eq!((stats.store_errors, stats.decisions), (3, 3));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn fail_closed_returns_an_error_for_envoy_to_decide() -> Result<()> {
    bounded(10, async {
        let options = LimiterOptions {
            fail_mode: FailMode::Closed,
            ..Default::default()
        };
        let limiter = Limiter::new(Arc::new(FailingStore), options);
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(1, Unit::Minute)],
        ));
        let err = limiter
            .should_rate_limit(&request("gw", &[&[("k", "v")]]))
            .await
            .unwrap_err();
        assert!(
            matches!(err, LimitError::StoreUnavailable(StoreError::Other(_))),
            "{err}"
        );
        // Requests with nothing to count never touch the store, so they still succeed.
        assert!(is_ok(
            &limiter
                .should_rate_limit(&request("gw", &[&[("x", "y")]]))
                .await?
        ));
        assert_eq!(limiter.stats().snapshot().store_errors, 1);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn over_limit_cache_skips_the_store_until_config_changes() -> Result<()> {
    bounded(10, async {
        let store = Arc::new(CountingStore::default());
        let options = LimiterOptions {
            over_limit_cache: true,
            ..Default::default()
        };
        let limiter = Limiter::new(store.clone(), options);
        let cfg = config("gw", vec![DescriptorConfig::key("k").limit(1, Unit::Minute)]);
        limiter.update_config(cfg.clone());
        let now = mid_minute();
        let req = request("gw", &[&[("k", "v")]]);
        assert!(is_ok(&limiter.should_rate_limit_at(&req, now).await?));
        assert!(is_over(&limiter.should_rate_limit_at(&req, now).await?));
        for _ in 0..5 {
            let response = limiter.should_rate_limit_at(&req, now).await?;
            assert!(is_over(&response));
            assert_eq!(header(&response, "RateLimit-Remaining"), Some("0"));
        }
        assert_eq!(store.calls(), 2);
        assert_eq!(limiter.stats().snapshot().over_limit_cache_hits, 5);
        // The next window is not covered by the cached entry.
        let next_minute = now + Duration::from_secs(60);
        assert!(is_ok(&limiter.should_rate_limit_at(&req, next_minute).await?));
        // A push clears the cache: the store decides again.
        limiter.update_config(cfg);
        assert!(is_over(&limiter.should_rate_limit_at(&req, now).await?));
        assert_eq!(store.calls(), 4);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn memory_store_forgets_expired_windows() -> Result<()> {
    bounded(10, async {
        let store = Arc::new(MemoryStore::new());
        let limiter = Limiter::new(store.clone(), LimiterOptions::default());
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(5, Unit::Second)],
        ));
        for i in 0..20 {
            limiter
                .should_rate_limit(&request("gw", &[&[("k", &i.to_string())]]))
                .await?;
        }
        assert_eq!(store.len(), 20);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        store.sweep();
        assert!(store.is_empty());
        Ok(())
    })
    .await
}

/// A memory store whose first call waits until the test releases it.
#[derive(Default)]
struct GatedStore {
    inner: MemoryStore,
    entered: tokio::sync::Notify,
    release: tokio::sync::Notify,
    opened: std::sync::atomic::AtomicBool,
}

impl portcullis_limiter::CounterStore for GatedStore {
    fn increment<'a>(
        &'a self,
        increments: &'a [portcullis_limiter::Increment],
    ) -> futures::future::BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        Box::pin(async move {
            if !self.opened.swap(true, std::sync::atomic::Ordering::SeqCst) {
                self.entered.notify_one();
                self.release.notified().await;
            }
            self.inner.increment(increments).await
        })
    }
}

#[tokio::test]
async fn a_request_in_flight_finishes_on_the_config_it_started_with() -> Result<()> {
    bounded(10, async {
        let store = Arc::new(GatedStore::default());
        let limiter = Arc::new(Limiter::new(store.clone(), LimiterOptions::default()));
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(10, Unit::Minute)],
        ));
        let now = mid_minute();
        let in_flight = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter
                    .should_rate_limit_at(&request("gw", &[&[("k", "v")]]), now)
                    .await
            })
        };
        store.entered.notified().await;
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(20, Unit::Minute)],
        ));
        store.release.notify_one();
        let old = in_flight.await??;
        let new = limiter
            .should_rate_limit_at(&request("gw", &[&[("k", "v")]]), now)
            .await?;
        let limit_of = |r: &envoy_types::pb::envoy::service::ratelimit::v3::RateLimitResponse| {
            r.statuses[0].current_limit.as_ref().map(|l| l.requests_per_unit)
        };
        assert_eq!((limit_of(&old), limit_of(&new)), (Some(10), Some(20)));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn descriptors_that_read_alike_joined_by_underscores_keep_their_own_counters() -> Result<()> {
    bounded(10, async {
        let limiter = Limiter::in_memory();
        limiter.update_config(config(
            "gw",
            vec![
                DescriptorConfig::key("a_b").limit(1, Unit::Minute),
                DescriptorConfig::key("a").limit(1, Unit::Minute),
            ],
        ));
        let now = mid_minute();
        // Both would be `portcullis:gw_a_b_c_<window>` in the string layout.
        let left = request("gw", &[&[("a_b", "c")]]);
        let right = request("gw", &[&[("a", "b_c")]]);
        assert!(is_ok(&limiter.should_rate_limit_at(&left, now).await?));
        assert!(is_ok(&limiter.should_rate_limit_at(&right, now).await?));
        assert!(is_over(&limiter.should_rate_limit_at(&left, now).await?));
        assert!(is_over(&limiter.should_rate_limit_at(&right, now).await?));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn in_memory_with_options_counts_and_caches_over_limit_keys() -> Result<()> {
    bounded(10, async {
        let options = LimiterOptions {
            over_limit_cache: true,
            ..Default::default()
        };
        let limiter = Limiter::in_memory_with(options);
        limiter.update_config(config(
            "gw",
            vec![DescriptorConfig::key("k").limit(2, Unit::Minute)],
        ));
        let now = mid_minute();
        let req = request("gw", &[&[("k", "v")], &[("k", "w")]]);
        let first = limiter.should_rate_limit_at(&req, now).await?;
        assert!(is_ok(&first));
        assert_eq!(header(&first, "RateLimit-Remaining"), Some("1"));
        assert!(is_ok(&limiter.should_rate_limit_at(&req, now).await?));
        assert!(is_over(&limiter.should_rate_limit_at(&req, now).await?));
        assert_eq!(limiter.stats().snapshot().over_limit_cache_hits, 0);
        let cached = limiter.should_rate_limit_at(&req, now).await?;
        assert!(is_over(&cached));
        assert_eq!(cached.statuses[1].code, Code::OverLimit as i32);
        assert_eq!(limiter.stats().snapshot().over_limit_cache_hits, 2);
        // The next window starts afresh.
        let next = limiter
            .should_rate_limit_at(&req, now + Duration::from_secs(60))
            .await?;
        assert_eq!(header(&next, "RateLimit-Remaining"), Some("1"));
        Ok(())
    })
    .await
}
