//! `kind/portcullis.yaml` grants what the gateway does on a cluster: list and watch every kind
//! it serves, write the statuses it writes, and apply what the Deployer applies.

use std::path::PathBuf;

use portcullis_config_service::deployer::cluster_kinds;
use portcullis_kube_source::kinds::watched_kinds;
use serde::Deserialize;
use serde_json::Value;

fn manifest() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../kind/portcullis.yaml");
    let text = std::fs::read_to_string(&path).expect("kind/portcullis.yaml");
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde_json::to_value(serde_yaml::Value::deserialize(doc).expect("YAML")).expect("JSON"))
        .collect()
}

fn rules() -> Vec<Value> {
    let role = manifest()
        .into_iter()
        .find(|d| d["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    role["rules"].as_array().expect("rules").clone()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether a rule grants `verb` on `resource` (`plural` or `plural/subresource`) of `group`,
/// with RBAC's wildcards.
fn allowed(rules: &[Value], group: &str, resource: &str, verb: &str) -> bool {
    let subresource = resource.split_once('/').map(|(_, s)| s);
    rules.iter().any(|rule| {
        let groups = strings(&rule["apiGroups"]);
        let resources = strings(&rule["resources"]);
        let verbs = strings(&rule["verbs"]);
        (groups.contains(&group) || groups.contains(&"*"))
            && (verbs.contains(&verb) || verbs.contains(&"*"))
            && resources.iter().any(|r| {
                *r == resource
                    || (*r == "*" && subresource.is_none())
                    || subresource.is_some_and(|s| *r == format!("*/{s}"))
            })
    })
}

#[test]
fn the_cluster_role_lets_the_gateway_watch_every_kind_it_serves() {
    let rules = rules();
    for kind in watched_kinds() {
        for verb in ["list", "watch"] {
            assert!(
                allowed(&rules, &kind.api.group, &kind.api.plural, verb),
                "{verb} {}.{} is not granted",
                kind.api.plural,
                kind.api.group
            );
        }
    }
}

#[test]
fn the_cluster_role_lets_the_gateway_write_the_statuses_it_writes() {
    let rules = rules();
    let written = [
        ("gateway.networking.k8s.io", "gatewayclasses"),
        ("gateway.networking.k8s.io", "gateways"),
        ("gateway.networking.k8s.io", "httproutes"),
        ("gateway.networking.k8s.io", "grpcroutes"),
        ("dp.wso2.com", "ratelimitpolicies"),
        ("dp.wso2.com", "tokenissuers"),
    ];
    for (group, plural) in written {
        assert!(
            allowed(&rules, group, &format!("{plural}/status"), "patch"),
            "patch {plural}/status.{group} is not granted"
        );
    }
    // The status grant does not open the objects themselves to writes beyond the Deployer's.
    assert!(!allowed(&rules, "gateway.networking.k8s.io", "gateways", "patch"));
}

#[test]
fn the_cluster_role_lets_the_deployer_apply_and_remove_what_it_generates() {
    let rules = rules();
    for kind in cluster_kinds() {
        for verb in ["get", "list", "create", "patch", "delete"] {
            assert!(
                allowed(&rules, &kind.group, &kind.plural, verb),
                "{verb} {}.{} is not granted",
                kind.plural,
                kind.group
            );
        }
    }
}

#[test]
fn the_deployment_runs_the_gateway_in_cluster_mode_with_the_node_address() {
    let deployment = manifest()
        .into_iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["serviceAccountName"], "portcullis");
    let container = &pod["containers"][0];
    assert!(strings(&container["args"]).contains(&"--in-cluster"));
    let advertise = container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "PORTCULLIS_ADVERTISE_ADDRESS")
        .expect("PORTCULLIS_ADVERTISE_ADDRESS");
    assert_eq!(advertise["valueFrom"]["fieldRef"]["fieldPath"], "status.hostIP");
}

#[test]
fn the_lease_the_deployment_names_can_be_held() {
    let documents = manifest();
    let deployment = documents
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("a Deployment");
    let lease = strings(&deployment["spec"]["template"]["spec"]["containers"][0]["args"])
        .into_iter()
        .find_map(|a| a.strip_prefix("--lease="))
        .expect("a --lease argument");
    let (namespace, _) = lease.split_once('/').expect("namespace/name");
    let role = documents
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["namespace"] == namespace)
        .expect("a Role in the Lease's namespace");
    let rules = role["rules"].as_array().expect("rules").clone();
    for verb in ["get", "create", "update"] {
        assert!(
            allowed(&rules, "coordination.k8s.io", "leases", verb),
            "{verb} leases"
        );
    }
    let binding = documents
        .iter()
        .find(|d| d["kind"] == "RoleBinding" && d["roleRef"]["name"] == role["metadata"]["name"])
        .expect("a RoleBinding for it");
    assert_eq!(binding["subjects"][0]["name"], "portcullis");
}
