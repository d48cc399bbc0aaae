//! APK's Config Service (phase 1): the apk-conf format, the generator that turns an OpenAPI
//! definition into an apk-conf, and the HTTP endpoint that serves it like WSO2 APK 1.x.
//!
//! - [`apk_conf`]: typed apk-conf ([`ApkConf`]), [`parse_apk_conf`] with located errors,
//!   [`ApkConf::to_yaml`] in APK's field order and quoting.
//! - [`definition`]: [`generate_apk_conf`] from OpenAPI 3.0/3.1 or Swagger 2.0.
//! - [`http`]: [`router`] serving `POST /api/configurator/1.3.0/apis/generate-configuration`.

pub mod apk_conf;
pub mod definition;
pub mod http;
mod yaml_out;

pub use apk_conf::{ApkConf, ApkConfError, parse_apk_conf};
pub use definition::{DefinitionError, generate_apk_conf};
pub use http::router;
