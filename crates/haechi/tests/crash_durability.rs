//! An acknowledged event survives a crash: `haechi serve` answers `POST /api/ingest` with
//! 200 only once the events are in the write-ahead log on disk. These tests kill the
//! server with SIGKILL before it commits (commit interval: one minute) and check that every
//! acknowledged event is searchable afterwards, exactly once.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "crash-test-token-0123456789";

struct Setup {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    stderr: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let text = format!(
        r#"data_dir = {}
listeners = []

[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{TOKEN}" }}]

[pipeline]
commit_interval_ms = 60000
"#,
        toml_path(&data)
    );
    let config = write_file(dir.path(), "haechi.toml", &text);
    let stderr = dir.path().join("serve.stderr");
    Setup {
        data,
        config,
        stderr,
        _dir: dir,
    }
}

/// The NDJSON body of batch `batch`: `size` events over two days (two partitions).
fn batch_body(run: &str, batch: usize, size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| {
            let day = 1 + (i % 2);
            format!(
                "{{\"@timestamp\":\"2024-06-0{day}T10:{:02}:{:02}Z\",\"message\":\"{run} batch {batch} event {i}\",\"event\":{{\"sequence\":{i}}}}}\n",
                batch % 60,
                i % 60
            )
        })
        .collect::<String>()
        .into_bytes()
}

fn post(server_http: std::net::SocketAddr, body: &[u8]) -> Result<HttpResponse, String> {
    let auth = format!("Bearer {TOKEN}");
    try_http_request(
        server_http,
        "POST",
        "/api/ingest?tenant=crash",
        &[("Authorization", &auth)],
        body,
    )
}

/// Messages of all stored events, with how often each is stored.
fn stored_messages(data: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in search_events(data, &[], "") {
        let m = field(&e, "message").unwrap_or_else(|| panic!("every event has its message: {e}"));
        *counts.entry(m.to_owned()).or_default() += 1;
    }
    counts
}

fn assert_nothing_committed(server: &Server, pending: u64) {
    let m = server.metrics(TOKEN);
    assert_eq!(
        metric(&m, "haechi_store_events", &[]),
        0.0,
        "nothing is committed before the crash:\n{m}"
    );
    assert_eq!(
        metric(&m, "haechi_store_pending", &[]),
        pending as f64,
        "the acknowledged events wait in the log:\n{m}"
    );
}

#[test]
fn acknowledged_events_survive_kill_9_and_are_stored_exactly_once() {
    let s = setup();
    let server = Server::start(&s.config, &s.stderr);
    let (batches, size) = (10, 30);
    let mut expected: Vec<String> = Vec::new();
    for b in 0..batches {
        let r = post(server.http, &batch_body("first", b, size)).expect("the server answers");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["events"], size as u64, "{}", r.text());
        expected.extend((0..size).map(|i| format!("first batch {b} event {i}")));
    }
    assert_nothing_committed(&server, expected.len() as u64);
    server.kill_hard();

    // A restarted server recovers the log before it listens.
    let server = Server::start(&s.config, &s.stderr);
    let m = server.metrics(TOKEN);
    assert_eq!(
        metric(&m, "haechi_store_events", &[]),
        expected.len() as f64,
        "the restarted server made the recovered events searchable:\n{m}"
    );
    // More acknowledged events, and a second crash.
    for b in 0..3 {
        let r = post(server.http, &batch_body("second", b, size)).expect("the server answers");
        assert_eq!(r.status, 200, "{}", r.text());
        expected.extend((0..size).map(|i| format!("second batch {b} event {i}")));
    }
    server.kill_hard();

    // `haechi search` opens the store, which replays the log.
    for attempt in ["first search", "second search"] {
        let stored = stored_messages(&s.data);
        let doubles: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
        assert!(
            doubles.is_empty(),
            "{attempt}: events stored more than once: {doubles:?}"
        );
        let missing: Vec<_> = expected
            .iter()
            .filter(|m| !stored.contains_key(*m))
            .collect();
        assert!(
            missing.is_empty(),
            "{attempt}: acknowledged events lost: {missing:?}"
        );
        assert_eq!(
            stored.len(),
            expected.len(),
            "{attempt}: nothing else is stored"
        );
    }
    assert_eq!(
        search_total(&s.data, &[], "event.sequence:[0 TO 9]"),
        13 * 10,
        "fields survive the replay"
    );
    assert_eq!(
        search_total(&s.data, &["--from", "2024-06-02", "--to", "2024-06-03"], ""),
        13 * 15
    );

    // And a server started after all that finds the same, once.
    let server = Server::start(&s.config, &s.stderr);
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains(&format!("haechi stopped: {} events stored", expected.len())),
        "{stderr}"
    );
    assert_eq!(search_total(&s.data, &[], ""), expected.len() as u64);
}

#[test]
fn kill_9_during_a_stream_of_requests_loses_no_acknowledged_event_and_doubles_none() {
    let s = setup();
    let server = Server::start(&s.config, &s.stderr);
    let acked: Arc<Mutex<Vec<usize>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let size = 50;
    let sender = {
        let (acked, stop, http) = (acked.clone(), stop.clone(), server.http);
        std::thread::spawn(move || {
            // Bounded: at most 2,000 requests, and it stops at the first failure.
            for b in 0..2_000 {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                match post(http, &batch_body("stream", b, size)) {
                    Ok(r) if r.status == 200 => acked.lock().expect("lock").push(b),
                    Ok(r) => panic!("batch {b}: unexpected answer {} {}", r.status, r.text()),
                    Err(_) => return, // the server is gone
                }
            }
        })
    };
    wait_for("five acknowledged batches", PATIENCE, || {
        let n = acked.lock().expect("lock").len();
        if n >= 5 {
            Ok(())
        } else {
            Err(format!("{n} acknowledged"))
        }
    });
    server.kill_hard();
    stop.store(true, Ordering::Relaxed);
    sender
        .join()
        .expect("the sender thread ends without panicking");
    let acked = acked.lock().expect("lock").clone();

    let stored = stored_messages(&s.data);
    let doubles: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        doubles.is_empty(),
        "events stored more than once: {doubles:?}"
    );
    for b in &acked {
        for i in 0..size {
            let m = format!("stream batch {b} event {i}");
            assert!(stored.contains_key(&m), "acknowledged event lost: {m}");
        }
    }
    // A batch is stored whole or not at all (one log record per request).
    let mut per_batch: BTreeMap<usize, usize> = BTreeMap::new();
    for m in stored.keys() {
        let b: usize = m
            .strip_prefix("stream batch ")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("an event that was never sent: {m}"));
        *per_batch.entry(b).or_default() += 1;
    }
    assert!(
        per_batch.values().all(|n| *n == size),
        "partial batches: {per_batch:?}"
    );
    assert!(
        per_batch.len() <= acked.len() + 1,
        "at most the one batch in flight at the kill is stored unacknowledged: {} stored, {} acknowledged",
        per_batch.len(),
        acked.len()
    );
}
