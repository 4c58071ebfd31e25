//! `haechi serve` end to end, as an operator runs it: a TOML configuration, syslog over
//! UDP, TCP (newline and octet-counted framing) and TLS, NDJSON over HTTP (plain and
//! gzip), then `haechi search` / `haechi deadletter` on the data directory, and a
//! graceful stop with SIGTERM. Real sample lines come from `shared/data`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789";
const BUSAN_TOKEN: &str = "e2e-busan-token-0123456789";

/// The distinct lines of a sample file, as a relay would forward them (`<38>`: auth.info).
fn syslog_lines(relative: &str) -> Vec<String> {
    let text = std::fs::read_to_string(sample(relative)).expect("read the sample");
    let mut seen = BTreeSet::new();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<38>{l}"))
        .filter(|l| seen.insert(l.clone()))
        .collect()
}

/// NDJSON lines of the Suricata sample.
fn eve_lines() -> Vec<String> {
    std::fs::read_to_string(sample("logs/suricata/mssis_eve.json"))
        .expect("read the Suricata sample")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

// The examples of RFC 5424 §6.5 (the BOM written as the real bytes EF BB BF).
const RFC5424_EXAMPLE_1: &str = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8";
const RFC5424_EXAMPLE_2: &str = "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.";
const RFC5424_EXAMPLE_3: &str = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
     [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \u{feff}An application event log entry...";
/// The CEF example of the ArcSight CEF specification, over syslog.
const CEF_OVER_SYSLOG: &str = "<134>Sep 19 08:26:10 host CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232";
/// One octet-counted frame whose message spans two lines (a stack trace, say).
const MULTILINE_FRAME: &str = "<11>1 2024-05-01T10:00:00Z web01 billing 4242 - - payment worker crashed: traceback follows\n  at charge_card (billing.py:88)";

struct Setup {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    config: std::path::PathBuf,
    stderr: std::path::PathBuf,
    ca: rustls::pki_types::CertificateDer<'static>,
}

/// A temp dir with a configuration made of `body` (the data_dir line is added), and a
/// self-signed certificate for `localhost` as `cert.pem` / `key.pem` beside it.
fn setup(body: &str) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("generate a certificate");
    write_file(dir.path(), "cert.pem", &certified.cert.pem());
    write_file(
        dir.path(),
        "key.pem",
        &certified.signing_key.serialize_pem(),
    );
    let body = body
        .replace("CERT", &toml_path(&dir.path().join("cert.pem")))
        .replace("KEY", &toml_path(&dir.path().join("key.pem")));
    let text = format!("data_dir = {}\n{body}", toml_path(&data));
    let config = write_file(dir.path(), "haechi.toml", &text);
    let stderr = dir.path().join("serve.stderr");
    Setup {
        data,
        config,
        stderr,
        ca: certified.cert.der().clone(),
        _dir: dir,
    }
}

/// Waits until the server has made `events` events searchable and has nothing pending.
fn wait_until_searchable(server: &Server, events: u64) {
    wait_for(&format!("{events} searchable events"), PATIENCE, || {
        let m = server.metrics(ADMIN_TOKEN);
        let (stored, pending) = (
            metric(&m, "haechi_store_events", &[]),
            metric(&m, "haechi_store_pending", &[]),
        );
        if stored as u64 == events && pending == 0.0 {
            Ok(())
        } else {
            Err(format!("store_events {stored}, store_pending {pending}"))
        }
    });
}

/// `tenant → count` from `haechi search --count-by organization.id`.
fn tenant_counts(data: &Path) -> BTreeMap<String, u64> {
    let out = haechi(&[
        "search",
        "--data-dir",
        data.to_str().expect("UTF-8"),
        "--json",
        "--count-by",
        "organization.id",
    ]);
    assert!(out.status.success(), "count by tenant: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("JSON line");
            (
                v["value"].as_str().expect("value").to_owned(),
                v["count"].as_u64().expect("count"),
            )
        })
        .collect()
}

