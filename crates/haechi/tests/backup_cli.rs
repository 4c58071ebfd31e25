//! `haechi backup` while `haechi serve` ingests and alerts, then `haechi restore` into a
//! fresh data directory: every event acknowledged before the backup started is there once,
//! every alert of the copy points at events the copy holds, the users, audit chain,
//! credentials' permissions and the configuration survive, and a damaged, incomplete or
//! misdirected restore is refused with the reason.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "backup-test-token-0123456789";
const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
/// Lines per batch; the first of each is an attack.
const BATCH: usize = 40;

/// A batch of access lines: one path traversal (from an address of its own, so each batch
/// raises its own alert) and benign requests, each line findable by its query.
fn batch_lines(batch: usize) -> String {
    (0..BATCH)
        .map(|i| {
            let (ip, path) = if i == 0 {
                (
                    format!("203.0.{}.{}", batch / 200, batch % 200 + 1),
                    format!("/download?file=../../../etc/passwd&b={batch}&i=0"),
                )
            } else {
                ("198.51.100.7".to_owned(), format!("/page?b={batch}&i={i}"))
            };
            format!(
                "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"\n",
                clf_time((batch * BATCH + i) as i64 / 20)
            )
        })
        .collect()
}

fn post(http: std::net::SocketAddr, batch: usize) -> Result<HttpResponse, String> {
    let auth = format!("Bearer {TOKEN}");
    try_http_request(
        http,
        "POST",
        "/api/ingest?tenant=seoul&format=clf",
        &[("Authorization", &auth)],
        batch_lines(batch).as_bytes(),
    )
}

