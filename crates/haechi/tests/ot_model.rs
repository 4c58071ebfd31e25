//! The OT behaviour model on a real Modbus capture's Zeek log
//! (`ot/automayt_ics_pcap/ETHERNET_IP/mb/modbus.log`: one master polling and writing 13
//! PLCs) and a polling-only HMI (`MODBUS/Modbus/modbus.log`): `haechi ot learn` on the
//! first 60 % of the first and all of the second, `haechi ot check` quiet on the
//! held-out 40 %, and alerts with the ATT&CK for ICS technique when a new host writes to a
//! PLC or a master writes to a PLC it only ever read; the same allow-list under `haechi
//! serve` (`detect.ot_allowlist`) raises the alert on the stream.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

const MODBUS: &str = "ot/automayt_ics_pcap/ETHERNET_IP/mb/modbus.log";
/// READ_HOLDING_REGISTERS polling of one PLC (2008).
const POLLING: &str = "ot/automayt_ics_pcap/MODBUS/Modbus/modbus.log";

/// The log's header lines and data rows.
fn log() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(sample(MODBUS)).unwrap();
    let header = text
        .lines()
        .filter(|l| l.starts_with('#') && !l.starts_with("#close"))
        .map(str::to_owned)
        .collect();
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    (header, rows)
}

fn write_log(
    dir: &std::path::Path,
    name: &str,
    header: &[String],
    rows: &[String],
) -> std::path::PathBuf {
    write_file(
        dir,
        name,
        &format!("{}\n{}\n", header.join("\n"), rows.join("\n")),
    )
}

/// A row of the log with its client, server and function replaced (columns as the
/// header gives them: ts uid id.orig_h id.orig_p id.resp_h id.resp_p func exception).
fn forged(row: &str, client: &str, server: &str, func: &str) -> String {
    let mut cols: Vec<String> = row.split('\t').map(str::to_owned).collect();
    cols[2] = client.to_owned();
    cols[4] = server.to_owned();
    cols[6] = func.to_owned();
    cols.join("\t")
}

fn check(dir: &std::path::Path, allowlist: &std::path::Path, log: &std::path::Path) -> Vec<Value> {
    let out = haechi(&[
        "ot",
        "check",
        "--tenant",
        "water-works",
        "--allowlist",
        allowlist.to_str().unwrap(),
        "--json",
        log.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let _ = dir;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_model_learns_a_facility_and_alerts_on_new_writers() {
    let dir = tempfile::tempdir().unwrap();
    let (header, rows) = log();
    let split = rows.len() * 6 / 10;
    let base = write_log(dir.path(), "base.log", &header, &rows[..split]);
    let rest = write_log(dir.path(), "rest.log", &header, &rows[split..]);
    let allowlist = dir.path().join("water-works.ot.json");
    let out = haechi(&[
        "ot",
        "learn",
        "--tenant",
        "water-works",
        "--out",
        allowlist.to_str().unwrap(),
        base.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    // A second facility network of the same institution: an HMI that only polls.
    let polling = sample(POLLING);
    let out = haechi(&[
        "ot",
        "learn",
        "--tenant",
        "water-works",
        "--add",
        "--out",
        allowlist.to_str().unwrap(),
        polling.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    // The file is for people: every conversation of the baseline, by client and server.
    let list: Value = serde_json::from_str(&std::fs::read_to_string(&allowlist).unwrap()).unwrap();
    let pairs = list["tenants"]["water-works"].as_object().unwrap();
    let polling_rows: Vec<String> = std::fs::read_to_string(&polling)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let expected: BTreeSet<String> = rows[..split]
        .iter()
        .chain(&polling_rows)
        .map(|r| {
            let c: Vec<&str> = r.split('\t').collect();
            format!("{}>{}/modbus", c[2], c[4])
        })
        .collect();
    assert_eq!(pairs.keys().cloned().collect::<BTreeSet<_>>(), expected);

    // Held-out normal traffic: no finding.
    assert_eq!(check(dir.path(), &allowlist, &rest), Vec::<Value>::new());

    // A PLC the master only ever read (in the baseline), and a host never seen.
    let read_only: Vec<&str> = pairs
        .iter()
        .filter(|(_, p)| p["operations"] == serde_json::json!(["read"]))
        .map(|(k, _)| k.as_str())
        .collect();
    let victim = read_only
        .first()
        .expect("a read-only conversation in the baseline");
    let (client, server) = victim.trim_end_matches("/modbus").split_once('>').unwrap();
    let template = &rows[split];
    let attack = write_log(
        dir.path(),
        "attack.log",
        &header,
        &[
            forged(template, client, server, "WRITE_SINGLE_REGISTER"),
            forged(template, "141.81.0.250", server, "WRITE_MULTIPLE_REGISTERS"),
            forged(template, client, server, "READ_INPUT_REGISTERS"),
        ],
    );
    let findings = check(dir.path(), &allowlist, &attack);
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let write = &findings[0];
    assert_eq!(write["rule_id"], "ot:new-write");
    assert_eq!(write["level"], "high");
    assert!(
        write["tags"]
            .as_array()
            .unwrap()
            .contains(&"attack.t0855".into())
    );
    assert_eq!(write["details"]["function"], "WRITE_SINGLE_REGISTER");
    let talker = &findings[1];
    assert_eq!(talker["rule_id"], "ot:new-talker");
    assert_eq!(talker["level"], "high", "a new host that writes");
    assert_eq!(talker["entity"], "source.ip=141.81.0.250");
    assert!(
        talker["tags"]
            .as_array()
            .unwrap()
            .contains(&"attack.t0886".into())
    );

    // The same allow-list on the stream.
    let token = "ot-model-token-0123456789";
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{token}\" }}]\n[pipeline]\ncommit_interval_ms = 100\n[detect]\not_allowlist = {}\n",
            toml_path(&dir.path().join("data")),
            toml_path(&allowlist)
        ),
    );
    let server_proc = Server::start(&config, &dir.path().join("serve.stderr"));
    let body = std::fs::read_to_string(&attack).unwrap();
    let auth = format!("Bearer {token}");
    let r = server_proc.request(
        "POST",
        "/api/ingest?tenant=water-works&format=zeek",
        &[("Authorization", &auth)],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = server_proc.request(
        "GET",
        "/api/alerts?source=model",
        &[("Authorization", &auth)],
        b"",
    );
    let alerts = r.json()["alerts"].as_array().cloned().unwrap_or_default();
    let ids: BTreeSet<&str> = alerts
        .iter()
        .filter_map(|a| a["rule_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["ot:new-talker", "ot:new-write"]),
        "{alerts:#?}"
    );
    let (status, stderr) = server_proc.terminate();
    assert!(status.success(), "{stderr}");
}
