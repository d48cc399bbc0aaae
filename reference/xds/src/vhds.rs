//! Route tables split for Delta streams (VHDS): each `RouteConfiguration` is served without its
//! virtual hosts and with a `vhds` source, and every virtual host becomes a resource of its own,
//! named `<route table>/<virtual host>`. One changed virtual host then costs one small push
//! instead of the whole table.
//!
//! Envoy subscribes to the table's name as a namespace (VHDS uses namespace matching) and takes
//! every `<table>/…` resource the server sends; it merges them back into the one table, so
//! domain matching (exact, then the longest wildcard, then `*`) and 404 for unknown hosts are
//! those of the unsplit table. Envoy keys VHDS virtual hosts by their `name` and removes them by
//! resource name, so each virtual host is renamed to its resource name.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::core::v3::{
    AggregatedConfigSource, ApiVersion, ConfigSource, config_source::ConfigSourceSpecifier,
};
use envoy_types::pb::envoy::config::route::v3::{RouteConfiguration, Vhds};
use envoy_types::pb::google::protobuf::Any;
use prost::Message;

use crate::snapshot::{Entry, TypeResources, hash};
use crate::type_url;

/// The Delta view of a snapshot's route tables.
#[derive(Debug, Default)]
pub(crate) struct Split {
    /// Route tables as Delta streams get them (split, or whole where splitting does not apply).
    pub(crate) routes: TypeResources,
    /// Virtual hosts of the split tables, by `<table>/<virtual host>`.
    pub(crate) virtual_hosts: TypeResources,
    /// Content hash of each table as published, to reuse its split while it does not change.
    sources: BTreeMap<String, String>,
}

impl Split {
    /// Splits every table of `routes`, reusing `previous`'s work for tables that did not change.
    pub(crate) fn new(routes: Option<&TypeResources>, previous: Option<&Split>) -> Split {
        let mut split = Split::default();
        for (name, entry) in routes.into_iter().flatten() {
            split.sources.insert(name.clone(), entry.hash.clone());
            if let Some(previous) = previous.filter(|p| p.sources.get(name) == Some(&entry.hash))
                && let Some(stub) = previous.routes.get(name)
            {
                split.routes.insert(name.clone(), stub.clone());
                split
                    .virtual_hosts
                    .extend(namespace(&previous.virtual_hosts, name).map(|(n, e)| (n.clone(), e.clone())));
                continue;
            }
            match split_table(name, &entry.any) {
                Some((stub, hosts)) => {
                    split.routes.insert(name.clone(), stub);
                    split.virtual_hosts.extend(hosts);
                }
                // Not splittable: Delta streams get the table whole, as SotW streams do.
                None => {
                    split.routes.insert(name.clone(), entry.clone());
                }
            }
        }
        split
    }
}

/// The resources of `resources` in namespace `name` (`name/<last segment>`).
pub(crate) fn namespace<'a>(
    resources: &'a TypeResources,
    name: &str,
) -> impl Iterator<Item = (&'a String, &'a Entry)> {
    let prefix = format!("{name}/");
    resources
        .range(prefix.clone()..)
        .take_while(move |(n, _)| n.starts_with(&prefix))
        .filter(move |(n, _)| !n[name.len() + 1..].contains('/'))
}

/// A table without its virtual hosts (and with VHDS over ADS), and its virtual hosts as
/// resources. `None` when the table cannot be split faithfully: it does not decode, already uses
/// VHDS, its name differs from its resource name, or its virtual host names are not unique
/// segments (Envoy could not match or remove them by resource name).
fn split_table(name: &str, any: &Any) -> Option<(Entry, Vec<(String, Entry)>)> {
    let mut table = RouteConfiguration::decode(any.value.as_slice()).ok()?;
    if table.vhds.is_some() || table.name != name {
        return None;
    }
    let mut seen = BTreeSet::new();
    if table
        .virtual_hosts
        .iter()
        .any(|vh| vh.name.is_empty() || vh.name.contains('/') || !seen.insert(vh.name.as_str()))
    {
        return None;
    }
    let hosts = std::mem::take(&mut table.virtual_hosts)
        .into_iter()
        .map(|mut vh| {
            vh.name = format!("{name}/{}", vh.name);
            let any = Any {
                type_url: type_url::VIRTUAL_HOST.to_string(),
                value: vh.encode_to_vec(),
            };
            (vh.name, entry(any))
        })
        .collect();
    table.vhds = Some(Vhds {
        config_source: Some(ConfigSource {
            resource_api_version: ApiVersion::V3 as i32,
            config_source_specifier: Some(ConfigSourceSpecifier::Ads(AggregatedConfigSource {})),
            ..Default::default()
        }),
    });
    let stub = Any {
        type_url: any.type_url.clone(),
        value: table.encode_to_vec(),
    };
    Some((entry(stub), hosts))
}