fn alert_total(server: &Server) -> u64 {
    let v = server.get_json(TOKEN, "/api/alerts?limit=10000");
    v["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("no alerts list: {v}"))
        .len() as u64
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn run(args: &[&str]) -> std::process::Output {
    haechi(args)
}

#[test]
fn an_online_backup_restores_into_a_fresh_directory_with_nothing_lost_or_doubled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("path_traversal.yml")).unwrap();
    let data = dir.path().join("data");
    let config_text = format!(
        r#"data_dir = {data}
listeners = []
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{TOKEN}" }}]
[pipeline]
commit_interval_ms = 150
[detect]
rules = [{rules}]
"#,
        data = toml_path(&data),
        rules = toml_path(&rules),
    );
    let config = write_file(dir.path(), "haechi.toml", &config_text);
    add_user(&data, "officer", "center", None, "a long officer password");
    let key = cli(&data, &["evidence", "key"], "");
    assert!(!key.trim().is_empty(), "the evidence key is created");

    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let acked: Arc<Mutex<Vec<usize>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (acked, stop, http) = (acked.clone(), stop.clone(), server.http);
        std::thread::spawn(move || {
            for b in 0..600 {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                match post(http, b) {
                    Ok(r) if r.status == 200 => acked.lock().unwrap().push(b),
                    Ok(r) => panic!("batch {b}: {} {}", r.status, r.text()),
                    Err(e) => panic!("batch {b}: {e}"),
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    wait_for("ten batches and five alerts", PATIENCE, || {
        let n = acked.lock().unwrap().len();
        let alerts = alert_total(&server);
        if n >= 10 && alerts >= 5 {
            Ok(())
        } else {
            Err(format!("{n} batches, {alerts} alerts"))
        }
    });

    // The backup runs while batches keep arriving and the indexes keep committing.
    let acked_before: Vec<usize> = acked.lock().unwrap().clone();
    let alerts_before = alert_total(&server);
    let backup = dir.path().join("backup");
    let (b, c) = (backup.to_str().unwrap(), config.to_str().unwrap());
    let out = run(&["backup", "--config", c, "--out", b]);
    assert!(out.status.success(), "backup: {}", describe(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("day indexes"), "{summary}");
    assert!(summary.contains("data/state/state.db"), "{summary}");
    let acked_during = acked.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    sender.join().expect("the sender");
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        acked_during > acked_before.len(),
        "batches kept arriving during the backup ({acked_during} after, {} before)",
        acked_before.len()
    );
    assert_eq!(
        mode(&backup),
        0o700,
        "a backup holds credentials: owner-only"
    );
    assert_eq!(
        std::fs::read_to_string(backup.join("config/haechi.toml")).unwrap(),
        config_text,
        "the configuration is in the backup"
    );

    // Restore into a fresh directory.
    let restored = dir.path().join("restored");
    let r = restored.to_str().unwrap();
    let out = run(&["restore", "--data-dir", r, b]);
    assert!(out.status.success(), "restore: {}", describe(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("events searchable:"), "{report}");
    assert!(report.contains("config/haechi.toml"), "{report}");

    let events = search_events(&restored, &[], "");
    let queries: HashSet<String> = events
        .iter()
        .filter_map(|e| field(e, "url.query").map(str::to_owned))
        .collect();
    let missing: Vec<String> = acked_before
        .iter()
        .flat_map(|b| (0..BATCH).map(move |i| (*b, i)))
        .map(|(b, i)| {
            if i == 0 {
                format!("file=../../../etc/passwd&b={b}&i=0")
            } else {
                format!("b={b}&i={i}")
            }
        })
        .filter(|q| !queries.contains(q))
        .collect();
    assert!(
        missing.is_empty(),
        "events acknowledged before the backup are missing: {:?}",
        &missing[..missing.len().min(10)]
    );
    let stored_queries: Vec<&str> = events
        .iter()
        .map(|e| field(e, "url.query").expect("every event has its query"))
        .collect();
    assert_eq!(
        queries.len(),
        stored_queries.len(),
        "no event is restored twice"
    );
    assert!(stored_queries.len() >= acked_before.len() * BATCH);
    // Events that alerted carry the id their alert points at.
    let unique: BTreeSet<&str> = events.iter().filter_map(|e| field(e, "event.id")).collect();

    let out = run(&["alerts", "--data-dir", r, "--json", "--limit", "100000"]);
    assert!(out.status.success(), "alerts: {}", describe(&out));
    let alerts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON alert"))
        .collect();
    assert!(
        alerts.len() as u64 >= alerts_before,
        "{} alerts restored, {alerts_before} were raised before the backup",
        alerts.len()
    );
    for alert in &alerts {
        for event in alert["events"].as_array().expect("alert events") {
            let id = event["id"].as_str().expect("event id");
            assert!(
                unique.contains(id),
                "alert {} points at event {id}, which the restored store lacks",
                alert["id"]
            );
        }
    }

    let out = run(&["audit", "verify", "--data-dir", r]);
    assert!(out.status.success(), "audit chain: {}", describe(&out));
    let users = cli(&restored, &["user", "list"], "");
    assert!(users.contains("officer"), "{users}");
    assert_eq!(
        cli(&restored, &["evidence", "key"], ""),
        key,
        "the same signing key"
    );
    for secret in ["state/access.db", "keys/evidence-ed25519.pk8"] {
        let m = mode(&restored.join(secret));
        assert_eq!(m & 0o077, 0, "{secret} stays owner-only ({m:o})");
    }
    let out = run(&["doctor", "--data-dir", r]);
    assert!(
        out.status.success(),
        "doctor on the restore: {}",
        describe(&out)
    );

    // Refusals, each with its reason; nothing is written.
    let out = run(&["restore", "--data-dir", r, b]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(describe(&out).contains("not empty"), "{}", describe(&out));

    let state = backup.join("data/state/state.db");
    let mut bytes = std::fs::read(&state).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    std::fs::write(&state, &bytes).unwrap();
    let out = run(&["restore", "--check", b]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let text = describe(&out);
    assert!(
        text.contains("state.db") && text.contains("SHA-256"),
        "{text}"
    );
    let elsewhere = dir.path().join("elsewhere");
    let out = run(&["restore", "--data-dir", elsewhere.to_str().unwrap(), b]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(!elsewhere.exists(), "a damaged backup writes nothing");

    std::fs::remove_file(backup.join("manifest.json")).unwrap();
    let out = run(&["restore", "--check", b]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(describe(&out).contains("incomplete"), "{}", describe(&out));

    let out = run(&["backup", "--data-dir", r, "--out", b]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(describe(&out).contains("not empty"), "{}", describe(&out));
}
