//! The embedded store against the reference semantics of the query language: every query
//! must return exactly the events that `Query::matches` accepts, newest first.

use haechi_event::{DeadLetter, Event, Timestamp, Value, parse_rfc3339};
use haechi_query::parse;
use haechi_store::embedded::{EmbeddedStore, StoreConfig};
use haechi_store::{EventStore, SearchRequest};

fn ev(ts: &str, tenant: &str, fields: &[(&'static str, Value)]) -> Event {
    let mut e = Event::new(parse_rfc3339(ts).unwrap(), tenant.into(), fields.len());
    for (k, v) in fields {
        e.push(*k, v.clone());
    }
    e
}

fn ip(s: &str) -> Value {
    Value::Ip(s.parse().unwrap())
}

fn sample() -> Vec<Event> {
    let mut out = Vec::new();
    for i in 0..60i64 {
        let day = 1 + (i % 3);
        let ts = format!("2024-05-0{day}T{:02}:{:02}:00Z", i % 24, i % 60);
        let tenant = if i % 4 == 0 { "busan" } else { "seoul" };
        let mut fields = vec![
            ("source.ip", ip(&format!("10.0.{}.{}", i % 5, i))),
            (
                "destination.ip",
                ip(if i % 2 == 0 {
                    "192.168.1.10"
                } else {
                    "2001:db8::7"
                }),
            ),
            (
                "destination.port",
                Value::Int([22, 80, 443, 3389][(i % 4) as usize]),
            ),
            (
                "user.name",
                Value::Str(["root", "Administrator", "alice", "bob"][(i % 4) as usize].into()),
            ),
            (
                "event.category",
                Value::List(vec!["network".into(), "authentication".into()]),
            ),
            (
                "message",
                Value::Str(format!(
                    "Failed password for invalid user u{i} from 10.0.{}.{i} port {}",
                    i % 5,
                    4000 + i
                )),
            ),
            (
                "process.command_line",
                Value::Str(format!("C:\\Windows\\System32\\cmd.exe /c whoami {i}")),
            ),
            ("custom.addr", Value::Str(format!("172.16.{}.1", i % 3))),
        ];
        if i % 10 == 0 {
            fields.push(("http.response.status_code", Value::Int(500 + i)));
        }
        out.push(ev(&ts, tenant, &fields));
    }
    out
}

fn open(dir: &std::path::Path) -> EmbeddedStore {
    EmbeddedStore::open(
        dir,
        StoreConfig {
            writer_threads: 1,
            writer_memory_bytes: 15 << 20,
            ..Default::default()
        },
    )
    .unwrap()
}

const QUERIES: &[&str] = &[
    "",
    "source.ip:10.0.1.0/24",
    "source.ip:10.0.3.33",
    "destination.ip:2001:db8::/32",
    "destination.port:[80 TO 443]",
    "destination.port:>=443",
    "user.name:administrator",
    "user.name:adm*",
    "user.name:(root OR bob)",
    "NOT user.name:root",
    "event.category:authentication",
    "failed AND \"invalid user u7\"",
    "message:\"invalid user\" -user.name:alice",
    "pass*",
    "process.command_line:*whoami\\ 1?",
    "_exists_:http.response.status_code",
    "http.response.status_code:<530",
    "custom.addr:172.16.1.0/24",
    "@timestamp:[2024-05-02T00:00:00Z TO 2024-05-03T00:00:00Z}",
    "organization.id:busan AND destination.port:22",
    "user.name:[alice TO bob]",
    "10.0.2.12",
];

#[test]
fn every_query_matches_the_reference_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let events = sample();
    store.append(&events[..30]).unwrap();
    store.append(&events[30..]).unwrap();
    store.commit().unwrap();
    for text in QUERIES {
        let query = parse(text).unwrap();
        let mut expected: Vec<&Event> = events.iter().filter(|e| query.matches(e)).collect();
        expected.sort_by_key(|e| std::cmp::Reverse(e.timestamp));
        let mut request = SearchRequest::new(query.clone());
        request.limit = 1000;
        let got = store.search(&request).unwrap();
        assert_eq!(got.total as usize, expected.len(), "total for {text:?}");
        let got_ts: Vec<Timestamp> = got.events.iter().map(|e| e.timestamp).collect();
        let want_ts: Vec<Timestamp> = expected.iter().map(|e| e.timestamp).collect();
        assert_eq!(got_ts, want_ts, "events for {text:?}");
        assert!(
            !expected.is_empty() || text.contains("busan"),
            "query {text:?} should hit something in the sample"
        );
    }
}

#[test]
fn limit_tenants_and_time_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.append(&sample()).unwrap();
    store.commit().unwrap();
    let mut req = SearchRequest::new(parse("").unwrap());
    req.limit = 5;
    let r = store.search(&req).unwrap();
    assert_eq!(r.total, 60);
    assert_eq!(r.events.len(), 5);
    assert!(
        r.events
            .windows(2)
            .all(|w| w[0].timestamp >= w[1].timestamp),
        "newest first"
    );
    req.tenants = Some(vec!["busan".into()]);
    req.limit = 100;
    let r = store.search(&req).unwrap();
    assert_eq!(r.total, 15);
    assert!(
        r.events.iter().all(|e| &*e.tenant == "busan"),
        "tenant filter isolates institutions"
    );
    req.tenants = None;
    req.from = parse_rfc3339("2024-05-03T00:00:00Z");
    let r = store.search(&req).unwrap();
    assert_eq!(r.total, 20);
}

