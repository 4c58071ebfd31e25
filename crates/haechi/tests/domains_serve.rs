//! Domain Watch in `haechi serve`, used the way a center would: a universe built from real
//! popular names (the Tranco list) with two look-alikes in it; KB protects kbstar.com over
//! the API and the retro-hunt finds both at once; Seoul protects seoul.go.kr; names then
//! stream in — certstream JSON lines over the API, a zone file dropped in the watched
//! folder — and each look-alike becomes a `domain` alert for the institution it imitates
//! (never for another one), is blocked, and is shared as a STIX indicator. The block list
//! is served as a response policy zone that a real resolver (Unbound, asked with dig)
//! loads and enforces, and as Safe-Browsing-style SHA-256 prefixes.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::{Command, Stdio};

const ADMIN: &str = "admin-token-for-the-domain-watch-test";
const RULE: &str = "sigma/rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml";

fn post(server: &Server, token: &str, path: &str, body: &[u8]) -> HttpResponse {
    server.request(
        "POST",
        path,
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Content-Type", "application/json"),
        ],
        body,
    )
}

fn domain_alerts(server: &Server, tenant: &str) -> Vec<Value> {
    server.get_json(
        ADMIN,
        &format!("/api/alerts?tenant={tenant}&source=domain&limit=1000"),
    )["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn sha256_hex(text: &str) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn look_alikes_are_hunted_streamed_alerted_blocked_and_enforced_by_a_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The universe: 5,000 real popular names and two look-alikes of kbstar.com.
    let tranco = std::fs::read_to_string(sample("domains/tranco_top100k.txt")).unwrap();
    let mut names: Vec<&str> = tranco.lines().take(5_000).collect();
    names.extend(["kbstra.com", "kbstar-login.com"]);
    let universe = write_file(dir.path(), "universe.txt", &names.join("\n"));
    let added = cli(
        &data,
        &["domains", "universe", "add", universe.to_str().unwrap()],
        "",
    );
    assert!(added.contains("names in the universe"), "{added}");

    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(sample(RULE), rules.join("pt.yml")).unwrap();
    let incoming = dir.path().join("incoming");
    let config = write_file(
        dir.path(),
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{ADMIN}\" }}]\n[detect]\nrules = [{}]\n[domains]\nwatch = {}\npoll_secs = 1\ntenant = \"cert\"\nshare_collection = \"domain-watch\"\nshare_tlp = \"green\"\n",
            toml_path(&data),
            toml_path(&rules),
            toml_path(&incoming)
        ),
    );
    let kb_token = create_token(&data, "kb-officer", "institution", Some("kb"));
    let server = Server::start(&config, &dir.path().join("serve.stderr"));

    // KB protects its name: the look-alikes already registered are found at once.
    let protect = post(
        &server,
        ADMIN,
        "/api/domains/protected",
        json!({"tenant": "kb", "domain": "KBstar.com"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(protect.status, 201, "{}", protect.text());
    let p = protect.json();
    let found: Vec<(&str, &str)> = p["look_alikes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["domain"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("kbstar-login.com", "combosquat"),
            ("kbstra.com", "typosquat")
        ],
        "{p}"
    );
    assert!(p["searched_names"].as_u64().unwrap() > 4_000, "{p}");
    assert_eq!(p["raised"]["alerts"], 2, "{p}");
    // An institution changes its own names only.
    let other = post(
        &server,
        &kb_token,
        "/api/domains/protected",
        json!({"tenant": "seoul", "domain": "seoul.go.kr"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(other.status, 403, "{}", other.text());
    let bad = post(
        &server,
        ADMIN,
        "/api/domains/protected",
        json!({"tenant": "seoul", "domain": "xn--invalid-.kr"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    let seoul = post(
        &server,
        ADMIN,
        "/api/domains/protected",
        json!({"tenant": "seoul", "domain": "seoul.go.kr"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(seoul.status, 201, "{}", seoul.text());
    let own = server.get_json(&kb_token, "/api/domains/protected");
    assert_eq!(
        own["protected"],
        json!([{"tenant": "kb", "domain": "kbstar.com", "unicode": "kbstar.com"}])
    );

    // Certificate Transparency entries stream in (a center's feed); institutions may not
    // feed names.
    let ct = [
        json!({"message_type": "certificate_update", "data": {"leaf_cert": {"all_domains": ["www.seoul-go-kr-login.com", "seoul-go-kr-login.com"]}}}),
        json!({"message_type": "heartbeat"}),
        json!({"message_type": "certificate_update", "data": {"leaf_cert": {"all_domains": ["mail.google.com"]}}}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let refused = server.request(
        "POST",
        "/api/domains/names",
        &[("Authorization", &format!("Bearer {kb_token}"))],
        ct.as_bytes(),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
    let streamed = server.request(
        "POST",
        "/api/domains/names",
        &[("Authorization", &format!("Bearer {ADMIN}"))],
        ct.as_bytes(),
    );
    assert_eq!(streamed.status, 200, "{}", streamed.text());
    let s = streamed.json();
    assert_eq!(s["names"], 3, "{s}");
    assert_eq!(s["new_names"], 1, "seoul-go-kr-login.com is new: {s}");
    let combo = s["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["domain"] == "seoul-go-kr-login.com")
        .unwrap_or_else(|| panic!("the combosquat is found: {s}"));
    assert_eq!(
        (&combo["kind"], &combo["tenant"], &combo["new"]),
        (&json!("combosquat"), &json!("seoul"), &json!(true))
    );

    // A zone file arrives in the watched folder with a homoglyph and a bad record.
    std::fs::create_dir_all(&incoming).unwrap();
    let zone = "$ORIGIN com.\n$TTL 3600\nxn--kbtar-i2e 3600 IN NS ns1.example.net.\ngoodname IN NS ns1.example.net.\nbad..label IN NS ns1.example.net.\n";
    write_file(&incoming, "com.zone.part", zone);
    std::fs::rename(incoming.join("com.zone.part"), incoming.join("com.zone")).unwrap();
    wait_for("the zone file to be checked", PATIENCE, || {
        incoming
            .join("done/com.zone")
            .is_file()
            .then_some(())
            .ok_or_else(String::new)
    });

    // Every look-alike is an alert of the institution it imitates, and only of it.
    let kb = domain_alerts(&server, "kb");
    let mut kb_names: Vec<(&str, &str)> = kb
        .iter()
        .map(|a| {
            (
                a["details"]["name"].as_str().unwrap(),
                a["rule_id"].as_str().unwrap(),
            )
        })
        .collect();
    kb_names.sort();
    assert_eq!(
        kb_names,
        [
            ("kbstar-login.com", "domain-combosquat"),
            ("kbstra.com", "domain-typosquat"),
            ("xn--kbtar-i2e.com", "domain-homoglyph"),
        ],
        "{kb:?}"
    );
    let seoul = domain_alerts(&server, "seoul");
    assert_eq!(seoul.len(), 1, "{seoul:?}");
    assert_eq!(seoul[0]["entity"], "domain=seoul-go-kr-login.com");
    assert_eq!(seoul[0]["level"], "high", "a look-alike first seen today");
    let kb_view = server.get_json(&kb_token, "/api/alerts?source=domain");
    assert!(
        kb_view["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["tenant"] == "kb"),
        "{kb_view}"
    );

    // The block list: KB's firewall gets KB's look-alikes, not Seoul's.
    let fw = server.request(
        "GET",
        "/api/blocklists/lookalike-domains.txt",
        &[("Authorization", &format!("Bearer {kb_token}"))],
        b"",
    );
    assert_eq!(fw.status, 200, "{}", fw.text());
    assert!(
        fw.text().contains("kbstra.com") && !fw.text().contains("seoul-go-kr-login.com"),
        "{}",
        fw.text()
    );

    // The response policy zone, loaded by Unbound: blocked names and their subdomains
    // answer NXDOMAIN, other names resolve.
    let rpz = server.request(
        "GET",
        "/api/blocklists/lookalike-domains.rpz",
        &[("Authorization", &format!("Bearer {ADMIN}"))],
        b"",
    );
    assert_eq!(rpz.status, 200, "{}", rpz.text());
    let resolver = Unbound::start(dir.path(), &rpz.text());
    for (name, status) in [
        ("kbstra.com", "NXDOMAIN"),
        ("www.kbstra.com", "NXDOMAIN"),
        ("seoul-go-kr-login.com", "NXDOMAIN"),
        ("www.example.org", "NOERROR"),
    ] {
        assert_eq!(resolver.status(name), status, "{name}\n{}", rpz.text());
    }

    // The hashed list reveals no name; a client with a prefix hit gets the full hash.
    let full = sha256_hex("kbstra.com/");
    let prefixes = server.request(
        "GET",
        "/api/blocklists/lookalike-domains.sha256",
        &[("Authorization", &format!("Bearer {ADMIN}"))],
        b"",
    );
    assert!(
        prefixes.text().lines().any(|l| l == &full[..8]) && !prefixes.text().contains("kbstra"),
        "{}",
        prefixes.text()
    );
    let hashes = server.request(
        "GET",
        &format!(
            "/api/blocklists/lookalike-domains.sha256?prefix={}",
            &full[..8]
        ),
        &[("Authorization", &format!("Bearer {ADMIN}"))],
        b"",
    );
    assert_eq!(hashes.text().trim(), full);

    // Shared with partners: STIX indicators in the hub collection, marked TLP:GREEN.
    let taxii = "application/taxii+json;version=2.1";
    let auth = format!("Bearer {ADMIN}");
    let collections = server.request(
        "GET",
        "/taxii2/hub/collections/",
        &[("Authorization", &auth), ("Accept", taxii)],
        b"",
    );
    let id = collections.json()["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "domain-watch" || c["alias"] == "domain-watch")
        .unwrap_or_else(|| panic!("the collection: {}", collections.text()))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let objects = server.request(
        "GET",
        &format!("/taxii2/hub/collections/{id}/objects/"),
        &[("Authorization", &auth), ("Accept", taxii)],
        b"",
    );
    let patterns: Vec<String> = objects.json()["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| o["pattern"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        patterns.contains(&"[domain-name:value = 'kbstra.com']".to_owned()),
        "{patterns:?}"
    );

    // Audited, and a file that is not names is set aside with its reason.
    let audit = server.get_json(ADMIN, "/api/audit?limit=1000");
    assert!(
        audit.to_string().contains("domain.protect") && audit.to_string().contains("kbstar.com"),
        "{audit}"
    );
    std::fs::write(incoming.join("broken.gz"), b"\x1f\x8b not gzip").unwrap();
    wait_for("the broken file to be set aside", PATIENCE, || {
        incoming
            .join("failed/broken.reason")
            .is_file()
            .then_some(())
            .ok_or_else(String::new)
    });
    let (status, _) = server.terminate();
    assert!(status.success());
}

/// Unbound on a free loopback port with `zone` as its response policy zone and one local
/// name (`www.example.org`); killed when dropped.
struct Unbound {
    child: std::process::Child,
    port: u16,
}

impl Unbound {
    fn start(dir: &std::path::Path, zone: &str) -> Unbound {
        let zone_path = write_file(dir, "rpz.zone", zone);
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = write_file(
            dir,
            "unbound.conf",
            &format!(
                "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{0}\"\n  pidfile: \"\"\n  use-syslog: no\n  do-ip6: no\n  do-tcp: no\n  module-config: \"respip iterator\"\n  local-zone: \"example.org.\" static\n  local-data: \"www.example.org. A 192.0.2.10\"\nrpz:\n  name: \"rpz.haechi.\"\n  zonefile: \"{1}\"\n",
                dir.display(),
                zone_path.display()
            ),
        );
        let unbound = ["unbound", "/usr/sbin/unbound"]
            .into_iter()
            .find(|b| Command::new(b).arg("-V").output().is_ok())
            .expect("unbound is installed by scripts/setup-test-tools");
        let child = Command::new(unbound)
            .args(["-d", "-c", conf.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("unbound starts");
        let resolver = Unbound { child, port };
        wait_for("unbound to answer", PATIENCE, || {
            (resolver.status("www.example.org") == "NOERROR")
                .then_some(())
                .ok_or_else(String::new)
        });
        resolver
    }

    /// The status dig reports for an A query. dig is a client of the resolver under test:
    /// it runs on the real clock (it hangs under libfaketime, which the clock-ahead run
    /// preloads) and is stopped after 10 s whatever happens.
    fn status(&self, name: &str) -> String {
        let out = Command::new("timeout")
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME")
            .args([
                "10",
                "dig",
                "@127.0.0.1",
                "-p",
                &self.port.to_string(),
                name,
                "A",
                "+tries=1",
                "+time=2",
            ])
            .output()
            .expect("dig is installed by scripts/setup-test-tools");
        let text = String::from_utf8_lossy(&out.stdout);
        text.split("status: ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .unwrap_or("no answer")
            .to_owned()
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
