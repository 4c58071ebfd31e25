//! The ClickHouse backend against the same cases as the embedded store, on a real
//! ClickHouse server (Debian's 18.16, started by the test), plus what only this backend
//! does: dead letters in a table, retention by dropping day partitions, statistics from
//! the server's parts, and a refused password.

mod common;

use common::clickhouse::ClickHouseServer;
use common::sample;
use haechi_event::{DeadLetter, Timestamp};
use haechi_query::parse;
use haechi_store::clickhouse::ClickHouseStore;
use haechi_store::{EventStore, SearchRequest};

fn open(server: &ClickHouseServer, database: &str) -> ClickHouseStore {
    ClickHouseStore::open(&server.database(database)).unwrap()
}

#[test]
fn conformance_with_the_reference_semantics() {
    let server = ClickHouseServer::start();
    common::every_query_matches_the_reference_semantics(&open(&server, "queries"));
    common::limit_tenants_and_time_window(&open(&server, "window"));
    common::count_by_and_histogram(&open(&server, "counts"));
    common::events_round_trip(&open(&server, "round_trip"));
    common::stored_event_ids_finds_exactly_the_stored(&open(&server, "stored_ids"));
}

#[test]
fn dead_letters_retention_stats_and_credentials() {
    let server = ClickHouseServer::start();
    let store = open(&server, "ops");
    assert!(
        store.server_version().starts_with(char::is_numeric),
        "{}",
        store.server_version()
    );
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
    let mut events = sample();
    let mut recent = events[0].clone();
    recent.timestamp = Timestamp::now();
    events.push(recent);
    store.append(&events).unwrap();
    assert_eq!(store.dead_letters().unwrap(), vec![dl.clone()]);
    let stats = store.stats();
    assert_eq!(stats.events, 61);
    assert_eq!(stats.dead_letters, 1);
    assert!(stats.partitions >= 4, "{stats:?}");
    assert!(stats.bytes > 0);

    // Reopening finds the tables as they are.
    let store = open(&server, "ops");
    assert_eq!(store.stats().events, 61);
    let dropped = store.drop_older_than(30).unwrap();
    assert_eq!(dropped, 3, "the three 2024 days go, today stays");
    let all = SearchRequest::new(parse("").unwrap());
    assert_eq!(store.search(&all).unwrap().total, 1);
    assert_eq!(store.stats().dead_letters, 1, "today's dead letter stays");
    let with_retention =
        ClickHouseStore::open_with_retention(&server.database("ops"), Some(30)).unwrap();
    with_retention.append(&sample()).unwrap();
    with_retention.commit().unwrap();
    assert_eq!(
        with_retention.search(&all).unwrap().total,
        1,
        "commit applies store.retention_days"
    );

    let mut wrong = server.database("ops");
    wrong.password = Some("not-the-password".into());
    let refused = ClickHouseStore::open(&wrong);
    let err = refused
        .err()
        .expect("a wrong password is refused")
        .to_string();
    assert!(err.contains(&server.config.url), "{err}");
}
