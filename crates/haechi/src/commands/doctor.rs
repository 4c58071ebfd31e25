//! `haechi doctor [--json]`: checks a deployment and says what to do — the data directory
//! (writable, nobody else can read the credentials and the signing key, disk space), the
//! clock (stored events from the future mean a clock behind, or a source stamping ahead),
//! the HTTPS certificate's expiry, the detection rules (each one loads), the threat-intel
//! feed files (present and fresh), and the dead letters of the last day. Exit 0 when
//! nothing failed (warnings are printed), 1 otherwise.

use crate::config::Config;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// One JSON object: `{"healthy", "checks": [{"check", "status", "detail", "fix"}]}`.
    #[arg(long)]
    json: bool,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The configuration file the deployment runs with.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    status: Status,
    detail: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

fn check(
    name: &'static str,
    status: Status,
    detail: impl Into<String>,
    fix: Option<&str>,
) -> Check {
    Check {
        check: name,
        status,
        detail: detail.into(),
        fix: fix.map(str::to_owned),
    }
}

/// Free space below these is a warning, below the failure ones a failure.
const WARN_FREE_SHARE: f64 = 0.10;
const FAIL_FREE_SHARE: f64 = 0.03;
const FAIL_FREE_BYTES: u64 = 1 << 30;
/// A certificate expiring within this many days is a warning.
const CERT_WARN_DAYS: i64 = 30;
/// A feed file older than this is stale.
const FEED_STALE_DAYS: u64 = 7;
/// Dead letters in the last day from which to warn.
const DEAD_LETTERS_WARN: usize = 100;
/// Events stamped this far ahead of the clock say the clock (or a source) is off.
const FUTURE_SKEW_SECS: i64 = 300;

pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), args.data_dir.clone())?;
    let mut checks = Vec::new();
    checks.extend(data_dir_checks(&config.data_dir));
    checks.push(disk(&config.data_dir));
    checks.extend(store_checks(&config));
    checks.push(certificate(&config));
    checks.push(rules(&config));
    checks.extend(feeds(&config));
    let healthy = checks.iter().all(|c| c.status != Status::Fail);
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&serde_json::json!({"healthy": healthy, "checks": checks}))?
        );
    } else {
        for c in &checks {
            let mark = match c.status {
                Status::Ok => "ok  ",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            println!("{mark} {:<14} {}", c.check, c.detail);
            if let Some(f) = &c.fix {
                println!("     {:<14} → {f}", "");
            }
        }
        println!(
            "{}",
            if healthy {
                "healthy"
            } else {
                "not healthy: fix the FAIL lines"
            }
        );
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(unix)]
fn mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn mode(_: &Path) -> Option<u32> {
    None
}

fn data_dir_checks(dir: &Path) -> Vec<Check> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        out.push(check(
            "data-dir",
            Status::Fail,
            format!("{} does not exist", dir.display()),
            Some("run `haechi serve` once (it creates it) or give --data-dir"),
        ));
        return out;
    }
    let probe = dir.join(".doctor-probe");
    match std::fs::write(&probe, b"x").and_then(|_| std::fs::remove_file(&probe)) {
        Ok(()) => out.push(check(
            "data-dir",
            Status::Ok,
            format!("{} is writable", dir.display()),
            None,
        )),
        Err(e) => out.push(check(
            "data-dir",
            Status::Fail,
            format!("{} is not writable: {e}", dir.display()),
            Some("give the user Haechi runs as write access to it"),
        )),
    }
    if mode(dir).is_some_and(|m| m & 0o002 != 0) {
        out.push(check(
            "permissions",
            Status::Fail,
            format!("{} is writable by every user", dir.display()),
            Some("chmod o-w on the data directory"),
        ));
    }
    // Password hashes, tokens and the evidence signing key: owner-only.
    for (what, path) in [
        ("users and tokens", haechi_access::AccessStore::path_in(dir)),
        (
            "the evidence signing key",
            haechi_forensics::keys::dir_in(dir).join(haechi_forensics::keys::PRIVATE_FILE),
        ),
    ] {
        match mode(&path) {
            Some(m) if m & 0o077 != 0 => out.push(check(
                "permissions",
                Status::Fail,
                format!(
                    "{} ({what}) is readable by others (mode {m:o})",
                    path.display()
                ),
                Some("chmod 600 it"),
            )),
            Some(_) => out.push(check(
                "permissions",
                Status::Ok,
                format!("{} ({what}) is owner-only", path.display()),
                None,
            )),
            None => {}
        }
    }
    out
}

