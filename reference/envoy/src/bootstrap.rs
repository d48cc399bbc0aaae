//! The Envoy bootstrap: node identity, admin, and ADS towards the portcullis xDS server.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

/// Name of the static cluster that carries ADS.
pub const XDS_CLUSTER_NAME: &str = "portcullis_xds";

/// Default for [`BootstrapConfig::initial_fetch_timeout`].
///
/// Envoy waits this long per resource type (CDS, then LDS, one after the other) for a first
/// answer before it goes LIVE without one; our xDS server is local and answers at once, so
/// this only bounds startup when it is down.
pub const DEFAULT_INITIAL_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// A static cluster added to the bootstrap, e.g. an ext_authz or rate limit gRPC service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticCluster {
    /// Cluster name as referenced from filters.
    pub name: String,
    /// The single endpoint.
    pub address: SocketAddr,
    /// Speak HTTP/2 upstream (required for gRPC services).
    pub http2: bool,
}

/// What the bootstrap needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapConfig {
    /// `node.id`, which the xDS server keys snapshots on.
    pub node_id: String,
    /// `node.cluster`.
    pub node_cluster: String,
    /// Address of the portcullis xDS (ADS) gRPC server.
    pub xds_address: SocketAddr,
    /// Use incremental ADS (`DELTA_GRPC`) instead of state-of-the-world (`GRPC`).
    pub delta: bool,
    /// Admin listener; port 0 lets the OS choose (see `--admin-address-path`).
    pub admin_address: SocketAddr,
    /// Extra static clusters.
    pub extra_static_clusters: Vec<StaticCluster>,
    /// How long Envoy waits for the first CDS and LDS answers before going LIVE anyway.
    pub initial_fetch_timeout: Duration,
}

impl BootstrapConfig {
    /// A config for `node_id` talking delta ADS to `xds_address`, admin on an ephemeral loopback port.
    pub fn new(node_id: impl Into<String>, xds_address: SocketAddr) -> Self {
        BootstrapConfig {
            node_id: node_id.into(),
            node_cluster: "portcullis".to_string(),
            xds_address,
            delta: true,
            admin_address: SocketAddr::from(([127, 0, 0, 1], 0)),
            extra_static_clusters: Vec::new(),
            initial_fetch_timeout: DEFAULT_INITIAL_FETCH_TIMEOUT,
        }
    }
}

/// Render the bootstrap as YAML; the same config always gives the same text.
pub fn bootstrap_yaml(config: &BootstrapConfig) -> String {
    let api_type = if config.delta { "DELTA_GRPC" } else { "GRPC" };
    let fetch = duration(config.initial_fetch_timeout);
    let mut out = String::new();
    // `writeln!` into a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        out,
        "\
node:
  id: {node_id}
  cluster: {node_cluster}
admin:
  address:
    socket_address:
      address: {admin_ip}
      port_value: {admin_port}
dynamic_resources:
  ads_config:
    api_type: {api_type}
    transport_api_version: V3
    set_node_on_first_message_only: true
    grpc_services:
    - envoy_grpc:
        cluster_name: {XDS_CLUSTER_NAME}
        # Reconnect quickly when the (local) xDS server restarts; Envoy's default backs off to 30s.
        retry_policy:
          retry_back_off:
            base_interval: 0.1s
            max_interval: 1s
  lds_config:
    ads: {{}}
    resource_api_version: V3
    initial_fetch_timeout: {fetch}
  cds_config:
    ads: {{}}
    resource_api_version: V3
    initial_fetch_timeout: {fetch}
static_resources:
  clusters:",
        node_id = quote(&config.node_id),
        node_cluster = quote(&config.node_cluster),
        admin_ip = quote(&config.admin_address.ip().to_string()),
        admin_port = config.admin_address.port(),
    );
    write_cluster(&mut out, XDS_CLUSTER_NAME, config.xds_address, true);
    for cluster in &config.extra_static_clusters {
        write_cluster(&mut out, &cluster.name, cluster.address, cluster.http2);
    }
    out
}

