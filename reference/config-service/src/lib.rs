//! APK's Config Service and Deployer: the apk-conf format, the generator that turns an OpenAPI
//! definition into an apk-conf, the generator of APK resources, and the HTTP endpoints that
//! serve them like WSO2 APK 1.x.
//!
//! - [`apk_conf`]: typed apk-conf ([`ApkConf`]), [`parse_apk_conf`] with located errors,
//!   [`ApkConf::to_yaml`] in APK's field order and quoting.
//! - [`definition`]: [`generate_apk_conf`] from OpenAPI 3.0/3.1 or Swagger 2.0.
//! - [`resources`]: [`generate_resources`], apk-conf → API, HTTPRoutes, Backends and policies.
//! - [`deployer`]: [`Deployer`], writing one file per API into a resource folder.
//! - [`http`]: [`router`] (generate-configuration, generate-k8s-resources) and
//!   [`deployer_router`] (deploy, undeploy). The Deployer routes do no authentication: the
//!   gateway in front enforces the `apk:api_create` Scope, as APK does.

pub mod apk_conf;
pub mod definition;
pub mod deployer;
pub mod http;
pub mod resources;
mod yaml_out;

pub use apk_conf::{ApkConf, ApkConfError, parse_apk_conf};
pub use definition::{DefinitionError, generate_apk_conf};
pub use deployer::{DeployError, DeployedApi, Deployer};
pub use http::{deployer_router, router};
pub use resources::{GenerateError, GeneratedResources, generate_resources};
