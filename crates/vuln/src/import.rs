//! Importing advisories and exploitation data from files and folders, offline: OSV in
//! JSON (RustSec's export, Go's vulndb, GitHub's, an array or one object per file) and in
//! YAML (PyPA), RubySec, FriendsOfPHP and Node.js security WG advisories (converted to
//! OSV by [`crate::convert`]), the CISA KEV catalog, SSVC inputs from Vulnrichment (CSV)
//! and EPSS scores (CSV), and the NVD's CVE records (API 2.0 responses, 1.1 feeds) for
//! their CPE ranges ([`crate::cpe`]). The format is recognised by content, not by name; every file that is not
//! imported is named with the reason.

use crate::advisory::Advisory;
use crate::db::{AdvisoryDb, Epss, KevEntry, Tx, Upsert};
use crate::ssvc::KnownInputs;
use crate::{Result, VulnError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The largest file read (the biggest real feed, an ecosystem's `all.json`, is far
/// smaller; the limit stops a runaway file from exhausting memory).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub files: usize,
    pub advisories_added: usize,
    pub advisories_updated: usize,
    pub advisories_unchanged: usize,
    /// Advisories imported that are marked withdrawn (kept, never matched).
    pub withdrawn: usize,
    /// Advisories converted from another format whose ranges could only be approximated
    /// in OSV (each says how in `database_specific.haechi_approximations`).
    pub approximated: usize,
    pub kev: usize,
    pub ssvc: usize,
    pub epss: usize,
    /// Vulnerable CPE ranges read from NVD records.
    pub cpe_ranges: usize,
    /// Retire.js repositories imported (the last one is kept).
    pub retire_libraries: usize,
    /// Files that hold no advisory data (READMEs, schemas), with the reason.
    pub skipped: Vec<Skipped>,
    /// Files that look like advisory data but could not be read, with the reason.
    pub errors: Vec<Skipped>,
    /// The ids of the advisories added or changed (to match against stored inventories).
    #[serde(skip)]
    pub changed: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Imports every path (files, or folders walked recursively) into `db`, one
/// transaction per file.
pub fn import_paths(db: &AdvisoryDb, paths: &[PathBuf]) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| VulnError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files).map_err(|e| VulnError::Read {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            files.sort();
            for f in files {
                import_file(db, &f, &mut report)?;
            }
        } else {
            import_file(db, path, &mut report)?;
        }
    }
    Ok(report)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if ty.is_dir() {
            walk(&entry.path(), out)?;
        } else if ty.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// What a file holds, recognised by its content.
enum Content {
    /// Advisories, and how many of them were approximated in conversion.
    Osv(Vec<Advisory>, usize),
    Kev(Vec<KevEntry>),
    Ssvc(Vec<(String, KnownInputs)>),
    Epss(Vec<(String, Epss)>),
    Cpe(Vec<crate::cpe::CpeRange>),
    /// Retire.js's repository of JavaScript libraries (stored whole, replacing the last).
    Retire(String),
    NotAdvisories(String),
}

fn import_file(db: &AdvisoryDb, path: &Path, report: &mut ImportReport) -> Result<()> {
    let shown = path.display().to_string();
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if len > MAX_FILE_BYTES {
        report.errors.push(Skipped {
            path: shown,
            reason: format!("larger than {MAX_FILE_BYTES} bytes"),
        });
        return Ok(());
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                report.skipped.push(Skipped {
                    path: shown,
                    reason: "not UTF-8 text".into(),
                });
                return Ok(());
            }
        },
        Err(e) => {
            report.errors.push(Skipped {
                path: shown,
                reason: e.to_string(),
            });
            return Ok(());
        }
    };
    let content = match recognise(path, &text) {
        Ok(c) => c,
        Err(reason) => {
            report.errors.push(Skipped {
                path: shown,
                reason,
            });
            return Ok(());
        }
    };
    report.files += 1;
    let source = source_name(path);
    db.transaction(|tx| store(tx, &source, content, &shown, report))
}

