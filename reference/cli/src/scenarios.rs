//! `portcullis scenarios`: turn other tools' test collections into harness features.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use portcullis_conformance::postman::import_collection;

/// Options of `portcullis scenarios`.
#[derive(Args, Debug)]
pub struct ScenariosArgs {
    #[command(subcommand)]
    command: ScenariosCommand,
}

#[derive(Subcommand, Debug)]
enum ScenariosCommand {
    /// Convert a Postman Collection v2.1 into a feature for the APK profile. Script lines the
    /// harness has no step for are kept as comments and reported on stderr.
    ImportPostman {
        /// The collection (JSON).
        file: PathBuf,
        /// Where to write the feature (default: stdout).
        #[arg(short, long, value_name = "OUT.feature")]
        output: Option<PathBuf>,
    },
}

/// Runs a `scenarios` subcommand.
pub fn scenarios(args: ScenariosArgs) -> anyhow::Result<()> {
    match args.command {
        ScenariosCommand::ImportPostman { file, output } => import_postman(&file, output.as_ref()),
    }
}

fn import_postman(file: &PathBuf, output: Option<&PathBuf>) -> anyhow::Result<()> {
    let json = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let imported = import_collection(&json).with_context(|| format!("importing {}", file.display()))?;
    match output {
        Some(path) => {
            std::fs::write(path, &imported.feature).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(imported.feature.as_bytes())?,
    }
    let mut stderr = std::io::stderr().lock();
    if !imported.unsupported.is_empty() {
        writeln!(
            stderr,
            "{} line(s) have no harness step and were kept as comments:",
            imported.unsupported.len()
        )?;
    }
    for line in &imported.unsupported {
        writeln!(stderr, "  {}: {}", line.request, line.line)?;
    }
    Ok(())
}
