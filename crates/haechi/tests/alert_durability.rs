//! Alerts are as durable as events: a crash of `haechi serve` between storing a batch and
//! recording its alerts loses no alert, and no alert is recorded twice. A fault point
//! (`HAECHI_FAILPOINT=abort-after-append:N`) aborts the server exactly in that window;
//! `kill -9` during a stream of requests hits wherever it lands. Afterwards every stored
//! attack has exactly one alert, which points at the stored event.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "alert-durability-token-0123456789";
const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
const BATCH: usize = 20;

struct Setup {
    dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("path_traversal.yml")).unwrap();
    let data = dir.path().join("data");
    // Commits are rare: a crash finds the batches in the write-ahead log.
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            r#"data_dir = {data}
listeners = []
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{TOKEN}" }}]
[pipeline]
commit_interval_ms = 2000
[detect]
rules = [{rules}]
"#,
            data = toml_path(&data),
            rules = toml_path(&rules),
        ),
    );
    Setup { dir, data, config }
}

/// One attack per batch from an address of its own (so each raises its own alert).
fn batch_lines(run: u32, batch: usize) -> String {
    (0..BATCH)
        .map(|i| {
            let (ip, path) = if i == 0 {
                (
                    format!("203.{run}.{}.{}", batch / 200, batch % 200 + 1),
                    format!("/download?file=../../../etc/passwd&run={run}&b={batch}"),
                )
            } else {
                (
                    "198.51.100.7".to_owned(),
                    format!("/page?run={run}&b={batch}&i={i}"),
                )
            };
            format!(
                "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"\n",
                clf_time((batch * BATCH + i) as i64 / 10)
            )
        })
        .collect()
}

fn post(http: std::net::SocketAddr, run: u32, batch: usize) -> Result<HttpResponse, String> {
    let auth = format!("Bearer {TOKEN}");
    try_http_request(
        http,
        "POST",
        "/api/ingest?tenant=seoul&format=clf",
        &[("Authorization", &auth)],
        batch_lines(run, batch).as_bytes(),
    )
}

/// The stored attack events: their `run=R&b=B` → `event.id`.
fn stored_attacks(data: &Path) -> BTreeMap<String, String> {
    search_events(data, &[], "")
        .iter()
        .filter_map(|e| {
            let query = field(e, "url.query")?;
            let key = query.strip_prefix("file=../../../etc/passwd&")?;
            let id = field(e, "event.id").unwrap_or_else(|| panic!("an attack without an id: {e}"));
            Some((key.to_owned(), id.to_owned()))
        })
        .collect()
}

/// Every alert (`haechi alerts --json`).
fn all_alerts(data: &Path) -> Vec<Value> {
    let d = data.to_str().unwrap();
    let out = haechi(&["alerts", "--data-dir", d, "--json", "--limit", "100000"]);
    assert!(out.status.success(), "alerts: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON alert"))
        .collect()
}

/// Every stored attack has exactly one alert, counted once, and every alert points at
/// stored attacks only. Returns the number of attacks.
fn assert_each_attack_alerted_once(data: &Path, when: &str) -> usize {
    let attacks = stored_attacks(data);
    let mut by_event: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for alert in all_alerts(data) {
        for e in alert["events"].as_array().expect("alert events") {
            by_event
                .entry(e["id"].as_str().expect("event id").to_owned())
                .or_default()
                .push(alert["count"].as_u64().expect("alert count"));
        }
    }
    for (key, id) in &attacks {
        assert_eq!(
            by_event.get(id).map(Vec::as_slice),
            Some(&[1u64][..]),
            "{when}: attack {key} (event {id}) must have exactly one alert, counted once"
        );
    }
    let ids: std::collections::BTreeSet<&String> = attacks.values().collect();
    let dangling: Vec<&String> = by_event.keys().filter(|id| !ids.contains(id)).collect();
    assert!(
        dangling.is_empty(),
        "{when}: alerts point at events the store lacks: {dangling:?}"
    );
    attacks.len()
}

#[test]
fn a_crash_between_storing_a_batch_and_recording_its_alerts_loses_no_alert() {
    let s = setup();
    let stderr = s.dir.path().join("serve.stderr");
    let server = Server::start_with_env(
        &s.config,
        &stderr,
        &[("HAECHI_FAILPOINT", "abort-after-append:3")],
    );
    for b in 0..2 {
        let r = post(server.http, 1, b).expect("the server answers");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // The third batch is stored, then the server aborts before recording its alert.
    assert!(
        post(server.http, 1, 2).is_err(),
        "the crashed server does not answer"
    );
    server.wait_crashed();

    // A search opens the store first: it replays the log and commits the events, but
    // keeps the batches in the log for the server to detect again.
    assert_eq!(
        stored_attacks(&s.data).len(),
        3,
        "the third batch is stored"
    );
    assert_eq!(
        all_alerts(&s.data).len(),
        2,
        "the crash came before the third alert was recorded"
    );

    let server = Server::start(&s.config, &stderr);
    let (status, text) = server.terminate();
    assert!(status.success(), "{status}: {text}");
    assert!(
        text.contains("detected the batches left in the write-ahead log again"),
        "{text}"
    );
    assert_eq!(
        assert_each_attack_alerted_once(&s.data, "after the restart"),
        3
    );

    // A second restart finds nothing left to redo and records nothing twice.
    let server = Server::start(&s.config, &stderr);
    let r = post(server.http, 2, 0).expect("the server answers");
    assert_eq!(r.status, 200, "{}", r.text());
    let (status, text) = server.terminate();
    assert!(status.success(), "{status}: {text}");
    assert_eq!(
        assert_each_attack_alerted_once(&s.data, "after a second restart"),
        4
    );
}

#[test]
fn kill_9_during_streaming_detection_leaves_each_stored_attack_one_alert() {
    let s = setup();
    let stderr = s.dir.path().join("serve.stderr");
    let mut acked_total: Vec<(u32, usize)> = Vec::new();
    for run in 1..=3u32 {
        let server = Server::start(&s.config, &stderr);
        let acked: Arc<Mutex<Vec<usize>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let sender = {
            let (acked, stop, http) = (acked.clone(), stop.clone(), server.http);
            std::thread::spawn(move || {
                // Bounded: at most 1,000 batches; it stops at the first failure.
                for b in 0..1_000 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    match post(http, run, b) {
                        Ok(r) if r.status == 200 => acked.lock().unwrap().push(b),
                        Ok(r) => panic!("batch {b}: {} {}", r.status, r.text()),
                        Err(_) => return, // the server is gone
                    }
                }
            })
        };
        wait_for("twenty acknowledged batches", PATIENCE, || {
            let n = acked.lock().unwrap().len();
            if n >= 20 { Ok(()) } else { Err(format!("{n}")) }
        });
        server.kill_hard();
        stop.store(true, Ordering::Relaxed);
        sender.join().expect("the sender");
        acked_total.extend(acked.lock().unwrap().iter().map(|b| (run, *b)));
    }
    // A clean start and stop redoes what the last crash left.
    let server = Server::start(&s.config, &stderr);
    let (status, text) = server.terminate();
    assert!(status.success(), "{status}: {text}");
    let attacks = stored_attacks(&s.data);
    for (run, b) in &acked_total {
        assert!(
            attacks.contains_key(&format!("run={run}&b={b}")),
            "acknowledged attack run {run} batch {b} is stored"
        );
    }
    let n = assert_each_attack_alerted_once(&s.data, "after three kill -9");
    assert!(
        n >= acked_total.len(),
        "{n} stored, {} acknowledged",
        acked_total.len()
    );
}
