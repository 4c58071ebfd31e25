//! `haechi vuln`: the vulnerability management center from the command line —
//! `db import` advisories (OSV JSON/YAML, KEV, SSVC inputs, EPSS) into the data
//! directory, `db status`, and `scan` SBOMs and lockfiles against them.

use super::load_config;
use anyhow::Context;
use haechi_vuln::db::AdvisoryDb;
use haechi_vuln::inventory;
use haechi_vuln::matcher::{Finding, Matcher, ScanSummary};
use haechi_vuln::ssvc::Exposure;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct VulnArgs {
    #[command(subcommand)]
    command: VulnCommand,
    /// A configuration file (for `data_dir`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum VulnCommand {
    /// The advisory database: `import PATH…`, `status`.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Scan SBOMs (CycloneDX, SPDX) and lockfiles against the imported advisories.
    Scan {
        /// SBOM or lockfile paths.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per finding per line, then `{"summary": {...}}`.
        #[arg(long)]
        json: bool,
        /// Where the scanned system is reachable from (`internet-facing`, `internal`,
        /// `unknown`): the SSVC decision weighs it.
        #[arg(long, default_value = "unknown", value_parser = parse_exposure)]
        exposure: Exposure,
    },
}

#[derive(clap::Subcommand)]
enum DbCommand {
    /// Import OSV advisories (JSON or YAML files, folders walked recursively), the CISA
    /// KEV catalog, SSVC inputs (Vulnrichment CSV) and EPSS scores (CSV).
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What the database holds.
    Status,
}

fn parse_exposure(s: &str) -> Result<Exposure, String> {
    Exposure::parse(s).ok_or_else(|| {
        format!("'{s}' is not an exposure; use internet-facing, internal or unknown")
    })
}

pub fn run(args: VulnArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
    let path = AdvisoryDb::path_in(&config.data_dir);
    let db = AdvisoryDb::open(&path)?;
    match args.command {
        VulnCommand::Db {
            command: DbCommand::Import { paths, json },
        } => import(&db, &paths, json),
        VulnCommand::Db {
            command: DbCommand::Status,
        } => {
            let counts = db.counts()?;
            println!("{}", serde_json::to_string_pretty(&counts)?);
            Ok(ExitCode::SUCCESS)
        }
        VulnCommand::Scan {
            files,
            json,
            exposure,
        } => scan(&db, &files, json, exposure),
    }
}

fn import(db: &AdvisoryDb, paths: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let report = haechi_vuln::import::import_paths(db, paths)?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} files: {} advisories added, {} updated, {} unchanged ({} withdrawn); KEV {}, SSVC {}, EPSS {}",
            report.files,
            report.advisories_added,
            report.advisories_updated,
            report.advisories_unchanged,
            report.withdrawn,
            report.kev,
            report.ssvc,
            report.epss
        );
        if !report.skipped.is_empty() {
            println!("{} files hold no advisory data:", report.skipped.len());
            for s in report.skipped.iter().take(20) {
                println!("  {}: {}", s.path, s.reason);
            }
            if report.skipped.len() > 20 {
                println!("  … and {} more", report.skipped.len() - 20);
            }
        }
        for e in &report.errors {
            eprintln!("error: {}: {}", e.path, e.reason);
        }
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn scan(
    db: &AdvisoryDb,
    files: &[PathBuf],
    json: bool,
    exposure: Exposure,
) -> anyhow::Result<ExitCode> {
    let snapshot = db.snapshot()?;
    anyhow::ensure!(
        !snapshot.advisories.is_empty(),
        "the advisory database is empty: run `haechi vuln db import PATH…` first"
    );
    let matcher = Matcher::new(snapshot);
    let mut findings: Vec<Finding> = Vec::new();
    let mut summary = ScanSummary::default();
    let mut failed = Vec::new();
    for f in files {
        match inventory::read_file(f) {
            Ok(inv) => matcher.scan(&inv, exposure, &mut findings, &mut summary),
            Err(e) => failed.push(e),
        }
    }
    match write_report(&findings, &summary, &matcher, &failed, json) {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the report")?,
    }
    for e in &failed {
        eprintln!("error: {e}");
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn write_report(
    findings: &[Finding],
    summary: &ScanSummary,
    matcher: &Matcher,
    failed: &[inventory::ReadError],
    json: bool,
) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if json {
        for f in findings {
            serde_json::to_writer(&mut out, f)?;
            out.write_all(b"\n")?;
        }
        let failed_files: Vec<_> = failed
            .iter()
            .map(|e| json!({"path": e.path, "reason": e.reason}))
            .collect();
        let mut s = json!(summary);
        s["files_failed"] = json!(failed_files);
        s["advisories"] = json!(matcher.stats);
        serde_json::to_writer(&mut out, &json!({ "summary": s }))?;
        out.write_all(b"\n")?;
    } else {
        print_table(&mut out, findings, summary)?;
    }
    out.flush()
}

fn print_table(out: &mut impl Write, findings: &[Finding], s: &ScanSummary) -> std::io::Result<()> {
    for f in findings {
        let fixed = if f.fixed.is_empty() {
            "no fix".to_owned()
        } else {
            format!("fixed in {}", f.fixed.join(", "))
        };
        writeln!(
            out,
            "{:<7} {:<20} {} {} {} ({}){}{}",
            f.ssvc,
            f.id,
            f.package,
            f.version,
            f.ecosystem,
            fixed,
            if f.kev { " KEV" } else { "" },
            f.informational
                .as_deref()
                .map(|i| format!(" [{i}]"))
                .unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "{} files, {} components read, {} vulnerable, {} findings, {} skipped",
        s.files, s.components_read, s.components_matched, s.findings, s.skipped
    )?;
    for (reason, n) in &s.skipped_by_reason {
        writeln!(out, "  skipped {n}: {reason}")?;
    }
    Ok(())
}
