//! The Envoy stage, checked structurally: the `Any`s are decoded into envoy-types messages and
//! the fields Envoy depends on are asserted. Also the invariants the xDS server relies on (no
//! orphaned or dangling resource names) and determinism.

mod common;

use std::collections::BTreeSet;

use envoy_types::pb::envoy::config::cluster::v3::{Cluster, cluster};
use envoy_types::pb::envoy::config::core::v3::{
    Address, ConfigSource, address, config_source::ConfigSourceSpecifier, data_source,
    header_value_option::HeaderAppendAction, socket_address,
};
use envoy_types::pb::envoy::config::endpoint::v3::{ClusterLoadAssignment, lb_endpoint};
use envoy_types::pb::envoy::config::listener::v3::{FilterChain, Listener, filter, listener_filter};
use envoy_types::pb::envoy::config::route::v3::{
    RedirectAction, Route, RouteAction, RouteConfiguration, header_matcher::HeaderMatchSpecifier,
    query_parameter_matcher::QueryParameterMatchSpecifier, redirect_action, route, route_action, route_match,
};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, http_connection_manager,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{DownstreamTlsContext, Secret, secret};
use envoy_types::pb::envoy::r#type::matcher::v3::{StringMatcher, string_matcher::MatchPattern};
use envoy_types::pb::google::protobuf::Any;
use portcullis_translate::XdsResources;
use portcullis_translate::envoy::type_url;
use portcullis_translate::ir::{INVALID_BACKEND, UNAVAILABLE_BACKEND};
use prost::{Message, Name};

fn decode<M: Message + Name + Default>(any: &Any) -> M {
    assert_eq!(any.type_url, M::type_url(), "type URL of a packed message");
    M::decode(any.value.as_slice()).expect("a packed message decodes")
}

/// A case's xDS resources, with typed accessors.
struct Xds(XdsResources);

impl Xds {
    fn of(case: &str) -> Xds {
        let case = common::load(case);
        Xds(common::run(&case.snapshot).xds)
    }

    fn names(&self, url: &str) -> BTreeSet<String> {
        self.0
            .get(url)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn get<M: Message + Name + Default>(&self, url: &str, name: &str) -> M {
        let any = self
            .0
            .get(url)
            .and_then(|m| m.get(name))
            .unwrap_or_else(|| panic!("no {url} named {name:?}; have {:?}", self.names(url)));
        decode(any)
    }

    fn all<M: Message + Name + Default>(&self, url: &str) -> Vec<(String, M)> {
        self.0
            .get(url)
            .into_iter()
            .flatten()
            .map(|(name, any)| (name.clone(), decode(any)))
            .collect()
    }

    fn listener(&self, name: &str) -> Listener {
        self.get(type_url::LISTENER, name)
    }

    fn table(&self, name: &str) -> RouteConfiguration {
        self.get(type_url::ROUTE, name)
    }
}

fn is_ads(source: Option<&ConfigSource>) -> bool {
    matches!(
        source.and_then(|s| s.config_source_specifier.as_ref()),
        Some(ConfigSourceSpecifier::Ads(_))
    )
}

fn hcm(chain: &FilterChain) -> HttpConnectionManager {
    assert_eq!(chain.filters.len(), 1, "one network filter per chain");
    let f = &chain.filters[0];
    assert_eq!(f.name, "envoy.filters.network.http_connection_manager");
    match &f.config_type {
        Some(filter::ConfigType::TypedConfig(any)) => decode(any),
        other => panic!("HCM without typed config: {other:?}"),
    }
}

fn rds_name(hcm: &HttpConnectionManager) -> String {
    match &hcm.route_specifier {
        Some(http_connection_manager::RouteSpecifier::Rds(rds)) => {
            assert!(is_ads(rds.config_source.as_ref()), "RDS over ADS");
            rds.route_config_name.clone()
        }
        other => panic!("HCM must use RDS, has {other:?}"),
    }
}

fn tls_context(chain: &FilterChain) -> Option<DownstreamTlsContext> {
    let socket = chain.transport_socket.as_ref()?;
    assert_eq!(socket.name, "envoy.transport_sockets.tls");
    match &socket.config_type {
        Some(envoy_types::pb::envoy::config::core::v3::transport_socket::ConfigType::TypedConfig(any)) => {
            Some(decode(any))
        }
        other => panic!("TLS socket without typed config: {other:?}"),
    }
}

fn sds_names(context: &DownstreamTlsContext) -> Vec<String> {
    let common = context.common_tls_context.as_ref().expect("common TLS context");
    common
        .tls_certificate_sds_secret_configs
        .iter()
        .map(|c| {
            assert!(is_ads(c.sds_config.as_ref()), "SDS over ADS");
            c.name.clone()
        })
        .collect()
}

fn socket(address: Option<&Address>) -> (String, u32) {
    match address.and_then(|a| a.address.as_ref()) {
        Some(address::Address::SocketAddress(s)) => match s.port_specifier {
            Some(socket_address::PortSpecifier::PortValue(port)) => (s.address.clone(), port),
            ref other => panic!("socket address without port value: {other:?}"),
        },
        other => panic!("not a socket address: {other:?}"),
    }
}

fn route<'a>(table: &'a RouteConfiguration, host: &str, name: &str) -> &'a Route {
    let vhost = table
        .virtual_hosts
        .iter()
        .find(|v| v.domains == [host])
        .unwrap_or_else(|| panic!("table {} has no virtual host for {host}", table.name));
    vhost
        .routes
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("virtual host {host} of {} has no route {name}", table.name))
}

