//! HTTPS on the API and console listener (`http.tls_cert` / `http.tls_key`), checked with
//! curl as the client: the certificate is served, login cookies carry `Secure`, plain
//! HTTP gets nowhere, and half a configuration is refused with a clear error.

mod common;

use common::*;
use std::process::Command;

const PASSWORD: &str = "https test password 1";

fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl is installed (scripts/setup-test-tools)")
}

#[test]
fn the_listener_speaks_tls_with_secure_cookies_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = write_file(dir.path(), "cert.pem", &certified.cert.pem());
    let key = write_file(
        dir.path(),
        "key.pem",
        &certified.signing_key.serialize_pem(),
    );
    add_user(&data, "duty", "center", None, PASSWORD);
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = {}\ntls_key = {}\n",
            toml_path(&data),
            toml_path(&cert),
            toml_path(&key)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let port = server.http.port();
    let base = format!("https://localhost:{port}");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let cacert = cert.to_str().unwrap();
    // The health check over TLS, the certificate verified against its own CA file.
    let out = curl(&[
        "--resolve",
        &resolve,
        "--cacert",
        cacert,
        &format!("{base}/healthz"),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    // A login over TLS: the session cookie is Secure, HttpOnly and SameSite=Strict.
    let body = format!(r#"{{"username":"duty","password":"{PASSWORD}"}}"#);
    let out = curl(&[
        "--resolve",
        &resolve,
        "--cacert",
        cacert,
        "--include",
        "-H",
        "Content-Type: application/json",
        "--data",
        &body,
        &format!("{base}/api/auth/login"),
    ]);
    let answer = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let cookie = answer
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: haechi_session=")
        })
        .unwrap_or_else(|| panic!("no session cookie: {answer}"));
    for flag in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    // Without a trusted certificate curl refuses, and plain HTTP gets no answer.
    let out = curl(&["--resolve", &resolve, &format!("{base}/healthz")]);
    assert!(!out.status.success(), "an untrusted certificate must fail");
    let out = curl(&[&format!("http://127.0.0.1:{port}/healthz")]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ok"),
        "plain HTTP must not be served: {}",
        describe(&out)
    );
    drop(server);

    // Half a TLS configuration is an error that names both keys.
    let half = write_file(
        dir.path(),
        "half.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = {}\n",
            toml_path(&data),
            toml_path(&cert)
        ),
    );
    let out = haechi(&["serve", "--config", half.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        describe(&out).contains("http.tls_cert and http.tls_key go together"),
        "{}",
        describe(&out)
    );
}
