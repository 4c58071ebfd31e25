//! Haechi as a TAXII 2.1 client of a partner: the OASIS reference server `medallion`
//! (PyPI, installed by `scripts/setup-test-tools`) plays the partner on 127.0.0.1, and
//! `haechi intel sync` pulls its collection incrementally (`added_after`, `next` paging)
//! and pushes the local `outbox` within the remote's TLP maximum. This test fails — it
//! does not skip — when medallion is missing.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const COLLECTION: &str = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4";
const PASSWORD: &str = "partner-secret-7f3a";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

struct Medallion {
    child: Child,
    port: u16,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_medallion(dir: &Path) -> Medallion {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let data = json!({
        "/discovery": {
            "title": "Partner TAXII server", "default": format!("{base}/api1/"),
            "api_roots": [format!("{base}/api1/")],
        },
        "api1": {
            "information": {
                "title": "Partner API root", "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10485760,
            },
            "status": [],
            "collections": [{
                "id": COLLECTION, "title": "Partner indicators", "can_read": true, "can_write": true,
                "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": [],
            }],
        },
    });
    let data_file = write_file(dir, "medallion-data.json", &data.to_string());
    let config = json!({
        "backend": {
            "module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
            "filename": data_file.to_str().unwrap(),
        },
        "users": {"haechi": PASSWORD},
        // Two objects a page, so that paging is exercised.
        "taxii": {"max_page_size": 2},
    });
    let config_file = write_file(dir, "medallion.json", &config.to_string());
    let child = Command::new("python3")
        .args([
            "-m",
            "medallion.scripts.run",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .arg(&config_file)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("medallion.log")).unwrap())
        .spawn()
        .expect("python3 runs");
    let mut m = Medallion { child, port };
    wait_for("medallion to listen", PATIENCE, || {
        if let Ok(Some(status)) = m.child.try_wait() {
            panic!(
                "medallion exited ({status}); is it installed (scripts/setup-test-tools)?\n{}",
                std::fs::read_to_string(dir.join("medallion.log")).unwrap_or_default()
            );
        }
        std::net::TcpStream::connect(("127.0.0.1", port))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    m.port = port;
    m
}

fn indicator(n: u32, marking: &str) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{n:08x}-5e1a-4c1b-9f0e-3b6a2d9c4e71"),
        "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
        "pattern": format!("[ipv4-addr:value = '198.51.100.{n}']"), "pattern_type": "stix",
        "valid_from": "2026-11-20T00:00:00Z", "object_marking_refs": [marking],
    })
}

/// Adds objects to the partner's collection, as another member of its community would.
fn partner_posts(m: &Medallion, objects: Vec<Value>) {
    use base64::Engine;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("haechi:{PASSWORD}"))
    );
    let r = http_request(
        ([127, 0, 0, 1], m.port).into(),
        "POST",
        &format!("/api1/collections/{COLLECTION}/objects/"),
        &[
            ("Authorization", &auth),
            ("Accept", "application/taxii+json;version=2.1"),
            ("Content-Type", "application/taxii+json;version=2.1"),
        ],
        json!({ "objects": objects }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 202, "medallion: {}", r.text());
}

