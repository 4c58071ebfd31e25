//! `haechi web inspect URL...`: passive inspection of web pages — one GET each (redirects
//! followed), the security headers and cookies checked, software versions the server
//! discloses, and the JavaScript libraries the page loads matched to their known
//! vulnerabilities (Retire.js's repository, imported with `haechi vuln db import`). For
//! HTTPS, the server's TLS: versions and suites accepted, certificate chain
//! ([`haechi_vuln::tls`]).
//!
//! `haechi web site add|list|remove|run`: institutions' sites inspected on a schedule
//! (by `haechi serve` with `[web] check_secs`, or `web site run`); results are stored,
//! the JavaScript libraries a site serves become its inventory ([`haechi_vuln::sites`]),
//! and checks that start failing and new findings raise `vuln` alerts.

use super::access::{audited, cli_actor};
use super::load_config;
use haechi_access::{AccessStore, AuditEntry};
use haechi_vuln::web::{self, Page};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The largest page read.
const MAX_PAGE_BYTES: usize = 5 * 1024 * 1024;

#[derive(clap::Args)]
pub struct WebArgs {
    #[command(subcommand)]
    command: WebCommand,
    /// A configuration file (for `data_dir`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum WebCommand {
    /// Inspect pages: headers, cookies, disclosed versions, JavaScript libraries.
    Inspect {
        #[arg(required = true)]
        urls: Vec<String>,
        /// One JSON object per page.
        #[arg(long)]
        json: bool,
        /// Seconds one page may take (and each TLS probe connection, at most 10).
        #[arg(long, default_value_t = 15)]
        timeout_secs: u64,
        /// Skip the TLS inspection of HTTPS servers.
        #[arg(long)]
        no_tls: bool,
        /// Also trust the certificate authorities of this PEM file (an institution's
        /// private CA); Mozilla's roots are always trusted.
        #[arg(long)]
        ca: Vec<PathBuf>,
    },
    /// Sites inspected on a schedule, per institution.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
}

