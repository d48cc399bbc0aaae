//! The limiter's configuration as the control plane pushes it: domains of descriptor trees.
//!
//! This is the wire/display form. It can hold invalid values (a zero count, an unknown unit) so
//! that one bad entry can be reported and dropped instead of rejecting the whole push; the
//! validated form lives in [`crate::rules`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ConfigError;
use crate::rules::Rules;

/// Every rate-limit domain the service answers for, keyed by domain name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimiterConfig {
    /// Domain name (the `domain` of Envoy's `RateLimitRequest`) to its descriptor tree.
    #[serde(default)]
    pub domains: BTreeMap<String, DomainConfig>,
}

/// The descriptor tree of one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DomainConfig {
    /// Top-level descriptor entries; a request descriptor's first entry is matched against these.
    #[serde(default)]
    pub descriptors: Vec<DescriptorConfig>,
}

/// One node of a descriptor tree, as in envoyproxy/ratelimit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DescriptorConfig {
    /// The descriptor entry key this node matches.
    pub key: String,
    /// The entry value this node matches; `None` matches any value of `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The limit applied when a request descriptor ends at this node; `None` means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitConfig>,
    /// Count and log, but never deny.
    #[serde(default, skip_serializing_if = "is_false")]
    pub shadow_mode: bool,
    /// Children, matched against the request descriptor's next entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descriptors: Vec<DescriptorConfig>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A fixed-window limit: `requests_per_unit` hits per calendar `unit` (windows align to the epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Allowed hits per window; signed so that a bad value is reported by validation, not serde.
    pub requests_per_unit: i64,
    /// Window length.
    pub unit: Unit,
}

/// Window length of a limit.
///
/// Serialized as `Second`, `Minute`, `Hour`, `Day`; read case-insensitively. Any other name is
/// kept as [`Unit::Unrecognized`] so validation can drop just that entry and name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unit {
    /// One second.
    Second,
    /// One minute.
    Minute,
    /// One hour.
    Hour,
    /// One day (UTC, aligned to the epoch).
    Day,
    /// A name the limiter does not support, e.g. `Week`.
    Unrecognized(String),
}

impl Unit {
    /// The canonical name, or the unrecognized text as given.
    pub fn as_str(&self) -> &str {
        match self {
            Unit::Second => "Second",
            Unit::Minute => "Minute",
            Unit::Hour => "Hour",
            Unit::Day => "Day",
            Unit::Unrecognized(other) => other,
        }
    }

    /// Parse a unit name, case-insensitively.
    pub fn parse(name: &str) -> Unit {
        match name.to_ascii_lowercase().as_str() {
            "second" => Unit::Second,
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            _ => Unit::Unrecognized(name.to_string()),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Unit::parse(&name))
    }
}

impl LimiterConfig {
    /// Errors of every entry that [`crate::Limiter::update_config`] would drop; empty if all valid.
    pub fn validate(&self) -> Vec<ConfigError> {
        Rules::compile(self).1
    }
}

impl DescriptorConfig {
    /// A node matching any value of `key`.
    pub fn key(key: impl Into<String>) -> Self {
        DescriptorConfig {
            key: key.into(),
            value: None,
            rate_limit: None,
            shadow_mode: false,
            descriptors: Vec::new(),
        }
    }

    /// A node matching `key` with exactly `value`.
    pub fn key_value(key: impl Into<String>, value: impl Into<String>) -> Self {
        DescriptorConfig {
            value: Some(value.into()),
            ..DescriptorConfig::key(key)
        }
    }

    /// This node with a limit of `requests_per_unit` per `unit`.
    pub fn limit(mut self, requests_per_unit: i64, unit: Unit) -> Self {
        self.rate_limit = Some(RateLimitConfig {
            requests_per_unit,
            unit,
        });
        self
    }

    /// This node in shadow mode.
    pub fn shadow(mut self) -> Self {
        self.shadow_mode = true;
        self
    }

    /// This node with `children` appended.
    pub fn children(mut self, children: impl IntoIterator<Item = DescriptorConfig>) -> Self {
        self.descriptors.extend(children);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LimiterConfig {
        let mut domains = BTreeMap::new();
        domains.insert(
            "default-gateway-http".to_string(),
            DomainConfig {
                descriptors: vec![
                    DescriptorConfig::key("remote_address").limit(100, Unit::Minute),
                    DescriptorConfig::key_value("route", "orders")
                        .limit(10, Unit::Second)
                        .children([DescriptorConfig::key_value("method", "POST")
                            .limit(2, Unit::Second)
                            .shadow()]),
                ],
            },
        );
        LimiterConfig { domains }
    }

    #[test]
    fn yaml_golden() {
        insta::assert_snapshot!(serde_yaml::to_string(&sample()).unwrap());
    }

    #[test]
    fn json_round_trip_is_camel_case() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(json.contains("\"requestsPerUnit\":10"), "{json}");
        assert!(json.contains("\"shadowMode\":true"), "{json}");
        let back: LimiterConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn units_parse_case_insensitively_and_keep_unknown_names() {
        let limit: RateLimitConfig =
            serde_json::from_str(r#"{"requestsPerUnit":1,"unit":"MINUTE"}"#).unwrap();
        assert_eq!(limit.unit, Unit::Minute);
        let limit: RateLimitConfig =
            serde_json::from_str(r#"{"requestsPerUnit":1,"unit":"second"}"#).unwrap();
        assert_eq!(limit.unit, Unit::Second);
        let limit: RateLimitConfig = serde_json::from_str(r#"{"requestsPerUnit":1,"unit":"Week"}"#).unwrap();
        assert_eq!(limit.unit, Unit::Unrecognized("Week".into()));
        assert_eq!(serde_json::to_string(&limit.unit).unwrap(), "\"Week\"");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<DescriptorConfig>(r#"{"key":"a","rateLimt":{}}"#).unwrap_err();
        assert!(err.to_string().contains("rateLimt"), "{err}");
    }
}
