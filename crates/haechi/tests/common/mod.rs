//! Helpers shared by the end-to-end tests: run the real `haechi` binary as a user would
//! (every command bounded in time), start `haechi serve` and read the addresses it
//! prints, speak HTTP/1.1, syslog over UDP/TCP/TLS, and read Prometheus metrics.
//!
//! Only the standard library (plus the dev-dependencies for TLS and gzip). Every wait is
//! a poll loop with a generous deadline; a test that fails kills the server it started
//! (`Server` kills its child when dropped, also while unwinding from a panic).

#![allow(dead_code)] // each test file uses a different part of this module

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_haechi");

/// How long any single wait may take before the test fails. Generous: the machine is
/// small and shared with other builds.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A file or folder of the shared real sample data (`shared/data` beside the project).
pub fn sample(relative: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(relative);
    assert!(
        path.exists(),
        "the shared sample data {} is missing",
        path.display()
    );
    path
}

/// The start of the minute ten minutes before the test process started: the anchor for
/// every event stamp the tests write, so that the events always fall inside windows that
/// are relative to now (the situation board, risk, retro-hunts, `now-1h` searches) on
/// whatever day the tests run. Truncated to the minute so that `second` offsets of one
/// test stay in one minute, and fixed per process so that repeated calls agree.
pub fn test_epoch() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    static EPOCH: std::sync::OnceLock<chrono::DateTime<chrono::Utc>> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(|| {
        (chrono::Utc::now() - TimeDelta::minutes(10))
            .duration_trunc(TimeDelta::minutes(1))
            .expect("truncating now to the minute")
    })
}

/// [`test_epoch`] plus `seconds`, as an Apache/CLF stamp (`04/Dec/2026:10:00:07 +0000`).
pub fn clf_time(seconds: i64) -> String {
    (test_epoch() + chrono::TimeDelta::seconds(seconds))
        .format("%d/%b/%Y:%H:%M:%S +0000")
        .to_string()
}

/// [`test_epoch`] plus `seconds`, as RFC 3339 UTC (`2026-12-04T10:00:07Z`).
pub fn iso_time(seconds: i64) -> String {
    (test_epoch() + chrono::TimeDelta::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Polls `probe` (with growing pauses) until it returns `Some`, or panics after `timeout`
/// naming `what` and the last state `probe` described.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        let last = match probe() {
            Ok(v) => return v,
            Err(state) => state,
        };
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}; last state: {last}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// A `haechi` command with a clean environment for the settings it reads.
pub fn haechi_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("HAECHI_DATA_DIR")
        .env("HAECHI_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

/// Runs `haechi ARGS` to completion, killing it (and failing) if it takes longer than
/// `PATIENCE`.
pub fn haechi(args: &[&str]) -> Output {
    let mut child = haechi_command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the haechi binary starts");
    let out = drain(child.stdout.take().expect("piped stdout"));
    let err = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_exit(&mut child, PATIENCE).unwrap_or_else(|| {
        panic!(
            "`haechi {}` did not finish within {PATIENCE:?}",
            args.join(" ")
        )
    });
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Waits for a child to exit; kills it and returns `None` after `timeout`.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Describes a finished command for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `haechi search --data-dir DIR --json --limit 100000 EXTRA... QUERY`: the matching events.
/// Exit code 1 (nothing matched) gives an empty list; anything else but 0 fails the test.
pub fn search_events(data_dir: &Path, extra: &[&str], query: &str) -> Vec<serde_json::Value> {
    let dir = data_dir.to_str().expect("UTF-8 temp path");
    let mut args = vec!["search", "--data-dir", dir, "--json", "--limit", "100000"];
    args.extend_from_slice(extra);
    args.push(query);
    let out = haechi(&args);
    match out.status.code() {
        Some(0) | Some(1) => {}
        _ => panic!("`haechi {}` failed: {}", args.join(" "), describe(&out)),
    }
    String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| {
                panic!("search --json printed a line that is not JSON ({e}): {l}")
            })
        })
        .collect()
}

