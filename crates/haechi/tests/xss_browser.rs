//! Markup in every field an attacker controls — the request path and user agent of a web
//! log line, a JSON event's message and host name, a Sigma rule's title, a shared
//! indicator's name — is shown as text by the console (queue, alert, incident and its
//! timeline, search, board) and by the incident's HTML report, in headless Chromium
//! (`tests/browser/xss.test.mjs`). Each payload would set `window.__xss` if it ran.

mod common;

use common::*;
use std::path::PathBuf;

const PASSWORD: &str = "browser xss password 1";

const RULE: &str = "title: '<img src=x onerror=window.__xss=1>Probe'
id: 5f3c9d4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f
status: experimental
author: Haechi tests
logsource:
  category: webserver
detection:
  selection:
    cs-uri-query|contains: 'xssprobe'
  condition: selection
level: high
";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn markup_from_attackers_stays_text_in_the_console_and_the_report() {
    let browser_dir = repo().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run scripts/setup-test-tools"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/setup-test-tools"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("probe.yml"), RULE).unwrap();
    add_user(&data, "duty", "center", None, PASSWORD);
    let token = create_token(&data, "collector", "admin", None);
    // A shared indicator whose name is markup, for an address the events carry.
    cli(&data, &["intel", "collection", "add", "shared"], "");
    let bundle = serde_json::json!({
        "type": "bundle", "id": "bundle--9d0092c5-5f74-4287-9642-33f4c354e56f",
        "objects": [{
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--9c000001-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "name": "<img src=x onerror=window.__xss=5>",
            "description": "<img src=x onerror=window.__xss=5> loader",
            "pattern": "[ipv4-addr:value = '203.0.113.66']", "pattern_type": "stix",
            "valid_from": "2026-11-01T00:00:00Z", "confidence": 80,
        }],
    });
    let file = write_file(dir.path(), "bundle.json", &bundle.to_string());
    cli(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "shared",
            file.to_str().unwrap(),
        ],
        "",
    );
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n[pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n",
            toml_path(&data),
            toml_path(&rules)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let auth = format!("Bearer {token}");
    let web = format!(
        "203.0.113.66 - - [{}] \"GET /x?xssprobe=<script>window.__xss=2</script> HTTP/1.1\" 404 1 \"-\" \"<img src=x onerror=window.__xss=3>\"",
        clf_time(0)
    );
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul&format=clf",
        &[("Authorization", &auth)],
        web.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let json_event = serde_json::json!({
        "@timestamp": iso_time(1),
        "message": "xssprobe <svg onload=window.__xss=4>",
        "host.name": "<b onmouseover=window.__xss=6>ws</b>",
        "source.ip": "203.0.113.66",
    });
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul&format=json",
        &[("Authorization", &auth)],
        json_event.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let shots = browser_dir.join("screenshots");
    let mut child = std::process::Command::new("node")
        .arg("xss.test.mjs")
        .current_dir(&browser_dir)
        .env("BASE", format!("http://{}", server.http))
        .env("USER", "duty")
        .env("PASSWORD", PASSWORD)
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node is installed");
    let status = wait_exit(&mut child, std::time::Duration::from_secs(180));
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "stdout: {}\nstderr: {}\nserver: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.stderr()
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "the browser test failed (or ran past 180 s): {report}"
    );
    assert!(report.contains("all expectations held"), "{report}");
}
