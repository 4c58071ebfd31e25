//! `haechi deadletter`: what could not be parsed, where it came from, and why.

use super::{load_config, open_store_read_only};
use crate::DataDirArg;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DeadletterArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print one JSON object per line (with the record itself).
    #[arg(long)]
    pub json: bool,
    /// At most this many, newest last.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

pub fn run(args: DeadletterArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    let store = open_store_read_only(&config)?;
    let letters = store.dead_letters()?;
    let skip = letters.len().saturating_sub(args.limit);
    for l in &letters[skip..] {
        if args.json {
            println!("{}", serde_json::to_string(l)?);
        } else {
            println!(
                "{} {} {} [{}] {}",
                l.received, l.tenant, l.source, l.format, l.reason
            );
        }
    }
    if !args.json {
        println!(
            "-- {} of {} dead letters",
            letters.len() - skip,
            letters.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
