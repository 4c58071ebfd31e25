//! The vulnerability center on the real public data in `shared/data/vulns`: every staged
//! SBOM and lockfile is read with the component counts their own tools wrote, the
//! advisory databases import with their published counts, and known-vulnerable
//! components are found with their evidence.

mod common;
use common::vulns;

use haechi_vuln::db::AdvisoryDb;
use haechi_vuln::inventory::{self, Inventory};
use haechi_vuln::matcher::{Finding, Matcher, ScanSummary};
use haechi_vuln::ssvc::Exposure;
use std::sync::OnceLock;

fn read(rel: &str) -> Inventory {
    inventory::read_file(&vulns(rel)).unwrap_or_else(|e| panic!("{e}"))
}

/// (file, format prefix, components usable, components skipped)
const EXPECTED: &[(&str, &str, usize, usize)] = &[
    // CycloneDX: the component counts of the documents (bom-examples README).
    (
        "cyclonedx/SBOM__juice-shop__v11.1.2__bom.json",
        "cyclonedx-json 1.2",
        840,
        0,
    ),
    (
        "cyclonedx/SBOM__keycloak-10.0.2__bom.json",
        "cyclonedx-json 1.2",
        903,
        0,
    ),
    (
        "cyclonedx/SBOM__laravel-7.12.0__bom.1.4.json",
        "cyclonedx-json 1.4",
        62,
        0,
    ),
    (
        "cyclonedx/SBOM__proton-bridge__proton-bridge-v1.8.0.bom.json",
        "cyclonedx-json 1.2",
        201,
        0,
    ),
    (
        "sbom_real/jabref_cyclonedx_1.6/bom.json",
        "cyclonedx-json 1.6",
        453,
        0,
    ),
    (
        "sbom_real/jabref_cyclonedx_1.6/bom.xml",
        "cyclonedx-xml 1.6",
        453,
        0,
    ),
    // syft's SPDX 2.3: 62 packages, 61 with a golang purl; the 62nd is the module itself.
    (
        "sbom_real/terraform-provider-aci_v2.18.0_spdx_2.3/sbom.spdx.json",
        "spdx-json SPDX-2.3",
        61,
        1,
    ),
    // Lockfiles: the entry counts of the files.
    (
        "lockfiles/socket.io_4.0.0/package-lock.json",
        "package-lock.json v1",
        492,
        0,
    ),
    (
        "lockfiles/poetry_1.1.0/poetry.lock",
        "poetry.lock 1.1",
        83,
        0,
    ),
    // 19 + 69 entries; black itself is an editable path install in both sections.
    ("lockfiles/black_20.8b1/Pipfile.lock", "Pipfile.lock", 86, 2),
    (
        "lockfiles/netbox_v2.10.0/requirements.txt",
        "requirements.txt",
        23,
        0,
    ),
    ("lockfiles/caddy_v2.0.0/go.mod", "go.mod", 26, 0),
    (
        "lockfiles/bookstack_v0.30.0/composer.lock",
        "composer.lock",
        137,
        0,
    ),
    (
        "lockfiles/thelounge_v4.0.0/yarn.lock",
        "yarn.lock v1",
        1308,
        0,
    ),
];

#[test]
fn staged_sboms_and_lockfiles_read_with_their_component_counts() {
    for (file, format, usable, skipped) in EXPECTED {
        let inv = read(file);
        assert!(
            inv.format.starts_with(format),
            "{file}: format {}",
            inv.format
        );
        assert_eq!(
            (inv.components.len(), inv.skipped.len()),
            (*usable, *skipped),
            "{file}: usable/skipped; skipped = {:?}",
            inv.skipped.iter().take(5).collect::<Vec<_>>()
        );
        for c in &inv.components {
            assert!(!c.version.is_empty() && !c.name.is_empty(), "{file}: {c:?}");
            assert!(c.purl.starts_with("pkg:"), "{file}: {c:?}");
        }
    }
}

