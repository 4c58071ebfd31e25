//! The STIX object store from the command line, on the real STIX 2.1 example bundles of
//! `../shared/data/threat_intel/stix2`: a collection is created, every bundle imported,
//! a second import finds only duplicates, a bundle with a broken object stores the good
//! ones and names the broken one, and the listing gives the objects back as stored.

mod common;

use common::*;

fn run(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    all.extend(["--data-dir", data.to_str().unwrap()]);
    haechi(&all)
}

#[test]
fn stix_bundles_are_imported_versioned_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(
        &data,
        &[
            "intel",
            "collection",
            "add",
            "partners",
            "--title",
            "Partner feed",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let out = run(&data, &["intel", "collection", "add", "partners"]);
    assert!(
        !out.status.success(),
        "a second collection of that name is refused"
    );
    let mut files: Vec<_> = std::fs::read_dir(sample("threat_intel/stix2"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    let mut args = vec!["intel", "import", "--collection", "partners"];
    let names: Vec<String> = files
        .iter()
        .map(|f| f.to_str().unwrap().to_owned())
        .collect();
    args.extend(names.iter().map(String::as_str));
    let out = run(&data, &args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the OASIS examples are valid: {}",
        describe(&out)
    );
    let stored: usize = text
        .lines()
        .filter_map(|l| {
            l.split(": ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert!(stored >= 50, "{text}");
    // Everything again: duplicates only.
    let out = run(&data, &args);
    let again = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(again.lines().all(|l| l.contains(": 0 stored")), "{again}");
    // A bundle with one broken object: the good one is stored, the broken one named.
    let broken = write_file(
        dir.path(),
        "broken.json",
        r#"{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[
          {"type":"indicator","spec_version":"2.1","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade","created":"2026-11-01T00:00:00.000Z","modified":"2026-11-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.66']","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z"},
          {"type":"indicator","spec_version":"2.1","id":"indicator--b932fcc6-e032-476c-826f-cb970a5a1ade","created":"2026-11-01T00:00:00.000Z","modified":"2026-10-01T00:00:00.000Z","pattern":"[ipv4-addr:value = ","pattern_type":"stix","valid_from":"2026-11-01T00:00:00Z"}]}"#,
    );
    let out = run(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "partners",
            broken.to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(text.contains("1 stored, 0 duplicates, 1 refused"), "{text}");
    assert!(
        text.contains("refused indicator--b932fcc6-e032-476c-826f-cb970a5a1ade: "),
        "{text}"
    );
    // The listing gives back the objects as stored, one JSON object per line.
    let out = run(
        &data,
        &[
            "intel",
            "list",
            "--collection",
            "partners",
            "--type",
            "indicator",
            "--limit",
            "1000",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let listed: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(listed.iter().all(|o| o["type"] == "indicator"));
    assert!(
        listed
            .iter()
            .any(|o| o["id"] == "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade")
    );
    assert!(
        !listed
            .iter()
            .any(|o| o["id"] == "indicator--b932fcc6-e032-476c-826f-cb970a5a1ade")
    );
    let out = run(&data, &["intel", "collection", "list"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("partners\t"),
        "{}",
        describe(&out)
    );
    let out = run(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "nope",
            broken.to_str().unwrap(),
        ],
    );
    assert!(
        describe(&out).contains("haechi intel collection add nope"),
        "{}",
        describe(&out)
    );
}

#[test]
fn export_writes_a_bundle_within_the_tlp_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(
        run(&data, &["intel", "collection", "add", "shared"])
            .status
            .success()
    );
    let markings = [
        (
            "1",
            "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        ),
        (
            "2",
            "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        ),
        (
            "3",
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        ),
        (
            "4",
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        ),
    ];
    let objects: Vec<serde_json::Value> = markings
        .iter()
        .map(|(n, m)| {
            serde_json::json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{n}e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": [m],
            })
        })
        .collect();
    let bundle = serde_json::json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects,
    });
    let file = write_file(dir.path(), "tlp.json", &bundle.to_string());
    assert!(
        run(
            &data,
            &[
                "intel",
                "import",
                "--collection",
                "shared",
                file.to_str().unwrap()
            ]
        )
        .status
        .success()
    );
    let exported = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["intel", "export", "--collection", "shared"];
        args.extend(extra);
        let out = run(&data, &args);
        assert!(out.status.success(), "{}", describe(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["type"], "bundle");
        v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap()[11..12].to_owned())
            .collect()
    };
    assert_eq!(exported(&[]), vec!["1", "2", "3"], "RED only when named");
    assert_eq!(exported(&["--tlp-max", "green"]), vec!["1", "2"]);
    assert_eq!(exported(&["--tlp-max", "red"]).len(), 4);
    let out_file = dir.path().join("out.json");
    let out = run(
        &data,
        &[
            "intel",
            "export",
            "--collection",
            "shared",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(describe(&out).contains("3 objects exported from shared, 1 withheld"));
    // What is exported imports again (all duplicates).
    let again = run(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "shared",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 stored, 3 duplicates, 0 refused"),
        "{}",
        describe(&again)
    );
}

#[test]
fn intel_serve_runs_the_hub_without_syslog_listeners() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = haechi_command(&[
        "intel",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let done = line.starts_with("listening http");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.iter().any(|l| l.starts_with("listening http")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("syslog")),
        "no syslog listener: {lines:?}"
    );
}

/// `python3 -m http.server` over `dir` on 127.0.0.1; killed on drop.
struct WebServer {
    child: std::process::Child,
    port: u16,
}

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn web_server(dir: &std::path::Path) -> WebServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs");
    wait_for("the web server to listen", PATIENCE, || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    WebServer { child, port }
}

#[test]
fn bundles_and_feeds_are_fetched_from_urls() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::copy(
        sample("threat_intel/stix2/docs-indicator-for-malicious-url.json"),
        web.join("bundle.json"),
    )
    .unwrap();
    std::fs::write(
        web.join("list.txt"),
        "# C2 list\n198.51.100.23\nbad-c2.example\n",
    )
    .unwrap();
    let server = web_server(&web);
    let base = format!("http://127.0.0.1:{}", server.port);
    let data = dir.path().join("data");
    assert!(
        run(&data, &["intel", "collection", "add", "shared"])
            .status
            .success()
    );
    let out = run(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "shared",
            &format!("{base}/bundle.json"),
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 stored, 0 duplicates, 0 refused"),
        "{}",
        describe(&out)
    );
    let out = run(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "shared",
            &format!("{base}/missing.json"),
        ],
    );
    assert!(!out.status.success());
    assert!(describe(&out).contains("HTTP 404"), "{}", describe(&out));

    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "[[intel.feeds]]\nname = \"remote-list\"\nurl = \"{base}/list.txt\"\nformat = \"plain\"\n"
        ),
    );
    let out = run(
        &data,
        &[
            "intel",
            "check",
            "--json",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["indicators"], 2, "{report}");
}
