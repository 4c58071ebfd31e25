//! `haechi bench --stages stream`: streaming detection under a steady load.
//!
//! A real server (the `serve` code, in this process) with all SigmaHQ rules listens on
//! TCP syslog; a sender thread writes real OpenSSH syslog lines at `--stream-rate`
//! events/s for `--stream-seconds`, and one line in a thousand is an attack line
//! (`Corrupted MAC on input`, which SigmaHQ's `lnx_sshd_susp_ssh` rule detects) stamped
//! with its sending time in microseconds (RFC 5424). Each such line becomes its own
//! alert (merging off), so its delay is the alert's store time minus its event time:
//! sending, socket buffers, queueing, parsing, detection, the durable event store and the
//! alert store all count. Sender and server share the machine's cores.
//!
//! With `--stream-device-percent P`, P % of the lines are FortiGate IPS detections (five
//! signatures from 200 attackers, stamped with their sending time): they raise device
//! alerts beside the Sigma ones, fold into counts and storms, and the bench checks that
//! the counts of the device alerts add up to the lines sent.

use super::bench::{BenchArgs, tempfile_dir};
use crate::config::Config;
use anyhow::Context;
use haechi_event::Timestamp;
use haechi_ingest::listen::{ListenerConfig, Protocol};
use haechi_server::ApiToken;
use haechi_store::state::AlertFilter;
use std::io::Write;
use std::time::{Duration, Instant};

/// SigmaHQ `rules/linux/builtin/sshd/lnx_sshd_susp_ssh.yml`.
pub(crate) const SSHD_RULE: &str = "e76b413a-83d0-4b94-8e4c-85db4a5b8bdc";
/// One attack line per this many events.
const ATTACK_EVERY: usize = 1_000;

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile_dir()?.join("stream");
    let _ = std::fs::remove_dir_all(&dir);
    let config = stream_config(args, &dir);
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
    let (sent, attacks, device_lines, send_secs) = send_steady(addr, &benign, args)?;
    let alerts = ready.alerts.clone().context("detection is off")?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let found = loop {
        let found = alerts
            .list(&AlertFilter {
                rule_id: Some(SSHD_RULE.into()),
                limit: haechi_store::state::MAX_LIST,
                ..Default::default()
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if found.len() >= attacks || Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let device = device_counts(&alerts, device_lines)?;
    ready.shutdown.cancel();
    let _ = server.join();
    let mut delays: Vec<f64> = found
        .iter()
        .map(|a| (a.stored.0 - a.first_seen.0) as f64 / 1e9)
        .collect();
    delays.sort_by(f64::total_cmp);
    let pct =
        |p: f64| delays[((delays.len() as f64 * p).ceil() as usize).clamp(1, delays.len()) - 1];
    let _ = std::fs::remove_dir_all(&dir);
    if delays.is_empty() {
        anyhow::bail!("no alert arrived for the {attacks} attack lines");
    }
    let rate = sent as f64 / send_secs;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "stream", "events": sent, "seconds": send_secs, "events_per_s": rate, "attack_lines": attacks, "alerts": found.len(), "delay_p50_s": pct(0.5), "delay_p99_s": pct(0.99), "delay_max_s": pct(1.0), "device_lines": device_lines, "device_alerts": device.alerts, "device_counted": device.counted})
        );
    } else {
        println!(
            "stream (all SigmaHQ rules, TCP syslog) {sent} events in {send_secs:.1}s ({rate:.0} events/s sent and accepted); {} of {attacks} attack lines alerted; delay send→alert p50 {:.3}s p99 {:.3}s max {:.3}s",
            found.len(),
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
        if device_lines > 0 {
            println!(
                "  device detections: {device_lines} sent, {} counted in {} device alerts (the Sigma delay above is the queue's under this load; a merged alert keeps only its last write time)",
                device.counted, device.alerts
            );
        }
    }
    Ok(())
}

/// What became of the device lines: alerts, and the detections their counts hold.
struct DeviceCounts {
    alerts: usize,
    counted: u64,
}

