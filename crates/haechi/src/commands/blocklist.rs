//! `haechi blocklist`: the block lists firewalls pull, from the command line — add,
//! remove, list, and export (plain, JSON, an nftables script, a DNS response policy
//! zone, or Safe-Browsing-style hash prefixes). Works beside a running
//! server; changes are audited as `cli:<login name>`.

use super::access::{audited, cli_actor};
use super::load_config;
use anyhow::Context;
use haechi_access::{AccessStore, AuditEntry};
use haechi_event::Timestamp;
use haechi_store::state::AlertStore;
use haechi_store::state::blocklists::nftables_script;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BlocklistArgs {
    #[command(subcommand)]
    command: BlocklistCommand,
    /// A configuration file (for `data_dir`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum BlocklistCommand {
    /// Add (or renew) an IP address, network (CIDR) or domain.
    Add {
        name: String,
        value: String,
        #[arg(long, default_value = "")]
        reason: String,
        /// Hours until the entry expires (default: never).
        #[arg(long)]
        expires_hours: Option<u32>,
        /// Only for this institution's firewalls (default: every institution).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Remove an entry.
    Remove { name: String, value: String },
    /// List the lists, or the live entries of one.
    List { name: Option<String> },
    /// Write a list's live entries: `plain` (one per line), `json`, `nftables` (sets
    /// `NAME_v4` and `NAME_v6` in table `inet haechi`, for `nft -f`), `rpz` (a DNS
    /// response policy zone for resolvers) or `sha256` (the 4-byte SHA-256 prefixes of
    /// `DOMAIN/`, Safe Browsing style).
    Export {
        name: String,
        #[arg(long, default_value = "plain")]
        format: String,
        /// The entries an institution's firewall gets (center-wide plus its own).
        #[arg(long)]
        tenant: Option<String>,
    },
}

pub fn run(args: BlocklistArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
    let path = config.state_db();
    let store = AlertStore::open(&path, std::time::Duration::from_secs(600))
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let audit = || -> anyhow::Result<AccessStore> {
        let p = AccessStore::path_in(&config.data_dir);
        AccessStore::open(&p).with_context(|| format!("cannot open {}", p.display()))
    };
    let actor = cli_actor();
    match args.command {
        BlocklistCommand::Add {
            name,
            value,
            reason,
            expires_hours,
            tenant,
        } => {
            if let Some(t) = &tenant {
                anyhow::ensure!(
                    haechi_server::valid_tenant(t),
                    "--tenant '{t}' is not a valid id"
                );
            }
            let expires = expires_hours
                .map(|h| Timestamp(Timestamp::now().0 + i64::from(h) * 3_600_000_000_000));
            let (before, after) = audited(
                &audit()?,
                "blocklist.add",
                &format!("blocklist:{name}:{value}"),
                || {
                    let (before, after) = store
                        .block(&name, &value, tenant.as_deref(), &reason, &actor, expires)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let entry = AuditEntry::new(
                        &actor,
                        "blocklist.add",
                        format!("blocklist:{name}:{}", after.value),
                    )
                    .before(json!(before))
                    .after(json!(after));
                    Ok(((before, after), entry))
                },
            )?;
            println!(
                "{} {} in block list {name}{}",
                if before.is_some() { "renewed" } else { "added" },
                after.value,
                after
                    .expires
                    .map(|e| format!(" until {}", e.to_rfc3339()))
                    .unwrap_or_default()
            );
        }
        BlocklistCommand::Remove { name, value } => {
            let removed = audited(
                &audit()?,
                "blocklist.remove",
                &format!("blocklist:{name}:{value}"),
                || {
                    let removed = store
                        .unblock(&name, &value, None)
                        .map_err(|e| anyhow::anyhow!("{e}"))?
                        .with_context(|| format!("'{value}' is not in block list {name}"))?;
                    let entry = AuditEntry::new(
                        &actor,
                        "blocklist.remove",
                        format!("blocklist:{name}:{}", removed.value),
                    )
                    .before(json!(removed));
                    Ok((removed, entry))
                },
            )?;
            println!("removed {} from block list {name}", removed.value);
        }
        BlocklistCommand::List { name: None } => {
            for (name, n) in store.blocklists(None).map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{name:<32} {n} entries");
            }
        }
        BlocklistCommand::List { name: Some(name) } => {
            for e in store
                .blocklist(&name, None)
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                println!(
                    "{:<40} {:<7} {:<12} {:<26} {}",
                    e.value,
                    e.kind.as_str(),
                    e.tenant.as_deref().unwrap_or("(all)"),
                    e.expires
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "never".into()),
                    e.reason
                );
            }
        }
        BlocklistCommand::Export {
            name,
            format,
            tenant,
        } => {
            let entries = store
                .blocklist(&name, tenant.as_deref())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match format.as_str() {
                "plain" => entries.iter().for_each(|e| println!("{}", e.value)),
                "json" => println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({"name": name, "entries": entries}))?
                ),
                "nftables" => {
                    anyhow::ensure!(
                        haechi_store::state::blocklists::valid_list_name(&name),
                        "block list name '{name}' is not valid"
                    );
                    print!("{}", nftables_script(&name, &entries));
                }
                "rpz" => print!(
                    "{}",
                    haechi_store::state::blocklists::rpz_zone(&name, &entries)
                ),
                "sha256" => print!(
                    "{}",
                    haechi_store::state::blocklists::hash_list(&entries, None)
                ),
                other => {
                    anyhow::bail!("--format '{other}': use plain, json, nftables, rpz or sha256")
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
