//! The registered OAuth clients, swapped as a whole when the control plane pushes new ones.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use arc_swap::ArcSwap;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::config::OAuthClient;

type SecretDigest = [u8; 32];

/// A client as stored: its secret replaced by the secret's digest.
#[derive(Debug)]
struct Registered {
    secret: SecretDigest,
    client: Arc<OAuthClient>,
}

/// Client id → client; readers never block the writer.
#[derive(Debug, Default)]
pub(crate) struct ClientRegistry {
    clients: ArcSwap<HashMap<String, Registered>>,
}

impl ClientRegistry {
    /// Replaces every client at once; a request sees either the old set or the new one.
    ///
    /// Clients with an empty id or secret are skipped; of two clients with one id the first is kept.
    pub(crate) fn replace(&self, clients: Vec<OAuthClient>) {
        let mut table = HashMap::with_capacity(clients.len());
        for mut client in clients {
            if client.client_id.is_empty() || client.client_secret.is_empty() {
                tracing::warn!(client_id = %client.client_id, "skipping OAuth client without id or secret");
                continue;
            }
            let secret = digest(&client.client_secret);
            // The plaintext secret is not needed after hashing; do not keep it around.
            client.client_secret = String::new();
            match table.entry(client.client_id.clone()) {
                Entry::Occupied(_) => {
                    tracing::warn!(client_id = %client.client_id, "duplicate OAuth client id, keeping the first");
                }
                Entry::Vacant(slot) => {
                    slot.insert(Registered {
                        secret,
                        client: Arc::new(client),
                    });
                }
            }
        }
        tracing::info!(clients = table.len(), "OAuth clients updated");
        self.clients.store(Arc::new(table));
    }

    /// The client with this id and secret, or `None`.
    ///
    /// Secrets are compared as digests in constant time; an unknown id costs the same comparison,
    /// so timing tells nothing about which ids exist.
    pub(crate) fn authenticate(&self, client_id: &str, client_secret: &str) -> Option<Arc<OAuthClient>> {
        let presented = digest(client_secret);
        let clients = self.clients.load();
        match clients.get(client_id) {
            Some(registered) if bool::from(registered.secret.ct_eq(&presented)) => {
                Some(Arc::clone(&registered.client))
            }
            Some(_) => None,
            None => {
                let _ = [0u8; 32].ct_eq(&presented);
                None
            }
        }
    }

    /// The client with this id, without checking a secret (in-process issuance).
    pub(crate) fn get(&self, client_id: &str) -> Option<Arc<OAuthClient>> {
        self.clients.load().get(client_id).map(|r| Arc::clone(&r.client))
    }
}

fn digest(secret: &str) -> SecretDigest {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticates_by_id_and_secret_and_swaps_atomically() {
        let registry = ClientRegistry::default();
        registry.replace(vec![OAuthClient::new("a", "one"), OAuthClient::new("a", "other")]);
        let client = registry.authenticate("a", "one").unwrap();
        assert_eq!(client.client_id, "a");
        assert!(client.client_secret.is_empty(), "plaintext secret is dropped");
        assert!(
            registry.authenticate("a", "other").is_none(),
            "first duplicate wins"
        );
        assert!(registry.authenticate("a", "").is_none());
        assert!(registry.authenticate("b", "one").is_none());

        registry.replace(vec![OAuthClient::new("a", "two"), OAuthClient::new("", "x")]);
        assert!(registry.authenticate("a", "one").is_none());
        assert!(registry.authenticate("a", "two").is_some());
        assert!(registry.get("").is_none());
    }
}
