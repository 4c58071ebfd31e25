//! Automated response end to end: `haechi serve` with a real SigmaHQ rule and a
//! playbook directory; an attack arrives over HTTP; an automatic playbook calls a real
//! local webhook receiver (which fails the first attempt, so the retry is exercised)
//! with an HMAC signature that Python's `hmac` module verifies, and moves the incident
//! to triage with a note; an approval playbook waits until a center analyst approves it,
//! then the attacker appears in the block list firewalls pull. An institution analyst
//! may not approve; a rejected run changes nothing; every step is audited.

mod common;

use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const RULE: &str = "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
const RULE_ID: &str = "7745c2ea-24a5-4290-b680-04359cb84b35";
const ADMIN: &str = "playbook-admin-token-0123456789";
const CENTER: &str = "playbook-center-token-0123456789";
const SEOUL: &str = "playbook-seoul-token-0123456789";
const SECRET: &str = "webhook signing secret for the test";

/// One received webhook call: its headers (lower-case names) and body.
type Received = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

/// A local HTTP receiver: answers 503 to the first request and 200 to the others,
/// recording each. Stops after `max` requests.
fn webhook_receiver(max: usize) -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Received = Arc::default();
    let record = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(max).enumerate() {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                }
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let status = if n == 0 {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            record.lock().unwrap().push((headers, body));
        }
    });
    (url, seen)
}

