//! The embedded gateway on the resources this crate ships.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy, Profile};

/// The resources of the plain-routing scenario.
pub const PLAIN_ROUTING_YAML: &str = include_str!("../resources/plain-routing.yaml");

/// The Gateway the scenario attacks, as `namespace/name`.
pub const GATEWAY: &str = "load/edge";

/// The port its HTTP listener declares.
pub const GATEWAY_PORT: i32 = 80;

/// The resources of the rate-limit benchmark.
pub const RATE_LIMIT_YAML: &str = include_str!("../resources/rate-limit.yaml");

/// A file of resources this crate ships, and the Gateway listener to attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resources {
    /// The file name it is written under.
    pub file_name: &'static str,
    /// Its YAML.
    pub yaml: &'static str,
    /// The Gateway to attack, as `namespace/name`.
    pub gateway: &'static str,
    /// The port its HTTP listener declares.
    pub port: i32,
}

/// The plain-routing scenario's resources.
pub const PLAIN_ROUTING: Resources = Resources {
    file_name: "plain-routing.yaml",
    yaml: PLAIN_ROUTING_YAML,
    gateway: GATEWAY,
    port: GATEWAY_PORT,
};

/// The rate-limit benchmark's resources.
pub const RATE_LIMIT: Resources = Resources {
    file_name: "rate-limit.yaml",
    yaml: RATE_LIMIT_YAML,
    gateway: "bench/edge",
    port: 80,
};

/// How to start the gateway.
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// Delta xDS (otherwise State-of-the-World).
    pub delta: bool,
    /// Envoy's log level.
    pub envoy_log_level: String,
    /// Keep rate-limit counters in this Redis instead of in memory.
    pub redis_url: Option<String>,
    /// Which install to imitate; [`Profile::Apk`] adds the IdP (and its TokenIssuer) that
    /// APIs with APK's default Authentication need.
    pub profile: Profile,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            delta: true,
            envoy_log_level: "warning".to_string(),
            redis_url: None,
            profile: Profile::Plain,
        }
    }
}

/// The embedded gateway with echo backends, serving the shipped resources from a temporary
/// folder.
pub struct LocalGateway {
    gateway: EmbeddedGateway,
    address: SocketAddr,
    url: String,
    // Dropped after the gateway (fields drop in order).
    _resources: tempfile::TempDir,
}

impl LocalGateway {
    /// Writes the shipped resources to a temporary folder, starts the gateway on it (real
    /// Envoy, a free loopback port, echo backends) and returns once Envoy has applied them, the
    /// Gateway is `Programmed` and every route is accepted with its references resolved.
    pub async fn start(options: GatewayOptions) -> Result<Self> {
        Self::start_on(PLAIN_ROUTING, options).await
    }

    /// Like [`LocalGateway::start`], on `shipped` instead of the plain-routing resources.
    pub async fn start_on(shipped: Resources, options: GatewayOptions) -> Result<Self> {
        let files = [(shipped.file_name.to_string(), shipped.yaml.to_string())];
        Self::start_files(&files, (shipped.gateway, shipped.port), options).await
    }

    /// The gateway every suite runs against: plain routing's resources, the suites' APIs and
    /// `many_hosts` generated routes ([`crate::suites::resources::files`]), with the APK
    /// profile (whatever `options` says) for its IdP.
    pub async fn start_suites(options: GatewayOptions, many_hosts: usize) -> Result<Self> {
        let options = GatewayOptions {
            profile: Profile::Apk,
            ..options
        };
        let files = crate::suites::resources::files(many_hosts);
        Self::start_files(&files, (GATEWAY, GATEWAY_PORT), options).await
    }

