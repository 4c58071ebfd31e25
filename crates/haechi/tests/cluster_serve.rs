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

fn access_line(ip: &str, second: u32, attack: bool) -> String {
    let path = if attack {
        "/dl?file=../../../etc/passwd"
    } else {
        "/index.html"
    };
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"",
        clf_time(second.into())
    )
}

fn config(dir: &Path, data: &Path, rules: &Path, nats: &str) -> std::path::PathBuf {
    write_file(
        dir,
        &format!("{}.toml", data.file_name().unwrap().to_string_lossy()),
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n\
             [cluster]\nnats = \"{nats}\"\nsite = \"center\"\nack_wait_secs = 5\n",
            toml_path(data),
            toml_path(rules)
        ),
    )
}

fn get(server: &Server, token: &str, path: &str) -> Value {
    let r = server.request(
        "GET",
        path,
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
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
        let v = get(&server, &admin, "/api/events?q=&limit=1");
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
            let v = get(&server, &admin, "/api/alerts");
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
            let found = get(&server, &admin, &format!("/api/events?q=event.id:{id}"));
            assert_eq!(
                found["total"], 1,
                "the alert's event {id} is the stored one: {found}"
            );
            assert_eq!(found["events"][0]["organization.id"], a["tenant"]);
        }
    }
    // Every stored event carries an id the collector gave it.
    let without = get(
        &server,
        &admin,
        "/api/events?q=NOT%20_exists_:event.id&limit=1",
    );
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
        let idle = v["messages"] == 0
            && v["consumers"].as_array().is_some_and(|c| {
                c.len() == 2 && c.iter().all(|c| c["pending"] == 0 && c["ack_pending"] == 0)
            });
        if idle { Ok(v) } else { Err(v.to_string()) }
    });
    assert_eq!(status["site"], "center");
    let (status, _) = server.terminate();
    assert!(status.success());
}