fn device_counts(
    alerts: &haechi_store::state::AlertStore,
    sent: usize,
) -> anyhow::Result<DeviceCounts> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = all_device_alerts(alerts)?;
        let counted: u64 = found.iter().map(|a| a.count).sum();
        if counted >= sent as u64 || Instant::now() > deadline {
            return Ok(DeviceCounts {
                alerts: found.len(),
                counted,
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every device alert, page by page.
fn all_device_alerts(
    alerts: &haechi_store::state::AlertStore,
) -> anyhow::Result<Vec<haechi_event::Alert>> {
    let mut out: Vec<haechi_event::Alert> = Vec::new();
    loop {
        let page = alerts
            .list(&AlertFilter {
                source: Some(haechi_event::AlertSource::Device),
                after_id: out.last().map(|a| a.id),
                limit: haechi_store::state::MAX_LIST,
                ..Default::default()
            })
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let done = page.len() < haechi_store::state::MAX_LIST;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// A FortiGate IPS detection (the FortiOS log reference's shape) stamped `now`, from one
/// of 200 attackers, for one of five signatures.
fn device_line(buf: &mut Vec<u8>, n: usize) -> std::io::Result<()> {
    let now = Timestamp::now().0;
    writeln!(
        buf,
        "<185>date=2026-01-01 time=00:00:00 logid=\"0419016384\" type=\"utm\" subtype=\"ips\" eventtype=\"signature\" level=\"alert\" devname=\"fgt-bench\" devid=\"FGT60E0000000000\" eventtime={now} srcip=198.18.{}.{} dstip=192.0.2.55 proto=6 action=\"dropped\" attack=\"Bench.Signature.{}\" attackid={} severity=\"high\"",
        (n / 5) % 200 / 100,
        (n / 5) % 100 + 1,
        n % 5,
        40_000 + n % 5
    )
}

pub(crate) fn stream_config(args: &BenchArgs, dir: &std::path::Path) -> Config {
    let mut config = Config {
        data_dir: dir.to_owned(),
        ..Config::default()
    };
    config.http.listen = "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!());
    config.http.tokens = vec![ApiToken {
        token: "bench-token-0123456789".into(),
        tenant: None,
        name: Some("bench".into()),
        role: None,
    }];
    config.listeners = vec![ListenerConfig {
        name: "bench-tcp".into(),
        protocol: Protocol::Tcp,
        address: "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        tenant: Some("bench".into()),
        format: "syslog".into(),
        tls_cert: None,
        tls_key: None,
    }];
    config.detect.rules = vec![args.data.join("sigma")];
    config.pipeline.dedup_window = 0;
    config
}

/// The real OpenSSH lines of the loghub sample, as a relay forwards them.
pub(crate) fn benign_lines(args: &BenchArgs) -> anyhow::Result<Vec<String>> {
    let path = args.data.join("logs/loghub/OpenSSH_2k.log");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("Corrupted MAC"))
        .map(|l| format!("<38>{l}\n"))
        .collect())
}

/// Writes lines at the target rate in 10 ms slices; returns (events sent, attack lines
/// sent, device lines sent, seconds).
pub(crate) fn send_steady(
    addr: std::net::SocketAddr,
    benign: &[String],
    args: &BenchArgs,
) -> anyhow::Result<(usize, usize, usize, f64)> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let per_slice = (args.stream_rate / 100).max(1);
    let started = Instant::now();
    let end = started + Duration::from_secs(args.stream_seconds);
    let (mut sent, mut attacks, mut devices) = (0usize, 0usize, 0usize);
    let percent = usize::from(args.stream_device_percent);
    let mut buf = Vec::with_capacity(per_slice * 160);
    let mut slice = 0u32;
    while Instant::now() < end {
        buf.clear();
        for _ in 0..per_slice {
            if sent % ATTACK_EVERY == ATTACK_EVERY - 1 {
                let now = Timestamp::now().to_datetime();
                writeln!(
                    buf,
                    "<38>1 {} bench-host-{attacks} sshd 4242 - - fatal: Corrupted MAC on input. seq={attacks}",
                    now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                )?;
                attacks += 1;
            } else if (sent + 1) * percent / 100 > sent * percent / 100 {
                device_line(&mut buf, devices)?;
                devices += 1;
            } else {
                buf.extend_from_slice(benign[sent % benign.len()].as_bytes());
            }
            sent += 1;
        }
        stream.write_all(&buf)?;
        slice += 1;
        let due = started + Duration::from_millis(10) * slice;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    stream.flush()?;
    Ok((sent, attacks, devices, started.elapsed().as_secs_f64()))
}
