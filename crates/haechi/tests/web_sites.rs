//! Institutions' web sites inspected on a schedule: a site served over HTTPS by
//! `openssl s_server -WWW` (legacy TLS, NULL and anonymous suites, a self-signed
//! certificate ten days from expiry, a page loading jQuery 1.6.0) is added for `seoul`,
//! inspected by `haechi web site run`: its failing TLS and certificate checks and its
//! jQuery's advisory (the site's inventory, matched like any SBOM) are `vuln` alerts of
//! seoul only; a second run raises nothing new. Then `haechi serve` with `[web]
//! check_secs` inspects a newly added site by itself, and `GET /api/vuln/web` shows it.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

const ADMIN: &str = "admin-token-for-the-web-sites-test";

/// A weak HTTPS site serving `dir/site` (self-signed RSA certificate for 127.0.0.1, ten
/// days left; legacy versions and NULL and anonymous suites accepted).
fn weak_site(dir: &Path) -> (SServer, u16) {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("js")).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<html><head><script src=\"/js/jquery-1.6.0.min.js\"></script></head><body>portal</body></html>",
    )
    .unwrap();
    std::fs::write(site.join("js/jquery-1.6.0.min.js"), "/*! jQuery v1.6.0 */").unwrap();
    let (cert, key) = openssl_self_signed(dir, "portal", "rsa:2048", 10, &[]);
    let server = s_server(
        &cert,
        &key,
        &["-WWW", "-cipher", "ALL:eNULL:@SECLEVEL=0"],
        Some(&site),
        &dir.join("s_server.log"),
    );
    let port = server.port;
    (server, port)
}

fn ok(out: std::process::Output) -> String {
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn run(data: &Path, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["--data-dir", data.to_str().unwrap()]);
    haechi(&all)
}

fn alerts(data: &Path, tenant: &str) -> Vec<Value> {
    ok(run(
        data,
        &["alerts", "--tenant", tenant, "--source", "vuln", "--json"],
    ))
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect()
}

#[test]
fn sites_are_inspected_on_schedule_and_only_changes_alert() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_site, port) = weak_site(dir.path());
    ok(run(
        &data,
        &[
            "vuln",
            "db",
            "import",
            sample("vulns/nodejs_security_wg").to_str().unwrap(),
            sample("web_inspection/retirejs/jsrepository-v4.json")
                .to_str()
                .unwrap(),
        ],
    ));
    let url = format!("https://127.0.0.1:{port}/index.html");
    let added = ok(run(
        &data,
        &["web", "site", "add", "--tenant", "seoul", &url],
    ));
    assert!(added.contains("every 24 h"), "{added}");
    let refused = run(
        &data,
        &[
            "web",
            "site",
            "add",
            "--tenant",
            "seoul",
            "--every-hours",
            "0",
            &url,
        ],
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("hours"),
        "{}",
        describe(&refused)
    );

    let first = ok(run(&data, &["web", "site", "run"]));
    assert!(
        first.starts_with("1 sites inspected (0 incomplete)"),
        "{first}"
    );
    let seoul = alerts(&data, "seoul");
    let rules: Vec<&str> = seoul
        .iter()
        .map(|a| a["rule_id"].as_str().unwrap())
        .collect();
    for rule in [
        "web-tls-protocols",
        "web-tls-insecure-suites",
        "web-certificate-expiry",
        "web-certificate-trust",
    ] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }
    assert!(
        !rules.iter().any(|r| r.contains("x-frame-options")),
        "header checks do not alert: {rules:?}"
    );
    // jQuery 1.6.0, found on the page, is the site's inventory and matched as npm.
    let jquery = seoul
        .iter()
        .find(|a| a["details"]["finding"]["package"] == "jquery")
        .unwrap_or_else(|| panic!("a jquery finding among {rules:?}"));
    assert_eq!(jquery["entity"], format!("system=website 127.0.0.1:{port}"));
    assert!(alerts(&data, "busan").is_empty());
    let sboms = ok(run(&data, &["sbom", "list", "--tenant", "seoul", "--json"]));
    assert!(
        sboms.contains("web-inspection") && sboms.contains(&format!("website 127.0.0.1:{port}")),
        "{sboms}"
    );

    // Nothing changed: inspected again, nothing new is raised.
    let second = ok(run(&data, &["web", "site", "run", "--all"]));
    assert!(second.contains("0 alerts raised"), "{second}");
    assert_eq!(alerts(&data, "seoul").len(), seoul.len());
    // Not due again for a day.
    assert!(ok(run(&data, &["web", "site", "run"])).starts_with("0 sites inspected"));
    let list = ok(run(&data, &["web", "site", "list", "--json"]));
    let site: Value = serde_json::from_str(list.lines().next().unwrap()).unwrap();
    let failing: Vec<&str> = site["failing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        failing.contains(&"certificate-expiry") && failing.contains(&"javascript-library"),
        "{site}"
    );

    // The month's ISMS evidence counts the site and its failing checks.
    let report: Value = serde_json::from_str(&ok(run(
        &data,
        &["isms", "report", "--tenant", "seoul", "--json"],
    )))
    .unwrap();
    let inspection = report.to_string();
    assert!(
        inspection.contains("\"web_sites\":1")
            && inspection.contains("\"web_sites_failing_checks\":1"),
        "{inspection}"
    );

    // The server inspects a newly added site by itself.
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{ADMIN}\" }}]\n[web]\ncheck_secs = 1\n",
            toml_path(&data)
        ),
    );
    ok(run(
        &data,
        &[
            "web",
            "site",
            "add",
            "--tenant",
            "busan",
            &format!("https://127.0.0.1:{port}/"),
        ],
    ));
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    wait_for("the scheduled inspection of busan's site", PATIENCE, || {
        let sites = server.get_json(ADMIN, "/api/vuln/web?tenant=busan");
        match sites["sites"].as_array().map(Vec::len) {
            Some(1) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let sites = server.get_json(ADMIN, "/api/vuln/web?tenant=busan");
    let failing = sites["sites"][0]["failing"].to_string();
    assert!(failing.contains("tls-protocols"), "{sites}");
    let busan = server.get_json(ADMIN, "/api/alerts?tenant=busan&source=vuln");
    assert!(
        busan["alerts"]
            .to_string()
            .contains("web-certificate-trust"),
        "{busan}"
    );
}
