//! Counting answers and their latencies over a measured window.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How many distinct error messages a run keeps (with their counts).
const DISTINCT_ERRORS: usize = 10;

/// A warm-up (answers not counted) followed by the measured time.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// When the warm-up ends and counting starts.
    pub start: Instant,
    /// When counting ends; nothing is sent after it.
    pub end: Instant,
}

/// Where in the window something completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Before counting started: only failures are kept.
    Warmup,
    /// Counted.
    Measured,
    /// After the window: ignored.
    After,
}

impl Window {
    /// A window starting `warmup` from now and lasting `measure`.
    pub fn starting_now(warmup: Duration, measure: Duration) -> Self {
        let start = Instant::now() + warmup;
        Window {
            start,
            end: start + measure,
        }
    }

    /// How long counting lasts.
    pub fn measure(&self) -> Duration {
        self.end - self.start
    }

    /// The phase of a completion at `at`.
    pub fn phase(&self, at: Instant) -> Phase {
        if at < self.start {
            Phase::Warmup
        } else if at <= self.end {
            Phase::Measured
        } else {
            Phase::After
        }
    }
}

/// Answers, failures and latencies of one run (or one user of it).
#[derive(Clone, Debug, Default)]
pub struct Tally {
    measure: Duration,
    /// Requests completed in the measured window, answered or not.
    pub requests: u64,
    /// Requests that failed (unexpected answer or no answer), warm-up included.
    pub failures: u64,
    /// Answers that said "over the limit" (HTTP 429, RLS OVER_LIMIT), warm-up included.
    pub throttled: u64,
    /// Requests completed during the warm-up.
    pub warmup_requests: u64,
    /// Answers in the measured window, by status or code.
    pub outcomes: BTreeMap<i32, u64>,
    /// Why requests failed, with how often (the first few distinct reasons).
    pub errors: BTreeMap<String, u64>,
    latencies_us: Vec<u32>,
    sorted: bool,
}

impl Tally {
    /// An empty tally for a window of `measure`.
    pub fn new(measure: Duration) -> Self {
        Tally {
            measure,
            ..Tally::default()
        }
    }

    /// An answer with status or code `outcome`, which took `latency`; `problem` says why it
    /// failed, if it did.
    pub fn answer(
        &mut self,
        phase: Phase,
        outcome: i32,
        latency: Duration,
        problem: Option<String>,
        throttled: bool,
    ) {
        match phase {
            Phase::After => return,
            Phase::Warmup => self.warmup_requests += 1,
            Phase::Measured => {
                self.requests += 1;
                *self.outcomes.entry(outcome).or_insert(0) += 1;
                self.latencies_us
                    .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
                self.sorted = false;
            }
        }
        if throttled {
            self.throttled += 1;
        }
        if let Some(problem) = problem {
            self.fail(problem);
        }
    }

    /// A request without an answer.
    pub fn error(&mut self, phase: Phase, error: String) {
        match phase {
            Phase::After => return,
            Phase::Warmup => self.warmup_requests += 1,
            Phase::Measured => self.requests += 1,
        }
        self.fail(error);
    }

    fn fail(&mut self, reason: String) {
        self.failures += 1;
        let known = self.errors.len();
        if let Some(count) = self.errors.get_mut(&reason) {
            *count += 1;
        } else if known < DISTINCT_ERRORS {
            self.errors.insert(reason, 1);
        }
    }

