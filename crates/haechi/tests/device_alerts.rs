//! The equipment's own detections reach the alert queue of a running `haechi serve`:
//! Suricata, Zeek, FortiGate and CEF detections sent to `POST /api/ingest` are listed by
//! `GET /api/alerts?source=device` with their level, ATT&CK technique and observer, join
//! incidents like other alerts, can be excepted per signature and device, and a device
//! flooding one institution neither loses a detection nor keeps another institution's
//! alert out of the queue.
//!
//! The Suricata and Zeek records are real (`../shared/data/logs`); the FortiGate and CEF
//! records are the examples of the FortiOS log reference and the ArcSight CEF
//! specification (there are no public samples of good quality).

mod common;

use common::*;
use serde_json::Value;

const TOKEN: &str = "device-alerts-admin-token";

fn ingest(server: &Server, tenant: &str, format: &str, body: &str) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let r = server.request(
        "POST",
        &format!("/api/ingest?tenant={tenant}&format={format}"),
        &[("Authorization", &auth)],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "ingest: {}", r.text());
    r.json()
}

fn get(server: &Server, path: &str) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let r = server.request("GET", path, &[("Authorization", &auth)], b"");
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()
}

fn device_alerts(server: &Server, query: &str) -> Vec<Value> {
    get(
        server,
        &format!("/api/alerts?source=device&limit=1000{query}"),
    )["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn by_rule<'a>(alerts: &'a [Value], rule: &str) -> &'a Value {
    alerts
        .iter()
        .find(|a| a["rule_id"] == rule)
        .unwrap_or_else(|| panic!("an alert of {rule} in {alerts:#?}"))
}

fn config(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    write_file(
        dir,
        "haechi.toml",
        &format!(
            r#"data_dir = {data}
listeners = []
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{TOKEN}" }}]
[pipeline]
commit_interval_ms = 100
{extra}"#,
            data = toml_path(&dir.join("data")),
        ),
    )
}

/// The IcedID DNS alert of the real Suricata sample, restamped to now.
fn suricata_icedid() -> String {
    let text = std::fs::read_to_string(sample("logs/suricata/mssis_eve.json")).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("\"signature_id\":2049067"))
        .expect("the IcedID DNS alert");
    let mut v: Value = serde_json::from_str(line).unwrap();
    v["timestamp"] = iso_time(0).into();
    v["host"] = "ids-seoul-1".into();
    v.to_string()
}

