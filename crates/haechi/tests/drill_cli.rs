//! `haechi drill run` and `drill report` from a shell: two real OTRF recordings (a remote
//! scheduled task and a SAM copy through a shadow copy) replayed into an institution at
//! 1,000× under the SigmaHQ Windows rules. The id is the last line; both techniques are
//! detected with the rules named; the drill's alerts are tagged `drill` and never merge
//! with real ones; the events are stored marked with the drill.

mod common;

use common::*;

#[test]
fn a_drill_replays_recordings_and_scores_each_technique() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let drills = sample("drills/otrf_windows_atomic");
    let out = haechi(&[
        "drill",
        "run",
        "--data-dir",
        data.to_str().unwrap(),
        "--tenant",
        "city",
        "--speed",
        "1000",
        "--rules",
        sample("sigma/rules/windows").to_str().unwrap(),
        drills.join("SDWIN-201219070027").to_str().unwrap(),
        drills.join("SDWIN-201019002900").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let id = stdout.lines().last().unwrap().trim().to_owned();
    assert!(id.starts_with("drill-"), "{stdout}");

    let report = haechi(&[
        "drill",
        "report",
        &id,
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(report.status.success(), "{}", describe(&report));
    let r: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    let techniques = r["techniques"].as_array().unwrap();
    assert_eq!(techniques.len(), 2, "{r}");
    for (t, technique, rule) in [
        (
            &techniques[0],
            "T1053.005",
            "Scheduled Task Creation Via Schtasks.EXE",
        ),
        (
            &techniques[1],
            "T1003.002",
            "Copying Sensitive Files with Credential Data",
        ),
    ] {
        assert_eq!(t["technique"], technique, "{t}");
        assert_eq!(t["detected"], true, "{t}");
        assert!(t["time_to_detect_s"].as_f64().unwrap() >= 0.0);
        assert!(t["rules"].to_string().contains(rule), "{t}");
    }
    assert_eq!(r["share_detected"], 1.0);

    // The drill's alerts are marked; none shares an entity with a real alert.
    let alerts = haechi(&[
        "alerts",
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
        "--limit",
        "1000",
    ]);
    assert!(alerts.status.success(), "{}", describe(&alerts));
    let text = String::from_utf8_lossy(&alerts.stdout);
    let listed: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!listed.is_empty(), "{text}");
    for a in &listed {
        assert!(a["tags"].to_string().contains("\"drill\""), "{a}");
        assert!(
            a["entity"]
                .as_str()
                .unwrap()
                .starts_with(&format!("drill:{id}/")),
            "{a}"
        );
    }
    // The replayed events are stored, marked with the drill.
    assert!(search_total(&data, &["--tenant", "city"], &format!("labels.drill:{id}")) > 1000);

    // An unknown drill is refused by name.
    let missing = haechi(&[
        "drill",
        "report",
        "drill-nope",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no drill drill-nope"));
}
