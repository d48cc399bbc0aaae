//! `bench-gateway`: the gateway benchmark of issue 6 — bare Envoy, Envoy's native `jwt_authn` +
//! `local_ratelimit`, and the reference gateway (enforcer + limiter in memory, then in Redis)
//! to the same echo backend. See the module `gateway`.

use std::process::ExitCode;

use portcullis_load::bench::gateway;
use portcullis_load::init_tracing;

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    gateway::cli(std::env::args_os()).await
}
