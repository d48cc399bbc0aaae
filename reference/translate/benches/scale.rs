//! Translator scale benchmark: `translate` over generated snapshots of 10 to 10,000 HTTPRoutes,
//! plain and with every tenth route in an APK `API` with a RateLimitPolicy (and the default
//! authentication). Prints each case's encoded xDS size once.
//!
//! ```sh
//! cargo bench -p portcullis-translate --bench scale -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Speed targets live here and in `bench-control-plane` (load/CONTROL-PLANE.md), never in tests.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use portcullis_model::{CONTROLLER_NAME, Snapshot, parse_documents};
use portcullis_translate::{
    PortMap, Statuses, TranslateInput, Translation, envoy, gateway, route, translate,
};
use prost::Message;

/// Route counts measured.
const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
/// Services the routes share (the control-plane benchmark starts one echo backend each).
const SERVICES: usize = 10;

/// The Gateway, its class and the shared Services.
fn base_yaml() -> String {
    let mut out = String::from(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: portcullis}\n\
         spec: {controllerName: portcullis.dev/gateway-controller}\n---\n\
         apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: scale}\n\
         spec:\n  gatewayClassName: portcullis\n  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n",
    );
    for s in 0..SERVICES {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{s}, namespace: scale}}\n\
             spec:\n  ports: [{{name: http, port: 8080}}]\n"
        );
    }
    out
}

/// Route `i`: its own hostname, two rules; with `apis`, every tenth route is an API's.
fn route_yaml(i: usize, apis: bool) -> String {
    let svc = i % SERVICES;
    let mut out = format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n\
         metadata: {{name: route-{i}, namespace: scale}}\nspec:\n  parentRefs: [{{name: edge}}]\n\
         \x20 hostnames: [r{i}.scale.example]\n  rules:\n\
         \x20 - matches: [{{path: {{type: PathPrefix, value: /items}}}}]\n\
         \x20   backendRefs: [{{name: svc-{svc}, port: 8080}}]\n\
         \x20 - matches: [{{path: {{type: Exact, value: /health}}, method: GET}}]\n\
         \x20   filters:\n\
         \x20   - type: RequestHeaderModifier\n\
         \x20     requestHeaderModifier: {{set: [{{name: x-route, value: route-{i}}}]}}\n\
         \x20   backendRefs: [{{name: svc-{svc}, port: 8080}}]\n"
    );
    if apis && i.is_multiple_of(10) {
        let _ = write!(
            out,
            "---\napiVersion: dp.wso2.com/v1alpha3\nkind: API\nmetadata: {{name: api-{i}, namespace: scale}}\n\
             spec:\n  apiName: api-{i}\n  apiVersion: \"1.0\"\n  basePath: /api-{i}/1.0\n  apiType: REST\n\
             \x20 production: [{{routeRefs: [route-{i}]}}]\n---\n\
             apiVersion: dp.wso2.com/v1alpha3\nkind: RateLimitPolicy\nmetadata: {{name: rl-{i}, namespace: scale}}\n\
             spec:\n  default: {{api: {{requestsPerUnit: 100, unit: Minute}}}}\n\
             \x20 targetRef: {{group: dp.wso2.com, kind: API, name: api-{i}}}\n"
        );
    }
    out
}

/// A snapshot of `routes` HTTPRoutes; panics on any parse or load error (a broken generator).
fn snapshot(routes: usize, apis: bool) -> Snapshot {
    let mut yaml = base_yaml();
    for i in 0..routes {
        yaml.push_str(&route_yaml(i, apis));
    }
    let report = parse_documents("scale.yaml", &yaml);
    assert!(report.errors.is_empty(), "generated YAML: {:?}", report.errors);
    let (snapshot, errors) = Snapshot::from_report(&report);
    assert!(errors.is_empty(), "generated resources: {errors:?}");
    snapshot
}

fn run(snapshot: &Snapshot, port_map: &PortMap) -> Translation {
    translate(&TranslateInput {
        snapshot,
        controller_name: CONTROLLER_NAME,
        also_serves: None,
        port_map,
    })
}

/// Encoded size of every xDS resource, and how many there are.
fn xds_size(translation: &Translation) -> (usize, usize) {
    let anys = translation.xds.values().flat_map(|by_name| by_name.values());
    anys.fold((0, 0), |(bytes, count), any| {
        (bytes + any.encoded_len(), count + 1)
    })
}

/// This process's resident memory in MiB (Linux), for a rough breakdown of where memory goes.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Prints how resident memory grows through each stage at the largest size (first, while the
/// process is fresh): parsed documents, the typed Snapshot, the translation.
fn memory_breakdown(n: usize) {
    let start = rss_mib();
    let mut yaml = base_yaml();
    for i in 0..n {
        yaml.push_str(&route_yaml(i, true));
    }
    let text = rss_mib();
    let report = parse_documents("scale.yaml", &yaml);
    let parsed = rss_mib();
    let (snapshot, _) = Snapshot::from_report(&report);
    let typed = rss_mib();
    let port_map = PortMap::new();
    let input = TranslateInput {
        snapshot: &snapshot,
        controller_name: CONTROLLER_NAME,
        also_serves: None,
        port_map: &port_map,
    };
    let mut statuses = Statuses::default();
    let gateways = gateway::translate_gateways(&input, &mut statuses);
    let ir = route::translate_routes(&input, gateways, &mut statuses);
    let with_ir = rss_mib();
    let xds = envoy::to_xds(&ir);
    let translated = rss_mib();
    println!(
        "rss-mib routes+apis n={n}: start {start:.1}, +yaml text {:.1}, +parsed documents {:.1}, \
         +snapshot {:.1}, +IR and statuses {:.1}, +xDS {:.1} (total {translated:.1})",
        text - start,
        parsed - text,
        typed - parsed,
        with_ir - typed,
        translated - with_ir
    );
    drop((xds, ir, statuses, snapshot, report, yaml));
}

fn scale(c: &mut Criterion) {
    let port_map = PortMap::new();
    if let Some(&largest) = SIZES.last() {
        memory_breakdown(largest);
    }
    for (variant, apis) in [("routes", false), ("routes+apis", true)] {
        let mut group = c.benchmark_group(format!("translate/{variant}"));
        group.sample_size(10);
        for n in SIZES {
            let snap = snapshot(n, apis);
            let translation = run(&snap, &port_map);
            let hosts: usize = translation
                .ir
                .listeners
                .iter()
                .map(|l| l.virtual_hosts.len())
                .sum();
            // A generator mistake (rejected routes) would make the benchmark measure nothing.
            assert_eq!(hosts, n, "{variant}/{n}: every route must become a virtual host");
            if apis {
                assert!(
                    !translation.ir.rate_limits.is_empty(),
                    "{variant}/{n}: no rate limits"
                );
                assert!(
                    !translation.ir.security.is_empty(),
                    "{variant}/{n}: no API security"
                );
            }
            let (bytes, resources) = xds_size(&translation);
            println!("xds-size {variant} n={n}: {resources} resources, {bytes} bytes encoded");
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &snap, |b, snap| {
                b.iter(|| run(black_box(snap), &port_map));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, scale);
criterion_main!(benches);
