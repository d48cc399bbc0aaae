//! What the suites know of the gateway they attack beyond its URL: the credentials to
//! present and the hostnames its routes answer to.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{Result, anyhow};
use portcullis_idp::Idp;
use portcullis_operator::profile::APK_TEST_CLIENT_ID;

use super::resources::{KEYS_API, KEYS_CLIENT_ID};

/// Credentials for the protected suites.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// An access token the JWT-protected API accepts (without `Bearer `).
    pub bearer_token: Option<String>,
    /// An API key the API-key-protected API accepts.
    pub api_key: Option<String>,
}

impl Credentials {
    /// A token and an API key from the embedded gateway's IdP, the way clients get them: the
    /// token for APK's test client, the key for the client the suite resources register.
    pub fn mint(idp: &Idp) -> Result<Self> {
        let token = idp
            .issue_token(APK_TEST_CLIENT_ID, Vec::<String>::new())
            .map_err(|e| anyhow!("issuing a token to {APK_TEST_CLIENT_ID}: {e}"))?;
        let key = idp
            .issue_api_key(KEYS_CLIENT_ID, [KEYS_API], None)
            .map_err(|e| anyhow!("issuing an API key for {KEYS_API} to {KEYS_CLIENT_ID}: {e}"))?;
        Ok(Credentials {
            bearer_token: Some(token.access_token),
            api_key: Some(key.api_key),
        })
    }

    /// `Bearer <token>`, if there is a token.
    pub fn authorization(&self) -> Option<String> {
        self.bearer_token.as_ref().map(|token| format!("Bearer {token}"))
    }
}

// Hand-written so credentials never reach a log line.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |present: bool| if present { "<redacted>" } else { "none" };
        f.debug_struct("Credentials")
            .field("bearer_token", &shown(self.bearer_token.is_some()))
            .field("api_key", &shown(self.api_key.is_some()))
            .finish()
    }
}

/// Host headers to send instead of the shipped resources' hostnames (`--host-header
/// SHIPPED=HOST`), for a gateway whose routes answer to other names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostMap(BTreeMap<String, String>);

impl HostMap {
    /// The map from `SHIPPED=HOST` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        HostMap(pairs.into_iter().collect())
    }

    /// The Host header to send for the shipped hostname `shipped`.
    pub fn host(&self, shipped: &str) -> String {
        self.0
            .get(shipped)
            .cloned()
            .unwrap_or_else(|| shipped.to_string())
    }
}

/// Parses `SHIPPED=HOST` (clap's value parser for `--host-header`).
pub fn parse_host_header(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() && !to.trim().is_empty() => {
            Ok((from.trim().to_string(), to.trim().to_string()))
        }
        _ => Err(format!(
            "expected SHIPPED=HOST (e.g. jwt.load.example=api.example.com), not {raw:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use portcullis_idp::{IdpConfig, OAuthClient};

    use super::*;

    #[test]
    fn host_headers_rewrite_only_the_names_given() {
        let map = HostMap::new([parse_host_header("jwt.load.example = api.example.com").unwrap()]);
        assert_eq!(map.host("jwt.load.example"), "api.example.com");
        assert_eq!(map.host("keys.load.example"), "keys.load.example");
        assert!(parse_host_header("jwt.load.example").is_err());
        assert!(parse_host_header("=x").is_err());
    }

    #[test]
    fn minting_needs_both_clients_and_never_logs_the_secrets() -> Result<()> {
        let idp = Idp::new(IdpConfig::default())?;
        idp.set_clients(vec![OAuthClient::new(APK_TEST_CLIENT_ID, "s")]);
        // The API-key client is missing until the suite resources register it.
        assert!(Credentials::mint(&idp).is_err());
        let mut keys = OAuthClient::new(KEYS_CLIENT_ID, "s");
        keys.apis = vec![KEYS_API.to_string()];
        idp.set_clients(vec![OAuthClient::new(APK_TEST_CLIENT_ID, "s"), keys]);
        let credentials = Credentials::mint(&idp)?;
        let token = credentials.bearer_token.clone().unwrap_or_default();
        assert_eq!(token.split('.').count(), 3, "a JWT");
        assert_eq!(credentials.authorization(), Some(format!("Bearer {token}")));
        assert!(!format!("{credentials:?}").contains(&token));
        Ok(())
    }
}
