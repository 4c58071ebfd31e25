//! The ClickHouse backend's statements on a modern engine.
//!
//! Only Debian's ClickHouse 18.16 can be installed as a server here, and the store is
//! tested end to end on it (`clickhouse_store.rs`). Sites will run current servers, so the
//! exact statements the store sends (from `haechi_store::clickhouse::statements`: the
//! schema, every compiled query, counts, top-N, histograms, the redelivery check,
//! partition drops and the TTL of the modern dialect) are run here on ClickHouse 26.9,
//! embedded in the PyPI package `chdb-core` (`scripts/check-clickhouse-modern.py`,
//! installed by `scripts/setup-test-tools`), and their answers are compared with the
//! reference semantics and the embedded store. The sort key must still prune: the
//! engine's `EXPLAIN indexes = 1` shows it.

mod common;

use common::{QUERIES, ev, sample};
use haechi_event::{Event, Timestamp, Value, parse_rfc3339};
use haechi_query::{Query, parse};
use haechi_store::clickhouse::compile::{fixed16, lit};
use haechi_store::clickhouse::row::{EventRow, StoredRow};
use haechi_store::clickhouse::statements::{self, Dialect};
use haechi_store::embedded::EmbeddedStore;
use haechi_store::{EventStore, SearchRequest};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::process::Command;

/// The engine version `chdb-core` is pinned to.
const ENGINE: &str = "26.9";

/// An `INSERT … VALUES` of rows exactly as the store builds them (the store itself
/// sends RowBinary over HTTP, which chdb has no endpoint for).
fn insert(table: &str, events: &[Event]) -> String {
    let strings = |v: &[String]| {
        format!(
            "[{}]",
            v.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ")
        )
    };
    let float = |x: f64| {
        if x.is_nan() {
            "nan".to_owned()
        } else if x.is_infinite() {
            if x > 0.0 { "inf" } else { "-inf" }.to_owned()
        } else {
            format!("{x:e}")
        }
    };
    let rows: Vec<String> = events
        .iter()
        .map(|e| {
            let r = EventRow::from_event(e);
            format!(
                "({}, {}, {}, {}, {}, {}, {}, [{}], [{}], [{}], {}, {})",
                r.ts,
                lit(&r.org),
                r.day,
                fixed16(&r.source_ip),
                fixed16(&r.destination_ip),
                strings(&r.fk),
                strings(&r.fv),
                r.ft.iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                r.fnum
                    .iter()
                    .map(|x| float(*x))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.fip.iter().map(fixed16).collect::<Vec<_>>().join(", "),
                strings(&r.mw),
                strings(&r.ow),
            )
        })
        .collect();
    format!("INSERT INTO {table} VALUES {}", rows.join(", "))
}

/// Runs `statements` in one chdb session and returns each one's result.
fn run_on_modern_engine(statements: &[String]) -> Vec<Json> {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("statements.json");
    std::fs::write(
        &spec,
        serde_json::to_vec(&serde_json::json!({"engine": ENGINE, "statements": statements}))
            .unwrap(),
    )
    .unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/check-clickhouse-modern.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(&spec)
        .arg(dir.path().join("chdb"))
        // The engine runs on the real clock, like the 18.16 server of the other tests.
        .env_remove("LD_PRELOAD")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "ClickHouse {ENGINE} (chdb-core) refused a statement of the store, or is missing \
         (scripts/setup-test-tools installs it):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["version"].as_str().unwrap().starts_with(ENGINE),
        "{doc}"
    );
    let results = doc["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), statements.len());
    results
}

fn rows(result: &Json) -> &Vec<Json> {
    result["rows"].as_array().expect("rows")
}

fn count_of(result: &Json) -> u64 {
    rows(result)[0]["count"].as_u64().unwrap()
}

/// The events a `select_events` statement returned, rebuilt as the store rebuilds them.
fn events_of(result: &Json) -> Vec<Event> {
    rows(result)
        .iter()
        .map(|r| {
            serde_json::from_value::<StoredRow>(r.clone())
                .unwrap()
                .into_event()
        })
        .collect()
}

fn embedded_reference(events: &[Event]) -> (tempfile::TempDir, EmbeddedStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_embedded(dir.path());
    store.append(events).unwrap();
    store.commit().unwrap();
    (dir, store)
}

