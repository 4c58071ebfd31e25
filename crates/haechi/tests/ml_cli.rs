//! `haechi train domains`, `haechi eval`, `haechi predict` from a shell, on a slice of the
//! real DGA/legit data set.

mod common;

use common::*;
use serde_json::Value;

const TOKEN: &str = "ml-admin-token-0123456789";

/// The first 12,000 rows of the real DGA/legit set, as a CSV file in `dir`.
fn domain_slice(dir: &std::path::Path) -> std::path::PathBuf {
    let full = std::fs::read_to_string(sample("domains/dga_dev_balanced.csv")).expect("the data");
    let slice: Vec<&str> = full.lines().take(12_001).collect();
    write_file(dir, "slice.csv", &(slice.join("\n") + "\n"))
}

/// `haechi train KIND --data DATA --out DIR/KIND.model [extra]`, asserted to succeed.
fn train(
    dir: &std::path::Path,
    kind: &str,
    data: &std::path::Path,
    extra: &[&str],
) -> (std::path::PathBuf, std::process::Output) {
    let model = dir.join(format!("{kind}.model"));
    let mut args = vec![
        "train",
        kind,
        "--data",
        data.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = haechi(&args);
    assert!(out.status.success(), "{}", describe(&out));
    (model, out)
}

/// A server in `dir` with no listeners, the admin token and this `[ml]` section.
fn serve_with_ml(dir: &std::path::Path, ml: &str) -> Server {
    let config = write_file(
        dir,
        "haechi.toml",
        &format!(
            "data_dir = {data}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{TOKEN}\" }}]\n[ml]\n{ml}\n",
            data = toml_path(&dir.join("data")),
        ),
    );
    Server::start(&config, &dir.join("serve.stderr"))
}

/// The alerts of origin `model`.
fn model_alerts(server: &Server) -> Vec<Value> {
    let auth = format!("Bearer {TOKEN}");
    let r = server.request(
        "GET",
        "/api/alerts?source=model",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["alerts"].as_array().cloned().unwrap_or_default()
}

#[test]
fn train_eval_predict_the_domain_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = domain_slice(dir.path());
    let (model, out) = train(dir.path(), "domains", &data, &["--json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let acc = summary["metrics"]["accuracy"].as_f64().expect("accuracy");
    let base = summary["baseline"]["macro_f1"].as_f64().expect("baseline");
    assert!(acc > 0.93, "held-out accuracy on 12k names: {summary}");
    assert!(
        summary["metrics"]["macro_f1"].as_f64().unwrap() > base + 0.15,
        "the model beats the entropy baseline: {summary}"
    );

    let out = haechi(&[
        "eval",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let m: Value = serde_json::from_slice(&out.stdout).expect("JSON metrics");
    for key in ["accuracy", "macro_f1", "per_class", "auc", "confusion"] {
        assert!(m.get(key).is_some(), "eval --json has {key}: {m}");
    }

    let names = write_file(
        dir.path(),
        "names.txt",
        "google.com\nxjwqkzrvbtyphqlm.net\n",
    );
    let out = haechi(&[
        "predict",
        model.to_str().unwrap(),
        "--data",
        names.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rows[0]["class"], "legit", "{rows:?}");
    assert_eq!(rows[1]["class"], "malicious", "{rows:?}");
    assert!(
        rows[1]["features"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );

    let out = haechi(&[
        "eval",
        data.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "a CSV is not a model file");
    let out = haechi(&[
        "train",
        "flows",
        "--data",
        data.to_str().unwrap(),
        "--out",
        "x",
    ]);
    assert!(!out.status.success(), "a domain CSV is no flow data");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("slice.csv"),
        "the error names the file: {}",
        describe(&out)
    );
}

#[test]
fn a_host_name_list_trains_the_domain_model_on_phishing_hosts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = domain_slice(dir.path());
    let full = std::fs::read_to_string(sample("domains/phishing_hostnames_openphish.txt"))
        .expect("the phishing host names");
    let hosts: Vec<&str> = full.lines().take(6_000).collect();
    // Not a `domain,label` header: a list of malicious host names, comments allowed.
    let list = write_file(
        dir.path(),
        "phish.txt",
        &format!("# OpenPhish host names\n{}\n", hosts.join("\n")),
    );
    let model = dir.path().join("domains.model");
    let out = haechi(&[
        "train",
        "domains",
        "--data",
        data.to_str().unwrap(),
        "--data",
        list.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("per family"), "{text}");
    assert!(text.contains("phishing"), "{text}");

    let out = haechi(&[
        "eval",
        model.to_str().unwrap(),
        "--data",
        list.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let m: Value = serde_json::from_slice(&out.stdout).expect("JSON metrics");
    let families = m["per_family"].as_array().expect("per_family");
    assert_eq!(families.len(), 1, "{m}");
    assert_eq!(families[0]["family"], "phishing");
    assert_eq!(families[0]["malicious"], true);
    // Mostly names it was trained on: a smoke test, not a measurement.
    let n = families[0]["n"].as_f64().unwrap();
    assert!(n > 5_000.0, "{m}");
    assert!(families[0]["flagged"].as_f64().unwrap() / n > 0.8, "{m}");

    let names = write_file(
        dir.path(),
        "names.txt",
        "wikipedia.org\nsecure-paypal-login-verify.weebly.com\n",
    );
    let out = haechi(&[
        "predict",
        model.to_str().unwrap(),
        "--data",
        names.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rows[0]["class"], "legit", "{rows:?}");
    assert_eq!(rows[1]["class"], "malicious", "{rows:?}");

    let bad = write_file(dir.path(), "bad.txt", "ok.example.com\nnot a host\n");
    let out = haechi(&[
        "train",
        "domains",
        "--data",
        bad.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.txt") && err.contains("row 2"), "{err}");
}

/// The first `rows` records of the real UNSW-NB15 half, as a CSV file in `dir`.
fn unsw_slice(dir: &std::path::Path, rows: usize) -> std::path::PathBuf {
    let full = std::fs::read_to_string(sample("ids/unsw_nb15_part_a.csv")).expect("the data");
    let slice: Vec<&str> = full.lines().take(rows + 1).collect();
    write_file(dir, "unsw.csv", &(slice.join("\n") + "\n"))
}

#[test]
fn train_eval_predict_the_flow_models() {
    let dir = tempfile::tempdir().expect("temp dir");
    let nsl = sample("ids/nsl_kdd_KDDTrain+_20Percent.txt");
    let (model, out) = train(dir.path(), "flows", &nsl, &["--json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let acc = summary["metrics"]["accuracy"].as_f64().expect("accuracy");
    assert!(acc > 0.99, "NSL-KDD held-out accuracy: {summary}");
    assert!(
        acc > summary["baseline"]["accuracy"].as_f64().unwrap() + 0.05,
        "the trees beat one decision stump: {summary}"
    );

    // A default model by name, on data in the published UNSW-NB15 layout.
    let unsw = unsw_slice(dir.path(), 3_000);
    let out = haechi(&["eval", "unsw", "--data", unsw.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let m: Value = serde_json::from_slice(&out.stdout).expect("JSON metrics");
    for key in ["accuracy", "macro_f1", "per_class", "auc"] {
        assert!(m.get(key).is_some(), "eval --json has {key}: {m}");
    }
    let out = haechi(&[
        "eval",
        model.to_str().unwrap(),
        "--data",
        unsw.to_str().unwrap(),
    ]);
    assert!(
        !out.status.success(),
        "an NSL-KDD model cannot read UNSW-NB15 records"
    );

    let out = haechi(&[
        "predict",
        "unsw-multiclass",
        "--data",
        unsw.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rows.len(), 3_000);
    let families = [
        "Normal",
        "Generic",
        "Exploits",
        "Fuzzers",
        "DoS",
        "Reconnaissance",
        "Analysis",
        "Backdoor",
        "Shellcode",
        "Worms",
    ];
    assert!(
        rows.iter()
            .all(|r| families.contains(&r["class"].as_str().unwrap_or(""))),
        "every record gets an attack family"
    );
    assert!(
        rows[0]["features"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );

    let out = haechi(&[
        "train",
        "flows",
        "--features",
        "live",
        "--data",
        nsl.to_str().unwrap(),
        "--out",
        "x",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs UNSW-NB15 data"),
        "{}",
        describe(&out)
    );
}

#[test]
fn ingest_scores_zeek_conn_records_with_the_flow_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = |model: &str| {
        write_file(
            dir.path(),
            "haechi.toml",
            &format!(
                "data_dir = {}\n[ml]\nflows_model = \"{model}\"\nflows_threshold = 0.9\n",
                toml_path(&dir.path().join("data"))
            ),
        )
    };
    let conn = sample("logs/zeek/soc-zeek-lab/conn.log");
    let cfg = config("flows");
    let out = haechi(&[
        "ingest",
        "--config",
        cfg.to_str().unwrap(),
        conn.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let out = haechi(&[
        "alerts",
        "--config",
        cfg.to_str().unwrap(),
        "--source",
        "model",
        "--limit",
        "10000",
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let alerts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(!alerts.is_empty(), "some home-lab flows score as attacks");
    let flows: u64 = alerts.iter().map(|a| a["count"].as_u64().unwrap()).sum();
    assert!(
        flows < 809,
        "not every one of the 809 flows alerts: {flows}"
    );
    for a in &alerts {
        assert_eq!(a["rule_id"], "model:flows");
        assert!(
            a["entity"].as_str().unwrap().starts_with("source.ip="),
            "{a}"
        );
        assert!(a["details"]["probability"].as_f64().unwrap() >= 0.9, "{a}");
        assert!(
            a["details"]["flow"]
                .as_str()
                .is_some_and(|f| f.contains("packets")),
            "{a}"
        );
        assert!(
            a["details"]["features"]
                .as_array()
                .is_some_and(|f| !f.is_empty()),
            "{a}"
        );
    }

    // A model of the data-set schema cannot read live events: refused, with the reason.
    let cfg = config("unsw");
    let out = haechi(&[
        "ingest",
        "--config",
        cfg.to_str().unwrap(),
        conn.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--features live"),
        "{}",
        describe(&out)
    );
}

#[test]
fn serve_raises_an_alert_for_a_dga_name_in_dns_traffic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = domain_slice(dir.path());
    let (model, _) = train(dir.path(), "domains", &data, &[]);
    let server = serve_with_ml(
        dir.path(),
        &format!(
            "domains_model = {}\ndomains_threshold = 0.9",
            toml_path(&model)
        ),
    );
    let auth = format!("Bearer {TOKEN}");
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul&format=json",
        &[("Authorization", &auth)],
        format!(
            "{}\n{}",
            format_args!(r#"{{"@timestamp":"{}","host.name":"ws-1","dns.question.name":"www.wikipedia.org"}}"#, iso_time(0)),
            format_args!(r#"{{"@timestamp":"{}","host.name":"ws-2","dns.question.name":"xjwqkzrvbtyphqlmzd.net"}}"#, iso_time(1)),
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let alerts = model_alerts(&server);
    assert_eq!(alerts.len(), 1, "only the generated name: {alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["rule_id"], "model:domains");
    assert_eq!(a["entity"], "dns.question.name=xjwqkzrvbtyphqlmzd.net");
    assert!(
        a["details"]["probability"]
            .as_f64()
            .is_some_and(|p| p >= 0.9),
        "{a:#}"
    );
    assert!(
        a["details"]["features"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "the features that drove the score travel with the alert: {a:#}"
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}

#[test]
fn train_eval_predict_the_web_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = sample("web_attacks/httpparams_payload_train.csv");
    let (model, out) = train(dir.path(), "web", &data, &["--json"]);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let f1 = summary["metrics"]["macro_f1"].as_f64().expect("macro_f1");
    let base = summary["baseline"]["macro_f1"].as_f64().expect("baseline");
    assert!(f1 > 0.99 && f1 > base, "held out: {summary}");
    let out = haechi(&[
        "eval",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let m: Value = serde_json::from_slice(&out.stdout).expect("JSON metrics");
    assert_eq!(m["per_class"][1]["class"], "attack", "{m}");
    let payloads = write_file(
        dir.path(),
        "payloads.txt",
        "Gangnam-gu 123\n' or 1=1 union select password from users--\n<script>alert(1)</script>\n",
    );
    let out = haechi(&[
        "predict",
        model.to_str().unwrap(),
        "--data",
        payloads.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let classes: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON")["class"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(classes, ["normal", "attack", "attack"]);
}

#[test]
fn serve_raises_an_alert_for_an_injection_in_a_query_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = sample("web_attacks/httpparams_payload_train.csv");
    let (model, _) = train(dir.path(), "web", &data, &[]);
    let server = serve_with_ml(dir.path(), &format!("web_model = {}", toml_path(&model)));
    let auth = format!("Bearer {TOKEN}");
    let lines = [
        format!(
            r#"203.0.113.9 - - [{}] "GET /shop/item?id=42&page=2 HTTP/1.1" 200 512 "-" "Mozilla/5.0""#,
            clf_time(0)
        ),
        format!(
            r#"203.0.113.66 - - [{}] "GET /shop/item?page=2&id=1%27%20union%20select%20password%20from%20users-- HTTP/1.1" 500 87 "-" "sqlmap/1.8""#,
            clf_time(1)
        ),
    ];
    let r = server.request(
        "POST",
        "/api/ingest?tenant=busan&format=clf",
        &[("Authorization", &auth)],
        lines.join("\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let alerts = model_alerts(&server);
    assert_eq!(alerts.len(), 1, "only the injection: {alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["rule_id"], "model:web");
    assert_eq!(a["entity"], "source.ip=203.0.113.66");
    assert!(
        a["details"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("union")),
        "the worst value is named: {a:#}"
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}