fn disk(dir: &Path) -> Check {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return check(
            "disk",
            Status::Warn,
            "the data directory's path cannot be asked about",
            None,
        );
    };
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `s` a statvfs to fill.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return check(
            "disk",
            Status::Warn,
            format!("cannot read the free space of {}", dir.display()),
            None,
        );
    }
    let free = s.f_bavail as u64 * s.f_frsize as u64;
    let total = (s.f_blocks as u64 * s.f_frsize as u64).max(1);
    let share = free as f64 / total as f64;
    let detail = format!(
        "{:.1} GB free of {:.1} GB ({:.0} %)",
        free as f64 / 1e9,
        total as f64 / 1e9,
        share * 100.0
    );
    if share < FAIL_FREE_SHARE || free < FAIL_FREE_BYTES {
        check(
            "disk",
            Status::Fail,
            detail,
            Some(
                "free space or move the data directory: the store stops accepting events when the disk is full",
            ),
        )
    } else if share < WARN_FREE_SHARE {
        check(
            "disk",
            Status::Warn,
            detail,
            Some("shorten [store] retention or add space"),
        )
    } else {
        check("disk", Status::Ok, detail, None)
    }
}

/// The clock against the newest stored event, and the dead letters of the last day.
fn store_checks(config: &Config) -> Vec<Check> {
    let store = match super::open_store_read_only(config) {
        Ok(s) => s,
        Err(e) => {
            return vec![check(
                "store",
                Status::Ok,
                format!("no events stored yet ({e:#})"),
                None,
            )];
        }
    };
    let mut out = Vec::new();
    let now = haechi_event::Timestamp::now();
    let newest = haechi_query::parse("*")
        .ok()
        .and_then(|q| {
            let mut r = haechi_store::SearchRequest::new(q);
            r.limit = 1;
            store.search(&r).ok()
        })
        .and_then(|found| found.events.first().map(|e| e.timestamp));
    match newest {
        Some(t) if (t.0 - now.0) / 1_000_000_000 > FUTURE_SKEW_SECS => out.push(check(
            "clock",
            Status::Warn,
            format!(
                "the newest stored event is {} s ahead of this machine's clock ({})",
                (t.0 - now.0) / 1_000_000_000,
                t.to_rfc3339()
            ),
            Some("check NTP on this machine, or the clock and time zone ([parse] timezone) of the source"),
        )),
        Some(t) => out.push(check(
            "clock",
            Status::Ok,
            format!("no stored event from the future (newest {})", t.to_rfc3339()),
            None,
        )),
        None => out.push(check("clock", Status::Ok, "no stored event to compare with", None)),
    }
    match store.dead_letters() {
        Ok(list) => {
            let day_ago = now.0 - 86_400_000_000_000;
            let recent = list.iter().filter(|d| d.received.0 >= day_ago).count();
            let status = if recent >= DEAD_LETTERS_WARN {
                Status::Warn
            } else {
                Status::Ok
            };
            out.push(check(
                "dead-letters",
                status,
                format!("{recent} in the last 24 h, {} kept in all", list.len()),
                (status == Status::Warn).then_some("`haechi deadletter` shows each with its reason: a source sends a format it is not configured for"),
            ));
        }
        Err(e) => out.push(check(
            "dead-letters",
            Status::Warn,
            format!("cannot read them: {e}"),
            None,
        )),
    }
    out
}

