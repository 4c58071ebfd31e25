//! `haechi rules check` from a shell, on the public SigmaHQ set and on broken rules.

use std::process::Command;

fn haechi(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_haechi"))
        .args(args)
        .output()
        .expect("run haechi");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON summary ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn the_sigmahq_rule_set_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/sigma");
    let (code, json) = haechi(&["rules", "check", "--json", dir]);
    let total = json["total"].as_u64().expect("total");
    let loaded = json["loaded"].as_u64().expect("loaded");
    assert!(total >= 3_780, "{json}");
    assert!(
        loaded as f64 >= 0.99 * total as f64,
        "at least 99% load: {json}"
    );
    assert_eq!(json["failed"].as_u64(), Some(total - loaded));
    assert_eq!(code, if loaded == total { 0 } else { 1 });
}

#[test]
fn broken_rules_are_listed_and_the_exit_code_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.yml"),
        "title: broken\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x\n  condition: sel and\n",
    )
    .unwrap();
    let (code, json) = haechi(&["rules", "check", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(json["total"], 1);
    assert_eq!(json["loaded"], 0);
    let failure = &json["failures"][0];
    assert!(
        failure["path"].as_str().unwrap().ends_with("broken.yml"),
        "{json}"
    );
    assert!(
        failure["reason"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("condition"),
        "{json}"
    );
}
