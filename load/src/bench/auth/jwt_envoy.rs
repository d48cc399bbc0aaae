//! The auth benchmark's static Envoy ([`StaticEnvoy`]): one listener with Envoy's native
//! `jwt_authn` filter in front of the echo backend, one without it (a control: the same
//! static Envoy, no auth), and one with `ext_authz` to a service that answers at once (the
//! floor of any ext_authz enforcer).

use std::net::SocketAddr;

use serde_json::Value;

use crate::bench::static_envoy::{self, GrpcCluster, StaticListener};
pub use crate::bench::static_envoy::{JWT_PROVIDER as PROVIDER, StaticEnvoy, free_loopback};

/// What the static Envoy verifies tokens against and where it sends requests.
#[derive(Clone, Debug)]
pub struct JwtEnvoyConfig {
    /// The tokens' `iss`.
    pub issuer: String,
    /// The IdP's JWKS, inlined as `local_jwks`.
    pub jwks: Value,
    /// The echo backend.
    pub backend: SocketAddr,
    /// `jwt_cache_config.jwt_cache_size` of the provider; `None` leaves the cache off.
    pub jwt_cache_size: Option<u32>,
    /// The listener with `jwt_authn`.
    pub secured: SocketAddr,
    /// The listener without it.
    pub open: SocketAddr,
    /// The listener with `ext_authz` to `authorizer`.
    pub floor: SocketAddr,
    /// The no-op ext_authz service ([`crate::bench::noop::NoopAuthorizer`]).
    pub authorizer: SocketAddr,
}

/// The cluster of the no-op ext_authz service.
const AUTHORIZER_CLUSTER: &str = "noop_authz";

/// The bootstrap, as JSON (which Envoy reads as YAML too).
pub fn bootstrap(config: &JwtEnvoyConfig) -> Value {
    let listeners = [
        StaticListener {
            name: "jwt_authn".into(),
            address: config.secured,
            filters: vec![static_envoy::jwt_authn(
                &config.issuer,
                &config.jwks,
                config.jwt_cache_size,
            )],
            rate_limits: Vec::new(),
        },
        StaticListener {
            name: "open".into(),
            address: config.open,
            filters: Vec::new(),
            rate_limits: Vec::new(),
        },
        StaticListener {
            name: "ext_authz_noop".into(),
            address: config.floor,
            filters: vec![static_envoy::ext_authz(AUTHORIZER_CLUSTER)],
            rate_limits: Vec::new(),
        },
    ];
    let authorizer = GrpcCluster {
        name: AUTHORIZER_CLUSTER,
        address: config.authorizer,
    };
    static_envoy::bootstrap("portcullis-bench-auth", config.backend, &listeners, &[authorizer])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_secured_listener_requires_the_provider_and_the_open_one_does_not() {
        let config = JwtEnvoyConfig {
            issuer: "https://idp.example/token".into(),
            jwks: json!({"keys": []}),
            backend: SocketAddr::from(([127, 0, 0, 1], 9000)),
            jwt_cache_size: Some(100),
            secured: SocketAddr::from(([127, 0, 0, 1], 9001)),
            open: SocketAddr::from(([127, 0, 0, 1], 9002)),
            floor: SocketAddr::from(([127, 0, 0, 1], 9003)),
            authorizer: SocketAddr::from(([127, 0, 0, 1], 9004)),
        };
        let boot = bootstrap(&config);
        let listeners = &boot["static_resources"]["listeners"];
        let filters = |i: usize| {
            listeners[i]["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let secured = filters(0);
        assert_eq!(secured.len(), 2);
        let provider = &secured[0]["typed_config"]["providers"][PROVIDER];
        assert_eq!(provider["issuer"], "https://idp.example/token");
        assert_eq!(provider["jwt_cache_config"]["jwt_cache_size"], 100);
        assert_eq!(listeners[0]["address"]["socket_address"]["port_value"], 9001);
        assert_eq!(filters(1).len(), 1, "the open listener has the router only");
        assert_eq!(listeners[1]["address"]["socket_address"]["port_value"], 9002);
        let floor = filters(2);
        assert_eq!(floor[0]["name"], "envoy.filters.http.ext_authz");
        let cluster = floor[0]["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"].clone();
        let clusters = boot["static_resources"]["clusters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let authz = clusters.iter().find(|c| c["name"] == cluster);
        let authz = authz.map(|c| &c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]);
        assert_eq!(
            authz.map(|e| e["address"]["socket_address"]["port_value"].clone()),
            Some(9004.into()),
            "the ext_authz filter's cluster is the authorizer"
        );
    }
}