/// The number of events `haechi search` reports as matching (its `-- N of M` line).
pub fn search_total(data_dir: &Path, extra: &[&str], query: &str) -> u64 {
    let dir = data_dir.to_str().expect("UTF-8 temp path");
    let mut args = vec!["search", "--data-dir", dir, "--limit", "0"];
    args.extend_from_slice(extra);
    args.push(query);
    let out = haechi(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let total: u64 = stdout
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("-- 0 of ")?
                .strip_suffix(" matching events")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| {
            panic!(
                "`haechi {}` printed no total: {}",
                args.join(" "),
                describe(&out)
            )
        });
    let expected_code = if total == 0 { 1 } else { 0 };
    assert_eq!(
        out.status.code(),
        Some(expected_code),
        "`haechi search` exits 0 when something matched and 1 when nothing did: {}",
        describe(&out)
    );
    total
}

/// A string field of a search result (`None` when absent or not a string).
pub fn field<'a>(event: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    event.get(name).and_then(|v| v.as_str())
}

// ---------------------------------------------------------------------------------------
// `haechi serve`

/// A running `haechi serve`, killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// Listener name → the address it bound (from the `listening` lines).
    pub listeners: HashMap<String, SocketAddr>,
    pub http: SocketAddr,
    stderr_path: PathBuf,
}

impl Server {
    /// Starts `haechi serve --config CONFIG` and waits until it printed `listening http`.
    /// The server's standard error goes to `stderr_path` (shown when something fails).
    pub fn start(config: &Path, stderr_path: &Path) -> Server {
        Server::start_with_env(config, stderr_path, &[])
    }

    /// [`Server::start`] with more environment variables.
    pub fn start_with_env(config: &Path, stderr_path: &Path, env: &[(&str, &str)]) -> Server {
        let stderr = std::fs::File::create(stderr_path).expect("create the stderr file");
        let mut child = haechi_command(&[
            "serve",
            "--config",
            config.to_str().expect("UTF-8 temp path"),
        ])
        .env("HAECHI_LOG", "info,tantivy=warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("haechi serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<String>();
        // Keeps reading for the server's whole life, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    // Nobody listens any more; keep draining.
                }
            }
        });
        let mut server = Server {
            child: Some(child),
            listeners: HashMap::new(),
            http: "127.0.0.1:0".parse().expect("address"),
            stderr_path: stderr_path.to_owned(),
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    match words.as_slice() {
                        ["listening", "http" | "https", addr] => {
                            server.http = addr
                                .parse()
                                .expect("the HTTP address is printed as ip:port");
                            return server;
                        }
                        ["listening", name, _protocol, addr] => {
                            server.listeners.insert(
                                name.to_string(),
                                addr.parse()
                                    .expect("listener addresses are printed as ip:port"),
                            );
                        }
                        _ => {}
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server.child.as_mut().and_then(|c| wait_exit(c, PATIENCE));
                    panic!(
                        "haechi serve stopped before listening ({status:?}); stderr:\n{}",
                        server.stderr()
                    );
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "haechi serve printed no `listening http` line within {PATIENCE:?}; stderr:\n{}",
                    server.stderr()
                );
            }
        }
    }

    /// The address of a configured listener.
    pub fn listener(&self, name: &str) -> SocketAddr {
        *self.listeners.get(name).unwrap_or_else(|| {
            panic!(
                "haechi serve printed no address for listener {name}: {:?}",
                self.listeners
            )
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// What the server wrote to standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Sends SIGTERM (with the `kill` command) and waits for the exit; returns the status
    /// and the server's standard error. Fails the test if it does not stop in time.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.pid().to_string();
        let kill = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("the kill command runs");
        assert!(kill.success(), "kill -TERM {pid} failed");
        let mut child = self.child.take().expect("the server is running");
        let status = wait_exit(&mut child, PATIENCE);
        let stderr = self.stderr();
        let status = status.unwrap_or_else(|| {
            panic!("haechi serve did not stop within {PATIENCE:?} of SIGTERM; stderr:\n{stderr}")
        });
        (status, stderr)
    }

    /// Waits for a server that crashes by itself (a fault injected with
    /// `HAECHI_FAILPOINT`); returns its status, which is not a success.
    pub fn wait_crashed(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        let status = wait_exit(&mut child, PATIENCE)
            .unwrap_or_else(|| panic!("the server did not crash; stderr:\n{}", self.stderr()));
        assert!(!status.success(), "a crash is not a clean exit: {status}");
        status
    }

    /// Kills the server with SIGKILL (no chance to clean up), as a crash or power cut would.
    pub fn kill_hard(mut self) {
        let mut child = self.child.take().expect("the server is running");
        child.kill().expect("SIGKILL the server");
        let status = child.wait().expect("reap the server");
        assert!(
            !status.success(),
            "a SIGKILLed server does not exit cleanly: {status}"
        );
    }

    /// An HTTP request to the server.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        http_request(self.http, method, path, headers, body)
    }

    /// `GET path` with a bearer token; fails the test unless it answers 200 with JSON.
    pub fn get_json(&self, token: &str, path: &str) -> serde_json::Value {
        let r = self.request(
            "GET",
            path,
            &[("Authorization", &format!("Bearer {token}"))],
            b"",
        );
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.json()
    }

    /// The `/metrics` text, read with `token`.
    pub fn metrics(&self, token: &str) -> String {
        let auth = format!("Bearer {token}");
        let r = self.request("GET", "/metrics", &[("Authorization", &auth)], b"");
        assert_eq!(r.status, 200, "/metrics with a valid token: {}", r.text());
        r.text()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            if std::thread::panicking() {
                eprintln!("--- haechi serve stderr ---\n{}", self.stderr());
            }
        }
    }
}

