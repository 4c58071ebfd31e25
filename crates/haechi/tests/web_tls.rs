//! TLS inspection (`haechi web inspect` on HTTPS) against servers the test starts with
//! Debian's `openssl s_server`: a deliberately weak one (TLS 1.0 and 1.1, NULL and
//! anonymous suites, a self-signed 1024-bit RSA certificate signed with SHA-1 that expires
//! in ten days), a strong one (TLS 1.2 and 1.3, forward-secret AEAD suites in the
//! server's order, an EC certificate from a private CA given with `--ca`), and a TLS
//! 1.3-only one with an expired certificate (its chain is read through rustls). Every
//! verdict is checked; `tls_inspection_agrees_with_testssl` compares the versions and
//! suites found with testssl.sh's on the weak and strong servers.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Writes the certificates and keys of the three servers into `dir`.
fn certificates(dir: &Path) {
    // Weak: RSA 1024, SHA-1, self-signed, ten days left (openssl: rcgen cannot make these).
    openssl_self_signed(dir, "weak", "rsa:1024", 10, &["-sha1"]);
    // Strong: P-256 leaf for 127.0.0.1 from a private CA.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Haechi Test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    let leaf = |name: &str, not_after: (i32, u8, u8)| {
        let mut p = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    };
    leaf("strong", (2099, 1, 1));
    leaf("expired", (2021, 1, 1));
}

/// Starts `openssl s_server -www` with the certificate `dir/NAME.pem`.
fn tls_server(dir: &Path, name: &str, args: &[&str]) -> (SServer, u16) {
    let mut all = vec!["-www"];
    all.extend_from_slice(args);
    let server = s_server(
        &dir.join(format!("{name}.pem")),
        &dir.join(format!("{name}.key")),
        &all,
        None,
        &dir.join(format!("{name}.log")),
    );
    let port = server.port;
    (server, port)
}

const WEAK: &[&str] = &["-cipher", "ALL:eNULL:@SECLEVEL=0"];
const STRONG: &[&str] = &[
    "-min_protocol",
    "TLSv1.2",
    "-cipher",
    "ECDHE+AESGCM:ECDHE+CHACHA20",
    "-serverpref",
];
const TLS13_ONLY: &[&str] = &["-tls1_3"];

fn inspect(dir: &Path, port: u16) -> Value {
    let out = haechi(&[
        "web",
        "inspect",
        "--json",
        "--data-dir",
        dir.join("data").to_str().unwrap(),
        "--ca",
        dir.join("ca.pem").to_str().unwrap(),
        &format!("https://127.0.0.1:{port}/"),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        page["status"], 200,
        "the page is read whatever the certificate: {page}"
    );
    page["tls"].clone()
}

fn verdict(tls: &Value, check: &str) -> (String, String) {
    let c = tls["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap_or_else(|| panic!("no {check} in {tls}"));
    (
        c["result"].as_str().unwrap().to_owned(),
        c["detail"].as_str().unwrap().to_owned(),
    )
}

/// Protocol → suite codes, as Haechi reports them.
fn haechi_suites(tls: &Value) -> BTreeMap<String, BTreeSet<u16>> {
    tls["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let codes = p["suites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    u16::from_str_radix(s["code"].as_str().unwrap().trim_start_matches("0x"), 16)
                        .unwrap()
                })
                .collect();
            (p["protocol"].as_str().unwrap().to_owned(), codes)
        })
        .collect()
}

