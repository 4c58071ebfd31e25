//! JavaScript libraries found by URL with Retire.js's repository, checked against the
//! repository's own detection test cases (every URL template with every version that
//! is not marked content-only must be found, at that version), and their
//! vulnerabilities matched by Retire.js's ranges.

mod common;
use common::vulns;

use haechi_vuln::retire::{RetireRepo, compare};
use serde_json::Value;

fn repo() -> RetireRepo {
    let path = vulns("../web_inspection/retirejs/jsrepository-v4.json");
    RetireRepo::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_repository_s_own_url_test_cases_are_detected() {
    let repo = repo();
    assert!(repo.libraries() >= 70);
    let cases: Value = serde_json::from_str(
        &std::fs::read_to_string(vulns("../web_inspection/retirejs/testcases.json")).unwrap(),
    )
    .unwrap();
    let (mut checked, mut missed) = (0, Vec::new());
    for (library, templates) in cases.as_object().unwrap() {
        for (template, case) in templates.as_object().unwrap() {
            if case["contentOnly"] == true {
                continue;
            }
            for v in case["versions"].as_array().unwrap() {
                let v = v.as_str().unwrap();
                // `§§subversion§§` stands for the file's variants (plain, minified).
                let variants: &[&str] = if template.contains("§§subversion§§") {
                    &["", ".min"]
                } else {
                    &[""]
                };
                for sub in variants {
                    let url = template
                        .replace("§§version§§", v)
                        .replace("§§subversion§§", sub);
                    checked += 1;
                    let found = repo.detect_url(&url);
                    if !found
                        .iter()
                        .any(|d| &d.library == library && d.version == v)
                    {
                        missed.push(format!("{library} {v} at {url}: found {found:?}"));
                    }
                }
            }
        }
    }
    assert!(checked >= 100, "only {checked} cases");
    assert!(
        missed.is_empty(),
        "{} of {checked} missed:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

#[test]
fn vulnerable_versions_are_matched_by_retire_s_ranges() {
    let repo = repo();
    let found = repo.detect_url("https://code.jquery.com/jquery-1.6.0.min.js");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].library.as_str(), found[0].version.as_str()),
        ("jquery", "1.6.0")
    );
    let v = repo.vulnerabilities("jquery", "1.6.0");
    assert!(
        v.iter()
            .any(|x| x.cves.contains(&"CVE-2011-4969".to_owned()))
    );
    assert!(
        repo.vulnerabilities("jquery", "3.7.1").is_empty(),
        "a current jQuery is clean"
    );
    assert!(compare("1.10.2", "1.9.1").is_gt());
    assert!(compare("3.0.0-beta1", "3.0.0").is_lt());
}
