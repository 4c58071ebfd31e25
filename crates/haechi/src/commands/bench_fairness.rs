//! `haechi bench --stages fairness`: 72 institutions sending at once, one of them flooding.
//!
//! A real server (the `serve` code, in this process, with all SigmaHQ rules) takes HTTP
//! ingest from 72 institutions: 71 send a request of 20 real OpenSSH lines every 250 ms
//! (about 5,700 events/s together) and time each request from sending to the answer
//! that their events are stored; the 72nd floods with 8 connections sending 5,000-line
//! requests back to back. The run is made twice, with each institution's share of the
//! queue off (`pipeline.max_queued_per_source = 0`) and on (the configured default), and
//! reports the others' latency (p50, p99, max), what they and the flood got through, and
//! the ratio of the others' p99 without and with the share.

use super::bench::{BenchArgs, tempfile_dir};
use super::bench_stream::{benign_lines, stream_config};
use anyhow::Context;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const INSTITUTIONS: usize = 72;
const QUIET_LINES: usize = 20;
const QUIET_EVERY: Duration = Duration::from_millis(250);
const FLOOD_CONNECTIONS: usize = 8;
const FLOOD_LINES: usize = 5_000;

/// One run's figures.
struct Outcome {
    share: usize,
    latencies: Vec<f64>,
    quiet_events: usize,
    flood_events: usize,
    failed: usize,
    seconds: f64,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let lines = benign_lines(args)?;
    let configured = crate::config::Config::default()
        .pipeline
        .max_queued_per_source;
    let off = measure(args, &lines, 0)?;
    let on = measure(args, &lines, configured)?;
    for o in [&off, &on] {
        report(args, o);
    }
    let ratio = pct(&off.latencies, 0.99) / pct(&on.latencies, 0.99).max(1e-6);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "fairness", "others_p99_without_over_with_share": ratio})
        );
    } else {
        println!(
            "fairness: the 71 others' p99 latency is {ratio:.1}x lower with the share ({configured} records per source) than without"
        );
    }
    Ok(())
}

fn measure(args: &BenchArgs, lines: &[String], share: usize) -> anyhow::Result<Outcome> {
    let dir = tempfile_dir()?.join(format!("fairness-{share}"));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = stream_config(args, &dir);
    config.listeners.clear();
    config.pipeline.max_queued_per_source = share;
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || super::serve::run_with(config, Some(tx)));
    let ready = rx
        .recv_timeout(Duration::from_secs(300))
        .context("the benchmark server did not start")?;
    let (http, token) = (ready.http, ready.token.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let flood_events = Arc::new(AtomicUsize::new(0));
    let flood_body: Arc<String> =
        Arc::new(lines.iter().cycle().take(FLOOD_LINES).cloned().collect());
    let floods: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|_| {
            let (stop, done, body, token) = (
                stop.clone(),
                flood_events.clone(),
                flood_body.clone(),
                token.clone(),
            );
            std::thread::spawn(move || {
                let mut conn = None;
                while !stop.load(Ordering::Relaxed) {
                    if post(&mut conn, http, &token, "flood", &body).is_ok() {
                        done.fetch_add(FLOOD_LINES, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.stream_seconds.max(5));
    let quiet: Vec<_> = (1..INSTITUTIONS)
        .map(|i| {
            let token = token.clone();
            let body: String = lines
                .iter()
                .cycle()
                .skip(i * QUIET_LINES)
                .take(QUIET_LINES)
                .cloned()
                .collect();
            std::thread::spawn(move || {
                let tenant = format!("inst-{i:02}");
                let (mut conn, mut latencies, mut failed) = (None, Vec::new(), 0);
                let mut next = Instant::now() + QUIET_EVERY * i as u32 / INSTITUTIONS as u32;
                while next < deadline {
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    let sent = Instant::now();
                    match post(&mut conn, http, &token, &tenant, &body) {
                        Ok(()) => latencies.push(sent.elapsed().as_secs_f64()),
                        Err(_) => failed += 1,
                    }
                    next += QUIET_EVERY;
                }
                (latencies, failed)
            })
        })
        .collect();
    let (mut latencies, mut failed) = (Vec::new(), 0);
    for q in quiet {
        let (l, f) = q.join().map_err(|_| anyhow::anyhow!("a sender panicked"))?;
        latencies.extend(l);
        failed += f;
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for f in floods {
        let _ = f.join();
    }
    ready.shutdown.cancel();
    let _ = server.join();
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort_by(f64::total_cmp);
    anyhow::ensure!(
        !latencies.is_empty(),
        "no request of the 71 others was answered"
    );
    Ok(Outcome {
        share,
        quiet_events: latencies.len() * QUIET_LINES,
        latencies,
        flood_events: flood_events.load(Ordering::Relaxed),
        failed,
        seconds,
    })
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn report(args: &BenchArgs, o: &Outcome) {
    let (p50, p99, max) = (
        pct(&o.latencies, 0.5),
        pct(&o.latencies, 0.99),
        pct(&o.latencies, 1.0),
    );
    let (quiet_rate, flood_rate) = (
        o.quiet_events as f64 / o.seconds,
        o.flood_events as f64 / o.seconds,
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "fairness", "share": o.share, "institutions": INSTITUTIONS, "seconds": o.seconds,
                "others_requests": o.latencies.len(), "others_failed": o.failed, "others_events_per_s": quiet_rate,
                "others_p50_s": p50, "others_p99_s": p99, "others_max_s": max, "flood_events_per_s": flood_rate})
        );
    } else {
        println!(
            "fairness (72 institutions over HTTP, one flooding; share {}): the 71 others {} requests ({} failed), {quiet_rate:.0} events/s, latency p50 {p50:.3}s p99 {p99:.3}s max {max:.3}s; the flood {flood_rate:.0} events/s",
            if o.share == 0 {
                "off".to_owned()
            } else {
                format!("{} records per source", o.share)
            },
            o.latencies.len(),
            o.failed,
        );
    }
}

/// `POST /api/ingest` of syslog lines over a kept-alive connection; `Err` on anything but
/// 200 (the connection is then opened again).
fn post(
    conn: &mut Option<BufReader<TcpStream>>,
    http: SocketAddr,
    token: &str,
    tenant: &str,
    body: &str,
) -> anyhow::Result<()> {
    let result = (|| -> anyhow::Result<()> {
        if conn.is_none() {
            let s = TcpStream::connect(http)?;
            s.set_read_timeout(Some(Duration::from_secs(120)))?;
            s.set_nodelay(true)?;
            *conn = Some(BufReader::new(s));
        }
        let reader = conn.as_mut().context("a connection")?;
        write!(
            reader.get_mut(),
            "POST /api/ingest?tenant={tenant}&format=syslog HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let (mut status, mut length, mut line) = (0u16, 0usize, String::new());
        loop {
            line.clear();
            anyhow::ensure!(reader.read_line(&mut line)? > 0, "connection closed");
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some(code) = l.strip_prefix("HTTP/1.1 ") {
                status = code.get(..3).unwrap_or("0").parse().unwrap_or(0);
            } else if let Some((name, value)) = l.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut answer = vec![0; length];
        reader.read_exact(&mut answer)?;
        anyhow::ensure!(status == 200, "answered {status}");
        Ok(())
    })();
    if result.is_err() {
        *conn = None;
    }
    result
}
