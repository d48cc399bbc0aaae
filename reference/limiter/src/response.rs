//! Turning per-descriptor outcomes into Envoy's `RateLimitResponse`.

use std::time::Duration;

use envoy_types::pb::envoy::config::core::v3::HeaderValue;
use envoy_types::pb::envoy::service::ratelimit::v3::RateLimitResponse;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::{
    Code, DescriptorStatus, RateLimit,
};
use envoy_types::pb::google::protobuf::Duration as ProtoDuration;

use crate::rules::Limit;

/// Header with the limit of the most constrained descriptor (envoyproxy/ratelimit's default name).
pub const LIMIT_HEADER: &str = "RateLimit-Limit";
/// Header with the hits left in its window.
pub const REMAINING_HEADER: &str = "RateLimit-Remaining";
/// Header with the whole seconds (rounded up) until its window resets.
pub const RESET_HEADER: &str = "RateLimit-Reset";

/// What one request descriptor came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// No limit applies (no match, or an allow-list entry).
    Unlimited,
    /// Counted by the store: `count` hits so far in the window ending at Unix second `window_end`.
    Counted {
        limit: Limit,
        count: u64,
        window_end: u64,
    },
    /// Known over limit from the over-limit cache; the store was not asked.
    CachedOver { limit: Limit, window_end: u64 },
    /// A limit applies but the store failed, and the limiter fails open.
    Unknown { limit: Limit },
}

impl Outcome {
    /// Whether this descriptor is over its limit, shadow mode ignored.
    pub(crate) fn exceeded(&self) -> bool {
        match self {
            Outcome::Counted { limit, count, .. } => *count > u64::from(limit.requests_per_unit),
            Outcome::CachedOver { .. } => true,
            Outcome::Unlimited | Outcome::Unknown { .. } => false,
        }
    }

    /// Whether this descriptor makes the request OVER_LIMIT.
    pub(crate) fn denies(&self) -> bool {
        match self {
            Outcome::Counted { limit, .. } | Outcome::CachedOver { limit, .. } => {
                !limit.shadow && self.exceeded()
            }
            Outcome::Unlimited | Outcome::Unknown { .. } => false,
        }
    }

    /// Hits left and the window's end, when known and enforced (shadow limits are invisible to
    /// clients, so they never drive the headers).
    fn remaining(&self) -> Option<(u32, u32, u64)> {
        match self {
            Outcome::Counted {
                limit,
                count,
                window_end,
            } if !limit.shadow => {
                let left = u64::from(limit.requests_per_unit).saturating_sub(*count);
                // `left` ≤ requests_per_unit, a u32.
                let left = u32::try_from(left).unwrap_or(u32::MAX);
                Some((limit.requests_per_unit, left, *window_end))
            }
            Outcome::CachedOver { limit, window_end } if !limit.shadow => {
                Some((limit.requests_per_unit, 0, *window_end))
            }
            _ => None,
        }
    }
}

/// Build the response for `outcomes` (one per request descriptor, in order) at `now` (since the
/// Unix epoch).
pub(crate) fn build(outcomes: &[Outcome], now: Duration) -> RateLimitResponse {
    let statuses = outcomes.iter().map(|outcome| status(outcome, now)).collect();
    let overall = if outcomes.iter().any(Outcome::denies) {
        Code::OverLimit
    } else {
        Code::Ok
    };
    // The first of the lowest-remaining descriptors, as envoyproxy/ratelimit does.
    let tightest = outcomes
        .iter()
        .filter_map(Outcome::remaining)
        .reduce(|best, next| if next.1 < best.1 { next } else { best });
    let response_headers_to_add = match tightest {
        Some((limit, remaining, window_end)) => {
            let reset = until(window_end, now);
            // Round up: a client told "0" may retry at once and must not be refused again.
            let reset_secs = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
            vec![
                header(LIMIT_HEADER, limit.to_string()),
                header(REMAINING_HEADER, remaining.to_string()),
                header(RESET_HEADER, reset_secs.to_string()),
            ]
        }
        None => Vec::new(),
    };
    RateLimitResponse {
        overall_code: overall as i32,
        statuses,
        response_headers_to_add,
        ..Default::default()
    }
}

