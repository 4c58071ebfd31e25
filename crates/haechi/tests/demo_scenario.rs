//! `haechi demo --once` on the embedded default, as a newcomer runs it with nothing but
//! the binary: the scenario's four institutions, the starter rules, the demo indicators
//! and the built-in models; one cycle played twenty times faster than real time.

mod common;

use common::*;

#[test]
fn the_scenario_raises_the_starter_rules_alerts_and_a_cross_institution_campaign() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("demo");
    let mut cmd = haechi_command(&[
        "demo",
        "--once",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--syslog",
        "127.0.0.1:0",
        "--speed",
        "20",
    ]);
    cmd.env("HAECHI_ADMIN_PASSWORD", "correct horse battery staple");
    let out = cmd.output().expect("haechi demo runs");
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The console and the login are printed for the newcomer.
    assert!(stdout.contains("console   http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains("password  correct horse battery staple"),
        "{stdout}"
    );
    // Every attack of the scenario is detected, by the rule written for it.
    for (title, tenant) in [
        (
            "Port scan of remote administration ports from one source",
            "water-works",
        ),
        (
            "Port scan of remote administration ports from one source",
            "city-hall",
        ),
        (
            "Port scan of remote administration ports from one source",
            "hospital",
        ),
        ("SSH brute force from one source", "water-works"),
        ("SSH login as root accepted", "water-works"),
        ("SQL injection attempt in a web request", "university"),
        ("Path traversal attempt in a web request", "university"),
        ("Office application starts encoded PowerShell", "city-hall"),
        (
            "LSASS memory dumped with comsvcs.dll or procdump",
            "city-hall",
        ),
        (
            "Service installed from a temporary or user directory",
            "city-hall",
        ),
        (
            "Password guessing against Windows accounts from one address",
            "city-hall",
        ),
        (
            "Threat intel: ip 203.0.113.66 listed by demo-indicators",
            "hospital",
        ),
        (
            "Algorithmically generated domain name (DGA model)",
            "university",
        ),
        ("Modbus write function code", "water-works"),
        ("AWS console login by an IAM user without MFA", "city-hall"),
        ("AWS IAM access key created for another user", "city-hall"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("ALERT #") && l.contains(title) && l.contains(tenant)),
            "no '{title}' alert at {tenant}: {stdout}"
        );
    }
    // No background event raises a rule alert: the noise is benign.
    let noisy: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("ALERT #") && l.ends_with("[sigma]"))
        .filter(|l| {
            ![
                "203.0.113.66",
                "198.51.100.23",
                "ws-017",
                "scada-gw",
                "10.10.0.2",
            ]
            .iter()
            .any(|x| l.contains(x))
        })
        .collect();
    assert!(noisy.is_empty(), "alerts on background traffic: {noisy:?}");
    // The same outside address at three institutions is one campaign.
    assert!(
        stdout.lines().any(|l| l.starts_with("campaign #")
            && l.contains("203.0.113.66 at 3 institutions (city-hall, hospital, water-works)")),
        "{stdout}"
    );
    // The traffic was stored per institution, nothing dead-lettered.
    for tenant in ["city-hall", "water-works", "university", "hospital"] {
        let n = search_total(&data, &["--tenant", tenant], "*");
        assert!(n > 100, "{tenant}: {n} events stored");
    }
    let all = describe(&out);
    assert!(all.contains(" events stored, 0 dead letters"), "{all}");
    // The water works' public portal is an inventory with a KEV-listed finding, and its
    // findings are in the institution's queue as `vuln` alerts.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("inventory: water-works/public-portal")
                && l.contains("KEV: CVE-2021-3129 in facade/ignition 1.16.3")),
        "{}",
        describe(&out)
    );
    let out = haechi(&[
        "alerts",
        "--data-dir",
        data.to_str().unwrap(),
        "--tenant",
        "water-works",
        "--source",
        "vuln",
        "--json",
    ]);
    let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 5, "{alerts:?}");
    let kev = alerts
        .iter()
        .find(|a| a["rule_id"] == "FRIENDSOFPHP-facade/ignition-CVE-2021-3129")
        .expect("the KEV finding is an alert");
    assert_eq!(kev["level"], "critical");
}
