//! Applications and subscriptions indexed for constant-time lookup per request.
//!
//! Built once per configuration push. A lookup hashes the consumer key, then looks at the few
//! bindings of that key (one per key type and environment) and the subscriptions of the one
//! application to the one API name; nothing scans the whole configuration.

use std::collections::HashMap;

use crate::config::{ApplicationConfig, KeyType};

/// The application a request was made for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplicationIdentity {
    /// Application UUID.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Owner (APK `subscriber`).
    pub owner: String,
}

/// The subscription an application holds to an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionMatch {
    /// Subscription UUID.
    pub id: String,
    /// Status as configured (`ACTIVE` passes).
    pub status: String,
    /// Rate-limit tier.
    pub rate_limit_tier: Option<String>,
}

impl SubscriptionMatch {
    /// Whether the subscription lets calls through.
    pub fn is_active(&self) -> bool {
        self.status == crate::config::ACTIVE
    }
}

/// What is known about a consumer key on one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution<'a> {
    /// The application owning the key.
    pub application: &'a ApplicationIdentity,
    /// Its subscription to the route's API, if any.
    pub subscription: Option<&'a SubscriptionMatch>,
}

/// Where one consumer key is valid.
#[derive(Debug)]
struct KeyBinding {
    organization: String,
    key_type: KeyType,
    environment: String,
    app: usize,
}

#[derive(Debug)]
struct VersionedSubscription {
    /// Exact version, or `None` for `"*"`.
    version: Option<String>,
    subscription: SubscriptionMatch,
}

#[derive(Debug)]
struct IndexedApplication {
    identity: ApplicationIdentity,
    /// Subscriptions by API name.
    by_api: HashMap<String, Vec<VersionedSubscription>>,
}

/// Applications by consumer key, with their subscriptions by API.
#[derive(Debug, Default)]
pub struct SubscriptionIndex {
    apps: Vec<IndexedApplication>,
    by_key: HashMap<String, Vec<KeyBinding>>,
}

/// Whether a consumer key's `environment` covers a route's.
fn environment_matches(key_environment: &str, route_environment: &str) -> bool {
    key_environment == "*" || key_environment == route_environment
}

impl SubscriptionIndex {
    /// Indexes `applications`; a key bound twice to the same organization, key type and
    /// environment keeps its first application (logged).
    pub fn new(applications: &[ApplicationConfig]) -> Self {
        let mut index = Self::default();
        for application in applications {
            let app = index.apps.len();
            let mut by_api: HashMap<String, Vec<VersionedSubscription>> = HashMap::new();
            for sub in &application.subscriptions {
                by_api
                    .entry(sub.api_name.clone())
                    .or_default()
                    .push(VersionedSubscription {
                        version: (sub.api_version != "*").then(|| sub.api_version.clone()),
                        subscription: SubscriptionMatch {
                            id: sub.id.clone(),
                            status: sub.status.clone(),
                            rate_limit_tier: sub.rate_limit_tier.clone(),
                        },
                    });
            }
            index.apps.push(IndexedApplication {
                identity: ApplicationIdentity {
                    id: application.id.clone(),
                    name: application.name.clone(),
                    owner: application.owner.clone(),
                },
                by_api,
            });
            for key in &application.consumer_keys {
                let bindings = index.by_key.entry(key.key.clone()).or_default();
                let clash = bindings.iter().find(|b| {
                    b.organization == application.organization
                        && b.key_type == key.key_type
                        && b.environment == key.environment
                });
                if let Some(existing) = clash {
                    tracing::warn!(
                        consumer_key = %key.key,
                        kept = %index.apps[existing.app].identity.id,
                        ignored = %application.id,
                        "consumer key bound to two applications; the first is kept"
                    );
                    continue;
                }
                bindings.push(KeyBinding {
                    organization: application.organization.clone(),
                    key_type: key.key_type,
                    environment: key.environment.clone(),
                    app,
                });
            }
        }
        // Exact environments first so they win over `*`.
        for bindings in index.by_key.values_mut() {
            bindings.sort_by_key(|b| b.environment == "*");
        }
        index
    }

    /// Number of indexed applications.
    pub fn len(&self) -> usize {
        self.apps.len()
    }

    /// Whether no application is indexed.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }

