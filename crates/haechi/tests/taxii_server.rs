//! The TAXII 2.1 sharing hub as partners meet it: collections and partners are made with
//! the command line (`haechi intel collection add`, `haechi intel partner add`), STIX
//! objects of every TLP level are imported, `haechi serve` answers, and the OASIS
//! `taxii2-client` (tests/taxii/partner_client.py) reads, pages, filters, posts and
//! deletes as two partners with different entitlements. Around it: every TAXII route
//! refuses a request without credentials, a partner cannot use the REST API or log in to
//! the console, and the partner's changes are in the audit log.

mod common;

use common::*;
use serde_json::{Value, json};
use std::path::Path;

const CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const STRICT: &str = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

fn indicator(id: &str, modified: &str, marking: Option<&str>) -> Value {
    let mut o = json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-10-01T00:00:00.000Z", "modified": modified,
        "name": "C2 address", "pattern": "[ipv4-addr:value = '203.0.113.66']",
        "pattern_type": "stix", "valid_from": "2026-10-01T00:00:00Z",
    });
    if let Some(m) = marking {
        o["object_marking_refs"] = json!([m]);
    }
    o
}

fn id(n: u32) -> String {
    format!("indicator--{n:08x}-17d4-4cbf-938f-98ee46b3cd3f")
}

fn write_bundle(dir: &Path, name: &str, objects: Vec<Value>) -> String {
    let bundle = json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects,
    });
    write_file(dir, name, &bundle.to_string())
        .to_str()
        .unwrap()
        .to_owned()
}

/// `haechi intel partner add …`: (user, password) from the last line.
fn add_partner(data: &Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["intel", "partner", "add"];
    all.extend(args);
    let out = cli(data, &all, "");
    let last = out.lines().last().unwrap();
    let (user, password) = last.split_once(' ').expect("USER PASSWORD");
    (user.to_owned(), password.to_owned())
}

