//! Windows events as agents ship them: the OTRF Security-Datasets recordings in
//! `../shared/data/drills` (NXLog JSON, flattened event data, local times without a
//! zone) are recognised by `--format auto`, mapped like EVTX records, and the SigmaHQ
//! Windows rules fire on them with the detections their techniques call for.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn recordings() -> Vec<std::path::PathBuf> {
    let root = sample("drills/otrf_windows_atomic");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "json") {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn agent_json_is_recognised_and_the_windows_rules_fire_on_the_drill_recordings() {
    let files = recordings();
    assert!(files.len() >= 15, "{files:?}");
    let lines: usize = files
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count()
        })
        .sum();

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut args = vec!["ingest", "--tenant", "seoul", "--json"];
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let summary: Value = serde_json::from_str(&cli(&data, &args, "")).unwrap();
    let parsed = summary["by_format"]["winlog"].as_u64().unwrap_or(0)
        + summary["duplicates"].as_u64().unwrap_or(0);
    assert_eq!(
        parsed, lines as u64,
        "every line is a Windows event: {summary}"
    );
    let sysmon = search_events(
        &data,
        &[],
        "winlog.channel:\"Microsoft-Windows-Sysmon/Operational\" AND event.code:1",
    );
    assert!(!sysmon.is_empty(), "Sysmon process creations are mapped");
    assert!(
        field(&sysmon[0], "process.command_line").is_some(),
        "{:#?}",
        sysmon[0]
    );
    assert!(field(&sysmon[0], "host.name").is_some());

    // The whole SigmaHQ Windows rule set over the recordings, as `haechi hunt` runs it.
    let rules = sample("sigma/rules/windows");
    let mut hunt = vec![
        "hunt",
        "--rules",
        rules.to_str().unwrap(),
        "--min-level",
        "medium",
        "--json",
    ];
    hunt.extend(paths.iter().map(String::as_str));
    let out = haechi(&hunt);
    assert!(out.status.success(), "{}", describe(&out));
    let mut by_file: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let d: Value = serde_json::from_str(line).unwrap();
        let file = d["file"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        by_file
            .entry(file)
            .or_default()
            .insert(d["rule_title"].as_str().unwrap().to_owned());
    }
    let fired = |prefix: &str, title: &str| {
        by_file
            .iter()
            .find(|(f, _)| f.starts_with(prefix))
            .is_some_and(|(_, titles)| titles.contains(title))
    };
    assert!(
        fired("mimikatz_CVE-2020-1472", "HackTool - Mimikatz Execution"),
        "{by_file:#?}"
    );
    assert!(
        fired("psh_cmstp_execution_bypassuac", "Bypass UAC via CMSTP"),
        "{by_file:#?}"
    );
    assert!(
        fired(
            "cmd_netsh_fw_mod_open_ports",
            "New Firewall Rule Added Via Netsh.EXE"
        ),
        "{by_file:#?}"
    );
    assert!(
        fired(
            "cmd_psexec_lsa_secrets_dump",
            "Dumping of Sensitive Hives Via Reg.EXE"
        ),
        "{by_file:#?}"
    );
    assert!(
        by_file.len() + 1 >= files.len(),
        "all but at most one recording raise a medium or higher detection: {by_file:#?}"
    );
}
