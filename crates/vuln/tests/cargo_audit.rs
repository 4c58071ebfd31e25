//! On Rust lockfiles, Haechi's findings equal cargo-audit's: the six real `Cargo.lock`
//! files in `shared/data/vulns/cargo_lock` are scanned by both, cargo-audit reading the
//! RustSec advisory database (`rustsec_advisory_db`, Markdown) and Haechi the same
//! database's OSV export (`rustsec_osv`, published one day later; advisories only in
//! one of the two are left out of the comparison, and counted). Vulnerabilities and the
//! unmaintained/unsound warnings are compared; yanked crates need the network and are
//! not. cargo-audit is installed by `scripts/setup-test-tools`; without it this fails.

mod common;
use common::vulns;

use haechi_vuln::db::AdvisoryDb;
use haechi_vuln::inventory;
use haechi_vuln::matcher::{Matcher, ScanSummary};
use haechi_vuln::ssvc::Exposure;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// Advisory ids of a folder tree, by file stem.
fn ids(dir: &str, ext: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![vulns(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.insert(p.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

type Found = BTreeSet<(String, String, String)>;

fn cargo_audit(lockfile: &std::path::Path) -> Found {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("Cargo.lock");
    std::fs::copy(lockfile, &lock).unwrap();
    let out = Command::new("cargo")
        .args(["audit", "--no-fetch", "--no-yanked", "--json", "--db"])
        .arg(vulns("rustsec_advisory_db"))
        .arg("-f")
        .arg(&lock)
        .output()
        .expect("cargo runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cargo audit gave no JSON report ({e}); is it installed (scripts/setup-test-tools)? {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut found = Found::new();
    let mut add = |item: &Value| {
        if let Some(id) = item["advisory"]["id"].as_str() {
            found.insert((
                id.to_owned(),
                item["package"]["name"].as_str().unwrap().to_owned(),
                item["package"]["version"].as_str().unwrap().to_owned(),
            ));
        }
    };
    for item in report["vulnerabilities"]["list"].as_array().unwrap() {
        add(item);
    }
    for (kind, items) in report["warnings"].as_object().unwrap() {
        if kind != "yanked" {
            items.as_array().unwrap().iter().for_each(&mut add);
        }
    }
    found
}

#[test]
fn findings_on_real_lockfiles_equal_cargo_audit_s() {
    let dir = tempfile::tempdir().unwrap();
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path())).unwrap();
    haechi_vuln::import::import_paths(&db, &[vulns("rustsec_osv/crates")]).unwrap();
    let matcher = Matcher::new(db.snapshot().unwrap());
    let markdown = ids("rustsec_advisory_db/crates", "md");
    let osv = ids("rustsec_osv/crates", "json");
    let common: BTreeSet<&String> = markdown.intersection(&osv).collect();
    assert!(common.len() > 1150, "{} advisories in both", common.len());

    let mut total = 0;
    for name in [
        "ripgrep_HEAD",
        "ripgrep_11.0.2",
        "fd_HEAD",
        "fd_v7.4.0",
        "alacritty_HEAD",
        "alacritty_v0.10.1",
    ] {
        let path = vulns(&format!("cargo_lock/{name}.Cargo.lock"));
        let expected: Found = cargo_audit(&path)
            .into_iter()
            .filter(|f| common.contains(&f.0))
            .collect();
        let inv = inventory::read_file(&path).unwrap();
        let mut findings = Vec::new();
        let mut summary = ScanSummary::default();
        matcher.scan(&inv, Exposure::Unknown, &mut findings, &mut summary);
        let got: Found = findings
            .iter()
            .filter(|f| common.contains(&f.id))
            .map(|f| (f.id.clone(), f.package.clone(), f.version.clone()))
            .collect();
        assert_eq!(
            got, expected,
            "{name}: Haechi (left) and cargo-audit (right) differ"
        );
        total += expected.len();
    }
    eprintln!(
        "{total} findings equal cargo-audit's over {} common advisories",
        common.len()
    );
    // The old tags pin crates with known advisories: the comparison is not vacuous.
    assert!(total >= 20, "only {total} findings in all six lockfiles");
}
