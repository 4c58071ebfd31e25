//! `haechi ingest`: parse, normalize and store files; print a summary.

use super::{load_config, open_store};
use crate::DataDirArg;
use crate::detection::Detection;
use anyhow::Context;
use haechi_ingest::dedup::SharedDeduplicator;
use haechi_ingest::reader::{Limits, ReadStats, read_file};
use haechi_ingest::{Format, ParseContext};
use haechi_store::state::RecordStats;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

#[derive(clap::Args)]
pub struct IngestArgs {
    /// The institution the events belong to.
    #[arg(long, default_value = "default")]
    pub tenant: String,
    /// The format of the files: auto, syslog, cef, leef, json, suricata, zeek, evtx, clf, kv, cloudtrail, k8s_audit, winlog, azure, gcp_audit, m365, okta, openstack, raw.
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// A configuration file (for `[parse]`, `[pipeline]` and `[store]` settings).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Sigma rule files or directories every event meets on its way in (repeatable;
    /// added to `detect.rules`); alerts go to the state store (`haechi alerts`).
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// Files or directories (read recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(serde::Serialize)]
struct Summary {
    events: u64,
    dead_letter: u64,
    duplicates: u64,
    by_format: std::collections::BTreeMap<String, u64>,
    files: usize,
    failed_files: Vec<FailedFile>,
    bytes: u64,
    seconds: f64,
    /// With rules: alerts raised (new, and merged into earlier ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts: Option<AlertSummary>,
}

#[derive(serde::Serialize)]
struct AlertSummary {
    new: u64,
    merged: u64,
}

#[derive(serde::Serialize)]
struct FailedFile {
    path: String,
    reason: String,
}

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let mut config = load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    config.cli_rules = args.rules.clone();
    config.detect.rules.extend(args.rules.iter().cloned());
    let format: Format = args.format.parse()?;
    if !haechi_server::valid_tenant(&args.tenant) {
        anyhow::bail!(
            "tenant '{}' is invalid: use 1-64 characters of a-z, 0-9, '-', '_', '.'",
            args.tenant
        );
    }
    let files = collect_files(&args.paths)?;
    let store = open_store(&config)?;
    let detection = Detection::start(&config, false)?.map(|(d, _)| d);
    let raised_alerts = Mutex::new(Vec::new());
    let mut ctx = ParseContext::new(&args.tenant);
    ctx.timezone = config.timezone()?;
    ctx.year = config.parse.year;
    ctx.json_mapping = Arc::new(config.parse.json.clone());
    let limits = Limits {
        max_record_bytes: config.pipeline.max_record_bytes,
        max_document_bytes: config.pipeline.max_document_bytes,
        batch_size: 8192,
    };
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = super::file_progress_bar(total_bytes);
    let started = std::time::Instant::now();
    let dedup_file = super::serve::dedup_path(&config);
    let dedup = SharedDeduplicator::load(&dedup_file, config.pipeline.dedup_window)
        .context("reading the de-duplication window")?;
    let totals = Mutex::new(ReadStats::default());
    let failed = Mutex::new(Vec::new());
    let queue = Mutex::new(files.iter());
    let workers = config.pipeline.workers.clamp(1, files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(path) = queue.lock().unwrap_or_else(|e| e.into_inner()).next() else {
                        return;
                    };
                    let result = read_file(
                        path,
                        format,
                        &ctx,
                        Some(&dedup),
                        limits,
                        config.parse.keep_original,
                        &mut |mut batch| {
                            let raised = match &detection {
                                Some(d) => d.detect(&mut batch.events),
                                None => Vec::new(),
                            };
                            store
                                .append_bulk(&batch.events)
                                .map_err(|e| e.to_string())?;
                            store
                                .append_dead_letters(&batch.dead_letters)
                                .map_err(|e| e.to_string())?;
                            // Bulk appends are durable at the final commit: the alerts
                            // are stored after it, so none points at a missing event.
                            raised_alerts
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .extend(raised);
                            Ok(())
                        },
                    );
                    match result {
                        Ok(stats) => {
                            bar.inc(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
                            totals.lock().unwrap_or_else(|e| e.into_inner()).add(&stats);
                        }
                        Err(e) => {
                            failed
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(FailedFile {
                                    path: path.display().to_string(),
                                    reason: e.to_string(),
                                })
                        }
                    }
                }
            });
        }
    });
    store.commit().context("committing the store")?;
    let alerts = match &detection {
        Some(d) => d.record(&raised_alerts.into_inner().unwrap_or_default())?,
        None => RecordStats::default(),
    };
    dedup
        .save(&dedup_file)
        .with_context(|| format!("saving the de-duplication window {}", dedup_file.display()))?;
    bar.finish_and_clear();
    let totals = totals.into_inner().unwrap_or_default();
    let failed_files = failed.into_inner().unwrap_or_default();
    let summary = Summary {
        events: totals.events,
        dead_letter: totals.dead_letters,
        duplicates: totals.duplicates,
        by_format: totals.by_format,
        files: files.len(),
        failed_files,
        bytes: totals.bytes,
        seconds: started.elapsed().as_secs_f64(),
        alerts: detection.as_ref().map(|_| AlertSummary {
            new: alerts.inserted,
            merged: alerts.merged,
        }),
    };
    print_summary(&summary, args.json);
    Ok(if summary.failed_files.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(s: &Summary, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    let rate = if s.seconds > 0.0 {
        s.events as f64 / s.seconds
    } else {
        0.0
    };
    println!(
        "stored {} events from {} files in {:.2}s ({:.0} events/s)",
        s.events, s.files, s.seconds, rate
    );
    println!(
        "dead-lettered {}  duplicates dropped {}",
        s.dead_letter, s.duplicates
    );
    for (format, n) in &s.by_format {
        println!("  {format:<10} {n}");
    }
    if let Some(a) = &s.alerts {
        println!(
            "alerts: {} new, {} merged into earlier ones (see `haechi alerts`)",
            a.new, a.merged
        );
    }
    for f in &s.failed_files {
        println!("FAILED {}: {}", f.path, f.reason);
    }
}

/// Expands directories recursively (sorted, so runs are repeatable).
pub fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out).with_context(|| format!("cannot read {}", p.display()))?;
    }
    Ok(out)
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || name.ends_with(".md") || name == "LICENSE" {
                continue;
            }
            walk(&e, out)?;
        }
    } else {
        out.push(path.to_owned());
    }
    Ok(())
}
