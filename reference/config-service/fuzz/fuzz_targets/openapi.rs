//! The definition → apk-conf generator must answer every input with a value or an error, never
//! a panic; the apk-conf it generates must print and parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_config_service::apk_conf::ApiType;
use portcullis_config_service::{generate_apk_conf, parse_apk_conf};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(conf) = generate_apk_conf(&text, ApiType::Rest) {
        let _ = parse_apk_conf(&conf.to_yaml());
    }
});