fn sync(data: &Path, config: &Path, password: &str) -> std::process::Output {
    haechi_command(&[
        "intel",
        "sync",
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .env("PARTNER_TAXII_PASSWORD", password)
    .output()
    .unwrap()
}

#[test]
fn haechi_pulls_from_and_pushes_to_a_partner_taxii_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let m = start_medallion(dir.path());
    for c in ["partner-feed", "outbox"] {
        cli(&data, &["intel", "collection", "add", c], "");
    }
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\n\n[[intel.remotes]]\nname = \"partner\"\nurl = \"http://127.0.0.1:{}/api1/collections/{COLLECTION}/\"\nusername = \"haechi\"\npassword_env = \"PARTNER_TAXII_PASSWORD\"\ninto = \"partner-feed\"\npush_from = \"outbox\"\ntlp_max = \"amber\"\n",
            toml_path(&data),
            m.port
        ),
    );

    // Three objects at the partner: two pages of two.
    partner_posts(&m, (1..=3).map(|n| indicator(n, GREEN)).collect());
    let out = sync(&data, &config, PASSWORD);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pulled 3 objects in 2 pages (3 stored, 0 duplicates, 0 refused)"),
        "{text}"
    );
    let listed = cli(
        &data,
        &["intel", "list", "--collection", "partner-feed"],
        "",
    );
    assert_eq!(listed.lines().count(), 3, "{listed}");

    // Incremental: what the partner added since is stored. The three objects of the
    // first envelope share the watermark's timestamp (`added_after` is exclusive): they
    // are read again, so that none sharing it is ever skipped, and are duplicates.
    std::thread::sleep(Duration::from_millis(20));
    partner_posts(&m, vec![indicator(4, GREEN)]);
    let out = sync(&data, &config, PASSWORD);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pulled 4 objects in 2 pages (1 stored, 3 duplicates, 0 refused)"),
        "{text}\n{}",
        describe(&out)
    );
    let listed = cli(
        &data,
        &["intel", "list", "--collection", "partner-feed"],
        "",
    );
    assert_eq!(listed.lines().count(), 4, "{listed}");

    // Push: the outbox's GREEN object goes, AMBER+STRICT and RED stay (tlp_max amber).
    let bundle = json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [indicator(10, GREEN), indicator(11, STRICT), indicator(12, RED)],
    });
    let file = write_file(dir.path(), "outbox.json", &bundle.to_string());
    cli(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "outbox",
            file.to_str().unwrap(),
        ],
        "",
    );
    let out = sync(&data, &config, PASSWORD);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pushed 1 (1 accepted, 0 refused, 2 withheld by TLP"),
        "{text}\n{}",
        describe(&out)
    );
    let all = manifest_all(&m);
    assert!(
        all.contains(&indicator(10, GREEN)["id"].as_str().unwrap().to_owned()),
        "{all:?}"
    );
    for withheld in [11, 12] {
        let id = indicator(withheld, GREEN)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!all.contains(&id), "{id} must not reach the partner");
    }
    // Nothing is pushed twice: the push watermark moved.
    let out = sync(&data, &config, PASSWORD);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pushed 0 ("), "{text}");

    // An object the partner refuses (it holds that version already) keeps the push
    // watermark before it: it is sent again, up to three times, then given up.
    partner_posts(&m, vec![indicator(20, GREEN)]);
    let file = write_file(
        dir.path(),
        "again.json",
        &json!({"type": "bundle", "id": "bundle--6d0092c5-5f74-4287-9642-33f4c354e56e", "objects": [indicator(20, GREEN)]}).to_string(),
    );
    cli(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "outbox",
            file.to_str().unwrap(),
        ],
        "",
    );
    for (attempt, expected) in [
        (1, "sent again next time; attempt 1 of 3"),
        (2, "sent again next time; attempt 2 of 3"),
        (3, "given up after 3 attempts"),
    ] {
        let out = sync(&data, &config, PASSWORD);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("pushed 1 (0 accepted, 1 refused") && text.contains(expected),
            "attempt {attempt}: {text}\n{}",
            describe(&out)
        );
    }
    let out = sync(&data, &config, PASSWORD);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pushed 0 ("),
        "given up: not sent again: {text}"
    );

    // A wrong password is an error naming the partner's answer.
    let out = sync(&data, &config, "wrong");
    assert!(!out.status.success());
    assert!(describe(&out).contains("HTTP 401"), "{}", describe(&out));
}

/// Every id in the partner's collection, through its manifest pages.
fn manifest_all(m: &Medallion) -> Vec<String> {
    use base64::Engine;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("haechi:{PASSWORD}"))
    );
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            // medallion wants the same parameters, limit included, with `next`.
            Some(n) => format!("/api1/collections/{COLLECTION}/manifest/?limit=2&next={n}"),
            None => format!("/api1/collections/{COLLECTION}/manifest/?limit=2"),
        };
        let r = http_request(
            ([127, 0, 0, 1], m.port).into(),
            "GET",
            &path,
            &[
                ("Authorization", &auth),
                ("Accept", "application/taxii+json;version=2.1"),
            ],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        ids.extend(
            v["objects"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned()),
        );
        match v["next"].as_str() {
            Some(n) if v["more"] == true => next = Some(n.to_owned()),
            _ => return ids,
        }
    }
}
