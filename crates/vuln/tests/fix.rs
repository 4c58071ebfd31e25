//! Patch plans on real lockfiles: every target is free of advisories and is the smallest
//! such version the advisories name (checked against every known fixed version), the
//! `latest` strategy never aims lower, a pinned requirements.txt is rewritten and reads
//! back clean, and the plans validate.

mod common;
use common::vulns;

use haechi_vuln::db::AdvisoryDb;
use haechi_vuln::fix::{self, Strategy};
use haechi_vuln::inventory;
use haechi_vuln::matcher::{Matcher, ScanSummary};
use haechi_vuln::ssvc::Exposure;
use haechi_vuln::{Ecosystem, version};

#[test]
fn plans_aim_at_the_smallest_clean_version_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path())).unwrap();
    haechi_vuln::import::import_paths(
        &db,
        &[
            vulns("pypa_advisory_db/vulns"),
            vulns("rustsec_osv/crates"),
            vulns("golang_vulndb/data/osv"),
            vulns("rubysec_advisory_db/gems"),
            vulns("friendsofphp_security_advisories"),
        ],
    )
    .unwrap();
    let matcher = Matcher::new(db.snapshot().unwrap());
    let mut checked = 0;
    for rel in [
        "lockfiles/netbox_v2.10.0/requirements.txt",
        "cargo_lock/alacritty_v0.10.1.Cargo.lock",
        "lockfiles/caddy_v2.0.0/go.mod",
        "lockfiles/diaspora_v0.7.14.0/Gemfile.lock",
        "lockfiles/bookstack_v0.30.0/composer.lock",
    ] {
        let inv = inventory::read_file(&vulns(rel)).unwrap();
        let mut before = Vec::new();
        matcher.scan(
            &inv,
            Exposure::Unknown,
            &mut before,
            &mut ScanSummary::default(),
        );
        assert!(!before.is_empty(), "{rel}");
        let mut minimal = fix::plan(&matcher, &before, Strategy::Minimal);
        let latest = fix::plan(&matcher, &before, Strategy::Latest);
        for p in &minimal {
            let eco = Ecosystem::from_osv_name(&p.ecosystem).unwrap();
            let Some(target) = &p.target else {
                assert!(p.note.is_some(), "{p:?}");
                continue;
            };
            assert!(
                matcher
                    .advisories_affecting(eco, &p.package, target)
                    .is_empty(),
                "{p:?}"
            );
            let (cur, tgt) = (
                version::parse(eco, &p.current).unwrap(),
                version::parse(eco, target).unwrap(),
            );
            assert!(tgt.cmp_same(&cur).is_gt());
            // No known clean version lies between the current one and the target.
            for v in matcher.known_fixed_versions(eco, &p.package) {
                let Ok(pv) = version::parse(eco, &v) else {
                    continue;
                };
                if pv.cmp_same(&cur).is_gt() && pv.cmp_same(&tgt).is_lt() {
                    assert!(
                        !matcher.advisories_affecting(eco, &p.package, &v).is_empty(),
                        "{rel}: {v} is clean and smaller than {target} for {}",
                        p.package
                    );
                }
            }
            let l = latest
                .iter()
                .find(|l| l.package == p.package && l.current == p.current)
                .unwrap();
            let lt = version::parse(eco, l.target.as_deref().unwrap()).unwrap();
            assert!(
                lt.cmp_same(&tgt).is_ge(),
                "latest below minimal for {}",
                p.package
            );
            checked += 1;
        }
        let after = if rel.ends_with("requirements.txt") {
            let text = std::fs::read_to_string(vulns(rel)).unwrap();
            let rewritten = fix::rewrite_requirements(&text, &minimal);
            assert!(rewritten.contains("Django==3.1.14"), "{rewritten}");
            let back = inventory::read_text("requirements.txt", rel, &rewritten).unwrap();
            assert_eq!(back.components.len(), inv.components.len());
            fix::validate(&matcher, &before, &back, &mut minimal)
        } else {
            fix::validate(
                &matcher,
                &before,
                &fix::patched(&inv, &minimal),
                &mut minimal,
            )
        };
        for p in &minimal {
            assert_eq!(p.validated, p.target.is_some(), "{rel}: {p:?}");
        }
        let unfixable: usize = minimal
            .iter()
            .filter(|p| p.target.is_none())
            .map(|p| p.fixes.len())
            .sum();
        assert!(
            after.len() <= unfixable,
            "{rel}: {} findings left, {unfixable} without a fix",
            after.len()
        );
    }
    assert!(checked >= 40, "only {checked} plans checked");
}

/// On a real package-lock (uptime-kuma 1.22.0), an upgrade is validated only if every
/// range the other packages require of that copy still holds: `ms` 2.1.2 is pinned
/// exactly by `debug@4.3.4`, so moving it to 2.1.3 breaks `debug`; `humanize-ms` 1.2.1 is
/// required as `^1.2.1` by `agentkeepalive`, which 1.2.2 keeps. The two advisories are
/// written for the test (no npm database with such fixes is staged).
#[test]
fn npm_upgrades_that_break_what_dependents_require_do_not_validate() {
    let dir = tempfile::tempdir().unwrap();
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path())).unwrap();
    let advisory = |id: &str, name: &str, fixed: &str| {
        (
            id.to_owned(),
            serde_json::json!({
                "id": id, "modified": "2026-12-01T00:00:00Z", "summary": "test advisory",
                "affected": [{"package": {"ecosystem": "npm", "name": name},
                              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
            }),
        )
    };
    let report = haechi_vuln::import::import_values(
        &db,
        "test",
        vec![
            advisory("TEST-ms", "ms", "2.1.3"),
            advisory("TEST-humanize-ms", "humanize-ms", "1.2.2"),
        ],
    )
    .unwrap();
    assert_eq!(report.advisories_added, 2);
    let matcher = Matcher::new(db.snapshot().unwrap());
    let inv =
        inventory::read_file(&vulns("lockfiles/uptime-kuma_1.22.0/package-lock.json")).unwrap();
    assert!(inv.constraints.len() > 1000, "{}", inv.constraints.len());
    let mut before = Vec::new();
    matcher.scan(
        &inv,
        Exposure::Unknown,
        &mut before,
        &mut ScanSummary::default(),
    );
    let mut plans = fix::plan(&matcher, &before, Strategy::Minimal);
    fix::validate(&matcher, &before, &fix::patched(&inv, &plans), &mut plans);
    let plan = |package: &str, current: &str| {
        plans
            .iter()
            .find(|p| p.package == package && p.current == current)
            .unwrap_or_else(|| panic!("a plan for {package} {current}: {plans:?}"))
            .clone()
    };
    let ms = plan("ms", "2.1.2");
    assert_eq!(ms.target.as_deref(), Some("2.1.3"));
    assert!(!ms.validated);
    assert_eq!(ms.broken_requirements, ["2.1.2 required by debug@4.3.4"]);
    let old_ms = plan("ms", "2.0.0");
    assert!(
        !old_ms.validated
            && old_ms
                .broken_requirements
                .iter()
                .all(|b| b.starts_with("2.0.0 required by debug@2.6.9"))
    );
    let humanize = plan("humanize-ms", "1.2.1");
    assert_eq!(humanize.target.as_deref(), Some("1.2.2"));
    assert!(
        humanize.broken_requirements.is_empty() && humanize.validated,
        "{humanize:?}"
    );
}
