//! API keys as signed JWTs, so every gateway can check them without shared state.
//!
//! An API key is a JWT of a trusted issuer (the embedded IdP) carrying
//! `"tokenType": "apiKey"`, `azp` (the consumer key), `keytype` (`PRODUCTION`/`SANDBOX`) and
//! `"apis": ["<apiName>:<apiVersion>", …]`. It is only accepted where API keys are configured,
//! only for a listed API and only on routes of its key type; access tokens are not accepted as
//! API keys and API keys are not accepted as access tokens.

use serde_json::Value;

use crate::config::KeyType;
use crate::error::AuthError;
use crate::jwt::Principal;

/// Claim telling an API key from an access token.
pub const TOKEN_TYPE_CLAIM: &str = "tokenType";
/// `tokenType` of an API key.
pub const API_KEY_TOKEN_TYPE: &str = "apiKey";
/// Claim listing the APIs an API key is valid for, as `"<apiName>:<apiVersion>"`.
pub const APIS_CLAIM: &str = "apis";
/// Claim naming the key type of an API key (`PRODUCTION` or `SANDBOX`).
pub const KEY_TYPE_CLAIM: &str = "keytype";
/// Claim naming the application (consumer key) of an API key.
pub const CONSUMER_KEY_CLAIM: &str = "azp";
/// `tokenType` of APK internal keys, which skip scope checks on the `JWT` auth type.
pub const INTERNAL_KEY_TOKEN_TYPE: &str = "InternalKey";

/// The entry of `apis` naming an API version.
pub fn api_entry(api_name: &str, api_version: &str) -> String {
    format!("{api_name}:{api_version}")
}

/// Whether the token claims to be an API key.
pub fn is_api_key(principal: &Principal) -> bool {
    principal
        .claim_str(TOKEN_TYPE_CLAIM)
        .is_some_and(|t| t.eq_ignore_ascii_case(API_KEY_TOKEN_TYPE))
}

/// Checks an already verified token presented as an API key for the API `api_entry` on a route
/// of `key_type`; returns its consumer key.
pub fn check_api_key(
    principal: &Principal,
    api_entry: &str,
    key_type: KeyType,
) -> Result<Option<String>, AuthError> {
    if !is_api_key(principal) {
        return Err(AuthError::InvalidApiKey("token is not an API key"));
    }
    let listed = match principal.claims.get(APIS_CLAIM) {
        Some(Value::Array(apis)) => apis.iter().any(|a| a.as_str() == Some(api_entry)),
        _ => false,
    };
    if !listed {
        return Err(AuthError::InvalidApiKey("API key is not valid for this API"));
    }
    match principal
        .claim_str(KEY_TYPE_CLAIM)
        .and_then(KeyType::from_apk_str)
    {
        Some(kt) if kt == key_type => {}
        Some(_) => return Err(AuthError::InvalidApiKey("API key is for another key type")),
        None => return Err(AuthError::InvalidApiKey("API key has no valid keytype")),
    }
    Ok(principal
        .claim_str(CONSUMER_KEY_CLAIM)
        .map(str::to_owned)
        .or_else(|| principal.consumer_key.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(claims: Value) -> Principal {
        Principal {
            issuer_name: "idp".into(),
            subject: None,
            consumer_key: Some("from-claim".into()),
            scopes: Default::default(),
            claims: claims.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn api_key_claims() {
        let entry = api_entry("pets", "1.0");
        assert_eq!(entry, "pets:1.0");
        let good = principal(
            json!({"tokenType": "apiKey", "azp": "ck", "keytype": "PRODUCTION",
            "apis": ["orders:1.0", "pets:1.0"]}),
        );
        assert!(is_api_key(&good));
        assert_eq!(
            check_api_key(&good, &entry, KeyType::Production)
                .unwrap()
                .as_deref(),
            Some("ck")
        );
        let err = check_api_key(&good, &entry, KeyType::Sandbox).unwrap_err();
        assert_eq!(err.code(), 900903);
        assert!(check_api_key(&good, "pets:2.0", KeyType::Production).is_err());
        for bad in [
            json!({"tokenType": "apiKey", "keytype": "PRODUCTION", "apis": []}),
            json!({"tokenType": "apiKey", "keytype": "PRODUCTION"}),
            json!({"tokenType": "apiKey", "keytype": "PRODUCTION", "apis": "pets:1.0"}),
            json!({"tokenType": "apiKey", "apis": ["pets:1.0"]}),
            json!({"tokenType": "apiKey", "keytype": "STAGING", "apis": ["pets:1.0"]}),
            json!({"keytype": "PRODUCTION", "apis": ["pets:1.0"]}),
            json!({"tokenType": "access", "keytype": "PRODUCTION", "apis": ["pets:1.0"]}),
        ] {
            let p = principal(bad.clone());
            assert!(check_api_key(&p, &entry, KeyType::Production).is_err(), "{bad}");
        }
        let no_azp = principal(json!({"tokenType": "APIKEY", "keytype": "sandbox", "apis": ["pets:1.0"]}));
        assert_eq!(
            check_api_key(&no_azp, &entry, KeyType::Sandbox)
                .unwrap()
                .as_deref(),
            Some("from-claim")
        );
    }
}
