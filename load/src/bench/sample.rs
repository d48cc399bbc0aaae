//! One run of one configuration through Envoy, as the auth and gateway benchmarks record it:
//! throughput, latency percentiles up to p99.9, failures and where the CPU went.

use std::collections::BTreeMap;

use serde::Serialize;

use super::cpu::CpuUse;
use super::tally::Tally;

/// One run of one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// Which repeat (from 1).
    pub repeat: usize,
    /// The measured window, seconds.
    pub seconds: f64,
    /// Requests completed in it.
    pub requests: u64,
    /// Requests per second.
    pub per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// 99.9th percentile, milliseconds.
    pub p999_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
    /// Requests that failed (no answer, or not a 2xx), warm-up included.
    pub failures: u64,
    /// Requests completed in the warm-up (not counted).
    pub warmup_requests: u64,
    /// Answers in the window, by HTTP status.
    pub outcomes: BTreeMap<String, u64>,
    /// Why requests failed.
    pub errors: BTreeMap<String, u64>,
    /// Where the machine's CPU went in the measured window.
    pub cpu: Option<CpuUse>,
}

impl Sample {
    /// The sample of a finished tally.
    pub fn new(repeat: usize, mut tally: Tally, cpu: Option<CpuUse>) -> Self {
        tally.finish();
        Sample {
            repeat,
            seconds: tally.seconds(),
            requests: tally.requests,
            per_second: tally.per_second(),
            p50_ms: tally.percentile_ms(0.5),
            p99_ms: tally.percentile_ms(0.99),
            p999_ms: tally.percentile_ms(0.999),
            max_ms: tally.percentile_ms(1.0),
            failures: tally.failures,
            warmup_requests: tally.warmup_requests,
            outcomes: tally.outcomes.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
            errors: tally.errors,
            cpu,
        }
    }
}
