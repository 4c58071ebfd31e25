//! VEX on real documents: CycloneDX's VEX example (jackson-databind 2.10.0 not affected
//! by CVE-2020-25649, code not reachable) closes the finding on its companion BOM;
//! OpenVEX statements close RustSec and FriendsOfPHP findings on real lockfiles, except
//! the KEV-listed one, which stays open with the statement noted; and what Haechi writes
//! as OpenVEX reads back with the same statuses.

mod common;
use common::vulns;

use haechi_vuln::db::AdvisoryDb;
use haechi_vuln::inventory;
use haechi_vuln::matcher::{Finding, Matcher, ScanSummary};
use haechi_vuln::ssvc::Exposure;
use haechi_vuln::vex::{self, VexStatus};
use std::path::PathBuf;

/// GitHub's advisory for CVE-2020-25649 (GHSA-288c-cq4h-88gq), as OSV; no Maven
/// advisories are staged, so the one the VEX example speaks of is written here.
const JACKSON_OSV: &str = r#"{"id": "GHSA-288c-cq4h-88gq", "modified": "2021-10-26T00:00:00Z",
 "aliases": ["CVE-2020-25649"], "summary": "XML External Entity (XXE) Injection in Jackson Databind",
 "affected": [{"package": {"ecosystem": "Maven", "name": "com.fasterxml.jackson.core:jackson-databind"},
   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.10.0"}, {"fixed": "2.10.5.1"}]},
              {"type": "ECOSYSTEM", "events": [{"introduced": "2.7.0"}, {"fixed": "2.9.10.7"}]}]}]}"#;

fn matcher(paths: &[PathBuf], extra: Option<&str>) -> (tempfile::TempDir, Matcher) {
    let dir = tempfile::tempdir().unwrap();
    let db = AdvisoryDb::open(&AdvisoryDb::path_in(dir.path())).unwrap();
    let mut all = paths.to_vec();
    if let Some(doc) = extra {
        let p = dir.path().join("extra.json");
        std::fs::write(&p, doc).unwrap();
        all.push(p);
    }
    let report = haechi_vuln::import::import_paths(&db, &all).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let m = Matcher::new(db.snapshot().unwrap());
    (dir, m)
}

fn scan(m: &Matcher, rels: &[&str]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut summary = ScanSummary::default();
    for rel in rels {
        m.scan(
            &inventory::read_file(&vulns(rel)).unwrap(),
            Exposure::Unknown,
            &mut out,
            &mut summary,
        );
    }
    out
}

#[test]
fn cyclonedx_s_vex_example_closes_its_bom_s_finding() {
    let text = std::fs::read_to_string(vulns("cyclonedx/VEX__vex.json")).unwrap();
    let (statements, unresolved) = vex::read("VEX__vex.json", &text).unwrap();
    assert!(unresolved.is_empty());
    assert_eq!(statements.len(), 1);
    let s = &statements[0];
    assert_eq!(s.vulnerability, "CVE-2020-25649");
    assert_eq!(s.status, VexStatus::NotAffected);
    assert_eq!(s.justification.as_deref(), Some("code_not_reachable"));
    assert_eq!(
        s.products,
        ["pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"]
    );

    let (_dir, m) = matcher(&[], Some(JACKSON_OSV));
    let mut findings = scan(&m, &["cyclonedx/VEX__bom.json"]);
    assert_eq!(
        findings.len(),
        1,
        "jackson-databind 2.10.0 is in the advisory's range"
    );
    assert_eq!(findings[0].ecosystem, "Maven");
    let closed = vex::apply(&statements, &mut findings);
    assert!(findings.is_empty());
    assert_eq!(closed.len(), 1);
    let v = closed[0].vex.as_ref().unwrap();
    assert_eq!(
        (v.status, v.justification.as_deref()),
        (VexStatus::NotAffected, Some("code_not_reachable"))
    );
}