fn path(r: &Route) -> &route_match::PathSpecifier {
    r.r#match
        .as_ref()
        .and_then(|m| m.path_specifier.as_ref())
        .expect("route has a path matcher")
}

fn forward(r: &Route) -> &RouteAction {
    match &r.action {
        Some(route::Action::Route(action)) => action,
        other => panic!("route {} does not forward: {other:?}", r.name),
    }
}

fn redirect(r: &Route) -> &RedirectAction {
    match &r.action {
        Some(route::Action::Redirect(action)) => action,
        other => panic!("route {} does not redirect: {other:?}", r.name),
    }
}

fn direct_status(r: &Route) -> u32 {
    match &r.action {
        Some(route::Action::DirectResponse(d)) => d.status,
        other => panic!("route {} does not respond directly: {other:?}", r.name),
    }
}

/// The clusters a route sends to.
fn clusters_of(r: &Route) -> Vec<String> {
    match &r.action {
        Some(route::Action::Route(action)) => match &action.cluster_specifier {
            Some(route_action::ClusterSpecifier::Cluster(c)) => vec![c.clone()],
            Some(route_action::ClusterSpecifier::WeightedClusters(w)) => {
                w.clusters.iter().map(|c| c.name.clone()).collect()
            }
            other => panic!("route {} has an unexpected cluster specifier {other:?}", r.name),
        },
        _ => Vec::new(),
    }
}

fn exact(value: &str) -> Option<MatchPattern> {
    Some(MatchPattern::Exact(value.to_string()))
}

fn pattern(m: &StringMatcher) -> Option<MatchPattern> {
    m.match_pattern.clone()
}

