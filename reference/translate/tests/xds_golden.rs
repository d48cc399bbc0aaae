//! Golden tests of the second stage: every case's Envoy resources, rendered as Envoy prints
//! them, compared with `snapshots/translate-xds/<case>.snap`. Regenerate like `golden.rs`.

mod common;

use std::collections::BTreeMap;

#[test]
fn xds_golden() {
    let mut failed = Vec::new();
    for name in common::case_names() {
        let case = common::load(&name);
        let translation = common::run(&case.snapshot);
        let mut rendered: BTreeMap<String, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
        for (type_url, resources) in &translation.xds {
            let short = type_url.rsplit('.').next().unwrap_or(type_url).to_string();
            for (resource, any) in resources {
                let json = portcullis_proto_json::any_to_json(any)
                    .unwrap_or_else(|e| panic!("{name}: {resource} does not render: {e}"));
                rendered
                    .entry(short.clone())
                    .or_default()
                    .insert(resource.clone(), json);
            }
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            insta::with_settings!({
                snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/translate-xds"),
                prepend_module_to_snapshot => false,
                input_file => common::cases_dir().join(format!("{name}.yaml")),
                omit_expression => true,
            }, {
                insta::assert_yaml_snapshot!(name.as_str(), rendered);
            });
        }));
        if outcome.is_err() {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "xDS golden snapshots differ for: {}",
        failed.join(", ")
    );
}
