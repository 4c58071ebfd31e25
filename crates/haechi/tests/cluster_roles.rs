//! The roles in separate processes, as a site runs them: one collector, two detection
//! workers, one store writer and one API process, sharing a real nats-server and a real
//! ClickHouse server (both started by the project's scripts). Events posted to the
//! collector are searchable through the API process, the attacks are alerted there once
//! (the detectors publish alerts on `ALERTS`, the API process writes them), and the
//! institutions stay apart. An embedded store cannot be split across processes, and
//! `haechi serve` says so.

#[path = "../../store/tests/common/clickhouse.rs"]
mod clickhouse_server;
mod common;
#[path = "../../cluster/tests/common/nats.rs"]
mod nats;

use common::*;
use std::path::{Path, PathBuf};

const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

/// The configuration of one process: its own data directory, the shared servers.
fn role_config(
    dir: &Path,
    name: &str,
    roles: &str,
    rules: &Path,
    nats: &str,
    clickhouse: &haechi_store::clickhouse::ClickHouseConfig,
) -> PathBuf {
    write_file(
        dir,
        &format!("{name}.toml"),
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n\
             [store]\nbackend = \"clickhouse\"\n[store.clickhouse]\nurl = \"{}\"\n\
             database = \"{}\"\nuser = \"{}\"\npassword = \"{}\"\n\
             [cluster]\nnats = \"{nats}\"\nsite = \"center\"\nack_wait_secs = 5\n\
             roles = [{roles}]\n",
            toml_path(&dir.join(name)),
            toml_path(rules),
            clickhouse.url,
            clickhouse.database,
            clickhouse.user,
            clickhouse.password.as_deref().unwrap_or_default(),
        ),
    )
}