fn entry(any: Any) -> Entry {
    let hash = hash(&any);
    Entry { any, hash }
}

#[cfg(test)]
mod tests {
    use envoy_types::pb::envoy::config::route::v3::VirtualHost;

    use super::*;

    fn table(name: &str, hosts: &[&str], variant: &str) -> Entry {
        let rc = RouteConfiguration {
            name: name.to_string(),
            virtual_hosts: hosts
                .iter()
                .map(|h| VirtualHost {
                    name: (*h).to_string(),
                    domains: vec![(*h).to_string()],
                    request_headers_to_remove: vec![variant.to_string()],
                    ..Default::default()
                })
                .collect(),
            validate_clusters: Some(envoy_types::pb::google::protobuf::BoolValue { value: false }),
            ..Default::default()
        };
        entry(Any {
            type_url: type_url::ROUTE.to_string(),
            value: rc.encode_to_vec(),
        })
    }

    fn routes(entries: Vec<(&str, Entry)>) -> TypeResources {
        entries.into_iter().map(|(n, e)| (n.to_string(), e)).collect()
    }

    #[test]
    fn a_table_splits_into_a_vhds_stub_and_named_virtual_hosts() {
        let split = Split::new(
            Some(&routes(vec![(
                "gw/http",
                table("gw/http", &["a.example", "*.example", "*"], "1"),
            )])),
            None,
        );
        let stub = RouteConfiguration::decode(split.routes["gw/http"].any.value.as_slice()).unwrap();
        assert!(stub.virtual_hosts.is_empty());
        assert!(stub.vhds.is_some());
        assert_eq!(
            stub.validate_clusters.map(|v| v.value),
            Some(false),
            "table fields are kept"
        );
        let names: Vec<&str> = split.virtual_hosts.keys().map(String::as_str).collect();
        assert_eq!(names, ["gw/http/*", "gw/http/*.example", "gw/http/a.example"]);
        let vh = VirtualHost::decode(split.virtual_hosts["gw/http/a.example"].any.value.as_slice()).unwrap();
        assert_eq!(
            vh.name, "gw/http/a.example",
            "named as its resource, so Envoy can remove it"
        );
        assert_eq!(vh.domains, ["a.example"]);
    }

    #[test]
    fn one_changed_host_changes_one_resource() {
        let before = Split::new(Some(&routes(vec![("t", table("t", &["a", "b"], "1"))])), None);
        let mut changed = table("t", &["a", "b"], "1");
        let mut rc = RouteConfiguration::decode(changed.any.value.as_slice()).unwrap();
        rc.virtual_hosts[1].request_headers_to_remove = vec!["2".to_string()];
        changed = entry(Any {
            type_url: type_url::ROUTE.to_string(),
            value: rc.encode_to_vec(),
        });
        let after = Split::new(Some(&routes(vec![("t", changed)])), Some(&before));
        assert_eq!(
            after.routes["t"].hash, before.routes["t"].hash,
            "the stub is unchanged"
        );
        assert_eq!(after.virtual_hosts["t/a"].hash, before.virtual_hosts["t/a"].hash);
        assert_ne!(after.virtual_hosts["t/b"].hash, before.virtual_hosts["t/b"].hash);
    }

    #[test]
    fn unchanged_tables_reuse_the_previous_split() {
        let input = routes(vec![
            ("t", table("t", &["a"], "1")),
            ("u", table("u", &["b"], "1")),
        ]);
        let before = Split::new(Some(&input), None);
        let after = Split::new(Some(&input), Some(&before));
        assert_eq!(after.routes.len(), 2);
        assert_eq!(
            after.virtual_hosts.keys().collect::<Vec<_>>(),
            before.virtual_hosts.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn tables_that_cannot_be_split_are_served_whole() {
        let whole = table("t", &["a/b"], "1");
        let split = Split::new(Some(&routes(vec![("t", whole.clone())])), None);
        assert_eq!(split.routes["t"].hash, whole.hash);
        assert!(split.virtual_hosts.is_empty());
        let misnamed = table("other", &["a"], "1");
        let split = Split::new(Some(&routes(vec![("t", misnamed.clone())])), None);
        assert_eq!(split.routes["t"].hash, misnamed.hash);
    }

    #[test]
    fn namespace_takes_only_direct_children() {
        let split = Split::new(
            Some(&routes(vec![
                ("t", table("t", &["a", "b"], "1")),
                ("t/x", table("t/x", &["c"], "1")),
                ("tt", table("tt", &["d"], "1")),
            ])),
            None,
        );
        let names: Vec<&String> = namespace(&split.virtual_hosts, "t").map(|(n, _)| n).collect();
        assert_eq!(names, ["t/a", "t/b"]);
    }
}
