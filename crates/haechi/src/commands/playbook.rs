//! `haechi playbook`: check a playbook directory, and show what a playbook would do for
//! a stored alert without doing it (`dry-run`).

use super::load_config;
use haechi_store::state::AlertStore;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct PlaybookArgs {
    #[command(subcommand)]
    command: PlaybookCommand,
    /// A configuration file (for `data_dir`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum PlaybookCommand {
    /// Load every playbook of DIR and report what loads and what does not (exit 1 if any
    /// does not).
    Check { dir: PathBuf },
    /// Print what the playbooks of DIR would do for stored alert ID (trigger and planned
    /// actions), changing nothing.
    DryRun {
        dir: PathBuf,
        #[arg(long)]
        alert: i64,
    },
}

pub fn run(args: PlaybookArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PlaybookCommand::Check { dir } => {
            let (good, bad) = haechi_respond::load_dir(&dir)?;
            for p in &good {
                println!(
                    "ok      {:<32} {:<8} {} action(s){}",
                    p.id,
                    if p.mode == haechi_respond::Mode::Approval {
                        "approval"
                    } else {
                        "auto"
                    },
                    p.actions.len(),
                    if p.enabled { "" } else { " (disabled)" }
                );
            }
            for e in &bad {
                println!("invalid {e}");
            }
            println!("{} playbooks loaded, {} not loaded", good.len(), bad.len());
            Ok(if bad.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PlaybookCommand::DryRun { dir, alert } => {
            let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
            let store = AlertStore::open_read_only(&config.state_db())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let alert = store
                .get(alert, None)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("no alert {alert}"))?;
            let (good, bad) = haechi_respond::load_dir(&dir)?;
            for e in &bad {
                eprintln!("invalid {e}");
            }
            for p in &good {
                let matches = p.trigger.matches(&alert);
                println!(
                    "playbook {}: trigger {}",
                    p.id,
                    if matches { "matches" } else { "does not match" }
                );
                if !matches {
                    continue;
                }
                match haechi_respond::plan(p, &alert) {
                    Ok(actions) => {
                        for a in actions {
                            println!("  would {}", serde_json::to_string(&a)?);
                        }
                    }
                    Err(why) => println!("  cannot run: {why}"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