#[test]
fn a_site_of_separate_processes_answers_like_one() {
    let nats = nats::NatsServer::start();
    let clickhouse = clickhouse_server::ClickHouseServer::start();
    let ch = clickhouse.database("site");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let process = |name: &str, roles: &str| {
        let cfg = role_config(dir.path(), name, roles, &rules, &nats.url, &ch);
        (cfg, dir.path().join(format!("{name}.stderr")))
    };
    let collector_token = create_token(&dir.path().join("collector"), "in", "admin", None);
    let admin = create_token(&dir.path().join("api"), "ops", "admin", None);
    let seoul = create_token(
        &dir.path().join("api"),
        "seoul-ops",
        "institution",
        Some("seoul"),
    );
    let mut servers = Vec::new();
    for (name, roles) in [
        ("api", "\"api\""),
        ("store", "\"store\""),
        ("detector-1", "\"detector\""),
        ("detector-2", "\"detector\""),
        ("collector", "\"collector\""),
    ] {
        let (cfg, stderr) = process(name, roles);
        servers.push(Server::start(&cfg, &stderr));
    }
    let (api, collector) = (&servers[0], &servers[4]);

    // 2 x 2,000 lines in 20 requests, 10 attacks per institution.
    for tenant in ["seoul", "busan"] {
        for chunk in 0..10u32 {
            let lines: Vec<String> = (0..200u32)
                .map(|i| access_line("203.0.113.7", chunk * 200 + i, i == 100))
                .collect();
            let r = collector.request(
                "POST",
                &format!("/api/ingest?tenant={tenant}&format=clf"),
                &[("Authorization", &format!("Bearer {collector_token}"))],
                lines.join("\n").as_bytes(),
            );
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
    wait_for(
        "4,000 events searchable in the API process",
        PATIENCE,
        || {
            let v = api.get_json(&admin, "/api/events?q=&limit=1");
            if v["total"] == 4000 {
                Ok(())
            } else {
                Err(v["total"].to_string())
            }
        },
    );
    let alerts = wait_for("20 attacks alerted in the API process", PATIENCE, || {
        let v = api.get_json(&admin, "/api/alerts");
        let list = v["alerts"].as_array().cloned().unwrap_or_default();
        let counted: u64 = list.iter().map(|a| a["count"].as_u64().unwrap_or(0)).sum();
        if counted >= 20 {
            Ok(list)
        } else {
            Err(v.to_string())
        }
    });
    let counted: u64 = alerts.iter().map(|a| a["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, 20, "each attack once: {alerts:?}");
    let tenants: std::collections::BTreeSet<&str> = alerts
        .iter()
        .map(|a| a["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, ["busan", "seoul"].into());
    // The alerts reference the events the store writer keeps.
    let a = &alerts[0];
    let id = a["events"][0]["id"].as_str().unwrap();
    let found = api.get_json(&admin, &format!("/api/events?q=event.id:{id}"));
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["events"][0]["organization.id"], a["tenant"]);
    // An institution's officer sees its own events and alerts only.
    let own = api.get_json(&seoul, "/api/events?q=&limit=1");
    assert_eq!(own["total"], 2000, "{own}");
    let other = api.get_json(&seoul, "/api/events?q=organization.id:busan&limit=1");
    assert_eq!(other["total"], 0, "{other}");
    let own_alerts = api.get_json(&seoul, "/api/alerts");
    assert!(
        own_alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["tenant"] == "seoul"),
        "{own_alerts}"
    );
    for s in servers.drain(..) {
        let (status, stderr) = s.terminate();
        assert!(status.success(), "{stderr}");
    }
}

#[test]
fn an_embedded_store_is_not_split_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_file(
        dir.path(),
        "split.toml",
        &format!(
            "data_dir = {}\n[cluster]\nnats = \"nats://127.0.0.1:1\"\n",
            toml_path(&dir.path().join("data"))
        ),
    );
    let out = haechi(&[
        "serve",
        "--config",
        cfg.to_str().unwrap(),
        "--role",
        "store",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("roles store and api are in different processes")
            && err.contains("backend = \"clickhouse\""),
        "{err}"
    );
}

/// `kill -9` of the store writer while batches stream in, on ClickHouse: some of its
/// inserts were in ClickHouse and not yet acknowledged to JetStream. After its restart
/// every event is stored exactly once (the batches delivered again store only the
/// events ClickHouse lacks, found by `event.id`).
#[test]
fn a_store_writer_killed_mid_stream_stores_everything_once_on_clickhouse() {
    let nats = nats::NatsServer::start();
    let clickhouse = clickhouse_server::ClickHouseServer::start();
    let ch = clickhouse.database("killed");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let admin = create_token(&dir.path().join("front"), "ops", "admin", None);
    let front_cfg = role_config(
        dir.path(),
        "front",
        "\"collector\", \"detector\", \"api\"",
        &rules,
        &nats.url,
        &ch,
    );
    let store_cfg = role_config(dir.path(), "store", "\"store\"", &rules, &nats.url, &ch);
    let front = Server::start(&front_cfg, &dir.path().join("front.stderr"));
    let mut store = Server::start(&store_cfg, &dir.path().join("store-1.stderr"));
    for chunk in 0..20u32 {
        if chunk == 10 {
            store.kill_hard();
            store = Server::start(&store_cfg, &dir.path().join("store-2.stderr"));
        }
        let lines: Vec<String> = (0..1000u32)
            .map(|i| access_line("203.0.113.7", chunk * 1000 + i, i == 500))
            .collect();
        let r = front.request(
            "POST",
            "/api/ingest?tenant=seoul&format=clf",
            &[("Authorization", &format!("Bearer {admin}"))],
            lines.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    wait_for("20,000 events in ClickHouse", PATIENCE, || {
        let v = front.get_json(&admin, "/api/events?q=&limit=1");
        if v["total"] == 20_000 {
            Ok(())
        } else {
            Err(format!(
                "{} {}",
                v["total"],
                front.get_json(&admin, "/api/cluster")
            ))
        }
    });
    // Everything acknowledged, then once more: nothing came twice.
    wait_for("the store writer acknowledged everything", PATIENCE, || {
        let v = front.get_json(&admin, "/api/cluster");
        let events = &v["streams"][0];
        if events["messages"] == 0 {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });
    assert_eq!(
        front.get_json(&admin, "/api/events?q=&limit=1")["total"],
        20_000
    );
    for s in [front, store] {
        let (status, stderr) = s.terminate();
        assert!(status.success(), "{stderr}");
    }
}