/// The `event.original` of every event of a tenant.
fn originals(data: &Path, tenant: &str) -> BTreeSet<String> {
    search_events(data, &["--tenant", tenant], "")
        .iter()
        .map(|e| {
            field(e, "event.original")
                .unwrap_or_else(|| panic!("syslog events keep event.original: {e}"))
                .to_owned()
        })
        .collect()
}

fn post_ndjson(
    server: &Server,
    path: &str,
    token: &str,
    lines: &[String],
    gzipped: bool,
) -> HttpResponse {
    let body = lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes();
    let auth = format!("Bearer {token}");
    if gzipped {
        server.request(
            "POST",
            path,
            &[
                ("Authorization", &auth),
                ("Content-Encoding", "gzip"),
                ("Content-Type", "application/x-ndjson"),
            ],
            &gzip(&body),
        )
    } else {
        server.request(
            "POST",
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/x-ndjson"),
            ],
            &body,
        )
    }
}

#[test]
fn every_source_path_stores_events_with_their_tenant_and_normalized_fields_and_sigterm_keeps_them()
{
    let s = setup(&format!(
        r#"
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}, {{ token = "{BUSAN_TOKEN}", tenant = "busan" }}]
max_body_bytes = 16384

[[listeners]]
name = "udp-seoul"
protocol = "udp"
address = "127.0.0.1:0"
tenant = "seoul"

[[listeners]]
name = "tcp-mapped"
protocol = "tcp"
address = "127.0.0.1:0"

[[listeners]]
name = "tls-daegu"
protocol = "tls"
address = "127.0.0.1:0"
tenant = "daegu"
tls_cert = CERT
tls_key = KEY

[tenants]
default = "unassigned"
by_address = [{{ cidr = "127.0.0.0/8", tenant = "incheon" }}]
# Never used here: a listener's tenant and an address range both come first.
by_hostname = {{ "labsz" = "gwangju" }}

[pipeline]
commit_interval_ms = 200
"#
    ));
    let server = Server::start(&s.config, &s.stderr);
    let ssh = syslog_lines("logs/loghub/OpenSSH_2k.log");
    let eve = eve_lines();

    // UDP, one datagram per line: tenant of the listener.
    let udp: Vec<String> = ssh[0..20].to_vec();
    send_udp(
        server.listener("udp-seoul"),
        &udp.iter()
            .map(|l| l.as_bytes().to_vec())
            .collect::<Vec<_>>(),
    );

    // TCP, newline framing: tenant by the sender's address (127.0.0.0/8 → incheon).
    let mut tcp_newline: Vec<String> = ssh[20..40].to_vec();
    tcp_newline.push(RFC5424_EXAMPLE_1.to_owned());
    tcp_newline.push(CEF_OVER_SYSLOG.to_owned());
    let text: String = tcp_newline.iter().map(|l| format!("{l}\n")).collect();
    send_tcp(server.listener("tcp-mapped"), &[text.into_bytes()]);

    // TCP, octet counting (RFC 6587), one frame holding a newline, one frame split
    // across two writes.
    let mut tcp_counted: Vec<String> = ssh[40..50].to_vec();
    tcp_counted.push(RFC5424_EXAMPLE_3.to_owned());
    tcp_counted.push(MULTILINE_FRAME.to_owned());
    let mut stream: Vec<u8> = tcp_counted
        .iter()
        .flat_map(|l| octet_counted(l.as_bytes()))
        .collect();
    let split_frame = octet_counted(ssh[50].as_bytes());
    tcp_counted.push(ssh[50].clone());
    stream.extend_from_slice(&split_frame[..7]);
    send_tcp(
        server.listener("tcp-mapped"),
        &[stream, split_frame[7..].to_vec()],
    );

    // TLS, newline framing with CRLF line ends plus one octet-counted frame.
    let mut tls: Vec<String> = ssh[60..75].to_vec();
    let mut bytes: Vec<u8> = tls
        .iter()
        .flat_map(|l| format!("{l}\r\n").into_bytes())
        .collect();
    bytes.extend(octet_counted(RFC5424_EXAMPLE_2.as_bytes()));
    tls.push(RFC5424_EXAMPLE_2.to_owned());
    send_tls(server.listener("tls-daegu"), &s.ca, &bytes);

    // HTTP: NDJSON with the token bound to busan (no ?tenant: the token's), gzip NDJSON
    // for ulsan with the unrestricted token.
    let plain = post_ndjson(
        &server,
        "/api/ingest?format=suricata",
        BUSAN_TOKEN,
        &eve[0..10],
        false,
    );
    assert_eq!(plain.status, 200, "plain NDJSON: {}", plain.text());
    assert_eq!(plain.json()["events"], 10, "{}", plain.text());
    assert_eq!(plain.json()["dead_letter"], 0, "{}", plain.text());
    let gz = post_ndjson(
        &server,
        "/api/ingest?tenant=ulsan&format=suricata",
        ADMIN_TOKEN,
        &eve[10..20],
        true,
    );
    assert_eq!(gz.status, 200, "gzip NDJSON: {}", gz.text());
    assert_eq!(gz.json()["events"], 10, "{}", gz.text());

    let expected: BTreeMap<String, u64> = [
        ("seoul", udp.len()),
        ("incheon", tcp_newline.len() + tcp_counted.len()),
        ("daegu", tls.len()),
        ("busan", 10),
        ("ulsan", 10),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_owned(), n as u64))
    .collect();
    let total: u64 = expected.values().sum();
    wait_until_searchable(&server, total);

    // Every path arrived once, with the tenant it should have (LabSZ lines keep the
    // listener's or the address's tenant: both come before the hostname mapping).
    assert_eq!(
        tenant_counts(&s.data),
        expected,
        "events per organization.id"
    );
    assert_eq!(search_total(&s.data, &[], ""), total);
    let as_set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
    assert_eq!(
        originals(&s.data, "seoul"),
        as_set(&udp),
        "UDP lines, tenant of the listener"
    );
    let mut incheon = as_set(&tcp_newline);
    incheon.extend(as_set(&tcp_counted));
    assert_eq!(
        originals(&s.data, "incheon"),
        incheon,
        "TCP lines, tenant by address"
    );
    assert_eq!(
        originals(&s.data, "daegu"),
        as_set(&tls),
        "TLS lines (CRLF line ends are not part of the record), tenant of the listener"
    );

    // Normalized syslog fields on the sshd lines.
    for e in search_events(&s.data, &["--tenant", "seoul"], "") {
        assert_eq!(field(&e, "host.hostname"), Some("LabSZ"), "{e}");
        assert_eq!(field(&e, "process.name"), Some("sshd"), "{e}");
        assert_eq!(field(&e, "log.syslog.facility.name"), Some("auth"), "{e}");
        assert_eq!(
            field(&e, "log.syslog.severity.name"),
            Some("informational"),
            "{e}"
        );
        assert_eq!(e["log.syslog.priority"], 38, "{e}");
        let original = field(&e, "event.original").expect("original");
        let message = field(&e, "message").expect("message");
        assert!(
            original.trim_end().ends_with(&format!(": {message}")),
            "message is the text after the tag: {e}"
        );
        assert!(
            field(&e, "@timestamp").is_some_and(|t| t.contains("-12-10T")),
            "Dec 10: {e}"
        );
    }
    // sshd authentication lines carry a typed source.ip: a CIDR search finds them.
    let sent_ssh: Vec<&String> = ssh[0..51].iter().chain(&ssh[60..75]).collect();
    // Lines wrapped as "message repeated N times: [ Failed password … ]" count too.
    let failed: Vec<&&String> = sent_ssh
        .iter()
        .filter(|l| {
            l.contains("]: Failed password for ") || l.contains("times: [ Failed password for ")
        })
        .collect();
    assert!(!failed.is_empty(), "the sample holds failed logins");
    for line in &failed {
        let rest = line.split("Failed password for ").nth(1).expect("text");
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        let (user, rest) = rest.split_once(" from ").expect("user from ip");
        let ip = rest.split(' ').next().expect("ip");
        let octets: Vec<&str> = ip.split('.').collect();
        let cidr = format!("source.ip:{}.{}.0.0/16", octets[0], octets[1]);
        let found = search_events(&s.data, &[], &cidr);
        let event = found
            .iter()
            .find(|e| field(e, "event.original") == Some(line.as_str()))
            .unwrap_or_else(|| panic!("CIDR search {cidr} finds {line}"));
        assert_eq!(field(event, "source.ip"), Some(ip), "{event}");
        assert_eq!(field(event, "user.name"), Some(user), "{event}");
        assert_eq!(field(event, "event.outcome"), Some("failure"), "{event}");
    }

    // RFC 5424: header, structured data, BOM, time offsets.
    let su = search_events(&s.data, &[], "log.syslog.appname:su");
    assert_eq!(su.len(), 1, "{su:?}");
    assert_eq!(
        field(&su[0], "message"),
        Some("'su root' failed for lonvick on /dev/pts/8"),
        "BOM dropped"
    );
    assert_eq!(
        field(&su[0], "@timestamp"),
        Some("2003-10-11T22:14:15.003Z")
    );
    assert_eq!(field(&su[0], "log.syslog.severity.name"), Some("critical"));
    assert_eq!(field(&su[0], "log.syslog.msgid"), Some("ID47"));
    assert_eq!(
        field(&su[0], "host.hostname"),
        Some("mymachine.example.com")
    );
    let sd = search_events(&s.data, &[], "log.syslog.appname:evntslog");
    assert_eq!(sd.len(), 1, "{sd:?}");
    assert_eq!(
        field(
            &sd[0],
            "log.syslog.structured_data.exampleSDID@32473.eventID"
        ),
        Some("1011")
    );
    assert_eq!(
        field(&sd[0], "message"),
        Some("An application event log entry...")
    );
    let donuts = search_events(&s.data, &["--tenant", "daegu"], "\"make the do-nuts\"");
    assert_eq!(donuts.len(), 1, "{donuts:?}");
    assert_eq!(
        field(&donuts[0], "@timestamp"),
        Some("2003-08-24T12:14:15.000003Z"),
        "-07:00 converted to UTC"
    );
    assert_eq!(field(&donuts[0], "log.syslog.appname"), Some("myproc"));

    // CEF inside syslog: the CEF fields, typed.
    let cef = search_events(
        &s.data,
        &[],
        "source.ip:10.0.0.0/8 AND destination.ip:2.1.2.2",
    );
    assert_eq!(cef.len(), 1, "{cef:?}");
    assert_eq!(field(&cef[0], "organization.id"), Some("incheon"));
    assert_eq!(field(&cef[0], "observer.vendor"), Some("Security"));
    assert_eq!(field(&cef[0], "observer.product"), Some("threatmanager"));
    assert_eq!(cef[0]["source.port"], 1232);
    assert_eq!(field(&cef[0], "host.hostname"), Some("host"));

    // The octet-counted frame with a newline inside stayed one event.
    let trace = search_events(&s.data, &[], "\"charge_card\"");
    assert_eq!(
        trace.len(),
        1,
        "one event for the two-line frame: {trace:?}"
    );
    assert_eq!(
        field(&trace[0], "message"),
        Some("payment worker crashed: traceback follows\n  at charge_card (billing.py:88)")
    );
    assert_eq!(search_total(&s.data, &[], "\"payment worker crashed\""), 1);

    // HTTP events: Suricata fields, typed IPs, the tenant of the token / the request.
    for (tenant, lines) in [("busan", &eve[0..10]), ("ulsan", &eve[10..20])] {
        let events = search_events(&s.data, &["--tenant", tenant], "");
        let mut got: Vec<String> = events
            .iter()
            .filter_map(|e| field(e, "source.ip").map(str::to_owned))
            .collect();
        let mut sent: Vec<String> = lines
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).expect("EVE JSON"))
            .filter_map(|v| v["src_ip"].as_str().map(str::to_owned))
            .collect();
        got.sort();
        sent.sort();
        assert_eq!(got, sent, "source.ip of the {tenant} events");
        assert!(
            events
                .iter()
                .all(|e| field(e, "event.dataset") == Some("suricata.eve")),
            "{events:?}"
        );
    }
    let first: Value = serde_json::from_str(&eve[0]).expect("EVE JSON");
    assert_eq!(first["timestamp"], "2023-11-01T00:46:34.435874+0100");
    let at = search_events(
        &s.data,
        &["--tenant", "busan"],
        "event.kind:alert AND @timestamp:[2023-10-31T23:46:34Z TO 2023-10-31T23:46:35Z]",
    );
    assert_eq!(at.len(), 1, "the EVE time +0100 is stored in UTC: {at:?}");
    assert_eq!(
        field(&at[0], "@timestamp"),
        Some("2023-10-31T23:46:34.435874Z")
    );

    // Metrics per source and format.
    let m = server.metrics(ADMIN_TOKEN);
    for (source, n) in [
        ("udp-seoul", 20),
        ("tcp-mapped", 35),
        ("tls-daegu", 16),
        ("http", 20),
    ] {
        assert_eq!(
            metric(&m, "haechi_events_stored_total", &[("source", source)]),
            n as f64,
            "events stored from {source}:\n{m}"
        );
    }
    assert_eq!(
        metric(
            &m,
            "haechi_events_stored_total",
            &[("source", "http"), ("format", "suricata")]
        ),
        20.0
    );

    // Last events just before the stop: acknowledged over HTTP, and read over TCP.
    let last = post_ndjson(&server, "/api/ingest", BUSAN_TOKEN, &eve[20..23], false);
    assert_eq!(last.status, 200, "{}", last.text());
    let late_tcp: Vec<String> = ssh[80..82].to_vec();
    let text: String = late_tcp.iter().map(|l| format!("{l}\n")).collect();
    send_tcp(server.listener("tcp-mapped"), &[text.into_bytes()]);
    let (status, stderr) = server.terminate();
    assert!(
        status.success(),
        "haechi serve exits 0 on SIGTERM ({status}); stderr:\n{stderr}"
    );
    let total = total + 3 + 2;
    assert!(
        stderr.contains(&format!(
            "haechi stopped: {total} events stored, 0 dead letters"
        )),
        "the stop message counts every event; stderr:\n{stderr}"
    );
    assert_eq!(
        search_total(&s.data, &[], ""),
        total,
        "everything is searchable after the stop"
    );
    let counts = tenant_counts(&s.data);
    assert_eq!(counts["busan"], 13);
    assert_eq!(counts["incheon"], expected["incheon"] + 2);
    let stored = originals(&s.data, "incheon");
    assert!(
        late_tcp.iter().all(|l| stored.contains(l)),
        "the TCP lines sent just before SIGTERM"
    );
}

