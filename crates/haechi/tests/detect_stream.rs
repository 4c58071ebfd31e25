//! Streaming detection end to end, as an operator runs it: `haechi serve` with a real
//! SigmaHQ rule, access-log lines over HTTP for two institutions, alerts merged with a
//! count, an exception for one institution's scanner, tenant isolation on the alert API,
//! alert references that `haechi search` resolves, `haechi alerts` beside the running
//! server, and rules reloaded by API and by SIGHUP without a restart. Then `haechi
//! ingest --rules` on a real EVTX sample.

mod common;

use common::*;
use serde_json::Value;

const ADMIN_TOKEN: &str = "detect-admin-token-0123456789";
const BUSAN_TOKEN: &str = "detect-busan-token-0123456789";
const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
const PATH_TRAVERSAL_ID: &str = "7745c2ea-24a5-4290-b680-04359cb84b35";

fn access_line(ip: &str, second: u32, path: &str) -> String {
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 404 512 \"-\" \"curl/8.5.0\"",
        clf_time(second.into())
    )
}

fn ingest(server: &Server, token: &str, tenant: &str, lines: &[String]) {
    let auth = format!("Bearer {token}");
    let r = server.request(
        "POST",
        &format!("/api/ingest?tenant={tenant}&format=clf"),
        &[("Authorization", &auth)],
        lines.join("\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "ingest: {}", r.text());
    assert_eq!(r.json()["events"], lines.len() as u64, "{}", r.text());
}

fn alerts(server: &Server, token: &str, query: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let r = server.request(
        "GET",
        &format!("/api/alerts{query}"),
        &[("Authorization", &auth)],
        b"",
    );
    (r.status, r.json())
}

fn alert_list(v: &Value) -> Vec<Value> {
    v["alerts"].as_array().cloned().unwrap_or_default()
}

fn custom_rule(id: &str, needle: &str) -> String {
    format!(
        "title: Probe for {needle}\nid: {id}\nstatus: experimental\nauthor: Haechi tests\nlogsource:\n  category: webserver\ndetection:\n  selection:\n    cs-uri-query|contains: '{needle}'\n  condition: selection\nlevel: high\n"
    )
}

#[test]
fn serve_raises_merged_isolated_alerts_and_reloads_rules_without_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("path_traversal.yml"))
        .expect("copy the SigmaHQ rule");
    let data = dir.path().join("data");
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
merge_window_secs = 600
[[detect.exceptions]]
tenant = "busan"
query = "source.ip:10.9.9.9"
reason = "the institution's own vulnerability scanner"
"#,
            data = toml_path(&data),
            rules = toml_path(&rules),
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));

    // Three probes from one address within a minute: one alert with a count of three.
    let attack: Vec<String> = (0..3)
        .map(|i| access_line("203.0.113.5", i, "/download?file=../../../etc/passwd"))
        .collect();
    ingest(&server, ADMIN_TOKEN, "seoul", &attack);
    // Busan: its scanner is excepted, a stranger is not; a harmless request raises nothing.
    ingest(
        &server,
        BUSAN_TOKEN,
        "busan",
        &[
            access_line("10.9.9.9", 10, "/x?f=../../../etc/shadow"),
            access_line("198.51.100.77", 11, "/y?f=../../../etc/hosts"),
            access_line("198.51.100.78", 12, "/index.html"),
        ],
    );

    let (status, all) = alerts(&server, ADMIN_TOKEN, "");
    assert_eq!(status, 200, "{all}");
    let all = alert_list(&all);
    assert_eq!(
        all.len(),
        2,
        "one merged alert per tenant and entity: {all:#?}"
    );
    let seoul = all
        .iter()
        .find(|a| a["tenant"] == "seoul")
        .expect("seoul's alert");
    assert_eq!(seoul["count"], 3, "{seoul:#}");
    assert_eq!(seoul["rule_id"], PATH_TRAVERSAL_ID);
    assert_eq!(seoul["rule_title"], "Path Traversal Exploitation Attempts");
    assert_eq!(seoul["level"], "medium");
    assert_eq!(seoul["entity"], "source.ip=203.0.113.5");
    assert!(
        seoul["author"]
            .as_str()
            .is_some_and(|a| a.contains("Florian Roth")),
        "DRL 1.1 attribution travels with the alert: {seoul:#}"
    );
    assert!(
        seoul["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "attack.t1190")),
        "{seoul:#}"
    );
    assert_eq!(seoul["events"].as_array().map(Vec::len), Some(3));
    let busan = all
        .iter()
        .find(|a| a["tenant"] == "busan")
        .expect("busan's alert");
    assert_eq!(
        busan["entity"], "source.ip=198.51.100.77",
        "the excepted scanner raised nothing"
    );

    // Institutions see only their own alerts.
    let (status, mine) = alerts(&server, BUSAN_TOKEN, "");
    assert_eq!(status, 200);
    let mine = alert_list(&mine);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["tenant"], "busan");
    let (status, _) = alerts(&server, BUSAN_TOKEN, "?tenant=seoul");
    assert_eq!(status, 403, "a bound token may not ask for another tenant");
    let auth = format!("Bearer {BUSAN_TOKEN}");
    let r = server.request(
        "GET",
        &format!("/api/alerts/{}", seoul["id"]),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(
        r.status, 404,
        "another tenant's alert does not exist for busan"
    );
    let (status, _) = alerts(&server, "wrong-token-wrong-token", "");
    assert_eq!(status, 401);
    let (status, bad) = alerts(&server, ADMIN_TOKEN, "?min_level=severe");
    assert_eq!(status, 400, "{bad}");

    // The alert's references find its events in the store.
    let event_id = seoul["events"][0]["id"]
        .as_str()
        .expect("event id")
        .to_owned();
    wait_for("the alerted event to be searchable", PATIENCE, || {
        let found = search_events(&data, &[], &format!("event.id:{event_id}"));
        match found.as_slice() {
            [e] if field(e, "source.ip") == Some("203.0.113.5") => Ok(()),
            other => Err(format!("{} events", other.len())),
        }
    });

    // `haechi alerts` reads beside the running server.
    let out = haechi(&[
        "alerts",
        "--data-dir",
        data.to_str().unwrap(),
        "--tenant",
        "seoul",
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["rule_id"], PATH_TRAVERSAL_ID);

    // A new rule file, reloaded by the API: detection continues with it.
    std::fs::write(
        rules.join("probe_a.yml"),
        custom_rule("00000000-0000-4000-8000-00000000000a", "/wp-login.php"),
    )
    .unwrap();
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let r = server.request(
        "POST",
        "/api/rules/reload",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rules"], 2, "{}", r.text());
    let busan_auth = format!("Bearer {BUSAN_TOKEN}");
    let r = server.request(
        "POST",
        "/api/rules/reload",
        &[("Authorization", &busan_auth)],
        b"",
    );
    assert_eq!(r.status, 403, "rules are center-wide");
    ingest(
        &server,
        ADMIN_TOKEN,
        "seoul",
        &[access_line("192.0.2.1", 20, "/wp-login.php")],
    );
    let (_, v) = alerts(
        &server,
        ADMIN_TOKEN,
        "?rule_id=00000000-0000-4000-8000-00000000000a",
    );
    assert_eq!(alert_list(&v).len(), 1, "{v}");

    // Another new rule, reloaded by SIGHUP.
    std::fs::write(
        rules.join("probe_b.yml"),
        custom_rule("00000000-0000-4000-8000-00000000000b", "/phpmyadmin/"),
    )
    .unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    wait_for("the SIGHUP reload", PATIENCE, || {
        if server.stderr().contains("rules reloaded") {
            Ok(())
        } else {
            Err("no `rules reloaded` in the log yet".into())
        }
    });
    ingest(
        &server,
        ADMIN_TOKEN,
        "seoul",
        &[access_line("192.0.2.2", 30, "/phpmyadmin/index.php")],
    );
    let (_, v) = alerts(
        &server,
        ADMIN_TOKEN,
        "?rule_id=00000000-0000-4000-8000-00000000000b",
    );
    assert_eq!(alert_list(&v).len(), 1, "{v}");

    let m = server.metrics(ADMIN_TOKEN);
    assert_eq!(
        metric(&m, "haechi_alerts_raised_total", &[("source", "sigma")]),
        6.0,
        "3 + 1 path traversal, 1 + 1 probes (before merging): {m}"
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}

#[test]
fn ingest_with_rules_stores_alerts_that_reference_the_evtx_records() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let samples = evtx_files(&sample(
        "sigma_regression/regression_data/rules/windows/process_creation",
    ));
    assert!(samples.len() >= 20, "{} samples", samples.len());
    let rule_dir = sample("sigma/rules/windows/process_creation");
    let mut args = vec![
        "ingest".to_owned(),
        "--data-dir".to_owned(),
        data.display().to_string(),
        "--tenant".to_owned(),
        "city".to_owned(),
        "--rules".to_owned(),
        rule_dir.display().to_string(),
        "--json".to_owned(),
    ];
    args.extend(samples.iter().map(|p| p.display().to_string()));
    let out = haechi(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", describe(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let new = summary["alerts"]["new"].as_u64().expect("alerts.new");
    assert!(
        new >= 20,
        "process_creation rules fire on their samples: {summary}"
    );
    let out = haechi(&[
        "alerts",
        "--data-dir",
        data.to_str().unwrap(),
        "--json",
        "--limit",
        "1000",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let alerts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(alerts.len() as u64, new);
    assert!(alerts.iter().all(|a| a["tenant"] == "city"));
    assert!(
        alerts.iter().all(|a| a["entity"]
            .as_str()
            .is_some_and(|e| e.starts_with("host.name="))),
        "Windows alerts are about the computer"
    );
    let a = &alerts[0];
    let id = a["events"][0]["id"].as_str().expect("reference");
    let found = search_events(&data, &[], &format!("event.id:{id}"));
    assert_eq!(
        found.len(),
        1,
        "the referenced EVTX record is stored under its event.id"
    );
    assert!(field(&found[0], "event.code").is_some());
}

/// The `.evtx` files under a directory, recursively.
fn evtx_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read the sample directory") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "evtx") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The first C2 address of the real Feodo Tracker export, and its malware family.
fn feodo_c2() -> (String, String) {
    let text = std::fs::read_to_string(sample(
        "threat_intel/abuse_ch/feodotracker_ipblocklist_2024-04-04.csv",
    ))
    .expect("the Feodo Tracker sample");
    let row = text
        .lines()
        .find(|l| !l.starts_with('#') && !l.contains("first_seen_utc") && !l.trim().is_empty())
        .expect("a data row");
    let cells: Vec<String> = row
        .split(',')
        .map(|c| c.trim_matches('"').to_owned())
        .collect();
    (cells[1].clone(), cells[5].clone())
}

#[test]
fn serve_matches_indicator_feeds_on_every_event_and_reloads_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let list = write_file(
        dir.path(),
        "partner.txt",
        "# partner list\n203.0.113.50\nevil.example\n",
    );
    let feodo = sample("threat_intel/abuse_ch/feodotracker_ipblocklist_2024-04-04.csv");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            r#"data_dir = {data}
listeners = []
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}]
[[intel.feeds]]
name = "partner"
path = {list}
format = "plain"
confidence = 85
description = "C2 of campaign Nightjar"
[[intel.feeds]]
name = "feodotracker"
path = {feodo}
format = "csv"
header = true
value_column = "dst_ip"
description_column = "malware"
confidence = 60
"#,
            data = toml_path(&data),
            list = toml_path(&list),
            feodo = toml_path(&feodo),
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let (c2, family) = feodo_c2();
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let send = |lines: &[String]| {
        let r = server.request(
            "POST",
            "/api/ingest?tenant=seoul&format=json",
            &[("Authorization", &auth)],
            lines.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    };
    send(&[
        format!(
            r#"{{"@timestamp":"{}","host.name":"ws-7","source.ip":"10.1.1.7","destination.ip":"{c2}","destination.port":443}}"#,
            iso_time(0)
        ),
        format!(
            r#"{{"@timestamp":"{}","host.name":"ws-8","dns.question.name":"cdn.EVIL.example"}}"#,
            iso_time(1)
        ),
        format!(
            r#"{{"@timestamp":"{}","host.name":"ws-9","dns.question.name":"notevil.example","destination.ip":"192.0.2.200"}}"#,
            iso_time(2)
        ),
    ]);
    let (status, v) = alerts(&server, ADMIN_TOKEN, "?source=indicator");
    assert_eq!(status, 200, "{v}");
    let found = alert_list(&v);
    assert_eq!(
        found.len(),
        2,
        "one alert per listed observable, none for the rest: {found:#?}"
    );
    let by_feed = |feed: &str| {
        found
            .iter()
            .find(|a| a["details"]["feed"] == feed)
            .unwrap_or_else(|| panic!("an alert from {feed}: {found:#?}"))
            .clone()
    };
    let feodo_alert = by_feed("feodotracker");
    assert_eq!(feodo_alert["details"]["indicator"], c2.as_str());
    assert_eq!(feodo_alert["details"]["field"], "destination.ip");
    assert_eq!(feodo_alert["details"]["description"], family.as_str());
    assert_eq!(feodo_alert["details"]["confidence"], 60);
    assert_eq!(feodo_alert["level"], "medium");
    assert_eq!(feodo_alert["entity"], "host.name=ws-7");
    let partner = by_feed("partner");
    assert_eq!(
        partner["details"]["indicator"], "evil.example",
        "the subdomain matched its listed parent"
    );
    assert_eq!(
        partner["details"]["matched"], "cdn.EVIL.example",
        "the value as the event has it"
    );
    assert_eq!(partner["details"]["description"], "C2 of campaign Nightjar");
    assert_eq!(partner["level"], "high", "confidence 85");
    assert_eq!(partner["rule_id"], "indicator:domain:evil.example");

    // The partner adds an address; a reload picks it up without a restart.
    std::fs::write(
        &list,
        "# partner list\n203.0.113.50\nevil.example\n198.51.100.99\n",
    )
    .unwrap();
    let r = server.request(
        "POST",
        "/api/rules/reload",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json()["indicators"].as_u64().is_some_and(|n| n >= 3),
        "{}",
        r.text()
    );
    send(&[format!(
        r#"{{"@timestamp":"{}","host.name":"ws-7","source.ip":"198.51.100.99"}}"#,
        iso_time(300)
    )]);
    let (_, v) = alerts(&server, ADMIN_TOKEN, "?rule_id=indicator:ip:198.51.100.99");
    assert_eq!(alert_list(&v).len(), 1, "{v}");

    // A broken feed on reload: refused with the reason, the running set stays.
    std::fs::remove_file(&list).unwrap();
    let r = server.request(
        "POST",
        "/api/rules/reload",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("partner"), "{}", r.text());
    send(&[format!(
        r#"{{"@timestamp":"{}","host.name":"ws-3","source.ip":"203.0.113.50"}}"#,
        iso_time(360)
    )]);
    let (_, v) = alerts(&server, ADMIN_TOKEN, "?rule_id=indicator:ip:203.0.113.50");
    assert_eq!(
        alert_list(&v).len(),
        1,
        "the previous set still matches: {v}"
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");

    // `haechi intel lookup` answers from the same configuration.
    std::fs::write(&list, "203.0.113.50\n").unwrap();
    let out = haechi(&[
        "intel",
        "lookup",
        "--config",
        config.to_str().unwrap(),
        "203.0.113.50",
        &c2,
        "8.8.8.8",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("203.0.113.50: listed as ip 203.0.113.50 by partner"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{c2}: listed as ip {c2} by feodotracker")),
        "{text}"
    );
    assert!(text.contains("8.8.8.8: not listed"), "{text}");
}
