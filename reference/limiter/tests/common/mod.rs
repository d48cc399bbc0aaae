//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use envoy_types::pb::envoy::extensions::common::ratelimit::v3::RateLimitDescriptor;
use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code;
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use futures::future::BoxFuture;
use portcullis_limiter::{
    CounterStore, DescriptorConfig, DomainConfig, Increment, LimiterConfig, MemoryStore, StoreError,
};

/// Run `body`, failing the test if it takes longer than `secs`.
pub async fn bounded<T>(secs: u64, body: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), body).await {
        Ok(value) => value,
        Err(_) => panic!("test exceeded its {secs} s bound"),
    }
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A config with one domain.
pub fn config(domain: &str, descriptors: Vec<DescriptorConfig>) -> LimiterConfig {
    let mut domains = BTreeMap::new();
    domains.insert(domain.to_string(), DomainConfig { descriptors });
    LimiterConfig { domains }
}

/// A descriptor from `(key, value)` pairs.
pub fn descriptor(pairs: &[(&str, &str)]) -> RateLimitDescriptor {
    RateLimitDescriptor {
        entries: pairs
            .iter()
            .map(|(key, value)| Entry {
                key: key.to_string(),
                value: value.to_string(),
            })
            .collect(),
        ..Default::default()
    }
}

/// A request in `domain` with one descriptor per element of `descriptors`.
pub fn request(domain: &str, descriptors: &[&[(&str, &str)]]) -> RateLimitRequest {
    RateLimitRequest {
        domain: domain.to_string(),
        descriptors: descriptors.iter().map(|pairs| descriptor(pairs)).collect(),
        hits_addend: 0,
    }
}

pub fn is_ok(response: &RateLimitResponse) -> bool {
    response.overall_code == Code::Ok as i32
}

pub fn is_over(response: &RateLimitResponse) -> bool {
    response.overall_code == Code::OverLimit as i32
}

/// The value of a response header, if present.
pub fn header<'a>(response: &'a RateLimitResponse, name: &str) -> Option<&'a str> {
    response
        .response_headers_to_add
        .iter()
        .find(|h| h.key == name)
        .map(|h| h.value.as_str())
}

/// A store that always fails.
pub struct FailingStore;

impl CounterStore for FailingStore {
    fn increment<'a>(&'a self, _: &'a [Increment]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        Box::pin(async { Err(StoreError::Other("injected failure".into())) })
    }
}

/// A memory store that counts how often it is called.
#[derive(Default)]
pub struct CountingStore {
    pub inner: MemoryStore,
    pub calls: AtomicU64,
}

impl CountingStore {
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl CounterStore for CountingStore {
    fn increment<'a>(&'a self, increments: &'a [Increment]) -> BoxFuture<'a, Result<Vec<u64>, StoreError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.increment(increments)
    }
}
