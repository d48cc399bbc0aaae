//! Parsing of Go `time.ParseDuration` strings, as used by echo-basic's `?delay=`.
//!
//! Conformance tests write delays the Go way (`10ms`, `1.5s`, `1m30s`), so the
//! grammar and the error messages follow Go rather than `humantime`.

use std::time::Duration;

/// Why a duration string was rejected; messages match Go's `time` package.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DurationError {
    /// Syntax error or overflow.
    #[error("time: invalid duration \"{0}\"")]
    Invalid(String),
    /// A number without a unit, other than the bare `0`.
    #[error("time: missing unit in duration \"{0}\"")]
    MissingUnit(String),
    /// A unit Go does not know.
    #[error("time: unknown unit \"{unit}\" in duration \"{orig}\"")]
    UnknownUnit { unit: String, orig: String },
}

/// Nanoseconds per unit, with Go's spellings (both micro signs included).
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Go rejects durations that do not fit an `int64` of nanoseconds.
const MAX_NANOS: u128 = i64::MAX as u128;

/// Parses a Go duration; negative durations become zero, since sleeping a
/// negative time in Go returns at once.
pub(crate) fn parse_go_duration(orig: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(orig.to_owned());
    let mut s = orig;
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid());
    }

    let mut total: u128 = 0;
    while !s.is_empty() {
        let bytes = s.as_bytes();
        if !(bytes[0] == b'.' || bytes[0].is_ascii_digit()) {
            return Err(invalid());
        }

        // Integer part.
        let int_len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut whole: u128 = 0;
        for &b in &bytes[..int_len] {
            whole = whole * 10 + u128::from(b - b'0');
            if whole > MAX_NANOS {
                return Err(invalid());
            }
        }
        s = &s[int_len..];

        // Optional fraction; digits beyond what can matter are dropped, like Go.
        let mut frac: u128 = 0;
        let mut scale: u128 = 1;
        let mut frac_len = 0;
        let mut had_dot = false;
        if let Some(rest) = s.strip_prefix('.') {
            had_dot = true;
            frac_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            for b in rest.bytes().take(frac_len).take(18) {
                frac = frac * 10 + u128::from(b - b'0');
                scale *= 10;
            }
            s = &rest[frac_len..];
        }
        if int_len == 0 && (!had_dot || frac_len == 0) {
            return Err(invalid());
        }

        // Unit: everything up to the next number. Non-ASCII bytes are never
        // digits or dots, so the split lands on a char boundary.
        let unit_len = s
            .bytes()
            .take_while(|b| !(*b == b'.' || b.is_ascii_digit()))
            .count();
        if unit_len == 0 {
            return Err(DurationError::MissingUnit(orig.to_owned()));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let per_unit = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: unit.to_owned(),
            orig: orig.to_owned(),
        })?;

        total += whole * per_unit + frac * per_unit / scale;
        if total > MAX_NANOS {
            return Err(invalid());
        }
    }

    if negative {
        return Ok(Duration::ZERO);
    }
    // `total` is at most i64::MAX, so it fits a u64.
    Ok(Duration::from_nanos(u64::try_from(total).map_err(|_| invalid())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_forms() {
        let ok = |s: &str| parse_go_duration(s).unwrap();
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("10ms"), Duration::from_millis(10));
        assert_eq!(ok("2s"), Duration::from_secs(2));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("3us"), Duration::from_micros(3));
        assert_eq!(ok("3\u{b5}s"), Duration::from_micros(3));
        assert_eq!(ok("+7ns"), Duration::from_nanos(7));
        assert_eq!(ok("-5s"), Duration::ZERO);
    }

    #[test]
    fn rejects_like_go() {
        let err = |s: &str| parse_go_duration(s).unwrap_err().to_string();
        assert_eq!(err(""), "time: invalid duration \"\"");
        assert_eq!(err("abc"), "time: invalid duration \"abc\"");
        assert_eq!(err("."), "time: invalid duration \".\"");
        assert_eq!(err("10"), "time: missing unit in duration \"10\"");
        assert_eq!(err("10x"), "time: unknown unit \"x\" in duration \"10x\"");
        assert_eq!(err("9999999999999h"), "time: invalid duration \"9999999999999h\"");
    }
}
