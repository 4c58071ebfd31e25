//! The cases every event store backend must pass: the same answers as the reference
//! semantics (`Query::matches`), the institution filter, time windows, top-N counts and
//! histograms. `embedded_store.rs` and `clickhouse_store.rs` run them.

#![allow(dead_code)]

pub mod clickhouse;

use haechi_event::{Event, Timestamp, Value, parse_rfc3339};
use haechi_query::parse;
use haechi_store::embedded::{EmbeddedStore, StoreConfig};
use haechi_store::{EventStore, SearchRequest};

/// The embedded store under `dir`, small enough for tests (one writer thread, 15 MB).
pub fn open_embedded(dir: &std::path::Path) -> EmbeddedStore {
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

pub fn ev(ts: &str, tenant: &str, fields: &[(&'static str, Value)]) -> Event {
    let mut e = Event::new(parse_rfc3339(ts).unwrap(), tenant.into(), fields.len());
    for (k, v) in fields {
        e.push(*k, v.clone());
    }
    e
}

pub fn ip(s: &str) -> Value {
    Value::Ip(s.parse().unwrap())
}

pub fn sample() -> Vec<Event> {
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

pub const QUERIES: &[&str] = &[
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
    "destination.ip:192.168.1.10",
    "destination.port:22.0",
    "NOT _exists_:http.response.status_code",
    "custom.addr:172.16.2.1",
    "user.name:ADMIN*",
    "event.category:(network AND authentication)",
    "message:failed AND NOT message:u7",
    "source.ip:[10.0.1.0 TO 10.0.2.255]",
    "organization.id:SEOUL",
    "http.response.status_code:[510 TO *]",
    "failed AND NOT process.command_line:*whoami\\ 2*",
];

/// Every query returns exactly the events `Query::matches` accepts, newest first.
pub fn every_query_matches_the_reference_semantics(store: &dyn EventStore) {
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

/// Limits, the institution filter and the time window.
pub fn limit_tenants_and_time_window(store: &dyn EventStore) {
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

/// Top-N counts (exact and post-filtered) and histograms.
pub fn count_by_and_histogram(store: &dyn EventStore) {
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

/// Events come back as they were stored: every field with its value and lists as lists.
/// (Value types are compared by their text: the embedded store keeps events as JSON, in
/// which an IP address is a string.)
pub fn events_round_trip(store: &dyn EventStore) {
    let events = sample();
    store.append(&events).unwrap();
    store.commit().unwrap();
    let mut request = SearchRequest::new(parse("").unwrap());
    request.limit = 1000;
    let mut got = store.search(&request).unwrap().events;
    let mut want = events.clone();
    let key = |e: &Event| (e.timestamp, e.tenant.to_string(), format!("{:?}", e.fields));
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.timestamp, w.timestamp);
        assert_eq!(g.tenant, w.tenant);
        let text =
            |v: &Value| -> Vec<String> { v.scalars().map(|s| s.as_text().into_owned()).collect() };
        for (name, value) in &w.fields {
            assert!(
                g.fields.iter().any(|(n, v)| n == name
                    && text(v) == text(value)
                    && matches!(v, Value::List(_)) == matches!(value, Value::List(_))),
                "{name} = {value:?} comes back (got {:?})",
                g.fields
            );
        }
    }
}

/// `stored_event_ids`: the ids the store holds among those asked, within the time range
/// (the scale-out store writer's check of a batch delivered again); odd characters in an
/// id are literals, never SQL.
pub fn stored_event_ids_finds_exactly_the_stored(store: &dyn EventStore) {
    let events: Vec<Event> = (0..1200)
        .map(|i| {
            ev(
                &format!("2024-05-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
                if i % 2 == 0 { "seoul" } else { "busan" },
                &[("event.id", Value::Str(format!("batch-{i:05}")))],
            )
        })
        .collect();
    store.append(&events[..1000]).unwrap();
    store.commit().unwrap();
    let asked: Vec<String> = (900..1200)
        .map(|i| format!("batch-{i:05}"))
        .chain(["x') OR 1=1 --".to_owned(), "batch-00001\\".to_owned()])
        .collect();
    let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
    let (from, to) = (events[0].timestamp, events[1199].timestamp);
    let found = store.stored_event_ids(&asked, from, to).unwrap();
    let want: std::collections::HashSet<String> =
        (900..1000).map(|i| format!("batch-{i:05}")).collect();
    assert_eq!(found, want);
}