#[test]
fn equipment_detections_are_alerts_with_level_technique_and_observer() {
    let dir = tempfile::tempdir().expect("temp dir");
    // No Sigma rule at all: the equipment's detections need none.
    let server = Server::start(
        &config(
            dir.path(),
            r#"[[detect.device.severity]]
scale = "cef"
severity = "9-10"
level = "high"
[[detect.exceptions]]
tenant = "seoul"
rule = "device:suricata:2049067"
query = "observer.hostname:ids-lab"
reason = "the lab sensor replays malware captures"
"#,
        ),
        &dir.path().join("serve.stderr"),
    );

    ingest(&server, "seoul", "suricata", &suricata_icedid());
    let zeek = std::fs::read_to_string(sample("logs/zeek/brimdata-wrccdc2018/notice.log")).unwrap();
    let zeek_lines: Vec<&str> = zeek.lines().take(12).collect();
    let r = ingest(&server, "busan", "zeek", &zeek_lines.join("\n"));
    assert!(r["events"].as_u64().unwrap() > 0, "{r}");
    ingest(
        &server,
        "busan",
        "kv",
        &format!(
            r#"date={} time={} logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" devname="fgt-busan-1" devid="FGT60E0000000000" srcip=203.0.113.77 dstip=192.0.2.55 proto=6 action="dropped" policyid=1 attack="Adobe.Flash.newfunction.Handling.Code.Execution" attackid=40138 severity="critical" tz="+0000""#,
            &iso_time(0)[..10],
            &iso_time(0)[11..19],
        ),
    );
    ingest(
        &server,
        "seoul",
        "cef",
        "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232",
    );

    let all = device_alerts(&server, "");
    let icedid = by_rule(&all, "device:suricata:2049067");
    assert_eq!(icedid["source"], "device");
    assert_eq!(icedid["tenant"], "seoul");
    assert_eq!(icedid["level"], "high");
    assert_eq!(icedid["tags"], serde_json::json!(["attack.t1071"]));
    assert_eq!(icedid["details"]["observer"]["hostname"], "ids-seoul-1");
    assert_eq!(icedid["details"]["observer"]["product"], "Suricata");
    assert_eq!(icedid["details"]["attacker"], "10.10.31.101");
    assert_eq!(icedid["details"]["victim"], "10.10.31.1");
    let fortigate = by_rule(&all, "device:fortigate:40138");
    assert_eq!(fortigate["tenant"], "busan");
    assert_eq!(fortigate["level"], "critical");
    assert_eq!(fortigate["details"]["observer"]["vendor"], "Fortinet");
    let worm = by_rule(&all, "device:security-threatmanager:100");
    assert_eq!(worm["level"], "high", "the configured row for CEF 9-10");
    let notice = by_rule(&all, "device:zeek:SSL::Invalid_Server_Cert");
    assert_eq!(notice["level"], "low");
    assert_eq!(notice["tenant"], "busan");

    // The high alerts open incidents like any other alert.
    let detail = get(&server, &format!("/api/alerts/{}", icedid["id"]));
    assert!(detail["incident"].as_i64().is_some(), "{detail}");

    // Other origins are not device alerts; the filter is exact.
    let (sigma, _) = (
        get(&server, "/api/alerts?source=sigma")["alerts"].clone(),
        (),
    );
    assert_eq!(sigma.as_array().map(Vec::len), Some(0), "{sigma}");

    // The lab sensor's replays of the same signature are excepted, and counted.
    let mut lab: Value = serde_json::from_str(&suricata_icedid()).unwrap();
    lab["host"] = "ids-lab".into();
    lab["src_ip"] = "10.10.31.102".into();
    ingest(&server, "seoul", "suricata", &lab.to_string());
    let again = device_alerts(&server, "&tenant=seoul&rule_id=device:suricata:2049067");
    assert_eq!(
        again.len(),
        1,
        "the lab's detection raised nothing: {again:#?}"
    );
    assert_eq!(again[0]["count"], 1);
    let metrics = server.metrics(TOKEN);
    assert_eq!(
        metric(&metrics, "haechi_detections_suppressed_total", &[]),
        1.0,
        "{metrics}"
    );

    // The CLI lists them too, with their origin.
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    let out = haechi(&[
        "alerts",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        "--source",
        "device",
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let listed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), all.len(), "{listed:#?}");
    assert!(listed.iter().all(|a| a["source"] == "device"));
}

