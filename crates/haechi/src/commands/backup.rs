//! `haechi backup --out DIR` and `haechi restore DIR`: an online, consistent copy of the
//! data directory (events, state, intel, access, vulnerabilities, Domain Watch, drills,
//! keys) plus the configuration and the model files it names, and its restore into an
//! empty data directory, checked file by file (see `haechi_backup`).

use crate::config::Config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The backup directory to write (new or empty; created owner-only).
    #[arg(long)]
    out: PathBuf,
    /// The configuration the deployment runs with: it is copied into the backup, with the
    /// model files it names, and its `data_dir` is the directory backed up.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    data_dir: crate::DataDirArg,
    /// Print the manifest as JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup directory (`haechi backup --out`).
    backup: PathBuf,
    /// A configuration whose `data_dir` is restored into (`--data-dir` wins).
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    data_dir: crate::DataDirArg,
    /// Check the backup (every file against the manifest) and restore nothing.
    #[arg(long)]
    check: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    let plan = haechi_backup::Plan {
        data_dir: config.data_dir.clone(),
        extras: extras(args.config.as_deref(), &config),
        external_events: external_events(&config),
        haechi_version: env!("CARGO_PKG_VERSION").into(),
    };
    let manifest = haechi_backup::backup(&plan, &args.out)
        .map_err(|e| anyhow::anyhow!("backup of {} failed: {e}", config.data_dir.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
        return Ok(ExitCode::SUCCESS);
    }
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backup of {} in {}: {} files, {} bytes",
        manifest.source,
        args.out.display(),
        manifest.files.len(),
        bytes
    );
    print_contents(&manifest);
    for skipped in &manifest.skipped {
        println!("  left out {}: {}", skipped.path, skipped.reason);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    if args.check {
        let manifest = haechi_backup::verify(&args.backup)
            .map_err(|e| anyhow::anyhow!("the backup is not usable: {e}"))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&manifest)?);
        } else {
            println!(
                "backup {} is intact: {} files match the manifest",
                args.backup.display(),
                manifest.files.len()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let config = super::load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    let report = haechi_backup::restore(&args.backup, &config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "restore of {} into {} failed: {e}",
            args.backup.display(),
            config.data_dir.display()
        )
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "restored {} (taken {} from {}) into {}",
        args.backup.display(),
        report.manifest.created,
        report.manifest.source,
        config.data_dir.display()
    );
    if let Some(events) = report.events {
        println!("  events searchable: {events}");
    }
    print_contents(&report.manifest);
    if !report.config_files.is_empty() {
        println!("  configuration and model files (put back where the deployment reads them):");
        for file in &report.config_files {
            println!("    {file}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The databases with their row counts, and the event store's parts.
fn print_contents(manifest: &haechi_backup::Manifest) {
    let e = &manifest.events;
    match &e.external {
        Some(place) => println!("  events: not in the backup, they are kept in {place}"),
        None => println!(
            "  events: {} day indexes, {} log segments, {} dead-letter files",
            e.partitions, e.log_segments, e.dead_letter_files
        ),
    }
    for db in &manifest.databases {
        let rows: u64 = db.tables.values().sum();
        println!("  {}: {} rows in {} tables", db.path, rows, db.tables.len());
    }
}

/// The configuration file and the model files it names that exist as files (a name such
/// as `"risk"` is a model shipped in the binary).
fn extras(config_path: Option<&Path>, config: &Config) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    if let Some(path) = config_path {
        out.push((file_name(path), path.to_owned()));
    }
    let models = [
        config.risk.model.clone(),
        config.ml.domains_model.clone(),
        config.ml.web_model.clone(),
        config.ml.flows_model.clone(),
        config.detect.ot_allowlist.clone(),
        Some(PathBuf::from(&config.domains.model)),
    ];
    for path in models.into_iter().flatten().filter(|p| p.is_file()) {
        let name = format!("models/{}", file_name(&path));
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, path));
        }
    }
    out
}

fn external_events(config: &Config) -> Option<String> {
    (config.store.backend == haechi_store::Backend::ClickHouse).then(|| {
        format!(
            "ClickHouse database {} at {} (back it up with ClickHouse's own tools)",
            config.store.clickhouse.database, config.store.clickhouse.url
        )
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unnamed".into())
}
