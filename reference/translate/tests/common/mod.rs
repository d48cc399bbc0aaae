//! Shared by the integration tests: loading a case file and translating it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use portcullis_model::{CONTROLLER_NAME, ObjectKey, Snapshot, parse_documents};
use portcullis_translate::{PortMap, TranslateInput, Translation, translate};

/// The folder of case files.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

/// Every case name (file stem), sorted.
pub fn case_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cases_dir())
        .expect("tests/cases is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .map(|path| {
            path.file_stem()
                .expect("file stem")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no case files in {}", cases_dir().display());
    names
}

/// A case, loaded.
pub struct Case {
    /// Load and duplicate-definition errors, as their messages.
    pub load_errors: Vec<String>,
    /// Documents of kinds portcullis skips.
    pub skipped: Vec<String>,
    /// The resources.
    pub snapshot: Snapshot,
}

/// Parses `tests/cases/<name>.yaml`.
pub fn load(name: &str) -> Case {
    let file = format!("{name}.yaml");
    let text = std::fs::read_to_string(cases_dir().join(&file)).expect("case file is readable");
    let report = parse_documents(&file, &text);
    let (snapshot, errors) = Snapshot::from_report(&report);
    let load_errors = errors.iter().map(ToString::to_string).collect();
    let skipped = report
        .skipped
        .iter()
        .map(|s| format!("{}: {} {} {}", s.source, s.api_version, s.kind, s.name))
        .collect();
    Case {
        load_errors,
        skipped,
        snapshot,
    }
}

/// The port map every case is translated with: it moves two ports of `default/mapped` (only
/// the `port-map` case has that Gateway) and leaves everything else on `0.0.0.0`.
pub fn port_map() -> PortMap {
    let mapped = ObjectKey::new("default", "mapped");
    let addr = |s: &str| s.parse::<SocketAddr>().expect("valid socket address");
    PortMap::from([
        ((mapped.clone(), 80), addr("127.0.0.1:18080")),
        ((mapped, 443), addr("[::1]:18443")),
    ])
}

/// Translates a snapshot as the gateway would.
pub fn run(snapshot: &Snapshot) -> Translation {
    let port_map = port_map();
    translate(&TranslateInput {
        snapshot,
        controller_name: CONTROLLER_NAME,
        also_serves: None,
        port_map: &port_map,
    })
}
