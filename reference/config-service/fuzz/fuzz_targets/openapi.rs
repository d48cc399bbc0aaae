//! The definition → apk-conf generator (OpenAPI 3.0/3.1, Swagger 2.0; JSON or YAML) must answer
//! every input with a value or an error, never a panic; the apk-conf it generates must print
//! with `to_yaml` and read back to an equal value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_config_service::apk_conf::ApiType;
use portcullis_config_service::{ApkConf, generate_apk_conf, parse_apk_conf};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(conf) = generate_apk_conf(&text, ApiType::Rest) else {
        return;
    };
    let printed = conf.to_yaml();
    // Like APK, the generator does not validate (a 61-character title makes a name the parser
    // refuses), so the printed text is read back without validation first.
    match serde_yaml::from_str::<ApkConf>(&printed) {
        Ok(again) => assert_eq!(again, conf, "the apk-conf changed through to_yaml:\n{printed}"),
        Err(error) => panic!("the generated apk-conf does not read back: {error}\n{printed}"),
    }
    if let Ok(parsed) = parse_apk_conf(&printed) {
        assert_eq!(parsed, conf);
    }
});
