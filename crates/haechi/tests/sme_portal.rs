//! The SME self-assessment portal as a small company meets it, over HTTP without an
//! account: the questionnaire page, an assessment with a real composer.lock whose KEV
//! finding heads the report and caps the patching score, nothing kept unless the company
//! opts in (then its inventory is an `sme` institution's, audited), bad submissions
//! refused with the reason, and the per-address hourly limit. The page in a real browser
//! (filled in, uploaded, report printed to PDF) is `sme_portal_in_a_browser`.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const ADMIN: &str = "admin-token-for-the-sme-portal-test";

fn start(dir: &Path, per_hour: u32) -> (Server, PathBuf) {
    let data = dir.join("data");
    let vulns = sample("vulns");
    let import = haechi(&[
        "vuln",
        "db",
        "import",
        "--data-dir",
        data.to_str().unwrap(),
        vulns
            .join("friendsofphp_security_advisories")
            .to_str()
            .unwrap(),
        vulns.join("cisa_kev").to_str().unwrap(),
    ]);
    assert!(import.status.success(), "{}", describe(&import));
    let config = write_file(
        dir,
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{ADMIN}\" }}]\n\
             [sme]\nenabled = true\nper_client_per_hour = {per_hour}\nmax_files = 3\nmax_file_bytes = 600000\n",
            toml_path(&data),
        ),
    );
    (Server::start(&config, &dir.join("serve.stderr")), data)
}

fn composer_lock() -> String {
    std::fs::read_to_string(sample("vulns/lockfiles/bookstack_v0.30.0/composer.lock")).unwrap()
}

