//! `haechi serve` with `[cluster]`: batches cross a real nats-server (JetStream) between
//! the collector, the detection worker and the store writer, and the console's API sees
//! the same result as the single process: every event stored once, the attacks alerted,
//! and each alert's event references pointing at stored events.

mod common;
#[path = "../../cluster/tests/common/nats.rs"]
mod nats;

use common::*;
use serde_json::Value;
use std::path::Path;

const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

fn config(dir: &Path, data: &Path, rules: &Path, nats: &str) -> std::path::PathBuf {
    config_with(dir, data, rules, nats, 5)
}

fn config_with(
    dir: &Path,
    data: &Path,
    rules: &Path,
    nats: &str,
    ack_wait_secs: u64,
) -> std::path::PathBuf {
    write_file(
        dir,
        &format!("{}.toml", data.file_name().unwrap().to_string_lossy()),
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n\
             [cluster]\nnats = \"{nats}\"\nsite = \"center\"\nack_wait_secs = {ack_wait_secs}\n",
            toml_path(data),
            toml_path(rules)
        ),
    )
}

fn ingest(server: &Server, token: &str, tenant: &str, lines: &[String]) {
    let r = server.request(
        "POST",
        &format!("/api/ingest?tenant={tenant}&format=clf"),
        &[("Authorization", &format!("Bearer {token}"))],
        lines.join("\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn events_and_alerts_cross_jetstream_between_the_roles() {
    let nats = nats::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("center");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let admin = create_token(&data, "ops", "admin", None);
    let cfg = config(dir.path(), &data, &rules, &nats.url);
    let server = Server::start(&cfg, &dir.path().join("serve.stderr"));

    // 300 lines per institution, 3 of them attacks, in three requests each.
    for tenant in ["seoul", "busan"] {
        for chunk in 0..3u32 {
            let lines: Vec<String> = (0..100u32)
                .map(|i| access_line("203.0.113.7", chunk * 100 + i, i == 50))
                .collect();
            ingest(&server, &admin, tenant, &lines);
        }
    }
    let total = wait_for("600 events stored by the store worker", PATIENCE, || {
        let v = server.get_json(&admin, "/api/events?q=&limit=1");
        if v["total"] == 600 {
            Ok(v)
        } else {
            Err(v["total"].to_string())
        }
    });
    assert_eq!(total["total"], 600);
    let alerts = wait_for(
        "an alert per institution from the detection worker",
        PATIENCE,
        || {
            let v = server.get_json(&admin, "/api/alerts");
            let list = v["alerts"].as_array().cloned().unwrap_or_default();
            let counted: u64 = list.iter().map(|a| a["count"].as_u64().unwrap_or(0)).sum();
            if list.len() == 2 && counted == 6 {
                Ok(list)
            } else {
                Err(v.to_string())
            }
        },
    );
    for a in &alerts {
        let refs = a["events"].as_array().unwrap();
        assert!(!refs.is_empty(), "{a}");
        for r in refs {
            let id = r["id"].as_str().unwrap();
            let found = server.get_json(&admin, &format!("/api/events?q=event.id:{id}"));
            assert_eq!(
                found["total"], 1,
                "the alert's event {id} is the stored one: {found}"
            );
            assert_eq!(found["events"][0]["organization.id"], a["tenant"]);
        }
    }
    // Every stored event carries an id the collector gave it.
    let without = server.get_json(&admin, "/api/events?q=NOT%20_exists_:event.id&limit=1");
    assert_eq!(without["total"], 0, "{without}");
    // `haechi cluster status`: both consumers have acknowledged everything, and the
    // stream, which keeps a batch only until both have it, is empty.
    let status = wait_for("everything acknowledged", PATIENCE, || {
        let out = haechi(&[
            "cluster",
            "status",
            "--config",
            cfg.to_str().unwrap(),
            "--json",
        ]);
        if !out.status.success() {
            return Err(describe(&out));
        }
        let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        let streams = v["streams"].as_array().cloned().unwrap_or_default();
        let idle = streams.len() == 2
            && streams.iter().all(|s| {
                s["messages"] == 0
                    && s["consumers"].as_array().is_some_and(|c| {
                        c.iter().all(|c| c["pending"] == 0 && c["ack_pending"] == 0)
                    })
            });
        if idle { Ok(v) } else { Err(v.to_string()) }
    });
    assert_eq!(status["site"], "center");
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// `kill -9` of the server while its workers are behind: the batches JetStream holds
/// are delivered again after the restart, and every event is stored once and every
/// attack counted once (a batch stored or recorded before the kill is not repeated).
#[test]
fn a_killed_worker_loses_nothing_and_repeats_nothing() {
    let nats = nats::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("center");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let admin = create_token(&data, "ops", "admin", None);
    let cfg = config_with(dir.path(), &data, &rules, &nats.url, 2);
    let server = Server::start(&cfg, &dir.path().join("serve-1.stderr"));
    // 20 requests of 2,000 lines, one attack in each: acknowledged once in JetStream.
    for chunk in 0..20u32 {
        let lines: Vec<String> = (0..2000u32)
            .map(|i| {
                access_line(
                    &format!("198.51.100.{}", chunk + 1),
                    chunk * 2000 + i,
                    i == 1000,
                )
            })
            .collect();
        ingest(&server, &admin, "seoul", &lines);
    }
    server.kill_hard();
    let server = Server::start(&cfg, &dir.path().join("serve-2.stderr"));
    wait_for("40,000 events, each once", PATIENCE, || {
        let v = server.get_json(&admin, "/api/events?q=&limit=1");
        if v["total"] == 40_000 {
            Ok(())
        } else {
            Err(v["total"].to_string())
        }
    });
    let counted = wait_for("20 attacks counted", PATIENCE, || {
        let v = server.get_json(&admin, "/api/alerts");
        let list = v["alerts"].as_array().cloned().unwrap_or_default();
        let counted: u64 = list.iter().map(|a| a["count"].as_u64().unwrap_or(0)).sum();
        if counted >= 20 {
            Ok(counted)
        } else {
            Err(v.to_string())
        }
    });
    // Everything acknowledged, then the totals once more: nothing came twice.
    wait_for("everything acknowledged", PATIENCE, || {
        let out = haechi(&[
            "cluster",
            "status",
            "--config",
            cfg.to_str().unwrap(),
            "--json",
        ]);
        let v: Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {}", describe(&out)))?;
        let streams = v["streams"].as_array().cloned().unwrap_or_default();
        if !streams.is_empty() && streams.iter().all(|s| s["messages"] == 0) {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(
        server.get_json(&admin, "/api/events?q=&limit=1")["total"],
        40_000
    );
    assert_eq!(counted, 20, "each attack counted once");
    let v = server.get_json(&admin, "/api/alerts");
    let total: u64 = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 20, "{v}");
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// `kill -9` of nats-server itself while a collector is being sent to: requests sent
/// while it is away wait for it (the collector retries its publish), and after it is
/// back on its storage every event is stored once and every attack counted once.
#[test]
fn a_killed_nats_server_loses_nothing_and_repeats_nothing() {
    let mut nats = nats::NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("center");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let admin = create_token(&data, "ops", "admin", None);
    let cfg = config_with(dir.path(), &data, &rules, &nats.url, 5);
    let server = Server::start(&cfg, &dir.path().join("serve.stderr"));
    let request = |chunk: u32| -> Vec<String> {
        (0..1000u32)
            .map(|i| {
                access_line(
                    &format!("198.51.100.{}", chunk + 1),
                    chunk * 1000 + i,
                    i == 500,
                )
            })
            .collect()
    };
    for chunk in 0..10 {
        ingest(&server, &admin, "seoul", &request(chunk));
    }
    nats.kill_hard();
    // Sent while the server is away: answered once it is back.
    std::thread::scope(|s| {
        let sender = s.spawn(|| {
            for chunk in 10..20 {
                ingest(&server, &admin, "seoul", &request(chunk));
            }
        });
        std::thread::sleep(std::time::Duration::from_secs(2));
        nats.restart();
        sender.join().unwrap();
    });
    wait_for("20,000 events, each once", PATIENCE, || {
        let v = server.get_json(&admin, "/api/events?q=&limit=1");
        if v["total"] == 20_000 {
            Ok(())
        } else {
            Err(v["total"].to_string())
        }
    });
    let counted = wait_for("20 attacks counted", PATIENCE, || {
        let v = server.get_json(&admin, "/api/alerts");
        let list = v["alerts"].as_array().cloned().unwrap_or_default();
        let counted: u64 = list.iter().map(|a| a["count"].as_u64().unwrap_or(0)).sum();
        if counted >= 20 {
            Ok(counted)
        } else {
            Err(v.to_string())
        }
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(counted, 20, "each attack counted once");
    assert_eq!(
        server.get_json(&admin, "/api/events?q=&limit=1")["total"],
        20_000
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}
