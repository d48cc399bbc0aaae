//! `portcullis run`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, Profile};

/// Options of `portcullis run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Folder of YAML resources (watched; changes apply without a restart).
    #[arg(long)]
    resources: PathBuf,
    /// Start an echo backend for every Service that has no endpoints.
    #[arg(long)]
    echo_backends: bool,
    /// Write the listener addresses as JSON here once everything is programmed.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Use State-of-the-World xDS instead of Delta.
    #[arg(long)]
    sotw: bool,
    /// Envoy's log level.
    #[arg(long, default_value = "warning")]
    envoy_log_level: String,
    /// Keep rate-limit counters in this Redis (`redis://host:port`), shared with every gateway
    /// that uses it; in memory when not given.
    #[arg(long)]
    redis: Option<String>,
    /// Serve GatewayClasses with this `spec.controllerName`.
    #[arg(long, default_value = portcullis_model::CONTROLLER_NAME)]
    controller_name: String,
    /// Imitate an install: `apk` adds WSO2 APK 1.x's GatewayClass and Gateway
    /// (`apk/wso2-apk-default`, HTTPS on 9095 for `*.gw.wso2.com`, `api.am.wso2.com` and
    /// `idp.am.wso2.com`), the token endpoint, the backend-JWT JWKS and APK's controller name.
    #[arg(long, value_enum, default_value = "plain")]
    profile: ProfileArg,
}

/// The `--profile` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ProfileArg {
    /// Gateway API only.
    Plain,
    /// WSO2 APK 1.x.
    Apk,
}

/// Runs the gateway until interrupted.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.resources.is_dir(),
        "--resources {}: not a folder",
        args.resources.display()
    );
    let mut options = EmbeddedOptions::new(args.resources.clone());
    options.echo_backends = args.echo_backends;
    options.delta = !args.sotw;
    options.envoy_log_level = args.envoy_log_level;
    options.controller_name = args.controller_name;
    options.redis_url = args.redis;
    options.profile = match args.profile {
        ProfileArg::Plain => Profile::Plain,
        ProfileArg::Apk => Profile::Apk,
    };
    let gateway = EmbeddedGateway::start(options)
        .await
        .context("starting the gateway")?;
    let view = gateway.view();
    for error in &view.errors {
        eprintln!("error: {error}");
    }
    for l in &view.listeners {
        println!(
            "gateway {} listener {} port {} -> {}",
            l.gateway, l.listener, l.port, l.address
        );
    }
    if let Some(envoy) = gateway.envoy() {
        println!("envoy admin on http://{}", envoy.admin_address());
    }
    if let Some(path) = &args.ready_file {
        let ready = serde_json::json!({
            "listeners": view.listeners,
            "xds": gateway.xds_address().to_string(),
            "envoyAdmin": gateway.envoy().map(|e| e.admin_address().to_string()),
            "echoBackends": view.echo_backends,
        });
        let partial = path.with_extension("partial");
        std::fs::write(&partial, serde_json::to_vec_pretty(&ready)?)?;
        std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("ready; press Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    gateway.shutdown().await?;
    Ok(())
}
