//! apk-conf parsing must answer every input with a value or an error, never a panic; what
//! parses must also print and parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_config_service::parse_apk_conf;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(conf) = parse_apk_conf(&text) {
        let _ = parse_apk_conf(&conf.to_yaml());
    }
});
