//! `[store] backend = "clickhouse"` from a shell: the same real samples ingested into the
//! embedded store and into a real ClickHouse server (started by the test) answer every
//! search, count and histogram the same way; dead letters land in ClickHouse too.

#[path = "../../store/tests/common/clickhouse.rs"]
mod clickhouse_server;
mod common;

use common::*;
use std::path::Path;

const APACHE: &str = "logs/access_logs/elastic_examples_apache_access_2015.log";
const EVE: &str = "logs/suricata/mssis_eve.json";

fn clickhouse_config(dir: &Path, server: &clickhouse_server::ClickHouseServer) -> String {
    let c = server.database("cli");
    let config = write_file(
        dir,
        "clickhouse.toml",
        &format!(
            "[store]\nbackend = \"clickhouse\"\n[store.clickhouse]\nurl = \"{}\"\ndatabase = \"{}\"\nuser = \"{}\"\npassword_file = {}\n",
            c.url,
            c.database,
            c.user,
            toml_path(&write_file(
                dir,
                "clickhouse.password",
                &format!("{}\n", c.password.as_deref().unwrap_or_default())
            ))
        ),
    );
    config.to_str().expect("UTF-8 temp path").to_owned()
}

fn ingest(data: &Path, extra: &[&str], format: &str, file: &Path) {
    let mut args = vec![
        "ingest",
        "--data-dir",
        data.to_str().unwrap(),
        "--format",
        format,
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = haechi(&args);
    assert!(out.status.success(), "{}", describe(&out));
}

fn count_by(data: &Path, extra: &[&str], field: &str, query: &str) -> Vec<u64> {
    let mut args = vec![
        "search",
        "--data-dir",
        data.to_str().unwrap(),
        "--count-by",
        field,
        "--limit",
        "5",
    ];
    args.extend_from_slice(extra);
    args.push(query);
    let out = haechi(&args);
    assert!(out.status.success(), "{}", describe(&out));
    // Lines `COUNT VALUE`; the counts (ties may list values in another order).
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn both_backends_answer_the_same_on_real_samples() {
    let server = clickhouse_server::ClickHouseServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = clickhouse_config(dir.path(), &server);
    let embedded = dir.path().join("embedded");
    let clickhouse = dir.path().join("clickhouse");
    let ch: &[&str] = &["--config", &config];
    let broken = write_file(
        dir.path(),
        "broken.json",
        "{\"event\": {\"kind\": \"alert\"}}\n{not json\n",
    );
    for (data, extra) in [(&embedded, &[][..]), (&clickhouse, ch)] {
        ingest(data, extra, "clf", &sample(APACHE));
        ingest(data, extra, "suricata", &sample(EVE));
        ingest(data, extra, "json", &broken);
    }
    let queries = [
        "",
        "source.ip:83.149.9.216",
        "http.response.status_code:404",
        "NOT http.response.status_code:200",
        "http.request.method:POST",
        "url.original:*wp-login*",
        "\"GET /presentations\"",
        "presentations",
        "source.ip:10.0.0.0/8",
        "event.kind:alert",
        "_exists_:dns.question.name",
        "destination.port:[1 TO 1024]",
        "alert.severity:<=2 AND event.module:suricata",
        "user_agent.original:*Googlebot*",
    ];
    let mut nonzero = 0;
    for q in queries {
        let want = search_total(&embedded, &[], q);
        let got = search_total(&clickhouse, ch, q);
        assert_eq!(got, want, "total for {q:?}");
        nonzero += usize::from(want > 0);
    }
    assert!(nonzero >= queries.len() - 1, "the queries hit the samples");
    let ip = "source.ip:83.149.9.216";
    let a = search_events(&embedded, &[], ip);
    let b = search_events(&clickhouse, ch, ip);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["@timestamp"], y["@timestamp"], "newest first on both");
    }
    // Events of the same second may come in another order: compare them as sets.
    let events = |list: &[serde_json::Value]| {
        let mut v: Vec<String> = list
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e["@timestamp"], e["url.original"], e["http.response.status_code"]
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(events(&a), events(&b));
    for (field, q) in [
        ("source.ip", ""),
        ("http.response.status_code", ""),
        ("organization.id", ""),
        ("event.kind", "\"GET /presentations\""),
    ] {
        assert_eq!(
            count_by(&clickhouse, ch, field, q),
            count_by(&embedded, &[], field, q),
            "count by {field} for {q:?}"
        );
    }
    let dead = |data: &Path, extra: &[&str]| {
        let mut args = vec!["deadletter", "--data-dir", data.to_str().unwrap(), "--json"];
        args.extend_from_slice(extra);
        let out = haechi(&args);
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(dead(&clickhouse, ch), 1, "the broken line is a dead letter");
    assert_eq!(dead(&embedded, &[]), 1);
}