#[test]
fn hostname_mapping_assigns_the_tenant_when_no_listener_or_address_does() {
    let s = setup(&format!(
        r#"
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}]

[[listeners]]
name = "tcp-plain"
protocol = "tcp"
address = "127.0.0.1:0"

[tenants]
default = "unassigned"
by_hostname = {{ "labsz" = "gwangju", "mymachine.example.com" = "jeju" }}

[pipeline]
commit_interval_ms = 200
"#
    ));
    let server = Server::start(&s.config, &s.stderr);
    let ssh: Vec<String> = syslog_lines("logs/loghub/OpenSSH_2k.log")[0..8].to_vec();
    let linux: Vec<String> = syslog_lines("logs/loghub/Linux_2k.log")[0..5].to_vec();
    let mut all = ssh.clone();
    all.extend(linux.iter().cloned());
    all.push(RFC5424_EXAMPLE_1.to_owned());
    let text: String = all.iter().map(|l| format!("{l}\n")).collect();
    send_tcp(server.listener("tcp-plain"), &[text.into_bytes()]);
    wait_until_searchable(&server, all.len() as u64);

    let expected: BTreeMap<String, u64> = [
        ("gwangju", ssh.len()),
        ("unassigned", linux.len()),
        ("jeju", 1),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_owned(), n as u64))
    .collect();
    assert_eq!(
        tenant_counts(&s.data),
        expected,
        "LabSZ (mapped as labsz) → gwangju, combo → default"
    );
    assert_eq!(originals(&s.data, "gwangju"), ssh.iter().cloned().collect());
    assert_eq!(
        originals(&s.data, "unassigned"),
        linux.iter().cloned().collect()
    );
    for e in search_events(&s.data, &["--tenant", "unassigned"], "") {
        assert_eq!(field(&e, "host.hostname"), Some("combo"), "{e}");
    }
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn http_answers_say_what_is_wrong_and_bad_lines_become_dead_letters() {
    let s = setup(&format!(
        r#"
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}, {{ token = "{BUSAN_TOKEN}", tenant = "busan" }}]
max_body_bytes = 4096
max_lines = 50

[[listeners]]
name = "udp-unused"
protocol = "udp"
address = "127.0.0.1:0"

[pipeline]
commit_interval_ms = 200
"#
    ));
    let server = Server::start(&s.config, &s.stderr);
    let good = [
        r#"{"@timestamp":"2024-03-01T09:00:00Z","message":"login ok","user":{"name":"kim"},"source":{"ip":"10.1.2.3"}}"#.to_owned(),
        r#"{"@timestamp":"2024-03-01T09:00:01Z","message":"login failed","user":{"name":"lee"},"source":{"ip":"10.1.2.4"}}"#.to_owned(),
    ];
    let body: Vec<u8> = good
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes();
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let busan = format!("Bearer {BUSAN_TOKEN}");
    let post = |path: &str, headers: &[(&str, &str)], body: &[u8]| {
        server.request("POST", path, headers, body)
    };
    let error_of = |r: &HttpResponse| r.json()["error"].as_str().unwrap_or_default().to_owned();

    // Authentication and authorization.
    let r = post("/api/ingest?tenant=seoul", &[], &body);
    assert_eq!(r.status, 401, "no token: {}", r.text());
    assert!(error_of(&r).contains("token"), "{}", r.text());
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", "Bearer not-a-token-of-this-server")],
        &body,
    );
    assert_eq!(r.status, 401, "wrong token: {}", r.text());
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", ADMIN_TOKEN)],
        &body,
    );
    assert_eq!(r.status, 401, "a token without 'Bearer ': {}", r.text());
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", &busan)],
        &body,
    );
    assert_eq!(r.status, 403, "the busan token for seoul: {}", r.text());
    assert!(error_of(&r).contains("seoul"), "{}", r.text());

    // Tenant ids.
    let r = post(
        "/api/ingest?tenant=Seoul%20City",
        &[("Authorization", &admin)],
        &body,
    );
    assert_eq!(r.status, 400, "invalid tenant id: {}", r.text());
    assert!(error_of(&r).contains("Seoul City"), "{}", r.text());
    let r = post("/api/ingest", &[("Authorization", &admin)], &body);
    assert_eq!(
        r.status,
        400,
        "an unrestricted token must name the tenant: {}",
        r.text()
    );

    // Size limits: plain and gzip (a small body that inflates past the limit).
    let big: String = (0..100)
        .map(|i| format!("{{\"message\":\"padding line {i} {}\"}}\n", "x".repeat(40)))
        .collect();
    assert!(big.len() > 4096);
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", &admin)],
        big.as_bytes(),
    );
    assert_eq!(r.status, 413, "a body over max_body_bytes: {}", r.text());
    let bomb = gzip(big.as_bytes());
    assert!(
        bomb.len() < 4096,
        "the compressed body itself is under the limit"
    );
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", &admin), ("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_eq!(
        r.status,
        413,
        "gzip inflating past max_body_bytes: {}",
        r.text()
    );
    assert!(
        error_of(&r).contains("4096"),
        "names the limit: {}",
        r.text()
    );
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", &admin), ("Content-Encoding", "gzip")],
        b"this is not gzip",
    );
    assert_eq!(r.status, 400, "a body that is not gzip: {}", r.text());
    let many: String = (0..51).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    assert!(many.len() < 4096);
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", &admin)],
        many.as_bytes(),
    );
    assert_eq!(r.status, 413, "more lines than max_lines: {}", r.text());

    // A good request with one malformed line: stored, and the bad line kept with a reason.
    let malformed = r#"{"@timestamp":"2024-03-01T09:00:02Z","message": "cut off"#;
    let mixed = format!("{}\n{malformed}\n{}\n", good[0], good[1]);
    let r = post(
        "/api/ingest?tenant=seoul",
        &[("Authorization", &admin)],
        mixed.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = r.json();
    assert_eq!(
        (answer["events"].as_u64(), answer["dead_letter"].as_u64()),
        (Some(2), Some(1)),
        "{answer}"
    );
    // The busan token without ?tenant ingests for busan.
    let r = post("/api/ingest", &[("Authorization", &busan)], &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["events"], 2);

    // Health without a token; metrics only with one.
    let r = server.request("GET", "/healthz", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "ok");
    let r = server.request("GET", "/metrics", &[], b"");
    assert_eq!(r.status, 401, "metrics need the token: {}", r.text());
    let r = server.request(
        "GET",
        "/metrics",
        &[("Authorization", "Bearer not-a-token-of-this-server")],
        b"",
    );
    assert_eq!(r.status, 401);

    wait_until_searchable(&server, 4);
    let m = server.metrics(ADMIN_TOKEN);
    assert_eq!(
        metric(
            &m,
            "haechi_events_stored_total",
            &[("source", "http"), ("format", "json")]
        ),
        4.0,
        "events stored, labelled by source and format:\n{m}"
    );
    assert_eq!(
        metric(&m, "haechi_dead_letters_total", &[("source", "http")]),
        1.0,
        "{m}"
    );
    assert_eq!(metric(&m, "haechi_store_events", &[]), 4.0, "{m}");
    assert!(
        m.lines()
            .any(|l| l.starts_with("# TYPE haechi_store_events gauge")),
        "{m}"
    );

    // What was stored: the refused requests stored nothing.
    let counts = tenant_counts(&s.data);
    assert_eq!(
        counts,
        BTreeMap::from([("busan".to_owned(), 2), ("seoul".to_owned(), 2)])
    );
    let kim = search_events(
        &s.data,
        &["--tenant", "seoul"],
        "user.name:kim AND source.ip:10.1.0.0/16",
    );
    assert_eq!(kim.len(), 1, "{kim:?}");
    assert_eq!(field(&kim[0], "organization.id"), Some("seoul"));
    assert_eq!(field(&kim[0], "@timestamp"), Some("2024-03-01T09:00:00Z"));
    let kim_anywhere = search_events(&s.data, &[], "user.name:kim");
    let tenants: BTreeSet<&str> = kim_anywhere
        .iter()
        .filter_map(|e| field(e, "organization.id"))
        .collect();
    assert_eq!(
        tenants,
        BTreeSet::from(["busan", "seoul"]),
        "the same record for two tenants is no duplicate"
    );

    let out = haechi(&[
        "deadletter",
        "--data-dir",
        s.data.to_str().expect("UTF-8"),
        "--json",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let letters: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON dead letter"))
        .collect();
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["record"], malformed, "the record is kept as it came");
    assert_eq!(letter["tenant"], "seoul");
    assert_eq!(letter["format"], "json");
    assert_eq!(letter["source"], "http:2", "names the source and the line");
    assert!(
        letter["reason"]
            .as_str()
            .is_some_and(|r| r.contains("JSON")),
        "{letter}"
    );

    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("haechi stopped: 4 events stored, 1 dead letters"),
        "{stderr}"
    );
}

