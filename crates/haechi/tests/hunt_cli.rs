//! `haechi hunt` from a shell on real EVTX samples with the public SigmaHQ rules.

use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn hunt(extra: &[&str]) -> (bool, String, String) {
    let rules = format!("{DATA}/sigma");
    let sample = format!("{DATA}/evtx/DeepBlueCLI/smb-password-guessing-security.evtx");
    let mut args = vec!["hunt", "--rules", rules.as_str()];
    args.extend_from_slice(extra);
    args.push(sample.as_str());
    let out = Command::new(env!("CARGO_BIN_EXE_haechi"))
        .args(&args)
        .output()
        .expect("run haechi hunt");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_detections_carry_rule_attribution_and_event_identity() {
    let (ok, stdout, stderr) = hunt(&["--json"]);
    assert!(ok, "{stderr}");
    let hits: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(
        !hits.is_empty(),
        "SMB password guessing fires rules: {stderr}"
    );
    for h in &hits {
        for key in [
            "rule_id",
            "rule_title",
            "level",
            "timestamp",
            "file",
            "event_record_id",
            "rule_author",
            "tags",
        ] {
            assert!(!h[key].is_null(), "{key} missing in {h}");
        }
        assert!(
            h["file"]
                .as_str()
                .unwrap()
                .ends_with("smb-password-guessing-security.evtx")
        );
    }
    let times: Vec<&str> = hits
        .iter()
        .map(|h| h["timestamp"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "a timeline: oldest first"
    );
    assert!(
        hits.iter().any(
            |h| h["rule_title"].as_str().unwrap().contains("Failed Logon")
                || h["rule_title"].as_str().unwrap().contains("Metasploit")
                || h["rule_title"].as_str().unwrap().contains("Brute")
        ),
        "{stdout}"
    );
}

#[test]
fn min_level_filters_and_csv_has_a_header() {
    let (_, all, _) = hunt(&["--json"]);
    let (ok, high, stderr) = hunt(&["--json", "--min-level", "high"]);
    assert!(ok, "{stderr}");
    let levels: Vec<String> = high
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["level"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        levels.iter().all(|l| l == "high" || l == "critical"),
        "{levels:?}"
    );
    assert!(high.lines().count() <= all.lines().count());
    let (ok, csv, _) = hunt(&["--csv"]);
    assert!(ok);
    assert!(
        csv.starts_with("timestamp,computer,rule_title,level,rule_id,event_record_id"),
        "{csv}"
    );
    let (ok, _, stderr) = hunt(&["--min-level", "severe"]);
    assert!(!ok && stderr.contains("--min-level"), "{stderr}");
}