#[test]
fn openvex_closes_findings_but_never_a_kev_one_and_round_trips() {
    let (_dir, m) = matcher(
        &[
            vulns("rustsec_osv/crates"),
            vulns("friendsofphp_security_advisories"),
            vulns("cisa_kev"),
        ],
        None,
    );
    let mut findings = scan(
        &m,
        &[
            "cargo_lock/fd_v7.4.0.Cargo.lock",
            "lockfiles/bookstack_v0.30.0/composer.lock",
        ],
    );
    let before = findings.len();
    assert!(
        findings
            .iter()
            .any(|f| f.id == "RUSTSEC-2022-0013" && f.package == "regex")
    );
    let kev = findings
        .iter()
        .find(|f| f.kev)
        .expect("the ignition KEV finding")
        .clone();
    // By alias (the CVE), for every version of the package; and the KEV one by its id.
    let openvex = format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:test:1", "author": "kim", "timestamp": "2026-12-06T00:00:00Z", "version": 1,
        "statements": [
          {{"vulnerability": {{"name": "CVE-2022-24713"}}, "products": [{{"@id": "pkg:cargo/regex"}}], "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}},
          {{"vulnerability": {{"name": "{}"}}, "products": [{{"@id": "pkg:composer/facade/ignition"}}], "status": "not_affected", "justification": "inline_mitigations_already_exist"}},
          {{"vulnerability": {{"name": "RUSTSEC-2023-0018"}}, "products": [{{"@id": "pkg:cargo/remove_dir_all@9.9.9"}}], "status": "fixed"}}
        ]}}"#,
        kev.id
    );
    let (statements, _) = vex::read("kim.openvex.json", &openvex).unwrap();
    let closed = vex::apply(&statements, &mut findings);
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0].package, "regex");
    assert_eq!(
        findings.len(),
        before - 1,
        "the other version's statement closes nothing"
    );
    let still = findings
        .iter()
        .find(|f| f.id == kev.id)
        .expect("the KEV finding stays open");
    let note = still.vex.as_ref().unwrap();
    assert_eq!(note.status, VexStatus::NotAffected);
    assert!(note.kept.as_deref().unwrap().contains("never suppressed"));

    let all: Vec<&Finding> = findings.iter().chain(&closed).collect();
    let written = vex::to_openvex("Haechi", "2026-12-06T00:00:00Z", &all);
    let (back, _) = vex::read("written", &written.to_string()).unwrap();
    assert_eq!(back.len(), all.len());
    let regex = back
        .iter()
        .find(|s| s.vulnerability == "RUSTSEC-2022-0013")
        .unwrap();
    assert_eq!(regex.status, VexStatus::NotAffected);
    assert_eq!(
        regex.justification.as_deref(),
        Some("vulnerable_code_not_in_execute_path")
    );
    let open = back
        .iter()
        .filter(|s| s.status == VexStatus::Affected)
        .count();
    assert_eq!(
        open,
        findings.len() - 1,
        "the open findings are affected, the KEV one keeps its statement"
    );
}

/// Runs a reference validator over files; panics with its report unless all are valid.
fn reference_valid(program: &str, args: &[&str], files: &[&std::path::Path]) {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(program)
        .args(args)
        .args(files)
        .current_dir(&repo)
        .output()
        .unwrap_or_else(|e| panic!("{program} does not run ({e}): run scripts/setup-test-tools"));
    assert!(
        out.status.success(),
        "{program} {args:?} refused the documents: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn csaf_and_cyclonedx_exports_pass_the_reference_validators() {
    use haechi_vuln::export::{Meta, Tlp, to_csaf, to_cyclonedx};
    let (_dir, m) = matcher(
        &[
            vulns("rustsec_osv/crates"),
            vulns("friendsofphp_security_advisories"),
            vulns("cisa_kev"),
        ],
        Some(JACKSON_OSV),
    );
    let mut findings = scan(
        &m,
        &[
            "cargo_lock/fd_v7.4.0.Cargo.lock",
            "lockfiles/bookstack_v0.30.0/composer.lock",
            "cyclonedx/VEX__bom.json",
        ],
    );
    // Statuses of every kind: the jackson one not affected (CycloneDX's example), regex
    // fixed, thread_local under investigation, the rest affected.
    let text = std::fs::read_to_string(vulns("cyclonedx/VEX__vex.json")).unwrap();
    let (mut statements, _) = vex::read("VEX__vex.json", &text).unwrap();
    let (more, _) = vex::read(
        "t",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:t", "author": "t", "timestamp": "2026-12-06T00:00:00Z", "version": 1,
            "statements": [
              {"vulnerability": {"name": "RUSTSEC-2022-0013"}, "products": [{"@id": "pkg:cargo/regex"}], "status": "fixed"},
              {"vulnerability": {"name": "RUSTSEC-2022-0006"}, "products": [{"@id": "pkg:cargo/thread_local"}], "status": "under_investigation"}]}"#,
    )
    .unwrap();
    statements.extend(more);
    let closed = vex::apply(&statements, &mut findings);
    assert_eq!(closed.len(), 2);
    let all: Vec<&Finding> = findings.iter().chain(&closed).collect();
    let meta = Meta {
        publisher: "Seoul CERT",
        namespace: "https://cert.seoul.example",
        title: "Haechi VEX test",
        tracking_id: "HAECHI-TEST-1",
        now: "2026-12-06T00:00:00Z",
        tlp: Tlp::Amber,
    };
    let dir = tempfile::tempdir().unwrap();
    let csaf = dir.path().join("test.csaf.json");
    let doc = to_csaf(&meta, &all);
    assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "AMBER");
    let statuses = doc["vulnerabilities"].to_string();
    for key in [
        "known_affected",
        "known_not_affected",
        "fixed",
        "under_investigation",
    ] {
        assert!(statuses.contains(key), "{key} missing");
    }
    std::fs::write(&csaf, doc.to_string()).unwrap();
    let cdx = dir.path().join("test.cdx.json");
    std::fs::write(&cdx, to_cyclonedx(&meta, &all).to_string()).unwrap();
    reference_valid("node", &["tests/csaf/validate.mjs"], &[&csaf]);
    reference_valid("python3", &["scripts/validate-cyclonedx.py"], &[&cdx]);
}