/// Which statement answers which question.
enum Check {
    Search {
        query: Query,
        text: &'static str,
        exact: bool,
    },
    Count {
        text: &'static str,
        want: usize,
    },
    CountBy {
        field: &'static str,
        top: usize,
    },
    Histogram,
    Explain,
    StoredIds,
    Partitions,
    AfterDrop,
    Ttl,
    AfterTtl,
    None,
}

#[test]
fn the_stores_statements_run_on_clickhouse_26_9_with_the_same_answers() {
    let events = sample();
    let (_dir, reference) = embedded_reference(&events);
    let mut plan: Vec<(String, Check)> = Vec::new();
    let setup = |sql: String| (sql, Check::None);

    for s in statements::schema("haechi") {
        plan.push(setup(s));
    }
    plan.push(setup("USE haechi".into()));
    // Two inserts, so that each day has two parts, as after two batches.
    plan.push(setup(insert("events", &events[..30])));
    plan.push(setup(insert("events", &events[30..])));

    for text in QUERIES {
        let query = parse(text).unwrap();
        let request = SearchRequest::new(query.clone());
        let (clause, exact) = statements::where_clause(&request);
        let want = events.iter().filter(|e| query.matches(e)).count();
        if exact {
            plan.push((statements::count(&clause), Check::Count { text, want }));
        }
        plan.push((
            statements::select_events(&clause, 1000),
            Check::Search { query, text, exact },
        ));
    }
    // The institution filter and a time window, as every request of an officer has.
    let mut scoped = SearchRequest::new(parse("destination.port:22").unwrap());
    scoped.tenants = Some(vec!["busan".into()]);
    scoped.from = parse_rfc3339("2024-05-02T00:00:00Z");
    scoped.to = parse_rfc3339("2024-05-03T00:00:00Z");
    let (clause, _) = statements::where_clause(&scoped);
    plan.push((
        statements::select_events(&clause, 1000),
        Check::Search {
            query: Query::And(vec![
                scoped.query.clone(),
                parse("organization.id:busan AND @timestamp:[2024-05-02T00:00:00Z TO 2024-05-03T00:00:00Z}")
                    .unwrap(),
            ]),
            text: "busan, 2024-05-02, destination.port:22",
            exact: true,
        },
    ));
    plan.push((
        format!(
            "EXPLAIN indexes = 1 {}",
            statements::select_events(&clause, 10)
        ),
        Check::Explain,
    ));
    let all = statements::where_clause(&SearchRequest::new(parse("").unwrap())).0;
    for (field, top) in [
        ("user.name", 2),
        ("destination.port", 10),
        ("organization.id", 10),
    ] {
        plan.push((
            statements::count_by(&all, field, top),
            Check::CountBy { field, top },
        ));
    }
    plan.push((
        statements::histogram(&all, 86_400_000_000_000),
        Check::Histogram,
    ));

    // The store writer's check of a batch delivered again, in a database of its own.
    let batch: Vec<Event> = (0..20)
        .map(|i| {
            ev(
                &format!("2024-05-01T10:00:{i:02}Z"),
                "seoul",
                &[("event.id", Value::Str(format!("batch-{i:02}")))],
            )
        })
        .collect();
    for s in statements::schema("ids") {
        plan.push(setup(s));
    }
    plan.push(setup(insert("ids.events", &batch[..10])));
    plan.push(setup("USE ids".into()));
    let asked = [
        "batch-05",
        "batch-09",
        "batch-10",
        "batch-15",
        "x') OR 1=1 --",
    ];
    plan.push((
        statements::stored_event_ids(&asked, batch[0].timestamp, batch[19].timestamp),
        Check::StoredIds,
    ));
    plan.push(setup("USE haechi".into()));

    // Retention: partition drops (every version) and the modern dialect's TTL.
    plan.push((
        statements::partitions("haechi", "events"),
        Check::Partitions,
    ));
    plan.push(setup(statements::drop_partition(
        "haechi",
        "events",
        "2024-05-01",
    )));
    plan.push((statements::count(&all), Check::AfterDrop));
    let mut today = events[0].clone();
    today.timestamp = Timestamp::now();
    plan.push(setup(insert("events", &[today])));
    plan.push(setup("SET mutations_sync = 2".into()));
    let ttl = statements::retention_ttl(Dialect::for_version(ENGINE), "haechi", 30);
    assert_eq!(ttl.len(), 2, "the modern dialect has TTL on both tables");
    for s in ttl {
        plan.push(setup(s));
    }
    plan.push(("SHOW CREATE TABLE haechi.events".into(), Check::Ttl));
    plan.push((statements::count(&all), Check::AfterTtl));

    let sql: Vec<String> = plan.iter().map(|(s, _)| s.clone()).collect();
    let results = run_on_modern_engine(&sql);

    for ((sql, check), result) in plan.iter().zip(&results) {
        match check {
            Check::None => {}
            Check::Count { text, want } => {
                assert_eq!(
                    count_of(result) as usize,
                    *want,
                    "count for {text:?}: {sql}"
                )
            }
            Check::Search { query, text, exact } => {
                let got = events_of(result);
                let mut want: Vec<&Event> = events.iter().filter(|e| query.matches(e)).collect();
                want.sort_by_key(|e| std::cmp::Reverse(e.timestamp));
                let want_ts: Vec<i64> = want.iter().map(|e| e.timestamp.0).collect();
                let kept: Vec<i64> = got
                    .iter()
                    .filter(|e| *exact || query.matches(e))
                    .map(|e| e.timestamp.0)
                    .collect();
                assert_eq!(kept, want_ts, "events for {text:?} (exact: {exact}): {sql}");
                assert!(
                    !want.is_empty() || text.contains("busan"),
                    "{text:?} should hit something in the sample"
                );
            }
            Check::CountBy { field, top } => {
                let got: Vec<(String, u64)> = rows(result)
                    .iter()
                    .map(|r| {
                        (
                            r["value"].as_str().unwrap().to_owned(),
                            r["count"].as_u64().unwrap(),
                        )
                    })
                    .collect();
                let want = reference
                    .count_by(&SearchRequest::new(parse("").unwrap()), field, *top)
                    .unwrap();
                assert_eq!(got, want, "top {top} of {field}: {sql}");
            }
            Check::Histogram => {
                let got: BTreeMap<i64, u64> = rows(result)
                    .iter()
                    .map(|r| (r["start"].as_i64().unwrap(), r["count"].as_u64().unwrap()))
                    .collect();
                let want: BTreeMap<i64, u64> = reference
                    .histogram(&SearchRequest::new(parse("").unwrap()), 86_400)
                    .unwrap()
                    .into_iter()
                    .filter(|b| b.count > 0)
                    .map(|b| (b.start.0, b.count))
                    .collect();
                assert_eq!(got, want, "{sql}");
            }
            Check::Explain => {
                let lines = result["lines"].as_array().unwrap();
                let text: Vec<&str> = lines.iter().map(|l| l.as_str().unwrap().trim()).collect();
                let pk = text
                    .iter()
                    .position(|l| *l == "PrimaryKey")
                    .unwrap_or_else(|| panic!("no primary-key use in {text:#?}"));
                let after = &text[pk..];
                assert_eq!(&after[1..4], ["Keys:", "org", "ts"], "{text:#?}");
                let condition = after.iter().find(|l| l.starts_with("Condition:")).unwrap();
                assert!(
                    condition.contains("org in") && condition.contains("ts in"),
                    "the sort key prunes on both the institution and the time: {condition}"
                );
                let parts = after.iter().find(|l| l.starts_with("Parts:")).unwrap();
                let (read, total) = parts["Parts: ".len()..].split_once('/').unwrap();
                assert!(
                    read.parse::<u32>().unwrap() < total.parse::<u32>().unwrap(),
                    "parts are skipped: {parts}"
                );
            }
            Check::StoredIds => {
                let mut got: Vec<&str> = rows(result)
                    .iter()
                    .map(|r| r["value"].as_str().unwrap())
                    .collect();
                got.sort();
                assert_eq!(got, ["batch-05", "batch-09"], "{sql}");
            }
            Check::Partitions => {
                let mut got: Vec<&str> = rows(result)
                    .iter()
                    .map(|r| r["partition"].as_str().unwrap())
                    .collect();
                got.sort();
                assert_eq!(got, ["2024-05-01", "2024-05-02", "2024-05-03"]);
            }
            Check::AfterDrop => assert_eq!(count_of(result), 40, "one day of three dropped"),
            Check::Ttl => {
                let statement = rows(result)[0]["statement"].as_str().unwrap();
                assert!(
                    statement.contains("TTL day + toIntervalDay(30)"),
                    "{statement}"
                );
            }
            Check::AfterTtl => assert_eq!(
                count_of(result),
                1,
                "the TTL removes the 2024 days and keeps today's event"
            ),
        }
    }
}