#[test]
fn no_resource_is_orphaned_or_dangling() {
    for case in common::case_names() {
        let xds = Xds::of(&case);

        // Every listener's route tables exist, and every route table belongs to a listener.
        let mut rds = BTreeSet::new();
        let mut sds = BTreeSet::new();
        for (name, listener) in xds.all::<Listener>(type_url::LISTENER) {
            assert_eq!(listener.name, name, "{case}: listener keyed by its name");
            assert!(
                !listener.filter_chains.is_empty(),
                "{case}: listener {name} has filter chains"
            );
            for chain in &listener.filter_chains {
                let hcm = hcm(chain);
                assert_eq!(
                    hcm.strip_port_mode,
                    Some(http_connection_manager::StripPortMode::StripAnyHostPort(true)),
                    "{case}: {name} matches hosts without their port"
                );
                assert!(
                    rds.insert(rds_name(&hcm)),
                    "{case}: a route table is used by one chain only"
                );
                if let Some(context) = tls_context(chain) {
                    sds.extend(sds_names(&context));
                }
            }
        }
        assert_eq!(
            xds.names(type_url::ROUTE),
            rds,
            "{case}: RDS names = names the listeners ask for"
        );
        assert_eq!(
            xds.names(type_url::SECRET),
            sds,
            "{case}: SDS names = names the filter chains ask for"
        );

        // Every cluster is EDS over ADS with its own load assignment, or strict DNS with its
        // endpoints inline; and every cluster is routed to.
        let clusters = xds.names(type_url::CLUSTER);
        let mut eds_clusters = BTreeSet::new();
        for (name, c) in xds.all::<Cluster>(type_url::CLUSTER) {
            assert_eq!(c.name, name);
            let kind = c.cluster_discovery_type.clone();
            if kind
                == Some(cluster::ClusterDiscoveryType::Type(
                    cluster::DiscoveryType::StrictDns as i32,
                ))
            {
                let inline = c
                    .load_assignment
                    .as_ref()
                    .expect("a DNS cluster has inline endpoints");
                assert!(!inline.endpoints.is_empty(), "{case}: {name} has endpoints");
                continue;
            }
            assert_eq!(
                kind,
                Some(cluster::ClusterDiscoveryType::Type(
                    cluster::DiscoveryType::Eds as i32
                )),
                "{case}: {name} is an EDS or a strict DNS cluster"
            );
            eds_clusters.insert(name.clone());
            let eds = c.eds_cluster_config.as_ref().expect("EDS config");
            assert!(
                is_ads(eds.eds_config.as_ref()),
                "{case}: {name} gets endpoints over ADS"
            );
            assert!(eds.service_name.is_empty() || eds.service_name == name);
        }
        assert_eq!(
            xds.names(type_url::ENDPOINT),
            eds_clusters,
            "{case}: one ClusterLoadAssignment per EDS cluster"
        );
        for (name, cla) in xds.all::<ClusterLoadAssignment>(type_url::ENDPOINT) {
            assert_eq!(cla.cluster_name, name);
        }
        let mut routed = BTreeSet::new();
        for (name, table) in xds.all::<RouteConfiguration>(type_url::ROUTE) {
            assert_eq!(table.name, name);
            let mut domains = BTreeSet::new();
            for vhost in &table.virtual_hosts {
                for d in &vhost.domains {
                    assert!(
                        domains.insert(d.clone()),
                        "{case}: domain {d} appears twice in {name}"
                    );
                }
                for r in &vhost.routes {
                    routed.extend(
                        clusters_of(r)
                            .into_iter()
                            .filter(|c| c != INVALID_BACKEND && c != UNAVAILABLE_BACKEND),
                    );
                }
            }
        }
        assert_eq!(
            routed, clusters,
            "{case}: routes name exactly the clusters CDS has"
        );
        for (name, s) in xds.all::<Secret>(type_url::SECRET) {
            assert_eq!(s.name, name);
        }
    }
}