#[test]
fn partners_share_through_taxii_within_their_grants_and_tlp() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for c in ["shared", "inbox", "internal"] {
        cli(&data, &["intel", "collection", "add", c], "");
    }
    let levels = [
        ("clear", Some(CLEAR)),
        ("green", Some(GREEN)),
        ("amber", Some(AMBER)),
        ("strict", Some(STRICT)),
        ("red", Some(RED)),
        ("unmarked", None),
    ];
    let mut objects: Vec<Value> = levels
        .iter()
        .enumerate()
        .map(|(n, (_, m))| indicator(&id(n as u32 + 1), "2026-10-01T00:00:00.000Z", *m))
        .collect();
    // One object in three versions.
    for month in ["10", "11", "12"] {
        objects.push(indicator(
            &id(100),
            &format!("2026-{month}-02T00:00:00.000Z"),
            Some(GREEN),
        ));
    }
    let tlp_file = write_bundle(dir.path(), "tlp.json", objects);
    cli(
        &data,
        &["intel", "import", "--collection", "shared", &tlp_file],
        "",
    );
    // Real threat actors from the OASIS examples, unmarked but for one marked CLEAR below.
    let actors =
        sample("threat_intel/stix2/docs-defining-campaigns-threat-actors-intrusion-sets.json");
    let mut actor_bundle: Value = serde_json::from_slice(&std::fs::read(&actors).unwrap()).unwrap();
    for o in actor_bundle["objects"].as_array_mut().unwrap() {
        o["object_marking_refs"] = json!([CLEAR]);
    }
    let actor_file = write_file(dir.path(), "actors.json", &actor_bundle.to_string());
    cli(
        &data,
        &[
            "intel",
            "import",
            "--collection",
            "shared",
            actor_file.to_str().unwrap(),
        ],
        "",
    );
    let center_inbox = write_bundle(
        dir.path(),
        "inbox.json",
        vec![indicator(&id(200), "2026-10-01T00:00:00.000Z", Some(GREEN))],
    );
    cli(
        &data,
        &["intel", "import", "--collection", "inbox", &center_inbox],
        "",
    );
    let acme = add_partner(
        &data,
        &[
            "acme", "--read", "shared", "--read", "inbox", "--write", "inbox",
        ],
    );
    let beta = add_partner(&data, &["beta", "--read", "shared", "--tlp-max", "amber"]);
    // A partner cannot be entitled to RED, nor to an unknown collection.
    let refused = haechi(&[
        "intel",
        "partner",
        "add",
        "gamma",
        "--tlp-max",
        "red",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        describe(&refused).contains("RED never leaves"),
        "{}",
        describe(&refused)
    );
    let refused = haechi(&[
        "intel",
        "partner",
        "add",
        "gamma",
        "--read",
        "nope",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        describe(&refused).contains("no collection 'nope'"),
        "{}",
        describe(&refused)
    );
    let listed = cli(&data, &["intel", "partner", "list"], "");
    assert!(
        listed.contains("acme\tactive\tTLP up to TLP:GREEN; reads inbox, shared; writes inbox"),
        "{listed}"
    );

    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n",
            toml_path(&data)
        ),
    );
    let server = Server::start(&config, &dir.path().join("stderr.log"));

    // Every TAXII route refuses a request without credentials, as a TAXII error.
    for (method, path) in TAXII_ROUTES {
        let path = path
            .replace("{status}", "x")
            .replace("{collection}", "x")
            .replace("{object}", "x");
        let r = server.request(
            method,
            &path,
            &[("Accept", "application/taxii+json;version=2.1")],
            b"",
        );
        assert_eq!(r.status, 401, "{method} {path} without credentials");
        assert_eq!(
            r.header("content-type"),
            Some("application/taxii+json;version=2.1")
        );
    }

    // A partner has no business with the REST API or the console.
    let basic = format!(
        "Basic {}",
        base64_encode(format!("{}:{}", acme.0, acme.1).as_bytes())
    );
    let r = server.request("GET", "/api/alerts", &[("Authorization", &basic)], b"");
    assert_eq!(r.status, 401, "the REST API takes no basic credentials");
    let partner_token = create_token(&data, "acme", "partner", None);
    for path in [
        "/api/alerts",
        "/api/events?q=*",
        "/api/tenants",
        "/api/board",
    ] {
        let auth = format!("Bearer {partner_token}");
        let r = server.request("GET", path, &[("Authorization", &auth)], b"");
        assert_eq!(
            r.status,
            403,
            "{path} refuses a partner's token: {}",
            r.text()
        );
        assert!(r.text().contains("TAXII server only"), "{}", r.text());
    }
    let login = json!({"username": acme.0, "password": acme.1}).to_string();
    let r = server.request(
        "POST",
        "/api/auth/login",
        &[("Content-Type", "application/json")],
        login.as_bytes(),
    );
    assert_eq!(r.status, 403, "a partner cannot log in: {}", r.text());
    assert!(r.text().contains("TAXII"), "{}", r.text());

    // The partners' own client.
    let hub = json!({
        "url": format!("http://{}", server.http),
        "acme": {"user": acme.0, "password": acme.1},
        "beta": {"user": beta.0, "password": beta.1},
        "ids": {
            "clear": id(1), "green": id(2), "amber": id(3), "strict": id(4), "red": id(5),
            "unmarked": id(6), "multi": id(100), "center_inbox": id(200),
        },
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/taxii/partner_client.py");
    let out = run_python(&script, &hub.to_string());
    assert!(
        out.status.success(),
        "the taxii2-client checks failed (run scripts/setup-test-tools if taxii2-client is missing):\n{}\nserver stderr:\n{}",
        describe(&out),
        server.stderr()
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("all TAXII checks passed"), "{printed}");
    assert_eq!(printed.matches("ok:").count(), 14, "{printed}");

    // The partner's changes are audited under its name.
    let audit = cli(&data, &["audit", "list", "--limit", "1000"], "");
    let actions: Vec<(String, String)> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| {
            (
                r["actor"].as_str().unwrap_or("").to_owned(),
                r["action"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for wanted in ["taxii.add", "taxii.delete"] {
        assert!(
            actions.contains(&("user:acme".into(), wanted.into())),
            "no {wanted} by user:acme in {actions:?}"
        );
    }
    assert!(
        actions.iter().any(|(_, a)| a == "intel.partner.set"),
        "partner grants are audited"
    );

    // Disabling the partner, or changing its password, takes effect at once although
    // its verified password is remembered (no waiting out a cache).
    let discovery = |auth: &str| {
        server
            .request(
                "GET",
                "/taxii2/",
                &[
                    ("Accept", "application/taxii+json;version=2.1"),
                    ("Authorization", auth),
                ],
                b"",
            )
            .status
    };
    assert_eq!(discovery(&basic), 200, "remembered and valid");
    cli(&data, &["user", "disable", &acme.0], "");
    assert_eq!(discovery(&basic), 401, "disabled: refused at once");
    cli(&data, &["user", "enable", &acme.0], "");
    assert_eq!(discovery(&basic), 200, "enabled again");
    let new_password = "a brand new partner password";
    cli(
        &data,
        &["user", "passwd", &acme.0, "--password-stdin"],
        &format!("{new_password}\n"),
    );
    assert_eq!(
        discovery(&basic),
        401,
        "the old password is refused at once"
    );
    let renewed = format!(
        "Basic {}",
        base64_encode(format!("{}:{new_password}", acme.0).as_bytes())
    );
    assert_eq!(discovery(&renewed), 200, "the new password works");
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// Every TAXII route of the server.
const TAXII_ROUTES: &[(&str, &str)] = haechi_server::taxii::ROUTES;

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn run_python(script: &Path, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// An ECS event as NDJSON, stamped now.
fn ecs_line(fields: Value) -> String {
    let mut event = fields;
    event["@timestamp"] = json!(chrono_now());
    event.to_string()
}

fn chrono_now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.%3NZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The alerts with `tag` (or all), newest first.
fn alerts(server: &Server, token: &str, query: &str) -> Vec<Value> {
    let auth = format!("Bearer {token}");
    let r = server.request(
        "GET",
        &format!("/api/alerts?limit=100{query}"),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["alerts"].as_array().cloned().unwrap_or_default()
}

fn post_envelope(server: &Server, token: &str, collection: &str, objects: Vec<Value>) -> Value {
    let auth = format!("Bearer {token}");
    let body = json!({ "objects": objects }).to_string();
    let r = server.request(
        "POST",
        &format!("/taxii2/hub/collections/{collection}/objects/"),
        &[
            ("Authorization", &auth),
            ("Accept", "application/taxii+json;version=2.1"),
            ("Content-Type", "application/taxii+json;version=2.1"),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    r.json()
}

fn domain_indicator(id: &str, domain: &str, modified: &str, revoked: bool) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-11-01T00:00:00.000Z", "modified": modified,
        "name": "Loader C2", "pattern": format!("[domain-name:value = '{domain}']"),
        "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z", "revoked": revoked,
        "confidence": 85, "object_marking_refs": [GREEN],
    })
}

#[test]
fn shared_indicators_reach_the_live_matcher_and_are_retro_hunted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cli(&data, &["intel", "collection", "add", "shared"], "");
    let token = create_token(&data, "hub-admin", "admin", None);
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n[pipeline]\ncommit_interval_ms = 100\n",
            toml_path(&data)
        ),
    );
    let server = Server::start(&config, &dir.path().join("stderr.log"));
    let auth = format!("Bearer {token}");
    let ingest = |tenant: &str, lines: &[String]| {
        let r = server.request(
            "POST",
            &format!("/api/ingest?tenant={tenant}"),
            &[("Authorization", &auth)],
            lines.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["dead_letter"], 0, "{}", r.text());
    };
    // Yesterday's traffic, before anyone knew: a lookup of the C2 domain's subdomain at
    // the hospital, a connection to the C2 address at city hall, and clean traffic.
    ingest(
        "hospital",
        &[
            ecs_line(
                json!({"dns.question.name": "api.loader-c2.example", "source.ip": "10.20.0.15", "event.id": "dns-1"}),
            ),
            ecs_line(json!({"dns.question.name": "www.example.org", "source.ip": "10.20.0.16"})),
        ],
    );
    ingest(
        "city-hall",
        &[ecs_line(
            json!({"source.ip": "10.30.0.9", "destination.ip": "198.51.100.77", "destination.port": 443}),
        )],
    );
    // Searchable before the indicators arrive (the commit interval is 100 ms).
    wait_for("the hospital's lookup to be stored", PATIENCE, || {
        let r = server.request(
            "GET",
            "/api/events?q=dns.question.name:api.loader-c2.example",
            &[("Authorization", &auth)],
            b"",
        );
        let total = r.json()["total"].as_u64();
        (total == Some(1)).then_some(()).ok_or(format!("{total:?}"))
    });
    assert!(
        alerts(&server, &token, "").is_empty(),
        "nothing is known yet"
    );

    // The indicators arrive over TAXII.
    let c2_domain = "indicator--c2000001-17d4-4cbf-938f-98ee46b3cd3f";
    let c2_address = "indicator--c2000002-17d4-4cbf-938f-98ee46b3cd3f";
    let status = post_envelope(
        &server,
        &token,
        &collection_id(&server, &token, "shared"),
        vec![
            domain_indicator(
                c2_domain,
                "loader-c2.example",
                "2026-11-01T00:00:00.000Z",
                false,
            ),
            json!({
                "type": "indicator", "spec_version": "2.1", "id": c2_address,
                "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
                "pattern": "[ipv4-addr:value = '198.51.100.77']", "pattern_type": "stix",
                "valid_from": "2026-11-01T00:00:00Z", "confidence": 60,
            }),
        ],
    );
    assert_eq!(status["success_count"], 2, "{status}");

    // Retro-hunt: both stored events become retrospective alerts, at their institutions.
    let retro = wait_for("two retrospective alerts", PATIENCE, || {
        let a = alerts(&server, &token, "&tag=retrospective");
        if a.len() == 2 {
            Ok(a)
        } else {
            Err(format!("{a:?}"))
        }
    });
    let by_tenant = |t: &str| {
        retro
            .iter()
            .find(|a| a["tenant"] == t)
            .cloned()
            .unwrap_or_else(|| panic!("no retrospective alert at {t}: {retro:?}"))
    };
    let hospital = by_tenant("hospital");
    assert_eq!(hospital["rule_id"], "indicator:domain:loader-c2.example");
    assert!(
        hospital["rule_title"]
            .as_str()
            .unwrap()
            .starts_with("Retro-hunt: ")
    );
    assert_eq!(hospital["details"]["feed"], "hub:shared");
    assert_eq!(hospital["details"]["object_id"], c2_domain);
    assert_eq!(hospital["level"], "high", "confidence 85");
    assert_eq!(hospital["events"][0]["id"], "dns-1");
    assert_eq!(
        by_tenant("city-hall")["details"]["indicator"],
        "198.51.100.77"
    );

    // Live: a new lookup alerts at once, with no restart and no retrospective tag.
    ingest(
        "water-works",
        &[ecs_line(
            json!({"dns.question.name": "loader-c2.example", "source.ip": "10.40.0.3"}),
        )],
    );
    let live = wait_for("a live alert at the water works", PATIENCE, || {
        alerts(&server, &token, "&tenant=water-works")
            .into_iter()
            .next()
            .ok_or_else(|| "none yet".to_owned())
    });
    assert!(
        !live["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "retrospective"),
        "{live}"
    );
    assert_eq!(live["rule_id"], "indicator:domain:loader-c2.example");

    // The hits come back to the indicators' collection as STIX sightings.
    let sightings = wait_for("sightings of both indicators", PATIENCE, || {
        let auth = format!("Bearer {token}");
        let r = server.request(
            "GET",
            &format!(
                "/taxii2/hub/collections/{}/objects/?match[type]=sighting",
                collection_id(&server, &token, "shared")
            ),
            &[
                ("Authorization", &auth),
                ("Accept", "application/taxii+json;version=2.1"),
            ],
            b"",
        );
        let list = r.json()["objects"].as_array().cloned().unwrap_or_default();
        let count = |of: &str| {
            list.iter()
                .find(|s| s["sighting_of_ref"] == of)
                .and_then(|s| s["count"].as_u64())
        };
        if count(c2_domain) == Some(2) && count(c2_address) == Some(1) {
            Ok(list)
        } else {
            Err(format!("{list:?}"))
        }
    });
    for s in &sightings {
        assert_eq!(s["where_sighted_refs"].as_array().unwrap().len(), 1);
        let text = s.to_string();
        for institution in ["hospital", "city-hall", "water-works", "10.20.0.15"] {
            assert!(
                !text.contains(institution),
                "a sighting names {institution}: {text}"
            );
        }
    }
    let domain_sighting = sightings
        .iter()
        .find(|s| s["sighting_of_ref"] == c2_domain)
        .unwrap();
    assert_eq!(
        domain_sighting["object_marking_refs"],
        json!([GREEN]),
        "the indicator's TLP"
    );

    // Revoked: the indicator stops matching.
    post_envelope(
        &server,
        &token,
        &collection_id(&server, &token, "shared"),
        vec![domain_indicator(
            c2_domain,
            "loader-c2.example",
            "2026-11-02T00:00:00.000Z",
            true,
        )],
    );
    // The hub set is rebuilt: one indicator left (the watcher logs each load).
    wait_for(
        "the hub set without the revoked indicator",
        PATIENCE,
        || {
            let log = server.stderr();
            log.contains("indicators=1 ")
                .then_some(())
                .ok_or_else(|| "not yet".to_owned())
        },
    );
    // The same batch holds a control: the address indicator still matches.
    ingest(
        "university",
        &[
            ecs_line(json!({"dns.question.name": "loader-c2.example", "source.ip": "10.50.0.3"})),
            ecs_line(json!({"source.ip": "10.50.0.4", "destination.ip": "198.51.100.77"})),
        ],
    );
    let university = wait_for("the control alert at the university", PATIENCE, || {
        let a = alerts(&server, &token, "&tenant=university");
        if a.is_empty() {
            Err("none yet".into())
        } else {
            Ok(a)
        }
    });
    assert_eq!(
        university
            .iter()
            .map(|a| a["rule_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["indicator:ip:198.51.100.77"],
        "a revoked indicator no longer matches"
    );
    assert_eq!(
        alerts(&server, &token, "&tag=retrospective").len(),
        2,
        "nothing is hunted twice"
    );
    // The water works' incident is confirmed and shared back with the partners.
    publish_the_incident(&server, &token, &data, &live);
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// The TAXII id of a collection, by its alias.
fn collection_id(server: &Server, token: &str, alias: &str) -> String {
    let auth = format!("Bearer {token}");
    let r = server.request(
        "GET",
        "/taxii2/hub/collections/",
        &[
            ("Authorization", &auth),
            ("Accept", "application/taxii+json;version=2.1"),
        ],
        b"",
    );
    r.json()["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["alias"] == alias)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn api(server: &Server, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let r = server.request(
        method,
        path,
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    );
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// Confirms the alert's incident, blocks its attacker, publishes it to `outbox` as
/// TLP:GREEN, and checks what a TAXII reader gets (and that the OASIS validator accepts
/// it).
fn publish_the_incident(server: &Server, token: &str, data: &Path, alert: &Value) {
    let (_, detail) = api(
        server,
        token,
        "GET",
        &format!("/api/alerts/{}", alert["id"]),
        json!({}),
    );
    let incident = detail["incident"]
        .as_i64()
        .expect("the alert is in an incident");
    cli(data, &["intel", "collection", "add", "outbox"], "");
    let publish = |tlp: &str| {
        api(
            server,
            token,
            "POST",
            &format!("/api/incidents/{incident}/publish"),
            json!({"collection": "outbox", "tlp": tlp}),
        )
    };
    let (status, answer) = publish("green");
    assert_eq!(status, 409, "a new incident is not confirmed: {answer}");
    let (status, _) = api(
        server,
        token,
        "POST",
        &format!("/api/incidents/{incident}"),
        json!({"status": "containment", "note": "C2 confirmed; blocking"}),
    );
    assert_eq!(status, 200);
    let (status, _) = api(
        server,
        token,
        "POST",
        "/api/blocklists/edge",
        json!({"value": "loader-c2.example", "reason": "loader C2"}),
    );
    assert_eq!(status, 201, "the block-list entry is created");
    let (status, answer) = publish("red");
    assert_eq!(status, 400, "RED never leaves the hub: {answer}");
    let analyst = create_token(data, "water-analyst", "institution", Some("water-works"));
    let (status, _) = api(
        server,
        &analyst,
        "POST",
        &format!("/api/incidents/{incident}/publish"),
        json!({"collection": "outbox", "tlp": "green"}),
    );
    assert_eq!(status, 403, "publishing is for center analysts");
    let (status, answer) = publish("green");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["tlp"], "green");

    // What a TAXII reader gets: the report and everything it refers to.
    let collection = answer["collection_id"].as_str().unwrap();
    let auth = format!("Bearer {token}");
    let r = server.request(
        "GET",
        &format!("/taxii2/hub/collections/{collection}/objects/"),
        &[
            ("Authorization", &auth),
            ("Accept", "application/taxii+json;version=2.1"),
        ],
        b"",
    );
    assert_eq!(r.status, 200);
    let objects = r.json()["objects"].as_array().unwrap().clone();
    let of_type = |t: &str| {
        objects
            .iter()
            .filter(|o| o["type"] == t)
            .collect::<Vec<_>>()
    };
    let report = of_type("report");
    assert_eq!(report.len(), 1);
    assert!(
        !serde_json::to_string(&objects)
            .unwrap()
            .contains("water-works"),
        "the published report names no institution"
    );
    assert!(
        !indicators_of(&objects)
            .iter()
            .any(|p| p.contains("10.40.0.3")),
        "internal addresses are not published"
    );
    assert_eq!(report[0]["id"], answer["report"]);
    let indicators = of_type("indicator");
    assert!(
        indicators
            .iter()
            .any(|i| i["pattern"] == "[domain-name:value = 'loader-c2.example']"),
        "{indicators:?}"
    );
    let action = of_type("course-of-action");
    assert_eq!(action.len(), 1);
    assert!(
        action[0]["description"]
            .as_str()
            .unwrap()
            .contains("loader-c2.example blocked in block list edge"),
        "{action:?}"
    );
    assert!(
        objects
            .iter()
            .filter(|o| o["type"] != "marking-definition")
            .all(|o| o["object_marking_refs"] == json!([GREEN])),
        "every object is TLP:GREEN"
    );
    // The OASIS validator accepts the published bundle.
    let bundle = json!({"type": "bundle", "id": "bundle--0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "objects": objects});
    let file = data.join("published.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom stix2validator import validate_file, print_results\nr = validate_file(sys.argv[1])\nprint_results(r)\nsys.exit(0 if r.is_valid else 1)\n",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "stix2-validator: {}", describe(&out));
    // Audited.
    let audit = cli(data, &["audit", "list", "--limit", "1000"], "");
    assert!(audit.contains("incident.publish"), "{audit}");
}

/// The patterns of the indicators among `objects`.
fn indicators_of(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| o["pattern"].as_str().unwrap_or_default().to_owned())
        .collect()
}

const PUBLISH_PLAYBOOK: &str = "id: share-c2-hits
name: Share incidents of C2 hits with the partners
mode: approval
trigger:
  indicator: true
actions:
  - publish: {collection: outbox, tlp: amber}
";

#[test]
fn an_approved_playbook_publishes_the_incident() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for c in ["shared", "outbox"] {
        cli(&data, &["intel", "collection", "add", c], "");
    }
    let c2 = "indicator--c2000009-17d4-4cbf-938f-98ee46b3cd3f";
    let bundle = json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [domain_indicator(c2, "loader-c2.example", "2026-11-01T00:00:00.000Z", false)],
    });
    let file = write_file(dir.path(), "c2.json", &bundle.to_string());
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
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    // In automatic mode the action is refused: a person confirms what leaves the center.
    std::fs::write(
        playbooks.join("auto.yml"),
        PUBLISH_PLAYBOOK.replace("mode: approval", "mode: auto"),
    )
    .unwrap();
    let refused = haechi(&["playbook", "check", playbooks.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        describe(&refused).contains("mode: approval"),
        "{}",
        describe(&refused)
    );
    std::fs::write(playbooks.join("auto.yml"), PUBLISH_PLAYBOOK).unwrap();
    let token = create_token(&data, "hub-admin", "admin", None);
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n[pipeline]\ncommit_interval_ms = 100\n[respond]\nplaybooks = {}\n",
            toml_path(&data),
            toml_path(&playbooks)
        ),
    );
    let server = Server::start(&config, &dir.path().join("stderr.log"));
    // The hub set is loaded before the event arrives.
    wait_for("the hub set", PATIENCE, || {
        server
            .stderr()
            .contains("indicators=1 ")
            .then_some(())
            .ok_or_else(|| "not yet".to_owned())
    });
    let auth = format!("Bearer {token}");
    let r = server.request(
        "POST",
        "/api/ingest?tenant=hospital",
        &[("Authorization", &auth)],
        ecs_line(json!({"dns.question.name": "loader-c2.example", "source.ip": "10.20.0.15"}))
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let run = wait_for("a pending publish run", PATIENCE, || {
        let (_, v) = api(&server, &token, "GET", "/api/playbook-runs", json!({}));
        v["runs"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["playbook"] == "share-c2-hits").cloned())
            .ok_or_else(|| format!("{v}"))
    });
    assert_eq!(run["status"], "pending");
    assert_eq!(run["plan"][0]["action"], "publish");
    assert_eq!(run["plan"][0]["collection"], "outbox");
    let (s, v) = api(
        &server,
        &token,
        "POST",
        &format!("/api/playbook-runs/{}/approve", run["id"]),
        json!({}),
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("done")), "{v}");
    assert_eq!(v["outcomes"][0]["ok"], true, "{v}");
    let outbox = collection_id(&server, &token, "outbox");
    let r = server.request(
        "GET",
        &format!("/taxii2/hub/collections/{outbox}/objects/?match[type]=report"),
        &[
            ("Authorization", &auth),
            ("Accept", "application/taxii+json;version=2.1"),
        ],
        b"",
    );
    let reports = r.json()["objects"].as_array().cloned().unwrap_or_default();
    assert_eq!(reports.len(), 1, "{}", r.text());
    assert_eq!(reports[0]["object_marking_refs"], json!([AMBER]));
    let audit = cli(&data, &["audit", "list", "--limit", "1000"], "");
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"actor\":\"playbook:share-c2-hits\"")
                && l.contains("\"action\":\"incident.publish\"")),
        "{audit}"
    );
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// A retro-hunt whose query matches more stored events than it reads
/// (`intel.retro_hunt_max_events`) hunts the newest and says so: the pass is kept with
/// what it matched and read, for center-wide users (the API and the board's panel).
#[test]
fn a_truncated_retro_hunt_is_reported_to_the_center() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    cli(&data, &["intel", "collection", "add", "shared"], "");
    let token = create_token(&data, "hub-admin", "admin", None);
    let seoul = create_token(&data, "seoul-bot", "institution", Some("seoul"));
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n[pipeline]\ncommit_interval_ms = 100\n[intel]\nretro_hunt_max_events = 3\n",
            toml_path(&data)
        ),
    );
    let server = Server::start(&config, &dir.path().join("stderr.log"));
    let auth = format!("Bearer {token}");
    let lines: Vec<String> = (0..10)
        .map(|i| {
            ecs_line(json!({"source.ip": format!("10.0.0.{i}"), "destination.ip": "198.51.100.88"}))
        })
        .collect();
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul",
        &[("Authorization", &auth)],
        lines.join("\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    wait_for("ten stored events", PATIENCE, || {
        let r = server.request(
            "GET",
            "/api/events?q=destination.ip:198.51.100.88",
            &[("Authorization", &auth)],
            b"",
        );
        let total = r.json()["total"].as_u64();
        (total == Some(10))
            .then_some(())
            .ok_or(format!("{total:?}"))
    });
    let status = post_envelope(
        &server,
        &token,
        &collection_id(&server, &token, "shared"),
        vec![json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--c2000088-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '198.51.100.88']", "pattern_type": "stix",
            "valid_from": "2026-11-01T00:00:00Z", "confidence": 60,
        })],
    );
    assert_eq!(status["success_count"], 1, "{status}");
    let pass = wait_for("the retro-hunt pass", PATIENCE, || {
        let v = server.get_json(&token, "/api/retro-hunts");
        match v["retro_hunts"].as_array().and_then(|a| a.first()) {
            Some(p) => Ok(p.clone()),
            None => Err(v.to_string()),
        }
    });
    assert_eq!(pass["truncated"], true, "{pass}");
    assert_eq!(pass["matched"], 10, "{pass}");
    assert_eq!(pass["events_checked"], 3, "the newest three: {pass}");
    assert_eq!(pass["new_indicators"], 1, "{pass}");
    let board = server.get_json(&token, "/api/board");
    assert_eq!(board["retro_hunts"][0]["truncated"], true, "{board}");
    let r = server.request(
        "GET",
        "/api/retro-hunts",
        &[("Authorization", &format!("Bearer {seoul}"))],
        b"",
    );
    assert_eq!(
        r.status,
        403,
        "retro-hunts cover every institution: {}",
        r.text()
    );
    let board = server.get_json(&seoul, "/api/board");
    assert!(board["retro_hunts"].is_null(), "{board}");
    let m = server.metrics(&token);
    assert_eq!(
        metric(&m, "haechi_retro_hunts_total", &[("truncated", "true")]),
        1.0,
        "{m}"
    );
    assert_eq!(metric(&m, "haechi_alerts_unrecorded", &[]), 0.0, "{m}");
    let (status, _) = server.terminate();
    assert!(status.success());
}
