//! Renders encoded Envoy xDS resources (`google.protobuf.Any`) as JSON or
//! YAML, the way Envoy itself prints configuration.
//!
//! The prost structs in `envoy-types` carry no reflection data, so this crate
//! embeds a descriptor set compiled at build time from the very `.proto`
//! sources that `envoy-types` ships (every file under `envoy/`, plus imports).
//! Resources are decoded dynamically with `prost-reflect` and serialized with
//! the proto3 JSON mapping: nested `Any`s are expanded in place with an
//! `"@type"` key, enums print as names, durations as `"1s"`, 64-bit integers
//! as strings, and fields holding default values are omitted.
//!
//! Field names default to the proto (snake_case) names, which is what Envoy's
//! admin `/config_dump` and its documentation use; [`FieldNames::LowerCamelCase`]
//! selects the strict proto3 canonical JSON names instead.

use std::sync::OnceLock;

use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use prost_reflect::{
    DescriptorPool, DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions, Value,
};

/// Binary `FileDescriptorSet` produced by `build.rs`.
static DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/envoy_descriptors.bin"));

const ANY_FULL_NAME: &str = "google.protobuf.Any";

/// Deepest chain of `Any`s inside `Any`s accepted. prost bounds message
/// nesting per decode, but every `Any` payload is decoded afresh, so without
/// this a crafted input could exhaust the stack; real Envoy configs nest a
/// handful of levels.
const MAX_ANY_DEPTH: usize = 32;

/// Errors from rendering a resource.
#[derive(Debug, thiserror::Error)]
pub enum ProtoJsonError {
    /// The type URL (of the resource itself or of an `Any` nested in it) names
    /// a message that is not in the embedded Envoy descriptor pool, or is not a
    /// type URL at all.
    #[error("unknown protobuf type {0:?} (not in the embedded Envoy descriptors)")]
    UnknownType(String),
    /// The bytes of a (possibly nested) `Any` are not a valid encoding of the
    /// message its type URL names.
    #[error("cannot decode a {type_url}: {source}")]
    Decode {
        /// Type URL whose payload failed to decode.
        type_url: String,
        /// Underlying protobuf error.
        #[source]
        source: prost::DecodeError,
    },
    /// The message decoded but a value is outside what the JSON mapping
    /// allows (e.g. a `Duration` beyond ±10000 years).
    #[error("cannot render {type_url} as JSON: {source}")]
    Json {
        /// Type URL of the resource being rendered.
        type_url: String,
        /// Underlying serializer error.
        #[source]
        source: serde_json::Error,
    },
    /// Same as [`ProtoJsonError::Json`], raised by the YAML serializer.
    #[error("cannot render {type_url} as YAML: {source}")]
    Yaml {
        /// Type URL of the resource being rendered.
        type_url: String,
        /// Underlying serializer error.
        #[source]
        source: serde_yaml::Error,
    },
    /// `Any`s are nested more than 32 levels deep.
    #[error("Anys nested too deeply (at {0:?})")]
    TooDeep(String),
    /// The descriptor set embedded at build time is unusable; a build problem,
    /// never caused by the input.
    #[error("embedded Envoy descriptor set is invalid: {0}")]
    Descriptors(String),
}

/// How JSON object keys are spelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldNames {
    /// The `.proto` field names (`typed_config`, `stat_prefix`), as printed by
    /// Envoy's `/config_dump` and used throughout Envoy's docs.
    #[default]
    Proto,
    /// The proto3 canonical JSON names (`typedConfig`, `statPrefix`).
    LowerCamelCase,
}

/// Rendering options; [`Default`] matches Envoy's config dump.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonOptions {
    /// Spelling of object keys.
    pub field_names: FieldNames,
}

impl JsonOptions {
    fn serialize_options(self) -> SerializeOptions {
        SerializeOptions::new()
            .use_proto_field_name(self.field_names == FieldNames::Proto)
            // Envoy's dump omits unset/default fields too; printing them
            // would bury the configured values in zeros.
            .skip_default_fields(true)
    }
}

/// Converts an encoded Envoy resource (an `Any`) into its JSON form,
/// expanding nested `Any`s with `"@type"`, using [`JsonOptions::default`].
///
/// The result is an object holding `"@type"` (the input's type URL) and the
/// resource's fields; a well-known-type payload (e.g. `google.protobuf.Struct`)
/// gives `{"@type": .., "value": ..}` as the proto3 mapping prescribes.
pub fn any_to_json(any: &Any) -> Result<serde_json::Value, ProtoJsonError> {
    any_to_json_with(any, JsonOptions::default())
}

/// [`any_to_json`] with explicit options.
pub fn any_to_json_with(any: &Any, options: JsonOptions) -> Result<serde_json::Value, ProtoJsonError> {
    let message = decode_checked(any)?;
    message
        .serialize_with_options(serde_json::value::Serializer, &options.serialize_options())
        .map_err(|source| ProtoJsonError::Json {
            type_url: any.type_url.clone(),
            source,
        })
}

/// Same as [`any_to_json`], as YAML text. Keys appear in `.proto` field-number
/// order with `"@type"` first, so the output is deterministic.
pub fn any_to_yaml(any: &Any) -> Result<String, ProtoJsonError> {
    any_to_yaml_with(any, JsonOptions::default())
}

/// [`any_to_yaml`] with explicit options.
pub fn any_to_yaml_with(any: &Any, options: JsonOptions) -> Result<String, ProtoJsonError> {
    let message = decode_checked(any)?;
    // Serialized straight from the dynamic message rather than via
    // `serde_json::Value`, whose key order depends on serde_json features
    // enabled elsewhere in the build.
    let mut out = Vec::new();
    let mut serializer = serde_yaml::Serializer::new(&mut out);
    message
        .serialize_with_options(&mut serializer, &options.serialize_options())
        .map_err(|source| ProtoJsonError::Yaml {
            type_url: any.type_url.clone(),
            source,
        })?;
    // serde_yaml only ever emits UTF-8.
    String::from_utf8(out).map_err(|err| ProtoJsonError::Yaml {
        type_url: any.type_url.clone(),
        source: serde::ser::Error::custom(err),
    })
}

