//! The validated, lookup-ready form of a [`LimiterConfig`], and descriptor matching.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;

use envoy_types::pb::envoy::extensions::common::ratelimit::v3::rate_limit_descriptor::Entry;
use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::rate_limit::Unit as ProtoUnit;

use crate::config::{DescriptorConfig, LimiterConfig, RateLimitConfig, Unit};
use crate::error::ConfigError;

/// A validated window length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    Second,
    Minute,
    Hour,
    Day,
}

impl Window {
    /// Window length in seconds; windows start at multiples of it since the Unix epoch.
    pub(crate) fn seconds(self) -> u64 {
        match self {
            Window::Second => 1,
            Window::Minute => 60,
            Window::Hour => 3_600,
            Window::Day => 86_400,
        }
    }

    pub(crate) fn proto(self) -> ProtoUnit {
        match self {
            Window::Second => ProtoUnit::Second,
            Window::Minute => ProtoUnit::Minute,
            Window::Hour => ProtoUnit::Hour,
            Window::Day => ProtoUnit::Day,
        }
    }
}

/// A validated limit of one descriptor node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    pub(crate) requests_per_unit: u32,
    pub(crate) window: Window,
    pub(crate) shadow: bool,
}

/// Outcome of looking up one request descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The request's domain is not configured.
    UnknownDomain,
    /// No config path matches all the descriptor's entries.
    NoMatch,
    /// The most specific match has no limit (an explicit allow-list entry).
    Unlimited,
    /// The most specific match carries this limit.
    Limited(Limit),
}

/// Descriptor trees per domain, validated.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    domains: HashMap<String, Level>,
}

/// Children of one node (or a domain's roots), indexed by entry key.
#[derive(Debug, Default)]
struct Level {
    keys: HashMap<String, KeyNodes>,
}

/// The nodes for one key: exact-value nodes and at most one any-value node.
#[derive(Debug, Default)]
struct KeyNodes {
    by_value: HashMap<String, Node>,
    any: Option<Node>,
}

#[derive(Debug)]
struct Node {
    limit: Option<Limit>,
    children: Level,
}

impl Rules {
    /// Validate `config`, dropping invalid entries. Returns the usable rules and one error per
    /// dropped entry.
    ///
    /// An invalid *limit* only removes that limit: the node stays, so its valid children still
    /// apply and requests for it do not fall through to a less specific sibling's limit.
    pub(crate) fn compile(config: &LimiterConfig) -> (Rules, Vec<ConfigError>) {
        let mut errors = Vec::new();
        let mut domains = HashMap::new();
        for (domain, domain_config) in &config.domains {
            if domain.is_empty() {
                errors.push(ConfigError::EmptyDomain);
                continue;
            }
            let level = compile_level(domain, &domain_config.descriptors, "", &mut errors);
            domains.insert(domain.clone(), level);
        }
        (Rules { domains }, errors)
    }

    /// Find the limit for a request descriptor's `entries` in `domain`.
    ///
    /// At each level an exact value match is tried before the key-only node. If the exact branch
    /// cannot match the remaining entries, the key-only branch is tried (backtracking), so the
    /// most specific *complete* match wins. A config path must consume every entry to match.
    pub(crate) fn lookup(&self, domain: &str, entries: &[Entry]) -> Lookup {
        let Some(roots) = self.domains.get(domain) else {
            return Lookup::UnknownDomain;
        };
        match find(roots, entries) {
            None => Lookup::NoMatch,
            Some(Node { limit: None, .. }) => Lookup::Unlimited,
            Some(Node {
                limit: Some(limit), ..
            }) => Lookup::Limited(*limit),
        }
    }
}

fn find<'a>(level: &'a Level, entries: &[Entry]) -> Option<&'a Node> {
    let (first, rest) = entries.split_first()?;
    let nodes = level.keys.get(&first.key)?;
    let candidates = [nodes.by_value.get(&first.value), nodes.any.as_ref()];
    candidates.into_iter().flatten().find_map(|node| {
        if rest.is_empty() {
            Some(node)
        } else {
            find(&node.children, rest)
        }
    })
}