#[test]
fn translation_is_deterministic() {
    for case in common::case_names() {
        // Parse twice too, so that nothing depends on one parse's internal order.
        let first = common::run(&common::load(&case).snapshot);
        let second = common::run(&common::load(&case).snapshot);
        assert_eq!(first.ir, second.ir, "{case}: IR");
        assert_eq!(first.statuses, second.statuses, "{case}: statuses");
        let bytes = |xds: &XdsResources| {
            xds.iter()
                .flat_map(|(url, m)| {
                    m.iter()
                        .map(move |(name, any)| (url.clone(), name.clone(), any.value.clone()))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(bytes(&first.xds), bytes(&second.xds), "{case}: xDS bytes");
    }
}

#[test]
fn http_and_https_listeners() {
    let xds = Xds::of("listeners-http-https");
    assert_eq!(
        xds.names(type_url::LISTENER),
        BTreeSet::from(["default/edge/80".to_string(), "default/edge/443".to_string()])
    );

    let http = xds.listener("default/edge/80");
    assert_eq!(socket(http.address.as_ref()), ("0.0.0.0".to_string(), 80));
    assert!(http.listener_filters.is_empty());
    assert_eq!(http.filter_chains.len(), 1);
    let manager = hcm(&http.filter_chains[0]);
    assert_eq!(manager.stat_prefix, "default_edge_80");
    assert_eq!(rds_name(&manager), "default/edge/80");
    assert_eq!(
        manager.http_filters.last().map(|f| f.name.as_str()),
        Some("envoy.filters.http.router"),
        "the router is the last HTTP filter"
    );
    assert!(tls_context(&http.filter_chains[0]).is_none());
    let table = xds.table("default/edge/80");
    let site = route(&table, "*", "default/site/rule/0/match/0");
    assert_eq!(path(site), &route_match::PathSpecifier::Prefix("/".to_string()));
    assert_eq!(clusters_of(site), ["default/web/8080"]);

    let https = xds.listener("default/edge/443");
    assert_eq!(socket(https.address.as_ref()), ("0.0.0.0".to_string(), 443));
    assert_eq!(https.listener_filters.len(), 1);
    assert_eq!(
        https.listener_filters[0].name,
        "envoy.filters.listener.tls_inspector"
    );
    assert!(matches!(
        https.listener_filters[0].config_type,
        Some(listener_filter::ConfigType::TypedConfig(_))
    ));
    let chains: Vec<(String, Vec<String>, Vec<String>, String)> = https
        .filter_chains
        .iter()
        .map(|chain| {
            let context = tls_context(chain).expect("HTTPS chains terminate TLS");
            let alpn = &context
                .common_tls_context
                .as_ref()
                .expect("common context")
                .alpn_protocols;
            assert_eq!(alpn, &["h2", "http/1.1"]);
            let server_names = chain
                .filter_chain_match
                .as_ref()
                .map(|m| m.server_names.clone())
                .unwrap_or_default();
            (
                chain.name.clone(),
                server_names,
                sds_names(&context),
                rds_name(&hcm(chain)),
            )
        })
        .collect();
    assert_eq!(
        chains,
        [
            (
                "default/edge/443/https-www".to_string(),
                vec!["www.example.com".to_string()],
                vec!["default/www-cert".to_string()],
                "default/edge/443/https-www".to_string(),
            ),
            (
                "default/edge/443/https-any".to_string(),
                vec![],
                vec![
                    "default/fallback-cert".to_string(),
                    "default/www-cert".to_string()
                ],
                "default/edge/443/https-any".to_string(),
            ),
        ]
    );
    let www = xds.table("default/edge/443/https-www");
    assert_eq!(www.virtual_hosts.len(), 1);
    assert_eq!(www.virtual_hosts[0].domains, ["www.example.com"]);

    // The certificate and key travel inline, as PEM.
    let secret: Secret = xds.get(type_url::SECRET, "default/www-cert");
    let Some(secret::Type::TlsCertificate(tls)) = secret.r#type else {
        panic!("SDS secret is not a TLS certificate")
    };
    let inline = |source: Option<envoy_types::pb::envoy::config::core::v3::DataSource>| match source
        .and_then(|s| s.specifier)
    {
        Some(data_source::Specifier::InlineBytes(bytes)) => String::from_utf8(bytes).expect("PEM is text"),
        other => panic!("not inline bytes: {other:?}"),
    };
    assert!(inline(tls.certificate_chain).starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(inline(tls.private_key).starts_with("-----BEGIN PRIVATE KEY-----"));
}

#[test]
fn port_map_moves_binds() {
    let xds = Xds::of("port-map");
    let bind = |name: &str| socket(xds.listener(name).address.as_ref());
    assert_eq!(bind("default/mapped/80"), ("127.0.0.1".to_string(), 18080));
    assert_eq!(bind("default/mapped/443"), ("::1".to_string(), 18443));
    assert_eq!(bind("default/mapped/8080"), ("0.0.0.0".to_string(), 8080));
}

#[test]
fn path_and_request_matches() {
    let xds = Xds::of("path-matches");
    let table = xds.table("default/gw/80");
    let p = |name: &str| path(route(&table, "*", &format!("default/paths/{name}"))).clone();
    use route_match::PathSpecifier as P;
    assert_eq!(p("rule/0/match/0"), P::Prefix("/".to_string()));
    assert_eq!(p("rule/1/match/0"), P::Prefix("/".to_string()));
    assert_eq!(
        p("rule/2/match/0"),
        P::PathSeparatedPrefix("/docs".to_string()),
        "trailing slash dropped"
    );
    assert_eq!(
        p("rule/2/match/1"),
        P::PathSeparatedPrefix("/docs/api".to_string())
    );
    assert_eq!(p("rule/3/match/0"), P::Path("/docs".to_string()));
    match p("rule/4/match/0") {
        P::SafeRegex(r) => assert_eq!(r.regex, "/items/[0-9]+"),
        other => panic!("regex path became {other:?}"),
    }

    let xds = Xds::of("header-query-method");
    let table = xds.table("default/gw/80");
    let r = route(&table, "*", "default/conditions/rule/0/match/0");
    let m = r.r#match.as_ref().expect("match");
    let headers: Vec<(String, Option<MatchPattern>)> = m
        .headers
        .iter()
        .map(|h| match &h.header_match_specifier {
            Some(HeaderMatchSpecifier::StringMatch(s)) => (h.name.clone(), pattern(s)),
            other => panic!("header matcher {other:?}"),
        })
        .collect();
    assert_eq!(
        headers.len(),
        3,
        "the duplicate x-env is dropped; :method is a header matcher"
    );
    assert_eq!(headers[0], ("x-env".to_string(), exact("canary")));
    assert!(
        matches!(&headers[1], (name, Some(MatchPattern::SafeRegex(r))) if name == "x-version" && r.regex == "v[12]")
    );
    assert_eq!(headers[2], (":method".to_string(), exact("POST")));
    let query: Vec<(String, Option<MatchPattern>)> = m
        .query_parameters
        .iter()
        .map(|q| match &q.query_parameter_match_specifier {
            Some(QueryParameterMatchSpecifier::StringMatch(s)) => (q.name.clone(), pattern(s)),
            other => panic!("query matcher {other:?}"),
        })
        .collect();
    assert_eq!(
        query.len(),
        2,
        "query names are case-sensitive; the duplicate debug is dropped"
    );
    assert_eq!(query[0], ("debug".to_string(), exact("1")));
    assert!(
        matches!(&query[1], (name, Some(MatchPattern::SafeRegex(r))) if name == "Debug" && r.regex == "[a-z]+")
    );
}

#[test]
fn backends_weights_and_direct_responses() {
    let xds = Xds::of("backends");
    let table = xds.table("infra/gw/80");
    let r = |name: &str| route(&table, "*", name);

    let weighted = forward(r("apps/weights/rule/0/match/0"));
    let Some(route_action::ClusterSpecifier::WeightedClusters(w)) = &weighted.cluster_specifier else {
        panic!("two backends make weighted clusters")
    };
    let weights: Vec<(String, u32)> = w
        .clusters
        .iter()
        .map(|c| (c.name.clone(), c.weight.as_ref().map_or(0, |v| v.value)))
        .collect();
    assert_eq!(
        weights,
        [("apps/web/80".to_string(), 3), ("apps/api/9090".to_string(), 1)]
    );
    assert_eq!(weights.iter().map(|(_, w)| w).sum::<u32>(), 4);
    assert_eq!(
        path(r("apps/weights/rule/0/match/0")),
        &route_match::PathSpecifier::PathSeparatedPrefix("/weighted".into())
    );

    assert_eq!(clusters_of(r("apps/weights/rule/1/match/0")), ["apps/web/9100"]);
    assert_eq!(
        clusters_of(r("apps/weights/rule/2/match/0")),
        ["apps/api/9090"],
        "weight 0 drops a backend"
    );
    assert_eq!(
        direct_status(r("apps/weights/rule/3/match/0")),
        500,
        "all weights 0"
    );
    assert_eq!(
        direct_status(r("apps/weights/rule/4/match/0")),
        500,
        "no backendRefs"
    );
    for invalid in [
        "missing-service",
        "wrong-kind",
        "cross-denied",
        "no-port",
        "port-not-on-service",
    ] {
        assert_eq!(
            direct_status(r(&format!("apps/{invalid}/rule/0/match/0"))),
            500,
            "{invalid}"
        );
    }
    assert_eq!(
        clusters_of(r("apps/cross-granted/rule/0/match/0")),
        ["backends/shared/80"]
    );
    assert_eq!(
        forward(r("apps/weights/rule/0/match/0")).cluster_not_found_response_code,
        route_action::ClusterNotFoundResponseCode::ServiceUnavailable as i32
    );

    // A valid and an invalid backend: the invalid one's share is sent to a cluster that does
    // not exist, which Envoy answers with 500.
    let partly = forward(r("apps/partly-invalid/rule/0/match/0"));
    assert_eq!(
        clusters_of(r("apps/partly-invalid/rule/0/match/0")),
        ["apps/api/9090", INVALID_BACKEND]
    );
    assert!(!xds.names(type_url::CLUSTER).contains(INVALID_BACKEND));
    assert_eq!(
        partly.cluster_not_found_response_code,
        route_action::ClusterNotFoundResponseCode::InternalServerError as i32
    );

    let cla: ClusterLoadAssignment = xds.get(type_url::ENDPOINT, "apps/web/80");
    assert_eq!(
        cla.endpoints.iter().map(|l| l.lb_endpoints.len()).sum::<usize>(),
        0,
        "no EndpointSlices"
    );
}

#[test]
fn endpoints_from_slices() {
    let xds = Xds::of("endpoints");
    let addresses = |name: &str| -> Vec<(String, u32)> {
        let cla: ClusterLoadAssignment = xds.get(type_url::ENDPOINT, name);
        cla.endpoints
            .iter()
            .flat_map(|l| &l.lb_endpoints)
            .map(|e| match &e.host_identifier {
                Some(lb_endpoint::HostIdentifier::Endpoint(endpoint)) => socket(endpoint.address.as_ref()),
                other => panic!("not an endpoint: {other:?}"),
            })
            .collect()
    };
    let a = |ip: &str, port: u32| (ip.to_string(), port);
    assert_eq!(
        addresses("default/multi/80"),
        [
            a("10.0.0.1", 8080),
            a("10.0.0.2", 8080),
            a("fd00::1", 8080),
            a("fd00::2", 8080)
        ]
    );
    assert_eq!(
        addresses("default/multi/81"),
        [a("10.0.0.1", 9901), a("10.0.0.2", 9901)]
    );
    assert_eq!(addresses("default/plain/80"), [a("10.1.0.1", 3000)]);
    assert_eq!(addresses("default/empty/80"), []);
}

#[test]
fn redirects() {
    let xds = Xds::of("redirects");
    let table = xds.table("default/gw/80");
    let r = |rule: usize| {
        redirect(route(
            &table,
            "*",
            &format!("default/redirects/rule/{rule}/match/0"),
        ))
        .clone()
    };
    use redirect_action::{
        PathRewriteSpecifier as Path, RedirectResponseCode as Code, SchemeRewriteSpecifier as Scheme,
    };

    let to_host = r(0);
    assert_eq!(to_host.host_redirect, "www.example.org");
    assert_eq!(to_host.response_code, Code::Found as i32, "302 by default");
    assert_eq!(to_host.port_redirect, 0);
    assert_eq!(to_host.path_rewrite_specifier, None);

    let moved = r(1);
    assert_eq!(moved.response_code, Code::MovedPermanently as i32);
    assert_eq!(
        moved.path_rewrite_specifier,
        Some(Path::PathRedirect("/new-home".to_string()))
    );

    let secure = r(2);
    assert_eq!(
        secure.scheme_rewrite_specifier,
        Some(Scheme::SchemeRedirect("https".to_string()))
    );
    assert_eq!(secure.port_redirect, 8443);

    assert_eq!(
        r(3).path_rewrite_specifier,
        Some(Path::PrefixRewrite("/new-prefix".to_string()))
    );
    // Replacing a prefix with `/` must not leave `//`: the prefix and its slashes go.
    match r(4).path_rewrite_specifier {
        Some(Path::RegexRewrite(rewrite)) => {
            assert_eq!(
                rewrite.pattern.map(|p| p.regex).as_deref(),
                Some("^/strip\\-prefix/*")
            );
            assert_eq!(rewrite.substitution, "/");
        }
        other => panic!("a `/` replacement became {other:?}"),
    }
    assert_eq!(
        r(5).path_rewrite_specifier,
        Some(Path::PrefixRewrite("/slashed".to_string())),
        "trailing slash dropped"
    );

    let wins = route(&table, "*", "default/redirects/rule/6/match/0");
    assert!(
        matches!(wins.action, Some(route::Action::Redirect(_))),
        "a redirect rule never forwards"
    );
}

#[test]
fn header_modifiers() {
    let xds = Xds::of("header-modifiers");
    let table = xds.table("default/gw/80");
    let request = route(&table, "*", "default/headers/rule/0/match/0");
    let added: Vec<(String, String, i32)> = request
        .request_headers_to_add
        .iter()
        .map(|o| {
            let h = o.header.as_ref().expect("header");
            (h.key.clone(), h.value.clone(), o.append_action)
        })
        .collect();
    let overwrite = HeaderAppendAction::OverwriteIfExistsOrAdd as i32;
    let append = HeaderAppendAction::AppendIfExistsOrAdd as i32;
    let h = |k: &str, v: &str, a: i32| (k.to_string(), v.to_string(), a);
    assert_eq!(
        added,
        [
            h("x-set", "overwritten", overwrite),
            h("x-add", "appended", append),
            h("x-add", "appended-again", append)
        ]
    );
    assert_eq!(request.request_headers_to_remove, ["x-remove-me", "cookie"]);
    assert!(request.response_headers_to_add.is_empty() && request.response_headers_to_remove.is_empty());

    let response = route(&table, "*", "default/headers/rule/1/match/0");
    assert!(response.request_headers_to_add.is_empty());
    let added: Vec<(String, i32)> = response
        .response_headers_to_add
        .iter()
        .map(|o| (o.header.as_ref().expect("header").key.clone(), o.append_action))
        .collect();
    assert_eq!(
        added,
        [
            ("cache-control".to_string(), overwrite),
            ("x-served-by".to_string(), append)
        ]
    );
    assert_eq!(response.response_headers_to_remove, ["server"]);
}
