//! CPE matching, the low-confidence fallback: NVD CVE records (the API 2.0 shape) are
//! imported for their CPE ranges; in a CycloneDX SBOM, a component with a CPE and no purl
//! is matched by it (Log4Shell: KEV-listed, so it also heads the list), while a component
//! with a purl is never matched by CPE and a version outside the ranges is not matched.

mod common;

use common::*;
use serde_json::{Value, json};

/// The CPE configuration of CVE-2021-44228 as the NVD publishes it (API 2.0 shape; the
/// three version ranges of `cpe:2.3:a:apache:log4j`).
fn nvd_log4shell() -> Value {
    let range = |start: &str, end: &str| {
        json!({"vulnerable": true, "criteria": "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*",
               "versionStartIncluding": start, "versionEndExcluding": end,
               "matchCriteriaId": "00000000-0000-0000-0000-000000000000"})
    };
    json!({
        "resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "format": "NVD_CVE", "version": "2.0",
        "vulnerabilities": [{"cve": {
            "id": "CVE-2021-44228",
            "sourceIdentifier": "security@apache.org",
            "vulnStatus": "Analyzed",
            "descriptions": [{"lang": "en", "value": "Apache Log4j2 JNDI features do not protect against attacker controlled LDAP and other JNDI related endpoints."}],
            "configurations": [{"nodes": [{"operator": "OR", "negate": false, "cpeMatch": [
                range("2.0.1", "2.3.1"), range("2.4.0", "2.12.2"), range("2.13.0", "2.15.0")
            ]}]}]
        }}]
    })
}

fn sbom() -> Value {
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [
            {"type": "library", "name": "log4j-core", "version": "2.14.1",
             "cpe": "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"},
            {"type": "library", "name": "log4j-api", "version": "2.14.1",
             "purl": "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1",
             "cpe": "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"},
            {"type": "application", "name": "appliance", "version": "2.16.0",
             "cpe": "cpe:2.3:a:apache:log4j:2.16.0:*:*:*:*:*:*:*"}
        ]
    })
}

#[test]
fn components_without_purl_are_matched_by_cpe_with_low_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let nvd = write_file(
        dir.path(),
        "nvdcve-2.0-log4shell.json",
        &nvd_log4shell().to_string(),
    );
    let import = haechi(&[
        "vuln",
        "db",
        "import",
        "--data-dir",
        data.to_str().unwrap(),
        nvd.to_str().unwrap(),
        sample("vulns/cisa_kev").to_str().unwrap(),
    ]);
    assert!(import.status.success(), "{}", describe(&import));
    assert!(
        String::from_utf8_lossy(&import.stdout).contains("NVD CPE ranges 3"),
        "{}",
        describe(&import)
    );
    let bom = write_file(dir.path(), "bom.json", &sbom().to_string());
    let scan = haechi(&[
        "vuln",
        "scan",
        "--json",
        "--exposure",
        "internet-facing",
        "--data-dir",
        data.to_str().unwrap(),
        bom.to_str().unwrap(),
    ]);
    assert!(scan.status.success(), "{}", describe(&scan));
    let lines: Vec<Value> = String::from_utf8_lossy(&scan.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, findings) = lines.split_last().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["id"], "CVE-2021-44228");
    assert_eq!(f["package"], "log4j-core");
    assert_eq!(f["confidence"], "low");
    assert_eq!(f["ecosystem"], "CPE");
    assert_eq!(
        f["kev"], true,
        "the KEV catalog applies to CPE findings too"
    );
    assert_eq!(f["ssvc"], "Act");
    assert_eq!(f["fixed"], json!(["2.15.0"]));
    assert!(
        f["evidence"]["matched_by"]
            .as_str()
            .unwrap()
            .starts_with("cpe cpe:2.3:a:apache:log4j")
    );
    assert_eq!(f["evidence"]["range"]["introduced"], "2.13.0");
    let s = &summary["summary"];
    assert_eq!(s["cpe_matched"], 1, "{s}");
    // The two components without a purl are still counted as skipped, with their reason.
    assert_eq!(s["skipped"], 2, "{s}");

    // The human form says how sure it is.
    let text = haechi(&[
        "vuln",
        "scan",
        "--data-dir",
        data.to_str().unwrap(),
        bom.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("[low confidence: by CPE]"), "{out}");
}