fn compile_level(
    domain: &str,
    descriptors: &[DescriptorConfig],
    parent: &str,
    errors: &mut Vec<ConfigError>,
) -> Level {
    let mut level = Level::default();
    for descriptor in descriptors {
        let segment = match &descriptor.value {
            Some(value) => format!("{}={value}", descriptor.key),
            None => descriptor.key.clone(),
        };
        let path = if parent.is_empty() {
            segment
        } else {
            format!("{parent}/{segment}")
        };
        if descriptor.key.is_empty() {
            errors.push(ConfigError::EmptyKey {
                domain: domain.to_string(),
                path,
            });
            continue;
        }
        let nodes = level.keys.entry(descriptor.key.clone()).or_default();
        let taken = match &descriptor.value {
            Some(value) => nodes.by_value.contains_key(value),
            None => nodes.any.is_some(),
        };
        if taken {
            // First wins, so a push that appends a conflicting entry cannot change live limits.
            errors.push(ConfigError::Duplicate {
                domain: domain.to_string(),
                path,
            });
            continue;
        }
        let limit = descriptor
            .rate_limit
            .as_ref()
            .and_then(|rate_limit| validate_limit(domain, &path, rate_limit, descriptor.shadow_mode, errors));
        let node = Node {
            limit,
            children: compile_level(domain, &descriptor.descriptors, &path, errors),
        };
        match &descriptor.value {
            Some(value) => {
                if let MapEntry::Vacant(slot) = nodes.by_value.entry(value.clone()) {
                    slot.insert(node);
                }
            }
            None => nodes.any = Some(node),
        }
    }
    level
}

