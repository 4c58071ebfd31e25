//! The web surface attacked from outside: Wapiti (installed by `scripts/setup-test-tools`)
//! crawls the console and every operation of the OpenAPI document, authenticated, and
//! attacks each parameter (reflected and stored XSS, SQL and command injection, path
//! traversal, open redirects, CRLF injection, uncommon methods, backup files) and checks
//! the headers, cookies and Content-Security-Policy; it must find nothing and provoke no
//! server error. Bounded: each module stops after a set time, the scan after four minutes.
//! Next to it, the attacks a scanner does not try: a session fixed by an attacker before
//! the login, and redirects that would lead off the site.

mod common;

use common::*;
use serde_json::Value;
use std::process::Command;

const ADMIN: &str = "web-scan-admin-token-0123456789";
const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
/// The attack and check modules (ssrf, xxe and log4shell need an outside callback host,
/// which this network does not reach).
const MODULES: &str = "xss,permanentxss,sql,exec,file,redirect,crlf,methods,backup,\
                       http_headers,cookieflags,csp";

/// Where `scripts/setup-test-tools` keeps Wapiti (a virtual environment of its own).
fn wapiti_path() -> std::path::PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is set");
    std::path::Path::new(&home).join(".local/share/haechi-test-tools/wapiti-3.2.3/bin/wapiti")
}

fn server_with_alerts(dir: &std::path::Path) -> Server {
    let data = dir.join("data");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let config = write_file(
        dir,
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{ADMIN}\" }}]\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n[sme]\nenabled = true\n",
            toml_path(&data),
            toml_path(&rules)
        ),
    );
    let server = Server::start(&config, &dir.join("serve.stderr"));
    // Alerts whose content an attacker wrote, so that stored XSS has somewhere to go.
    let lines: Vec<String> = (0..3)
        .map(|i| {
            format!(
                "203.0.113.9 - - [{}] \"GET /f?file=../../../etc/passwd&q=<script>alert(1)</script> HTTP/1.1\" 404 1 \"-\" \"<img src=x onerror=alert(2)>\"",
                clf_time(i)
            )
        })
        .collect();
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul&format=clf",
        &[("Authorization", &format!("Bearer {ADMIN}"))],
        lines.join("\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    server
}

#[test]
fn wapiti_finds_no_vulnerability_in_the_console_and_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_with_alerts(dir.path());
    let report = dir.path().join("wapiti.json");
    let base = format!("http://{}/", server.http);
    let out = Command::new(wapiti_path())
        .args(["-u", &base])
        .args(["--swagger", &format!("{base}api/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {ADMIN}")])
        .args(["-m", MODULES])
        .args(["--scope", "folder", "--level", "1", "--depth", "8"])
        .args(["--max-links-per-page", "200", "--max-scan-time", "240"])
        .args(["--max-attack-time", "45", "--timeout", "10"])
        .args(["--flush-session", "--store-session"])
        .arg(dir.path().join("wapiti-session"))
        .args(["--detailed-report", "1", "-f", "json", "-o"])
        .arg(&report)
        .args(["-v", "1"])
        .env("HOME", dir.path())
        .output()
        .expect("wapiti runs (scripts/setup-test-tools installs it)");
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wapiti failed: {log}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the JSON report"))
            .expect("a JSON report");

    // The scan reached the surface: the console's files and the API's operations.
    let crawled = report["infos"]["crawled_pages"]
        .as_array()
        .expect("the crawled pages (detailed report)");
    let urls: Vec<&str> = crawled
        .iter()
        .filter_map(|p| p["request"]["url"].as_str())
        .collect();
    assert!(
        urls.iter().any(|u| u.contains("/console/"))
            && urls.iter().filter(|u| u.contains("/api/")).count() >= 40,
        "the console and the API were crawled: {urls:?}"
    );

    let found = |section: &str| -> Vec<String> {
        report[section]
            .as_object()
            .expect("a section of the report")
            .iter()
            .flat_map(|(category, items)| {
                items.as_array().into_iter().flatten().map(move |i| {
                    format!("{category}: {} {} — {}", i["method"], i["path"], i["info"])
                })
            })
            .collect()
    };
    let vulnerabilities = found("vulnerabilities");
    assert!(
        vulnerabilities.is_empty(),
        "Wapiti found vulnerabilities:\n{}",
        vulnerabilities.join("\n")
    );
    let anomalies = found("anomalies");
    assert!(
        anomalies.is_empty(),
        "Wapiti provoked anomalies (server errors, timeouts):\n{}\nserver stderr:\n{}",
        anomalies.join("\n"),
        server.stderr()
    );
    let (status, stderr) = server.terminate();
    assert!(
        status.success(),
        "the server survived the scan: {status}: {stderr}"
    );
}

