//! apk-conf parsing and validation must answer every input with a value or an error, never a
//! panic; what parses must print with `to_yaml` and parse back to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_config_service::parse_apk_conf;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(conf) = parse_apk_conf(&text) else {
        return;
    };
    let printed = conf.to_yaml();
    match parse_apk_conf(&printed) {
        Ok(again) => assert_eq!(again, conf, "the apk-conf changed through to_yaml:\n{printed}"),
        Err(error) => panic!("the printed apk-conf does not parse: {error}\n{printed}"),
    }
});
