//! `haechi alerts`: the alerts detection raised, newest first, from the state store
//! (works beside a running `haechi serve`).

use super::load_config;
use crate::DataDirArg;
use haechi_event::{AlertSource, Level};
use haechi_store::state::{AlertFilter, AlertStore};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct AlertsArgs {
    /// Only this institution's alerts.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only alerts at or above this level: informational, low, medium, high, critical.
    #[arg(long, default_value = "informational")]
    pub min_level: String,
    /// Only alerts of this origin: sigma, correlation, indicator, model, device.
    #[arg(long)]
    pub source: Option<String>,
    /// Only alerts of this rule id.
    #[arg(long)]
    pub rule_id: Option<String>,
    /// Only alerts whose last event is at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// How many alerts at most.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON object per alert.
    #[arg(long)]
    pub json: bool,
    /// A configuration file (for `data_dir`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data_dir: DataDirArg,
}

pub fn run(args: AlertsArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    let filter = AlertFilter {
        tenant: args.tenant,
        min_level: Level::parse(&args.min_level).ok_or_else(|| {
            anyhow::anyhow!(
                "--min-level '{}': use informational, low, medium, high or critical",
                args.min_level
            )
        })?,
        source: match args.source.as_deref() {
            None => None,
            Some(s) => Some(AlertSource::parse(s).ok_or_else(|| {
                anyhow::anyhow!(
                    "--source '{s}': use sigma, correlation, indicator, model or device"
                )
            })?),
        },
        rule_id: args.rule_id,
        since: match args.since.as_deref() {
            None => None,
            Some(s) => Some(
                haechi_event::parse_rfc3339(s)
                    .ok_or_else(|| anyhow::anyhow!("--since '{s}' is not an RFC 3339 time"))?,
            ),
        },
        limit: args.limit,
        ..AlertFilter::default()
    };
    let store =
        AlertStore::open_read_only(&config.state_db()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let alerts = store.list(&filter).map_err(|e| anyhow::anyhow!("{e}"))?;
    for a in &alerts {
        if args.json {
            println!("{}", serde_json::to_string(a)?);
        } else {
            println!(
                "{}  {:<13} {:<8} x{:<5} {:<24} {}  [{}] {}",
                a.last_seen.to_rfc3339(),
                a.level.as_str(),
                a.tenant,
                a.count,
                a.entity,
                a.rule_title,
                a.source.as_str(),
                a.rule_id
            );
        }
    }
    if !args.json {
        eprintln!("{} alerts", alerts.len());
    }
    Ok(ExitCode::SUCCESS)
}
