//! `haechi vuln` from a shell: advisories imported into a data directory, SBOMs and
//! lockfiles scanned with one JSON object per finding and a closing summary, and the
//! clear refusals (an empty database, a file that is not an SBOM, an unknown exposure).

mod common;

use common::*;
use serde_json::Value;

fn run(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["--data-dir", data.to_str().unwrap()]);
    haechi(&all)
}

fn lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn scan_json_prints_findings_with_evidence_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let vulns = sample("vulns");
    let empty = run(
        &data,
        &[
            "vuln",
            "scan",
            vulns
                .join("cargo_lock/fd_v7.4.0.Cargo.lock")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(!empty.status.success());
    assert!(
        describe(&empty).contains("vuln db import"),
        "{}",
        describe(&empty)
    );

    let import = run(
        &data,
        &[
            "vuln",
            "db",
            "import",
            "--json",
            vulns.join("rustsec_osv/crates").to_str().unwrap(),
            vulns.join("golang_vulndb/data/osv").to_str().unwrap(),
            vulns.join("cisa_kev").to_str().unwrap(),
            vulns.join("vulnrichment").to_str().unwrap(),
        ],
    );
    assert!(import.status.success(), "{}", describe(&import));
    let report = &lines(&import)[0];
    assert_eq!(report["advisories_added"], 1206 + 2486);
    assert_eq!(report["kev"], 1404);
    // The KEV schema is named as holding no advisories, not silently ignored.
    let skipped = report["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["path"].as_str().unwrap().ends_with("_schema.json"))
    );

    let sbom = vulns.join("sbom_real/terraform-provider-aci_v2.18.0_spdx_2.3/sbom.spdx.json");
    let lock = vulns.join("cargo_lock/fd_v7.4.0.Cargo.lock");
    let not_sbom = vulns.join("SOURCE.md");
    let scan = run(
        &data,
        &[
            "vuln",
            "scan",
            "--json",
            "--exposure",
            "internet-facing",
            sbom.to_str().unwrap(),
            lock.to_str().unwrap(),
            not_sbom.to_str().unwrap(),
        ],
    );
    // A file that cannot be read fails the run, after everything else was scanned.
    assert_eq!(scan.status.code(), Some(1), "{}", describe(&scan));
    let all = lines(&scan);
    let (summary, findings) = all.split_last().unwrap();
    for f in findings {
        for key in [
            "package",
            "version",
            "ecosystem",
            "purl",
            "id",
            "aliases",
            "fixed",
            "kev",
            "ssvc",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        assert!(["Track", "Track*", "Attend", "Act"].contains(&f["ssvc"].as_str().unwrap()));
        assert!(f["purl"].as_str().unwrap().starts_with("pkg:"));
    }
    let go: Vec<&Value> = findings.iter().filter(|f| f["ecosystem"] == "Go").collect();
    let rust: Vec<&Value> = findings
        .iter()
        .filter(|f| f["ecosystem"] == "crates.io")
        .collect();
    assert!(
        go.iter().any(|f| f["id"] == "GO-2025-3754"),
        "circl on the SBOM"
    );
    assert!(
        rust.iter()
            .any(|f| f["id"] == "RUSTSEC-2022-0013" && f["package"] == "regex")
    );
    let s = &summary["summary"];
    assert_eq!(s["files"], 2);
    assert_eq!(s["findings"].as_u64().unwrap() as usize, findings.len());
    assert!(s["components_read"].as_u64().unwrap() >= 62 + 57);
    assert!(
        s["skipped_by_reason"].as_object().unwrap().len() >= 2,
        "{s}"
    );
    let failed = s["files_failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("neither a known lockfile nor an SBOM")
    );

    let bad = run(
        &data,
        &["vuln", "scan", "--exposure", "dmz", lock.to_str().unwrap()],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(describe(&bad).contains("internet-facing, internal or unknown"));
}
