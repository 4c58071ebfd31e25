//! No change by a person goes unaudited, although alerts and the audit log live in
//! different databases: the server is aborted (`HAECHI_FAILPOINT=abort-before-audit:1`)
//! after an officer's triage is applied and before its audit record is written; the next
//! start records the change as interrupted, and the chain stays intact. A change that is
//! refused leaves no record.

mod common;

use common::*;
use serde_json::{Value, json};

const TOKEN: &str = "audit-durability-token-0123456789";
const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

fn audit_records(data: &std::path::Path) -> Vec<Value> {
    cli(data, &["audit", "list", "--limit", "1000"], "")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON audit record"))
        .collect()
}

fn call(server: &Server, method: &str, path: &str, body: Value) -> HttpResponse {
    let auth = format!("Bearer {TOKEN}");
    server.request(
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

#[test]
fn a_crash_between_a_change_and_its_audit_record_leaves_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{TOKEN}\", role = \"center\", name = \"duty\" }}]\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n",
            toml_path(&data),
            toml_path(&rules)
        ),
    );
    let stderr = dir.path().join("serve.stderr");
    let server = Server::start_with_env(
        &config,
        &stderr,
        &[("HAECHI_FAILPOINT", "abort-before-audit:2")],
    );
    let line = format!(
        "203.0.113.5 - - [{}] \"GET /f?file=../../../etc/passwd HTTP/1.1\" 404 1 \"-\" \"curl\"",
        clf_time(1)
    );
    let auth = format!("Bearer {TOKEN}");
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul&format=clf",
        &[("Authorization", &auth)],
        line.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let alerts = server.get_json(TOKEN, "/api/alerts");
    let id = alerts["alerts"][0]["id"].as_i64().expect("an alert");

    // A refused change: no incident 999. Its intent is dropped, nothing is recorded.
    let r = call(
        &server,
        "POST",
        "/api/incidents/999",
        json!({"status": "triage"}),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    // The first audited change goes through whole (the fault point counts from 1).
    let r = call(
        &server,
        "POST",
        "/api/alerts/triage",
        json!({"ids": [id], "action": "assign", "assignee": "kim"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // The second is applied, then the server aborts before its record.
    let answer = try_http_request(
        server.http,
        "POST",
        "/api/alerts/triage",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        json!({"ids": [id], "action": "acknowledge"})
            .to_string()
            .as_bytes(),
    );
    assert!(answer.is_err(), "the server aborts before answering");
    server.wait_crashed();
    let before = audit_records(&data);
    assert!(
        !before.iter().any(|r| r["action"] == "alert.acknowledge"),
        "the crash came before the record: {before:?}"
    );

    let server = Server::start(&config, &stderr);
    let alert = server.get_json(TOKEN, &format!("/api/alerts/{id}"));
    assert_eq!(
        alert["triage"]["state"], "acknowledged",
        "the change was applied: {alert}"
    );
    let records = audit_records(&data);
    let interrupted: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "alert.acknowledge")
        .collect();
    assert_eq!(interrupted.len(), 1, "{records:?}");
    let r = interrupted[0];
    assert_eq!(r["actor"], "config-token:duty", "{r}");
    assert_eq!(r["target"], format!("alerts:[{id}]"), "{r}");
    let after: Value = match &r["after"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        v => v.clone(),
    };
    assert!(
        after["interrupted"]
            .as_str()
            .is_some_and(|s| s.contains("may or may not have been applied")),
        "{r}"
    );
    assert!(
        records.iter().any(|r| r["action"] == "alert.assign"),
        "{records:?}"
    );
    assert!(
        !records.iter().any(|r| r["action"] == "incident.update"),
        "a refused change leaves no record: {records:?}"
    );
    let out = haechi(&["audit", "verify", "--data-dir", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", describe(&out));

    // A later change is recorded normally, and a restart records nothing more.
    let r = call(
        &server,
        "POST",
        "/api/alerts/triage",
        json!({"ids": [id], "action": "close", "disposition": "true_positive"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (status, text) = server.terminate();
    assert!(status.success(), "{status}: {text}");
    let server = Server::start(&config, &stderr);
    let (status, _) = server.terminate();
    assert!(status.success());
    let records = audit_records(&data);
    assert_eq!(
        records
            .iter()
            .filter(|r| r["action"] == "alert.close")
            .count(),
        1,
        "{records:?}"
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r["action"] == "alert.acknowledge")
            .count(),
        1,
        "recovered once: {records:?}"
    );
}

/// The same holds for changes made from the command line: `haechi blocklist add` aborted
/// after the entry is stored and before its record leaves an intent, which the next
/// `haechi serve` records as interrupted; a refused command leaves nothing.
#[test]
fn a_command_killed_between_its_change_and_its_record_leaves_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    cli(&data, &["blocklist", "add", "edge", "203.0.113.7"], "");
    let out = haechi_command(&["blocklist", "add", "edge", "198.51.100.9", "--data-dir", d])
        .env("HAECHI_FAILPOINT", "abort-before-audit:1")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the command aborts: {}",
        describe(&out)
    );
    let out = haechi(&["blocklist", "remove", "edge", "192.0.2.1", "--data-dir", d]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not in block list"),
        "{}",
        describe(&out)
    );
    let listed = cli(&data, &["blocklist", "list", "edge"], "");
    assert!(
        listed.contains("198.51.100.9"),
        "the change was applied: {listed}"
    );
    let before = audit_records(&data);
    assert_eq!(
        before
            .iter()
            .filter(|r| r["action"] == "blocklist.add")
            .count(),
        1,
        "only the first command's record so far: {before:?}"
    );

    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{TOKEN}\" }}]\n",
            toml_path(&data)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let (status, text) = server.terminate();
    assert!(status.success(), "{status}: {text}");
    let records = audit_records(&data);
    let added: Vec<&Value> = records
        .iter()
        .filter(|r| r["action"] == "blocklist.add")
        .collect();
    assert_eq!(added.len(), 2, "{records:?}");
    let interrupted = added[1];
    assert_eq!(
        interrupted["target"], "blocklist:edge:198.51.100.9",
        "{interrupted}"
    );
    assert!(
        interrupted["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("cli:")),
        "{interrupted}"
    );
    assert!(
        interrupted
            .to_string()
            .contains("may or may not have been applied"),
        "{interrupted}"
    );
    assert!(
        !records.iter().any(|r| r["action"] == "blocklist.remove"),
        "a refused command leaves no record: {records:?}"
    );
    let out = haechi(&["audit", "verify", "--data-dir", d]);
    assert!(out.status.success(), "{}", describe(&out));
}
