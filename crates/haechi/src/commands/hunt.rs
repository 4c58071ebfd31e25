//! `haechi hunt`: offline hunting with Sigma rules, the job Hayabusa and Chainsaw do.

use super::ingest::collect_files;
use haechi_detect::hunt::{Detector, LEVELS};
use haechi_detect::rules::load_rules;
use haechi_event::{Event, ecs};
use haechi_ingest::reader::{Limits, read_file};
use haechi_ingest::{Format, ParseContext};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

#[derive(clap::Args)]
pub struct HuntArgs {
    /// Sigma rule files or directories (repeatable).
    #[arg(long, required = true)]
    pub rules: Vec<PathBuf>,
    /// Only detections at or above this level: informational, low, medium, high, critical.
    #[arg(long, default_value = "informational")]
    pub min_level: String,
    /// One JSON object per detection.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV with a header line.
    #[arg(long)]
    pub csv: bool,
    /// The format of the files (default: auto; EVTX by its magic bytes).
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Files or directories (read recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// One detection, as printed.
#[derive(serde::Serialize)]
pub struct Hit {
    timestamp: String,
    computer: String,
    rule_title: String,
    level: String,
    rule_id: String,
    rule_author: String,
    tags: Vec<String>,
    event_record_id: Option<i64>,
    channel: String,
    event_id: String,
    file: String,
    matched: Vec<(String, String)>,
}

pub fn run(args: HuntArgs) -> anyhow::Result<ExitCode> {
    let min_level = LEVELS
        .iter()
        .position(|l| *l == args.min_level)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--min-level '{}': use one of {}",
                args.min_level,
                LEVELS.join(", ")
            )
        })?;
    let format: Format = args.format.parse()?;
    let started = std::time::Instant::now();
    let set = load_rules(&args.rules).map_err(|e| anyhow::anyhow!("cannot read the rules: {e}"))?;
    for f in &set.failures {
        eprintln!("rule not loaded: {}: {}", f.path.display(), f.reason);
    }
    let (detector, failures) = Detector::new(&set);
    for f in &failures {
        eprintln!("rule not compiled: {}: {}", f.path.display(), f.reason);
    }
    let load_secs = started.elapsed().as_secs_f64();
    let files = collect_files(&args.paths)?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = super::file_progress_bar(total_bytes);
    let (hits, n) = scan(&detector, &files, format, min_level, &bar);
    bar.finish_and_clear();
    let mut hits = hits;
    hits.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then_with(|| a.rule_title.cmp(&b.rule_title))
    });
    print_hits(&hits, &args)?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} detections in {n} events from {} files; {} rules (loaded in {load_secs:.2}s); {secs:.2}s in all ({:.0} events/s after loading)",
        hits.len(),
        files.len(),
        detector.len(),
        n as f64 / (secs - load_secs).max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads the files on all cores (one file per thread at a time) and evaluates every
/// event; returns the detections and the number of events read.
pub fn scan(
    detector: &Detector,
    files: &[PathBuf],
    format: Format,
    min_level: usize,
    bar: &indicatif::ProgressBar,
) -> (Vec<Hit>, u64) {
    let hits = Mutex::new(Vec::new());
    let events = std::sync::atomic::AtomicU64::new(0);
    let queue = Mutex::new(files.iter());
    let ctx = ParseContext::new("hunt");
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(path) = queue.lock().unwrap_or_else(|e| e.into_inner()).next() else {
                        return;
                    };
                    let file = path.display().to_string();
                    let mut local = Vec::new();
                    let result = read_file(
                        path,
                        format,
                        &ctx,
                        None,
                        Limits::default(),
                        false,
                        &mut |batch| {
                            events.fetch_add(
                                batch.events.len() as u64,
                                std::sync::atomic::Ordering::Relaxed,
                            );
                            for e in &batch.events {
                                for d in detector.detect(e, min_level) {
                                    local.push(hit(e, &d, &file));
                                }
                            }
                            Ok(())
                        },
                    );
                    if let Err(e) = result {
                        bar.suspend(|| eprintln!("skipped {file}: {e}"));
                    }
                    bar.inc(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
                    hits.lock().unwrap_or_else(|e| e.into_inner()).extend(local);
                }
            });
        }
    });
    (hits.into_inner().unwrap_or_default(), events.into_inner())
}

fn hit(e: &Event, d: &haechi_detect::hunt::Detection<'_>, file: &str) -> Hit {
    let text = |name: &str| {
        e.get(name)
            .map(|v| v.as_text().into_owned())
            .unwrap_or_default()
    };
    Hit {
        timestamp: e.timestamp.to_rfc3339(),
        computer: text(ecs::HOST_NAME),
        rule_title: d.rule.title.clone(),
        level: d.rule.level.clone().unwrap_or_default(),
        rule_id: d.rule.id.clone(),
        rule_author: d.rule.author.clone().unwrap_or_default(),
        tags: d.rule.tags.clone(),
        event_record_id: e
            .get(ecs::WINLOG_RECORD_ID)
            .and_then(|v| v.as_f64())
            .map(|x| x as i64),
        channel: text(ecs::WINLOG_CHANNEL),
        event_id: text(ecs::EVENT_CODE),
        file: file.to_owned(),
        matched: d.matched.clone(),
    }
}

fn print_hits(hits: &[Hit], args: &HuntArgs) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.csv {
        writeln!(
            out,
            "timestamp,computer,rule_title,level,rule_id,event_record_id,channel,event_id,file"
        )?;
    }
    for h in hits {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(h)?)?;
        } else if args.csv {
            let row = [
                h.timestamp.clone(),
                h.computer.clone(),
                h.rule_title.clone(),
                h.level.clone(),
                h.rule_id.clone(),
                h.event_record_id.map(|r| r.to_string()).unwrap_or_default(),
                h.channel.clone(),
                h.event_id.clone(),
                h.file.clone(),
            ];
            let quoted: Vec<String> = row
                .iter()
                .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
                .collect();
            writeln!(out, "{}", quoted.join(","))?;
        } else {
            let key: Vec<String> = h
                .matched
                .iter()
                .take(3)
                .map(|(k, v)| format!("{k}={}", v.chars().take(80).collect::<String>()))
                .collect();
            writeln!(
                out,
                "{} {} [{}] {} ({}) record {} {}",
                h.timestamp,
                h.computer,
                h.level,
                h.rule_title,
                h.rule_id,
                h.event_record_id
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into()),
                key.join(" ")
            )?;
        }
    }
    Ok(())
}
