//! `haechi rules`: Sigma rule sets.

use haechi_detect::rules::load_rules;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(clap::Subcommand)]
pub enum RulesCommand {
    /// Load rule files and directories as they are and report what loaded and what did not (with the reason).
    Check {
        /// Print one JSON object: total, loaded, failed, correlations, failures [{path, reason}].
        #[arg(long)]
        json: bool,
        /// Rule files or directories (read recursively: *.yml, *.yaml).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

pub fn run(args: RulesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        RulesCommand::Check { json, paths } => check(&paths, json),
    }
}

fn check(paths: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let set = load_rules(paths).map_err(|e| anyhow::anyhow!("cannot read the rules: {e}"))?;
    let loaded = set.rules.len() + set.correlations.len();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "total": set.total,
                "loaded": loaded,
                "failed": set.failures.len(),
                "correlations": set.correlations.len(),
                "failures": set.failures,
                "seconds": started.elapsed().as_secs_f64(),
            })
        );
    } else {
        for f in &set.failures {
            println!("FAILED {}: {}", f.path.display(), f.reason);
        }
        let share = if set.total > 0 {
            100.0 * loaded as f64 / set.total as f64
        } else {
            0.0
        };
        println!(
            "{loaded} of {} rules loaded ({share:.2}%), {} failed, {} correlation rules, in {:.2}s",
            set.total,
            set.failures.len(),
            set.correlations.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(if set.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
