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

    // A VEX statement closes the regex finding; the findings go out as OpenVEX.
    let vex = dir.path().join("regex.openvex.json");
    std::fs::write(
        &vex,
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:t", "author": "kim", "timestamp": "2026-12-06T00:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "RUSTSEC-2022-0013"}, "products": [{"@id": "pkg:cargo/regex@1.3.1"}],
                            "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let out_vex = dir.path().join("out.openvex.json");
    let scan = run(
        &data,
        &[
            "vuln",
            "scan",
            "--json",
            "--vex",
            vex.to_str().unwrap(),
            "--vex-out",
            out_vex.to_str().unwrap(),
            lock.to_str().unwrap(),
        ],
    );
    assert!(scan.status.success(), "{}", describe(&scan));
    let all = lines(&scan);
    let (summary, open) = all.split_last().unwrap();
    assert_eq!(summary["summary"]["suppressed_by_vex"], 1);
    assert!(!open.iter().any(|f| f["id"] == "RUSTSEC-2022-0013"));
    let written: Value = serde_json::from_slice(&std::fs::read(&out_vex).unwrap()).unwrap();
    let statements = written["statements"].as_array().unwrap();
    assert_eq!(statements.len(), open.len() + 1);
    assert!(statements.iter().any(|s| s["status"] == "not_affected"
        && s["justification"] == "vulnerable_code_not_in_execute_path"));

    let bad = run(
        &data,
        &["vuln", "scan", "--exposure", "dmz", lock.to_str().unwrap()],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(describe(&bad).contains("internet-facing, internal or unknown"));
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Inventories per institution: a KEV hit raises an alert even on an internal system;
/// advisories imported later are matched against the stored SBOMs at once, and only
/// new findings raise alerts; one institution's findings are not another's.
#[test]
fn stored_inventories_are_rematched_and_raise_vuln_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let vulns = sample("vulns");
    let v = |rel: &str| vulns.join(rel).to_str().unwrap().to_owned();
    ok(run(
        &data,
        &[
            "vuln",
            "db",
            "import",
            &v("friendsofphp_security_advisories"),
            &v("cisa_kev"),
            &v("vulnrichment"),
        ],
    ));
    let added = ok(run(
        &data,
        &[
            "sbom",
            "add",
            "--tenant",
            "seoul-city",
            "--system",
            "wiki",
            "--exposure",
            "internal",
            "--owner",
            "it-team",
            &v("lockfiles/bookstack_v0.30.0/composer.lock"),
        ],
    ));
    assert!(
        added.contains("1 alerts"),
        "the KEV hit raises one alert: {added}"
    );
    // The Go SBOM is stored before any Go advisory is known: nothing found yet.
    let added = ok(run(
        &data,
        &[
            "sbom",
            "add",
            "--tenant",
            "busan-port",
            "--system",
            "gateway",
            "--exposure",
            "internet-facing",
            &v("sbom_real/terraform-provider-aci_v2.18.0_spdx_2.3/sbom.spdx.json"),
        ],
    ));
    assert!(added.contains(" 0 findings"), "{added}");

    let import = ok(run(
        &data,
        &[
            "vuln",
            "db",
            "import",
            "--json",
            &v("golang_vulndb/data/osv"),
        ],
    ));
    let report: Value = serde_json::from_str(import.trim()).unwrap();
    let new = report["new_findings"].as_u64().unwrap();
    assert!(
        new >= 4,
        "the Go advisories reach the stored SBOM: {report}"
    );
    assert_eq!(
        report["alerts"].as_u64().unwrap(),
        new,
        "internet-facing: every new finding alerts"
    );
    let again = ok(run(
        &data,
        &[
            "vuln",
            "db",
            "import",
            "--json",
            &v("golang_vulndb/data/osv"),
        ],
    ));
    let again: Value = serde_json::from_str(again.trim()).unwrap();
    assert_eq!(
        again["new_findings"], 0,
        "nothing changed, nothing new: {again}"
    );

    let alerts = |tenant: &str| -> Vec<Value> {
        ok(run(
            &data,
            &["alerts", "--tenant", tenant, "--source", "vuln", "--json"],
        ))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
    };
    let seoul = alerts("seoul-city");
    assert_eq!(seoul.len(), 1, "{seoul:?}");
    assert!(
        seoul[0]["rule_id"]
            .as_str()
            .unwrap()
            .contains("facade/ignition"),
        "{}",
        seoul[0]
    );
    assert_eq!(
        seoul[0]["level"], "critical",
        "KEV + exploitation → Act → critical"
    );
    let busan = alerts("busan-port");
    assert_eq!(busan.len() as u64, new);
    assert!(busan.iter().any(|a| a["rule_id"] == "GO-2025-3754"));

    let findings = |tenant: &str| -> Vec<Value> {
        ok(run(
            &data,
            &["vuln", "findings", "--tenant", tenant, "--json"],
        ))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
    };
    let seoul = findings("seoul-city");
    assert!(!seoul.is_empty());
    assert!(
        seoul
            .iter()
            .all(|f| f["tenant"] == "seoul-city" && f["system"] == "wiki")
    );
    assert!(seoul.iter().any(|f| f["finding"]["kev"] == true));
    assert!(
        findings("busan-port")
            .iter()
            .all(|f| f["finding"]["ecosystem"] == "Go")
    );

    // Sharing: seoul's findings as CSAF and CycloneDX VEX, valid for the reference
    // validators, TLP-marked, with nothing of busan; one advisory across institutions.
    let csaf = dir.path().join("seoul.csaf.json");
    let cdx = dir.path().join("seoul.cdx.json");
    for (format, path) in [("csaf", &csaf), ("cyclonedx", &cdx)] {
        ok(run(
            &data,
            &[
                "vuln",
                "export",
                "--format",
                format,
                "--tenant",
                "seoul-city",
                "--tlp",
                "amber",
                "--out",
                path.to_str().unwrap(),
            ],
        ));
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("pkg:composer/facade/ignition@1.16.3"));
        assert!(
            !text.contains("pkg:golang/"),
            "busan's components leaked into seoul's {format}"
        );
    }
    let doc: Value = serde_json::from_slice(&std::fs::read(&csaf).unwrap()).unwrap();
    assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "AMBER");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for (program, script, file) in [
        ("node", "tests/csaf/validate.mjs", &csaf),
        ("python3", "scripts/validate-cyclonedx.py", &cdx),
    ] {
        let out = std::process::Command::new(program)
            .arg(script)
            .arg(file)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // STIX 2.1: a bundle the OASIS validator accepts, and objects in a hub collection.
    let bundle = dir.path().join("busan.stix.json");
    ok(run(
        &data,
        &[
            "vuln",
            "export",
            "--format",
            "stix",
            "--tenant",
            "busan-port",
            "--tlp",
            "green",
            "--out",
            bundle.to_str().unwrap(),
        ],
    ));
    let check = std::process::Command::new("python3")
        .args(["-c", "import sys\nfrom stix2validator import validate_file, print_results\nr = validate_file(sys.argv[1])\nprint_results(r)\nsys.exit(0 if r.is_valid else 1)\n"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "stix2-validator: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let b: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let objects = b["objects"].as_array().unwrap();
    assert!(objects.iter().any(|o| {
        o["type"] == "vulnerability"
            && o["external_references"]
                .to_string()
                .contains("GO-2025-3754")
    }));
    assert!(
        objects
            .iter()
            .filter(|o| o["type"] != "marking-definition")
            .all(|o| o["object_marking_refs"]
                .to_string()
                .contains("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb")),
        "every object is TLP:GREEN"
    );
    ok(run(
        &data,
        &[
            "intel",
            "collection",
            "add",
            "vulns",
            "--title",
            "Vulnerabilities",
        ],
    ));
    let published = ok(run(
        &data,
        &[
            "vuln",
            "export",
            "--format",
            "stix",
            "--tenant",
            "busan-port",
            "--collection",
            "vulns",
        ],
    ));
    assert!(published.contains("into collection vulns"), "{published}");
    let listed = ok(run(
        &data,
        &[
            "intel",
            "list",
            "--collection",
            "vulns",
            "--type",
            "vulnerability",
        ],
    ));
    assert!(listed.contains("vulnerability--"), "{listed}");
    let one = ok(run(
        &data,
        &[
            "vuln",
            "export",
            "--format",
            "openvex",
            "--advisory",
            "GO-2025-3754",
        ],
    ));
    let one: Value = serde_json::from_str(&one).unwrap();
    assert!(
        one["statements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["vulnerability"]["name"] == "GO-2025-3754")
    );
    let none = run(
        &data,
        &["vuln", "export", "--format", "csaf", "--tenant", "nowhere"],
    );
    assert!(!none.status.success() && describe(&none).contains("nothing to export"));

    let list = ok(run(&data, &["sbom", "list", "--json"]));
    let sboms: Vec<Value> = list
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sboms.len(), 2);
    let go = sboms.iter().find(|b| b["tenant"] == "busan-port").unwrap();
    assert_eq!(go["exposure"], "internet-facing");
    ok(run(&data, &["sbom", "remove", &go["id"].to_string()]));
    assert!(
        findings("busan-port").is_empty(),
        "removing an SBOM removes its findings"
    );
    let audit = ok(run(&data, &["audit", "list"]));
    assert!(
        audit.contains("sbom.add") && audit.contains("sbom.remove"),
        "{audit}"
    );

    let bad = run(
        &data,
        &[
            "sbom",
            "add",
            "--tenant",
            "bad tenant!",
            "--system",
            "x",
            &v("lockfiles/caddy_v2.0.0/go.mod"),
        ],
    );
    assert!(!bad.status.success());
    assert!(describe(&bad).contains("not a valid id"));
}

#[test]
fn fix_writes_a_patched_requirements_file_that_scans_clean() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let vulns = sample("vulns");
    ok(run(
        &data,
        &[
            "vuln",
            "db",
            "import",
            vulns.join("pypa_advisory_db/vulns").to_str().unwrap(),
        ],
    ));
    let req = vulns.join("lockfiles/netbox_v2.10.0/requirements.txt");
    let patched = dir.path().join("requirements.txt");
    let out = ok(run(
        &data,
        &[
            "vuln",
            "fix",
            "--json",
            "--strategy",
            "minimal",
            "--out",
            patched.to_str().unwrap(),
            req.to_str().unwrap(),
        ],
    ));
    let all: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, plans) = all.split_last().unwrap();
    let s = &summary["summary"];
    assert_eq!(s["plans"].as_u64().unwrap() as usize, plans.len());
    assert_eq!(s["validated"], s["with_target"], "{s}");
    let django = plans.iter().find(|p| p["package"] == "Django").unwrap();
    assert_eq!(
        (django["current"].as_str(), django["target"].as_str()),
        (Some("3.1.3"), Some("3.1.14"))
    );
    assert_eq!(django["compatible"], true);
    assert!(
        django["command"]
            .as_str()
            .unwrap()
            .contains("Django==3.1.14")
    );
    // The patched file scans clean for everything that had a target.
    let scan = run(
        &data,
        &["vuln", "scan", "--json", patched.to_str().unwrap()],
    );
    let left: Vec<Value> = String::from_utf8(scan.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(left.last().unwrap()["summary"]["findings"], 0, "{left:?}");
    let bad = run(
        &data,
        &["vuln", "fix", "--strategy", "newest", req.to_str().unwrap()],
    );
    assert_eq!(bad.status.code(), Some(2));
    let bad = run(
        &data,
        &[
            "vuln",
            "fix",
            "--out",
            patched.to_str().unwrap(),
            vulns
                .join("lockfiles/caddy_v2.0.0/go.mod")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        describe(&bad).contains("requirements.txt files only"),
        "{}",
        describe(&bad)
    );
}

/// SBOM generation for those without one: lockfiles of four ecosystems become one
/// CycloneDX 1.6 SBOM that the CycloneDX reference library accepts and that reads back
/// with the same components.
#[test]
fn sbom_generate_makes_a_valid_cyclonedx_1_6_sbom_from_lockfiles() {
    let dir = tempfile::tempdir().unwrap();
    let vulns = sample("vulns");
    let inputs = [
        "lockfiles/bookstack_v0.30.0/composer.lock",
        "lockfiles/thelounge_v4.0.0/yarn.lock",
        "lockfiles/poetry_1.1.0/poetry.lock",
        "cargo_lock/fd_v7.4.0.Cargo.lock",
    ];
    let paths: Vec<String> = inputs
        .iter()
        .map(|i| vulns.join(i).to_str().unwrap().to_owned())
        .collect();
    let bom = dir.path().join("bom.json");
    let mut args = vec![
        "sbom",
        "generate",
        "--name",
        "portal",
        "--version",
        "1.0",
        "--out",
        bom.to_str().unwrap(),
    ];
    args.extend(paths.iter().map(String::as_str));
    let out = haechi(&args);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        describe(&out).contains("left out"),
        "fd's own crate is named as left out"
    );
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let check = std::process::Command::new("python3")
        .arg("scripts/validate-cyclonedx.py")
        .arg(&bom)
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // It reads back through Haechi's CycloneDX reader: every component, none skipped,
    // and every registry component of the inputs is in it.
    let doc: Value = serde_json::from_slice(&std::fs::read(&bom).unwrap()).unwrap();
    let purls: std::collections::BTreeSet<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    assert_eq!(doc["metadata"]["component"]["name"], "portal");
    let data = dir.path().join("data");
    let added = haechi(&[
        "sbom",
        "add",
        "--tenant",
        "sme",
        "--system",
        "portal",
        "--data-dir",
        data.to_str().unwrap(),
        bom.to_str().unwrap(),
    ]);
    assert!(added.status.success(), "{}", describe(&added));
    let line = String::from_utf8_lossy(&added.stdout).into_owned();
    assert!(
        line.contains(&format!(": {} components, 0 skipped", purls.len())),
        "{line}"
    );
    for (input, some) in [
        (0, "pkg:composer/facade/ignition@1.16.3"),
        (1, "pkg:npm/%40babel/core@7.7.7"),
        (3, "pkg:cargo/regex@1.3.1"),
    ] {
        assert!(
            purls.contains(some),
            "{some} from {} is missing",
            inputs[input]
        );
    }
}