#[test]
fn cyclonedx_json_and_xml_twins_hold_the_same_components() {
    let key = |inv: &Inventory| {
        let mut v: Vec<_> = inv
            .components
            .iter()
            .map(|c| (c.name.clone(), c.version.clone()))
            .collect();
        v.sort();
        v
    };
    let json = read("sbom_real/jabref_cyclonedx_1.6/bom.json");
    let xml = read("sbom_real/jabref_cyclonedx_1.6/bom.xml");
    assert_eq!(key(&json), key(&xml));
    assert!(
        json.components.iter().all(|c| c.name.contains(':')),
        "Maven names are group:artifact"
    );
}

/// Every file in the SBOM and lockfile folders reads, or says why not; none is silent.
#[test]
fn every_staged_document_loads_or_names_what_it_cannot_read() {
    let mut seen = 0;
    for dir in [
        "cyclonedx",
        "spdx",
        "spdx_tagvalue",
        "sbom_real",
        "lockfiles",
        "cargo_lock",
    ] {
        let mut stack = vec![vulns(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                // Manifests without versions of their own are not inventories.
                if [
                    "package.json",
                    "Pipfile",
                    "pyproject.toml",
                    "composer.json",
                    "Gemfile",
                ]
                .contains(&name.as_str())
                    || name == "VEX__vex.json"
                {
                    continue;
                }
                seen += 1;
                let inv = inventory::read_file(&p).unwrap_or_else(|e| panic!("{e}"));
                let total = inv.components.len() + inv.skipped.len();
                if inv.format.starts_with("spdx-jsonld") {
                    // SPDX 3.0 documents may describe only files or datasets: count
                    // the graph's packages independently.
                    let doc: serde_json::Value =
                        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                    let packages = doc["@graph"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|e| e["type"] == "software_Package")
                        .count();
                    assert_eq!(total, packages, "{}", p.display());
                } else {
                    assert!(total > 0, "{}: no components ({})", p.display(), inv.format);
                }
                for s in &inv.skipped {
                    assert!(!s.reason.is_empty(), "{}: {s:?}", p.display());
                }
            }
        }
    }
    assert!(seen >= 80, "only {seen} documents found");
}

#[test]
fn spdx_tag_value_and_spdx3_read_packages() {
    let inv = read("spdx_tagvalue/software__example6__spdx2.2__example6-lib.spdx");
    assert!(
        inv.format.starts_with("spdx-tag-value 2.2"),
        "{}",
        inv.format
    );
    let names: Vec<_> = inv.skipped.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"go.fmt"), "{names:?}");
    let inv = read("spdx/software__example7__spdx3.0__example7-golang.spdx3.json");
    assert_eq!(inv.format, "spdx-jsonld 3.0");
    assert_eq!(inv.skipped.len() + inv.components.len(), 1);
    assert_eq!(inv.skipped[0].version, "1.16.4");
}

#[test]
fn cargo_lockfiles_keep_only_registry_packages() {
    let inv = read("cargo_lock/ripgrep_11.0.2.Cargo.lock");
    assert_eq!(inv.components.len() + inv.skipped.len(), 75);
    assert!(
        inv.skipped
            .iter()
            .all(|s| s.reason.contains("workspace or path")),
        "{:?}",
        inv.skipped
    );
    assert!(inv.skipped.iter().any(|s| s.name == "ripgrep"));
}

/// One database with RustSec (OSV), PyPA, Go, KEV and Vulnrichment, imported once.
fn db() -> &'static (tempfile::TempDir, Matcher) {
    static DB: OnceLock<(tempfile::TempDir, Matcher)> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path())).unwrap();
        let report = haechi_vuln::import::import_paths(
            &db,
            &[
                vulns("rustsec_osv/crates"),
                vulns("pypa_advisory_db/vulns"),
                vulns("golang_vulndb/data/osv"),
                vulns("rubysec_advisory_db"),
                vulns("friendsofphp_security_advisories"),
                vulns("nodejs_security_wg"),
                vulns("cisa_kev/known_exploited_vulnerabilities.json"),
                vulns("vulnrichment/ssvc_vulnrichment.csv"),
            ],
        )
        .unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // RustSec, PyPA, Go; RubySec gems, FriendsOfPHP, Node.js WG npm (converted).
        let published = 1206 + 2661 + 2486 + 1234 + 1592 + 467;
        assert_eq!(report.advisories_added, published);
        assert_eq!(report.withdrawn, 13 + 10 + 8);
        // RubySec's interpreter advisories are named, not silently dropped.
        let rubies = report
            .skipped
            .iter()
            .filter(|s| s.reason.contains("Ruby interpreter"))
            .count();
        assert_eq!(rubies, 147);
        assert_eq!((report.kev, report.ssvc), (1404, 1185));
        let counts = db.counts().unwrap();
        assert_eq!(counts["advisories"] + counts["withdrawn"], published as i64);
        let matcher = Matcher::new(db.snapshot().unwrap());
        (dir, matcher)
    })
}