fn api(server: &Server, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let r = server.request(
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

fn attack(server: &Server, ip: &str) {
    let lines: Vec<String> = (0..2)
        .map(|i| {
            format!(
                "{ip} - - [{}] \"GET /f?x=../../../etc/passwd HTTP/1.1\" 404 1 \"-\" \"curl/8\"",
                clf_time(i)
            )
        })
        .collect();
    let (s, v) = {
        let auth = format!("Bearer {ADMIN}");
        let r = server.request(
            "POST",
            "/api/ingest?tenant=seoul&format=clf",
            &[("Authorization", &auth)],
            lines.join("\n").as_bytes(),
        );
        (r.status, r.text())
    };
    assert_eq!(s, 200, "{v}");
}

fn runs(server: &Server) -> Vec<Value> {
    api(server, ADMIN, "GET", "/api/playbook-runs", "").1["runs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Verifies the signature header with Python's own HMAC (an implementation other than
/// the one that signed).
fn python_hmac_sha256(secret: &str, body: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body");
    std::fs::write(&path, body).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", "import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2],'rb').read(), hashlib.sha256).hexdigest())", secret])
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn playbooks_call_webhooks_wait_for_approval_and_fill_block_lists() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(RULE), rules.join("pt.yml")).unwrap();
    let (hook, received) = webhook_receiver(8);
    let books = dir.path().join("playbooks");
    std::fs::create_dir_all(&books).unwrap();
    write_file(
        &books,
        "notify.yml",
        &format!(
            "id: notify-soar\nname: Tell the SOAR and start triage\ntrigger:\n  min_level: medium\n  tenants: [seoul]\nactions:\n  - webhook: {{url: \"{hook}\", secret_env: HAECHI_TEST_HOOK_SECRET}}\n  - incident: {{status: triage, note: \"automatic triage of {{{{attacker}}}}\"}}\n"
        ),
    );
    write_file(
        &books,
        "block.yml",
        &format!(
            "id: block-attacker\nname: Block the attacker at the edge\nmode: approval\ntrigger:\n  rules: [{RULE_ID}]\nactions:\n  - block: {{list: edge, value: \"{{{{attacker}}}}\", expires: 24h}}\n"
        ),
    );
    write_file(
        &books,
        "broken.yml",
        "id: broken\nname: B\ntrigger: {min_level: high}\nactions: [{block: {list: edge}}]\n",
    );
    let data = dir.path().join("data");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{ADMIN}\" }}, {{ token = \"{CENTER}\", role = \"center\", name = \"duty\" }}, {{ token = \"{SEOUL}\", tenant = \"seoul\", name = \"kim\" }}]\n[pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n[respond]\nplaybooks = {}\nwebhook_timeout_secs = 5\n",
            toml_path(&data),
            toml_path(&rules),
            toml_path(&books)
        ),
    );
    // SAFETY: set before the server (a child process) starts; this test process runs
    // one test and starts no other threads that read the environment.
    unsafe { std::env::set_var("HAECHI_TEST_HOOK_SECRET", SECRET) };
    let server = Server::start(&config, &dir.path().join("serve.stderr"));

    let (_, v) = api(&server, ADMIN, "GET", "/api/playbooks", "");
    assert_eq!(v["playbooks"].as_array().unwrap().len(), 2, "{v}");
    assert!(
        v["errors"][0].as_str().unwrap().contains("broken.yml"),
        "{v}"
    );

    attack(&server, "203.0.113.50");
    // The automatic playbook: the receiver gets the call on the second attempt.
    let calls = wait_for("the webhook call", PATIENCE, || {
        let seen = received.lock().unwrap().clone();
        if seen.len() >= 2 {
            Ok(seen)
        } else {
            Err(format!("{} calls", seen.len()))
        }
    });
    let (headers, body) = &calls[1];
    let signature = headers
        .iter()
        .find(|(k, _)| k == "x-haechi-signature")
        .expect("signed")
        .1
        .clone();
    assert_eq!(
        signature,
        format!("sha256={}", python_hmac_sha256(SECRET, body))
    );
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["playbook"], "notify-soar");
    assert_eq!(payload["alert"]["rule_id"], RULE_ID);
    let runs_now = wait_for("both runs recorded", PATIENCE, || {
        let r = runs(&server);
        if r.len() == 2 && r.iter().any(|r| r["status"] == "done") {
            Ok(r)
        } else {
            Err(format!("{r:?}"))
        }
    });
    let notify = runs_now
        .iter()
        .find(|r| r["playbook"] == "notify-soar")
        .unwrap();
    assert_eq!(
        notify["outcomes"][0]["detail"], "HTTP 200 after 2 attempt(s)",
        "{notify}"
    );
    let (_, incidents) = api(&server, ADMIN, "GET", "/api/incidents", "");
    let incident = incidents["incidents"][0].clone();
    assert_eq!(incident["status"], "triage");
    let (_, detail) = api(
        &server,
        ADMIN,
        "GET",
        &format!("/api/incidents/{}", incident["id"]),
        "",
    );
    assert_eq!(
        detail["notes"][0]["text"],
        "automatic triage of 203.0.113.50"
    );
    assert_eq!(detail["notes"][0]["author"], "playbook:notify-soar");

    // The approval playbook waits; nothing is blocked yet.
    let pending = runs_now
        .iter()
        .find(|r| r["playbook"] == "block-attacker")
        .unwrap();
    assert_eq!(pending["status"], "pending");
    assert_eq!(
        pending["plan"][0]["value"], "203.0.113.50",
        "the approver sees what will happen"
    );
    let edge = |token: &str| {
        let r = server.request(
            "GET",
            "/api/blocklists/edge.txt",
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.text()
    };
    assert_eq!(edge(ADMIN), "");
    let run = pending["id"].as_i64().unwrap();
    let (s, _) = api(
        &server,
        SEOUL,
        "POST",
        &format!("/api/playbook-runs/{run}/approve"),
        "",
    );
    assert_eq!(
        s, 403,
        "an institution analyst may not approve a center-wide block"
    );
    let (s, v) = api(
        &server,
        CENTER,
        "POST",
        &format!("/api/playbook-runs/{run}/approve"),
        "",
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{v}");
    assert_eq!(v["decided_by"], "config-token:duty");
    assert_eq!(edge(SEOUL), "203.0.113.50\n", "the block list changed");
    let (s, _) = api(
        &server,
        CENTER,
        "POST",
        &format!("/api/playbook-runs/{run}/approve"),
        "",
    );
    assert_eq!(s, 409, "a decided run cannot be approved again");

    // A dry run shows, and changes nothing.
    let alert = pending["alert"].as_i64().unwrap();
    let (s, v) = api(
        &server,
        ADMIN,
        "POST",
        "/api/playbooks/block-attacker/dry-run",
        &format!(r#"{{"alert":{alert}}}"#),
    );
    assert_eq!(
        (s, v["trigger_matches"].as_bool()),
        (200, Some(true)),
        "{v}"
    );
    assert_eq!(v["actions"][0]["action"], "block");

    // A second attacker: rejected, so not blocked.
    attack(&server, "198.51.100.60");
    let second = wait_for("the second pending run", PATIENCE, || {
        runs(&server)
            .into_iter()
            .find(|r| r["status"] == "pending")
            .ok_or_else(|| "none pending".to_owned())
    });
    let (s, v) = api(
        &server,
        CENTER,
        "POST",
        &format!("/api/playbook-runs/{}/reject", second["id"]),
        "",
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("rejected")), "{v}");
    assert_eq!(edge(ADMIN), "203.0.113.50\n");

    // Every step is in the audit log.
    let (_, audit) = api(&server, ADMIN, "GET", "/api/audit?limit=1000", "");
    let records = audit["records"].as_array().unwrap();
    let has = |actor: &str, action: &str| {
        records
            .iter()
            .any(|r| r["actor"] == actor && r["action"] == action)
    };
    assert!(has("config-token:duty", "playbook.approve"));
    assert!(has("config-token:duty", "playbook.reject"));
    assert!(has("playbook:block-attacker", "blocklist.add"));
    assert!(has("playbook:notify-soar", "incident.update"));
    assert!(has("playbook:notify-soar", "playbook.finish"));
    assert_eq!(audit["chain"]["broken"], Value::Null);
    // Every action is counted by outcome.
    let m = server.metrics(ADMIN);
    for action in ["webhook", "incident", "block"] {
        assert!(
            metric(
                &m,
                "haechi_playbook_actions_total",
                &[("action", action), ("outcome", "ok")]
            ) >= 1.0,
            "{action}: {m}"
        );
    }

    // The command line says the same of the directory.
    let out = haechi(&["playbook", "check", books.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an invalid playbook fails the check"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ok      block-attacker")
            && text.contains("invalid")
            && text.contains("2 playbooks loaded, 1 not loaded"),
        "{text}"
    );
}
