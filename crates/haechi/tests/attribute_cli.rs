//! `haechi attribute` from a shell, on the shared ATT&CK Enterprise bundle: an incident's
//! techniques and software rank the groups, best first, with the evidence; `--json` is the
//! list the acceptance checks read; malformed ids are refused with the reason.

mod common;

use common::*;
use serde_json::Value;

fn attack() -> String {
    sample("attack/enterprise-attack-18.1-dev.json")
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_incidents_techniques_and_software_rank_the_groups() {
    // APT29's reported signature: its own malware and techniques.
    let out = haechi(&[
        "attribute",
        "--attack",
        &attack(),
        "--technique",
        "T1195.002",
        "--technique",
        "T1078.004",
        "--technique",
        "T1550.001",
        "--software",
        "S0559",
        "--software",
        "S0560",
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let ranked: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ranked[0]["id"], "G0016", "{ranked:?}");
    assert_eq!(ranked[0]["name"], "APT29");
    let matched: Vec<&str> = ranked[0]["matched_software"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(matched, ["S0559", "S0560"]);
    let scores: Vec<f64> = ranked
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]) && scores[0] <= 1.0);
    assert!(ranked.len() <= 10, "--top defaults to 10");

    // The readable form names the evidence and says what it is not.
    let text = haechi(&[
        "attribute",
        "--attack",
        &attack(),
        "--technique",
        "t1195.002",
        "--software",
        "S0559",
        "--top",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("G0016 APT29") && stdout.contains("S0559 SUNBURST"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&text.stderr).contains("not a verdict"));

    let bundle = attack();
    for (bad, reason) in [
        (["--technique", "T59"], "an ATT&CK technique id"),
        (["--software", "S0154.001"], "an ATT&CK software id"),
    ] {
        let mut args = vec!["attribute", "--attack", &bundle];
        args.extend(bad);
        let out = haechi(&args);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(reason),
            "{}",
            describe(&out)
        );
    }
}
