//! `haechi bench`: throughput of parse+normalize per format, and of parse+normalize+store,
//! on the real sample data (`../shared/data`), repeated to a target volume.
//!
//! Figures are events/s and MB/s of input, single-threaded for parsing (so per core),
//! and peak resident memory. Timings belong here, never in tests.

use haechi_event::Batch;
use haechi_ingest::reader::{Limits, read_file};
use haechi_ingest::{Format, ParseContext, new_parser};
use haechi_store::EventStore;
use haechi_store::embedded::{EmbeddedStore, StoreConfig};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Every stage `--stages` knows; anything else is refused (exit 2) rather than measuring
/// nothing.
pub const STAGES: [&str; 15] = [
    "parse",
    "evtx",
    "ot",
    "cloudtrail",
    "store",
    "hunt",
    "stream",
    "ml",
    "state",
    "stix",
    "vuln",
    "domains",
    "clickhouse",
    "cluster",
    "fairness",
];

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The sample data directory.
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,
    /// Megabytes of input per format (samples are repeated to reach it).
    #[arg(long, default_value_t = 64)]
    pub megabytes: usize,
    /// Also measure parse+normalize+store with this many events (0: skip).
    #[arg(long, default_value_t = 1_000_000)]
    pub store_events: usize,
    /// Print results as JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Which stages to run: `parse`, `evtx` (with the python-evtx peer), `store`, `hunt`
    /// (all SigmaHQ rules over the EVTX samples, against Hayabusa's published figures),
    /// `stream` (a server with all rules under a steady load: events/s and the delay from
    /// an event's sending to its alert), `ml` (inference throughput of the default models
    /// on one core, flow-model training on one million rows), `state` (100,000 alerts
    /// with incident grouping, and the console's listings over them), `stix` (50,000 STIX
    /// indicators into the object store, and TAXII-sized pages out of it), `ot` (tshark
    /// packets parsed, the OT model scoring events), `cloudtrail` (a 100 MB CloudTrail
    /// delivery file read and unpacked), `clickhouse` (not run by default: the `store`
    /// input into a ClickHouse server the stage starts with scripts/clickhouse-server;
    /// rows/s, rows per server CPU-second, compression against NDJSON, one-IP search),
    /// `cluster` (not run by default: the `stream` load through `[cluster]` over a NATS
    /// server and into a ClickHouse server the stage starts; events/s, stored, duplicates,
    /// p99 send-to-alert delay, ClickHouse rows per CPU-second, compression), `vuln`
    /// (every staged advisory database imported, a 10,000-component SBOM scanned),
    /// `domains` (Domain Watch: a 2,000,000-name sweep on one core, look-alike alerts on
    /// popular names, the model's held-out phishing recall against popular names flagged),
    /// `fairness` (not run by default: 72 institutions over HTTP, one flooding, with and
    /// without each institution's share of the queue; the others' latency,
    /// `--stream-seconds` per run).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "parse,evtx,ot,cloudtrail,store,hunt,stream,ml,state,stix,vuln,domains",
        value_parser = clap::builder::PossibleValuesParser::new(STAGES)
    )]
    pub stages: Vec<String>,
    /// `hunt`: how many times the EVTX sample set is scanned (Hayabusa's reference run
    /// used ten copies, so that start-up does not dominate).
    #[arg(long, default_value_t = 10)]
    pub hunt_repeat: usize,
    /// `stream`: events per second sent to a running server over TCP syslog.
    #[arg(long, default_value_t = 50_000)]
    pub stream_rate: usize,
    /// `stream` and `fairness`: how long the load lasts (seconds).
    #[arg(long, default_value_t = 20)]
    pub stream_seconds: u64,
    /// `stream`: the percentage of events that are the equipment's own detections
    /// (FortiGate IPS logs over the same syslog connection), 0-100.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub stream_device_percent: u8,
    /// `domains`: registrable names in the synthetic universe whose size, build time and
    /// retro-hunt are measured.
    #[arg(long, default_value_t = 10_000_000)]
    pub domains_universe: usize,
}