fn store(
    tx: &Tx<'_>,
    source: &str,
    content: Content,
    shown: &str,
    report: &mut ImportReport,
) -> Result<()> {
    match content {
        Content::Osv(advisories, approximated) => {
            report.approximated += approximated;
            for a in advisories {
                if a.withdrawn.is_some() {
                    report.withdrawn += 1;
                }
                match tx.upsert_advisory(source, &a)? {
                    Upsert::Added => report.advisories_added += 1,
                    Upsert::Updated => report.advisories_updated += 1,
                    Upsert::Unchanged => {
                        report.advisories_unchanged += 1;
                        continue;
                    }
                }
                report.changed.push(a.id);
            }
        }
        Content::Kev(entries) => {
            for k in &entries {
                tx.upsert_kev(k)?;
            }
            report.kev += entries.len();
        }
        Content::Ssvc(rows) => {
            for (cve, k) in &rows {
                tx.upsert_ssvc(cve, k)?;
            }
            report.ssvc += rows.len();
        }
        Content::Epss(rows) => {
            for (cve, e) in &rows {
                tx.upsert_epss(cve, *e)?;
            }
            report.epss += rows.len();
        }
        Content::Cpe(ranges) => {
            tx.replace_cpe(&ranges)?;
            report.cpe_ranges += ranges.len();
        }
        Content::Retire(text) => {
            tx.set_retire(&text)?;
            report.retire_libraries += 1;
        }
        Content::NotAdvisories(reason) => {
            report.files -= 1;
            report.skipped.push(Skipped {
                path: shown.to_owned(),
                reason,
            });
        }
    }
    Ok(())
}

/// Imports OSV advisories given as JSON values (those a partner's STIX `vulnerability`
/// objects carry in `x_haechi_osv`), each named by `label` (its STIX id) in errors, all
/// under `source` and in one transaction.
pub fn import_values(
    db: &AdvisoryDb,
    source: &str,
    values: Vec<(String, serde_json::Value)>,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut advisories = Vec::new();
    for (label, value) in values {
        match osv(value) {
            Ok(a) => advisories.push(a),
            Err(reason) => report.errors.push(Skipped {
                path: label,
                reason,
            }),
        }
    }
    if advisories.is_empty() {
        return Ok(report);
    }
    report.files = 1;
    db.transaction(|tx| store(tx, source, Content::Osv(advisories, 0), source, &mut report))?;
    Ok(report)
}

/// The database an advisory came from, for provenance: the id prefix's home.
fn source_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn recognise(path: &Path, text: &str) -> std::result::Result<Content, String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "json" => recognise_json(text),
        "yaml" | "yml" => recognise_yaml(path, text),
        "csv" => recognise_csv(text),
        _ => Ok(Content::NotAdvisories(format!(
            "not an advisory format (extension '.{ext}')"
        ))),
    }
}

