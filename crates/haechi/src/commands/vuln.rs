//! `haechi vuln`: the vulnerability management center from the command line —
//! `db import` advisories (OSV JSON/YAML, KEV, SSVC inputs, EPSS) into the data
//! directory, `db status`, `scan` SBOMs and lockfiles against them, and `findings` on
//! the institutions' stored inventories; `haechi sbom` keeps those inventories. New
//! findings of a KEV-listed vulnerability or on an internet-facing system raise alerts
//! (origin `vuln`) in the institution's queue.

use super::access::{audited, cli_actor};
use super::load_config;
use crate::config::Config;
use anyhow::Context;
use haechi_access::{AccessStore, AuditEntry};
use haechi_event::Timestamp;
use haechi_store::state::AlertStore;
use haechi_vuln::assets::StoredFinding;
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
        /// VEX documents (CycloneDX VEX or OpenVEX) to apply: `not_affected` and `fixed`
        /// close a finding (a KEV-listed one is only annotated).
        #[arg(long)]
        vex: Vec<PathBuf>,
        /// Write the findings, open and closed, as an OpenVEX document.
        #[arg(long)]
        vex_out: Option<PathBuf>,
    },
    /// Patch plans for a lockfile or SBOM: the upgrade that removes every known
    /// advisory of each vulnerable package, validated by scanning the patched
    /// inventory again.
    Fix {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `minimal`: the smallest clean version; `latest`: the highest clean version the
        /// advisories name.
        #[arg(long, default_value = "minimal", value_parser = parse_strategy)]
        strategy: haechi_vuln::fix::Strategy,
        /// One JSON object per plan per line, then `{"summary": {...}}`.
        #[arg(long)]
        json: bool,
        /// Write the patched file here (pinned requirements.txt only; other formats
        /// change through their tool: see each plan's command).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Share the recorded findings (of one institution, or of one advisory across
    /// institutions) as CSAF 2.0 (`csaf_vex`), CycloneDX 1.6 VEX or OpenVEX.
    Export {
        /// `csaf`, `cyclonedx`, `openvex` or `stix` (a STIX 2.1 bundle).
        #[arg(long, value_parser = ["csaf", "cyclonedx", "openvex", "stix"])]
        format: String,
        /// With `--format stix`: store the objects in this collection of the sharing hub
        /// (partners pull them over TAXII within their TLP entitlement) instead of
        /// writing a bundle.
        #[arg(long)]
        collection: Option<String>,
        /// Only this institution's findings.
        #[arg(long)]
        tenant: Option<String>,
        /// Only this advisory's findings.
        #[arg(long)]
        advisory: Option<String>,
        /// The TLP marking (CSAF's `distribution.tlp`): white, green, amber (default), red.
        #[arg(long, default_value = "amber", value_parser = parse_tlp)]
        tlp: haechi_vuln::export::Tlp,
        /// The publisher's name and namespace (a URL of the center).
        #[arg(long, default_value = "Haechi control center")]
        publisher: String,
        #[arg(long, default_value = "https://haechi.invalid")]
        namespace: String,
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A digest for an institution's CISO of the findings recorded since the last one:
    /// printed, or mailed with the `[respond.smtp]` server (then the next digest starts
    /// where this one ended).
    Digest {
        #[arg(long)]
        tenant: String,
        /// Mail it to these addresses.
        #[arg(long)]
        to: Vec<String>,
    },
    /// The findings recorded on the institutions' stored SBOMs (`haechi sbom add`).
    Findings {
        /// Only this institution's.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// One JSON object per finding per line.
        #[arg(long)]
        json: bool,
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

/// Writes a document to `out`, or to standard output.
fn write_or_print(out: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn parse_tlp(s: &str) -> Result<haechi_vuln::export::Tlp, String> {
    haechi_vuln::export::Tlp::parse(s)
        .ok_or_else(|| format!("'{s}' is not a TLP label; use white, green, amber or red"))
}

fn parse_strategy(s: &str) -> Result<haechi_vuln::fix::Strategy, String> {
    haechi_vuln::fix::Strategy::parse(s)
        .ok_or_else(|| format!("'{s}' is not a strategy; use minimal or latest"))
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
        } => import(&config, &db, &paths, json),
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
            vex,
            vex_out,
        } => scan(&db, &files, json, exposure, &vex, vex_out.as_deref()),
        VulnCommand::Fix {
            files,
            strategy,
            json,
            out,
        } => fix(&db, &files, strategy, json, out.as_deref()),
        VulnCommand::Export {
            format,
            collection,
            tenant,
            advisory,
            tlp,
            publisher,
            namespace,
            out,
        } => {
            let stored = db.findings(tenant.as_deref(), 1_000_000)?;
            let findings: Vec<&Finding> = stored
                .iter()
                .map(|s| &s.finding)
                .filter(|f| {
                    advisory
                        .as_deref()
                        .is_none_or(|a| f.id == a || f.aliases.iter().any(|x| x == a))
                })
                .collect();
            anyhow::ensure!(
                !findings.is_empty(),
                "no recorded finding{}{}: nothing to export",
                tenant
                    .as_deref()
                    .map(|t| format!(" of {t}"))
                    .unwrap_or_default(),
                advisory
                    .as_deref()
                    .map(|a| format!(" for {a}"))
                    .unwrap_or_default()
            );
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let scope = match (&tenant, &advisory) {
                (Some(t), Some(a)) => format!("{a} at {t}"),
                (Some(t), None) => format!("vulnerabilities of {t}"),
                (None, Some(a)) => a.clone(),
                (None, None) => "all recorded vulnerabilities".to_owned(),
            };
            let tracking = format!(
                "HAECHI-{}-{}",
                now.get(..10).unwrap_or("").replace('-', ""),
                scope
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                    .to_ascii_uppercase()
            );
            let title = format!("Haechi VEX: {scope}");
            let meta = haechi_vuln::export::Meta {
                publisher: &publisher,
                namespace: &namespace,
                title: &title,
                tracking_id: &tracking,
                now: &now,
                tlp,
            };
            anyhow::ensure!(
                collection.is_none() || format == "stix",
                "--collection goes with --format stix"
            );
            if format == "stix" {
                return export_stix(
                    &config,
                    &db,
                    &publisher,
                    tlp,
                    &findings,
                    collection.as_deref(),
                    out.as_deref(),
                );
            }
            let doc = match format.as_str() {
                "csaf" => haechi_vuln::export::to_csaf(&meta, &findings),
                "cyclonedx" => haechi_vuln::export::to_cyclonedx(&meta, &findings),
                _ => haechi_vuln::vex::to_openvex(&publisher, &now, &findings),
            };
            write_or_print(
                out.as_deref(),
                &(serde_json::to_string_pretty(&doc)? + "\n"),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        VulnCommand::Digest { tenant, to } => digest(&config, &db, &tenant, &to),
        VulnCommand::Findings {
            tenant,
            limit,
            json,
        } => {
            for f in db.findings(tenant.as_deref(), limit)? {
                if json {
                    println!("{}", serde_json::to_string(&f)?);
                } else {
                    println!(
                        "{:<7} {:<20} {} {} in {}/{} ({:?}) first seen {}",
                        f.finding.ssvc,
                        f.finding.id,
                        f.finding.package,
                        f.finding.version,
                        f.tenant,
                        f.system,
                        f.exposure,
                        f.first_seen
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn import(
    config: &Config,
    db: &AdvisoryDb,
    paths: &[PathBuf],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let report = haechi_vuln::import::import_paths(db, paths)?;
    // New and changed advisories meet every stored inventory at once.
    let mut rematched = 0;
    let mut alerts = 0;
    if !report.changed.is_empty() && !db.sboms(None)?.is_empty() {
        let matcher = Matcher::new(db.snapshot()?);
        let found = matcher.rematch(db, &report.changed)?;
        let new = db.record_findings(found)?;
        rematched = new.len();
        alerts = raise_alerts(config, &new)?;
    }
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["new_findings"] = json!(rematched);
        v["alerts"] = json!(alerts);
        println!("{v}");
    } else {
        if rematched > 0 {
            println!("{rematched} new findings on stored SBOMs, {alerts} alerts raised");
        }
        println!(
            "{} files: {} advisories added, {} updated, {} unchanged ({} withdrawn); KEV {}, SSVC {}, EPSS {}, NVD CPE ranges {}",
            report.files,
            report.advisories_added,
            report.advisories_updated,
            report.advisories_unchanged,
            report.withdrawn,
            report.kev,
            report.ssvc,
            report.epss,
            report.cpe_ranges
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
    vex: &[PathBuf],
    vex_out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let mut statements = Vec::new();
    let mut unresolved = Vec::new();
    for path in vex {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the VEX document {}", path.display()))?;
        let (s, u) = haechi_vuln::vex::read(&path.display().to_string(), &text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        statements.extend(s);
        unresolved.extend(u);
    }
    let snapshot = db.snapshot()?;
    anyhow::ensure!(
        !snapshot.advisories.is_empty() || !snapshot.cpe.is_empty(),
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
    let suppressed = haechi_vuln::vex::apply(&statements, &mut findings);
    summary.suppressed_by_vex = suppressed.len();
    summary.findings = findings.len();
    if let Some(out) = vex_out {
        let all: Vec<&Finding> = findings.iter().chain(&suppressed).collect();
        let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let doc = haechi_vuln::vex::to_openvex("Haechi", &stamp, &all);
        std::fs::write(out, serde_json::to_string_pretty(&doc)? + "\n")
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    if !unresolved.is_empty() {
        eprintln!(
            "note: {} VEX product references are not package URLs and were not applied: {}",
            unresolved.len(),
            unresolved.join(", ")
        );
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
            "{:<7} {:<20} {} {} {} ({}){}{}{}",
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
                .unwrap_or_default(),
            if f.confidence.is_some() {
                " [low confidence: by CPE]"
            } else {
                ""
            }
        )?;
    }
    writeln!(
        out,
        "{} files, {} components read, {} vulnerable, {} findings, {} skipped",
        s.files, s.components_read, s.components_matched, s.findings, s.skipped
    )?;
    if s.cpe_matched > 0 {
        writeln!(
            out,
            "  {} skipped components (no purl) matched by CPE: low-confidence findings",
            s.cpe_matched
        )?;
    }
    for (reason, n) in &s.skipped_by_reason {
        writeln!(out, "  skipped {n}: {reason}")?;
    }
    Ok(())
}

/// Alerts for new findings that are KEV-listed or on an internet-facing system (see
/// `haechi_vuln::alerts`), recorded in the state store; returns how many were raised.
pub fn raise_alerts(config: &Config, new: &[StoredFinding]) -> anyhow::Result<usize> {
    let alerts = haechi_vuln::alerts::for_new_findings(new, Timestamp::now());
    if alerts.is_empty() {
        return Ok(0);
    }
    let path = config.state_db();
    let store = AlertStore::open(&path, std::time::Duration::from_secs(600))
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    store
        .record(&alerts)
        .map_err(|e| anyhow::anyhow!("recording vulnerability alerts: {e}"))?;
    Ok(alerts.len())
}

#[derive(clap::Args)]
pub struct SbomArgs {
    #[command(subcommand)]
    command: SbomCommand,
    /// A configuration file (for `data_dir`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum SbomCommand {
    /// Store SBOMs or lockfiles as the inventory of one system of an institution; they
    /// are matched at once and again whenever advisories are imported.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        system: String,
        /// Where the system is reachable from: internet-facing, internal, unknown.
        #[arg(long, default_value = "unknown", value_parser = parse_exposure)]
        exposure: Exposure,
        /// Who answers for the system.
        #[arg(long, default_value = "")]
        owner: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The stored SBOMs (of one institution).
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove a stored SBOM with its findings.
    Remove { id: i64 },
    /// Make a CycloneDX 1.6 SBOM from lockfiles and manifests (for those who have none).
    Generate {
        /// The product the SBOM describes.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        version: String,
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run_sbom(args: SbomArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(&config.data_dir))?;
    let audit = || -> anyhow::Result<AccessStore> {
        let p = AccessStore::path_in(&config.data_dir);
        AccessStore::open(&p).with_context(|| format!("cannot open {}", p.display()))
    };
    match args.command {
        SbomCommand::Add {
            tenant,
            system,
            exposure,
            owner,
            files,
        } => {
            anyhow::ensure!(
                haechi_server::valid_tenant(&tenant),
                "--tenant '{tenant}' is not a valid id"
            );
            let snapshot = db.snapshot()?;
            let matcher = Matcher::new(snapshot);
            let mut failed = 0;
            for file in &files {
                let inv = match inventory::read_file(file) {
                    Ok(inv) => inv,
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed += 1;
                        continue;
                    }
                };
                let target = format!("sbom:{tenant}/{system}");
                let stored = audited(&audit()?, "sbom.add", &target, || {
                    let stored = haechi_vuln::assets::store_and_match(
                        &db, &matcher, &tenant, &system, exposure, &owner, &inv,
                    )?;
                    let entry =
                        AuditEntry::new(cli_actor(), "sbom.add", format!("sbom:{}", stored.id))
                            .after(json!({
                                "tenant": tenant, "system": system, "exposure": exposure,
                                "source": inv.source, "format": inv.format,
                                "components": inv.components.len(), "skipped": inv.skipped.len(),
                            }));
                    Ok((stored, entry))
                })?;
                let (id, new) = (stored.id, stored.new);
                let alerts = raise_alerts(&config, &new)?;
                println!(
                    "sbom {id}: {} ({}) for {tenant}/{system}: {} components, {} skipped, {} findings, {alerts} alerts",
                    inv.source,
                    inv.format,
                    inv.components.len(),
                    inv.skipped.len(),
                    new.len()
                );
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        SbomCommand::List { tenant, json } => {
            for b in db.sboms(tenant.as_deref())? {
                if json {
                    println!("{}", serde_json::to_string(&b)?);
                } else {
                    println!(
                        "{:>5} {}/{} ({:?}) {} [{}] {} components, {} skipped, added {}",
                        b.id,
                        b.tenant,
                        b.system,
                        b.exposure,
                        b.source,
                        b.format,
                        b.components,
                        b.skipped,
                        b.added
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SbomCommand::Generate {
            name,
            version,
            out,
            files,
        } => {
            let mut inventories = Vec::new();
            for f in &files {
                let inv = inventory::read_file(f).map_err(|e| anyhow::anyhow!("{e}"))?;
                if !inv.skipped.is_empty() {
                    eprintln!(
                        "{}: {} components left out: {}",
                        inv.source,
                        inv.skipped.len(),
                        inv.skipped
                            .iter()
                            .take(5)
                            .map(|s| format!("{} ({})", s.name, s.reason))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                inventories.push(inv);
            }
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let doc = haechi_vuln::export::to_cyclonedx_sbom(&name, &version, &now, &inventories);
            write_or_print(
                out.as_deref(),
                &(serde_json::to_string_pretty(&doc)? + "\n"),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        SbomCommand::Remove { id } => {
            let target = format!("sbom:{id}");
            audited(&audit()?, "sbom.remove", &target, || {
                let before = db.placement(id)?;
                anyhow::ensure!(db.remove_sbom(id)?, "no SBOM {id}");
                let entry =
                    AuditEntry::new(cli_actor(), "sbom.remove", &target).before(json!(before.map(
                        |p| json!({"tenant": p.tenant, "system": p.system, "source": p.source})
                    )));
                Ok(((), entry))
            })?;
            println!("removed sbom {id}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn fix(
    db: &AdvisoryDb,
    files: &[PathBuf],
    strategy: haechi_vuln::fix::Strategy,
    json: bool,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use haechi_vuln::fix;
    let snapshot = db.snapshot()?;
    anyhow::ensure!(
        !snapshot.advisories.is_empty(),
        "the advisory database is empty: run `haechi vuln db import PATH…` first"
    );
    anyhow::ensure!(
        out.is_none() || files.len() == 1,
        "--out writes one patched file: give one input"
    );
    let matcher = Matcher::new(snapshot);
    let (mut total, mut targets, mut validated, mut compatible) = (0, 0, 0, 0);
    for file in files {
        let inv = inventory::read_file(file).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut before = Vec::new();
        matcher.scan(
            &inv,
            Exposure::Unknown,
            &mut before,
            &mut ScanSummary::default(),
        );
        let mut plans = fix::plan(&matcher, &before, strategy);
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let requirements = name.starts_with("requirements") && name.ends_with(".txt");
        let left = if requirements {
            // The patched requirements are written out and read back through the parser.
            let text = std::fs::read_to_string(file)?;
            let rewritten = fix::rewrite_requirements(&text, &plans);
            let patched = inventory::read_text(&name, &inv.source, &rewritten)
                .map_err(|e| anyhow::anyhow!("the patched requirements do not read back: {e}"))?;
            if let Some(out) = out {
                std::fs::write(out, &rewritten)
                    .with_context(|| format!("cannot write {}", out.display()))?;
            }
            fix::validate(&matcher, &before, &patched, &mut plans)
        } else {
            anyhow::ensure!(
                out.is_none(),
                "--out rewrites pinned requirements.txt files only; apply the plans' commands to {}",
                file.display()
            );
            fix::validate(&matcher, &before, &fix::patched(&inv, &plans), &mut plans)
        };
        total += plans.len();
        targets += plans.iter().filter(|p| p.target.is_some()).count();
        validated += plans.iter().filter(|p| p.validated).count();
        compatible += plans.iter().filter(|p| p.compatible).count();
        for p in &plans {
            if json {
                let mut v = serde_json::to_value(p)?;
                v["source"] = json!(inv.source);
                println!("{v}");
            } else {
                println!(
                    "{} {} {} -> {} ({} advisories){}{}",
                    p.ecosystem,
                    p.package,
                    p.current,
                    p.target.as_deref().unwrap_or("no clean version known"),
                    p.fixes.len(),
                    if p.validated { ", validated" } else { "" },
                    p.command
                        .as_deref()
                        .map(|c| format!("\n    {c}"))
                        .unwrap_or_default()
                );
                if let Some(n) = &p.note {
                    println!("    note: {n}");
                }
                for b in &p.broken_requirements {
                    println!("    breaks: {b}");
                }
            }
        }
        if !json {
            println!(
                "{}: {} findings before, {} after the validated upgrades",
                inv.source,
                before.len(),
                left.len()
            );
        }
    }
    if json {
        println!(
            "{}",
            json!({"summary": {"plans": total, "with_target": targets, "validated": validated, "compatible": compatible}})
        );
    } else {
        println!(
            "{total} plans: {targets} with a target, {validated} validated, {compatible} within the compatible range"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Findings as STIX 2.1 `vulnerability` objects with the affected software, into a hub
/// collection (audited) or as a bundle.
fn export_stix(
    config: &Config,
    db: &haechi_vuln::AdvisoryDb,
    publisher: &str,
    tlp: haechi_vuln::export::Tlp,
    findings: &[&Finding],
    collection: Option<&str>,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use haechi_intel::build::{VulnerabilityFacts, bundle, vulnerability_objects};
    use haechi_vuln::export::Tlp as CsafTlp;
    let stix_tlp = match tlp {
        CsafTlp::White => haechi_intel::tlp::Tlp::Clear,
        CsafTlp::Green => haechi_intel::tlp::Tlp::Green,
        CsafTlp::Amber => haechi_intel::tlp::Tlp::Amber,
        CsafTlp::Red => haechi_intel::tlp::Tlp::Red,
    };
    let mut facts: Vec<VulnerabilityFacts> = Vec::new();
    for f in findings {
        let i = match facts.iter().position(|x| x.id == f.id) {
            Some(i) => i,
            None => {
                facts.push(VulnerabilityFacts {
                    id: f.id.clone(),
                    aliases: f.aliases.clone(),
                    summary: f.summary.clone(),
                    affected: Vec::new(),
                    fixed: f.fixed.clone(),
                    osv: db.advisory(&f.id)?.map(serde_json::to_value).transpose()?,
                });
                facts.len() - 1
            }
        };
        let entry = (f.package.clone(), f.version.clone(), f.purl.clone());
        if !facts[i].affected.contains(&entry) {
            facts[i].affected.push(entry);
        }
    }
    let objects = vulnerability_objects(&facts, stix_tlp, publisher, chrono::Utc::now())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match collection {
        Some(name) => {
            let path = haechi_intel::store::IntelStore::path_in(&config.data_dir);
            let store =
                haechi_intel::store::IntelStore::open(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let c = store.collection(name).map_err(|e| anyhow::anyhow!("{e}"))?;
            let actor = cli_actor();
            let access = AccessStore::open(&AccessStore::path_in(&config.data_dir))?;
            let target = format!("collection:{name}");
            let report = audited(&access, "vuln.publish", &target, || {
                let report = store
                    .add_objects(&c.id, &objects, &actor)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let entry = AuditEntry::new(&actor, "vuln.publish", &target).after(json!({
                    "advisories": facts.len(), "objects": objects.len(), "stored": report.stored, "tlp": stix_tlp.as_str(),
                }));
                Ok((report, entry))
            })?;
            println!(
                "{} advisories as {} STIX objects into collection {name} ({} stored, TLP:{})",
                facts.len(),
                objects.len(),
                report.stored,
                stix_tlp.name()
            );
        }
        None => write_or_print(out, &(bundle(&objects) + "\n"))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `[vuln] advisories`: every `every`, imports the new and changed advisory files, matches
/// the advisories they add or change against the stored inventories, and records the
/// alerts the new findings raise (through detection, when this process writes alerts).
pub async fn watch_advisories(
    dir: PathBuf,
    every: std::time::Duration,
    vuln: haechi_server::vuln::VulnApi,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let watch = std::sync::Arc::new(std::sync::Mutex::new(
        haechi_vuln::watch::AdvisoryWatch::new(&dir),
    ));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (w, api) = (watch.clone(), vuln.clone());
        let result = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<(usize, usize, usize)>> {
            let mut w = w.lock().unwrap_or_else(|e| e.into_inner());
            let Some(report) = w.poll(&api.db)? else {
                return Ok(None);
            };
            for e in &report.errors {
                tracing::warn!(file = %e.path, reason = %e.reason, "advisory file not imported");
            }
            let (new, raised) = rematch_and_alert(&api, &report.changed)?;
            Ok(Some((report.changed.len(), new, raised)))
        })
        .await;
        match result {
            Ok(Ok(Some((advisories, findings, alerts)))) => tracing::info!(
                advisories,
                findings,
                alerts,
                "advisories imported from the watched folder"
            ),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), dir = %dir.display(), "watching advisories")
            }
            Err(e) => tracing::error!(error = %e, "the advisory watch task failed"),
        }
    }
}

/// Matches advisories added or changed (by id) against every stored inventory, records
/// the new findings and raises their alerts (through detection, when this process writes
/// alerts); returns (new findings, alerts raised).
fn rematch_and_alert(
    api: &haechi_server::vuln::VulnApi,
    changed: &[String],
) -> anyhow::Result<(usize, usize)> {
    let mut new = Vec::new();
    if !changed.is_empty() && !api.db.sboms(None)?.is_empty() {
        let matcher = Matcher::new(api.db.snapshot()?);
        new = api.db.record_findings(matcher.rematch(&api.db, changed)?)?;
    }
    let alerts = haechi_vuln::alerts::for_new_findings(&new, Timestamp::now());
    let raised = match (&api.record, alerts.is_empty()) {
        (Some(record), false) => record(&alerts).map_err(|e| anyhow::anyhow!(e))?,
        _ => 0,
    };
    Ok((new.len(), raised))
}

/// The intel store key of the last `date_added` of hub objects read for advisories.
const HUB_ADVISORIES_WATERMARK: &str = "advisories_imported_until";

/// What one look at the hub imported: (advisories added or changed, new findings,
/// alerts), or `None` when nothing arrived.
pub fn import_hub_advisories(
    intel: &haechi_intel::store::IntelStore,
    api: &haechi_server::vuln::VulnApi,
) -> anyhow::Result<Option<(usize, usize, usize)>> {
    let e = |e: haechi_intel::store::StoreError| anyhow::anyhow!("{e}");
    let until = intel.last_added_of("vulnerability").map_err(e)?;
    let after = intel.meta(HUB_ADVISORIES_WATERMARK).map_err(e)?;
    if until == 0 || after.is_some_and(|a| a >= until) {
        return Ok(None);
    }
    let mut changed = Vec::new();
    for c in intel.collections().map_err(e)? {
        let filter = haechi_intel::store::Filter {
            added_after: after,
            added_until: Some(until),
            types: vec!["vulnerability".into()],
            ..Default::default()
        };
        let values: Vec<(String, serde_json::Value)> = intel
            .all_objects(&c.id, filter)
            .map_err(e)?
            .into_iter()
            .filter(|o| !o.revoked)
            .filter_map(|o| {
                let osv = o.json.get("x_haechi_osv")?.clone();
                Some((format!("{} in {}", o.id, c.name), osv))
            })
            .collect();
        if values.is_empty() {
            continue;
        }
        let report =
            haechi_vuln::import::import_values(&api.db, &format!("hub:{}", c.name), values)?;
        for err in &report.errors {
            tracing::warn!(object = %err.path, reason = %err.reason, "shared advisory not imported");
        }
        changed.extend(report.changed);
    }
    let (new, raised) = rematch_and_alert(api, &changed)?;
    intel.set_meta(HUB_ADVISORIES_WATERMARK, until).map_err(e)?;
    Ok(Some((changed.len(), new, raised)))
}

/// Every `every`, imports the advisories partners shared through the hub (STIX
/// `vulnerability` objects carrying `x_haechi_osv`, pushed over TAXII or pulled from
/// theirs) and matches them against every stored inventory at once.
pub async fn watch_hub_advisories(
    intel: std::sync::Arc<haechi_intel::store::IntelStore>,
    vuln: haechi_server::vuln::VulnApi,
    every: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (intel, api) = (intel.clone(), vuln.clone());
        match tokio::task::spawn_blocking(move || import_hub_advisories(&intel, &api)).await {
            Ok(Ok(Some((advisories, findings, alerts)))) => tracing::info!(
                advisories,
                findings,
                alerts,
                "advisories imported from the sharing hub"
            ),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "advisories from the sharing hub")
            }
            Err(e) => tracing::error!(error = %e, "the hub advisory task failed"),
        }
    }
}

/// The digest's text: what is new since the watermark, and where the institution stands.
fn digest_text(
    tenant: &str,
    since: Option<&str>,
    new: &[&StoredFinding],
    open: &[StoredFinding],
) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Haechi vulnerability digest for {tenant}: {} new findings since {}.",
        new.len(),
        since.unwrap_or("the first digest")
    );
    let mut by: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for f in open {
        *by.entry(f.finding.ssvc.as_str()).or_default() += 1;
    }
    let _ = writeln!(
        t,
        "Open: {} findings ({}).",
        open.len(),
        ["Act", "Attend", "Track*", "Track"]
            .iter()
            .map(|d| format!("{d} {}", by.get(d).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let kev: Vec<&&StoredFinding> = new.iter().filter(|f| f.finding.kev).collect();
    if !kev.is_empty() {
        let _ = writeln!(t, "\nKnown exploited (CISA KEV), act first:");
        for f in kev {
            let _ = writeln!(
                t,
                "  {} {} {} on {} (due {}){}",
                f.finding.id,
                f.finding.package,
                f.finding.version,
                f.system,
                f.finding.kev_due_date.as_deref().unwrap_or("?"),
                fix_hint(&f.finding)
            );
        }
    }
    let mut rest: Vec<&&StoredFinding> = new.iter().filter(|f| !f.finding.kev).collect();
    rest.sort_by_key(|f| {
        ["Act", "Attend", "Track*", "Track"]
            .iter()
            .position(|d| *d == f.finding.ssvc)
            .unwrap_or(4)
    });
    if !rest.is_empty() {
        let _ = writeln!(t, "\nNew findings:");
        for f in rest {
            let _ = writeln!(
                t,
                "  [{}] {} {} {} on {}{}",
                f.finding.ssvc,
                f.finding.id,
                f.finding.package,
                f.finding.version,
                f.system,
                fix_hint(&f.finding)
            );
        }
    }
    t
}

fn fix_hint(f: &Finding) -> String {
    if f.fixed.is_empty() {
        ": no fixed version known".to_owned()
    } else {
        format!(": upgrade to {}", f.fixed.join(" or "))
    }
}

fn digest(
    config: &Config,
    db: &AdvisoryDb,
    tenant: &str,
    to: &[String],
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        haechi_server::valid_tenant(tenant),
        "--tenant '{tenant}' is not a valid id"
    );
    let since = db.digest_watermark(tenant)?;
    let open = db.findings(Some(tenant), 1_000_000)?;
    let new: Vec<&StoredFinding> = open
        .iter()
        .filter(|f| since.as_deref().is_none_or(|s| f.first_seen.as_str() > s))
        .collect();
    let text = digest_text(tenant, since.as_deref(), &new, &open);
    if to.is_empty() {
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    if new.is_empty() {
        println!(
            "nothing new for {tenant} since {}: no digest sent",
            since.as_deref().unwrap_or("the start")
        );
        return Ok(ExitCode::SUCCESS);
    }
    let smtp = config
        .respond
        .smtp
        .as_ref()
        .context("mailing a digest needs [respond.smtp] in the configuration")?;
    let mailer = haechi_respond::mail::Mailer::new(smtp).map_err(|e| anyhow::anyhow!(e))?;
    let subject = format!(
        "Haechi: {} new vulnerability findings for {tenant}",
        new.len()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let reply = runtime
        .block_on(mailer.send(to, &subject, &text))
        .map_err(|e| anyhow::anyhow!("the digest was not sent: {e}"))?;
    let last = new
        .iter()
        .map(|f| f.first_seen.as_str())
        .max()
        .unwrap_or_default()
        .to_owned();
    let access = AccessStore::open(&AccessStore::path_in(&config.data_dir))?;
    let target = format!("tenant:{tenant}");
    audited(&access, "vuln.digest", &target, || {
        db.set_digest_watermark(tenant, &last)?;
        let entry = AuditEntry::new(cli_actor(), "vuln.digest", &target)
            .after(json!({"to": to, "findings": new.len(), "through": last}));
        Ok(((), entry))
    })?;
    println!(
        "digest of {} findings sent to {} ({reply})",
        new.len(),
        to.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