#[derive(clap::Subcommand)]
enum SiteCommand {
    /// Put a site under inspection (its first inspection is due at once).
    Add {
        #[arg(long)]
        tenant: String,
        /// Hours between two inspections (1 to 720).
        #[arg(long, default_value_t = 24)]
        every_hours: i64,
        url: String,
    },
    /// The sites, with their latest inspection's failing checks.
    List {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Take a site out of inspection, with its results and inventory.
    Remove { id: i64 },
    /// Inspect the sites that are due now (every site with --all), store the results
    /// and raise the alerts.
    Run {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        all: bool,
        /// Also trust the certificate authorities of this PEM file.
        #[arg(long)]
        ca: Vec<PathBuf>,
    },
}

pub fn run(args: WebArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
    match args.command {
        WebCommand::Inspect {
            urls,
            json,
            timeout_secs,
            no_tls,
            ca,
        } => inspect_command(&config, &urls, json, timeout_secs, no_tls, &ca),
        WebCommand::Site { command } => site_command(&config, command),
    }
}

/// What every inspection of a run shares.
pub struct Inspector {
    repo: Option<haechi_vuln::retire::RetireRepo>,
    probe: haechi_vuln::tls::probe::ProbeOptions,
    timeout: Duration,
    tls: bool,
}

impl Inspector {
    /// Reads Retire.js's repository from the advisory database; `ca` adds trusted roots.
    pub fn new(
        db: &haechi_vuln::AdvisoryDb,
        ca: &[PathBuf],
        timeout_secs: u64,
        tls: bool,
    ) -> anyhow::Result<Inspector> {
        Ok(Inspector {
            repo: db.retire()?,
            probe: haechi_vuln::tls::probe::ProbeOptions {
                timeout: Duration::from_secs(timeout_secs.clamp(1, 10)),
                extra_roots: read_roots(ca)?,
                ..Default::default()
            },
            timeout: Duration::from_secs(timeout_secs.clamp(1, 300)),
            tls,
        })
    }
}

/// One URL's inspection.
pub struct UrlInspection {
    /// As `haechi web inspect --json` prints it.
    pub json: serde_json::Value,
    /// Why the page or the TLS could not be inspected.
    pub errors: Vec<String>,
    /// Every failing check (headers and TLS).
    pub failing: Vec<web::Check>,
    pub scripts: Vec<web::ScriptFinding>,
    checks: Vec<web::Check>,
    /// The MDN HTTP Observatory's grade of the site.
    pub observatory: Option<haechi_vuln::observatory::Grade>,
    tls: Option<haechi_vuln::tls::TlsReport>,
    page: Option<(u16, String)>,
}

/// Inspects one URL: the page (headers, scripts) and, for HTTPS, the TLS. TLS is
/// inspected even when the page could not be read: a server that speaks only legacy
/// versions is exactly the one a modern client fails on.
pub async fn inspect_url(url: &str, inspector: &Inspector) -> UrlInspection {
    let fetched = fetch(url, inspector.timeout).await;
    let mut errors = Vec::new();
    if let Err(e) = &fetched {
        errors.push(format!("{url}: {e:#}"));
    }
    let page = fetched.as_ref().ok();
    let checks = page.map(|p| page_checks(url, p)).unwrap_or_default();
    let scripts = match (page, inspector.repo.as_ref()) {
        (Some(p), Some(r)) => web::script_findings(p, r),
        _ => Vec::new(),
    };
    let landed = page
        .map(|p| p.url.clone())
        .unwrap_or_else(|| url.to_owned());
    let mut tls = None;
    if inspector.tls
        && let Some((host, port)) = tls_target(url, &landed)
    {
        let options = inspector.probe.clone();
        let probed = tokio::task::spawn_blocking(move || {
            haechi_vuln::tls::probe::inspect(&host, port, &options)
                .map_err(|e| format!("TLS inspection of {host}:{port}: {e}"))
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
        match probed {
            Ok(t) => tls = Some(t),
            Err(e) => errors.push(e),
        }
    }
    let mut failing: Vec<web::Check> = checks
        .iter()
        .filter(|c| c.result == "fail")
        .cloned()
        .collect();
    if let Some(t) = &tls {
        failing.extend(t.checks.iter().filter(|c| c.result == "fail").cloned());
    }
    for s in scripts.iter().filter(|s| !s.vulnerabilities.is_empty()) {
        failing.push(web::Check {
            check: "javascript-library",
            result: "fail",
            detail: format!("{} {} ({})", s.library, s.version, s.url),
        });
    }
    let observatory = if page.is_some() {
        match observatory_scan(url, inspector).await {
            Ok(scan) if scan.auto.is_some() => Some(haechi_vuln::observatory::grade(&scan)),
            Ok(_) => None,
            Err(e) => {
                errors.push(format!("{url}: the Observatory's scan: {e:#}"));
                None
            }
        }
    } else {
        None
    };
    let json = json!({
        "url": url,
        "error": fetched.as_ref().err().map(|e| format!("{e:#}")),
        "observatory": observatory,
        "final_url": page.map(|p| &p.url),
        "status": page.map(|p| p.status),
        "checks": checks,
        "scripts": scripts,
        "tls": tls,
    });
    UrlInspection {
        json,
        errors,
        failing,
        observatory,
        page: page.map(|p| (p.status, p.url.clone())),
        scripts,
        checks,
        tls,
    }
}

fn inspect_command(
    config: &crate::config::Config,
    urls: &[String],
    json: bool,
    timeout_secs: u64,
    no_tls: bool,
    ca: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let db = haechi_vuln::AdvisoryDb::open(&haechi_vuln::AdvisoryDb::path_in(&config.data_dir))?;
    let inspector = Inspector::new(&db, ca, timeout_secs, !no_tls)?;
    if inspector.repo.is_none() {
        eprintln!(
            "note: no Retire.js repository imported (haechi vuln db import jsrepository-v4.json): JavaScript libraries are not checked"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut failed = 0;
    for url in urls {
        let result = runtime.block_on(inspect_url(url, &inspector));
        for e in &result.errors {
            eprintln!("error: {e}");
        }
        if !result.errors.is_empty() {
            failed += 1;
        }
        if json {
            println!("{}", result.json);
        } else {
            print_inspection(url, &result);
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_inspection(url: &str, result: &UrlInspection) {
    match &result.page {
        Some((status, landed)) => println!("{url} ({status} {landed})"),
        None => println!("{url} (not read)"),
    }
    for c in &result.checks {
        println!("  {:<4} {:<26} {}", c.result, c.check, c.detail);
    }
    if let Some(g) = &result.observatory {
        println!(
            "  Observatory grade {} (score {}, {} of 12 tests passed)",
            g.grade, g.score, g.passed
        );
        for t in g.tests.iter().filter(|t| !t.pass || t.modifier != 0) {
            println!(
                "    {:<4} {:<30} {:<60} {:+}",
                if t.pass { "pass" } else { "fail" },
                t.test,
                t.result,
                t.modifier
            );
        }
    }
    if let Some(t) = &result.tls {
        print_tls(t);
    }
    for s in &result.scripts {
        let ids: Vec<String> = s
            .vulnerabilities
            .iter()
            .map(|v| {
                v.cves
                    .first()
                    .cloned()
                    .or_else(|| v.ghsa.clone())
                    .unwrap_or_else(|| v.summary.clone())
            })
            .collect();
        println!(
            "  {:<4} {:<26} {} {} ({}){}",
            if ids.is_empty() { "pass" } else { "fail" },
            "javascript-library",
            s.library,
            s.version,
            s.url,
            if ids.is_empty() {
                String::new()
            } else {
                format!(": {}", ids.join(", "))
            }
        );
    }
}

/// What inspecting sites did.
#[derive(Default, Debug, serde::Serialize)]
pub struct SitesRun {
    pub inspected: usize,
    pub errors: usize,
    pub alerts: Vec<haechi_event::Alert>,
}

/// Inspects `sites`, stores each result, keeps each site's inventory of JavaScript
/// libraries current (matched with `matcher`), and gathers the alerts: checks that
/// started failing, and new findings.
pub async fn inspect_sites(
    db: &std::sync::Arc<haechi_vuln::AdvisoryDb>,
    inspector: &Inspector,
    sites: Vec<haechi_vuln::sites::Site>,
) -> anyhow::Result<SitesRun> {
    let mut run = SitesRun::default();
    for site in sites {
        let result = inspect_url(&site.url, inspector).await;
        run.inspected += 1;
        if !result.errors.is_empty() {
            run.errors += 1;
            tracing::warn!(site = %site.url, errors = ?result.errors, "web inspection incomplete");
        }
        let now = haechi_event::Timestamp::now();
        let (db2, site2) = (db.clone(), site.clone());
        let alerts =
            tokio::task::spawn_blocking(move || record_site(&db2, &site2, &result, now)).await??;
        run.alerts.extend(alerts);
    }
    Ok(run)
}

fn record_site(
    db: &haechi_vuln::AdvisoryDb,
    site: &haechi_vuln::sites::Site,
    result: &UrlInspection,
    now: haechi_event::Timestamp,
) -> anyhow::Result<Vec<haechi_event::Alert>> {
    let newly = db.record_inspection(
        site.id,
        now.nanos() / 1_000_000_000,
        &result.failing,
        &result.json,
    )?;
    let mut alerts = haechi_vuln::alerts::for_site_checks(site, &newly, now);
    // The libraries it serves are the site's inventory; stored again only when they change
    // (a finding is new once, not at every inspection).
    if result.page.is_some() {
        let inv = haechi_vuln::sites::website_inventory(&site.url, &result.scripts);
        let mut wanted: Vec<String> = inv.components.iter().map(|c| c.purl.clone()).collect();
        wanted.sort();
        let current = match site.sbom {
            Some(id) => db.sbom_purls(id)?,
            None => Vec::new(),
        };
        if wanted != current {
            if let Some(old) = site.sbom {
                db.remove_sbom(old)?;
            }
            if inv.components.is_empty() {
                db.set_site_sbom(site.id, None)?;
            } else {
                let matcher = haechi_vuln::Matcher::new(db.snapshot()?);
                let stored = haechi_vuln::assets::store_and_match(
                    db,
                    &matcher,
                    &site.tenant,
                    &haechi_vuln::sites::system_of(&site.url),
                    haechi_vuln::ssvc::Exposure::InternetFacing,
                    "",
                    &inv,
                )?;
                db.set_site_sbom(site.id, Some(stored.id))?;
                alerts.extend(haechi_vuln::alerts::for_new_findings(&stored.new, now));
            }
        }
    }
    Ok(alerts)
}

fn site_command(config: &crate::config::Config, command: SiteCommand) -> anyhow::Result<ExitCode> {
    let db = std::sync::Arc::new(haechi_vuln::AdvisoryDb::open(
        &haechi_vuln::AdvisoryDb::path_in(&config.data_dir),
    )?);
    let access = || -> anyhow::Result<AccessStore> {
        let path = AccessStore::path_in(&config.data_dir);
        AccessStore::open(&path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))
    };
    match command {
        SiteCommand::Add {
            tenant,
            every_hours,
            url,
        } => {
            anyhow::ensure!(
                haechi_server::valid_tenant(&tenant),
                "--tenant '{tenant}' is not a valid id"
            );
            let id = audited(&access()?, "web.site.add", &format!("site:{url}"), || {
                let id = db.add_site(&tenant, &url, every_hours.saturating_mul(3600))?;
                let entry = AuditEntry::new(cli_actor(), "web.site.add", format!("site:{id}"))
                    .after(json!({"tenant": tenant, "url": url, "every_hours": every_hours}));
                Ok((id, entry))
            })?;
            println!("site {id}: {url} of {tenant}, every {every_hours} h");
        }
        SiteCommand::List { tenant, json } => {
            let latest = db.latest_inspections(tenant.as_deref())?;
            for site in db.sites(tenant.as_deref())? {
                let last = latest.iter().find(|i| i.site.id == site.id);
                if json {
                    println!(
                        "{}",
                        json!({"site": site, "inspected": last.map(|l| &l.at), "failing": last.map(|l| &l.failing)})
                    );
                } else {
                    println!(
                        "{:>4}  {:<12} {:<40} every {:>3} h  {}",
                        site.id,
                        site.tenant,
                        site.url,
                        site.every_secs / 3600,
                        match last {
                            None => "not inspected yet".to_owned(),
                            Some(l) if l.failing.is_empty() =>
                                format!("{}: every check passed", l.at),
                            Some(l) => format!("{}: failing {}", l.at, l.failing.join(", ")),
                        }
                    );
                }
            }
        }
        SiteCommand::Remove { id } => {
            let target = format!("site:{id}");
            audited(&access()?, "web.site.remove", &target, || {
                anyhow::ensure!(db.remove_site(id)?, "no site {id}");
                Ok(((), AuditEntry::new(cli_actor(), "web.site.remove", &target)))
            })?;
            println!("site {id} removed");
        }
        SiteCommand::Run { tenant, all, ca } => {
            let now = haechi_event::Timestamp::now().nanos() / 1_000_000_000;
            let sites: Vec<_> = if all {
                db.sites(None)?
            } else {
                db.due_sites(now)?
            }
            .into_iter()
            .filter(|s| tenant.as_deref().is_none_or(|t| s.tenant == t))
            .collect();
            let mut roots = config.web.ca.clone();
            roots.extend(ca);
            let inspector = Inspector::new(&db, &roots, 15, true)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let run = runtime.block_on(inspect_sites(&db, &inspector, sites))?;
            let raised = record_alerts(config, &run.alerts)?;
            println!(
                "{} sites inspected ({} incomplete), {raised} alerts raised",
                run.inspected, run.errors
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Records alerts in the state store (the command line's path; `serve` records through
/// detection).
fn record_alerts(
    config: &crate::config::Config,
    alerts: &[haechi_event::Alert],
) -> anyhow::Result<usize> {
    if alerts.is_empty() {
        return Ok(0);
    }
    let path = config.state_db();
    let store = haechi_store::state::AlertStore::open(&path, Duration::from_secs(600))
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    store
        .record(alerts)
        .map_err(|e| anyhow::anyhow!("recording web inspection alerts: {e}"))?;
    Ok(alerts.len())
}

/// `[web] check_secs`: every so often, inspects the sites that are due and records the
/// alerts through `record` (detection's path).
pub async fn inspect_due_sites(
    db: std::sync::Arc<haechi_vuln::AdvisoryDb>,
    ca: Vec<PathBuf>,
    every: Duration,
    record: std::sync::Arc<haechi_server::vuln::RecordFn>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = haechi_event::Timestamp::now().nanos() / 1_000_000_000;
        let due = match db.due_sites(now) {
            Ok(d) if d.is_empty() => continue,
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "web inspection schedule");
                continue;
            }
        };
        let inspector = match Inspector::new(&db, &ca, 15, true) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, "web inspection");
                continue;
            }
        };
        match inspect_sites(&db, &inspector, due).await {
            Ok(run) => {
                tracing::info!(
                    inspected = run.inspected,
                    incomplete = run.errors,
                    alerts = run.alerts.len(),
                    "web sites inspected"
                );
                if !run.alerts.is_empty() {
                    let record = record.clone();
                    let alerts = run.alerts;
                    match tokio::task::spawn_blocking(move || record(&alerts)).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::warn!(error = %e, "recording web inspection alerts"),
                        Err(e) => tracing::warn!(error = %e, "recording web inspection alerts"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "web inspection"),
        }
    }
}

/// The header checks of a page, with the redirection check when plain HTTP was asked.
fn page_checks(url: &str, page: &Page) -> Vec<web::Check> {
    let mut checks = web::check_headers(page);
    if url.starts_with("http://") {
        let upgraded = page.url.starts_with("https://");
        checks.insert(
            0,
            web::Check {
                check: "redirection",
                result: if upgraded { "pass" } else { "fail" },
                detail: if upgraded {
                    format!("redirected to {}", page.url)
                } else {
                    "plain HTTP is not redirected to HTTPS".into()
                },
            },
        );
    }
    checks
}

/// Where to inspect TLS: the URL's own host and port when it is HTTPS, else the HTTPS
/// address it redirected to.
fn tls_target(asked: &str, landed: &str) -> Option<(String, u16)> {
    let url = if asked.starts_with("https://") {
        asked
    } else if landed.starts_with("https://") {
        landed
    } else {
        return None;
    };
    let parsed = reqwest::Url::parse(url).ok()?;
    Some((
        parsed.host_str()?.to_owned(),
        parsed.port_or_known_default()?,
    ))
}

/// The certificates of PEM files, as DER.
fn read_roots(files: &[PathBuf]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let before = out.len();
        use rustls::pki_types::pem::PemObject;
        for item in rustls::pki_types::CertificateDer::pem_slice_iter(&text) {
            out.push(
                item.map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?
                    .to_vec(),
            );
        }
        anyhow::ensure!(
            out.len() > before,
            "{}: no PEM certificate in it",
            f.display()
        );
    }
    Ok(out)
}

fn print_tls(t: &haechi_vuln::tls::TlsReport) {
    println!(
        "  TLS {}:{} ({} connections)",
        t.host, t.port, t.connections
    );
    for p in &t.protocols {
        if p.offered {
            let order = match p.server_order {
                Some(true) => ", server's order",
                Some(false) => ", client's order",
                None => "",
            };
            println!(
                "    {:<8} {} suites{order}",
                p.protocol.name(),
                p.suites.len()
            );
            for s in &p.suites {
                println!("      {} {:<34} {:?}", s.code, s.openssl, s.strength);
            }
        } else {
            println!("    {:<8} not offered", p.protocol.name());
        }
    }
    if let Some(c) = &t.certificate {
        for (i, cert) in c.certificates.iter().enumerate() {
            println!(
                "    certificate {i}: {} (issuer {}; {} {} bits; {}; until {})",
                cert.subject,
                cert.issuer,
                cert.key_type,
                cert.key_bits,
                cert.signature,
                cert.not_after
            );
        }
    }
    if let Some(e) = &t.certificate_error {
        println!("    certificate: {e}");
    }
    for c in &t.checks {
        println!("  {:<4} {:<26} {}", c.result, c.check, c.detail);
    }
}

/// Reads a response's headers and body (at most [`MAX_PAGE_BYTES`]).
async fn read_response(
    mut response: reqwest::Response,
    verified: bool,
) -> anyhow::Result<haechi_vuln::observatory::Response> {
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        anyhow::ensure!(
            body.len() + chunk.len() <= MAX_PAGE_BYTES,
            "the page is over {MAX_PAGE_BYTES} bytes"
        );
        body.extend_from_slice(&chunk);
    }
    Ok(haechi_vuln::observatory::Response {
        headers,
        status,
        verified,
        body: String::from_utf8_lossy(&body).into_owned(),
        http_equiv: Default::default(),
    })
}

/// One session the way the Observatory makes it: a GET, at most 10 redirects followed by
/// hand with every URL recorded; on a failure with certificate verification, the whole
/// session again without it (and `verified` false).
async fn observatory_session(
    start: &str,
    clients: &[(bool, &reqwest::Client)],
) -> Option<(haechi_vuln::observatory::Response, Vec<String>)> {
    'client: for (verified, client) in clients {
        let mut url = start.to_owned();
        let mut chain = Vec::new();
        for _ in 0..=10 {
            chain.push(url.clone());
            let Ok(response) = client.get(&url).send().await else {
                continue 'client;
            };
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            match (status, location) {
                (301 | 302 | 303 | 307 | 308, Some(l)) => {
                    let Ok(next) = response.url().join(&l) else {
                        continue 'client;
                    };
                    url = next.to_string();
                }
                _ => {
                    let r = read_response(response, *verified).await.ok()?;
                    return Some((r, chain));
                }
            }
        }
        return None;
    }
    None
}

/// What the MDN HTTP Observatory would gather for `url`: the https and the http session
/// of its host and path, the http session's redirect chain, and a CORS preflight.
async fn observatory_scan(
    url: &str,
    inspector: &Inspector,
) -> anyhow::Result<haechi_vuln::observatory::Scan> {
    let parsed = reqwest::Url::parse(url)?;
    let host = parsed
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("{url}: no host"))?;
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let builder = || {
        reqwest::Client::builder()
            .timeout(inspector.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("haechi-web-inspect/", env!("CARGO_PKG_VERSION")))
    };
    let mut strict = builder();
    for root in &inspector.probe.extra_roots {
        strict = strict.add_root_certificate(reqwest::Certificate::from_der(root)?);
    }
    let strict = strict.build()?;
    let lax = builder().tls_danger_accept_invalid_certs(true).build()?;
    let clients = [(true, &strict), (false, &lax)];
    // As the Observatory does: both sessions on the port given, if one is.
    let with_port = |scheme: &str| match parsed.port() {
        Some(p) => format!("{scheme}://{host}:{p}{path}"),
        None => format!("{scheme}://{host}{path}"),
    };
    let https = observatory_session(&with_port("https"), &clients).await;
    let http = observatory_session(&with_port("http"), &clients).await;
    let session_https = https.is_some();
    let (auto, primary_chain) = match (&https, &http) {
        (Some((r, c)), _) | (None, Some((r, c))) => (Some(r.clone()), c.clone()),
        _ => (None, Vec::new()),
    };
    let mut auto = auto;
    if let Some(a) = auto.as_mut() {
        let content_type = a.values("content-type").into_iter().next();
        a.http_equiv = haechi_vuln::observatory::http_equiv(content_type.as_deref(), &a.body);
    }
    let mut cors = None;
    if let (Some(a), Some(last)) = (&auto, primary_chain.last()) {
        let client = if a.verified { &strict } else { &lax };
        let preflight = client
            .request(reqwest::Method::OPTIONS, last)
            .header("Access-Control-Request-Method", "GET")
            .header("Origin", haechi_vuln::observatory::PREFLIGHT_ORIGIN)
            // Servers that ignore OPTIONS should not hold the inspection up.
            .timeout(inspector.timeout.min(Duration::from_secs(3)))
            .send()
            .await;
        if let Ok(r) = preflight
            && r.status().is_success()
        {
            cors = read_response(r, a.verified).await.ok();
        }
    }
    Ok(haechi_vuln::observatory::Scan {
        hostname: host.to_ascii_lowercase(),
        session_https,
        auto,
        http_redirects: http.as_ref().map(|(_, c)| c.clone()).unwrap_or_default(),
        http: http.map(|(r, _)| r),
        https: https.map(|(r, _)| r),
        cors,
    })
}

async fn fetch(url: &str, timeout: Duration) -> anyhow::Result<Page> {
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "only http and https URLs are inspected"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Certificate problems are the TLS checks' to report: the page is read all the same.
    let client = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .timeout(timeout)
        .user_agent(concat!("haechi-web-inspect/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut response = client.get(url).send().await?;
    let status = response.status().as_u16();
    let final_url = response.url().to_string();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        anyhow::ensure!(
            body.len() + chunk.len() <= MAX_PAGE_BYTES,
            "the page is over {MAX_PAGE_BYTES} bytes"
        );
        body.extend_from_slice(&chunk);
    }
    Ok(Page {
        url: final_url,
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
