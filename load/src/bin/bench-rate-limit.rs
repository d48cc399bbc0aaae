//! `bench-rate-limit`: the rate-limit benchmark. See [`portcullis_load::bench`].

use std::process::ExitCode;

use portcullis_load::{bench, init_tracing};

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    bench::cli(std::env::args_os()).await
}
