//! `haechi web inspect URL...`: passive inspection of web pages — one GET each (redirects
//! followed), the security headers and cookies checked, software versions the server
//! discloses, and the JavaScript libraries the page loads matched to their known
//! vulnerabilities (Retire.js's repository, imported with `haechi vuln db import`).

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
        /// Seconds one page may take.
        #[arg(long, default_value_t = 15)]
        timeout_secs: u64,
    },
}

pub fn run(args: WebArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
    let WebCommand::Inspect {
        urls,
        json,
        timeout_secs,
    } = args.command;
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
        let page =
            match runtime.block_on(fetch(url, Duration::from_secs(timeout_secs.clamp(1, 300)))) {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("error: {url}: {e}");
                    failed += 1;
                    continue;
                }
            };
        let mut checks = web::check_headers(&page);
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
        let scripts = repo
            .as_ref()
            .map(|r| web::script_findings(&page, r))
            .unwrap_or_default();
        if json {
            println!(
                "{}",
                json!({"url": url, "final_url": page.url, "status": page.status, "checks": checks, "scripts": scripts})
            );
        } else {
            println!("{url} ({} {})", page.status, page.url);
            for c in &checks {
                println!("  {:<4} {:<26} {}", c.result, c.check, c.detail);
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
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn fetch(url: &str, timeout: Duration) -> anyhow::Result<Page> {
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "only http and https URLs are inspected"
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
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
