//! `bench-auth`: what authenticating a request costs through Envoy, in one run.
//!
//! Through real Envoys (the same binary) to the same echo backend:
//!
//! 1. the embedded gateway's Envoy, a plain HTTPRoute: no auth;
//! 2. a second, static Envoy started by the bench, router only: no auth (a control, so the
//!    two Envoys' own difference shows);
//! 3. the static Envoy with Envoy's native `jwt_authn` filter, its provider holding the
//!    built-in IdP's JWKS inline; every request carries the same token;
//! 4. the gateway's Envoy, an APK API on a plain-HTTP Gateway with APK's default
//!    Authentication (OAuth2, mandatory): ext_authz to portcullis's enforcer; the same token;
//! 5. as (3), each user cycling through its share of `--fresh-tokens` distinct tokens;
//! 6. as (4), with those tokens;
//! 7. the static Envoy with `ext_authz` to a service that answers at once
//!    ([`crate::bench::noop`]), the same token: the floor of any ext_authz enforcer, so the
//!    report tells the price of the call from the price of portcullis's checks.
//!
//! The fresh tokens outnumber the enforcer's validated-token cache, and each user's share
//! outnumbers jwt_authn's per-worker cache, so (5) and (6) pay a signature check on (nearly)
//! every request where (3) and (4) show the caches. The seven alternate `--repeats` times; each
//! run is `--users` keep-alive connections ([`http::attack`]). Any answer but a 2xx fails the
//! run; the p99 target (the enforcer within 1.3× of jwt_authn) is reported, never failed on.

pub mod jwt_envoy;
pub mod report;
pub mod resources;

use crate::bench::command;
use crate::bench::cpu::Processes;
use crate::bench::http::{self, HttpTarget, Refusals, bearer};
use crate::bench::noop;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench::report::thousands;
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use hyper::header::HeaderValue;
use portcullis_operator::profile::APK_TEST_CLIENT_ID;
use portcullis_operator::{EmbeddedGateway, EmbeddedOptions, PortPolicy, Profile};

use jwt_envoy::{JwtEnvoyConfig, StaticEnvoy};
pub use report::{AuthReport, Configuration, Machine, Sample, Settings};

/// The name of the binary.
pub const COMMAND: &str = "bench-auth";

/// The files written, in `--out-dir`.
pub const REPORT_FILES: [&str; 2] = ["bench-auth.md", "bench-auth.json"];

/// The command line.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "bench-auth",
    about = "Benchmark authentication through a real Envoy: no auth, Envoy's jwt_authn, and \
             portcullis's enforcer on the same JWT-protected route",
    long_about = "Benchmark authentication through a real Envoy, in one run: (1) no auth on the \
                  embedded gateway, (2) no auth on a static Envoy (control), (3) Envoy's native \
                  jwt_authn on that static Envoy, (4) an APK API on the embedded gateway \
                  (ext_authz to the enforcer), each with one token for every request; then (5) \
                  and (6) as (3) and (4) with fresh tokens; (7) ext_authz to a no-op service on the \
                  static Envoy (the floor of the protocol). Alternated 1..7, 1..7, … Prints a \
                  Markdown table and writes it, with JSON, to OUT_DIR/bench-auth.{md,json}. \
                  Fails if any request got anything but a 2xx.",
    disable_version_flag = true
)]
pub struct AuthOptions {
    /// Concurrent users (keep-alive connections) per run
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    /// Measured seconds per run
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Runs of each configuration
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Seconds of load before each run's measurement starts (not counted)
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Distinct tokens of the fresh-token runs [default: 1.2 × the enforcer's token cache]
    #[arg(long)]
    pub fresh_tokens: Option<usize>,
    /// jwt_authn's jwt_cache_size per worker (0: no cache config, the cache is off)
    #[arg(long, default_value_t = 100)]
    pub jwt_cache_size: u32,
    /// Where the reports go
    #[arg(long, default_value = "reports")]
    pub out_dir: PathBuf,
    /// Envoy's log level (both Envoys)
    #[arg(long, value_name = "LEVEL", default_value = "warning")]
    pub envoy_log_level: String,
}

impl AuthOptions {
    /// Parses `args` (the program name first).
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::try_parse_from(args)
    }

