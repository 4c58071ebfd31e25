//! `/readyz` says whether the server can do its work: the pipeline takes batches, the event
//! store answers (here a real ClickHouse server, stopped halfway) and the alert store
//! answers. `/healthz` stays liveness only: it does not follow the store.

#[path = "../../store/tests/common/clickhouse.rs"]
mod clickhouse_server;
mod common;

use common::*;

const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

#[test]
fn readyz_follows_the_event_store_and_healthz_does_not() {
    let clickhouse = clickhouse_server::ClickHouseServer::start();
    let c = clickhouse.database("ready");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n[detect]\nrules = [{}]\n\
             [store]\nbackend = \"clickhouse\"\n[store.clickhouse]\nurl = \"{}\"\ndatabase = \"{}\"\nuser = \"{}\"\npassword = \"{}\"\n",
            toml_path(&dir.path().join("data")),
            toml_path(&rules),
            c.url,
            c.database,
            c.user,
            c.password.as_deref().unwrap_or_default()
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let r = server.request("GET", "/readyz", &[], b"");
    assert_eq!(r.status, 200, "no credentials needed: {}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["checks"]["pipeline"], "ok", "{v}");
    assert_eq!(v["checks"]["store"], "ok", "{v}");
    assert_eq!(v["checks"]["alerts"], "ok", "detection is on: {v}");

    drop(clickhouse); // the event store's server goes away
    wait_for("readyz to report the store down", PATIENCE, || {
        let r = server.request("GET", "/readyz", &[], b"");
        let v = r.json();
        if r.status == 503 && v["checks"]["store"] == "down" {
            Ok(())
        } else {
            Err(format!("{} {v}", r.status))
        }
    });
    let v = server.request("GET", "/readyz", &[], b"").json();
    assert_eq!(v["status"], "not ready", "{v}");
    assert_eq!(v["checks"]["alerts"], "ok", "only the store is down: {v}");
    assert!(
        !v.to_string().contains(&c.url),
        "no details without authentication: {v}"
    );
    let r = server.request("GET", "/healthz", &[], b"");
    assert_eq!(
        r.status,
        200,
        "liveness does not follow the store: {}",
        r.text()
    );
}