#[test]
fn weak_strong_and_expired_tls_servers_are_judged() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let (_weak, weak_port) = tls_server(dir.path(), "weak", WEAK);
    let (_strong, strong_port) = tls_server(dir.path(), "strong", STRONG);
    let (_expired, expired_port) = tls_server(dir.path(), "expired", TLS13_ONLY);

    let weak = inspect(dir.path(), weak_port);
    let suites = haechi_suites(&weak);
    assert!(
        suites["TLSv1.0"].len() >= 10 && suites["TLSv1.1"] == suites["TLSv1.0"],
        "{weak}"
    );
    assert!(
        suites["TLSv1.2"].contains(&0x0001),
        "NULL-MD5 is found: {weak}"
    );
    assert!(suites["SSLv3"].is_empty(), "OpenSSL 3 has no SSL 3.0");
    let (r, d) = verdict(&weak, "tls-protocols");
    assert_eq!(r, "fail");
    assert!(d.contains("TLSv1.0") && d.contains("TLSv1.1"), "{d}");
    let (r, d) = verdict(&weak, "tls-insecure-suites");
    assert_eq!(r, "fail");
    assert!(
        d.contains("NULL-MD5") && d.contains("ADH-AES256-SHA"),
        "{d}"
    );
    assert_eq!(
        verdict(&weak, "certificate-key"),
        ("fail".into(), "RSA 1024 bits".into())
    );
    let (r, d) = verdict(&weak, "certificate-signature");
    assert_eq!(r, "fail");
    assert!(d.contains("sha1"), "{d}");
    let (r, d) = verdict(&weak, "certificate-trust");
    assert_eq!(r, "fail");
    assert!(d.starts_with("self-signed"), "{d}");
    let (r, d) = verdict(&weak, "certificate-expiry");
    assert_eq!(r, "fail", "ten days left is under the 30-day warning: {d}");
    assert!(d.contains("in 9 days") || d.contains("in 10 days"), "{d}");
    assert_eq!(verdict(&weak, "certificate-name").0, "pass");

    let strong = inspect(dir.path(), strong_port);
    let suites = haechi_suites(&strong);
    assert!(
        suites["TLSv1.0"].is_empty() && suites["TLSv1.1"].is_empty(),
        "{strong}"
    );
    assert_eq!(
        suites["TLSv1.2"],
        BTreeSet::from([0xC02B, 0xC02C, 0xCCA9]),
        "ECDHE-ECDSA with AES-GCM or ChaCha20 (the key is EC): {strong}"
    );
    assert_eq!(suites["TLSv1.3"].len(), 3, "{strong}");
    let tls12 = &strong["protocols"].as_array().unwrap()[3];
    assert_eq!(tls12["server_order"], true, "-serverpref: {tls12}");
    for check in [
        "tls-protocols",
        "tls-1.3",
        "tls-insecure-suites",
        "tls-weak-suites",
        "tls-forward-secrecy",
        "certificate-expiry",
        "certificate-name",
        "certificate-trust",
        "certificate-key",
        "certificate-signature",
    ] {
        assert_eq!(verdict(&strong, check).0, "pass", "{check}: {strong}");
    }
    let chain = &strong["certificate"]["certificates"][0];
    assert_eq!(chain["issuer"], "CN=Haechi Test CA");
    assert_eq!(
        (chain["key_type"].as_str(), chain["key_bits"].as_u64()),
        (Some("EC"), Some(256))
    );

    // TLS 1.3 only: nothing to read in plaintext, the chain comes through rustls.
    let expired = inspect(dir.path(), expired_port);
    let offered: Vec<&str> = expired["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["offered"] == true)
        .map(|p| p["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["TLSv1.3"]);
    let (r, d) = verdict(&expired, "certificate-expiry");
    assert_eq!(r, "fail");
    assert!(d.starts_with("expired on 2021-01-01"), "{d}");
    assert_eq!(
        verdict(&expired, "certificate-trust"),
        ("fail".into(), "expired".into())
    );
    assert_eq!(verdict(&expired, "tls-protocols").0, "pass");

    // A server that does not speak TLS: the page is not read (exit 1) and every version
    // is refused with the reason.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().take(100).flatten() {
            use std::io::Write;
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let out = haechi(&[
        "web",
        "inspect",
        "--json",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
        &format!("https://127.0.0.1:{port}/"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(page["error"].is_string(), "{page}");
    let tls = &page["tls"];
    assert_eq!(
        verdict(tls, "tls-protocols").1,
        "no protocol version was accepted"
    );
    assert!(
        tls["protocols"][2]["refused"]
            .as_str()
            .unwrap()
            .contains("not a TLS record"),
        "{tls}"
    );
}

/// testssl.sh's JSON: protocol → suite codes.
fn testssl_suites(json: &Path) -> BTreeMap<String, BTreeSet<u16>> {
    let findings: Vec<Value> = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    let mut out: BTreeMap<String, BTreeSet<u16>> =
        ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
            .iter()
            .map(|p| (p.to_string(), BTreeSet::new()))
            .collect();
    for f in &findings {
        let id = f["id"].as_str().unwrap_or_default();
        let Some(rest) = id.strip_prefix("cipher-") else {
            continue;
        };
        let Some((proto, code)) = rest.rsplit_once("_x") else {
            continue;
        };
        let proto = match proto {
            "ssl3" => "SSLv3",
            "tls1" => "TLSv1.0",
            "tls1_1" => "TLSv1.1",
            "tls1_2" => "TLSv1.2",
            "tls1_3" => "TLSv1.3",
            _ => continue,
        };
        out.get_mut(proto)
            .unwrap()
            .insert(u16::from_str_radix(code, 16).unwrap());
    }
    out
}

fn testssl(dir: &Path, port: u16, name: &str) -> std::thread::JoinHandle<PathBuf> {
    let json = dir.join(format!("testssl-{name}.json"));
    let log = dir.join(format!("testssl-{name}.log"));
    std::thread::spawn(move || {
        let mut child = Command::new("testssl")
            .args([
                "--quiet",
                "--warnings",
                "off",
                "--color",
                "0",
                "-p",
                "-E",
                "--jsonfile",
            ])
            .arg(&json)
            .arg(format!("https://127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("testssl.sh is installed (scripts/setup-test-tools)");
        let status = wait_exit(&mut child, std::time::Duration::from_secs(300));
        assert!(status.is_some(), "testssl.sh ran past 300 s");
        json
    })
}

#[test]
fn tls_inspection_agrees_with_testssl() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let (_weak, weak_port) = tls_server(dir.path(), "weak", WEAK);
    let (_strong, strong_port) = tls_server(dir.path(), "strong", STRONG);
    let peers = [
        ("weak", weak_port, testssl(dir.path(), weak_port, "weak")),
        (
            "strong",
            strong_port,
            testssl(dir.path(), strong_port, "strong"),
        ),
    ];
    for (name, port, peer) in peers {
        let json = peer.join().expect("testssl.sh ran");
        let theirs = testssl_suites(&json);
        let ours = haechi_suites(&inspect(dir.path(), port));
        let total: usize = theirs.values().map(BTreeSet::len).sum();
        assert!(
            total > 5,
            "testssl.sh found suites on the {name} server: {theirs:?}"
        );
        assert_eq!(
            ours, theirs,
            "{name}: Haechi (left) and testssl.sh (right) disagree"
        );
        eprintln!("{name}: {total} protocol-suite pairs, identical to testssl.sh's");
    }
}
