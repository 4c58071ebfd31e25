//! `haechi web inspect` against local servers the test starts: a page served by Python's
//! http.server with no security headers and an old jQuery (every header check fails, the
//! server's version is noted, jQuery 1.6.0's CVE-2011-4969 is found with Retire.js's
//! data), and Haechi's own console (its CSP, framing, nosniff and referrer checks pass).

mod common;

use common::*;
use serde_json::Value;
use std::process::{Child, Command, Stdio};

struct Python(Child);

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn inspect(data: &std::path::Path, url: &str) -> Value {
    let out = haechi(&[
        "web",
        "inspect",
        "--json",
        "--data-dir",
        data.to_str().unwrap(),
        url,
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn result(page: &Value, check: &str) -> String {
    page["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {page}"))["result"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn weak_and_strong_pages_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let import = haechi(&[
        "vuln",
        "db",
        "import",
        "--data-dir",
        data.to_str().unwrap(),
        sample("web_inspection/retirejs/jsrepository-v4.json")
            .to_str()
            .unwrap(),
    ]);
    assert!(import.status.success(), "{}", describe(&import));
    // The weak site.
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("js")).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<html><head><script src=\"/js/jquery-1.6.0.min.js\"></script></head><body>portal</body></html>",
    )
    .unwrap();
    std::fs::write(site.join("js/jquery-1.6.0.min.js"), "/*! jQuery v1.6.0 */").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _python = Python(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&site)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs"),
    );
    let url = format!("http://127.0.0.1:{port}/");
    wait_for("python's http.server", PATIENCE, || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let weak = inspect(&data, &url);
    for check in [
        "redirection",
        "strict-transport-security",
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert_eq!(result(&weak, check), "fail", "{check}: {weak}");
    }
    assert!(
        weak["checks"].to_string().contains("SimpleHTTP"),
        "the server's version is noted: {weak}"
    );
    let scripts = weak["scripts"].as_array().unwrap();
    assert_eq!(scripts.len(), 1, "{weak}");
    assert_eq!(
        (
            scripts[0]["library"].as_str(),
            scripts[0]["version"].as_str()
        ),
        (Some("jquery"), Some("1.6.0"))
    );
    assert!(
        scripts[0]["vulnerabilities"]
            .to_string()
            .contains("CVE-2011-4969")
    );

    // The MDN HTTP Observatory's grade: no header at all, plain HTTP only, no redirect.
    let grade = |page: &Value| {
        let g = &page["observatory"];
        (
            g["grade"].as_str().unwrap().to_owned(),
            g["score"].as_i64().unwrap(),
            g["passed"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        grade(&weak),
        ("F".to_owned(), 10, 7),
        "{}",
        weak["observatory"]
    );

    // Haechi's console.
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n",
            toml_path(&dir.path().join("served"))
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let strong = inspect(&data, &format!("http://{}/console/", server.http));
    for check in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert_eq!(result(&strong, check), "pass", "{check}: {strong}");
    }
    // Served over plain HTTP in this test: the CSP (default-src 'none'), framing and
    // referrer policy earn points, no HTTPS and no HSTS cost 40: C+.
    assert_eq!(
        grade(&strong),
        ("C+".to_owned(), 60, 10),
        "{}",
        strong["observatory"]
    );
    let csp = strong["observatory"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["test"] == "content-security-policy")
        .unwrap()
        .clone();
    assert_eq!(
        csp["result"],
        "csp-implemented-with-no-unsafe-default-src-none"
    );
    server.terminate();
    let refused = haechi(&[
        "web",
        "inspect",
        "--data-dir",
        data.to_str().unwrap(),
        "ftp://127.0.0.1/",
    ]);
    assert!(!refused.status.success() && describe(&refused).contains("only http and https"));
}