fn write_cluster(out: &mut String, name: &str, address: SocketAddr, http2: bool) {
    let name = quote(name);
    let _ = writeln!(
        out,
        "  - name: {name}
    type: STATIC
    connect_timeout: 1s"
    );
    if http2 {
        let _ = writeln!(
            out,
            "    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        \"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {{}}"
        );
    }
    let _ = writeln!(
        out,
        "    load_assignment:
      cluster_name: {name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: {ip}
                port_value: {port}",
        ip = quote(&address.ip().to_string()),
        port = address.port(),
    );
}

/// A YAML double-quoted scalar; JSON string syntax is a subset of it.
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A protobuf JSON duration such as `5s` or `0.250s`.
fn duration(d: Duration) -> String {
    let millis = d.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{}.{:03}s", millis / 1000, millis % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Value;

    fn config(delta: bool) -> BootstrapConfig {
        BootstrapConfig {
            node_id: "gw-1 \"quoted\"".to_string(),
            node_cluster: "portcullis-system".to_string(),
            xds_address: "127.0.0.1:18000".parse().unwrap(),
            delta,
            admin_address: "[::1]:0".parse().unwrap(),
            extra_static_clusters: vec![
                StaticCluster {
                    name: "ext_authz".to_string(),
                    address: "127.0.0.1:9001".parse().unwrap(),
                    http2: true,
                },
                StaticCluster {
                    name: "plain".to_string(),
                    address: "10.0.0.1:80".parse().unwrap(),
                    http2: false,
                },
            ],
            initial_fetch_timeout: Duration::from_millis(250),
        }
    }

    fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
        path.split('.').fold(v, |v, key| match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        })
    }

    #[test]
    fn delta_bootstrap_has_the_key_fields() {
        let yaml = bootstrap_yaml(&config(true));
        let v: Value = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(get(&v, "node.id").as_str(), Some("gw-1 \"quoted\""));
        assert_eq!(get(&v, "node.cluster").as_str(), Some("portcullis-system"));
        let ads = get(&v, "dynamic_resources.ads_config");
        assert_eq!(get(ads, "api_type").as_str(), Some("DELTA_GRPC"));
        assert_eq!(get(ads, "transport_api_version").as_str(), Some("V3"));
        assert_eq!(get(ads, "set_node_on_first_message_only").as_bool(), Some(true));
        assert_eq!(
            get(ads, "grpc_services.0.envoy_grpc.cluster_name").as_str(),
            Some(XDS_CLUSTER_NAME)
        );
        for kind in ["lds_config", "cds_config"] {
            let c = get(&v, &format!("dynamic_resources.{kind}"));
            assert!(get(c, "ads").is_mapping(), "{kind}");
            assert_eq!(get(c, "resource_api_version").as_str(), Some("V3"));
            assert_eq!(get(c, "initial_fetch_timeout").as_str(), Some("0.250s"));
        }
        assert_eq!(
            get(&v, "admin.address.socket_address.address").as_str(),
            Some("::1")
        );
        assert_eq!(
            get(&v, "admin.address.socket_address.port_value").as_u64(),
            Some(0)
        );

        let clusters = get(&v, "static_resources.clusters").as_sequence().unwrap();
        assert_eq!(clusters.len(), 3);
        let xds = &clusters[0];
        assert_eq!(get(xds, "name").as_str(), Some(XDS_CLUSTER_NAME));
        assert_eq!(get(xds, "type").as_str(), Some("STATIC"));
        assert_eq!(get(xds, "connect_timeout").as_str(), Some("1s"));
        // The key contains dots, so index it directly rather than by path.
        let opts = &xds["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
        assert!(get(opts, "explicit_http_config.http2_protocol_options").is_mapping());
        assert_eq!(
            get(
                xds,
                "load_assignment.endpoints.0.lb_endpoints.0.endpoint.address.socket_address.port_value"
            )
            .as_u64(),
            Some(18000)
        );

        assert_eq!(get(&clusters[1], "name").as_str(), Some("ext_authz"));
        assert!(!clusters[1]["typed_extension_protocol_options"].is_null());
        assert_eq!(get(&clusters[2], "name").as_str(), Some("plain"));
        assert!(clusters[2]["typed_extension_protocol_options"].is_null());
    }

    #[test]
    fn sotw_bootstrap_uses_grpc_and_is_deterministic() {
        let yaml = bootstrap_yaml(&config(false));
        assert_eq!(yaml, bootstrap_yaml(&config(false)));
        let v: Value = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(
            get(&v, "dynamic_resources.ads_config.api_type").as_str(),
            Some("GRPC")
        );
    }

    #[test]
    fn durations_render_as_protobuf_json() {
        assert_eq!(duration(Duration::from_secs(5)), "5s");
        assert_eq!(duration(Duration::from_millis(1500)), "1.500s");
        assert_eq!(duration(Duration::from_millis(50)), "0.050s");
    }
}