fn scan(rel: &str, exposure: Exposure) -> (Vec<Finding>, ScanSummary) {
    let (_, matcher) = db();
    let mut findings = Vec::new();
    let mut summary = ScanSummary::default();
    matcher.scan(&read(rel), exposure, &mut findings, &mut summary);
    (findings, summary)
}

#[test]
fn reimporting_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path())).unwrap();
    let path = [vulns("golang_vulndb/data/osv")];
    let first = haechi_vuln::import::import_paths(&db, &path).unwrap();
    let second = haechi_vuln::import::import_paths(&db, &path).unwrap();
    assert_eq!(first.advisories_added, 2486);
    assert_eq!((second.advisories_added, second.advisories_updated), (0, 0));
    assert_eq!(second.advisories_unchanged, 2486);
}

#[test]
fn go_advisories_match_the_terraform_provider_sbom_by_purl() {
    let (findings, summary) = scan(
        "sbom_real/terraform-provider-aci_v2.18.0_spdx_2.3/sbom.spdx.json",
        Exposure::InternetFacing,
    );
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    for id in [
        "GO-2025-3754",
        "GO-2025-4134",
        "GO-2025-4135",
        "GO-2025-4116",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // yamux 0.1.1 is inside GO-2025-3408's range, but the advisory is withdrawn.
    assert!(
        !ids.contains(&"GO-2025-3408"),
        "a withdrawn advisory was reported"
    );
    let f = findings.iter().find(|f| f.id == "GO-2025-3754").unwrap();
    assert_eq!(f.ecosystem, "Go");
    assert!(
        f.purl
            .starts_with("pkg:golang/github.com/cloudflare/circl@"),
        "{}",
        f.purl
    );
    assert_eq!(f.evidence.matched_by, "purl");
    assert!(!f.fixed.is_empty());
    assert!(
        f.evidence.locations[0].starts_with("packages["),
        "{:?}",
        f.evidence
    );
    assert_eq!(summary.components_read, 62);
    // The directory root has no purl; the module itself is at version `UNKNOWN`.
    assert_eq!(summary.skipped, 2, "{:?}", summary.skipped_components);
    assert!(
        summary
            .skipped_components
            .iter()
            .any(|s| s.version == "UNKNOWN" && s.reason.contains("is not a Go version")),
        "{:?}",
        summary.skipped_components
    );
    let mut vulnerable: Vec<&str> = findings.iter().map(|f| f.purl.as_str()).collect();
    vulnerable.dedup();
    vulnerable.sort();
    vulnerable.dedup();
    assert_eq!(summary.components_matched, vulnerable.len());
    assert_eq!(summary.findings, findings.len());
}

#[test]
fn pypa_advisories_match_a_pinned_requirements_file() {
    let (findings, _) = scan(
        "lockfiles/netbox_v2.10.0/requirements.txt",
        Exposure::Unknown,
    );
    let django: Vec<&Finding> = findings.iter().filter(|f| f.package == "Django").collect();
    assert!(
        django.len() >= 5,
        "Django 3.1.3 has many PYSEC advisories: {}",
        django.len()
    );
    for f in &django {
        assert_eq!(
            (f.version.as_str(), f.ecosystem.as_str()),
            ("3.1.3", "PyPI")
        );
        assert!(f.id.starts_with("PYSEC-"), "{}", f.id);
        assert_eq!(f.evidence.matched_by, "lockfile");
    }
}

#[test]
fn a_kev_listed_cve_is_flagged_and_decided_act_when_internet_facing() {
    // Every finding whose CVE is in KEV is flagged; internet-facing + KEV → at least Attend.
    for file in [
        "lockfiles/netbox_v2.10.0/requirements.txt",
        "lockfiles/caddy_v2.0.0/go.mod",
        "lockfiles/poetry_1.1.0/poetry.lock",
    ] {
        let (findings, _) = scan(file, Exposure::InternetFacing);
        for f in findings.iter().filter(|f| f.kev) {
            assert!(f.kev_due_date.is_some());
            assert!(
                matches!(f.ssvc.as_str(), "Attend" | "Act"),
                "{} {}: {}",
                f.package,
                f.id,
                f.ssvc
            );
        }
    }
}

#[test]
fn the_ssvc_table_equals_cert_cc_s_published_csv() {
    use haechi_vuln::ssvc::{Exploitation, MissionImpact, TechnicalImpact, table};
    let csv =
        std::fs::read_to_string(vulns("ssvc/data/csv/cisa/cisa_coordinator_2_0_3.csv")).unwrap();
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let e = match f[1] {
            "none" => Exploitation::None,
            "public poc" => Exploitation::PublicPoc,
            _ => Exploitation::Active,
        };
        let t = if f[3] == "total" {
            TechnicalImpact::Total
        } else {
            TechnicalImpact::Partial
        };
        let m = match f[4] {
            "low" => MissionImpact::Low,
            "medium" => MissionImpact::Medium,
            _ => MissionImpact::High,
        };
        let d = table(e, f[2] == "yes", t, m);
        assert_eq!(d.as_str().to_ascii_lowercase(), f[5], "row {line}");
        rows += 1;
    }
    assert_eq!(rows, 36);
}

