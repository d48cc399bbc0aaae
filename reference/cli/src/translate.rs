//! `portcullis translate`: offline, no Envoy, no network.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use portcullis_model::{Snapshot, load_dir};
use portcullis_translate::{PortMap, TranslateInput, translate as run_translation};

/// What to print.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Output {
    /// Every status condition as a table.
    Status,
    /// The intermediate representation, as YAML.
    Ir,
    /// The Envoy resources, as YAML.
    Xds,
}

/// Options of `portcullis translate`.
#[derive(Args, Debug)]
pub struct TranslateArgs {
    /// Folder of YAML resources.
    #[arg(long)]
    resources: PathBuf,
    /// What to print.
    #[arg(short, long, value_enum, default_value = "status")]
    output: Output,
    /// Serve GatewayClasses with this `spec.controllerName`.
    #[arg(long, default_value = portcullis_model::CONTROLLER_NAME)]
    controller_name: String,
}

/// Prints what the gateway would do. Exits with an error when a file could not be read or
/// parsed, so CI can gate on it.
pub fn translate(args: TranslateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.resources.is_dir(),
        "--resources {}: not a folder",
        args.resources.display()
    );
    let report = load_dir(&args.resources);
    for skipped in &report.skipped {
        eprintln!(
            "skipped: {} {} ({}): not a kind portcullis serves",
            skipped.kind, skipped.name, skipped.source
        );
    }
    let (snapshot, load_errors) = Snapshot::from_report(&report);
    let errors: Vec<String> = load_errors.iter().map(ToString::to_string).collect();
    for error in &errors {
        eprintln!("error: {error}");
    }
    let port_map = PortMap::new();
    let translation = run_translation(&TranslateInput {
        snapshot: &snapshot,
        controller_name: &args.controller_name,
        also_serves: None,
        port_map: &port_map,
    });
    match args.output {
        Output::Status => print!("{}", status_table(&translation.statuses)),
        Output::Ir => print!("{}", serde_yaml::to_string(&translation.ir)?),
        Output::Xds => {
            let mut out = serde_yaml::Mapping::new();
            for (type_url, resources) in &translation.xds {
                let mut list = Vec::new();
                for any in resources.values() {
                    list.push(serde_yaml::to_value(portcullis_proto_json::any_to_json(any)?)?);
                }
                let short = type_url.rsplit('.').next().unwrap_or(type_url).to_string();
                out.insert(
                    serde_yaml::Value::String(short),
                    serde_yaml::Value::Sequence(list),
                );
            }
            print!("{}", serde_yaml::to_string(&out)?);
        }
    }
    anyhow::ensure!(errors.is_empty(), "{} resource errors", errors.len());
    Ok(())
}

fn status_table(statuses: &portcullis_translate::Statuses) -> String {
    let rows = statuses.rows();
    let width = rows.iter().map(|r| r.object.len()).max().unwrap_or(6).max(6);
    let mut out = format!(
        "{:<width$}  {:<12}  {:<6}  {:<26}  message\n",
        "object", "condition", "status", "reason"
    );
    for r in rows {
        let c = &r.condition;
        out.push_str(&format!(
            "{:<width$}  {:<12}  {:<6}  {:<26}  {}\n",
            r.object, c.type_, c.status, c.reason, c.message
        ));
    }
    out
}
