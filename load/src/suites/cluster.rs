//! The suites' resources made fit for a Kubernetes cluster: the shipped Services have no
//! selector (the embedded gateway backs them with echo servers of its own), so on a cluster
//! each gets an echo Deployment and a selector for its pods.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::{Value, json};

use super::resources;

/// The echo server the upstream conformance suite uses; it answers like ours.
pub const ECHO_IMAGE: &str = "registry.k8s.io/gateway-api/echo-basic:v1.5.1";

/// The port the echo image listens on.
const ECHO_PORT: i32 = 3000;

/// `(name, YAML)` to apply in order: the suites' resources (APK ones only `with_apis`), every
/// Service selecting the pods of an echo Deployment of the same name, and those Deployments.
pub fn manifests(many_hosts: usize, with_apis: bool, echo_image: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut services = BTreeSet::new();
    for (file, yaml) in resources::files(many_hosts) {
        if file == resources::APIS_FILE && !with_apis {
            continue;
        }
        let mut documents = Vec::new();
        for document in serde_yaml::Deserializer::from_str(&yaml) {
            let value = serde_json::to_value(
                serde_yaml::Value::deserialize(document).with_context(|| format!("parsing {file}"))?,
            )?;
            if value.is_null() {
                continue;
            }
            documents.push(select_echo_pods(value, &mut services));
        }
        out.push((manifest_name(&file), to_yaml(&documents)?));
    }
    let deployments: Vec<Value> = services
        .iter()
        .map(|(namespace, name)| echo_deployment(namespace, name, echo_image))
        .collect();
    out.push(("load-echo-backends".to_string(), to_yaml(&deployments)?));
    Ok(out)
}

/// `plain-routing.yaml` → `load-plain-routing`.
fn manifest_name(file: &str) -> String {
    format!("load-{}", file.trim_end_matches(".yaml"))
}

/// A Service without a selector gets one for the echo pods of its name, its ports their port.
fn select_echo_pods(mut document: Value, services: &mut BTreeSet<(String, String)>) -> Value {
    if document["kind"] != "Service"
        || document["apiVersion"] != "v1"
        || !document["spec"]["selector"].is_null()
    {
        return document;
    }
    let name = document["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let namespace = document["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    document["spec"]["selector"] = json!({"app": name});
    if let Some(ports) = document["spec"]["ports"].as_array_mut() {
        for port in ports {
            port["targetPort"] = json!(ECHO_PORT);
        }
    }
    services.insert((namespace, name));
    document
}

/// One echo pod reporting its namespace and pod name, as the suites' checks expect.
fn echo_deployment(namespace: &str, name: &str, image: &str) -> Value {
    let env = |variable: &str, field: &str| json!({"name": variable, "valueFrom": {"fieldRef": {"fieldPath": field}}});
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{
                    "name": "echo",
                    "image": image,
                    "ports": [{"name": "http", "containerPort": ECHO_PORT}],
                    "env": [env("POD_NAME", "metadata.name"), env("NAMESPACE", "metadata.namespace")],
                    "resources": {"requests": {"cpu": "10m"}}
                }]}
            }
        }
    })
}

fn to_yaml(documents: &[Value]) -> Result<String> {
    let mut yaml = String::new();
    for document in documents {
        yaml.push_str("---\n");
        yaml.push_str(&serde_yaml::to_string(document)?);
    }
    Ok(yaml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents(yaml: &str) -> Vec<Value> {
        serde_yaml::Deserializer::from_str(yaml)
            .map(|d| serde_json::to_value(serde_yaml::Value::deserialize(d).expect("YAML")).expect("JSON"))
            .filter(|v| !v.is_null())
            .collect()
    }

    #[test]
    fn every_service_selects_the_pods_of_an_echo_deployment() {
        let manifests = manifests(3, true, "example.com/echo:1").expect("manifests");
        let names: Vec<&str> = manifests.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "load-plain-routing",
                "load-bodies",
                "load-apis",
                "load-many-hosts",
                "load-echo-backends"
            ]
        );
        let all: Vec<Value> = manifests.iter().flat_map(|(_, y)| documents(y)).collect();
        let services: Vec<&Value> = all.iter().filter(|d| d["kind"] == "Service").collect();
        assert!(services.len() >= 3, "{services:?}");
        for service in services {
            let name = &service["metadata"]["name"];
            assert_eq!(service["spec"]["selector"]["app"], *name);
            assert_eq!(service["spec"]["ports"][0]["targetPort"], ECHO_PORT);
            let deployment = all
                .iter()
                .find(|d| {
                    d["kind"] == "Deployment"
                        && d["metadata"]["name"] == *name
                        && d["metadata"]["namespace"] == service["metadata"]["namespace"]
                })
                .unwrap_or_else(|| panic!("no echo Deployment for {name}"));
            let pod = &deployment["spec"]["template"];
            assert_eq!(pod["metadata"]["labels"]["app"], *name);
            assert_eq!(pod["spec"]["containers"][0]["image"], "example.com/echo:1");
            assert_eq!(
                pod["spec"]["containers"][0]["ports"][0]["containerPort"],
                ECHO_PORT
            );
        }
        // The routes and the Gateway are passed on unchanged.
        assert!(
            all.iter()
                .any(|d| d["kind"] == "Gateway" && d["metadata"]["name"] == "edge")
        );
        assert_eq!(
            all.iter()
                .filter(|d| d["kind"] == "HTTPRoute"
                    && d["spec"]["hostnames"][0]
                        .as_str()
                        .is_some_and(|h| h.contains("many")))
                .count(),
            3
        );
    }

    #[test]
    fn apk_resources_are_left_out_unless_asked_for() {
        let manifests = manifests(1, false, ECHO_IMAGE).expect("manifests");
        assert!(manifests.iter().all(|(name, _)| name != "load-apis"));
        let all: Vec<Value> = manifests.iter().flat_map(|(_, y)| documents(y)).collect();
        assert!(
            all.iter()
                .all(|d| d["apiVersion"].as_str().is_some_and(|v| !v.contains("wso2")))
        );
    }
}
