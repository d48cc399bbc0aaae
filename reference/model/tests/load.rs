//! Reading resources: typed values out, or errors that name the file, object and field.

use portcullis_model::{LoadError, Resource, Snapshot, load_dir, parse_documents};

const ROUTE: &str =
    "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec: {}\n";

#[test]
fn multi_document_files_give_every_resource_and_skip_other_kinds() {
    let text = format!(
        "{ROUTE}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: x}}\n---\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: x}}\nspec: {{ports: [{{port: 80}}]}}\n"
    );
    let report = parse_documents("f.yaml", &text);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.resources.len(), 2);
    assert_eq!(report.resources[0].0, "f.yaml#1");
    let route = &report.resources[0].1;
    assert_eq!(route.kind(), "HTTPRoute");
    // The API server's defaults: the default namespace and generation 1.
    assert_eq!(route.meta().namespace.as_deref(), Some("default"));
    assert_eq!(route.meta().generation, Some(1));
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].kind, "Deployment");
    assert_eq!(report.skipped[0].source, "f.yaml#2");
}

#[test]
fn a_bad_field_names_file_object_and_field() {
    let text = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: n}\nspec:\n  rules:\n  - matches: [{path: {type: Prefix}}]\n";
    let report = parse_documents("routes.yaml", text);
    match &report.errors[..] {
        [
            LoadError::Field {
                source_name,
                kind,
                name,
                field,
                message,
            },
        ] => {
            assert_eq!(source_name, "routes.yaml#1");
            assert_eq!(kind, "HTTPRoute");
            assert_eq!(name, "n/r");
            assert_eq!(field, "spec.rules[0].matches[0].path.type");
            assert!(message.contains("unknown variant `Prefix`"), "{message}");
        }
        other => panic!("expected one field error, got {other:?}"),
    }
}

#[test]
fn shape_and_syntax_errors_do_not_hide_earlier_documents() {
    let report = parse_documents("a.yaml", &format!("{ROUTE}---\nkind: Service\n"));
    assert_eq!(report.resources.len(), 1);
    assert!(
        matches!(&report.errors[..], [LoadError::Shape { message, .. }] if message.contains("apiVersion"))
    );
    let report = parse_documents("b.yaml", &format!("{ROUTE}---\nkind: [unclosed\n"));
    assert_eq!(report.resources.len(), 1);
    assert!(
        matches!(&report.errors[..], [LoadError::Syntax { source_name, .. }] if source_name == "b.yaml#2")
    );
    let report = parse_documents("c.yaml", "- just\n- a list\n");
    assert!(matches!(&report.errors[..], [LoadError::Shape { .. }]));
}

#[test]
fn secrets_fold_string_data_and_lists_are_unpacked() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, namespace: n}\n  stringData: {tls.crt: hello}\n";
    let report = parse_documents("l.yaml", text);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let Resource::Secret(secret) = &report.resources[0].1 else {
        panic!("not a secret")
    };
    assert_eq!(
        secret
            .data
            .as_ref()
            .and_then(|d| d.get("tls.crt"))
            .map(|b| b.0.clone()),
        Some(b"hello".to_vec())
    );
    assert!(secret.string_data.is_none());
}

#[test]
fn duplicates_keep_the_first_definition() {
    let report = parse_documents("a.yaml", &format!("{ROUTE}---\n{ROUTE}"));
    let (snapshot, errors) = Snapshot::from_report(&report);
    assert_eq!(snapshot.http_routes.len(), 1);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().contains("already defined in a.yaml#1"),
        "{}",
        errors[0]
    );
}

#[test]
fn folders_are_read_recursively_in_path_order() -> std::io::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("b"))?;
    std::fs::write(
        dir.path().join("b/route.yml"),
        ROUTE.replace("name: r", "name: second"),
    )?;
    std::fs::write(dir.path().join("a.yaml"), ROUTE.replace("name: r", "name: first"))?;
    std::fs::write(dir.path().join(".hidden.yaml"), "not: [yaml")?;
    std::fs::write(dir.path().join("notes.txt"), "ignored")?;
    let report = load_dir(dir.path());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let names: Vec<_> = report
        .resources
        .iter()
        .map(|(s, r)| (s.clone(), r.meta().name.clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("a.yaml#1".to_string(), Some("first".to_string())),
            ("b/route.yml#1".to_string(), Some("second".to_string()))
        ]
    );
    Ok(())
}
