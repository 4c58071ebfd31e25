//! The web console in headless Chromium: `tests/browser/console.test.mjs` (playwright-core
//! driving Debian's `chromium`, both installed by `scripts/setup-test-tools`) logs in,
//! sees an alert appear live, acknowledges it, works its incident, approves a playbook
//! run and sees the block list change, reads the situation board and searches, then logs
//! in as an institution analyst, finds nothing of another institution and uploads a
//! lockfile whose KEV finding heads the Vulnerabilities page and the queue (where its
//! inspected web site shows its legacy TLS and untrusted certificate). This test
//! starts the real server for it and keeps the screenshots under
//! `tests/browser/screenshots/` (ignored by git) for people to look at.

mod common;

use common::*;
use std::path::PathBuf;

const PASSWORD: &str = "browser test password 1";
const BUSAN_ATTACKER: &str = "198.51.100.99";

const PLAYBOOK: &str = "id: block-web-attackers
name: Block web attackers at the edge
mode: approval
trigger:
  min_level: high
  sources: [sigma]
actions:
  - block: {list: edge, value: \"{{attacker}}\", expires: 24h, scope: all}
";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_console_works_in_a_real_browser() {
    let browser_dir = repo().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run scripts/setup-test-tools (it runs npm ci in tests/browser)"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/setup-test-tools (it installs Debian's chromium)"
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    std::fs::write(playbooks.join("block.yml"), PLAYBOOK).unwrap();
    add_user(&data, "duty", "center", None, PASSWORD);
    add_user(&data, "kim", "institution", Some("seoul"), PASSWORD);
    // A hub collection to share confirmed incidents into.
    cli(
        &data,
        &[
            "intel",
            "collection",
            "add",
            "outbox",
            "--title",
            "Partner outbox",
        ],
        "",
    );
    let ingest = create_token(&data, "collector", "center", None);
    // Advisories for the institution's upload on the Vulnerabilities page.
    let vulns = sample("vulns");
    cli(
        &data,
        &[
            "vuln",
            "db",
            "import",
            vulns
                .join("friendsofphp_security_advisories")
                .to_str()
                .unwrap(),
            vulns.join("cisa_kev").to_str().unwrap(),
        ],
        "",
    );
    // Seoul's portal, under inspection: legacy TLS and a self-signed certificate.
    let (cert, key) = openssl_self_signed(dir.path(), "portal", "rsa:2048", 10, &[]);
    let portal = s_server(
        &cert,
        &key,
        &["-www", "-cipher", "ALL:@SECLEVEL=0"],
        None,
        &dir.path().join("s_server.log"),
    );
    let site = format!("https://127.0.0.1:{}/", portal.port);
    cli(
        &data,
        &["web", "site", "add", "--tenant", "seoul", &site],
        "",
    );
    cli(&data, &["web", "site", "run"], "");
    // Names already registered, one of them imitating Seoul's.
    let universe = write_file(
        dir.path(),
        "universe.txt",
        "example.com\nnaver.com\nseou1.go.kr\n",
    );
    cli(
        &data,
        &["domains", "universe", "add", universe.to_str().unwrap()],
        "",
    );
    let rules = repo().join("rules/starter/web_path_traversal.yml");
    // A drill Seoul ran, whose technique no rule here detects: the Drills page shows the miss.
    cli(
        &data,
        &[
            "drill",
            "run",
            "--tenant",
            "seoul",
            "--speed",
            "1000",
            "--rules",
            rules.to_str().unwrap(),
            sample("drills/otrf_windows_atomic/SDWIN-201219070027")
                .to_str()
                .unwrap(),
        ],
        "",
    );
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n[pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n[respond]\nplaybooks = {}\n",
            toml_path(&data),
            toml_path(&rules),
            toml_path(&playbooks)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    // Busan's attack is stored before anyone logs in.
    let line = format!(
        "{BUSAN_ATTACKER} - - [{}] \"GET /dl?file=../../../etc/passwd HTTP/1.1\" 404 512 \"-\" \"curl/8.5.0\"",
        clf_time(0)
    );
    let r = server.request(
        "POST",
        "/api/ingest?tenant=busan&format=clf",
        &[("Authorization", &format!("Bearer {ingest}"))],
        line.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let shots = browser_dir.join("screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let mut node = std::process::Command::new("node");
    node.arg("console.test.mjs")
        .current_dir(&browser_dir)
        .env("BASE", format!("http://{}", server.http))
        .env("CENTER_USER", "duty")
        .env("CENTER_PASSWORD", PASSWORD)
        .env("SEOUL_USER", "kim")
        .env("SEOUL_PASSWORD", PASSWORD)
        .env("INGEST_TOKEN", &ingest)
        .env("BUSAN_ATTACKER", BUSAN_ATTACKER)
        .env("SCREENSHOTS", &shots)
        .env(
            "VULN_LOCKFILE",
            vulns.join("lockfiles/bookstack_v0.30.0/composer.lock"),
        )
        .env("CHROMIUM", &chromium);
    let mut child = node
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node is installed");
    let status = wait_exit(&mut child, std::time::Duration::from_secs(240));
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "stdout: {}\nstderr: {}\nserver: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.stderr()
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "the browser test failed (or ran past 240 s): {report}"
    );
    assert!(report.contains("all expectations held"), "{report}");
    // Every page left a real screenshot.
    for name in [
        "01-login",
        "02-queue-live-alert",
        "03-alert-detail",
        "04-incident",
        "05-response-pending",
        "06-response-approved",
        "07-board",
        "08-search",
        "09-institution-queue",
        "10-institution-board",
        "11-institution-vulns",
        "12-institution-domains",
    ] {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{name}.png is not a screenshot of a page"
        );
    }
    // What the officer did in the browser is in the audit log under their name.
    let audit = cli(&data, &["audit", "list", "--limit", "1000"], "");
    for (actor, action) in [
        ("user:duty", "alert.acknowledge"),
        ("user:duty", "incident.update"),
        ("user:duty", "playbook.approve"),
        ("user:duty", "incident.evidence.pin"),
        ("user:duty", "incident.publish"),
    ] {
        assert!(
            audit
                .lines()
                .any(|l| l.contains(&format!("\"actor\":\"{actor}\""))
                    && l.contains(&format!("\"action\":\"{action}\""))),
            "no {action} by {actor} in the audit log: {audit}"
        );
    }
}
