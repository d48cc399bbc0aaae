//! Parsing `Bearer <token>` header values.

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
    let jwt_charset = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=');
    if !token.chars().all(jwt_charset) || token.split('.').count() != 3 {
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
    fn rejects_oversized() {
        let big = format!("Bearer {}.b.c", "a".repeat(MAX_TOKEN_LEN));
        assert!(matches!(
            parse_bearer(&big),
            Err(AuthError::BadHeader("header too large"))
        ));
    }
}
