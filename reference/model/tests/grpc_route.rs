//! GRPCRoutes load like HTTPRoutes: typed, defaulted, keyed, and named in errors.

use portcullis_model::{LoadError, ObjectKey, ObjectRef, Resource, Snapshot, parse_documents};

const GRPC_ROUTE: &str = "\
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - matches:
    - method: {service: pkg.Echo, method: Say}
      headers: [{name: version, value: two}]
    backendRefs: [{name: echo, port: 8080, weight: 3}]
";

#[test]
fn a_grpc_route_is_typed_defaulted_and_kept_in_the_snapshot() {
    let report = parse_documents("grpc.yaml", GRPC_ROUTE);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let resource = &report.resources[0].1;
    assert_eq!(resource.kind(), "GRPCRoute");
    assert_eq!(
        resource.object_ref(),
        ObjectRef::new("GRPCRoute", "default", "echo")
    );
    assert_eq!(resource.meta().generation, Some(1));
    let Resource::GrpcRoute(route) = resource else {
        panic!("not a GRPCRoute: {resource:?}")
    };
    let rule = &route.spec.rules.as_ref().expect("rules")[0];
    let method = rule.matches.as_ref().expect("matches")[0]
        .method
        .as_ref()
        .expect("method");
    assert_eq!(method.service.as_deref(), Some("pkg.Echo"));
    assert_eq!(method.method.as_deref(), Some("Say"));

    let (snapshot, errors) = Snapshot::from_report(&report);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(snapshot.http_routes.is_empty());
    let stored = &snapshot.grpc_routes[&ObjectKey::new("default", "echo")];
    assert_eq!(
        stored.spec.hostnames.as_deref(),
        Some(&["grpc.example.com".to_string()][..])
    );
}

#[test]
fn an_httproute_and_a_grpc_route_may_share_a_name() {
    let http =
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: echo}\nspec: {}\n";
    let report = parse_documents("both.yaml", &format!("{GRPC_ROUTE}---\n{http}"));
    let (snapshot, errors) = Snapshot::from_report(&report);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(snapshot.grpc_routes.len(), 1);
    assert_eq!(snapshot.http_routes.len(), 1);
    // But the same GRPCRoute twice is a duplicate.
    let report = parse_documents("twice.yaml", &format!("{GRPC_ROUTE}---\n{GRPC_ROUTE}"));
    let (snapshot, errors) = Snapshot::from_report(&report);
    assert_eq!(snapshot.grpc_routes.len(), 1);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[test]
fn a_bad_grpc_field_names_the_route_and_field() {
    let text = GRPC_ROUTE.replace(
        "method: {service: pkg.Echo, method: Say}",
        "method: {type: Prefix}",
    );
    let report = parse_documents("bad.yaml", &text);
    match &report.errors[..] {
        [
            LoadError::Field {
                kind, name, field, ..
            },
        ] => {
            assert_eq!(kind, "GRPCRoute");
            assert_eq!(name, "default/echo");
            assert_eq!(field, "spec.rules[0].matches[0].method.type");
        }
        other => panic!("expected one field error, got {other:?}"),
    }
}