    fn check(&self) -> Result<()> {
        if !(1..=10_000).contains(&self.users) {
            bail!("--users must be 1 to 10000, not {}", self.users);
        }
        if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
            bail!(
                "--seconds must be more than 0 and at most 3600, not {}",
                self.seconds
            );
        }
        if !(self.warmup >= 0.0 && self.warmup <= 600.0) {
            bail!("--warmup must be 0 to 600, not {}", self.warmup);
        }
        if !(1..=100).contains(&self.repeats) {
            bail!("--repeats must be 1 to 100, not {}", self.repeats);
        }
        if !(1..=1_000_000).contains(&self.fresh_tokens()) {
            bail!("--fresh-tokens must be 1 to 1000000");
        }
        Ok(())
    }

    /// The enforcer's validated-token cache capacity (the embedded gateway uses the defaults).
    fn enforcer_cache_capacity() -> usize {
        portcullis_enforcer::ValidationOptions::default().token_cache_capacity
    }

    fn fresh_tokens(&self) -> usize {
        self.fresh_tokens
            .unwrap_or_else(|| Self::enforcer_cache_capacity() / 5 * 6)
    }

    fn jwt_cache_size(&self) -> Option<u32> {
        (self.jwt_cache_size > 0).then_some(self.jwt_cache_size)
    }
}

/// Runs the benchmark and returns its report; does not write it. An `Err` means it could not
/// run (Envoy or the gateway did not start, a route answered wrongly before the first run);
/// failed requests during the runs end up in [`AuthReport::problems`].
pub async fn run(options: &AuthOptions) -> Result<AuthReport> {
    options.check()?;
    let (binary, version) = tokio::task::spawn_blocking(|| {
        portcullis_envoy::resolve_envoy().and_then(|(binary, _)| {
            let version = portcullis_envoy::envoy_version(&binary)?;
            Ok((binary, version))
        })
    })
    .await
    .context("resolving Envoy")??;
    let machine = Machine::this(version);

    let folder = tempfile::Builder::new()
        .prefix("portcullis-bench-auth-")
        .tempdir()
        .context("creating a resource folder")?;
    std::fs::write(folder.path().join(resources::FILE_NAME), resources::YAML)
        .context("writing the resources")?;
    let mut embedded = EmbeddedOptions::new(folder.path().to_path_buf());
    embedded.profile = Profile::Apk;
    embedded.echo_backends = true;
    embedded.port_policy = PortPolicy::AlwaysFree;
    embedded.envoy_log_level = options.envoy_log_level.clone();
    // The folder is ours and never changes; a reload would also reset the IdP's clients.
    embedded.watch = false;
    let gateway = EmbeddedGateway::start(embedded)
        .await
        .context("starting the embedded gateway")?;
    let result = with_gateway(options, &gateway, &binary, machine).await;
    if let Err(error) = gateway.shutdown().await {
        eprintln!("{COMMAND}: stopping the gateway: {error}");
    }
    result
}

async fn with_gateway(
    options: &AuthOptions,
    gateway: &EmbeddedGateway,
    binary: &Path,
    machine: Machine,
) -> Result<AuthReport> {
    resources::check(gateway)?;
    let (name, port) = resources::GATEWAY;
    let listener = gateway
        .listener_address(name, port)
        .with_context(|| format!("Gateway {name} has no listener on port {port}"))?;
    let echo = *gateway
        .view()
        .echo_backends
        .get(resources::ECHO_SERVICE)
        .with_context(|| format!("no echo backend for {}", resources::ECHO_SERVICE))?;
    let idp = gateway.idp().context("the APK profile has no IdP")?.clone();

    let started = Instant::now();
    let (one, fresh) = mint(&idp, options.fresh_tokens()).await?;
    let mint_seconds = started.elapsed().as_secs_f64();
    let forged = forged(&idp)?;
    eprintln!(
        "{COMMAND}: minted {} tokens in {mint_seconds:.1} s; gateway on {listener}, echo on {echo}",
        thousands(fresh.len() as f64 + 1.0)
    );

    let authorizer = noop::NoopService::start(noop::NoopKind::Authorizer).await?;
    let config = JwtEnvoyConfig {
        issuer: idp.config().issuer.clone(),
        jwks: idp.jwks(),
        backend: echo,
        jwt_cache_size: options.jwt_cache_size(),
        secured: jwt_envoy::free_loopback()?,
        open: jwt_envoy::free_loopback()?,
        floor: jwt_envoy::free_loopback()?,
        authorizer: authorizer.address(),
    };
    let envoy = StaticEnvoy::start(binary, &jwt_envoy::bootstrap(&config), &options.envoy_log_level).await;
    let result = match envoy {
        Ok(envoy) => {
            eprintln!(
                "{COMMAND}: jwt_authn Envoy on {} (open: {}, ext_authz to a no-op service: {})",
                config.secured, config.open, config.floor
            );
            let tokens = Tokens { one, fresh, forged };
            let result = measure(options, gateway, &envoy, &config, listener, tokens).await;
            let result =
                result.map_err(|e| e.context(format!("jwt_authn Envoy's log:\n{}", envoy.log_tail())));
            if let Err(error) = envoy.stop().await {
                eprintln!("{COMMAND}: {error:#}");
            }
            result
        }
        Err(error) => Err(error),
    };
    authorizer.stop().await;
    let (samples, order) = result?;
    let settings = Settings {
        users: options.users,
        seconds: options.seconds,
        warmup_seconds: options.warmup,
        repeats: options.repeats,
        fresh_tokens: options.fresh_tokens(),
        mint_seconds,
        enforcer_cache_capacity: AuthOptions::enforcer_cache_capacity(),
        jwt_cache_size: options.jwt_cache_size(),
        order,
    };
    Ok(AuthReport::new(machine, settings, samples, Vec::new()))
}

