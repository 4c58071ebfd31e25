//! Cloud audit logs as a user feeds them: `haechi ingest --format auto` on the real
//! CloudTrail detonations of Stratus Red Team (JSON arrays spanning many lines), the OTRF
//! CloudTrail export (JSON lines from Logstash) and the Falco Kubernetes audit traces;
//! `POST /api/ingest?format=auto` with a CloudTrail delivery object on one line. Every
//! expected number is read from the sample files here with serde_json, never copied from
//! Haechi's output.

mod common;

use common::*;
use serde_json::Value;
use std::path::PathBuf;

fn files_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(sample(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// The records of a Stratus file (a JSON array).
fn stratus_records(path: &std::path::Path) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn ingest_json(data: &std::path::Path, files: &[PathBuf]) -> Value {
    let mut args = vec!["ingest", "--tenant", "seoul", "--json"];
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    serde_json::from_str(&cli(data, &args, "")).expect("the ingest summary as JSON")
}

#[test]
fn auto_recognises_cloudtrail_files_and_lines_and_kubernetes_audit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stratus = files_in("cloud/stratus_red_team", "json");
    assert_eq!(stratus.len(), 35);
    let expected_stratus: usize = stratus.iter().map(|p| stratus_records(p).len()).sum();
    let otrf =
        sample("cloud/otrf_security_datasets/aws/ec2_proxy_s3_exfiltration_2020-09-14011940.json");
    let otrf_lines = std::fs::read_to_string(&otrf)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let falco = files_in("cloud/falco_k8s_audit", "json");
    let falco_events = falco
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .filter(|v| v.get("auditID").is_some())
        .count();

    let mut all = stratus.clone();
    all.push(otrf.clone());
    all.extend(falco.iter().cloned());
    let summary = ingest_json(&data, &all);
    let by_format = &summary["by_format"];
    assert_eq!(
        by_format["cloudtrail"].as_u64(),
        Some((expected_stratus + otrf_lines) as u64),
        "{summary}"
    );
    assert_eq!(
        by_format["k8s_audit"].as_u64(),
        Some(falco_events as u64),
        "{summary}"
    );
    assert_eq!(summary["dead_letter"], 0, "{summary}");

    // Field values, as the rules and the console read them.
    let stop = search_events(&data, &[], "eventName:StopLogging");
    assert_eq!(stop.len(), 1, "{stop:#?}");
    assert_eq!(
        field(&stop[0], "event.provider"),
        Some("cloudtrail.amazonaws.com")
    );
    assert_eq!(field(&stop[0], "cloud.provider"), Some("aws"));
    assert_eq!(field(&stop[0], "event.dataset"), Some("aws.cloudtrail"));
    let source_record = stratus_records(&sample(
        "cloud/stratus_red_team/aws.defense-evasion.cloudtrail-stop.json",
    ))
    .into_iter()
    .find(|r| r["eventName"] == "StopLogging")
    .unwrap();
    assert_eq!(
        field(&stop[0], "cloud.account.id"),
        source_record["recipientAccountId"].as_str()
    );
    assert_eq!(
        field(&stop[0], "requestParameters.name"),
        source_record["requestParameters"]["name"].as_str()
    );
    // The Logstash export has no eventTime: its @timestamp is the time.
    let otrf_first: Value = serde_json::from_str(
        std::fs::read_to_string(&otrf)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let hit = search_events(
        &data,
        &[],
        &format!("eventID:{}", otrf_first["eventID"].as_str().unwrap()),
    );
    assert_eq!(hit.len(), 1);
    assert_eq!(
        hit[0]["@timestamp"].as_str().map(|t| &t[..19]),
        otrf_first["@timestamp"].as_str().map(|t| &t[..19])
    );
    assert_eq!(field(&hit[0], "source.ip"), Some("1.2.3.4"));

    let mount = search_events(&data, &[], "hostPath:\"/etc\"");
    assert!(
        !mount.is_empty(),
        "the derived hostPath of the sensitive mount"
    );
    assert!(mount.iter().all(|e| field(e, "verb") == Some("create")));
    assert_eq!(field(&mount[0], "orchestrator.resource.type"), Some("pods"));
}

#[test]
fn the_deliberately_malformed_audit_record_is_a_dead_letter_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let summary = {
        let f = sample("cloud/falco_k8s_audit/fal_01_003.json");
        let out = cli(
            &data,
            &[
                "ingest",
                "--tenant",
                "seoul",
                "--format",
                "k8s_audit",
                "--json",
                f.to_str().unwrap(),
            ],
            "",
        );
        serde_json::from_str::<Value>(&out).unwrap()
    };
    assert_eq!(summary["dead_letter"], 1, "{summary}");
    let letters = cli(&data, &["deadletter", "--json"], "");
    assert!(letters.contains("auditID"), "{letters}");
}

#[test]
fn a_delivery_object_posted_on_one_line_is_unpacked() {
    let dir = tempfile::tempdir().unwrap();
    let token = "cloud-ingest-token-0123456789";
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{token}\" }}]\n[pipeline]\ncommit_interval_ms = 100\n",
            toml_path(&dir.path().join("data"))
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let records = stratus_records(&sample(
        "cloud/stratus_red_team/aws.persistence.iam-create-admin-user.json",
    ));
    let body = serde_json::json!({ "Records": records }).to_string();
    assert!(!body.contains('\n'));
    let auth = format!("Bearer {token}");
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul&format=auto",
        &[("Authorization", &auth)],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["events"], records.len() as u64, "{}", r.text());
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
}
