//! `haechi bench --stages clickhouse`: the ClickHouse store on a real server that the
//! stage starts itself (`scripts/clickhouse-server`, Debian's 18.16): the same input as
//! the `store` stage, inserted one 8,192-event batch per `INSERT`; rows per second, rows
//! per CPU-second of the server process, bytes on disk against the events as NDJSON, and
//! the one-IP search of the `store` stage.

use super::bench::{BenchArgs, bench_search, report, store_input, tempfile_dir};
use haechi_event::Batch;
use haechi_ingest::reader::{Limits, read_file};
use haechi_ingest::{Format, ParseContext};
use haechi_store::EventStore;
use haechi_store::clickhouse::{ClickHouseConfig, ClickHouseStore};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

pub fn run(args: &BenchArgs, ctx: &ParseContext) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let (sample, file, bytes) = store_input(args, &dir)?;
    let server_dir = dir.join("clickhouse");
    let (mut script, config) = start_server(&server_dir)?;
    // One pipeline batch per INSERT, then the larger inserts a store writer that
    // combines batches would send (small inserts make small parts the server merges).
    let mut outcome = Ok(());
    for batch in [8192, 65_536] {
        let config = ClickHouseConfig {
            database: format!("haechi_bench_{batch}"),
            ..config.clone()
        };
        let input = Input {
            sample: &sample,
            file: &file,
            bytes,
            batch,
        };
        outcome = measure(args, ctx, &config, &server_dir, &input);
        if outcome.is_err() {
            break;
        }
    }
    let _ = Command::new("kill").arg(script.id().to_string()).status();
    let _ = script.wait();
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

struct Input<'a> {
    sample: &'a Path,
    file: &'a Path,
    bytes: usize,
    /// Events per INSERT.
    batch: usize,
}

fn measure(
    args: &BenchArgs,
    ctx: &ParseContext,
    config: &ClickHouseConfig,
    server_dir: &Path,
    input: &Input,
) -> anyhow::Result<()> {
    let store = ClickHouseStore::open(config)?;
    let server_pid = server_pid(server_dir)
        .ok_or_else(|| anyhow::anyhow!("the clickhouse-server process was not found"))?;
    let cpu_before = process_cpu_seconds(server_pid)?;
    let mut json_bytes = 0u64;
    let mut line = Vec::with_capacity(1024);
    let started = Instant::now();
    let limits = Limits {
        batch_size: input.batch,
        ..Limits::default()
    };
    let stats = read_file(
        input.file,
        Format::Clf,
        ctx,
        None,
        limits,
        true,
        &mut |b: Batch| {
            for e in &b.events {
                line.clear();
                haechi_event::write_event_json(e, &mut line);
                json_bytes += line.len() as u64 + 1;
            }
            store.append(&b.events).map_err(|e| e.to_string())
        },
    )?;
    let secs = started.elapsed().as_secs_f64();
    let server_cpu = process_cpu_seconds(server_pid)? - cpu_before;
    report(
        args,
        &format!("ClickHouse, {} per INSERT", input.batch),
        "clf",
        input.sample,
        stats.events,
        stats.dead_letters,
        input.bytes,
        secs,
    );
    store.optimize()?;
    let on_disk = store.stats().bytes.max(1);
    let rows_per_cpu = stats.events as f64 / server_cpu.max(1e-9);
    let ratio = json_bytes as f64 / on_disk as f64;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "bench": "clickhouse", "server": store.server_version(), "events": stats.events,
                "events_per_insert": input.batch,
                "seconds": secs, "rows_per_second": stats.events as f64 / secs,
                "server_cpu_seconds": server_cpu, "clickhouse_rows_per_cpu_second": rows_per_cpu,
                "json_bytes": json_bytes, "bytes_on_disk": on_disk, "compression_ratio": ratio,
                "bytes_per_event": on_disk as f64 / stats.events.max(1) as f64,
            })
        );
    } else {
        println!(
            "ClickHouse {}: {:.0} rows per server CPU-second ({server_cpu:.1} CPU-s); {on_disk} bytes on disk, {:.1} per event, {ratio:.1}x smaller than the events as NDJSON ({json_bytes} bytes)",
            store.server_version(),
            rows_per_cpu,
            on_disk as f64 / stats.events.max(1) as f64,
        );
    }
    bench_search(args, "clickhouse", &store, stats.events)?;
    store.drop_database()?;
    Ok(())
}

/// Starts `scripts/clickhouse-server` (stopped when this process ends) and waits for it.
pub(crate) fn start_server(dir: &Path) -> anyhow::Result<(Child, ClickHouseConfig)> {
    let port = |()| -> anyhow::Result<u16> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port())
    };
    let mut child = Command::new("scripts/clickhouse-server")
        .arg(dir)
        .args(["--http-port", &port(())?.to_string()])
        .args(["--tcp-port", &port(())?.to_string()])
        .args(["--watch", &std::process::id().to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run scripts/clickhouse-server ({e}); run the bench from the project root"
            )
        })?;
    let mut ready = String::new();
    if let Some(out) = child.stdout.take() {
        std::io::BufReader::new(out).read_line(&mut ready)?;
    }
    let parts: Vec<&str> = ready.split_whitespace().collect();
    if parts.len() != 4 || parts[0] != "ready" {
        let _ = child.wait();
        anyhow::bail!(
            "scripts/clickhouse-server did not start a server (install it with scripts/setup-test-tools)"
        );
    }
    Ok((
        child,
        ClickHouseConfig {
            url: parts[1].to_owned(),
            database: "haechi_bench".into(),
            user: parts[2].to_owned(),
            password: None,
            password_file: Some(PathBuf::from(parts[3])),
        },
    ))
}

/// The process whose command line names this server's configuration file.
pub(crate) fn server_pid(dir: &Path) -> Option<u32> {
    let config = dir.canonicalize().ok()?.join("config.xml");
    let needle = format!("--config-file={}", config.display());
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|p| {
        let pid: u32 = p.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(p.path().join("cmdline")).ok()?;
        cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == needle.as_bytes())
            .then_some(pid)
    })
}

/// User plus system CPU time of a process, in seconds (from `/proc/PID/stat`).
pub(crate) fn process_cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow::anyhow!("unreadable /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> f64 { fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0.0) };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the state field's start.
    let hz = 100.0;
    Ok((ticks(11) + ticks(12)) / hz)
}