/// The real sample file of each line format.
fn samples(data: &Path) -> Vec<(Format, PathBuf)> {
    vec![
        (Format::Syslog, data.join("logs/loghub/Linux_2k.log")),
        (Format::Syslog, data.join("logs/loghub/OpenSSH_2k.log")),
        (
            Format::Clf,
            data.join("logs/access_logs/elastic_examples_apache_access_2015.log"),
        ),
        (
            Format::Suricata,
            data.join("logs/suricata/zeus_analysis_eve.json"),
        ),
        (Format::Json, data.join("logs/suricata/mssis_eve.json")),
        (
            Format::Zeek,
            data.join("logs/zeek/brimdata-wrccdc2018/rdp.log"),
        ),
        (
            Format::Zeek,
            data.join("ot/automayt_ics_pcap/ETHERNET_IP/mb/modbus.log"),
        ),
        (
            Format::Cloudtrail,
            data.join(
                "cloud/otrf_security_datasets/aws/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
            ),
        ),
        (
            Format::K8sAudit,
            data.join("cloud/falco_k8s_audit/create_nginx_pod_privileged.json"),
        ),
        (
            Format::Winlog,
            data.join(
                "drills/otrf_windows_atomic/SDWIN-201019033054/cmd_psexec_lsa_secrets_dump_2020-10-1903305471.json",
            ),
        ),
        (
            Format::Cef,
            PathBuf::from("<generated from the CEF specification examples>"),
        ),
        (
            Format::Leef,
            PathBuf::from("<generated from the LEEF specification examples>"),
        ),
        (
            Format::Kv,
            PathBuf::from("<generated from Fortinet's documented traffic log>"),
        ),
    ]
}

/// Spec-derived lines for formats without public samples (varied so de-duplication and
/// caches see realistic input).
fn generated(format: Format, i: usize) -> String {
    match format {
        Format::Cef => format!(
            "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.{}.{} dst=2.1.2.2 spt={} dpt=443 proto=TCP act=blocked suser=user{} msg=Detected a threat. No action needed cs1Label=Policy cs1=Default rt=Sep 29 2024 08:26:10",
            i % 250,
            i % 200,
            1024 + i % 60000,
            i % 97
        ),
        Format::Leef => format!(
            "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.{}.{}^dst=10.0.0.5^sev=5^cat=anomaly^srcPort={}^dstPort=80^usrName=joe{}^proto=TCP",
            i % 250,
            i % 200,
            1024 + i % 60000,
            i % 97
        ),
        _ => format!(
            "date=2024-05-10 time=11:37:{:02} devname=\"FG100E\" devid=\"FG100E4Q17000000\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" eventtime=1557509867 srcip=10.1.{}.{} srcport={} srcintf=\"port2\" dstip=172.16.200.{} dstport=443 dstintf=\"port1\" sessionid={} proto=6 action=\"close\" policyid=1 service=\"HTTPS\" sentbyte=1150 rcvdbyte=7039",
            i % 60,
            i % 250,
            i % 200,
            1024 + i % 60000,
            i % 250,
            i
        ),
    }
}

