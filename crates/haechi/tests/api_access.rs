//! Access control of the API as people and machines meet it: `haechi user` and `haechi
//! token` create the accounts, `haechi serve` answers. Every route of the router is tried
//! without credentials, with an unknown, an expired and a revoked token; every route that
//! returns data is tried as an institution analyst against the other institution; roles
//! that may not change things are refused; a browser-style session needs its CSRF token
//! for changes; five wrong passwords lock a user out; every change is in the audit log
//! and `haechi audit verify` accepts the chain.

#[path = "../../store/tests/common/clickhouse.rs"]
mod clickhouse_server;
mod common;

use common::*;
use serde_json::{Value, json};

const PATH_TRAVERSAL: &str =
    "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";
const PASSWORD: &str = "correct horse battery staple";

fn access_line(ip: &str, second: u32) -> String {
    format!(
        "{ip} - - [{}] \"GET /dl?file=../../../etc/passwd HTTP/1.1\" 404 512 \"-\" \"curl/8.5.0\"",
        clf_time(second.into())
    )
}

struct Api<'a> {
    server: &'a Server,
}

impl Api<'_> {
    fn call(&self, method: &str, path: &str, auth: &[(&str, &str)], body: &str) -> (u16, Value) {
        let mut headers = auth.to_vec();
        headers.push(("Content-Type", "application/json"));
        let r = self.server.request(method, path, &headers, body.as_bytes());
        let v = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        (r.status, v)
    }

    fn bearer(&self, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        self.call(method, path, &[("Authorization", &auth)], body)
    }
}

/// A concrete path for a route pattern.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1")
        .replace("{name}", "nobody")
        .replace("{file}", "app.js")
        .replace("{task}", "1")
        .replace("{evidence}", "1")
}

/// Opens `GET /api/alerts/stream` and reads past the response head.
fn open_stream(server: &Server, token: &str) -> std::io::BufReader<std::net::TcpStream> {
    use std::io::{BufRead, Write};
    let mut tcp = std::net::TcpStream::connect(server.http).unwrap();
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        tcp,
        "GET /api/alerts/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut reader = std::io::BufReader::new(tcp);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if line.to_ascii_lowercase().starts_with("content-type") {
            assert!(line.contains("text/event-stream"), "{line}");
        }
    }
    reader
}

/// Reads `n` `alert` events of an open stream (chunked; the data lines are found by prefix).
fn read_stream_alerts(mut reader: std::io::BufReader<std::net::TcpStream>, n: usize) -> Vec<Value> {
    use std::io::BufRead;
    let mut alerts = Vec::new();
    let mut event = String::new();
    let mut line = String::new();
    while alerts.len() < n {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(e) = line.trim_end().strip_prefix("event: ") {
            event = e.to_owned();
        } else if let Some(d) = line.trim_end().strip_prefix("data: ")
            && event == "alert"
        {
            alerts.push(serde_json::from_str(d).unwrap());
        }
    }
    alerts
}

#[test]
fn every_endpoint_authenticates_enforces_roles_and_isolates_institutions() {
    access_control_with_store("");
}

/// The same checks with the events in ClickHouse: the institution filter is the store's
/// job, so it is tested on each backend.
#[test]
fn every_endpoint_isolates_institutions_on_the_clickhouse_store() {
    let server = clickhouse_server::ClickHouseServer::start();
    let c = server.database("access");
    access_control_with_store(&format!(
        "[store]\nbackend = \"clickhouse\"\n[store.clickhouse]\nurl = \"{}\"\ndatabase = \"{}\"\nuser = \"{}\"\npassword = \"{}\"\n",
        c.url,
        c.database,
        c.user,
        c.password.as_deref().unwrap_or_default()
    ));
    let stored = haechi_store::clickhouse::ClickHouseStore::open(&c).unwrap();
    use haechi_store::EventStore;
    assert_eq!(
        stored.stats().events,
        6,
        "the six events the run ingested (four, then two for the live feed) are in ClickHouse"
    );
}

