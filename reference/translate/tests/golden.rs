//! Golden tests: every `tests/cases/<case>.yaml` is loaded and translated, and its load errors,
//! statuses and IR are compared with `snapshots/translate/<case>.snap`.
//!
//! Regenerate with `INSTA_UPDATE=always cargo test -p portcullis-translate --test golden`, then
//! read the diff: the golden files must show what the Gateway API asks for.

mod common;

use portcullis_translate::{Ir, Statuses};
use serde::Serialize;

/// The one document each case snapshots.
#[derive(Serialize)]
struct Golden<'a> {
    load_errors: &'a [String],
    skipped: &'a [String],
    statuses: &'a Statuses,
    ir: &'a Ir,
}

#[test]
fn golden() {
    let mut failed = Vec::new();
    for name in common::case_names() {
        let case = common::load(&name);
        let translation = common::run(&case.snapshot);
        let golden = Golden {
            load_errors: &case.load_errors,
            skipped: &case.skipped,
            statuses: &translation.statuses,
            ir: &translation.ir,
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            insta::with_settings!({
                snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots/translate"),
                prepend_module_to_snapshot => false,
                input_file => common::cases_dir().join(format!("{name}.yaml")),
                omit_expression => true,
            }, {
                insta::assert_yaml_snapshot!(name.as_str(), golden);
            });
        }));
        if outcome.is_err() {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "golden snapshots differ for: {}",
        failed.join(", ")
    );
}

/// A snapshot whose case file is gone would never be checked again.
#[test]
fn every_snapshot_has_a_case() {
    let cases = common::case_names();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../snapshots/translate");
    for entry in std::fs::read_dir(&dir).expect("snapshots/translate is readable") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|ext| ext == "snap") {
            let stem = path
                .file_stem()
                .expect("file stem")
                .to_string_lossy()
                .into_owned();
            assert!(
                cases.contains(&stem),
                "{} has no tests/cases/{stem}.yaml",
                path.display()
            );
        }
    }
}
