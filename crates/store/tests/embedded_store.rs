//! The embedded store against the reference semantics of the query language (the cases
//! in `common`, shared with the ClickHouse backend), plus what only the embedded store
//! does: its write-ahead log, retention by size, and the single-writer lock.

mod common;

use common::sample;
use haechi_event::{DeadLetter, Timestamp};
use haechi_query::parse;
use haechi_store::embedded::{EmbeddedStore, StoreConfig};
use haechi_store::{EventStore, SearchRequest};

fn open(dir: &std::path::Path) -> EmbeddedStore {
    common::open_embedded(dir)
}

#[test]
fn every_query_matches_the_reference_semantics() {
    let dir = tempfile::tempdir().unwrap();
    common::every_query_matches_the_reference_semantics(&open(dir.path()));
}

#[test]
fn limit_tenants_and_time_window() {
    let dir = tempfile::tempdir().unwrap();
    common::limit_tenants_and_time_window(&open(dir.path()));
}

#[test]
fn count_by_and_histogram() {
    let dir = tempfile::tempdir().unwrap();
    common::count_by_and_histogram(&open(dir.path()));
}

#[test]
fn events_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    common::events_round_trip(&open(dir.path()));
}

#[test]
fn stored_event_ids_finds_exactly_the_stored() {
    let dir = tempfile::tempdir().unwrap();
    common::stored_event_ids_finds_exactly_the_stored(&open(dir.path()));
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