/// `store_config`: a `[store]` section added to the server's configuration.
fn access_control_with_store(store_config: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(PATH_TRAVERSAL), rules.join("pt.yml")).unwrap();
    add_user(&data, "root", "admin", None, PASSWORD);
    add_user(&data, "duty", "center", None, PASSWORD);
    add_user(&data, "kim", "institution", Some("seoul"), PASSWORD);
    add_user(&data, "watch", "viewer", None, PASSWORD);
    let admin = create_token(&data, "ops", "admin", None);
    let seoul = create_token(&data, "seoul-analyst-bot", "institution", Some("seoul"));
    let viewer = create_token(&data, "wallboard", "viewer", None);
    let expired = create_token(&data, "old", "center", None);
    let revoked = create_token(&data, "leaked", "center", None);
    cli(&data, &["token", "revoke", "leaked"], "");
    // Time passes for `old`: its expiry moves into the past.
    {
        let db = rusqlite::Connection::open(data.join("state/access.db")).unwrap();
        db.execute("UPDATE tokens SET expires = 1 WHERE name = 'old'", [])
            .unwrap();
    }
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n[pipeline]\ncommit_interval_ms = 100\n[detect]\nrules = [{}]\n{store_config}",
            toml_path(&data),
            toml_path(&rules)
        ),
    );
    let server = Server::start(&config, &dir.path().join("serve.stderr"));
    let api = Api { server: &server };

    // Data for two institutions, alerts for both.
    for (tenant, ip) in [("seoul", "203.0.113.5"), ("busan", "203.0.113.5")] {
        let lines: Vec<String> = (0..2).map(|i| access_line(ip, i)).collect();
        let r = server.request(
            "POST",
            &format!("/api/ingest?tenant={tenant}&format=clf"),
            &[("Authorization", &format!("Bearer {admin}"))],
            lines.join("\n").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let all = wait_for("alerts of both institutions", PATIENCE, || {
        let (s, v) = api.bearer(&admin, "GET", "/api/alerts", "");
        let list = v["alerts"].as_array().cloned().unwrap_or_default();
        if s == 200 && list.len() == 2 {
            Ok(list)
        } else {
            Err(format!("{s} {v}"))
        }
    });
    let busan_alert = all.iter().find(|a| a["tenant"] == "busan").unwrap()["id"]
        .as_i64()
        .unwrap();
    let seoul_alert = all.iter().find(|a| a["tenant"] == "seoul").unwrap()["id"]
        .as_i64()
        .unwrap();
    wait_for("events searchable", PATIENCE, || {
        let (_, v) = api.bearer(&admin, "GET", "/api/events?q=", "");
        if v["total"] == 4 {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });

    // 1. Every authenticated route refuses missing, unknown, expired and revoked
    //    credentials with 401 and a reason.
    for (method, path, needs_auth) in haechi_server::ROUTES {
        let p = concrete(path);
        let (status, body) = api.call(method, &p, &[], "{}");
        if !needs_auth {
            assert_ne!(status, 401, "{method} {path} is public");
            continue;
        }
        assert_eq!(status, 401, "{method} {path} without credentials: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("credentials"),
            "{body}"
        );
        for (token, reason) in [
            ("hct_0000", "unknown"),
            (expired.as_str(), "expired"),
            (revoked.as_str(), "revoked"),
        ] {
            let (status, body) = api.bearer(token, method, &p, "{}");
            assert_eq!(status, 401, "{method} {path} with a {reason} token: {body}");
            assert!(body["error"].as_str().unwrap().contains(reason), "{body}");
        }
    }

    // The console is served by the binary itself, locked to its own files.
    let page = server.request("GET", "/console/", &[], b"");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("app.js"));
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let home = server.request("GET", "/", &[], b"");
    assert_eq!(
        (home.status, home.header("location")),
        (303, Some("/console/"))
    );
    assert_eq!(
        server.request("GET", "/console/nope.js", &[], b"").status,
        404
    );

    // 2. Tenant isolation: the Seoul analyst's token on every route that returns data.
    let refused = [
        "/api/alerts?tenant=busan",
        "/api/incidents?tenant=busan",
        "/api/campaigns",
        "/api/incidents?campaign=1",
        "/api/risk?tenant=busan",
        "/api/risk/series?tenant=busan",
        "/api/events?tenant=busan",
        "/api/board?tenant=busan",
    ];
    for path in refused {
        let (s, v) = api.bearer(&seoul, "GET", path, "");
        assert_eq!(s, 403, "{path}: {v}");
    }
    let (_, v) = api.bearer(&seoul, "GET", "/api/alerts", "");
    let mine = v["alerts"].as_array().unwrap();
    assert!(
        !mine.is_empty() && mine.iter().all(|a| a["tenant"] == "seoul"),
        "{v}"
    );
    let (s, _) = api.bearer(&seoul, "GET", &format!("/api/alerts/{busan_alert}"), "");
    assert_eq!(
        s, 404,
        "another institution's alert does not exist for Seoul"
    );
    // A query naming Busan still finds nothing of Busan's: the filter is in the store.
    for q in ["", "organization.id:busan", "source.ip:203.0.113.5"] {
        let (s, v) = api.bearer(
            &seoul,
            "GET",
            &format!("/api/events?q={q}&histogram=60"),
            "",
        );
        assert_eq!(s, 200, "{v}");
        let events = v["events"].as_array().unwrap();
        assert!(
            events.iter().all(|e| e["organization.id"] == "seoul"),
            "{q}: {v}"
        );
        let counted: u64 = v["histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_u64().unwrap())
            .sum();
        assert_eq!(
            counted,
            v["total"].as_u64().unwrap(),
            "the histogram counts the same events"
        );
    }
    let (_, v) = api.bearer(&seoul, "GET", "/api/events?q=", "");
    assert_eq!(v["total"], 2, "Seoul's two events only: {v}");
    let (_, v) = api.bearer(&seoul, "GET", "/api/tenants", "");
    let ids: Vec<&str> = v["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["seoul"], "{v}");
    let (_, v) = api.bearer(&admin, "GET", "/api/tenants", "");
    assert_eq!(
        v["tenants"].as_array().unwrap().len(),
        3,
        "default, busan, seoul: {v}"
    );
    let (_, v) = api.bearer(&seoul, "GET", "/api/risk", "");
    assert!(
        v["institutions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["tenant"] == "seoul"),
        "{v}"
    );
    // The situation board: Seoul's figures only, no shared ingest health.
    let (s, v) = api.bearer(&seoul, "GET", "/api/board?hours=24", "");
    assert_eq!(s, 200, "{v}");
    let board = &v["board"];
    assert_eq!(board["tenants"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(board["tenants"][0]["tenant"], "seoul");
    assert!(
        board["attackers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["tenants"] == serde_json::json!(["seoul"])),
        "{v}"
    );
    assert_eq!(v["ingest"], Value::Null, "{v}");
    let (_, v) = api.bearer(&admin, "GET", "/api/board?hours=24", "");
    assert_eq!(v["board"]["tenants"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["board"]["attackers"][0]["value"], "203.0.113.5", "{v}");
    assert_eq!(
        v["board"]["attackers"][0]["tenants"],
        serde_json::json!(["busan", "seoul"])
    );
    let http = v["ingest"].as_array().unwrap();
    assert!(
        http.iter()
            .any(|s| s["source"] == "http" && s["events"] == 4),
        "ingest health counts the 4 events sent over HTTP: {v}"
    );
    let (s, _) = api.bearer(&admin, "GET", "/api/board?hours=0", "");
    assert_eq!(s, 400);
    // An alert names the incident it belongs to, for the console's link.
    let (_, v) = api.bearer(&seoul, "GET", &format!("/api/alerts/{seoul_alert}"), "");
    assert!(v["incident"].as_i64().is_some(), "{v}");
    // Triage of Busan's alert by Seoul changes nothing.
    let body = format!(r#"{{"ids":[{busan_alert}],"action":"close","disposition":"benign"}}"#);
    let (s, v) = api.bearer(&seoul, "POST", "/api/alerts/triage", &body);
    assert_eq!((s, v["changed"].as_array().unwrap().len()), (200, 0), "{v}");
    // Incidents: one per institution, one campaign (the same attacker at both) that
    // only the center sees.
    let (_, v) = api.bearer(&admin, "GET", "/api/campaigns", "");
    let campaigns = v["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 1, "{v}");
    assert_eq!(
        campaigns[0]["tenants"],
        serde_json::json!(["busan", "seoul"])
    );
    assert_eq!(campaigns[0]["key"], "attacker:203.0.113.5");
    let (_, v) = api.bearer(&admin, "GET", "/api/incidents", "");
    let incidents = v["incidents"].as_array().unwrap().clone();
    assert_eq!(incidents.len(), 2, "{v}");
    assert!(
        incidents
            .iter()
            .all(|i| i["campaign"] == campaigns[0]["id"])
    );
    let busan_incident = incidents.iter().find(|i| i["tenant"] == "busan").unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, v) = api.bearer(&seoul, "GET", "/api/incidents", "");
    let mine = v["incidents"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "{v}");
    assert_eq!(mine[0]["tenant"], "seoul");
    assert_eq!(
        mine[0]["campaign"],
        Value::Null,
        "an institution does not learn of the others"
    );
    let (s, _) = api.bearer(
        &seoul,
        "GET",
        &format!("/api/incidents/{busan_incident}"),
        "",
    );
    assert_eq!(s, 404);
    let (s, _) = api.bearer(
        &seoul,
        "POST",
        &format!("/api/incidents/{busan_incident}"),
        r#"{"status":"closed"}"#,
    );
    assert_eq!(s, 404, "Seoul cannot change Busan's incident");
    let (s, _) = api.bearer(
        &seoul,
        "POST",
        &format!("/api/incidents/{busan_incident}/tasks"),
        r#"{"text":"look at Busan"}"#,
    );
    assert_eq!(s, 404, "Seoul cannot add a task to Busan's incident");
    let (s, task) = api.bearer(
        &admin,
        "POST",
        &format!("/api/incidents/{busan_incident}/tasks"),
        r#"{"text":"re-image the web server"}"#,
    );
    assert_eq!(s, 200, "{task}");
    let (s, _) = api.bearer(
        &seoul,
        "POST",
        &format!("/api/incidents/{busan_incident}/tasks/{}", task["id"]),
        r#"{"done":true}"#,
    );
    assert_eq!(s, 404, "Seoul cannot tick off Busan's task");
    let (s, done) = api.bearer(
        &admin,
        "POST",
        &format!("/api/incidents/{busan_incident}/tasks/{}", task["id"]),
        r#"{"done":true}"#,
    );
    assert_eq!(
        (s, done["done_by"].as_str()),
        (200, Some("token:ops")),
        "{done}"
    );
    let (_, v) = api.bearer(
        &admin,
        "GET",
        &format!("/api/incidents/{busan_incident}"),
        "",
    );
    assert_eq!(v["tasks"][0]["text"], "re-image the web server", "{v}");
    for part in ["timeline", "report", "report?format=html"] {
        let (s, _) = api.bearer(
            &seoul,
            "GET",
            &format!("/api/incidents/{busan_incident}/{part}"),
            "",
        );
        assert_eq!(s, 404, "Seoul cannot read Busan's incident {part}");
    }
    // The timeline holds the incident's events, of its own institution only.
    let (s, v) = api.bearer(
        &admin,
        "GET",
        &format!("/api/incidents/{busan_incident}/timeline"),
        "",
    );
    assert_eq!(s, 200, "{v}");
    let events = v["events"].as_array().unwrap();
    assert!(
        !events.is_empty() && events.iter().all(|e| e["organization.id"] == "busan"),
        "{v}"
    );
    // Evidence: an event of the timeline is pinned by its reference; the server copies
    // it from the event store. Not by Seoul, not by a viewer, not twice, not forged.
    let pin = json!({
        "ref": v["refs"][0],
        "time": events[0]["@timestamp"],
        "note": "the first traversal attempt",
    })
    .to_string();
    let evidence_path = format!("/api/incidents/{busan_incident}/evidence");
    let (s, _) = api.bearer(&seoul, "POST", &evidence_path, &pin);
    assert_eq!(s, 404, "Seoul cannot pin to Busan's incident");
    let (s, _) = api.bearer(&viewer, "POST", &evidence_path, &pin);
    assert_eq!(s, 403, "a viewer pins nothing");
    let (s, pinned) = api.bearer(&admin, "POST", &evidence_path, &pin);
    assert_eq!(s, 201, "{pinned}");
    assert_eq!(pinned["event"], events[0], "the stored event, copied");
    let (s, again) = api.bearer(&admin, "POST", &evidence_path, &pin);
    assert_eq!(s, 400, "{again}");
    let forged = json!({"ref": "0".repeat(32), "time": events[0]["@timestamp"]}).to_string();
    let (s, _) = api.bearer(&admin, "POST", &evidence_path, &forged);
    assert_eq!(s, 404, "an event that is not stored cannot be pinned");
    let (_, detail) = api.bearer(
        &admin,
        "GET",
        &format!("/api/incidents/{busan_incident}"),
        "",
    );
    assert_eq!(detail["evidence"][0]["note"], "the first traversal attempt");
    let (_, report) = api.bearer(
        &admin,
        "GET",
        &format!("/api/incidents/{busan_incident}/report"),
        "",
    );
    assert_eq!(report["evidence"][0]["id"], pinned["id"]);
    let remove = format!("{evidence_path}/{}/remove", pinned["id"]);
    let (s, _) = api.bearer(&seoul, "POST", &remove, "");
    assert_eq!(s, 404, "Seoul cannot unpin Busan's evidence");
    let (s, _) = api.bearer(&admin, "POST", &remove, "");
    assert_eq!(s, 200);
    let (s, _) = api.bearer(&admin, "POST", &evidence_path, &pin);
    assert_eq!(s, 201, "pinned again after removal");
    let (s, v) = api.bearer(
        &viewer,
        "POST",
        &format!("/api/incidents/{busan_incident}"),
        r#"{"status":"triage"}"#,
    );
    assert_eq!(s, 403, "{v}");
    let (s, v) = api.bearer(
        &admin,
        "POST",
        &format!("/api/incidents/{busan_incident}"),
        r#"{"status":"containment","owner":"duty","note":"blocked at the edge"}"#,
    );
    assert_eq!((s, v["status"].as_str()), (200, Some("containment")), "{v}");
    let (s, v) = api.bearer(
        &admin,
        "POST",
        &format!("/api/incidents/{busan_incident}"),
        r#"{"status":"solved"}"#,
    );
    assert_eq!(s, 400, "{v}");
    assert!(v["error"].as_str().unwrap().contains("eradication"), "{v}");
    let (_, v) = api.bearer(
        &admin,
        "GET",
        &format!("/api/incidents/{busan_incident}"),
        "",
    );
    assert_eq!(v["notes"][0]["text"], "blocked at the edge");
    assert_eq!(v["alert_list"].as_array().unwrap().len(), 1);
    let (s, v) = api.bearer(&seoul, "POST", "/api/ingest?tenant=busan", "{}");
    assert_eq!(s, 403, "{v}");

    // 3. Roles: viewers change nothing, institution analysts administer nothing.
    let writes = [
        (
            "POST",
            "/api/alerts/triage",
            format!(r#"{{"ids":[{seoul_alert}],"action":"acknowledge"}}"#),
        ),
        ("POST", "/api/rules/reload", String::new()),
        (
            "POST",
            "/api/users",
            format!(r#"{{"name":"x","role":"viewer","password":"{PASSWORD}"}}"#),
        ),
        (
            "POST",
            "/api/tokens",
            r#"{"name":"x","role":"viewer"}"#.to_owned(),
        ),
        ("POST", "/api/ingest?tenant=seoul", "{}".to_owned()),
    ];
    for (method, path, body) in &writes {
        let (s, v) = api.bearer(&viewer, method, path, body);
        assert_eq!(s, 403, "viewer {method} {path}: {v}");
    }
    for (method, path) in [
        ("GET", "/api/users"),
        ("GET", "/api/tokens"),
        ("GET", "/api/audit"),
        ("POST", "/api/tokens/ops/revoke"),
        ("POST", "/api/users/root/disable"),
        ("POST", "/api/rules/reload"),
        ("GET", "/metrics"),
    ] {
        let (s, v) = api.bearer(&seoul, method, path, "");
        assert_eq!(s, 403, "institution analyst {method} {path}: {v}");
    }
    let (s, _) = api.bearer(&viewer, "GET", "/api/alerts", "");
    assert_eq!(s, 200, "viewers read");

    // 4. A person's session: cookie, CSRF token on changes, logout.
    let login = |user: &str, password: &str| {
        server.request(
            "POST",
            "/api/auth/login",
            &[("Content-Type", "application/json")],
            format!(r#"{{"username":"{user}","password":"{password}"}}"#).as_bytes(),
        )
    };
    let r = login("kim", PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text());
    let set_cookie = r.header("set-cookie").unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = r.json()["csrf"].as_str().unwrap().to_owned();
    let (s, v) = api.call("GET", "/api/auth/me", &[("Cookie", &cookie)], "");
    assert_eq!((s, v["tenant"].as_str()), (200, Some("seoul")), "{v}");
    let (_, v) = api.call("GET", "/api/alerts", &[("Cookie", &cookie)], "");
    assert!(
        v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["tenant"] == "seoul")
    );
    let ack = format!(r#"{{"ids":[{seoul_alert}],"action":"acknowledge"}}"#);
    let (s, v) = api.call("POST", "/api/alerts/triage", &[("Cookie", &cookie)], &ack);
    assert_eq!(
        s, 403,
        "a cookie without the CSRF token may not change anything: {v}"
    );
    let (s, v) = api.call(
        "POST",
        "/api/alerts/triage",
        &[("Cookie", &cookie), ("X-CSRF-Token", "forged")],
        &ack,
    );
    assert_eq!(s, 403, "{v}");
    let (s, v) = api.call(
        "POST",
        "/api/alerts/triage",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        &ack,
    );
    assert_eq!(
        (s, v["changed"].clone()),
        (200, serde_json::json!([seoul_alert])),
        "{v}"
    );
    let (_, v) = api.bearer(&admin, "GET", &format!("/api/alerts/{seoul_alert}"), "");
    assert_eq!(v["triage"]["state"], "acknowledged");
    assert_eq!(
        v["triage"]["assignee"], "kim",
        "acknowledging takes the alert"
    );
    let (s, _) = api.call(
        "POST",
        "/api/auth/logout",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        "",
    );
    assert_eq!(s, 200);
    let (s, _) = api.call("GET", "/api/alerts", &[("Cookie", &cookie)], "");
    assert_eq!(s, 401, "the session ended");

    // 5. Five wrong passwords lock the account; disabling ends sessions.
    for _ in 0..5 {
        assert_eq!(login("duty", "not the password at all").status, 401);
    }
    let r = login("duty", PASSWORD);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    let r = login("watch", PASSWORD);
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (s, _) = api.bearer(&admin, "POST", "/api/users/watch/disable", "");
    assert_eq!(s, 200);
    let (s, _) = api.call("GET", "/api/alerts", &[("Cookie", &cookie)], "");
    assert_eq!(s, 401, "a disabled user's session ends at once");
    assert_eq!(login("watch", PASSWORD).status, 403);

    // 6. Administrators manage tokens over the API; the new one works at once.
    let (s, v) = api.bearer(
        &admin,
        "POST",
        "/api/tokens",
        r#"{"name":"fw-busan","role":"institution","tenant":"busan","expires_days":30}"#,
    );
    assert_eq!(s, 201, "{v}");
    let fw = v["token"].as_str().unwrap().to_owned();
    let (s, v) = api.bearer(&fw, "GET", "/api/alerts", "");
    assert_eq!(s, 200);
    assert!(
        v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["tenant"] == "busan")
    );
    let (_, v) = api.bearer(&admin, "GET", "/api/tokens", "");
    assert!(!v.to_string().contains(&fw), "listings never show secrets");

    // 7. Block lists: the center blocks for all, an institution for itself; firewalls
    //    pull the plain list with a token bound to their institution.
    let (s, v) = api.bearer(
        &admin,
        "POST",
        "/api/blocklists/edge",
        r#"{"value":"203.0.113.5","reason":"campaign","expires_secs":3600}"#,
    );
    assert_eq!(s, 201, "{v}");
    let (s, v) = api.bearer(
        &seoul,
        "POST",
        "/api/blocklists/edge",
        r#"{"value":"10.20.0.0/16","reason":"lateral movement"}"#,
    );
    assert_eq!((s, v["tenant"].as_str()), (201, Some("seoul")), "{v}");
    let (s, _) = api.bearer(
        &seoul,
        "POST",
        "/api/blocklists/edge",
        r#"{"value":"192.0.2.1","tenant":"busan"}"#,
    );
    assert_eq!(s, 403, "Seoul may not block for Busan");
    let (s, _) = api.bearer(
        &viewer,
        "POST",
        "/api/blocklists/edge",
        r#"{"value":"192.0.2.1"}"#,
    );
    assert_eq!(s, 403);
    let (s, v) = api.bearer(
        &admin,
        "POST",
        "/api/blocklists/edge",
        r#"{"value":"not an address"}"#,
    );
    assert_eq!(s, 400, "{v}");
    let plain = |token: &str| {
        let r = server.request(
            "GET",
            "/api/blocklists/edge.txt",
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.header("content-type").unwrap().starts_with("text/plain"));
        r.text()
    };
    assert_eq!(plain(&seoul), "10.20.0.0/16\n203.0.113.5\n");
    assert_eq!(
        plain(&fw),
        "203.0.113.5\n",
        "Busan's firewall gets the center's entries, not Seoul's"
    );
    let (s, v) = api.bearer(
        &seoul,
        "POST",
        "/api/blocklists/edge/remove",
        r#"{"value":"203.0.113.5"}"#,
    );
    assert_eq!(
        s, 404,
        "an institution cannot remove the center's entry: {v}"
    );

    // 7b. The live feed: Seoul's stream carries Seoul's new alerts, never Busan's.
    let stream = open_stream(&server, &seoul);
    for (tenant, ip) in [("busan", "198.51.100.9"), ("seoul", "198.51.100.9")] {
        let r = server.request(
            "POST",
            &format!("/api/ingest?tenant={tenant}&format=clf"),
            &[("Authorization", &format!("Bearer {admin}"))],
            access_line(ip, 7).as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let live = read_stream_alerts(stream, 1);
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["tenant"], "seoul", "{live:?}");
    assert!(live[0]["id"].as_i64().unwrap() > 0);

    // 8. The audit log holds every change with before and after, and verifies.
    let (_, v) = api.bearer(&admin, "GET", "/api/audit?limit=1000", "");
    let records = v["records"].as_array().unwrap();
    let ack = records
        .iter()
        .find(|r| r["action"] == "alert.acknowledge")
        .expect("triage audited");
    assert_eq!(ack["actor"], "user:kim");
    assert_eq!(ack["before"]["triage"]["state"], "new");
    assert_eq!(ack["after"]["triage"]["state"], "acknowledged");
    for action in [
        "token.revoke",
        "user.disable",
        "token.create",
        "login.failed",
        "login.locked",
    ] {
        assert!(
            records.iter().any(|r| r["action"] == action),
            "{action} audited"
        );
    }
    assert_eq!(v["chain"]["broken"], Value::Null);
    let out = cli(&data, &["audit", "verify"], "");
    assert!(out.contains("audit log intact"), "{out}");
}

#[test]
fn the_first_start_creates_an_administrator_who_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\n",
            toml_path(&data)
        ),
    );
    let mut child = haechi_command(&["serve", "--config", config.to_str().unwrap()])
        .env("HAECHI_ADMIN_PASSWORD", PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut http = None;
    let mut created = false;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        created |= line.contains("administrator created: user admin");
        if let Some(addr) = line.strip_prefix("listening http ") {
            http = Some(addr.parse().unwrap());
            break;
        }
    }
    let http = http.expect("the server listens");
    // Keep reading: a closed pipe would fail the server's next line of output.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(
        created,
        "the first start says the administrator was created"
    );
    let r = http_request(
        http,
        "POST",
        "/api/auth/login",
        &[("Content-Type", "application/json")],
        format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#).as_bytes(),
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["role"], "admin");
    let users = cli(&data, &["user", "list"], "");
    assert!(
        users.contains("admin") && users.contains("active"),
        "{users}"
    );
}
