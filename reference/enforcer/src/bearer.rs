//! Parsing credential header values: `Bearer <token>` and raw compact JWS.

use crate::error::AuthError;

/// Largest header value accepted; larger ones are rejected before any decoding.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Extracts the token from a `Bearer <token>` value (scheme case-insensitive).
pub fn parse_bearer(value: &str) -> Result<&str, AuthError> {
    if value.len() > MAX_TOKEN_LEN {
        return Err(AuthError::BadHeader("header too large"));
    }
    let value = value.trim();
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(AuthError::BadHeader("not a bearer credential"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::BadHeader("not a bearer credential"));
    }
    let token = token.trim_start();
    if token.is_empty() {
        return Err(AuthError::BadHeader("empty token"));
    }
    compact_jws(token)
}

/// A raw compact JWS (APK's `JWT` header, API keys): no scheme, surrounding blanks ignored.
pub fn parse_raw_jwt(value: &str) -> Result<&str, AuthError> {
    if value.len() > MAX_TOKEN_LEN {
        return Err(AuthError::BadHeader("header too large"));
    }
    let token = value.trim();
    if token.is_empty() {
        return Err(AuthError::BadHeader("empty token"));
    }
    compact_jws(token)
}

fn compact_jws(token: &str) -> Result<&str, AuthError> {
    let jwt_charset = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=');
    let bytes = token.as_bytes();
    if !bytes.iter().all(jwt_charset) || bytes.iter().filter(|b| **b == b'.').count() != 2 {
        return Err(AuthError::BadHeader("token is not a compact JWS"));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_scheme_case() {
        assert_eq!(parse_bearer("Bearer a.b.c").unwrap(), "a.b.c");
        assert_eq!(parse_bearer("bearer   a.b.c ").unwrap(), "a.b.c");
        assert_eq!(parse_bearer("BEARER a-_.b.c=").unwrap(), "a-_.b.c=");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "Bearer",
            "Bearer ",
            "Basic a.b.c",
            "Bearer a.b",
            "Bearer a.b.c.d",
            "Bearer a b.c.d",
        ] {
            assert!(
                matches!(parse_bearer(bad), Err(AuthError::BadHeader(_))),
                "{bad:?}"
            );
        }
        assert!(parse_bearer("Bearer invalidToken").is_err());
    }

    #[test]
    fn raw_jwts() {
        assert_eq!(parse_raw_jwt(" a.b.c ").unwrap(), "a.b.c");
        for bad in ["", "  ", "Bearer a.b.c", "a.b", "a.b.c.d", "a b.c"] {
            assert!(
                matches!(parse_raw_jwt(bad), Err(AuthError::BadHeader(_))),
                "{bad:?}"
            );
        }
        let big = format!("{}.b.c", "a".repeat(MAX_TOKEN_LEN));
        assert!(matches!(
            parse_raw_jwt(&big),
            Err(AuthError::BadHeader("header too large"))
        ));
    }

    #[test]
    fn rejects_oversized() {
        let big = format!("Bearer {}.b.c", "a".repeat(MAX_TOKEN_LEN));
        assert!(matches!(
            parse_bearer(&big),
            Err(AuthError::BadHeader("header too large"))
        ));
    }
}
