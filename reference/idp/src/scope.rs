//! OAuth2 scopes: parsing the `scope` parameter and deciding what is granted.

use crate::config::OAuthClient;
use crate::error::IdpError;

/// Splits a space-separated `scope` parameter into distinct scope tokens, in request order.
///
/// Repeated spaces are tolerated; a token with a character outside RFC 6749 §3.3's
/// `scope-token` set is rejected.
pub fn parse_scope(raw: &str) -> Result<Vec<String>, IdpError> {
    let mut scopes: Vec<String> = Vec::new();
    for token in raw.split(' ').filter(|t| !t.is_empty()) {
        if !token.bytes().all(is_scope_char) {
            return Err(IdpError::InvalidScope(token.to_owned()));
        }
        if !scopes.iter().any(|s| s == token) {
            scopes.push(token.to_owned());
        }
    }
    Ok(scopes)
}

/// `%x21 / %x23-5B / %x5D-7E`: printable ASCII except space, `"` and `\`.
fn is_scope_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// The scopes granted to `client` for `requested`; every requested scope must be allowed.
pub(crate) fn grant(client: &OAuthClient, requested: Vec<String>) -> Result<Vec<String>, IdpError> {
    if let Some(allowed) = &client.allowed_scopes
        && let Some(denied) = requested.iter().find(|s| !allowed.contains(s))
    {
        return Err(IdpError::InvalidScope(denied.clone()));
    }
    Ok(requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_space_separated_distinct_tokens() {
        assert_eq!(
            parse_scope("a  b a apk:api_create").unwrap(),
            vec!["a", "b", "apk:api_create"]
        );
        assert!(parse_scope("").unwrap().is_empty());
        assert!(parse_scope("   ").unwrap().is_empty());
    }

    #[test]
    fn rejects_tokens_outside_the_scope_token_grammar() {
        for bad in ["a\"b", "a\\b", "caf\u{e9}", "a\tb"] {
            assert!(
                matches!(parse_scope(bad), Err(IdpError::InvalidScope(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn grants_only_allowed_scopes() {
        let mut client = OAuthClient::new("c", "s");
        assert_eq!(grant(&client, vec!["x".into()]).unwrap(), vec!["x"]);
        client.allowed_scopes = Some(vec!["x".into(), "y".into()]);
        assert_eq!(grant(&client, vec!["y".into()]).unwrap(), vec!["y"]);
        assert!(grant(&client, vec![]).unwrap().is_empty());
        match grant(&client, vec!["x".into(), "z".into()]) {
            Err(IdpError::InvalidScope(s)) => assert_eq!(s, "z"),
            other => panic!("{other:?}"),
        }
    }
}