#[test]
fn sigterm_makes_everything_accepted_searchable_before_exiting() {
    // A commit interval of a minute: only the final commit on SIGTERM can make the events
    // searchable within this test.
    let s = setup(&format!(
        r#"
[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}]

[[listeners]]
name = "tcp-seoul"
protocol = "tcp"
address = "127.0.0.1:0"
tenant = "seoul"

[pipeline]
commit_interval_ms = 60000
"#
    ));
    let server = Server::start(&s.config, &s.stderr);
    let eve = eve_lines();
    let r = post_ndjson(
        &server,
        "/api/ingest?tenant=busan&format=suricata",
        ADMIN_TOKEN,
        &eve[0..10],
        false,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let ssh: Vec<String> = syslog_lines("logs/loghub/OpenSSH_2k.log")[0..25].to_vec();
    let text: String = ssh.iter().map(|l| format!("{l}\n")).collect();
    send_tcp(server.listener("tcp-seoul"), &[text.into_bytes()]);
    let m = server.metrics(ADMIN_TOKEN);
    assert_eq!(
        metric(&m, "haechi_store_events", &[]),
        0.0,
        "nothing committed yet:\n{m}"
    );

    let (status, stderr) = server.terminate();
    assert!(
        status.success(),
        "haechi serve exits 0 on SIGTERM ({status}); stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("haechi stopped: 35 events stored, 0 dead letters"),
        "the final commit made all 35 searchable; stderr:\n{stderr}"
    );
    assert_eq!(
        tenant_counts(&s.data),
        BTreeMap::from([("busan".to_owned(), 10), ("seoul".to_owned(), 25)])
    );
    assert_eq!(originals(&s.data, "seoul"), ssh.iter().cloned().collect());
}

