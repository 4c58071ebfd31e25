//! Hostile HTTP clients against `haechi serve`: a head trickled slowly (slowloris), a head
//! too large or with too many headers, a body trickled slowly, deeply nested JSON, and
//! more connections than allowed. Each gets a clear refusal, and the server keeps
//! answering everyone else. Bounded: every client stops by itself within seconds.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const TOKEN: &str = "limits-test-token-0123456789";

fn start(dir: &std::path::Path, max_connections: usize) -> Server {
    let config = write_file(
        dir,
        "haechi.toml",
        &format!(
            "data_dir = {}\nlisteners = []\n[http]\nlisten = \"127.0.0.1:0\"\ntokens = [{{ token = \"{TOKEN}\" }}]\n\
             head_timeout_secs = 2\nbody_timeout_secs = 3\n[pipeline]\nmax_connections = {max_connections}\n",
            toml_path(&dir.join("data"))
        ),
    );
    Server::start(&config, &dir.join("serve.stderr"))
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// Everything the server sends until it closes (or 15 s pass).
fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn healthy(server: &Server) {
    let r = server.request("GET", "/healthz", &[], b"");
    assert_eq!(r.status, 200, "the server keeps answering: {}", r.text());
}

#[test]
fn slow_large_and_nested_requests_are_refused_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 64);

    // Slowloris: a header line every 300 ms, for at most 12 s; the server closes the
    // connection once its 2 s for the head are over.
    let mut slow = connect(server.http);
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: haechi\r\n")
        .unwrap();
    let began = Instant::now();
    let mut cut_off = false;
    while began.elapsed() < Duration::from_secs(12) {
        std::thread::sleep(Duration::from_millis(300));
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            cut_off = true;
            break;
        }
        healthy(&server);
    }
    if !cut_off {
        // The writes may still land in the socket buffer: the server's answer tells.
        slow.write_all(b"\r\n").ok();
        let answer = read_all(&mut slow);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "a head trickled over 12 s is not served: {answer:?}"
        );
    }

    // A head over 64 KiB, and one with 150 headers.
    let mut big = connect(server.http);
    let huge = "a".repeat(100 * 1024);
    let _ = big
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: h\r\nX-Big: {huge}\r\n\r\n").as_bytes());
    let answer = read_all(&mut big);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    let mut many = connect(server.http);
    let headers: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let _ = many.write_all(format!("GET /healthz HTTP/1.1\r\nHost: h\r\n{headers}\r\n").as_bytes());
    let answer = read_all(&mut many);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    healthy(&server);

    // A body announced as 1,000 bytes of which 10 arrive: refused after 3 s.
    let mut trickle = connect(server.http);
    trickle
        .write_all(
            format!(
                "POST /api/ingest?tenant=seoul HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {TOKEN}\r\n\
                 Content-Length: 1000\r\nConnection: close\r\n\r\n0123456789"
            )
            .as_bytes(),
        )
        .unwrap();
    let answer = read_all(&mut trickle);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("did not arrive within 3 s"), "{answer}");
    healthy(&server);

    // JSON nested 100,000 deep: a dead letter with the reason in an ingest, 400 in the API.
    let nested = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    let auth = format!("Bearer {TOKEN}");
    let r = server.request(
        "POST",
        "/api/ingest?tenant=seoul&format=json",
        &[("Authorization", &auth)],
        format!("{nested}\n{{\"message\":\"fine\"}}\n").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (
            r.json()["events"].as_u64(),
            r.json()["dead_letter"].as_u64()
        ),
        (Some(1), Some(1)),
        "{}",
        r.text()
    );
    let r = server.request(
        "POST",
        "/api/alerts/triage",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        format!("{{\"ids\":[1],\"action\":\"acknowledge\",\"assignee\":{nested}}}").as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["error"].is_string(), "{}", r.text());
    healthy(&server);
    let letters = cli(&dir.path().join("data"), &["deadletter", "--json"], "");
    assert!(
        letters.contains("recursion limit"),
        "the reason is kept: {letters:.400}"
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
}

#[test]
fn connections_beyond_the_limit_are_closed_and_the_others_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), 3);
    // Three connections hold the limit, each in the middle of a request head.
    let held: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = connect(server.http);
            s.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = connect(server.http);
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n");
    let answer = read_all(&mut extra);
    assert!(
        answer.is_empty(),
        "a fourth connection is closed unanswered: {answer:.200}"
    );
    drop(held);
    wait_for(
        "a connection to be served again",
        PATIENCE,
        || match try_http_request(server.http, "GET", "/healthz", &[], b"") {
            Ok(r) if r.status == 200 => Ok(()),
            other => Err(format!("{:?}", other.map(|r| r.status))),
        },
    );
    let (status, stderr) = server.terminate();
    assert!(status.success(), "{status}: {stderr}");
}
