//! Issued API keys, stored only as SHA-256 digests.

use std::collections::HashMap;
use std::sync::RwLock;

use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Digest of an API key; the key itself is never stored.
type KeyDigest = [u8; 32];

/// API keys issued per API.
#[derive(Debug, Default)]
pub struct ApiKeyStore {
    keys: RwLock<HashMap<KeyDigest, String>>,
}

impl ApiKeyStore {
    /// Issues a new random key for `api` and returns it; only its digest is kept.
    pub fn issue(&self, api: &str) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = hex::encode(bytes);
        let mut keys = self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.insert(digest(&key), api.to_owned());
        key
    }

    /// Whether `key` was issued for `api`.
    ///
    /// Lookup is by digest, so timing depends on the hash of the key, not on the key's prefix.
    pub fn is_valid(&self, key: &str, api: &str) -> bool {
        let keys = self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.get(&digest(key)).is_some_and(|owner| owner == api)
    }

    /// Revokes `key`; returns whether it existed.
    pub fn revoke(&self, key: &str) -> bool {
        let mut keys = self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.remove(&digest(key)).is_some()
    }
}

fn digest(key: &str) -> KeyDigest {
    Sha256::digest(key.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_are_bound_to_their_api() {
        let store = ApiKeyStore::default();
        let key = store.issue("pets");
        assert_eq!(key.len(), 64);
        assert_ne!(key, store.issue("pets"));
        assert!(store.is_valid(&key, "pets"));
        assert!(!store.is_valid(&key, "orders"));
        assert!(!store.is_valid("nope", "pets"));
        assert!(store.revoke(&key));
        assert!(!store.is_valid(&key, "pets"));
    }
}
