//! The conformance harness: cucumber World and steps, drivers that reach a gateway, and report
//! writers. Features never know which driver runs them.

pub mod apk_steps;
pub mod cluster;
pub mod driver;
pub mod embedded;
pub mod grpc_steps;
pub mod postman;
pub mod report;
pub mod request;
pub mod runner;
pub mod scenario_steps;
pub mod steps;
pub mod tls;
pub mod world;

pub use driver::Driver;
pub use runner::{RunOptions, RunSummary, run_conformance};
pub use world::GatewayWorld;