/// Lines of a sample, repeated until `target` bytes.
fn corpus(format: Format, path: &Path, target: usize) -> anyhow::Result<Vec<String>> {
    let base: Vec<String> = if path.exists() {
        std::fs::read_to_string(path)?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        (0..5000).map(|i| generated(format, i)).collect()
    };
    if base.is_empty() {
        anyhow::bail!("{} has no lines", path.display());
    }
    let mut out = Vec::new();
    let mut bytes = 0;
    while bytes < target {
        for l in &base {
            bytes += l.len() + 1;
            out.push(l.clone());
        }
    }
    Ok(out)
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    super::serve::QUIET.store(args.json, std::sync::atomic::Ordering::Relaxed);
    let ctx = ParseContext::new("bench");
    let stage = |name: &str| args.stages.iter().any(|s| s == name);
    for (format, path) in samples(&args.data).into_iter().filter(|_| stage("parse")) {
        let lines = corpus(format, &path, args.megabytes << 20)?;
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        let (ok, bad, secs) = time_parse(format, &lines, &ctx);
        report(
            &args,
            "parse+normalize",
            format.name(),
            &path,
            ok,
            bad,
            bytes,
            secs,
        );
    }
    if stage("evtx") {
        bench_evtx(&args, &ctx)?;
    }
    if stage("ot") {
        super::bench_ot::run_ot(&args, &ctx)?;
    }
    if stage("cloudtrail") {
        super::bench_ot::run_cloudtrail(&args, &ctx)?;
    }
    if stage("store") && args.store_events > 0 {
        bench_store(&args, &ctx)?;
    }
    if stage("clickhouse") && args.store_events > 0 {
        super::bench_clickhouse::run(&args, &ctx)?;
    }
    if stage("cluster") {
        super::bench_cluster::run(&args)?;
    }
    if stage("hunt") {
        bench_hunt(&args)?;
    }
    if stage("stream") {
        super::bench_stream::run(&args)?;
    }
    if stage("ml") {
        super::bench_ml::run(&args)?;
    }
    if stage("state") {
        super::bench_state::run(&args)?;
    }
    if stage("stix") {
        super::bench_stix::run(&args)?;
    }
    if stage("vuln") {
        super::bench_vuln::run(&args)?;
    }
    if stage("domains") {
        super::bench_domains::run(&args)?;
    }
    if stage("fairness") {
        super::bench_fairness::run(&args)?;
    }
    eprintln!("peak memory: {} MiB", peak_rss_kib() / 1024);
    Ok(ExitCode::SUCCESS)
}

/// Every EVTX file of the sample set, parsed into events by Haechi, and rendered by the
/// peer python-evtx in the same run (when it is installed), as a ratio.
fn bench_evtx(args: &BenchArgs, ctx: &ParseContext) -> anyhow::Result<()> {
    let mut files = Vec::new();
    collect_evtx(&args.data.join("evtx"), &mut files)?;
    files.sort();
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let started = Instant::now();
    let mut events = 0u64;
    let mut errors = 0u64;
    for f in &files {
        haechi_ingest::parsers::evtx::parse_evtx_file(f, ctx, &mut |r| match r {
            Ok(e) => {
                events += 1;
                std::hint::black_box(e);
            }
            Err(_) => errors += 1,
        })
        .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
    }
    let secs = started.elapsed().as_secs_f64();
    report(
        args,
        "parse+normalize",
        "evtx",
        &args.data.join("evtx"),
        events,
        errors,
        bytes as usize,
        secs,
    );
    let peer = std::process::Command::new("python3")
        .arg("scripts/peer_evtx_render.py")
        .args(&files)
        .output();
    match peer {
        Ok(out) if out.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            let peer_secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
            let ratio = peer_secs / secs;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"bench": "peer", "format": "evtx", "peer": "python-evtx", "peer_records": v["records"], "peer_errors": v["errors"], "peer_seconds": peer_secs, "haechi_seconds": secs, "speedup": ratio})
                );
            } else {
                println!(
                    "peer python-evtx (XML rendering, same files) {} records ({} it could not render) in {peer_secs:.1}s: Haechi is {ratio:.1}x faster",
                    v["records"], v["errors"]
                );
            }
        }
        Ok(out) => eprintln!(
            "peer python-evtx failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ),
        Err(e) => eprintln!(
            "peer python-evtx not measured ({e}): run scripts/setup-test-tools from the project root"
        ),
    }
    Ok(())
}

fn collect_evtx(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect_evtx(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "evtx") {
            out.push(p);
        }
    }
    Ok(())
}