fn status(outcome: &Outcome, now: Duration) -> DescriptorStatus {
    let code = if outcome.denies() {
        Code::OverLimit
    } else {
        Code::Ok
    };
    let (limit, window_end) = match outcome {
        Outcome::Unlimited => return DescriptorStatus::default(),
        Outcome::Unknown { limit } => (limit, None),
        Outcome::Counted {
            limit, window_end, ..
        }
        | Outcome::CachedOver { limit, window_end } => (limit, Some(*window_end)),
    };
    DescriptorStatus {
        code: code as i32,
        current_limit: Some(RateLimit {
            name: String::new(),
            requests_per_unit: limit.requests_per_unit,
            unit: limit.window.proto() as i32,
        }),
        limit_remaining: outcome.remaining().map_or(0, |(_, left, _)| left),
        duration_until_reset: window_end.map(|end| proto_duration(until(end, now))),
        quota: None,
    }
}

fn until(window_end: u64, now: Duration) -> Duration {
    Duration::from_secs(window_end).saturating_sub(now)
}

fn proto_duration(duration: Duration) -> ProtoDuration {
    ProtoDuration {
        // Windows are at most a day long, far inside i64.
        seconds: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(duration.subsec_nanos()).unwrap_or(0),
    }
}

fn header(key: &str, value: String) -> HeaderValue {
    HeaderValue {
        key: key.to_string(),
        value,
        raw_value: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Window;

    fn limit(requests_per_unit: u32, shadow: bool) -> Limit {
        Limit {
            requests_per_unit,
            window: Window::Minute,
            shadow,
        }
    }

    fn headers(response: &RateLimitResponse) -> Vec<(String, String)> {
        response
            .response_headers_to_add
            .iter()
            .map(|h| (h.key.clone(), h.value.clone()))
            .collect()
    }

    #[test]
    fn headers_follow_the_lowest_remaining_enforced_descriptor() {
        let now = Duration::from_millis(120_500);
        let outcomes = [
            Outcome::Counted {
                limit: limit(10, false),
                count: 4,
                window_end: 180,
            },
            Outcome::Unlimited,
            Outcome::Counted {
                limit: limit(5, false),
                count: 3,
                window_end: 180,
            },
            // Lower remaining, but shadow: not shown to clients.
            Outcome::Counted {
                limit: limit(1, true),
                count: 7,
                window_end: 180,
            },
        ];
        let response = build(&outcomes, now);
        assert_eq!(response.overall_code, Code::Ok as i32);
        assert_eq!(
            headers(&response),
            vec![
                ("RateLimit-Limit".into(), "5".into()),
                ("RateLimit-Remaining".into(), "2".into()),
                ("RateLimit-Reset".into(), "60".into()),
            ]
        );
        assert_eq!(response.statuses.len(), 4);
        assert_eq!(response.statuses[1], DescriptorStatus::default());
        let reset = response.statuses[0].duration_until_reset.unwrap();
        assert_eq!((reset.seconds, reset.nanos), (59, 500_000_000));
        assert_eq!(response.statuses[3].code, Code::Ok as i32);
        assert_eq!(response.statuses[3].limit_remaining, 0);
    }

    #[test]
    fn over_limit_and_unknown_outcomes() {
        let now = Duration::from_secs(120);
        let response = build(
            &[
                Outcome::Unknown {
                    limit: limit(3, false),
                },
                Outcome::CachedOver {
                    limit: limit(3, false),
                    window_end: 180,
                },
            ],
            now,
        );
        assert_eq!(response.overall_code, Code::OverLimit as i32);
        assert_eq!(response.statuses[0].code, Code::Ok as i32);
        assert_eq!(response.statuses[0].duration_until_reset, None);
        assert_eq!(response.statuses[1].code, Code::OverLimit as i32);
        assert_eq!(headers(&response)[1], ("RateLimit-Remaining".into(), "0".into()));
        assert!(
            build(
                &[Outcome::Unknown {
                    limit: limit(3, false)
                }],
                now
            )
            .response_headers_to_add
            .is_empty()
        );
    }
}
