//! `haechi bench --stages cluster`: the scale-out path end to end on real servers the
//! stage starts itself (`scripts/nats-server`, `scripts/clickhouse-server`): the stream
//! bench's load (real OpenSSH lines over TCP syslog, one attack line in a thousand, all
//! SigmaHQ rules) into a server with `[cluster]` and the ClickHouse store, so every batch
//! crosses JetStream to the detection worker and the store writer. Reported: events/s
//! sent and accepted, events stored, duplicates (stored minus distinct `event.id`s), the
//! p99 delay from sending an attack line to its stored alert, rows per ClickHouse
//! CPU-second and the bytes on disk against the events as NDJSON; then the scaling of
//! detection workers over a preloaded backlog (one worker, then two).

use super::bench::{BenchArgs, tempfile_dir};
use super::bench_clickhouse::{process_cpu_seconds, server_pid, start_server};
use super::bench_stream::{SSHD_RULE, benign_lines, send_steady, stream_config};
use anyhow::Context;
use haechi_ingest::{Format, ParseContext};
use haechi_store::EventStore;
use haechi_store::clickhouse::{ClickHouseConfig, ClickHouseStore};
use haechi_store::state::AlertFilter;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile_dir()?.join("cluster");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let (mut nats, nats_url) = start_nats(&dir.join("nats"))?;
    let clickhouse = start_server(&dir.join("clickhouse"));
    let outcome = match clickhouse {
        Ok((mut ch, ch_config)) => {
            let outcome = measure(args, &dir, &nats_url, ch_config);
            let _ = Command::new("kill").arg(ch.id().to_string()).status();
            let _ = ch.wait();
            outcome
        }
        Err(e) => Err(e),
    };
    let _ = Command::new("kill").arg(nats.id().to_string()).status();
    let _ = nats.wait();
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn measure(
    args: &BenchArgs,
    dir: &Path,
    nats_url: &str,
    clickhouse: ClickHouseConfig,
) -> anyhow::Result<()> {
    let clickhouse = ClickHouseConfig {
        database: "haechi_cluster_bench".into(),
        ..clickhouse
    };
    let mut config = stream_config(args, &dir.join("data"));
    config.store.backend = haechi_store::Backend::ClickHouse;
    config.store.clickhouse = clickhouse.clone();
    config.cluster = Some(haechi_cluster::ClusterConfig {
        nats: nats_url.to_owned(),
        site: "bench".into(),
        // Two detection workers, as the end-to-end run asks.
        detect_workers: 2,
        ..Default::default()
    });
    let ch_pid = server_pid(&dir.join("clickhouse")).context("the ClickHouse server process")?;
    let cpu_before = process_cpu_seconds(ch_pid)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || super::serve::run_with(config, Some(tx)));
    let ready = rx
        .recv_timeout(Duration::from_secs(300))
        .context("the benchmark server did not start")?;
    let addr = ready
        .listeners
        .iter()
        .find(|(n, _)| n == "bench-tcp")
        .map(|(_, a)| *a)
        .context("no bench listener")?;
    let benign = benign_lines(args)?;
    let (sent, attacks, _, send_secs) = send_steady(addr, &benign, args)?;
    let alerts = ready.alerts.clone().context("detection is off")?;
    let store = ClickHouseStore::open(&clickhouse)?;
    // After the last line: wait while the site still makes progress (a site that fell
    // behind catches up; one that stopped for a minute has lost what is missing). The
    // poll counts rows (`count()`, from the parts' metadata); the distinct ids, a scan of
    // every row, are counted once at the end, after the server's CPU time is read.
    let sending_ended = Instant::now();
    let mut progress = (0usize, 0u64, Instant::now());
    let found = loop {
        let found = attack_alerts(&alerts)?;
        let rows = store.stats().events;
        if found.len() >= attacks && rows >= sent as u64 {
            break found;
        }
        if (found.len(), rows) != (progress.0, progress.1) {
            progress = (found.len(), rows, Instant::now());
        } else if progress.2.elapsed() > Duration::from_secs(60) {
            break found;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let catch_up_secs = sending_ended.elapsed().as_secs_f64();
    let ch_cpu = process_cpu_seconds(ch_pid)? - cpu_before;
    let (stored, ids) = store.id_counts()?;
    ready.shutdown.cancel();
    let _ = server.join();
    let scale = scaling(args, dir, nats_url, &benign)?;
    let mut delays: Vec<f64> = found
        .iter()
        .map(|a| (a.stored.0 - a.first_seen.0) as f64 / 1e9)
        .collect();
    delays.sort_by(f64::total_cmp);
    if delays.is_empty() {
        anyhow::bail!("no alert arrived for the {attacks} attack lines");
    }
    let pct =
        |p: f64| delays[((delays.len() as f64 * p).ceil() as usize).clamp(1, delays.len()) - 1];
    store.optimize()?;
    let on_disk = store.stats().bytes.max(1);
    let json_per_event = ndjson_bytes_per_event(&benign);
    let compression = stored as f64 * json_per_event / on_disk as f64;
    let rate = sent as f64 / send_secs;
    let rows_per_cpu = stored as f64 / ch_cpu.max(1e-9);
    let report = serde_json::json!({
        "bench": "cluster",
        "events_per_second": rate,
        "events_sent": sent,
        "events_stored": stored,
        "seconds_to_store_all_after_sending": catch_up_secs,
        "duplicates": stored.saturating_sub(ids),
        "lost": (sent as u64).saturating_sub(ids),
        "attack_lines": attacks,
        "alerts": found.len(),
        "p50_alert_seconds": pct(0.5),
        "p99_alert_seconds": pct(0.99),
        "scaling_efficiency": scale.efficiency(),
        "scaling_backlog_events": scale.events,
        "scaling_one_worker_seconds": scale.one,
        "scaling_two_workers_seconds": scale.two,
        "clickhouse_rows_per_cpu_second": rows_per_cpu,
        "clickhouse_cpu_seconds": ch_cpu,
        "compression_ratio": compression,
        "bytes_on_disk": on_disk,
        "ndjson_bytes_per_event": json_per_event,
        "clickhouse": store.server_version(),
    });
    store.drop_database()?;
    if args.json {
        println!("{report}");
    } else {
        println!(
            "cluster (collector → JetStream → detector + store writer → ClickHouse, all SigmaHQ rules): {sent} events in {send_secs:.1}s ({rate:.0} events/s sent and accepted); {stored} stored, {} duplicates, {} lost; {} of {attacks} attack lines alerted, delay p50 {:.3}s p99 {:.3}s; ClickHouse {rows_per_cpu:.0} rows per CPU-second, {compression:.1}x smaller than NDJSON; draining {} events: 1 detection worker {:.1}s, 2 workers {:.1}s, scaling efficiency {:.2}",
            stored.saturating_sub(ids),
            (sent as u64).saturating_sub(ids),
            found.len(),
            pct(0.5),
            pct(0.99),
            scale.events,
            scale.one,
            scale.two,
            scale.efficiency(),
        );
    }
    Ok(())
}

/// Events in the backlog the scaling measurement drains.
const SCALING_BACKLOG: usize = 2_000_000;

/// Every alert of the attack lines' rule, page by page (a long run raises more than one
/// list holds).
fn attack_alerts(
    alerts: &haechi_store::state::AlertStore,
) -> anyhow::Result<Vec<haechi_event::Alert>> {
    let mut all: Vec<haechi_event::Alert> = Vec::new();
    loop {
        let page = alerts
            .list(&AlertFilter {
                rule_id: Some(SSHD_RULE.into()),
                limit: haechi_store::state::MAX_LIST,
                after_id: all.last().map(|a| a.id),
                ..Default::default()
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let full = page.len() == haechi_store::state::MAX_LIST;
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// Draining one backlog with one detection worker, then with two.
struct Scaling {
    events: usize,
    one: f64,
    two: f64,
}

impl Scaling {
    /// T1 / (2 · T2): 1.0 when two workers drain twice as fast as one.
    fn efficiency(&self) -> f64 {
        self.one / (2.0 * self.two)
    }
}

/// A backlog of the load's events published once for two consumers, drained by one
/// detection worker and then by two, each pinned to a core of its own as detector
/// processes started with `taskset` would be; the servers share the same cores.
fn scaling(
    args: &BenchArgs,
    dir: &Path,
    nats_url: &str,
    benign: &[String],
) -> anyhow::Result<Scaling> {
    let config = stream_config(args, &dir.join("scale"));
    let (detection, _) =
        crate::detection::Detection::start(&config, false)?.context("detection is off")?;
    let detection = std::sync::Arc::new(detection);
    let cluster = haechi_cluster::ClusterConfig {
        nats: nats_url.to_owned(),
        site: "bench".into(),
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let bus = haechi_cluster::Bus::connect(&cluster, "backlog").await?;
        for c in ["scale-one", "scale-two"] {
            bus.add_consumer(c).await?;
        }
        let ctx = ParseContext::new("bench");
        let mut parser = haechi_ingest::new_parser(Format::Syslog);
        let base: Vec<haechi_event::Event> = benign
            .iter()
            .filter_map(|l| parser.parse(l.trim_end(), &ctx).ok().flatten())
            .collect();
        let mut events = 0;
        while events < SCALING_BACKLOG {
            let mut batch: Vec<haechi_event::Event> = base
                .iter()
                .cycle()
                .skip(events % base.len())
                .take(4096)
                .cloned()
                .collect();
            bus.publish(&mut batch, haechi_event::Timestamp::now())
                .await?;
            events += batch.len();
        }
        let one = drain(&cluster, "scale-one", 1, &detection).await?;
        let two = drain(&cluster, "scale-two", 2, &detection).await?;
        Ok::<_, anyhow::Error>(Scaling { events, one, two })
    })
}

/// Seconds until `workers` detection workers have taken every batch of `consumer`. Each
/// worker is a thread pinned to a core of its own with its own connection and runtime,
/// and detects on a one-thread pool that inherits the pinning, as a detector process
/// started with `taskset -c N` would (the servers roam).
async fn drain(
    cluster: &haechi_cluster::ClusterConfig,
    consumer: &str,
    workers: usize,
    detection: &std::sync::Arc<crate::detection::Detection>,
) -> anyhow::Result<f64> {
    let monitor = haechi_cluster::Bus::connect(cluster, "scale-monitor").await?;
    let started = Instant::now();
    let mut stops = Vec::new();
    let mut threads = Vec::new();
    for w in 0..workers {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        let (cluster, consumer, d) = (cluster.clone(), consumer.to_owned(), detection.clone());
        threads.push(std::thread::spawn(move || -> anyhow::Result<()> {
            pin_to_cpu(w % cores());
            let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let bus = haechi_cluster::Bus::connect(&cluster, &format!("scale-{w}")).await?;
                let work = bus.work(&consumer, move |mut b| {
                    pool.install(|| std::hint::black_box(d.detect(&mut b.events)));
                    Ok(())
                });
                tokio::select! {
                    done = work => done.map_err(anyhow::Error::from),
                    _ = stopped => Ok(()),
                }
            })
        }));
    }
    loop {
        let (pending, unacked) = monitor.backlog(consumer).await?;
        if pending == 0 && unacked == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    for stop in stops {
        let _ = stop.send(());
    }
    for t in threads {
        t.join()
            .map_err(|_| anyhow::anyhow!("a detection worker panicked"))??;
    }
    Ok(secs)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Pins the calling thread to one CPU (Linux `sched_setaffinity`); elsewhere, or if the
/// CPU is not allowed, the thread stays unpinned.
fn pin_to_cpu(cpu: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: `set` is a zeroed, properly sized `cpu_set_t` that only this call reads.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            tracing::warn!(cpu, "could not pin a detection worker to its CPU");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// The average size of the load's events as NDJSON (with the `event.id` a collector
/// adds), from the benign lines through the syslog parser.
fn ndjson_bytes_per_event(lines: &[String]) -> f64 {
    let ctx = ParseContext::new("bench");
    let mut parser = haechi_ingest::new_parser(Format::Syslog);
    let (mut bytes, mut n) = (0usize, 0usize);
    let mut out = Vec::new();
    for l in lines {
        if let Ok(Some(mut e)) = parser.parse(l.trim_end(), &ctx) {
            e.push(haechi_event::ecs::EVENT_ID, "0123456789abcdef01234");
            out.clear();
            haechi_event::write_event_json(&e, &mut out);
            bytes += out.len() + 1;
            n += 1;
        }
    }
    bytes as f64 / n.max(1) as f64
}

/// Starts `scripts/nats-server` (stopped when this process ends) and waits for it.
fn start_nats(dir: &Path) -> anyhow::Result<(Child, String)> {
    let port = || -> anyhow::Result<u16> {
        Ok(std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port())
    };
    let mut child = Command::new("scripts/nats-server")
        .arg(dir)
        .args(["--port", &port()?.to_string()])
        .args(["--monitor-port", &port()?.to_string()])
        .args(["--watch", &std::process::id().to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run scripts/nats-server ({e}); run the bench from the project root"
            )
        })?;
    let mut ready = String::new();
    if let Some(out) = child.stdout.take() {
        std::io::BufReader::new(out).read_line(&mut ready)?;
    }
    let parts: Vec<&str> = ready.split_whitespace().collect();
    if parts.len() != 3 || parts[0] != "ready" {
        let _ = child.wait();
        anyhow::bail!(
            "scripts/nats-server did not start a server (install it with scripts/setup-test-tools)"
        );
    }
    Ok((child, parts[1].to_owned()))
}
