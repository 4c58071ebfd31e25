//! The REST API fuzzed from its own OpenAPI document with Schemathesis (installed by
//! `scripts/setup-test-tools`), against a running server with data, as each role: an
//! administrator, a center analyst, an institution's analyst and a viewer. Every answer
//! must be no server error, have a documented status and content type, and match its
//! documented schema; a route must not answer without credentials (`ignored_auth`).
//! Bounded: a fixed seed, at most 12 cases per operation and 30 s per role.

mod common;

use common::*;
use std::process::Command;

const ADMIN: &str = "fuzz-admin-token-0123456789";
const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

fn schemathesis(server: &Server, token: &str, report: &std::path::Path) -> std::process::Output {
    let url = format!("http://{}/api/openapi.json", server.http);
    Command::new("python3")
        .args(["-c", "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()"])
        .args(["run", &url])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,ignored_auth",
        ])
        .args(["--max-examples", "12", "--max-time", "30", "--seed", "20261206"])
        .args(["--workers", "1", "--no-color"])
        .arg("--report-junit-path")
        .arg(report)
        .output()
        .expect("python3 runs (scripts/setup-test-tools installs schemathesis)")
}

#[test]
fn every_role_gets_only_documented_answers_and_no_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    let tokens = [
        ("center", create_token(&data, "fuzz-center", "center", None)),
        (
            "institution",
            create_token(&data, "fuzz-seoul", "institution", Some("seoul")),
        ),
        ("viewer", create_token(&data, "fuzz-viewer", "viewer", None)),
    ];
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{ADMIN}\" }}]\n\
             [pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n",
            toml_path(&data),
            toml_path(&rules)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    // Alerts and an incident for two institutions, so that ids lead somewhere.
    for tenant in ["seoul", "busan"] {
        let lines: Vec<String> = (0..3)
            .map(|i| {
                format!(
                    "203.0.113.9 - - [{}] \"GET /f?file=../../../etc/passwd HTTP/1.1\" 404 1 \"-\" \"curl\"",
                    clf_time(i)
                )
            })
            .collect();
        let r = server.request(
            "POST",
            &format!("/api/ingest?tenant={tenant}&format=clf"),
            &[("Authorization", &format!("Bearer {ADMIN}"))],
            lines.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let roles = std::iter::once(("admin", ADMIN.to_owned())).chain(tokens);
    for (role, token) in roles {
        let report = dir.path().join(format!("{role}.xml"));
        let out = schemathesis(&server, &token, &report);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "Schemathesis found failures as {role}:\n{}\n{}\nserver stderr:\n{}",
            text.chars()
                .rev()
                .take(6000)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>(),
            String::from_utf8_lossy(&out.stderr),
            server.stderr()
        );
        let junit = std::fs::read_to_string(&report).expect("the JUnit report");
        assert!(
            junit.matches("<testcase").count() >= 60,
            "every operation was tested as {role}: {junit:.400}"
        );
    }
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
}
