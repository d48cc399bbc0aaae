//! apk-conf (+ definition) → APK resources must answer every input with resources or an error,
//! never a panic; every resource generated must load in the gateway's model.
//!
//! The input is an apk-conf, then optionally a NUL byte and the API definition.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_config_service::{generate_resources, parse_apk_conf};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (conf, definition) = match text.split_once('\0') {
        Some((conf, definition)) => (conf, Some(definition)),
        None => (&*text, None),
    };
    let Ok(conf) = parse_apk_conf(conf) else {
        return;
    };
    let Ok(generated) = generate_resources(&conf, definition, "default", "apps") else {
        return;
    };
    for (name, yaml) in &generated.files {
        let report = portcullis_model::parse_documents(name, yaml);
        assert!(
            report.errors.is_empty(),
            "{name} does not load: {:?}\n{yaml}",
            report.errors
        );
        assert!(
            report.skipped.is_empty(),
            "{name} is skipped: {:?}\n{yaml}",
            report.skipped
        );
    }
});