#[test]
fn a_flooding_device_is_counted_in_full_and_starves_no_other_institution() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(
        sample("sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml"),
        rules.join("path_traversal.yml"),
    )
    .unwrap();
    let server = Server::start(
        &config(
            dir.path(),
            &format!("[detect]\nrules = [{}]\n", toml_path(&rules)),
        ),
        &dir.path().join("serve.stderr"),
    );

    // Busan's IPS reports one signature 100,000 times from 2,000 spoofed sources.
    let template: Value = serde_json::from_str(&suricata_icedid()).unwrap();
    let total = 100_000;
    let per_request = 20_000;
    for chunk in 0..total / per_request {
        let mut body = String::with_capacity(per_request * 700);
        for i in 0..per_request {
            let n = chunk * per_request + i;
            let mut v = template.clone();
            v["host"] = "ips-busan-1".into();
            v["src_ip"] = format!("198.18.{}.{}", (n % 2_000) / 250, n % 250 + 1).into();
            v["flow_id"] = (n as u64).into();
            v["timestamp"] = iso_time((n % 60) as i64).into();
            body.push_str(&v.to_string());
            body.push('\n');
        }
        let r = ingest(&server, "busan", "suricata", &body);
        assert_eq!(r["events"], per_request as u64, "{r}");
    }
    // Seoul's web server is attacked meanwhile.
    let line = format!(
        "203.0.113.5 - - [{}] \"GET /dl?file=../../../etc/passwd HTTP/1.1\" 404 512 \"-\" \"curl/8.5.0\"",
        clf_time(0)
    );
    ingest(&server, "seoul", "clf", &line);

    let seoul = get(&server, "/api/alerts?tenant=seoul")["alerts"].clone();
    assert_eq!(seoul.as_array().unwrap().len(), 1, "{seoul}");
    let flood = device_alerts(&server, "&tenant=busan");
    let counted: u64 = flood.iter().map(|a| a["count"].as_u64().unwrap()).sum();
    assert_eq!(
        counted, total as u64,
        "every detection is in some alert's count"
    );
    let storms: Vec<&Value> = flood
        .iter()
        .filter(|a| a["details"]["storm"] == true)
        .collect();
    assert!(!storms.is_empty(), "the ceiling folded the rest");
    assert!(
        flood.len() <= 2 * 100 + storms.len(),
        "the queue holds the ceiling's alerts (one minute, or two when the flood crosses a minute), not 2,000: {}",
        flood.len()
    );
    assert!(storms.iter().all(|a| a["entity"] == "observer=ips-busan-1"));
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}

/// A ModSecurity (OWASP Core Rule Set) audit record, as libmodsecurity 3 writes it with
/// `SecAuditLogFormat JSON`, stamped now.
fn modsecurity_sqli() -> String {
    let stamp = test_epoch().format("%a %b %d %H:%M:%S %Y").to_string();
    format!(
        r#"{{"transaction":{{"client_ip":"203.0.113.7","time_stamp":"{stamp}","server_id":"6b0a","client_port":51234,"host_ip":"10.0.0.5","host_port":443,"unique_id":"166980296768.012345","request":{{"method":"GET","http_version":1.1,"uri":"/board/view.php?id=1%27%20OR%201=1--","headers":{{"Host":"www.seoul.go.kr","User-Agent":"sqlmap/1.7"}}}},"response":{{"http_code":403,"headers":{{}}}},"producer":{{"modsecurity":"ModSecurity v3.0.8 (Linux)","connector":"ModSecurity-nginx v1.0.3","secrules_engine":"Enabled","components":["OWASP_CRS/3.3.4"]}},"messages":[{{"message":"SQL Injection Attack Detected via libinjection","details":{{"ruleId":"942100","data":"Matched Data: s&1c found within ARGS:id: 1' OR 1=1--","severity":"2","ver":"OWASP_CRS/3.3.4","tags":["application-multi","attack-sqli","OWASP_CRS"]}}}},{{"message":"Inbound Anomaly Score Exceeded (Total Score: 5)","details":{{"ruleId":"949110","data":"","severity":"2","ver":"OWASP_CRS/3.3.4","tags":["attack-generic"]}}}}]}}}}"#
    )
}

#[test]
fn waf_detections_are_alerts_with_the_core_rule_sets_technique() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(&config(dir.path(), ""), &dir.path().join("serve.stderr"));
    let r = ingest(&server, "seoul", "auto", &modsecurity_sqli());
    assert_eq!(r["events"], 1, "{r}");
    let all = device_alerts(&server, "");
    let sqli = by_rule(&all, "device:modsecurity:942100");
    assert_eq!(sqli["level"], "high");
    assert_eq!(sqli["tags"], serde_json::json!(["attack.t1190"]));
    assert_eq!(sqli["details"]["observer"]["product"], "ModSecurity");
    assert_eq!(sqli["details"]["attacker"], "203.0.113.7");
    assert_eq!(sqli["details"]["victim"], "10.0.0.5");
    // The anomaly-score verdict only sums the others up: no alert of its own.
    assert_eq!(all.len(), 1, "{all:#?}");
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}