#[test]
fn sigterm_right_after_the_listening_lines_still_stops_gracefully() {
    // Supervisors and scripts stop a server as soon as it says it listens; the signal
    // handler must be in place by then (it once was installed later, and SIGTERM killed).
    let s = setup(&format!(
        r#"listeners = []

[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}]
"#
    ));
    for round in 0..5 {
        let server = Server::start(&s.config, &s.stderr);
        let (status, stderr) = server.terminate();
        assert!(
            status.success(),
            "round {round}: exit {status} instead of a clean stop; stderr:\n{stderr}"
        );
        assert!(
            stderr.contains("haechi stopped: 0 events stored"),
            "{stderr}"
        );
    }
}

#[test]
fn search_and_deadletter_work_beside_a_running_server_with_uncommitted_events() {
    let s = setup(&format!(
        r#"listeners = []

[http]
listen = "127.0.0.1:0"
tokens = [{{ token = "{ADMIN_TOKEN}" }}]

[pipeline]
commit_interval_ms = 60000
"#
    ));
    let server = Server::start(&s.config, &s.stderr);
    let eve = eve_lines();
    let r = post_ndjson(
        &server,
        "/api/ingest?tenant=seoul&format=suricata",
        ADMIN_TOKEN,
        &eve[0..3],
        false,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let dir = s.data.to_str().expect("UTF-8");
    // Uncommitted events are not searchable yet, but asking must not be an error.
    for args in [
        vec!["search", "--data-dir", dir, "--limit", "0"],
        vec!["deadletter", "--data-dir", dir],
    ] {
        let out = haechi(&args);
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "`haechi {}` beside a running server: {}",
            args[0],
            describe(&out)
        );
    }
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("haechi stopped: 3 events stored"),
        "{stderr}"
    );
    assert_eq!(
        search_total(&s.data, &[], ""),
        3,
        "stored once, whatever the searches did"
    );
}
