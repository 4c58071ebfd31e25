//! `haechi web inspect URL...`: passive inspection of web pages — one GET each (redirects
//! followed), the security headers and cookies checked, software versions the server
//! discloses, and the JavaScript libraries the page loads matched to their known
//! vulnerabilities (Retire.js's repository, imported with `haechi vuln db import`). For
//! HTTPS, the server's TLS: versions and suites accepted, certificate chain
//! ([`haechi_vuln::tls`]).

use super::load_config;
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
}

pub fn run(args: WebArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
    let WebCommand::Inspect {
        urls,
        json,
        timeout_secs,
        no_tls,
        ca,
    } = args.command;
    let extra_roots = read_roots(&ca)?;
    let probe_options = haechi_vuln::tls::probe::ProbeOptions {
        timeout: Duration::from_secs(timeout_secs.clamp(1, 10)),
        extra_roots,
        ..Default::default()
    };
    let db = haechi_vuln::AdvisoryDb::open(&haechi_vuln::AdvisoryDb::path_in(&config.data_dir))?;
    let repo = db.retire()?;
    if repo.is_none() {
        eprintln!(
            "note: no Retire.js repository imported (haechi vuln db import jsrepository-v4.json): JavaScript libraries are not checked"
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut failed = 0;
    for url in &urls {
        let fetched = runtime.block_on(fetch(url, Duration::from_secs(timeout_secs.clamp(1, 300))));
        if let Err(e) = &fetched {
            eprintln!("error: {url}: {e}");
            failed += 1;
        }
        let page = fetched.as_ref().ok();
        let checks = page.map(|p| page_checks(url, p)).unwrap_or_default();
        let scripts = match (page, repo.as_ref()) {
            (Some(p), Some(r)) => web::script_findings(p, r),
            _ => Vec::new(),
        };
        // TLS is inspected even when the page could not be read: a server that speaks
        // only legacy versions is exactly the one a modern client fails on.
        let landed = page.map(|p| p.url.as_str()).unwrap_or(url);
        let tls = if no_tls {
            None
        } else {
            tls_target(url, landed).map(|(host, port)| {
                haechi_vuln::tls::probe::inspect(&host, port, &probe_options)
                    .map_err(|e| format!("{host}:{port}: {e}"))
            })
        };
        if let Some(Err(e)) = &tls {
            eprintln!("error: TLS inspection of {e}");
            failed += 1;
        }
        let tls = tls.and_then(Result::ok);
        if json {
            println!(
                "{}",
                json!({
                    "url": url,
                    "error": fetched.as_ref().err().map(|e| format!("{e:#}")),
                    "final_url": page.map(|p| &p.url),
                    "status": page.map(|p| p.status),
                    "checks": checks,
                    "scripts": scripts,
                    "tls": tls,
                })
            );
            continue;
        }
        match page {
            Some(p) => println!("{url} ({} {})", p.status, p.url),
            None => println!("{url} (not read)"),
        }
        for c in &checks {
            println!("  {:<4} {:<26} {}", c.result, c.check, c.detail);
        }
        if let Some(t) = &tls {
            print_tls(t);
        }
        for s in &scripts {
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
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