    /// The application of `consumer_key` for a route of `organization`, `key_type` and
    /// `environment`, with its subscription to `api_name` `api_version`.
    ///
    /// A subscription to the exact version wins over one to `"*"`; among equally specific ones
    /// an ACTIVE subscription wins.
    pub fn resolve(
        &self,
        consumer_key: &str,
        organization: &str,
        key_type: KeyType,
        environment: &str,
        api_name: &str,
        api_version: &str,
    ) -> Option<Resolution<'_>> {
        let binding = self.by_key.get(consumer_key)?.iter().find(|b| {
            b.key_type == key_type
                && b.organization == organization
                && environment_matches(&b.environment, environment)
        })?;
        let app = &self.apps[binding.app];
        let subscription = app.by_api.get(api_name).and_then(|subs| {
            let pick = |exact: bool| {
                let mut candidates = subs.iter().filter(|s| match &s.version {
                    Some(v) => exact && v == api_version,
                    None => !exact,
                });
                let first = candidates.next()?;
                Some(
                    std::iter::once(first)
                        .chain(candidates)
                        .find(|s| s.subscription.is_active())
                        .unwrap_or(first),
                )
            };
            pick(true).or_else(|| pick(false)).map(|s| &s.subscription)
        });
        Some(Resolution {
            application: &app.identity,
            subscription,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConsumerKey, SubscriptionConfig};

    fn sub(api: &str, version: &str, status: &str, tier: &str) -> SubscriptionConfig {
        SubscriptionConfig {
            id: format!("{api}-{version}-{status}"),
            api_name: api.into(),
            api_version: version.into(),
            status: status.into(),
            rate_limit_tier: Some(tier.into()),
        }
    }

    fn key(key: &str, key_type: KeyType, environment: &str) -> ConsumerKey {
        ConsumerKey {
            key: key.into(),
            key_type,
            environment: environment.into(),
        }
    }

    fn index() -> SubscriptionIndex {
        SubscriptionIndex::new(&[
            ApplicationConfig {
                id: "app-1".into(),
                name: "One".into(),
                owner: "alice".into(),
                organization: "org".into(),
                consumer_keys: vec![
                    key("ck-prod", KeyType::Production, ""),
                    key("ck-sand", KeyType::Sandbox, "*"),
                ],
                subscriptions: vec![
                    sub("pets", "1.0", "ACTIVE", "Gold"),
                    sub("pets", "*", "BLOCKED", "Bronze"),
                    sub("orders", "*", "ACTIVE", "Silver"),
                    sub("stores", "1.0", "INACTIVE", "Gold"),
                    sub("stores", "1.0", "ACTIVE", "Unlimited"),
                ],
            },
            ApplicationConfig {
                id: "app-2".into(),
                organization: "org".into(),
                // Same key, same binding: ignored.
                consumer_keys: vec![key("ck-prod", KeyType::Production, "")],
                ..ApplicationConfig::default()
            },
        ])
    }

    #[test]
    fn resolves_applications_and_subscriptions() {
        let index = index();
        assert_eq!(index.len(), 2);
        let r = index
            .resolve("ck-prod", "org", KeyType::Production, "", "pets", "1.0")
            .unwrap();
        assert_eq!(r.application.id, "app-1");
        let s = r.subscription.unwrap();
        assert!(s.is_active());
        assert_eq!(s.rate_limit_tier.as_deref(), Some("Gold"));
        // Other versions fall to the wildcard subscription, which is blocked.
        let r = index
            .resolve("ck-prod", "org", KeyType::Production, "", "pets", "2.0")
            .unwrap();
        assert_eq!(r.subscription.unwrap().status, "BLOCKED");
        let r = index
            .resolve("ck-prod", "org", KeyType::Production, "", "orders", "9")
            .unwrap();
        assert_eq!(r.subscription.unwrap().rate_limit_tier.as_deref(), Some("Silver"));
        // ACTIVE wins among equally specific subscriptions.
        let r = index
            .resolve("ck-prod", "org", KeyType::Production, "", "stores", "1.0")
            .unwrap();
        assert_eq!(
            r.subscription.unwrap().rate_limit_tier.as_deref(),
            Some("Unlimited")
        );
        let r = index
            .resolve("ck-prod", "org", KeyType::Production, "", "users", "1.0")
            .unwrap();
        assert!(r.subscription.is_none());
    }

    #[test]
    fn key_type_environment_and_organization_must_match() {
        let index = index();
        let resolve = |ck: &str, org: &str, kt: KeyType, env: &str| {
            index
                .resolve(ck, org, kt, env, "pets", "1.0")
                .map(|r| r.application.id.clone())
        };
        assert_eq!(resolve("ck-prod", "org", KeyType::Sandbox, ""), None);
        assert_eq!(resolve("ck-prod", "org", KeyType::Production, "dev"), None);
        assert_eq!(resolve("ck-prod", "other", KeyType::Production, ""), None);
        assert_eq!(resolve("nope", "org", KeyType::Production, ""), None);
        assert_eq!(
            resolve("ck-sand", "org", KeyType::Sandbox, "anything").as_deref(),
            Some("app-1")
        );
    }
}
