//! Decisions per second of a memory-store limiter on one thread.
//!
//! `cargo bench -p portcullis-limiter --bench decisions`; criterion reports elem/s = decisions/s.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3::RateLimitRequest;
use portcullis_limiter::{DescriptorConfig, DomainConfig, Limiter, LimiterConfig, Unit};

fn request(route: &str, client: &str) -> RateLimitRequest {
    let entry = |key: &str, value: &str| Entry {
        key: key.into(),
        value: value.into(),
    };
    RateLimitRequest {
        domain: "bench".into(),
        descriptors: vec![
            RateLimitDescriptor {
                entries: vec![entry("route", route)],
                ..Default::default()
            },
            RateLimitDescriptor {
                entries: vec![entry("route", route), entry("remote_address", client)],
                ..Default::default()
            },
        ],
        hits_addend: 0,
    }
}

fn limiter() -> Limiter {
    let limiter = Limiter::in_memory();
    let mut domains = BTreeMap::new();
    domains.insert(
        "bench".to_string(),
        DomainConfig {
            descriptors: vec![
                DescriptorConfig::key("route")
                    .limit(1_000_000_000, Unit::Hour)
                    .children([DescriptorConfig::key("remote_address").limit(1_000_000_000, Unit::Hour)]),
            ],
        },
    );
    let errors = limiter.update_config(LimiterConfig { domains });
    assert!(errors.is_empty(), "{errors:?}");
    limiter
}

fn decisions(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let limiter = limiter();
    // 1024 clients over 8 routes: realistic key spread, all in the map after warm-up.
    let requests: Vec<RateLimitRequest> = (0..1024)
        .map(|i| {
            request(
                &format!("route-{}", i % 8),
                &format!("10.0.{}.{}", i / 256, i % 256),
            )
        })
        .collect();

    let mut group = c.benchmark_group("memory_store");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decision_two_descriptors", |b| {
        let mut next = 0usize;
        b.to_async(&runtime).iter(|| {
            next = (next + 1) % requests.len();
            let request = &requests[next];
            let limiter = &limiter;
            async move { black_box(limiter.should_rate_limit(black_box(request)).await) }
        });
    });
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
