//! `haechi demo --once`, as a newcomer runs it (with a smaller rule set, so that a debug
//! build loads it quickly): real samples of three institutions replayed over TCP syslog
//! and HTTP, alerts printed live, everything stored; a look-alike of the city hall's
//! domain, logged in a certificate, is an alert of the city hall; a short drill follows,
//! with its report.

mod common;

use common::*;

#[test]
fn the_demo_replays_real_data_and_prints_live_alerts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("demo");
    let rules = sample("sigma/rules/windows/builtin/security");
    let shared = sample("");
    let out = haechi(&[
        "demo",
        "--once",
        "--data",
        shared.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--syslog",
        "127.0.0.1:0",
        "--rate",
        "100000",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let alerts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("ALERT #"))
        .collect();
    assert!(
        alerts.len() >= 20,
        "Security rules fire on the EVTX attack samples: {stdout}"
    );
    assert!(
        alerts
            .iter()
            .filter(|l| l.ends_with("[sigma]"))
            .all(|l| l.contains("city-hall")),
        "the Windows rule alerts belong to the institution that sent the EVTX events"
    );
    assert!(
        alerts
            .iter()
            .any(|l| l.ends_with("[indicator]") && l.contains("water-works")),
        "an attacker address of the real OpenSSH log is on a public blocklist: {stdout}"
    );
    assert!(
        stdout.contains("Security Eventlog Cleared"),
        "a well-known detection is among them: {stdout}"
    );
    assert!(
        alerts.iter().any(|l| l.ends_with("[domain]")
            && l.contains("city-hall")
            && l.contains("seoul-go-kr-login.com")),
        "the look-alike registered during the demo alerts the city hall: {stdout}"
    );
    // A short drill follows the replay, and its report is printed.
    let drill = stdout
        .lines()
        .find(|l| l.starts_with("drill drill-") && l.contains("at city-hall"))
        .unwrap_or_else(|| panic!("the demo drill's report: {stdout}"));
    assert!(drill.contains("of 1 techniques detected"), "{drill}");
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("T1053.005 ")),
        "the drill's technique is scored: {stdout}"
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("alerts: "))
        .expect("a summary line");
    assert!(summary.contains("high"), "{summary}");
    // Everything the replay sent is searchable afterwards, per institution.
    for tenant in ["city-hall", "water-works", "university"] {
        let n = search_total(&data, &["--tenant", tenant], "*");
        assert!(n > 100, "{tenant}: {n} events stored");
    }
}