/// The embedded pool, decoded once per process.
fn pool() -> Result<&'static DescriptorPool, ProtoJsonError> {
    static POOL: OnceLock<Result<DescriptorPool, String>> = OnceLock::new();
    POOL.get_or_init(|| DescriptorPool::decode(DESCRIPTOR_SET).map_err(|err| err.to_string()))
        .as_ref()
        .map_err(|err| ProtoJsonError::Descriptors(err.clone()))
}

/// Wraps `any` as a dynamic `google.protobuf.Any` after checking that every
/// `Any` inside it resolves and decodes.
///
/// prost-reflect would also expand them while serializing, but it reports a
/// missing type as an opaque serializer error; checking up front yields
/// [`ProtoJsonError::UnknownType`] naming the offending URL.
fn decode_checked(any: &Any) -> Result<DynamicMessage, ProtoJsonError> {
    let pool = pool()?;
    let any_descriptor = pool
        .get_message_by_name(ANY_FULL_NAME)
        .ok_or_else(|| ProtoJsonError::Descriptors(format!("{ANY_FULL_NAME} is missing from the pool")))?;
    // Re-encoding is cheap next to serialization, and lets the generic
    // wrapper below render both message and well-known-type payloads.
    let message =
        DynamicMessage::decode(any_descriptor, any.encode_to_vec().as_slice()).map_err(|source| {
            ProtoJsonError::Decode {
                type_url: ANY_FULL_NAME.to_owned(),
                source,
            }
        })?;
    check_anys(pool, &message, 0)?;
    Ok(message)
}

/// Recursively verifies that every `Any` in `message` names a known type
/// whose payload decodes; `depth` counts the `Any`s enclosing `message`.
fn check_anys(pool: &DescriptorPool, message: &DynamicMessage, depth: usize) -> Result<(), ProtoJsonError> {
    if message.descriptor().full_name() == ANY_FULL_NAME {
        let (type_url, payload) = any_parts(message);
        if depth >= MAX_ANY_DEPTH {
            return Err(ProtoJsonError::TooDeep(type_url));
        }
        let descriptor = resolve(pool, &type_url)?;
        let inner = DynamicMessage::decode(descriptor, payload.as_slice())
            .map_err(|source| ProtoJsonError::Decode { type_url, source })?;
        return check_anys(pool, &inner, depth + 1);
    }
    message
        .fields()
        .try_for_each(|(_, value)| check_value(pool, value, depth))
}

fn check_value(pool: &DescriptorPool, value: &Value, depth: usize) -> Result<(), ProtoJsonError> {
    match value {
        Value::Message(message) => check_anys(pool, message, depth),
        Value::List(items) => items.iter().try_for_each(|item| check_value(pool, item, depth)),
        Value::Map(entries) => entries
            .values()
            .try_for_each(|item| check_value(pool, item, depth)),
        _ => Ok(()),
    }
}

/// Reads `type_url` and `value` from a dynamic `google.protobuf.Any`.
fn any_parts(message: &DynamicMessage) -> (String, Vec<u8>) {
    let type_url = message
        .get_field_by_name("type_url")
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let payload = message
        .get_field_by_name("value")
        .and_then(|value| value.as_bytes().map(|bytes| bytes.to_vec()))
        .unwrap_or_default();
    (type_url, payload)
}

/// Maps a type URL (`<prefix>/<full.message.Name>`) to its descriptor.
fn resolve(pool: &DescriptorPool, type_url: &str) -> Result<MessageDescriptor, ProtoJsonError> {
    type_url
        .rsplit_once('/')
        .and_then(|(_, name)| pool.get_message_by_name(name))
        .ok_or_else(|| ProtoJsonError::UnknownType(type_url.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_pool_decodes_and_has_core_resources() {
        let pool = pool().expect("descriptor set decodes");
        for name in [
            "envoy.config.cluster.v3.Cluster",
            "envoy.config.endpoint.v3.ClusterLoadAssignment",
            "envoy.config.listener.v3.Listener",
            "envoy.config.route.v3.RouteConfiguration",
            "envoy.extensions.transport_sockets.tls.v3.Secret",
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "envoy.extensions.filters.http.router.v3.Router",
            "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
            "envoy.extensions.filters.http.ratelimit.v3.RateLimit",
            "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "envoy.extensions.filters.http.cors.v3.Cors",
            "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
            "google.protobuf.Struct",
            // Only compile after the build script's protox workarounds.
            "envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin",
            "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig",
        ] {
            assert!(pool.get_message_by_name(name).is_some(), "{name} missing");
        }
    }

    #[test]
    fn patched_dfp_field_points_at_the_protoc_resolution() {
        let pool = pool().expect("descriptor set decodes");
        let field = pool
            .get_message_by_name("envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig")
            .and_then(|message| message.get_field_by_name("dns_cache_config"))
            .expect("dfp ClusterConfig.dns_cache_config exists");
        let kind = field.kind();
        let target = kind.as_message().expect("a message field");
        assert_eq!(
            target.full_name(),
            "envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig"
        );
    }

    #[test]
    fn type_url_without_slash_is_unknown() {
        let pool = pool().expect("descriptor set decodes");
        assert!(matches!(
            resolve(pool, "envoy.config.cluster.v3.Cluster"),
            Err(ProtoJsonError::UnknownType(_))
        ));
    }
}