fn validate_limit(
    domain: &str,
    path: &str,
    rate_limit: &RateLimitConfig,
    shadow: bool,
    errors: &mut Vec<ConfigError>,
) -> Option<Limit> {
    let count = u32::try_from(rate_limit.requests_per_unit)
        .ok()
        .filter(|count| *count > 0);
    if count.is_none() {
        errors.push(ConfigError::InvalidCount {
            domain: domain.to_string(),
            path: path.to_string(),
            value: rate_limit.requests_per_unit,
        });
    }
    let window = match &rate_limit.unit {
        Unit::Second => Some(Window::Second),
        Unit::Minute => Some(Window::Minute),
        Unit::Hour => Some(Window::Hour),
        Unit::Day => Some(Window::Day),
        Unit::Unrecognized(name) => {
            errors.push(ConfigError::UnknownUnit {
                domain: domain.to_string(),
                path: path.to_string(),
                unit: name.clone(),
            });
            None
        }
    };
    Some(Limit {
        requests_per_unit: count?,
        window: window?,
        shadow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DomainConfig;
    use std::collections::BTreeMap;

    fn config(domain: &str, descriptors: Vec<DescriptorConfig>) -> LimiterConfig {
        let mut domains = BTreeMap::new();
        domains.insert(domain.to_string(), DomainConfig { descriptors });
        LimiterConfig { domains }
    }

    fn entries(pairs: &[(&str, &str)]) -> Vec<Entry> {
        pairs
            .iter()
            .map(|(key, value)| Entry {
                key: key.to_string(),
                value: value.to_string(),
            })
            .collect()
    }

    fn limit_of(rules: &Rules, domain: &str, pairs: &[(&str, &str)]) -> Option<u32> {
        match rules.lookup(domain, &entries(pairs)) {
            Lookup::Limited(limit) => Some(limit.requests_per_unit),
            _ => None,
        }
    }

    #[test]
    fn invalid_counts_and_units_are_reported_with_their_path_and_dropped_alone() {
        let cfg = config(
            "gw",
            vec![
                DescriptorConfig::key_value("route", "a").limit(0, Unit::Minute),
                DescriptorConfig::key_value("route", "b").limit(-5, Unit::Minute),
                DescriptorConfig::key_value("route", "c").children([
                    DescriptorConfig::key("user").limit(3, Unit::Unrecognized("Fortnight".into())),
                    DescriptorConfig::key("ip").limit(7, Unit::Hour),
                ]),
                DescriptorConfig::key_value("route", "d").limit(i64::from(u32::MAX) + 1, Unit::Day),
                DescriptorConfig::key_value("route", "ok").limit(5, Unit::Second),
            ],
        );
        let (rules, errors) = Rules::compile(&cfg);
        assert_eq!(
            errors,
            vec![
                ConfigError::InvalidCount {
                    domain: "gw".into(),
                    path: "route=a".into(),
                    value: 0
                },
                ConfigError::InvalidCount {
                    domain: "gw".into(),
                    path: "route=b".into(),
                    value: -5
                },
                ConfigError::UnknownUnit {
                    domain: "gw".into(),
                    path: "route=c/user".into(),
                    unit: "Fortnight".into()
                },
                ConfigError::InvalidCount {
                    domain: "gw".into(),
                    path: "route=d".into(),
                    value: 4_294_967_296
                },
            ]
        );
        let message = errors[2].to_string();
        assert!(
            message.contains("\"gw\"") && message.contains("route=c/user"),
            "{message}"
        );
        assert_eq!(errors[2].domain(), "gw");
        assert_eq!(errors[2].path(), "route=c/user");
        // The valid rest of the config is live.
        assert_eq!(limit_of(&rules, "gw", &[("route", "ok")]), Some(5));
        assert_eq!(
            limit_of(&rules, "gw", &[("route", "c"), ("ip", "1.2.3.4")]),
            Some(7)
        );
        // The node with the bad limit stays, unlimited, rather than disappearing.
        assert_eq!(rules.lookup("gw", &entries(&[("route", "a")])), Lookup::Unlimited);
        assert_eq!(cfg.validate(), errors);
    }

    #[test]
    fn duplicates_empty_keys_and_empty_domains_are_reported() {
        let mut cfg = config(
            "gw",
            vec![
                DescriptorConfig::key_value("route", "a").limit(1, Unit::Second),
                DescriptorConfig::key_value("route", "a").limit(9, Unit::Second),
                DescriptorConfig::key("route").limit(2, Unit::Second),
                DescriptorConfig::key("route").limit(8, Unit::Second),
                DescriptorConfig::key("").limit(1, Unit::Second),
            ],
        );
        cfg.domains.insert(String::new(), DomainConfig::default());
        let (rules, errors) = Rules::compile(&cfg);
        assert_eq!(
            errors,
            vec![
                ConfigError::EmptyDomain,
                ConfigError::Duplicate {
                    domain: "gw".into(),
                    path: "route=a".into()
                },
                ConfigError::Duplicate {
                    domain: "gw".into(),
                    path: "route".into()
                },
                ConfigError::EmptyKey {
                    domain: "gw".into(),
                    path: "".into()
                },
            ]
        );
        assert_eq!(limit_of(&rules, "gw", &[("route", "a")]), Some(1));
        assert_eq!(limit_of(&rules, "gw", &[("route", "z")]), Some(2));
    }

    fn matching_rules() -> Rules {
        let cfg = config(
            "gw",
            vec![
                DescriptorConfig::key("route")
                    .limit(100, Unit::Minute)
                    .children([DescriptorConfig::key("method").limit(50, Unit::Minute)]),
                DescriptorConfig::key_value("route", "orders")
                    .limit(10, Unit::Minute)
                    .children([DescriptorConfig::key_value("method", "POST").limit(2, Unit::Minute)]),
                DescriptorConfig::key("remote_address").limit(30, Unit::Minute),
                // An allow-list entry: no limit, so the key-only limit above must not apply.
                DescriptorConfig::key_value("remote_address", "10.0.0.1"),
            ],
        );
        let (rules, errors) = Rules::compile(&cfg);
        assert!(errors.is_empty(), "{errors:?}");
        rules
    }

    #[test]
    fn value_match_beats_key_only_match() {
        let rules = matching_rules();
        assert_eq!(limit_of(&rules, "gw", &[("route", "orders")]), Some(10));
        assert_eq!(limit_of(&rules, "gw", &[("route", "users")]), Some(100));
    }

    #[test]
    fn nested_descriptors_match_level_by_level() {
        let rules = matching_rules();
        assert_eq!(
            limit_of(&rules, "gw", &[("route", "orders"), ("method", "POST")]),
            Some(2)
        );
        assert_eq!(
            limit_of(&rules, "gw", &[("route", "users"), ("method", "GET")]),
            Some(50)
        );
        // The exact branch has no `method=GET`, so the key-only branch is the most specific match.
        assert_eq!(
            limit_of(&rules, "gw", &[("route", "orders"), ("method", "GET")]),
            Some(50)
        );
    }

    #[test]
    fn unmatched_descriptors_are_no_match() {
        let rules = matching_rules();
        assert_eq!(rules.lookup("gw", &entries(&[("header", "x")])), Lookup::NoMatch);
        assert_eq!(
            rules.lookup(
                "gw",
                &entries(&[("route", "orders"), ("method", "POST"), ("extra", "1")])
            ),
            Lookup::NoMatch
        );
        // Entry order matters: the tree is rooted at `route`.
        assert_eq!(
            rules.lookup("gw", &entries(&[("method", "GET"), ("route", "x")])),
            Lookup::NoMatch
        );
        assert_eq!(rules.lookup("gw", &[]), Lookup::NoMatch);
        assert_eq!(
            rules.lookup("other", &entries(&[("route", "x")])),
            Lookup::UnknownDomain
        );
    }

    #[test]
    fn exact_node_without_limit_allow_lists() {
        let rules = matching_rules();
        assert_eq!(
            rules.lookup("gw", &entries(&[("remote_address", "10.0.0.1")])),
            Lookup::Unlimited
        );
        assert_eq!(
            limit_of(&rules, "gw", &[("remote_address", "10.0.0.2")]),
            Some(30)
        );
    }

    #[test]
    fn shadow_mode_is_carried_per_node() {
        let cfg = config(
            "gw",
            vec![DescriptorConfig::key("a").limit(1, Unit::Second).shadow()],
        );
        let (rules, _) = Rules::compile(&cfg);
        match rules.lookup("gw", &entries(&[("a", "x")])) {
            Lookup::Limited(limit) => {
                assert!(limit.shadow);
                assert_eq!(limit.window, Window::Second);
            }
            other => panic!("{other:?}"),
        }
    }
}