/// One token, and `count` others, from the APK test client, minted on every CPU.
async fn mint(
    idp: &Arc<portcullis_idp::Idp>,
    count: usize,
) -> Result<(Arc<Vec<HeaderValue>>, Arc<Vec<HeaderValue>>)> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per = count.div_ceil(threads);
    let mut tasks = Vec::new();
    for thread in 0..threads {
        let idp = idp.clone();
        let n = per.min(count.saturating_sub(thread * per));
        tasks.push(tokio::task::spawn_blocking(move || {
            (0..n)
                .map(|_| {
                    let token = idp
                        .issue_token(APK_TEST_CLIENT_ID, Vec::<String>::new())
                        .map_err(|e| anyhow!("issuing a token to {APK_TEST_CLIENT_ID}: {e}"))?;
                    bearer(&token.access_token)
                })
                .collect::<Result<Vec<_>>>()
        }));
    }
    let mut fresh = Vec::with_capacity(count);
    for task in tasks {
        fresh.extend(task.await.context("minting tokens")??);
    }
    let one = idp
        .issue_token(APK_TEST_CLIENT_ID, Vec::<String>::new())
        .map_err(|e| anyhow!("issuing a token to {APK_TEST_CLIENT_ID}: {e}"))?;
    Ok((Arc::new(vec![bearer(&one.access_token)?]), Arc::new(fresh)))
}

/// A token of the same issuer and client, signed by a key of its own: every auth path must
/// refuse it (so a 200 shows the signature was checked).
fn forged(idp: &portcullis_idp::Idp) -> Result<HeaderValue> {
    let stranger =
        portcullis_idp::Idp::new(idp.config().clone()).map_err(|e| anyhow!("a second IdP: {e}"))?;
    stranger.set_clients(vec![portcullis_idp::OAuthClient::new(
        APK_TEST_CLIENT_ID,
        "forged",
    )]);
    let token = stranger
        .issue_token(APK_TEST_CLIENT_ID, Vec::<String>::new())
        .map_err(|e| anyhow!("forging a token: {e}"))?;
    bearer(&token.access_token)
}

/// The tokens of the runs and the probes.
struct Tokens {
    one: Arc<Vec<HeaderValue>>,
    fresh: Arc<Vec<HeaderValue>>,
    forged: HeaderValue,
}

type Samples = BTreeMap<Configuration, Vec<Sample>>;

/// Checks every target, then runs the seven in turn, `repeats` times.
async fn measure(
    options: &AuthOptions,
    gateway: &EmbeddedGateway,
    envoy: &StaticEnvoy,
    config: &JwtEnvoyConfig,
    listener: std::net::SocketAddr,
    tokens: Tokens,
) -> Result<(Samples, String)> {
    let Tokens { one, fresh, forged } = tokens;
    let target = |address, host, tokens: &Arc<Vec<HeaderValue>>| {
        HttpTarget::new(address, host, resources::PATH).with_tokens(tokens.clone())
    };
    let none = Arc::new(Vec::new());
    // (configuration, target, the status of a request without a token)
    let runs = [
        (
            Configuration::NoAuth,
            target(listener, resources::OPEN_HOST, &none),
            200,
        ),
        (
            Configuration::StaticNoAuth,
            target(config.open, resources::OPEN_HOST, &none),
            200,
        ),
        (
            Configuration::JwtAuthnOneToken,
            target(config.secured, resources::SECURED_HOST, &one),
            401,
        ),
        (
            Configuration::EnforcerOneToken,
            target(listener, resources::SECURED_HOST, &one),
            401,
        ),
        (
            Configuration::JwtAuthnFresh,
            target(config.secured, resources::SECURED_HOST, &fresh),
            401,
        ),
        (
            Configuration::EnforcerFresh,
            target(listener, resources::SECURED_HOST, &fresh),
            401,
        ),
        // The no-op service only looks for a credential, so a forged token passes.
        (
            Configuration::ExtAuthzFloor,
            target(config.floor, resources::SECURED_HOST, &one),
            401,
        ),
    ];
    for (configuration, target, without) in &runs {
        let checks_tokens = !target.tokens.is_empty() && *configuration != Configuration::ExtAuthzFloor;
        let refusals = Refusals {
            without_token: Some(*without),
            forged: checks_tokens.then(|| forged.clone()),
        };
        http::probe(target, &refusals)
            .await
            .with_context(|| format!("checking ({}) {}", configuration.number(), configuration.label()))?;
    }
    eprintln!(
        "{COMMAND}: every route answers: 200 without auth; 401 without a token or with a forged one \
         (the no-op ext_authz: without a credential), 200 with one"
    );
    let envoys: Vec<u32> = [gateway.envoy().and_then(|e| e.pid()), envoy.pid()]
        .into_iter()
        .flatten()
        .collect();
    let mut samples = Samples::new();
    for repeat in 1..=options.repeats {
        for (configuration, target, _) in &runs {
            let (tally, cpu) = http::attack(
                target,
                options.users,
                Duration::from_secs_f64(options.warmup),
                Duration::from_secs_f64(options.seconds),
                Processes::envoys(envoys.clone()),
            )
            .await
            .with_context(|| {
                format!(
                    "running ({}) {}, repeat {repeat}",
                    configuration.number(),
                    configuration.label()
                )
            })?;
            let sample = Sample::new(repeat, tally, cpu);
            eprintln!(
                "{COMMAND}: ({}) {}, repeat {repeat}/{}: {} req/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, {} failed",
                configuration.number(),
                configuration.label(),
                options.repeats,
                thousands(sample.per_second),
                sample.p50_ms,
                sample.p99_ms,
                sample.p999_ms,
                sample.failures,
            );
            samples.entry(*configuration).or_default().push(sample);
        }
    }
    Ok((samples, format!("(1)–(7) alternated ×{}", options.repeats)))
}