/// The sum of the samples of a metric whose labels include all of `labels`
/// (0 when there is none).
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut sum = 0.0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = match line.rsplit_once(' ') {
            Some(x) => x,
            None => continue,
        };
        let (series_name, series_labels) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        if series_name != name {
            continue;
        }
        let has_all = labels.iter().all(|(k, v)| {
            series_labels
                .split(',')
                .any(|pair| pair == format!("{k}=\"{v}\""))
        });
        if has_all {
            sum += value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("metric value in {line:?}"));
        }
    }
    sum
}

/// Writes `text` to `dir/name` and returns the path.
/// A combined-log-format access line from `ip`, `second`s after the test epoch; with
/// `attack`, a path traversal the SigmaHQ web rule detects.
pub fn access_line(ip: &str, second: u32, attack: bool) -> String {
    let path = if attack {
        "/dl?file=../../../etc/passwd"
    } else {
        "/index.html"
    };
    format!(
        "{ip} - - [{}] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"",
        clf_time(second.into())
    )
}

pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

/// A path as a TOML string.
pub fn toml_path(path: &Path) -> String {
    let s = path.to_str().expect("UTF-8 temp path");
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

// ---------------------------------------------------------------------------------------
// HTTP/1.1

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), the answer read to
/// the end. A server may answer (413) before reading the whole body; the answer counts.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    try_http_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Like [`http_request`], but a connection failure is an `Err` (for a server that may be
/// gone).
pub fn try_http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(PATIENCE))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(PATIENCE))
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    // A write error means the server answered early and closed; read the answer anyway.
    let _ = stream.write_all(&request);
    let _ = stream.flush();
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) if !raw.is_empty() => break,
            Err(e) => return Err(format!("reading the answer: {e}")),
        }
    }
    parse_response(&raw).ok_or_else(|| {
        format!(
            "not an HTTP/1.1 answer: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Gzip-compresses a body.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip in memory");
    enc.finish().expect("gzip in memory")
}

// ---------------------------------------------------------------------------------------
// Syslog senders

/// Sends each record as one UDP datagram.
pub fn send_udp(addr: SocketAddr, records: &[Vec<u8>]) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
    for r in records {
        socket.send_to(r, addr).expect("send a datagram");
    }
}

/// Writes `bytes` on one TCP connection (in the given pieces), closes the sending side
/// and waits until the server closed too: by then it has handed every frame on to its
/// pipeline.
pub fn send_tcp(addr: SocketAddr, pieces: &[Vec<u8>]) {
    let mut stream = TcpStream::connect(addr).expect("connect to the TCP listener");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    for p in pieces {
        stream.write_all(p).expect("write to the TCP listener");
        stream.flush().expect("flush");
    }
    stream
        .shutdown(Shutdown::Write)
        .expect("close the sending side");
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(rest.is_empty(), "a syslog listener sends nothing back");
}

