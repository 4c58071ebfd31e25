//! An incident as a signed evidence package, from a shell: web attacks are ingested with a
//! detection rule, the incident they form is exported with the events its alerts stand on,
//! its timeline and its custody log; `haechi evidence verify` accepts the package under
//! the center's key, and names the item when one event is changed, a file is added, or
//! the package is checked against another key; the timeline exports for Timesketch and
//! Plaso read back with the columns those formats require.

mod common;

use common::*;

fn repo_rule() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules/starter/web_path_traversal.yml")
}

#[test]
fn an_exported_incident_verifies_and_a_changed_event_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lines: Vec<String> = (0..20)
        .map(|s| access_line("203.0.113.50", s, s % 4 == 0))
        .collect();
    let log = write_file(dir.path(), "access.log", &(lines.join("\n") + "\n"));
    let ingested = cli(
        &data,
        &[
            "ingest",
            "--tenant",
            "seoul",
            "--format",
            "clf",
            "--rules",
            repo_rule().to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        "",
    );
    assert!(ingested.contains("20"), "{ingested}");
    let out = dir.path().join("package");
    let exported = cli(
        &data,
        &["incident", "export", "1", "--out", out.to_str().unwrap()],
        "",
    );
    assert!(exported.contains("incident 1:"), "{exported}");
    for file in [
        "manifest.json",
        "manifest.sig",
        "incident.json",
        "timeline.json",
        "custody.json",
        "events/0001.json",
    ] {
        assert!(out.join(file).is_file(), "{file}: {exported}");
    }
    // The referenced event is the stored attack line; the timeline holds every event of
    // the attacker; the export is in the custody log.
    let event: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("events/0001.json")).unwrap()).unwrap();
    assert_eq!(event["source.ip"], "203.0.113.50", "{event}");
    assert!(
        event["event.original"]
            .as_str()
            .unwrap()
            .contains("etc/passwd")
    );
    let timeline: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("timeline.json")).unwrap()).unwrap();
    assert_eq!(timeline["total"], 20, "{timeline}");
    let custody = std::fs::read_to_string(out.join("custody.json")).unwrap();
    assert!(custody.contains("incident.export"), "{custody}");

    // The timeline for Timesketch and Plaso, read back by Python's csv and json modules
    // with the columns each format requires.
    for (format, check) in [
        (
            "timesketch-jsonl",
            "rows=[json.loads(l) for l in open(p)]\nassert all({'message','datetime','timestamp_desc'} <= set(r) for r in rows)\nassert all(r['timestamp'] > 0 for r in rows)",
        ),
        (
            "timesketch-csv",
            "rows=list(csv.DictReader(open(p, newline='')))\nassert all(r['message'] and r['datetime'] and r['timestamp_desc'] for r in rows)",
        ),
        (
            "l2tcsv",
            "rows=list(csv.DictReader(open(p, newline='')))\ncols='date,time,timezone,MACB,source,sourcetype,type,user,host,short,desc,version,filename,inode,notes,format,extra'.split(',')\nassert list(rows[0].keys()) == cols, list(rows[0].keys())\nassert all(len(r['date']) == 10 and r['timezone'] == 'UTC' for r in rows)",
        ),
    ] {
        let file = dir.path().join(format!("timeline.{format}"));
        cli(
            &data,
            &[
                "incident",
                "timeline",
                "1",
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ],
            "",
        );
        let script = format!("import csv, json, sys\np=sys.argv[1]\n{check}\nprint(len(rows))");
        let out = std::process::Command::new("python3")
            .args(["-c", &script, file.to_str().unwrap()])
            .output()
            .expect("python3");
        assert!(out.status.success(), "{format}: {}", describe(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "20",
            "{format}"
        );
    }

    let key = cli(&data, &["evidence", "key"], "");
    assert_eq!(key.trim().len(), 64, "{key}");
    let ok = cli(&data, &["evidence", "verify", out.to_str().unwrap()], "");
    assert!(ok.contains("intact"), "{ok}");

    // Another key is not the center's.
    let other = haechi(&[
        "evidence",
        "verify",
        out.to_str().unwrap(),
        "--key",
        &"ab".repeat(32),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stdout).contains("not the trusted key"));

    // One changed byte in an event, and a file slipped in: both named.
    let path = out.join("events/0001.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("203.0.113.50", "203.0.113.51");
    std::fs::write(&path, text).unwrap();
    std::fs::write(out.join("events/extra.json"), "{}").unwrap();
    let bad = haechi(&[
        "evidence",
        "verify",
        out.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(!bad.status.success());
    let v: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    let problems = v["verification"]["problems"].to_string();
    assert!(
        problems.contains("events/0001.json: changed")
            && problems.contains("events/extra.json: not in the manifest"),
        "{problems}"
    );
}

/// A scheduled task created with schtasks.exe (a real EVTX recording, the SigmaHQ rule
/// tagged T1053.005) forms an incident whose DFIQ questions are the scheduled-task ones,
/// with a Haechi query to start answering them.
#[test]
fn an_incidents_techniques_bring_their_dfiq_questions() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\n[detect]\nincident_min_level = \"low\"\n",
            toml_path(&data)
        ),
    );
    let rule =
        sample("sigma/rules/windows/process_creation/proc_creation_win_schtasks_creation.yml");
    let evtx = sample("evtx/EVTX-to-MITRE-Attack/TA0002-Execution/T1053.005-Scheduled Task");
    let out = haechi(&[
        "ingest",
        "--config",
        config.to_str().unwrap(),
        "--tenant",
        "city",
        "--rules",
        rule.to_str().unwrap(),
        evtx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let dfiq = sample("attack/dfiq/data");
    let out = haechi(&[
        "incident",
        "questions",
        "1",
        "--config",
        config.to_str().unwrap(),
        "--dfiq",
        dfiq.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["techniques"], serde_json::json!(["T1053.005"]), "{v}");
    let ids: Vec<&str> = v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"Q1061"),
        "What Scheduled Tasks are configured? {ids:?}"
    );
    assert!(
        !ids.contains(&"Q1060"),
        "macOS/Linux at jobs are not asked: {ids:?}"
    );
    let q1061 = v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "Q1061")
        .unwrap();
    assert!(q1061["haechi_query"].as_str().unwrap().contains("4698"));

    // The groups whose reported tradecraft it resembles: the rule's technique and the
    // schtasks software it names, both matched by the first candidate.
    let out = haechi(&[
        "incident",
        "attribute",
        "1",
        "--config",
        config.to_str().unwrap(),
        "--attack",
        sample("attack/enterprise-attack-18.1-dev.json")
            .to_str()
            .unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["software"], serde_json::json!(["S0111"]), "{v}");
    let first = &v["candidates"][0];
    assert_eq!(
        first["matched_techniques"],
        serde_json::json!(["T1053.005"]),
        "{v}"
    );
    assert_eq!(
        first["matched_software"],
        serde_json::json!(["S0111"]),
        "{v}"
    );
    assert!(v["candidates"].as_array().unwrap().len() <= 5);
    assert!(v["note"].as_str().unwrap().contains("not a verdict"));
}
