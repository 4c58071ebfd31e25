//! `haechi drill run --tenant ID [--speed X] [--rules PATH]... [--name N] DATASET...` replays
//! labelled attack recordings ([`haechi_drill`]) into an institution through the real
//! parsing (`winlog`) and detection path, re-based to now, at `--speed` times the recorded
//! pace, one after the other; every event is marked `labels.drill`, and every alert it
//! raises is tagged `drill` with the drill's id in its entity (drill alerts never merge
//! into real ones). The drill is kept in `DATA_DIR/drills/<id>.json`; its id is the last
//! line printed. `haechi drill report ID [--json]` scores it per technique. With
//! `--server URL` the recordings go to a running server instead ([`super::drill_server`]).

use crate::detection::Detection;
use haechi_drill::dataset::{Dataset, rebased_line};
use haechi_drill::{DrillAlert, DrillRecord, RunRecord};
use haechi_event::{Event, Timestamp};
use haechi_ingest::{Format, ParseContext};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct DrillArgs {
    #[command(subcommand)]
    command: DrillCommand,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// A configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum DrillCommand {
    /// Replay recordings into an institution; prints the drill id on its last line.
    Run {
        #[arg(long)]
        tenant: String,
        /// Times the recorded pace (1: as recorded; 0.1 to 100,000).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Sigma rule files or folders (as for `ingest`), besides the configuration's.
        #[arg(long)]
        rules: Vec<PathBuf>,
        /// A name for the drill (default: the datasets' titles).
        #[arg(long)]
        name: Option<String>,
        /// Replay into a running server (`http(s)://host:port`) through its ingest API,
        /// with the token in `HAECHI_TOKEN`, instead of into a data directory; the
        /// server's rules detect, its playbooks leave drill alerts alone, and it keeps the
        /// drill's record.
        #[arg(long)]
        server: Option<String>,
        /// Dataset folders (a metadata YAML and its JSON lines), or folders of them.
        #[arg(required = true)]
        datasets: Vec<PathBuf>,
    },
    /// Score a drill per technique: detected or not, by which rules, how fast.
    Report {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// The most events detected and recorded at once.
const BATCH: usize = 1000;

pub fn run(args: DrillArgs) -> anyhow::Result<ExitCode> {
    let mut config = super::load_config(args.config.as_deref(), args.data_dir.clone())?;
    match args.command {
        DrillCommand::Report { id, json } => {
            let record =
                DrillRecord::load(&config.data_dir, &id).map_err(|e| anyhow::anyhow!(e))?;
            let mut r = haechi_drill::report(&record);
            enrich(&config, &record, &mut r)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                print_report(&r);
            }
            Ok(ExitCode::SUCCESS)
        }
        DrillCommand::Run {
            tenant,
            speed,
            rules,
            name,
            server,
            datasets,
        } => {
            anyhow::ensure!(
                haechi_server::valid_tenant(&tenant),
                "--tenant '{tenant}' is not a valid id"
            );
            anyhow::ensure!(
                (0.1..=100_000.0).contains(&speed),
                "--speed: 0.1 to 100000 times the recorded pace"
            );
            let sets = load_datasets(&datasets)?;
            if let Some(url) = server {
                if args.data_dir.is_some() || args.config.is_some() {
                    eprintln!(
                        "note: with --server the server keeps the drill; --data-dir and --config are not used"
                    );
                }
                if !rules.is_empty() {
                    eprintln!(
                        "note: --rules is for replays into a data directory; the server detects with its own rules"
                    );
                }
                return super::drill_server::replay(&url, &tenant, speed, name, &sets);
            }
            config.cli_rules = rules.clone();
            config.detect.rules.extend(rules);
            replay(&config, &tenant, speed, name, &sets)
        }
    }
}

/// The datasets named: a folder with a metadata YAML, or a folder of such folders.
fn load_datasets(paths: &[PathBuf]) -> anyhow::Result<Vec<Dataset>> {
    let mut out = Vec::new();
    for p in paths {
        let has_yaml = std::fs::read_dir(p)
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
            .filter_map(|e| e.ok())
            .any(|e| {
                e.path()
                    .extension()
                    .is_some_and(|x| x == "yaml" || x == "yml")
            });
        if has_yaml {
            out.push(Dataset::load(p).map_err(|e| anyhow::anyhow!(e))?);
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(p)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|s| s.is_dir())
            .collect();
        subs.sort();
        anyhow::ensure!(
            !subs.is_empty(),
            "{}: neither a dataset (metadata YAML and JSON lines) nor a folder of datasets",
            p.display()
        );
        for s in subs {
            out.push(Dataset::load(&s).map_err(|e| anyhow::anyhow!(e))?);
        }
    }
    Ok(out)
}

pub(crate) fn new_id() -> String {
    let now = chrono::Utc::now();
    format!(
        "drill-{}-{:04x}",
        now.format("%Y%m%d-%H%M%S"),
        now.timestamp_subsec_nanos() & 0xffff
    )
}

fn replay(
    config: &crate::config::Config,
    tenant: &str,
    speed: f64,
    name: Option<String>,
    sets: &[Dataset],
) -> anyhow::Result<ExitCode> {
    let (detection, loaded) = Detection::start(config, false)?
        .ok_or_else(|| anyhow::anyhow!("no detection rules: give --rules PATH"))?;
    let store = super::open_store(config)?;
    let id = new_id();
    let mut ctx = ParseContext::new(tenant);
    ctx.timezone = config.timezone()?;
    let mut parser = haechi_ingest::new_parser(Format::Winlog);
    let started = Instant::now();
    let epoch = Timestamp::now().0 as f64 / 1e9;
    let mut record = DrillRecord {
        id: id.clone(),
        name: name.unwrap_or_else(|| {
            sets.iter()
                .map(|s| s.title.clone())
                .collect::<Vec<_>>()
                .join(" → ")
        }),
        tenant: tenant.to_owned(),
        speed,
        started: Timestamp::now().to_rfc3339(),
        runs: Vec::new(),
        alerts: Vec::new(),
        rules_loaded: loaded.rules,
    };
    let (mut events_in, mut dead) = (0usize, 0usize);
    let mut offset = 0.0f64;
    for set in sets {
        let mut batch: Vec<Event> = Vec::with_capacity(BATCH);
        let flush = |batch: &mut Vec<Event>, record: &mut DrillRecord| -> anyhow::Result<()> {
            if batch.is_empty() {
                return Ok(());
            }
            let mut raised = detection.detect(batch);
            store
                .append_bulk(batch)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            batch.clear();
            let at = started.elapsed().as_secs_f64();
            for a in &mut raised {
                haechi_drill::mark_alert(a, &id);
                record.alerts.push(DrillAlert {
                    rule_id: a.rule_id.clone(),
                    rule_title: a.rule_title.clone(),
                    level: a.level.as_str().to_owned(),
                    tags: a.tags.clone(),
                    entity: a.entity.clone(),
                    raised_s: at,
                });
            }
            if !raised.is_empty() {
                store.commit().map_err(|e| anyhow::anyhow!("{e}"))?;
                detection.record(&raised)?;
            }
            Ok(())
        };
        let mut first: Option<f64> = None;
        for (t, event) in &set.events {
            let due = offset + t / speed;
            let wait = due - started.elapsed().as_secs_f64();
            if wait > 0.0 || batch.len() >= BATCH {
                flush(&mut batch, &mut record)?;
                let wait = due - started.elapsed().as_secs_f64();
                if wait > 0.0 {
                    std::thread::sleep(Duration::from_secs_f64(wait));
                }
            }
            first.get_or_insert_with(|| started.elapsed().as_secs_f64());
            let line = rebased_line(event, epoch + due);
            match parser.parse(&line, &ctx) {
                Ok(Some(mut e)) => {
                    events_in += 1;
                    // Every event of a drill says so, where officers and searches see it.
                    e.set(haechi_drill::DRILL_LABEL, id.as_str());
                    batch.push(e);
                }
                Ok(None) => {}
                Err(_) => dead += 1,
            }
        }
        flush(&mut batch, &mut record)?;
        let last = offset + set.span() / speed;
        let now = started.elapsed().as_secs_f64();
        record.runs.push(RunRecord {
            dataset: set.id.clone(),
            title: set.title.clone(),
            technique: set.technique.clone(),
            events: set.events.len(),
            first_event_s: first.unwrap_or(now),
            last_event_s: now,
        });
        eprintln!(
            "{} {} ({}): {} events replayed",
            set.id,
            set.title,
            set.technique,
            set.events.len()
        );
        // One (scaled) second between two recordings.
        offset = last + 1.0 / speed;
    }
    store.commit().map_err(|e| anyhow::anyhow!("{e}"))?;
    let path = record
        .save(&config.data_dir)
        .map_err(|e| anyhow::anyhow!(e))?;
    let r = haechi_drill::report(&record);
    eprintln!(
        "{} events in, {dead} not read, {} alerts; {} of {} techniques detected; kept in {}",
        events_in,
        record.alerts.len(),
        r.detected,
        r.techniques.len(),
        path.display()
    );
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// How the drill's alerts were grouped and how fast officers acted, from the data
/// directory's alert store and audit log (left out when it holds neither).
fn enrich(
    config: &crate::config::Config,
    record: &DrillRecord,
    report: &mut haechi_drill::Report,
) -> anyhow::Result<()> {
    let (state, access) = (
        config.state_db(),
        haechi_access::AccessStore::path_in(&config.data_dir),
    );
    if !state.exists() || !access.exists() {
        return Ok(());
    }
    let alerts = haechi_store::state::AlertStore::open_read_only(&state)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", state.display()))?;
    let access = haechi_access::AccessStore::open(&access)?;
    haechi_server::drills::enrich(report, &alerts, &access, record).map_err(|e| anyhow::anyhow!(e))
}

fn print_report(r: &haechi_drill::Report) {
    println!(
        "{} \"{}\" at {}, speed {}×: {} of {} techniques detected ({:.0} %), median time to detect {}",
        r.drill,
        r.name,
        r.tenant,
        r.speed,
        r.detected,
        r.techniques.len(),
        r.share_detected * 100.0,
        r.median_time_to_detect_s
            .map_or("—".to_owned(), |s| format!("{s:.1} s"))
    );
    for t in &r.techniques {
        match t.time_to_detect_s {
            Some(s) => println!(
                "  {:<10} detected in {s:>7.2} s  {} — {}",
                t.technique,
                t.title,
                t.rules.join("; ")
            ),
            None => {
                println!("  {:<10} MISSED             {}", t.technique, t.title);
                if !t.alerts_during_run.is_empty() {
                    println!(
                        "             fired instead: {}",
                        t.alerts_during_run.join("; ")
                    );
                }
            }
        }
    }
    if !r.other_alerts.is_empty() {
        println!("  other alerts: {}", r.other_alerts.join("; "));
    }
    if let Some(t) = &r.triage {
        println!(
            "  triage: {} alerts in {} incidents ({} alerts per incident), {} in no incident",
            t.alerts,
            t.incidents,
            t.alerts_per_incident
                .map_or("—".to_owned(), |x| format!("{x:.1}")),
            t.ungrouped
        );
    }
    let secs = |s: Option<f64>| s.map_or("—".to_owned(), |s| format!("{s:.0} s"));
    for o in &r.officers {
        println!(
            "  {}: {} alerts acknowledged (median {}), {} incidents taken up (median {}), {} responded (median {})",
            o.actor,
            o.acknowledged,
            secs(o.median_time_to_acknowledge_s),
            o.incidents_taken,
            secs(o.median_time_to_take_s),
            o.responded,
            secs(o.median_time_to_respond_s)
        );
    }
}
