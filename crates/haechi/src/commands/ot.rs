//! `haechi ot learn` and `haechi ot check`: the OT behaviour model from the command line.
//! `learn` reads a facility's baseline logs (Zeek ICS logs of a normal period) into an
//! allow-list file an engineer can review and edit; `check` judges other logs against it
//! and prints what breaks it. `haechi serve` applies the same file on the stream
//! (`detect.ot_allowlist`).

use haechi_detect::ot::Allowlist;
use haechi_event::Event;
use haechi_ingest::{Format, ParseContext};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct OtArgs {
    #[command(subcommand)]
    pub command: OtCommand,
}

#[derive(clap::Subcommand)]
pub enum OtCommand {
    /// Learn (or extend, with --add) an allow-list from baseline logs of one institution.
    Learn {
        /// The institution (facility) the logs belong to.
        #[arg(long)]
        tenant: String,
        /// The allow-list file to write (JSON).
        #[arg(long)]
        out: PathBuf,
        /// Add to the existing file instead of replacing it.
        #[arg(long)]
        add: bool,
        /// The format of the files (default: auto).
        #[arg(long, default_value = "auto")]
        format: Format,
        /// Baseline log files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Judge logs of one institution against an allow-list; prints one finding per line.
    Check {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        allowlist: PathBuf,
        #[arg(long, default_value = "auto")]
        format: Format,
        /// One JSON alert per line.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

pub fn run(args: OtArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        OtCommand::Learn {
            tenant,
            out,
            add,
            format,
            paths,
        } => {
            let mut list = if add && out.exists() {
                load_allowlist(&out)?
            } else {
                Allowlist::default()
            };
            let events = read_events(&paths, format, &tenant)?;
            list.learn(&events);
            list.learned_from = format!(
                "{} ICS records of {} (haechi ot learn)",
                events
                    .iter()
                    .filter(|e| e.get("ics.protocol").is_some())
                    .count(),
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            std::fs::write(&out, serde_json::to_string_pretty(&list)?)?;
            println!(
                "{} conversations learned into {}",
                list.pairs(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        OtCommand::Check {
            tenant,
            allowlist,
            format,
            json,
            paths,
        } => {
            let list = load_allowlist(&allowlist)?;
            let events = read_events(&paths, format, &tenant)?;
            let mut findings = 0;
            for (i, e) in events.iter().enumerate() {
                if let Some(alert) = list.check(e, &format!("record-{}", i + 1)) {
                    findings += 1;
                    if json {
                        println!("{}", serde_json::to_string(&alert)?);
                    } else {
                        println!(
                            "{} {} {} {}",
                            alert.last_seen,
                            alert.level.as_str(),
                            alert.rule_id,
                            alert.rule_title
                        );
                    }
                }
            }
            if !json {
                println!("-- {findings} findings in {} records", events.len());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An allow-list file, with its path in the error.
pub fn load_allowlist(path: &Path) -> anyhow::Result<Allowlist> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the OT allow-list {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not an OT allow-list: {e}", path.display()))
}

fn read_events(paths: &[PathBuf], format: Format, tenant: &str) -> anyhow::Result<Vec<Event>> {
    let ctx = ParseContext::new(tenant);
    let mut events = Vec::new();
    for file in super::ingest::collect_files(paths)? {
        haechi_ingest::reader::read_file(
            &file,
            format,
            &ctx,
            None,
            haechi_ingest::reader::Limits::default(),
            false,
            &mut |batch| {
                events.extend(batch.events);
                Ok(())
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(events)
}