/// parse+normalize+store of the Apache access log and the Linux syslog sample, through
/// the same reader `haechi ingest` uses, into a fresh embedded store (with its log).
fn bench_store(args: &BenchArgs, ctx: &ParseContext) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let (sample, file, bytes) = store_input(args, &dir)?;
    // Bulk is how `haechi ingest` loads (committed at the end); logged is the path of
    // `haechi serve`, where every batch is in the write-ahead log and synced first.
    for (logged, stage) in [
        (false, "parse+normalize+store"),
        (true, "…+write-ahead log"),
    ] {
        let store_dir = dir.join(if logged { "store-logged" } else { "store-bulk" });
        let store = EmbeddedStore::open(&store_dir, StoreConfig::default())?;
        let started = Instant::now();
        let limits = Limits {
            batch_size: 8192,
            ..Limits::default()
        };
        let stats = read_file(
            &file,
            Format::Clf,
            ctx,
            None,
            limits,
            true,
            &mut |b: Batch| {
                let stored = if logged {
                    store.append(&b.events)
                } else {
                    store.append_bulk(&b.events)
                };
                stored.map_err(|e| e.to_string())
            },
        )?;
        store.commit()?;
        let secs = started.elapsed().as_secs_f64();
        report(
            args,
            stage,
            "clf",
            &sample,
            stats.events,
            stats.dead_letters,
            bytes,
            secs,
        );
        if !logged {
            bench_search(args, "embedded", &store, stats.events)?;
            bench_retro_hunt(args, &store, stats.events)?;
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&store_dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The store stages' input: the Apache access log repeated to `--store-events` lines, each
/// line varied so that de-duplication keeps them all. Returns (sample, file, bytes).
pub(crate) fn store_input(
    args: &BenchArgs,
    dir: &Path,
) -> anyhow::Result<(PathBuf, PathBuf, usize)> {
    let sample = args
        .data
        .join("logs/access_logs/elastic_examples_apache_access_2015.log");
    let lines = corpus(Format::Clf, &sample, 1)?;
    let per_file = lines.len();
    let file = dir.join("input.log");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        let mut written = 0;
        while written < args.store_events {
            for (i, l) in lines.iter().enumerate() {
                writeln!(w, "{l} r{}", written + i)?;
            }
            written += per_file;
        }
    }
    let bytes = std::fs::metadata(&file)?.len() as usize;
    Ok((sample, file, bytes))
}

/// One IP among everything stored (the address occurs once per copy of the sample).
pub(crate) fn bench_search(
    args: &BenchArgs,
    backend: &str,
    store: &dyn EventStore,
    stored: u64,
) -> anyhow::Result<()> {
    let query = haechi_query::parse("source.ip:83.149.9.216")?;
    let mut best = f64::MAX;
    let mut matches = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let r = store.search(&haechi_store::SearchRequest::new(query.clone()))?;
        best = best.min(started.elapsed().as_secs_f64() * 1000.0);
        matches = r.total;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "search-one-ip", "backend": backend, "stored": stored, "matches": matches, "ms": best})
        );
    } else {
        println!(
            "search source.ip ({backend}) over {stored} stored events: {matches} matches in {best:.1} ms (best of 5; newest 100 returned)"
        );
    }
    Ok(())
}

/// Retro-hunting one new indicator (an address of the sample, so every copy holds it)
/// over everything stored: the index candidates, then the live matcher's confirmation,
/// as the sharing hub does when an indicator arrives.
fn bench_retro_hunt(args: &BenchArgs, store: &EmbeddedStore, stored: u64) -> anyhow::Result<()> {
    let mut builder = haechi_ioc::IndicatorSetBuilder::new(haechi_ioc::Limits::default());
    let meta = builder.intern(haechi_ioc::IndicatorMeta::from_source("hub:bench".into()));
    builder.add(&haechi_ioc::IndicatorValue::detect("83.149.9.216")?, meta)?;
    let fresh = builder.build();
    let mut best = f64::MAX;
    let (mut candidates, mut alerts) = (0, 0);
    for _ in 0..3 {
        let started = Instant::now();
        candidates = 0;
        alerts = 0;
        for query in haechi_detect::retro::candidate_queries(&fresh) {
            let found = store.search(&haechi_store::SearchRequest {
                limit: crate::hub::RETRO_MAX_EVENTS,
                ..haechi_store::SearchRequest::new(query)
            })?;
            candidates += found.events.len();
            alerts += haechi_detect::retro::retro_alerts(&fresh, &found.events).len();
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "retro-hunt-one-indicator", "stored": stored, "candidates": candidates, "alerts": alerts, "seconds": best})
        );
    } else {
        println!(
            "retro-hunt one indicator over {stored} stored events: {candidates} candidates, {alerts} alerts in {best:.2} s (best of 3)"
        );
    }
    Ok(())
}

