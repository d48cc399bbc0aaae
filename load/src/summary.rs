//! A few numbers from goose's metrics.

use std::collections::BTreeMap;
use std::fmt;

use goose::metrics::{GooseMetrics, GooseRequestMetricAggregate, GooseRequestMetricTimingData};

/// Requests, failures, throughput and latency percentiles of one request (or all).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Requests made.
    pub requests: usize,
    /// Requests that failed (transport error, unexpected status, wrong backend).
    pub failures: usize,
    /// Median response time, milliseconds.
    pub p50_ms: f64,
    /// 90th percentile response time, milliseconds.
    pub p90_ms: f64,
    /// 99th percentile response time, milliseconds.
    pub p99_ms: f64,
    /// Slowest response, milliseconds.
    pub max_ms: f64,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, usize>,
}

/// The summary printed after a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// How long the measured part ran (after all users started, unless goose's
    /// `--no-reset-metrics`), seconds.
    pub duration_secs: usize,
    /// The most users at once.
    pub users: usize,
    /// Every request together.
    pub total: Counts,
    /// Requests per second over `duration_secs`.
    pub requests_per_second: f64,
    /// Per request name, as goose reports it (`GET <name>`).
    pub by_request: BTreeMap<String, Counts>,
}

impl Summary {
    /// Computes the summary from goose's metrics.
    pub fn from_metrics(metrics: &GooseMetrics) -> Self {
        Self::from_runs([metrics])
    }

    /// Pools the metrics of several attacks (one per suite, run one after another): their
    /// requests and durations add up, their response times merge.
    pub fn from_runs<'a>(runs: impl IntoIterator<Item = &'a GooseMetrics>) -> Self {
        let mut named: BTreeMap<&str, Vec<&GooseRequestMetricAggregate>> = BTreeMap::new();
        let (mut duration_secs, mut users) = (0, 0);
        for metrics in runs {
            duration_secs += metrics.duration;
            users = users.max(metrics.maximum_users);
            for (name, aggregate) in &metrics.requests {
                named.entry(name.as_str()).or_default().push(aggregate);
            }
        }
        let by_request = named
            .iter()
            .map(|(name, aggregates)| (name.to_string(), pooled(aggregates)))
            .collect();
        let all: Vec<_> = named.into_values().flatten().collect();
        let total = pooled(&all);
        Summary {
            duration_secs,
            users,
            requests_per_second: per_second(total.requests, duration_secs),
            total,
            by_request,
        }
    }
}

/// Requests per second of `requests` over `seconds` (0 for no time).
pub fn per_second(requests: usize, seconds: usize) -> f64 {
    if seconds > 0 {
        requests as f64 / seconds as f64
    } else {
        0.0
    }
}

fn pooled(aggregates: &[&GooseRequestMetricAggregate]) -> Counts {
    counts(
        aggregates.iter().map(|a| &a.raw_data),
        aggregates.iter().map(|a| a.success_count + a.fail_count).sum(),
        aggregates.iter().map(|a| a.fail_count).sum(),
        aggregates
            .iter()
            .flat_map(|a| a.status_code_counts.iter().map(|(s, n)| (*s, *n))),
    )
}

fn counts<'a>(
    timings: impl IntoIterator<Item = &'a GooseRequestMetricTimingData>,
    requests: usize,
    failures: usize,
    statuses: impl IntoIterator<Item = (u16, usize)>,
) -> Counts {
    let merged = merge(timings);
    let mut by_status = BTreeMap::new();
    for (status, count) in statuses {
        *by_status.entry(status).or_insert(0) += count;
    }
    Counts {
        requests,
        failures,
        p50_ms: merged.percentile_us(0.5) as f64 / 1000.0,
        p90_ms: merged.percentile_us(0.9) as f64 / 1000.0,
        p99_ms: merged.percentile_us(0.99) as f64 / 1000.0,
        max_ms: merged.maximum_time_us as f64 / 1000.0,
        statuses: by_status,
    }
}

/// Response times of several requests as one set (goose keeps its merge to itself).
fn merge<'a>(
    timings: impl IntoIterator<Item = &'a GooseRequestMetricTimingData>,
) -> GooseRequestMetricTimingData {
    let mut buckets: BTreeMap<u64, usize> = BTreeMap::new();
    let mut merged = GooseRequestMetricTimingData::default();
    for timing in timings {
        if timing.counter == 0 {
            continue;
        }
        for (bucket, count) in timing.times_us.iter() {
            *buckets.entry(*bucket).or_insert(0) += count;
        }
        if merged.counter == 0 || timing.minimum_time_us < merged.minimum_time_us {
            merged.minimum_time_us = timing.minimum_time_us;
        }
        merged.maximum_time_us = merged.maximum_time_us.max(timing.maximum_time_us);
        merged.total_time_us += timing.total_time_us;
        merged.counter += timing.counter;
    }
    // Sorted, fastest first, as goose's percentiles expect.
    merged.times_us = buckets.into_iter().collect();
    merged
}

fn statuses(statuses: &BTreeMap<u16, usize>) -> String {
    statuses
        .iter()
        .map(|(s, n)| format!("{s}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.total;
        writeln!(
            f,
            "{} requests in {} s with {} users: {:.1} req/s, {} failed; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {}",
            t.requests,
            self.duration_secs,
            self.users,
            self.requests_per_second,
            t.failures,
            t.p50_ms,
            t.p99_ms,
            t.max_ms,
            statuses(&t.statuses),
        )?;
        let width = self
            .by_request
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0);
        for (name, c) in &self.by_request {
            writeln!(
                f,
                "  {name:<width$}  {:>8} req  {:>4} failed  p50 {:>7.2} ms  p99 {:>7.2} ms  {}",
                c.requests,
                c.failures,
                c.p50_ms,
                c.p99_ms,
                statuses(&c.statuses),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(times_us: &[u64]) -> GooseRequestMetricTimingData {
        // Every time under 128 µs has a bucket of its own.
        let mut buckets: BTreeMap<u64, usize> = BTreeMap::new();
        for t in times_us {
            *buckets.entry(*t).or_insert(0) += 1;
        }
        GooseRequestMetricTimingData {
            times_us: buckets.into_iter().collect(),
            minimum_time_us: times_us.iter().copied().min().unwrap_or(0),
            maximum_time_us: times_us.iter().copied().max().unwrap_or(0),
            total_time_us: times_us.iter().sum(),
            counter: times_us.len(),
        }
    }

    #[test]
    fn merging_timings_pools_their_buckets() {
        let a = timing(&[10, 20, 30]);
        let b = timing(&[20, 40, 100]);
        let empty = GooseRequestMetricTimingData::default();
        let merged = merge([&a, &empty, &b]);
        assert_eq!(merged.counter, 6);
        assert_eq!((merged.minimum_time_us, merged.maximum_time_us), (10, 100));
        assert_eq!(merged.total_time_us, 220);
        assert_eq!(merged.times_us.get(&20), Some(&2));
        assert_eq!(merged.percentile_us(0.5), 20);
        assert_eq!(merged.percentile_us(0.99), 100);
    }

    #[test]
    fn an_empty_run_summarises_to_zeros() {
        let summary = Summary::from_metrics(&GooseMetrics::default());
        assert_eq!(summary.total.requests, 0);
        assert_eq!(summary.requests_per_second, 0.0);
        assert!(summary.to_string().starts_with("0 requests"));
    }
}