/// Writes the report's Markdown and JSON files into `dir` (created if need be); returns
/// their paths.
pub fn write(report: &AuthReport, dir: &Path) -> Result<Vec<PathBuf>> {
    command::write_files(report, dir, REPORT_FILES)
}

/// The whole command: parse `args` (program name first), run, print the table, write the
/// reports. Fails if the benchmark could not run or any request failed.
pub async fn cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    command::run_command(
        COMMAND,
        || AuthOptions::try_parse_args(args),
        |options| options.out_dir.clone(),
        REPORT_FILES,
        |options| async move { run(&options).await },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<AuthOptions, clap::Error> {
        AuthOptions::try_parse_args(std::iter::once(COMMAND).chain(args.iter().copied()))
    }

    #[test]
    fn defaults_outnumber_the_enforcers_cache() -> Result<()> {
        let options = parse(&[])?;
        assert_eq!((options.users, options.seconds, options.repeats), (20, 5.0, 3));
        assert!(options.fresh_tokens() > AuthOptions::enforcer_cache_capacity());
        assert_eq!(options.jwt_cache_size(), Some(100));
        options.check()?;
        let options = parse(&["--fresh-tokens", "50", "--jwt-cache-size", "0", "--warmup", "0"])?;
        assert_eq!((options.fresh_tokens(), options.jwt_cache_size()), (50, None));
        options.check()?;
        Ok(())
    }

    /// The whole benchmark, tiny: both Envoys, the gateway, every route checked (a forged
    /// token refused), seven configurations measured without a failed request.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tiny_benchmark_measures_all_seven_without_failures() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("reports");
        let out = out.to_string_lossy();
        let options = parse(&[
            "--users",
            "2",
            "--seconds",
            "0.5",
            "--repeats",
            "1",
            "--warmup",
            "0.2",
            "--fresh-tokens",
            "40",
            "--out-dir",
            &out,
        ])?;
        let report = tokio::time::timeout(Duration::from_secs(180), run(&options))
            .await
            .context("the benchmark did not end within 180 s")??;
        let markdown = report.markdown();
        assert!(report.ok(), "{:?}\n{markdown}", report.problems);
        let numbers: Vec<usize> = report.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7]);
        for row in &report.rows {
            assert!(row.requests > 0 && row.failures == 0, "{}", row.label);
            assert_eq!(
                row.samples[0].outcomes.keys().collect::<Vec<_>>(),
                ["200"],
                "{}",
                row.label
            );
        }
        assert!(report.rows[3].p99_vs_jwt_authn.is_some());
        assert_eq!(report.targets.len(), 2);
        let files = write(&report, dir.path())?;
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[1])?)?;
        assert_eq!(json["rows"].as_array().map(Vec::len), Some(7));
        Ok(())
    }

    #[test]
    fn nonsense_is_refused() -> Result<()> {
        assert!(parse(&["--users", "0"])?.check().is_err());
        assert!(parse(&["--seconds", "NaN"])?.check().is_err());
        assert!(parse(&["--repeats", "0"])?.check().is_err());
        assert!(parse(&["--fresh-tokens", "0"])?.check().is_err());
        assert!(parse(&["--grpc-tasks", "4"]).is_err());
        Ok(())
    }
}