/// Parses `lines` in `format` on this thread: events, refused records, seconds.
pub(crate) fn time_parse(
    format: Format,
    lines: &[impl AsRef<str>],
    ctx: &ParseContext,
) -> (u64, u64, f64) {
    let mut parser = new_parser(format);
    let started = Instant::now();
    let (mut ok, mut bad) = (0u64, 0u64);
    for l in lines {
        match parser.parse(l.as_ref(), ctx) {
            Ok(Some(e)) => {
                ok += 1;
                std::hint::black_box(e);
            }
            Ok(None) => {}
            Err(_) => bad += 1,
        }
    }
    (ok, bad, started.elapsed().as_secs_f64())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn report(
    args: &BenchArgs,
    stage: &str,
    format: &str,
    path: &Path,
    ok: u64,
    bad: u64,
    bytes: usize,
    secs: f64,
) {
    let eps = ok as f64 / secs;
    let mbs = bytes as f64 / secs / (1 << 20) as f64;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": stage, "format": format, "sample": path.file_name().map(|n| n.to_string_lossy().into_owned()), "events": ok, "errors": bad, "seconds": secs, "events_per_s": eps, "mb_per_s": mbs})
        );
    } else {
        println!(
            "{stage:<22} {format:<9} {eps:>12.0} events/s {mbs:>8.1} MB/s  ({ok} events, {bad} errors, {})",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
    }
}

pub fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("haechi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Hayabusa v3.10.0 on the EVTX samples copied ten times, on a machine like this one
/// (`../shared/data/peers/README.md`): events, detections, wall and CPU seconds.
const HAYABUSA_X10: (u64, u64, f64, f64) = (127_810, 54_630, 113.0, 123.0);

/// All SigmaHQ rules over the EVTX samples, `hunt_repeat` times: rule loading reported
/// apart from scanning, wall and CPU time, and the ratio to Hayabusa's published run.
fn bench_hunt(args: &BenchArgs) -> anyhow::Result<()> {
    use haechi_detect::hunt::Detector;
    let started = Instant::now();
    let set = haechi_detect::rules::load_rules(&[args.data.join("sigma")])?;
    let (detector, _) = Detector::new(&set);
    let load_secs = started.elapsed().as_secs_f64();
    let mut files = Vec::new();
    collect_evtx(&args.data.join("evtx"), &mut files)?;
    let repeated: Vec<PathBuf> = (0..args.hunt_repeat.max(1))
        .flat_map(|_| files.iter().cloned())
        .collect();
    let cpu_before = cpu_seconds();
    let scan_started = Instant::now();
    let (hits, events) = super::hunt::scan(
        &detector,
        &repeated,
        Format::Auto,
        0,
        &indicatif::ProgressBar::hidden(),
    );
    let secs = scan_started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let (peer_events, peer_hits, peer_wall, peer_cpu) = HAYABUSA_X10;
    let scale = events as f64 / peer_events as f64;
    let eps = events as f64 / secs;
    let peer_eps = peer_events as f64 / peer_wall;
    let (wall_ratio, cpu_ratio) = (peer_wall * scale / secs, peer_cpu * scale / cpu.max(1e-9));
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "hunt", "rules": detector.len(), "rule_load_seconds": load_secs, "files": repeated.len(), "events": events, "detections": hits.len(), "seconds": secs, "cpu_seconds": cpu, "events_per_s": eps, "peer": "hayabusa 3.10.0 (published run, same data x10)", "peer_events_per_s": peer_eps, "peer_detections": peer_hits, "speedup_wall": wall_ratio, "speedup_cpu": cpu_ratio})
        );
    } else {
        println!(
            "hunt (all SigmaHQ rules) {} rules loaded in {load_secs:.2}s; {} files x{}, {events} events, {} detections in {secs:.2}s ({eps:.0} events/s, {cpu:.1} CPU-s)",
            detector.len(),
            files.len(),
            args.hunt_repeat,
            hits.len()
        );
        println!(
            "hunt vs Hayabusa 3.10.0 (its published run on this data x10: {peer_eps:.0} events/s, {peer_hits} detections): {wall_ratio:.1}x faster by wall time, {cpu_ratio:.1}x by CPU time"
        );
    }
    Ok(())
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, in clock
/// ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces) start at state.
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Peak resident set size of this process (Linux `VmHWM`), in KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident memory now (KiB), from `/proc/self/status` (`VmRSS`).
pub fn current_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