#[test]
fn a_session_cannot_be_fixed_and_no_redirect_leaves_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_user(
        &data,
        "kim",
        "center",
        None,
        "correct horse battery staple 42",
    );
    let server = server_with_alerts(dir.path());
    let login = |cookie: Option<&str>| {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(c) = cookie {
            headers.push(("Cookie", c));
        }
        server.request(
            "POST",
            "/api/auth/login",
            &headers,
            br#"{"username":"kim","password":"correct horse battery staple 42"}"#,
        )
    };
    let session_of = |r: &HttpResponse| -> String {
        r.header("set-cookie")
            .expect("a session cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let me = |cookie: &str| {
        server
            .request("GET", "/api/auth/me", &[("Cookie", cookie)], b"")
            .status
    };

    // An attacker plants a session id of their choosing before the officer logs in.
    let planted = format!("haechi_session={}", "a".repeat(64));
    let r = login(Some(&planted));
    assert_eq!(r.status, 200, "{}", r.text());
    let issued = session_of(&r);
    assert_ne!(issued, planted, "the login issues its own session id");
    assert_eq!(me(&planted), 401, "the planted id authenticates nobody");
    assert_eq!(me(&issued), 200);
    let id = issued.trim_start_matches("haechi_session=");
    assert!(
        id.len() >= 32 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "a long random id: {id}"
    );
    // A second login, even from the same browser, gets a new id: a stolen earlier one
    // is not carried into it.
    let again = session_of(&login(Some(&issued)));
    assert_ne!(again, issued);
    assert_eq!(me(&again), 200);

    // Redirects stay on the site, whatever the path or the query asks for.
    let attempts = [
        "/",
        "/?next=https://evil.example/",
        "/?redirect=//evil.example",
        "//evil.example/",
        "/\\evil.example/",
        "/%2F%2Fevil.example/",
        "/console",
        "/console/..%2F..%2F//evil.example",
        "/api/auth/login?next=https://evil.example/",
        "/sme?return=https://evil.example/",
    ];
    for path in attempts {
        let r = server.request("GET", path, &[("Cookie", &again)], b"");
        if let Some(location) = r.header("location") {
            assert!(
                location.starts_with('/')
                    && !location.starts_with("//")
                    && !location.starts_with("/\\")
                    && !location.contains("evil.example"),
                "{path} redirects off the site: {location}"
            );
        }
        assert!(r.status < 500, "{path}: {}", r.status);
    }
    // Every answer refuses framing and sniffing, pages and JSON alike; JSON may run
    // nothing, the console's pages only their own files.
    let bearer = format!("Bearer {ADMIN}");
    for (path, status) in [
        ("/console/", 200),
        ("/sme", 200),
        ("/", 303),
        ("/api/alerts", 200),
        ("/api/openapi.json", 200),
        ("/api/nothing-here", 404),
    ] {
        let r = server.request("GET", path, &[("Authorization", &bearer)], b"");
        assert_eq!(r.status, status, "{path}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        if path == "/" || path.starts_with("/api/") {
            assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        }
    }
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
}