#[test]
fn converted_advisories_match_gemfile_composer_and_npm_lockfiles() {
    let cases = [
        (
            "lockfiles/diaspora_v0.7.14.0/Gemfile.lock",
            "RubyGems",
            "RUBYSEC-",
        ),
        (
            "lockfiles/bookstack_v0.30.0/composer.lock",
            "Packagist",
            "FRIENDSOFPHP-",
        ),
        ("lockfiles/thelounge_v4.0.0/yarn.lock", "npm", "NSWG-ECO-"),
    ];
    for (file, ecosystem, prefix) in cases {
        let (findings, summary) = scan(file, Exposure::Internal);
        let converted: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.id.starts_with(prefix))
            .collect();
        assert!(
            !converted.is_empty(),
            "{file}: no {prefix} findings ({} in all)",
            findings.len()
        );
        for f in &converted {
            assert_eq!(f.ecosystem, ecosystem);
            assert_eq!(f.evidence.range.range_type, "ECOSYSTEM");
        }
        assert_eq!(summary.findings, findings.len());
    }
}

/// EPSS scores in FIRST's CSV shape (a `#model_version` comment line, then `cve, epss,
/// percentile`) are imported and carried by the findings of their CVEs; a score out of
/// range is refused with its line.
#[test]
fn epss_scores_are_imported_and_carried_by_findings() {
    let dir = tempfile::tempdir().unwrap();
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path())).unwrap();
    let epss = dir.path().join("epss_scores.csv");
    std::fs::write(
        &epss,
        "#model_version:v2025.03.14,score_date:2026-12-01T00:00:00+0000\ncve,epss,percentile\nCVE-2021-3129,0.94352,0.99968\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "cve,epss,percentile\nCVE-2021-3129,1.5,0.9\n").unwrap();
    let report = haechi_vuln::import::import_paths(
        &db,
        &[vulns("friendsofphp_security_advisories/facade"), epss, bad],
    )
    .unwrap();
    assert_eq!(report.epss, 1);
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].reason.contains("line 2"),
        "{:?}",
        report.errors
    );
    let matcher = Matcher::new(db.snapshot().unwrap());
    let mut findings = Vec::new();
    matcher.scan(
        &read("lockfiles/bookstack_v0.30.0/composer.lock"),
        Exposure::Unknown,
        &mut findings,
        &mut ScanSummary::default(),
    );
    let ignition = findings
        .iter()
        .find(|f| f.package == "facade/ignition")
        .unwrap();
    let e = ignition.epss.unwrap();
    assert!((e.score - 0.94352).abs() < 1e-9 && (e.percentile - 0.99968).abs() < 1e-9);
}