fn recognise_json(text: &str) -> std::result::Result<Content, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    if value.get("catalogVersion").is_some() && value.get("vulnerabilities").is_some() {
        return kev(&value).map(Content::Kev);
    }
    if let Some(nvd) = crate::cpe::from_nvd(&value) {
        return nvd.map(Content::Cpe);
    }
    let is_retire = value.as_object().is_some_and(|o| {
        !o.is_empty() && o.values().filter(|l| l.get("extractors").is_some()).count() * 2 > o.len()
    });
    if is_retire {
        crate::retire::RetireRepo::parse(text)?;
        return Ok(Content::Retire(text.to_owned()));
    }
    let is_osv = |v: &serde_json::Value| {
        v.get("id").is_some_and(|i| i.is_string())
            && (v.get("affected").is_some() || v.get("modified").is_some())
    };
    match &value {
        serde_json::Value::Array(items) if !items.is_empty() && items.iter().all(is_osv) => items
            .iter()
            .map(|v| osv(v.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(|a| Content::Osv(a, 0)),
        v if is_osv(v) => osv(value.clone()).map(|a| Content::Osv(vec![a], 0)),
        v if v.get("module_name").is_some() && v.get("vulnerable_versions").is_some() => {
            converted(crate::convert::nodejs_wg(v))
        }
        _ => Ok(Content::NotAdvisories(
            "JSON that is neither OSV, the KEV catalog nor NVD records".into(),
        )),
    }
}

fn osv(value: serde_json::Value) -> std::result::Result<Advisory, String> {
    let a: Advisory =
        serde_json::from_value(value).map_err(|e| format!("not a valid OSV advisory: {e}"))?;
    check_advisory(a)
}

fn check_advisory(a: Advisory) -> std::result::Result<Advisory, String> {
    if a.id.is_empty() || a.id.len() > 128 {
        return Err("OSV advisory without a usable id".into());
    }
    Ok(a)
}

fn converted(
    result: std::result::Result<(Advisory, Vec<String>), String>,
) -> std::result::Result<Content, String> {
    let (a, notes) = result?;
    check_advisory(a).map(|a| Content::Osv(vec![a], usize::from(!notes.is_empty())))
}

fn recognise_yaml(path: &Path, text: &str) -> std::result::Result<Content, String> {
    let value: serde_json::Value =
        yaml_serde::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    if value.get("id").is_some() && value.get("affected").is_some() {
        // Typed reading keeps unquoted versions (`1.10`) as the text written.
        let a: Advisory =
            yaml_serde::from_str(text).map_err(|e| format!("not a valid OSV advisory: {e}"))?;
        return check_advisory(a).map(|a| Content::Osv(vec![a], 0));
    }
    if value.get("gem").is_some() {
        return converted(crate::convert::rubysec(&value));
    }
    if value.get("engine").is_some() && value.get("patched_versions").is_some() {
        return Ok(Content::NotAdvisories(
            "a RubySec advisory for a Ruby interpreter, not a gem".into(),
        ));
    }
    if value
        .get("reference")
        .and_then(|r| r.as_str())
        .is_some_and(|r| r.starts_with("composer://"))
    {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return converted(crate::convert::friendsofphp(&value, &stem));
    }
    Ok(Content::NotAdvisories(
        "YAML that is not an OSV advisory".into(),
    ))
}

fn kev(value: &serde_json::Value) -> std::result::Result<Vec<KevEntry>, String> {
    let list = value["vulnerabilities"]
        .as_array()
        .ok_or("KEV catalog without a vulnerabilities list")?;
    let s =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    list.iter()
        .map(|v| {
            let cve = s(v, "cveID");
            if !cve.starts_with("CVE-") {
                return Err(format!("KEV entry without a CVE id: {v}"));
            }
            Ok(KevEntry {
                cve,
                date_added: s(v, "dateAdded"),
                due_date: s(v, "dueDate"),
                ransomware: s(v, "knownRansomwareCampaignUse"),
                vendor: s(v, "vendorProject"),
                product: s(v, "product"),
                name: s(v, "vulnerabilityName"),
            })
        })
        .collect()
}

fn recognise_csv(text: &str) -> std::result::Result<Content, String> {
    // EPSS files start with a `#model_version:…` comment line.
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("invalid CSV: {e}"))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    if let (Some(cve), Some(expl)) = (col("cve"), col("exploitation")) {
        let (auto, tech) = (col("automatable"), col("technical_impact"));
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| format!("line {}: {e}", i + 2))?;
            let get = |c: Option<usize>| {
                c.and_then(|c| rec.get(c))
                    .map(|v| v.trim().to_ascii_lowercase())
                    .filter(|v| !v.is_empty())
            };
            let id = rec.get(cve).unwrap_or("").trim().to_owned();
            if !id.starts_with("CVE-") {
                return Err(format!("line {}: '{id}' is not a CVE id", i + 2));
            }
            rows.push((
                id,
                KnownInputs {
                    exploitation: get(Some(expl)),
                    automatable: get(auto),
                    technical_impact: get(tech),
                },
            ));
        }
        return Ok(Content::Ssvc(rows));
    }
    if let (Some(cve), Some(score), Some(pct)) = (col("cve"), col("epss"), col("percentile")) {
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| format!("line {}: {e}", i + 2))?;
            let num = |c: usize| -> std::result::Result<f64, String> {
                let v = rec.get(c).unwrap_or("");
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or_else(|| format!("line {}: '{v}' is not a probability", i + 2))
            };
            rows.push((
                rec.get(cve).unwrap_or("").trim().to_owned(),
                Epss {
                    score: num(score)?,
                    percentile: num(pct)?,
                },
            ));
        }
        return Ok(Content::Epss(rows));
    }
    Ok(Content::NotAdvisories(
        "CSV that is neither SSVC inputs (cve, exploitation, …) nor EPSS (cve, epss, percentile)"
            .into(),
    ))
}