/// An RFC 6587 octet-counted frame: `LEN SP MSG`.
pub fn octet_counted(msg: &[u8]) -> Vec<u8> {
    let mut frame = format!("{} ", msg.len()).into_bytes();
    frame.extend_from_slice(msg);
    frame
}

/// Sends `bytes` over TLS (trusting only `ca`, for the name `localhost`), closes with
/// close_notify and waits until the server closed the connection.
pub fn send_tls(addr: SocketAddr, ca: &rustls::pki_types::CertificateDer<'static>, bytes: &[u8]) {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.clone())
        .expect("the test certificate is a valid trust anchor");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("server name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("TLS client");
    let tcp = TcpStream::connect(addr).expect("connect to the TLS listener");
    tcp.set_read_timeout(Some(PATIENCE)).expect("read timeout");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(bytes)
        .expect("write over TLS (the handshake must succeed)");
    tls.flush().expect("flush over TLS");
    tls.conn.send_close_notify();
    tls.conn
        .complete_io(&mut tls.sock)
        .expect("send close_notify");
    // The server closes once it has read everything; a close without close_notify is
    // fine here, the data went the other way.
    let mut rest = Vec::new();
    let _ = tls.read_to_end(&mut rest);
    assert!(rest.is_empty(), "a syslog listener sends nothing back");
}

/// Runs `haechi ARGS --data-dir DATA`, feeding `stdin`; fails the test on a non-zero exit.
pub fn cli(data: &Path, args: &[&str], stdin: &str) -> String {
    use std::io::Write;
    let mut all: Vec<&str> = args.to_vec();
    let d = data.to_str().unwrap();
    all.extend(["--data-dir", d]);
    let mut child = haechi_command(&all)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "haechi {args:?}: {}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// `haechi user add` with the password on standard input.
pub fn add_user(data: &Path, name: &str, role: &str, tenant: Option<&str>, password: &str) {
    let mut args = vec!["user", "add", name, "--role", role, "--password-stdin"];
    if let Some(t) = tenant {
        args.extend(["--tenant", t]);
    }
    cli(data, &args, &format!("{password}\n"));
}

/// `haechi token create`: the token (the last line printed).
pub fn create_token(data: &Path, name: &str, role: &str, tenant: Option<&str>) -> String {
    let mut args = vec!["token", "create", "--name", name, "--role", role];
    if let Some(t) = tenant {
        args.extend(["--tenant", t]);
    }
    let out = cli(data, &args, "");
    out.lines().last().unwrap().trim().to_owned()
}

/// `openssl s_server` on a free loopback port (Debian's openssl, installed by
/// scripts/setup-test-tools), killed when dropped.
pub struct SServer {
    child: Child,
    pub port: u16,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `openssl s_server` with `cert` and `key` and the extra `args` (`-www` answers a
/// status page; `-WWW` serves files from `cwd`); its output goes to `log`.
pub fn s_server(cert: &Path, key: &Path, args: &[&str], cwd: Option<&Path>, log: &Path) -> SServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(log).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.arg("s_server")
        .args(["-accept", &format!("127.0.0.1:{port}"), "-quiet"])
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let child = cmd
        .spawn()
        .expect("openssl is installed (scripts/setup-test-tools)");
    let server = SServer { child, port };
    wait_for("openssl s_server", PATIENCE, || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    server
}

/// A self-signed certificate for 127.0.0.1 made by `openssl req` (`key` like `rsa:2048`,
/// `extra` like `-sha1`), written as `dir/NAME.pem` and `dir/NAME.key`.
pub fn openssl_self_signed(
    dir: &Path,
    name: &str,
    key: &str,
    days: u32,
    extra: &[&str],
) -> (PathBuf, PathBuf) {
    let (cert_path, key_path) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            key,
            "-nodes",
            "-days",
            &days.to_string(),
        ])
        .args(extra)
        .args([
            "-subj",
            &format!("/CN={name}.test"),
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key_path)
        .arg("-out")
        .arg(&cert_path)
        .output()
        .expect("openssl is installed (scripts/setup-test-tools)");
    assert!(out.status.success(), "{}", describe(&out));
    (cert_path, key_path)
}