fn assess(server: &Server, body: &Value) -> (u16, Value) {
    let r = server.request(
        "POST",
        "/sme/assess",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    let status = r.status;
    (
        status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// Every question answered `yes` but the backup ones.
fn answers() -> Value {
    let form_ids = [
        "assets-hardware",
        "assets-software",
        "assets-supported",
        "assets-unauthorised",
        "patch-process",
        "patch-os",
        "patch-apps",
        "patch-config",
        "access-mfa-remote",
        "access-mfa-external",
        "access-admin",
        "access-leavers",
        "logging-enabled",
        "logging-retained",
        "logging-reviewed",
        "logging-malware",
        "incident-contacts",
        "incident-owner",
        "incident-reporting",
        "incident-training",
    ];
    let mut a: serde_json::Map<String, Value> = form_ids
        .iter()
        .map(|id| (id.to_string(), json!("yes")))
        .collect();
    a.insert("backup-automated".into(), json!("partly"));
    a.insert("backup-isolated".into(), json!("no"));
    Value::Object(a)
}

#[test]
fn a_small_company_assesses_itself_without_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let (server, data) = start(dir.path(), 12);

    // The page: every question of the catalog, under the console's strict policy.
    let page = server.request("GET", "/sme", &[], b"");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert_eq!(html.matches("class=\"question\"").count(), 24);
    assert!(html.contains("data-question=\"backup-isolated\""));
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(server.request("GET", "/sme/sme.js", &[], b"").status, 200);
    assert_eq!(server.request("GET", "/sme/app.js", &[], b"").status, 404);

    // 1. An assessment with a real lockfile.
    let (status, body) = assess(
        &server,
        &json!({"company": "Acme <Ltd>", "answers": answers(),
                "files": [{"name": "composer.lock", "content": composer_lock()}]}),
    );
    assert_eq!(status, 201, "{body}");
    let link = body["report"].as_str().unwrap().to_owned();
    assert!(link.starts_with("/sme/report/") && link.len() == "/sme/report/".len() + 64);
    let report = server.request("GET", &format!("{link}?format=json"), &[], b"");
    assert_eq!(report.status, 200);
    let r = report.json();
    assert_eq!(r["company"], "Acme <Ltd>");
    assert_eq!(r["files"][0]["components"], 137);
    let findings = r["findings"].as_array().unwrap();
    assert!(findings.len() > 10, "{}", findings.len());
    assert_eq!(findings[0]["kev"], true, "the KEV finding comes first");
    assert_eq!(
        findings[0]["id"],
        "FRIENDSOFPHP-facade/ignition-CVE-2021-3129"
    );
    // Internet-facing by default: the KEV hit is Act.
    assert_eq!(findings[0]["ssvc"], "Act");
    let area = |name: &str| {
        r["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["area"] == name)
            .unwrap()
            .clone()
    };
    // All patching answers were yes, but a KEV-listed version runs: capped at 40.
    assert_eq!(area("patching")["score"], 40);
    assert!(
        area("patching")["capped"]
            .as_str()
            .unwrap()
            .contains("known-exploited")
    );
    assert_eq!(area("access")["score"], 100);
    // Backup: 3·½ + 3·0 of 9, the two unanswered count as don't know.
    assert_eq!(area("backup")["score"], 17);
    assert_eq!(r["unanswered"], 2);
    assert_eq!(r["steps"][0]["question"], "uploaded-files");
    let plans = r["plans"].as_array().unwrap();
    let ignition = plans
        .iter()
        .find(|p| p["package"] == "facade/ignition")
        .expect("a plan for the KEV package");
    assert!(ignition["target"].is_string(), "{ignition}");

    let html = server.request("GET", &link, &[], b"");
    assert_eq!(html.status, 200);
    let text = html.text();
    assert!(text.contains("Acme &lt;Ltd&gt;") && !text.contains("Acme <Ltd>"));
    assert!(text.contains("known exploited") && text.contains("CVE-2021-3129"));
    assert!(text.contains("@media print") || text.contains("sme.css"));
    assert_eq!(html.header("cache-control"), Some("no-store"));

    // Nothing was kept: no inventory in any institution.
    assert_eq!(
        server.get_json(ADMIN, "/api/vuln/sboms")["sboms"],
        json!([])
    );
    assert_eq!(
        server.request("GET", "/sme/report/0000", &[], b"").status,
        404
    );

    // 2. Opting in to monitoring keeps the inventory under the `sme` institution.
    let (status, body) = assess(
        &server,
        &json!({"company": "Beta Soft", "answers": {}, "monitor": true,
                "contact": "it@beta.example",
                "files": [{"name": "composer.lock", "content": composer_lock()}]}),
    );
    assert_eq!(status, 201, "{body}");
    let sboms = server.get_json(ADMIN, "/api/vuln/sboms?tenant=sme")["sboms"].clone();
    assert_eq!(sboms.as_array().unwrap().len(), 1, "{sboms}");
    assert_eq!(sboms[0]["system"], "Beta Soft");
    assert_eq!(sboms[0]["owner"], "it@beta.example");
    let audit = cli(&data, &["audit", "list", "--limit", "100"], "");
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"action\":\"sme.monitor\"") && l.contains("Beta Soft")),
        "{audit}"
    );

    // 3. Bad submissions are refused with the reason, and nothing is kept.
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"company": ""}), 400, "company"),
        (
            json!({"company": "X", "answers": {"mfa": "yes"}}),
            400,
            "'mfa'",
        ),
        (
            json!({"company": "X", "answers": {"patch-os": "maybe"}}),
            400,
            "unknown variant",
        ),
        (json!({"company": "X", "monitor": true}), 400, "contact"),
        (
            json!({"company": "X", "files": [{"name": "notes.txt", "content": "hello"}]}),
            422,
            "notes.txt",
        ),
        (
            json!({"company": "X", "files": [{"name": "a/composer.lock", "content": "{}"}]}),
            400,
            "no folders",
        ),
        (
            json!({"company": "X", "files": [{"name": "requirements.txt", "content": "a==1\n".repeat(150_000)}]}),
            413,
            "per file",
        ),
    ];
    for (body, want, reason) in cases {
        let (status, answer) = assess(&server, &body);
        assert_eq!(status, want, "{body:.200}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(reason),
            "{answer}"
        );
    }
    let four = json!({"company": "X", "files": [
        {"name": "a.lock", "content": ""}, {"name": "b.lock", "content": ""},
        {"name": "c.lock", "content": ""}, {"name": "d.lock", "content": ""}]});
    let (status, answer) = assess(&server, &four);
    assert_eq!(
        (status, answer["error"].as_str().unwrap()),
        (400, "files: at most 3 per assessment")
    );
    assert_eq!(
        server.get_json(ADMIN, "/api/vuln/sboms")["sboms"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn one_address_is_limited_per_hour() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path(), 2);
    let body = json!({"company": "Gamma", "answers": {"patch-os": "yes"}});
    for _ in 0..2 {
        assert_eq!(assess(&server, &body).0, 201);
    }
    let r = server.request(
        "POST",
        "/sme/assess",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 429, "{}", r.text());
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&wait), "{wait}");
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("2 assessments per hour")
    );
}

#[test]
fn the_portal_is_off_unless_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n",
            toml_path(&dir.path().join("data"))
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    for (method, path) in [
        ("GET", "/sme"),
        ("POST", "/sme/assess"),
        ("GET", "/sme/sme.js"),
    ] {
        let r = server.request(method, path, &[("Content-Type", "application/json")], b"{}");
        assert_eq!(r.status, 404, "{method} {path}");
        assert!(r.text().contains("portal is off"));
    }
}

#[test]
fn sme_portal_in_a_browser() {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run scripts/setup-test-tools (it runs npm ci in tests/browser)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/setup-test-tools (it installs Debian's chromium)"
    );
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path(), 5);
    let shots = browser_dir.join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut child = std::process::Command::new("node")
        .arg("sme.test.mjs")
        .current_dir(&browser_dir)
        .env("BASE", format!("http://{}", server.http))
        .env(
            "LOCKFILE",
            sample("vulns/lockfiles/bookstack_v0.30.0/composer.lock"),
        )
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
    for name in ["sme-01-form", "sme-02-report", "sme-03-report-print"] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{name}.png is not a screenshot of a page"
        );
    }
}