    /// Adds another tally (of the same window) to this one.
    pub fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.failures += other.failures;
        self.throttled += other.throttled;
        self.warmup_requests += other.warmup_requests;
        for (outcome, count) in other.outcomes {
            *self.outcomes.entry(outcome).or_insert(0) += count;
        }
        for (reason, count) in other.errors {
            if let Some(known) = self.errors.get_mut(&reason) {
                *known += count;
            } else if self.errors.len() < DISTINCT_ERRORS {
                self.errors.insert(reason, count);
            }
        }
        self.latencies_us.extend(other.latencies_us);
        self.sorted = false;
    }

    /// Sorts the latencies, for [`Tally::percentile_ms`].
    pub fn finish(&mut self) {
        self.latencies_us.sort_unstable();
        self.sorted = true;
    }

    /// The measured window, seconds.
    pub fn seconds(&self) -> f64 {
        self.measure.as_secs_f64()
    }

    /// Requests completed per second of the measured window.
    pub fn per_second(&self) -> f64 {
        if self.measure.is_zero() {
            0.0
        } else {
            self.requests as f64 / self.measure.as_secs_f64()
        }
    }

    /// The `q` quantile (0..=1) of the measured latencies by nearest rank, milliseconds; 0
    /// without any.
    pub fn percentile_ms(&mut self, q: f64) -> f64 {
        if !self.sorted {
            self.finish();
        }
        let n = self.latencies_us.len();
        if n == 0 {
            return 0.0;
        }
        let rank = (q.clamp(0.0, 1.0) * n as f64).ceil() as usize;
        let index = rank.clamp(1, n) - 1;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn only_the_measured_window_counts_but_every_failure_does() {
        let mut tally = Tally::new(Duration::from_secs(2));
        tally.answer(Phase::Warmup, 200, ms(50), None, false);
        tally.answer(Phase::Warmup, 429, ms(1), Some("429".into()), true);
        for i in 1..=100 {
            tally.answer(Phase::Measured, 200, ms(i), None, false);
        }
        tally.error(Phase::Measured, "reset".into());
        tally.answer(Phase::After, 500, ms(1), Some("500".into()), false);
        assert_eq!(tally.requests, 101);
        assert_eq!(tally.warmup_requests, 2);
        assert_eq!((tally.failures, tally.throttled), (2, 1));
        assert_eq!(tally.outcomes, BTreeMap::from([(200, 100)]));
        assert_eq!(tally.per_second(), 50.5);
        assert_eq!(tally.percentile_ms(0.5), 50.0);
        assert_eq!(tally.percentile_ms(0.99), 99.0);
        assert_eq!(tally.percentile_ms(1.0), 100.0);
    }

    #[test]
    fn merged_tallies_pool_latencies_and_errors() {
        let mut a = Tally::new(Duration::from_secs(1));
        let mut b = Tally::new(Duration::from_secs(1));
        a.answer(Phase::Measured, 200, ms(3), None, false);
        b.answer(Phase::Measured, 200, ms(1), None, false);
        b.error(Phase::Measured, "refused".into());
        a.error(Phase::Warmup, "refused".into());
        a.merge(b);
        assert_eq!((a.requests, a.failures), (3, 2));
        assert_eq!(a.errors, BTreeMap::from([("refused".to_string(), 2)]));
        assert_eq!(a.percentile_ms(0.0), 1.0);
        assert_eq!(a.percentile_ms(1.0), 3.0);
        assert_eq!(Tally::new(ms(0)).per_second(), 0.0);
        assert_eq!(Tally::new(ms(5)).percentile_ms(0.99), 0.0);
    }

    #[test]
    fn distinct_errors_are_capped() {
        let mut tally = Tally::new(ms(1));
        for i in 0..25 {
            tally.error(Phase::Measured, format!("error {i}"));
        }
        assert_eq!(tally.failures, 25);
        assert_eq!(tally.errors.len(), DISTINCT_ERRORS);
    }

    #[test]
    fn the_window_has_three_phases() {
        let window = Window::starting_now(ms(100), ms(100));
        assert_eq!(window.measure(), ms(100));
        assert_eq!(window.phase(window.start - ms(1)), Phase::Warmup);
        assert_eq!(window.phase(window.start), Phase::Measured);
        assert_eq!(window.phase(window.end), Phase::Measured);
        assert_eq!(window.phase(window.end + ms(1)), Phase::After);
    }
}