#[test]
fn count_by_and_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.append(&sample()).unwrap();
    store.commit().unwrap();
    let req = SearchRequest::new(parse("").unwrap());
    let top = store.count_by(&req, "user.name", 2).unwrap();
    assert_eq!(top.len(), 2);
    assert_eq!(top[0].1, 15);
    let ports = store.count_by(&req, "destination.port", 10).unwrap();
    assert!(ports.contains(&("3389".to_string(), 15)), "{ports:?}");
    let tenants = store.count_by(&req, "organization.id", 10).unwrap();
    assert_eq!(
        tenants,
        vec![("seoul".to_string(), 45), ("busan".to_string(), 15)]
    );
    let inexact = store
        .count_by(
            &SearchRequest::new(parse("custom.addr:172.16.0.0/24").unwrap()),
            "custom.addr",
            5,
        )
        .unwrap();
    assert_eq!(inexact, vec![("172.16.0.1".to_string(), 20)]);
    let hist = store.histogram(&req, 86_400).unwrap();
    assert_eq!(
        hist.iter().map(|b| b.count).collect::<Vec<_>>(),
        vec![20, 20, 20]
    );
}

/// Set in the child process that appends and then dies without committing.
const CRASH_DIR_ENV: &str = "HAECHI_TEST_CRASH_DIR";

#[test]
fn appended_events_survive_a_crash_before_commit() {
    if let Ok(dir) = std::env::var(CRASH_DIR_ENV) {
        let store = open(std::path::Path::new(&dir));
        store.append(&sample()).unwrap();
        // No commit, no destructors: only the write-ahead log has the events.
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "appended_events_survive_a_crash_before_commit",
            "--nocapture",
        ])
        .env(CRASH_DIR_ENV, dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die abnormally");
    let store = open(dir.path());
    let r = store
        .search(&SearchRequest::new(parse("").unwrap()))
        .unwrap();
    assert_eq!(r.total, 60, "replayed from the write-ahead log");
    drop(store);
    let store = open(dir.path());
    assert_eq!(
        store.stats().events,
        60,
        "replay is exactly-once across restarts"
    );
}

#[test]
fn dead_letters_are_kept_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let dl = DeadLetter::new(
        "seoul",
        "file.log:3".into(),
        "cef",
        "CEF header has 4 of 7 fields".into(),
        b"CEF:0|a|b|c",
    );
    store
        .append_dead_letters(std::slice::from_ref(&dl))
        .unwrap();
    drop(store);
    let store = open(dir.path());
    assert_eq!(store.dead_letters().unwrap(), vec![dl]);
    assert_eq!(store.stats().dead_letters, 1);
}

#[test]
fn retention_drops_oldest_partitions_by_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(
        dir.path(),
        StoreConfig {
            writer_threads: 1,
            writer_memory_bytes: 15 << 20,
            max_bytes: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    store.append(&sample()).unwrap();
    store.commit().unwrap();
    let stats = store.stats();
    assert_eq!(
        stats.partitions, 1,
        "only the newest day is kept over the size limit"
    );
    assert_eq!(stats.events, 20);
}

#[test]
fn retention_drops_partitions_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(
        dir.path(),
        StoreConfig {
            writer_threads: 1,
            writer_memory_bytes: 15 << 20,
            retention_days: Some(30),
            ..Default::default()
        },
    )
    .unwrap();
    let mut events = sample();
    let mut recent = events[0].clone();
    recent.timestamp = Timestamp::now();
    events.push(recent);
    store.append(&events).unwrap();
    store.commit().unwrap();
    assert_eq!(store.stats().events, 1, "2024 events are past 30 days");
}

#[test]
fn one_writer_at_a_time_and_readers_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let writer = open(dir.path());
    writer.append(&sample()[..10]).unwrap();
    writer.commit().unwrap();
    writer.append(&sample()[10..]).unwrap();
    let second = EmbeddedStore::open(dir.path(), StoreConfig::default());
    assert!(
        matches!(second, Err(haechi_store::StoreError::Locked(_))),
        "a second writer is refused with a clear error"
    );
    let reader = EmbeddedStore::open_read_only(dir.path()).unwrap();
    let all = SearchRequest::new(parse("").unwrap());
    assert_eq!(
        reader.search(&all).unwrap().total,
        10,
        "a reader sees what is committed"
    );
    assert!(matches!(
        reader.append(&sample()),
        Err(haechi_store::StoreError::ReadOnly(_))
    ));
    assert_eq!(writer.search(&all).unwrap().total, 10);
    drop(writer);
    assert!(
        EmbeddedStore::open(dir.path(), StoreConfig::default()).is_ok(),
        "the lock goes with the writer"
    );
}

/// Set in the child process that reopens a committed store, appends and dies.
const CRASH_AFTER_RESTART_ENV: &str = "HAECHI_TEST_CRASH_AFTER_RESTART_DIR";

/// Log sequence numbers must not restart with the process: a committed partition
/// remembers the last number it holds, and replay skips records at or below it.
#[test]
fn events_appended_after_a_restart_survive_a_crash() {
    if let Ok(dir) = std::env::var(CRASH_AFTER_RESTART_ENV) {
        let store = open(std::path::Path::new(&dir));
        store.append(&sample()).unwrap();
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.append(&sample()).unwrap();
    store.commit().unwrap();
    drop(store);
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "events_appended_after_a_restart_survive_a_crash",
            "--nocapture",
        ])
        .env(CRASH_AFTER_RESTART_ENV, dir.path())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die abnormally");
    let store = open(dir.path());
    assert_eq!(
        store.stats().events,
        120,
        "the 60 committed before the restart and the 60 acknowledged after it"
    );
}