    /// Writes `files` (name, YAML) to a temporary folder, starts the gateway on it (real
    /// Envoy, a free loopback port, echo backends) and returns once Envoy has applied them, the
    /// Gateway `listener` (`namespace/name`, declared port) is `Programmed` and every
    /// condition is healthy.
    pub async fn start_files(
        files: &[(String, String)],
        listener: (&str, i32),
        options: GatewayOptions,
    ) -> Result<Self> {
        let resources = tempfile::Builder::new()
            .prefix("portcullis-load-")
            .tempdir()
            .context("creating a resource folder")?;
        for (name, yaml) in files {
            std::fs::write(resources.path().join(name), yaml).with_context(|| format!("writing {name}"))?;
        }
        let mut embedded = EmbeddedOptions::new(resources.path().to_path_buf());
        embedded.echo_backends = true;
        embedded.port_policy = PortPolicy::AlwaysFree;
        embedded.delta = options.delta;
        embedded.envoy_log_level = options.envoy_log_level;
        embedded.redis_url = options.redis_url;
        embedded.profile = options.profile;
        // The folder is ours and never changes (and a reload would reset the IdP's clients).
        embedded.watch = false;
        let gateway = EmbeddedGateway::start(embedded)
            .await
            .context("starting the embedded gateway")?;
        match programmed(&gateway, listener) {
            Ok(address) => Ok(LocalGateway {
                gateway,
                address,
                url: format!("http://{address}"),
                _resources: resources,
            }),
            Err(error) => {
                if let Err(shutdown) = gateway.shutdown().await {
                    eprintln!("portcullis-load: shutting the gateway down: {shutdown}");
                }
                Err(error)
            }
        }
    }

    /// `http://<ip>:<port>` of the Gateway's HTTP listener.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address of the Gateway's HTTP listener.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The running gateway.
    pub fn gateway(&self) -> &EmbeddedGateway {
        &self.gateway
    }

    /// Stops Envoy, the echo backends and the xDS server.
    pub async fn shutdown(self) -> Result<()> {
        self.gateway
            .shutdown()
            .await
            .context("stopping the embedded gateway")
    }
}

/// Conditions that are healthy when `False` (Gateway API's "negative polarity").
const NEGATIVE_POLARITY: [&str; 2] = ["Conflicted", "OverlappingTLSConfig"];

/// Checks that the resources were read without errors, the Gateway is programmed and every
/// condition is healthy, and returns the listener's address.
fn programmed(gateway: &EmbeddedGateway, (name, port): (&str, i32)) -> Result<SocketAddr> {
    let view = gateway.view();
    if !view.errors.is_empty() {
        bail!("the shipped resources have errors: {}", view.errors.join("; "));
    }
    let rows = view.statuses.rows();
    let failing: Vec<String> = rows
        .iter()
        .filter(|row| row.condition.is_true() == NEGATIVE_POLARITY.contains(&row.condition.type_.as_str()))
        .map(|row| {
            format!(
                "{} {}={} ({}: {})",
                row.object,
                row.condition.type_,
                row.condition.status,
                row.condition.reason,
                row.condition.message
            )
        })
        .collect();
    if !failing.is_empty() {
        bail!("unhealthy conditions: {}", failing.join("; "));
    }
    let programmed = view.statuses.gateways.get(name).is_some_and(|status| {
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "Programmed" && c.is_true())
    });
    if !programmed {
        bail!("Gateway {name} is not Programmed");
    }
    gateway
        .listener_address(name, port)
        .with_context(|| format!("Gateway {name} has no listener on port {port}"))
}

#[cfg(test)]
mod tests {
    use portcullis_model::{CONTROLLER_NAME, Resource, parse_documents};

    use super::*;

    #[test]
    fn the_shipped_resources_parse_and_name_our_controller() {
        let report = parse_documents("plain-routing.yaml", PLAIN_ROUTING_YAML);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.skipped.is_empty());
        let classes: Vec<&str> = report
            .resources
            .iter()
            .filter_map(|(_, r)| match r {
                Resource::GatewayClass(class) => Some(class.spec.controller_name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(classes, [CONTROLLER_NAME]);
        let routes = report
            .resources
            .iter()
            .filter(|(_, r)| matches!(r, Resource::HttpRoute(_)))
            .count();
        assert_eq!(routes, 2);
    }

    #[test]
    fn the_rate_limit_resources_limit_one_of_two_routes() {
        let report = parse_documents(RATE_LIMIT.file_name, RATE_LIMIT.yaml);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        let count = |f: fn(&Resource) -> bool| report.resources.iter().filter(|(_, r)| f(r)).count();
        assert_eq!(count(|r| matches!(r, Resource::HttpRoute(_))), 2);
        assert_eq!(count(|r| matches!(r, Resource::RateLimitPolicy(_))), 1);
    }
}