fn certificate(config: &Config) -> Check {
    let Some(path) = &config.http.tls_cert else {
        return check(
            "certificate",
            Status::Ok,
            "no HTTPS certificate configured ([http] tls_cert)",
            None,
        );
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return check(
                "certificate",
                Status::Fail,
                format!("{}: {e}", path.display()),
                Some("point [http] tls_cert at the certificate's PEM file"),
            );
        }
    };
    let der = pem_first_certificate(&text);
    let now = haechi_event::Timestamp::now().0 / 1_000_000_000;
    match der
        .as_deref()
        .map(|d| haechi_vuln::tls::cert::describe(d, now))
    {
        Some(Ok(c)) if c.days_left < 0 => check(
            "certificate",
            Status::Fail,
            format!(
                "{} expired {} days ago ({})",
                path.display(),
                -c.days_left,
                c.not_after
            ),
            Some("renew it: browsers and TAXII clients refuse the console and the hub"),
        ),
        Some(Ok(c)) if c.days_left < CERT_WARN_DAYS => check(
            "certificate",
            Status::Warn,
            format!(
                "{} expires in {} days ({})",
                path.display(),
                c.days_left,
                c.not_after
            ),
            Some("renew it before it expires"),
        ),
        Some(Ok(c)) => check(
            "certificate",
            Status::Ok,
            format!("{} valid for {} more days", path.display(), c.days_left),
            None,
        ),
        Some(Err(e)) => check(
            "certificate",
            Status::Fail,
            format!("{}: {e}", path.display()),
            None,
        ),
        None => check(
            "certificate",
            Status::Fail,
            format!("{}: no PEM certificate in it", path.display()),
            None,
        ),
    }
}

/// The DER of the first `CERTIFICATE` block of a PEM text.
fn pem_first_certificate(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + text[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = text[start..end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

fn rules(config: &Config) -> Check {
    if config.detect.rules.is_empty() {
        return check(
            "rules",
            Status::Warn,
            "no detection rules configured ([detect] rules): nothing is detected but equipment alerts and indicators",
            Some("add the starter pack or the SigmaHQ rules to [detect] rules"),
        );
    }
    // The rules alone, as `haechi rules check` reads them: the doctor changes nothing.
    let set = match haechi_detect::rules::load_rules(&config.detect.rules) {
        Ok(set) => set,
        Err(e) => {
            return check(
                "rules",
                Status::Fail,
                format!("cannot read the rules: {e}"),
                Some("fix the paths in [detect] rules"),
            );
        }
    };
    let loaded = set.rules.len() + set.correlations.len();
    if loaded == 0 {
        check(
            "rules",
            Status::Fail,
            format!("rules are configured but none of {} loads", set.total),
            Some("`haechi rules check PATH` names each rule that does not load and why"),
        )
    } else if !set.failures.is_empty() {
        check(
            "rules",
            Status::Warn,
            format!("{loaded} rules load, {} do not", set.failures.len()),
            Some("`haechi rules check PATH` names each rule that does not load and why"),
        )
    } else {
        check("rules", Status::Ok, format!("{loaded} rules load"), None)
    }
}

fn feeds(config: &Config) -> Vec<Check> {
    let mut out = Vec::new();
    for f in &config.intel.feeds {
        if f.url.is_some() || f.path.as_os_str().is_empty() {
            continue;
        }
        match std::fs::metadata(&f.path).and_then(|m| m.modified()) {
            Ok(t) => {
                let days = t.elapsed().map(|d| d.as_secs() / 86_400).unwrap_or(0);
                let status = if days > FEED_STALE_DAYS {
                    Status::Warn
                } else {
                    Status::Ok
                };
                out.push(check(
                    "feed",
                    status,
                    format!(
                        "{} ({}) last changed {days} days ago",
                        f.name,
                        f.path.display()
                    ),
                    (status == Status::Warn)
                        .then_some("whatever updates this file has stopped: indicators go stale"),
                ));
            }
            Err(e) => out.push(check(
                "feed",
                Status::Fail,
                format!("{} ({}): {e}", f.name, f.path.display()),
                Some("fix the path in [[intel.feeds]] or remove the feed"),
            )),
        }
    }
    out
}
