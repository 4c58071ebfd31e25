//! The risk index as an operator meets it: `haechi serve` with a real SigmaHQ rule
//! computes every institution's index, forecast and incident probability from the alerts
//! and serves them on `GET /api/risk` (tenant-isolated); `haechi risk` prints the same
//! beside the running server; `haechi risk eval` evaluates the incident model on replayed
//! real attack samples and writes a model that `haechi risk` then uses.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

const ADMIN_TOKEN: &str = "risk-admin-token-0123456789";
const BUSAN_TOKEN: &str = "risk-busan-token-0123456789";
const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

/// An access-log line `minutes_ago` minutes before now.
fn access_line(ip: &str, minutes_ago: i64, path: &str) -> String {
    let t = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 404 512 \"-\" \"curl/8.5.0\"",
        t.format("%d/%b/%Y:%H:%M:%S +0000")
    )
}

fn get(server: &Server, token: &str, path: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let r = server.request("GET", path, &[("Authorization", &auth)], b"");
    (r.status, r.json())
}

fn institutions(v: &Value) -> Vec<Value> {
    v["institutions"].as_array().cloned().unwrap_or_default()
}

#[test]
fn serve_keeps_a_risk_index_per_institution_and_haechi_risk_prints_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("path_traversal.yml")).unwrap();
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            r#"data_dir = {data}
listeners = []
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}, {{ token = "{BUSAN_TOKEN}", tenant = "busan" }}]
[pipeline]
commit_interval_ms = 100
[detect]
rules = [{rules}]
[risk]
interval_secs = 1
"#,
            data = toml_path(&dir.path().join("data")),
            rules = toml_path(&rules),
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let auth = format!("Bearer {ADMIN_TOKEN}");
    // One attacker probes two institutions; a third only sees harmless requests.
    for (tenant, lines) in [
        (
            "busan",
            vec![
                access_line("203.0.113.5", 20, "/dl?file=../../../etc/passwd"),
                access_line("203.0.113.5", 19, "/dl?file=../../../etc/shadow"),
            ],
        ),
        (
            "seoul",
            vec![access_line("203.0.113.5", 10, "/get?f=../../../etc/hosts")],
        ),
        ("daegu", vec![access_line("198.51.100.8", 5, "/index.html")]),
    ] {
        let r = server.request(
            "POST",
            &format!("/api/ingest?tenant={tenant}&format=clf"),
            &[("Authorization", &auth)],
            lines.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }

    let all = wait_for(
        "the risk of busan and seoul",
        Duration::from_secs(30),
        || {
            let (status, v) = get(&server, ADMIN_TOKEN, "/api/risk");
            let list = institutions(&v);
            if status == 200 && list.len() == 2 {
                Ok(list)
            } else {
                Err(format!("{status} {v}"))
            }
        },
    );
    let names: Vec<&str> = all.iter().filter_map(|s| s["tenant"].as_str()).collect();
    assert!(
        names.contains(&"busan") && names.contains(&"seoul"),
        "{names:?}"
    );
    for s in &all {
        assert!(
            s["incident_probability"].as_f64().is_some(),
            "default model: {s}"
        );
        assert!(
            s["forecast"].as_array().is_some_and(|f| f.len() == 6),
            "{s}"
        );
    }

    // The series has buckets with a positive index, and the shared attacker raised the
    // cross-institution component of both.
    let (status, v) = get(&server, ADMIN_TOKEN, "/api/risk/series?tenant=seoul");
    assert_eq!(status, 200, "{v}");
    let points = v["series"].as_array().cloned().unwrap_or_default();
    assert!(
        points
            .iter()
            .any(|p| p["index"].as_f64().unwrap_or(0.0) > 0.0),
        "{v}"
    );
    assert!(
        points
            .iter()
            .any(|p| p["components"]["cross_tenant"].as_f64().unwrap_or(0.0) > 0.0),
        "the attacker seen at busan first counts for seoul: {v}"
    );

    // An institution's token sees itself only.
    let (status, v) = get(&server, BUSAN_TOKEN, "/api/risk");
    assert_eq!(status, 200, "{v}");
    let own = institutions(&v);
    assert_eq!(own.len(), 1, "{v}");
    assert_eq!(own[0]["tenant"], "busan");
    assert_eq!(get(&server, BUSAN_TOKEN, "/api/risk?tenant=seoul").0, 403);
    assert_eq!(
        get(&server, BUSAN_TOKEN, "/api/risk/series?tenant=seoul").0,
        403
    );
    assert_eq!(get(&server, "wrong-token", "/api/risk").0, 401);

    // The command line, beside the running server.
    let out = haechi(&["risk", "--config", config.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let out = haechi(&[
        "risk",
        "--config",
        config.to_str().unwrap(),
        "--tenant",
        "seoul",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("seoul  index") && text.contains("forecast:"),
        "{text}"
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}

#[test]
fn risk_eval_replays_attack_samples_and_its_model_is_usable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("risk.json");
    let data = sample("");
    // The Windows process-creation rules keep the run short; the samples are the real ones.
    let rules = sample("sigma/rules/windows/process_creation");
    let out = haechi(&[
        "risk",
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--tenants",
        "5",
        "--days",
        "28",
        "--horizon-hours",
        "6",
        "--out-model",
        model.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(v["incidents"].as_u64().unwrap() > 5, "{v}");
    let e = &v["evaluation"];
    assert!(e["test"]["positives"].as_u64().unwrap() > 0, "{e}");
    for side in ["model", "baseline"] {
        let m = &e[side];
        let brier = m["brier"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&brier), "{side}: {m}");
        assert!(m["incidents"].as_u64().unwrap() > 0, "{side}: {m}");
        assert_eq!(
            m["anticipated"].as_u64().unwrap() + m["missed"].as_u64().unwrap(),
            m["incidents"].as_u64().unwrap(),
            "{side}: {m}"
        );
    }
    // Early-stage attack alerts precede the incidents: the model ranks the hours before
    // an incident above the others better than chance.
    assert!(e["model"]["auc"].as_f64().unwrap() > 0.55, "{e}");

    // The written model is the one `haechi risk` uses.
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\n[risk]\nmodel = {}\n",
            toml_path(&dir.path().join("data")),
            toml_path(&model)
        ),
    );
    std::fs::create_dir_all(dir.path().join("data/state")).unwrap();
    let out = haechi(&["risk", "--config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no alerts in the last 28 days"),
        "{}",
        describe(&out)
    );
    std::fs::write(&model, b"{\"kind\": \"something else\"}").unwrap();
    let out = haechi(&["risk", "--config", config.to_str().unwrap()]);
    assert!(!out.status.success(), "a broken model is refused");
}

/// The shipped incident model (`risk`) is what its recipe in `docs/models/risk.md`
/// produces, byte for byte.
#[test]
fn the_default_incident_model_reproduces_from_its_recipe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("risk.json");
    let data = sample("");
    let out = haechi(&[
        "risk",
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--out-model",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let shipped =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/risk.json"))
            .unwrap();
    assert!(
        std::fs::read(&model).unwrap() == shipped,
        "retraining gives another model: run scripts/train-default-models"
    );
}
