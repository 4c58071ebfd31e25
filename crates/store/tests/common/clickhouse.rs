//! A real ClickHouse server for the tests: Debian's `clickhouse-server` (18.16, installed
//! by `scripts/setup-test-tools`), started from a configuration written into the test's
//! temporary directory, on loopback ports, with a password. It stops when the test
//! process ends (a watcher shell kills it), so nothing is left running.
//!
//! A missing server is an error that names the script to run, never a skipped test.

use haechi_store::clickhouse::ClickHouseConfig;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ClickHouseServer {
    pub config: ClickHouseConfig,
    _child: Child,
    _dir: tempfile::TempDir,
}

const PASSWORD: &str = "haechi-test-password";

/// The server binary: `HAECHI_CLICKHOUSE_SERVER`, else Debian's path, else `PATH`.
fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HAECHI_CLICKHOUSE_SERVER") {
        return PathBuf::from(p);
    }
    for candidate in ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"] {
        if Path::new(candidate).is_file() {
            return PathBuf::from(candidate);
        }
    }
    PathBuf::from("clickhouse-server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn config_xml(dir: &Path, http_port: u16, tcp_port: u16) -> String {
    let d = dir.display();
    format!(
        r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <compression><case><method>zstd</method></case></compression>
</yandex>
"#
    )
}

fn users_xml() -> String {
    format!(
        r#"<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><haechi><password>{PASSWORD}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></haechi></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"#
    )
}

impl ClickHouseServer {
    /// Starts a server and waits until it answers `/ping` (at most 30 s).
    pub fn start() -> ClickHouseServer {
        let binary = server_binary();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (http_port, tcp_port) = (free_port(), free_port());
        std::fs::write(
            dir.path().join("config.xml"),
            config_xml(dir.path(), http_port, tcp_port),
        )
        .unwrap();
        std::fs::write(dir.path().join("users.xml"), users_xml()).unwrap();
        // The watcher ends the server once this test process is gone.
        let child = Command::new("sh")
            .arg("-c")
            .arg(
                r#"parent=$1; shift; "$@" & child=$!
                   while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
                   kill "$child" 2>/dev/null; wait"#,
            )
            .arg("sh")
            .arg(std::process::id().to_string())
            .arg(&binary)
            .arg(format!(
                "--config-file={}",
                dir.path().join("config.xml").display()
            ))
            // The suite's second run moves the test's clock with libfaketime; the server
            // keeps the real one (the store never asks it for the time).
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh starts");
        let url = format!("http://127.0.0.1:{http_port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut child = child;
        loop {
            if ping(http_port) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!(
                    "ClickHouse server {} exited ({status}) before answering: {err}\n\
                     Install it with scripts/setup-test-tools (Debian package clickhouse-server).",
                    binary.display()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "ClickHouse server {} did not answer on 127.0.0.1:{http_port} within 30 s; \
                     see {}/log/error.log. Install it with scripts/setup-test-tools.",
                    binary.display(),
                    dir.path().display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        ClickHouseServer {
            config: ClickHouseConfig {
                url,
                database: "haechi".into(),
                user: "haechi".into(),
                password: Some(PASSWORD.into()),
                password_file: None,
            },
            _child: child,
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

/// True when the server answers `GET /ping` with `Ok.`.
fn ping(port: u16) -> bool {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.ends_with("Ok.\n")
}
