//! A real ClickHouse server for the tests: Debian's `clickhouse-server` (18.16, installed
//! by `scripts/setup-test-tools`), started by `scripts/clickhouse-server` with its
//! configuration in the test's temporary directory, on loopback ports, with a password.
//! It stops with the test (the script watches the test process), so nothing is left
//! running.
//!
//! A missing server is an error that names the script to run, never a skipped test.

use haechi_store::clickhouse::ClickHouseConfig;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct ClickHouseServer {
    pub config: ClickHouseConfig,
    child: Child,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `scripts/clickhouse-server` of this repository.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/clickhouse-server")
}

impl ClickHouseServer {
    /// Starts a server with `scripts/clickhouse-server` and waits until it is ready (at
    /// most 60 s). The script stops the server when this test process is gone.
    pub fn start() -> ClickHouseServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut child = Command::new(script())
            .arg(dir.path())
            .args(["--http-port", &free_port().to_string()])
            .args(["--tcp-port", &free_port().to_string()])
            .args(["--watch", &std::process::id().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scripts/clickhouse-server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("ready ") => line,
            other => {
                let _ = child.kill();
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!(
                    "scripts/clickhouse-server did not start a server ({other:?}): {err}\n\
                     Install the server with scripts/setup-test-tools (Debian package clickhouse-server)."
                );
            }
        };
        let parts: Vec<&str> = ready.split_whitespace().collect();
        let password = std::fs::read_to_string(parts[3]).expect("the password file");
        ClickHouseServer {
            config: ClickHouseConfig {
                url: parts[1].to_owned(),
                database: "haechi".into(),
                user: parts[2].to_owned(),
                password: Some(password.trim().to_owned()),
                password_file: None,
            },
            child,
            _dir: dir,
        }
    }

    /// The configuration for a database of its own.
    pub fn database(&self, name: &str) -> ClickHouseConfig {
        ClickHouseConfig {
            database: name.into(),
            ..self.config.clone()
        }
    }
}

impl Drop for ClickHouseServer {
    fn drop(&mut self) {
        // The script stops the server on its own signal handler.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
