//! `haechi intel`: the threat-intel feeds of the configuration.
//!
//! * `haechi intel check` loads every configured feed and reports, per feed, the entries
//!   read, the indicators taken per kind and the entries skipped per reason, then the
//!   size of the set.
//! * `haechi intel lookup VALUE...` says which feeds list each value (an address, a
//!   domain and its parents, a URL, a hash, an e-mail address).
//! * `haechi intel collection|import|list`: the STIX object store ([`super::intel_store`]).
//! * `haechi intel sync [--remote NAME]`: the partner TAXII servers ([`super::intel_sync`]).
//! * `haechi intel partner add|set|list|remove`: the TAXII hub's partners
//!   ([`super::intel_partner`]).

use super::load_config;
use crate::DataDirArg;
use haechi_ioc::{IndicatorValue, Observable};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct IntelArgs {
    #[command(subcommand)]
    pub command: IntelCommand,
}

#[derive(clap::Subcommand)]
pub enum IntelCommand {
    /// Load the configured feeds and report what each gave and skipped.
    Check {
        /// The configuration file with `[[intel.feeds]]`.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        data_dir: DataDirArg,
        /// One JSON object: indicators, bytes, feeds.
        #[arg(long)]
        json: bool,
    },
    /// Which configured feeds list these values.
    Lookup {
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        data_dir: DataDirArg,
        /// Addresses, domains, URLs, hashes or e-mail addresses.
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Collections of the STIX object store.
    #[command(subcommand)]
    Collection(super::intel_store::CollectionCommand),
    /// A collection's newest objects as one STIX 2.1 bundle.
    Export {
        #[arg(long)]
        collection: String,
        /// The most restrictive TLP exported (RED only when named).
        #[arg(long, default_value = "amber+strict")]
        tlp_max: String,
        /// Only objects of these types.
        #[arg(long = "type")]
        types: Vec<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// Run the sharing hub alone: `haechi serve` without syslog listeners (the TAXII
    /// server, the REST API and the console on the HTTP listener).
    Serve(super::serve::ServeArgs),
    /// Pull from and push to the partner TAXII servers of [[intel.remotes]] once.
    Sync {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only this remote.
        #[arg(long)]
        remote: Option<String>,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// Partner organisations of the TAXII sharing hub.
    #[command(subcommand)]
    Partner(super::intel_partner::PartnerCommand),
    /// Validate and store STIX 2.1 bundles (files or http(s) URLs) in a collection.
    Import {
        #[arg(long)]
        collection: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// A collection's objects as JSON lines (the newest version of each by default).
    List {
        #[arg(long)]
        collection: String,
        /// Only objects of these types.
        #[arg(long = "type")]
        types: Vec<String>,
        /// Every version, not only the newest.
        #[arg(long)]
        all_versions: bool,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
}

pub fn run(args: IntelArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        IntelCommand::Collection(c) => super::intel_store::collection(c),
        IntelCommand::Partner(c) => super::intel_partner::run(c),
        IntelCommand::Export {
            collection,
            tlp_max,
            types,
            out,
            data_dir,
        } => super::intel_store::export(&collection, &tlp_max, types, out, data_dir),
        IntelCommand::Serve(args) => super::serve::run_hub(args),
        IntelCommand::Sync {
            config,
            remote,
            data_dir,
        } => super::intel_sync::run(config, data_dir, remote),
        IntelCommand::Import {
            collection,
            files,
            data_dir,
        } => super::intel_store::import(&collection, &files, data_dir),
        IntelCommand::List {
            collection,
            types,
            all_versions,
            limit,
            data_dir,
        } => super::intel_store::list(&collection, types, all_versions, limit, data_dir),
        IntelCommand::Check {
            config,
            data_dir,
            json,
        } => {
            let config = load_config(config.as_deref(), data_dir.data_dir)?;
            let started = std::time::Instant::now();
            let (set, feeds) = crate::detection::load_indicators(&config.intel)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"indicators": set.len(), "bytes": set.memory_bytes(), "feeds": feeds, "seconds": started.elapsed().as_secs_f64()})
                );
            } else {
                for f in &feeds {
                    println!("{f}");
                }
                println!(
                    "{} indicators from {} feeds, {} KiB, in {:.2}s",
                    set.len(),
                    feeds.len(),
                    set.memory_bytes() >> 10,
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        IntelCommand::Lookup {
            config,
            data_dir,
            values,
        } => {
            let config = load_config(config.as_deref(), data_dir.data_dir)?;
            let (set, _) = crate::detection::load_indicators(&config.intel)?;
            let mut found_any = false;
            for value in &values {
                let observable = match IndicatorValue::detect(value) {
                    Ok(IndicatorValue::Ip(ip)) => Observable::Ip(ip),
                    Ok(IndicatorValue::IpPort(a)) => Observable::IpPort(a.ip(), a.port()),
                    Ok(IndicatorValue::Domain(_)) => Observable::Domain(value),
                    Ok(IndicatorValue::Url(_)) => Observable::Url(value),
                    Ok(IndicatorValue::Email(_)) => Observable::Email(value),
                    Ok(
                        IndicatorValue::Md5(_)
                        | IndicatorValue::Sha1(_)
                        | IndicatorValue::Sha256(_),
                    ) => Observable::Hash(value),
                    Ok(IndicatorValue::Cidr(..)) | Err(_) => {
                        println!("{value}: not an address, domain, URL, hash or e-mail address");
                        continue;
                    }
                };
                let mut hits = Vec::new();
                set.lookup(observable, "lookup", &mut hits);
                if hits.is_empty() {
                    println!("{value}: not listed");
                }
                for h in &hits {
                    found_any = true;
                    println!(
                        "{value}: listed as {} {} by {} (confidence {}){}",
                        h.kind.as_str(),
                        h.indicator,
                        h.source(),
                        h.confidence()
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "unknown".into()),
                        h.description()
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(if found_any {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
