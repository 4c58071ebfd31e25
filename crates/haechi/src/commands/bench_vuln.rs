//! `haechi bench --stages vuln`: the vulnerability center on the staged real data —
//! every advisory database imported, the matcher compiled, and a 10,000-component
//! CycloneDX 1.6 SBOM (real components of the staged SBOMs and lockfiles) read and
//! scanned, as the median of 5 runs; then 1,000 SBOMs of 1,000 of those components
//! each (one million) stored, and single advisories re-matched against all of them, as
//! when a new advisory arrives. Dependency-Track users report BOMs of this size
//! taking over 30 minutes; no peer scanner can run offline here, so there is no ratio.

use super::bench::BenchArgs;
use haechi_vuln::db::AdvisoryDb;
use haechi_vuln::inventory;
use haechi_vuln::matcher::{Matcher, ScanSummary};
use haechi_vuln::ssvc::Exposure;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

const COMPONENTS: usize = 10_000;

const ADVISORY_SOURCES: &[&str] = &[
    "rustsec_osv/crates",
    "pypa_advisory_db/vulns",
    "golang_vulndb/data/osv",
    "rubysec_advisory_db/gems",
    "friendsofphp_security_advisories",
    "nodejs_security_wg/vuln/npm",
    "cisa_kev",
    "vulnrichment",
];

const INVENTORY_SOURCES: &[&str] = &["cyclonedx", "sbom_real", "lockfiles", "cargo_lock", "spdx"];

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Distinct real components of every staged SBOM and lockfile, as CycloneDX entries,
/// repeated with a `-n` suffix on the name if there are fewer than `COMPONENTS`.
fn real_components(vulns: &Path) -> Vec<haechi_vuln::Component> {
    let mut files = Vec::new();
    for d in INVENTORY_SOURCES {
        files_under(&vulns.join(d), &mut files);
    }
    files.sort();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for f in files {
        if let Ok(inv) = inventory::read_file(&f) {
            for c in inv.components {
                if seen.insert(c.purl.clone()) {
                    out.push(c);
                }
            }
        }
    }
    out
}

fn synthetic_sbom(vulns: &Path) -> (String, usize) {
    let mut files = Vec::new();
    for d in INVENTORY_SOURCES {
        files_under(&vulns.join(d), &mut files);
    }
    files.sort();
    let mut purls = BTreeSet::new();
    for f in files {
        if let Ok(inv) = inventory::read_file(&f) {
            for c in inv.components {
                purls.insert(c.purl);
            }
        }
    }
    let real = purls.len();
    let components: Vec<serde_json::Value> = purls
        .iter()
        .cycle()
        .take(COMPONENTS)
        .map(|p| serde_json::json!({"type": "library", "name": p, "purl": p}))
        .collect();
    let doc = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components
    });
    (doc.to_string(), real)
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let vulns = args.data.join("vulns");
    anyhow::ensure!(
        vulns.is_dir(),
        "{} is missing: the vuln stage needs the staged advisory data",
        vulns.display()
    );
    let report = |what: &str, value: f64, unit: &str, note: String| {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"bench": "vuln", "what": what, "value": value, "unit": unit, "note": note})
            );
        } else {
            println!("vuln {what:<46} {value:>10.2} {unit:<14} {note}");
        }
    };
    let dir = tempfile::tempdir()?;
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path()))?;
    let paths: Vec<PathBuf> = ADVISORY_SOURCES.iter().map(|s| vulns.join(s)).collect();
    let started = Instant::now();
    let imported = haechi_vuln::import::import_paths(&db, &paths)?;
    let secs = started.elapsed().as_secs_f64();
    let advisories =
        imported.advisories_added + imported.advisories_updated + imported.advisories_unchanged;
    report(
        "import every staged advisory database",
        advisories as f64 / secs,
        "advisories/s",
        format!(
            "{advisories} advisories, KEV {}, SSVC {}, in {secs:.2} s",
            imported.kev, imported.ssvc
        ),
    );

    let started = Instant::now();
    let matcher = Matcher::new(db.snapshot()?);
    report(
        "load and compile the matcher",
        started.elapsed().as_secs_f64() * 1000.0,
        "ms",
        format!("{} packages", matcher.stats.packages),
    );

    let (sbom, real) = synthetic_sbom(&vulns);
    let path = dir.path().join("bom.json");
    std::fs::write(&path, &sbom)?;
    let mut times = Vec::new();
    let mut last = ScanSummary::default();
    for _ in 0..5 {
        let started = Instant::now();
        let inv = inventory::read_file(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut findings = Vec::new();
        let mut summary = ScanSummary::default();
        matcher.scan(&inv, Exposure::Unknown, &mut findings, &mut summary);
        times.push(started.elapsed().as_secs_f64());
        last = summary;
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    report(
        "read and scan a 10,000-component SBOM",
        median * 1000.0,
        "ms median",
        format!(
            "{:.0} components/s; {real} distinct real components, {} vulnerable, {} findings",
            COMPONENTS as f64 / median,
            last.components_matched,
            last.findings
        ),
    );

    // One million stored components: 1,000 SBOMs of 1,000 real components each, drawn
    // with a fixed seed, in 20 institutions; every fifth system internet-facing.
    let pool = real_components(&vulns);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let started = Instant::now();
    for i in 0..1000 {
        let inv = inventory::Inventory {
            source: format!("bench-{i}.cdx.json"),
            format: "cyclonedx-json 1.6".into(),
            components: (0..1000)
                .map(|_| pool[(next() % pool.len() as u64) as usize].clone())
                .collect(),
            skipped: Vec::new(),
            constraints: Vec::new(),
        };
        let exposure = if i % 5 == 0 {
            Exposure::InternetFacing
        } else {
            Exposure::Internal
        };
        db.add_sbom(
            &format!("inst-{:02}", i % 20),
            &format!("system-{i}"),
            exposure,
            "",
            &inv,
        )?;
    }
    let secs = started.elapsed().as_secs_f64();
    report(
        "store 1,000 SBOMs of 1,000 components",
        1_000_000.0 / secs,
        "components/s",
        format!("{secs:.1} s"),
    );
    // The advisories that reach the most stored packages: the worst cases.
    let mut by_reach: Vec<(usize, String)> = Vec::new();
    for a in db
        .snapshot()?
        .advisories
        .iter()
        .filter(|a| a.withdrawn.is_none())
    {
        let reach: usize = a
            .affected
            .iter()
            .filter_map(|x| {
                let eco = haechi_vuln::Ecosystem::from_osv_name(&x.package.ecosystem)?;
                db.components_of(eco, &eco.name_key(&x.package.name))
                    .ok()
                    .map(|c| c.len())
            })
            .sum();
        if reach > 0 {
            by_reach.push((reach, a.id.clone()));
        }
    }
    by_reach.sort_by(|a, b| b.cmp(a));
    let mut times = Vec::new();
    let mut hits = 0;
    for (_, id) in by_reach.iter().take(50) {
        let started = Instant::now();
        hits += matcher.rematch(&db, std::slice::from_ref(id))?.len();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    report(
        "re-match one new advisory over 1M stored components",
        times.get(times.len() / 2).copied().unwrap_or(0.0),
        "ms median",
        format!(
            "the 50 advisories reaching most stored packages (up to {} components each); slowest {:.1} ms; {hits} findings",
            by_reach.first().map_or(0, |r| r.0),
            times.last().copied().unwrap_or(0.0)
        ),
    );
    Ok(())
}
