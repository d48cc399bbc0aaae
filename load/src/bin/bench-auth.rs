//! `bench-auth`: the authentication benchmark — no auth, Envoy's `jwt_authn`, and portcullis's
//! enforcer through the same Envoy binary to the same echo backend. See the module `auth`.

use std::process::ExitCode;

use portcullis_load::bench::auth;
use portcullis_load::init_tracing;

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    auth::cli(std::env::args_os()).await
}
