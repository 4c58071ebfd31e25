//! `haechi risk`: the risk index, trend, forecast and incident probability of every
//! institution, computed from the alerts in the state store and kept there for the
//! console's charts; `haechi risk eval`: the evaluation of the incident model on a
//! calendar of real attack samples replayed into background traffic (`haechi-risk`,
//! module `scenario`).

use super::load_config;
use crate::DataDirArg;
use crate::config::Config;
use haechi_event::Timestamp;
use haechi_risk::scenario::{Pools, Sample, SampleDetection, ScenarioConfig};
use haechi_risk::{IncidentModel, Observation, RiskConfig, TenantStatus};
use haechi_store::state::{AlertStore, RiskPoint, RiskStatusRow};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RiskArgs {
    #[command(subcommand)]
    pub command: Option<RiskCommand>,
    /// Only this institution.
    #[arg(long)]
    pub tenant: Option<String>,
    /// One JSON object per institution.
    #[arg(long)]
    pub json: bool,
    /// The time to compute the status at (RFC 3339; default: now). For looking back.
    #[arg(long)]
    pub at: Option<String>,
    /// A configuration file (for `data_dir` and the `[risk]` section).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub data_dir: DataDirArg,
}

#[derive(clap::Subcommand)]
pub enum RiskCommand {
    /// Evaluate the incident model: replay real attack samples at known times into the
    /// background traffic of several institutions, train on the earlier weeks, test on
    /// the later ones, and compare with the naive "alert count above a threshold".
    Eval(EvalArgs),
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The shared data directory (samples, Sigma rules, threat-intel feeds).
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,
    /// Sigma rules (default: DATA/sigma/rules).
    #[arg(long)]
    pub rules: Vec<PathBuf>,
    /// Institutions in the calendar.
    #[arg(long, default_value_t = ScenarioConfig::default().tenants)]
    pub tenants: usize,
    /// Days in the calendar.
    #[arg(long, default_value_t = ScenarioConfig::default().days)]
    pub days: u32,
    /// Seed of the calendar.
    #[arg(long, default_value_t = ScenarioConfig::default().seed)]
    pub seed: u64,
    /// Share of the days used for training (the rest, later in time, is the test side).
    #[arg(long, default_value_t = 0.6)]
    pub train_share: f64,
    /// The incident horizon in hours: a bucket is positive when an incident starts within
    /// this long after it.
    #[arg(long, default_value_t = 1.0)]
    pub horizon_hours: f64,
    /// Write the incident model trained on the training side here (JSON).
    #[arg(long)]
    pub out_model: Option<PathBuf>,
    /// Print the whole evaluation as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RiskArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(RiskCommand::Eval(e)) => eval(e),
        None => status(args),
    }
}

/// The incident model of the configuration: a JSON file, or the default shipped in the
/// binary (`risk`). It must have been trained on buckets of the configured length.
pub fn load_incident_model(spec: &Path, cfg: &RiskConfig) -> anyhow::Result<IncidentModel> {
    let model = crate::default_models::load_with(
        spec,
        |p| {
            std::fs::read_to_string(p)
                .map_err(|e| e.to_string())
                .and_then(|s| IncidentModel::from_json(&s).map_err(|e| e.to_string()))
        },
        |b| {
            std::str::from_utf8(b)
                .map_err(|e| e.to_string())
                .and_then(|s| IncidentModel::from_json(s).map_err(|e| e.to_string()))
        },
    )?;
    if model.bucket_secs != cfg.bucket_secs {
        anyhow::bail!(
            "risk.model was trained on {}-second buckets, risk.index.bucket_secs is {}: retrain it with `haechi risk eval --out-model` (or on your incidents)",
            model.bucket_secs,
            cfg.bucket_secs
        );
    }
    Ok(model)
}

/// The configured incident model (`None` when `risk.model` is unset).
pub fn configured_model(config: &Config) -> anyhow::Result<Option<IncidentModel>> {
    match &config.risk.model {
        Some(spec) => load_incident_model(spec, &config.risk.index)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("risk.model: {e:#}")),
        None => Ok(None),
    }
}

/// Computes every institution's series and status from the alerts of the last
/// `history_days` before `now`, up to the last *complete* bucket (the incident model was
/// trained on complete buckets), and, when `store_results`, replaces what was stored for
/// that range. Returns the statuses.
pub fn compute_and_store(
    config: &Config,
    store: &AlertStore,
    model: Option<&IncidentModel>,
    now: Timestamp,
    store_results: bool,
) -> anyhow::Result<Vec<TenantStatus>> {
    let cfg = &config.risk.index;
    if !(1..=3650).contains(&config.risk.history_days) {
        anyhow::bail!("risk.history_days must be 1 to 3650");
    }
    let bucket = cfg.bucket_secs as i64 * 1_000_000_000;
    let to = Timestamp(now.0 - now.0.rem_euclid(bucket));
    let day = 86_400 * 1_000_000_000i64;
    let from = Timestamp(to.0 - i64::from(config.risk.history_days) * day);
    let mut observations = Vec::new();
    store
        .for_each_since(
            Timestamp(from.0 - cfg.correlation_window_secs as i64 * 1_000_000_000),
            |a| {
                if a.last_seen.0 < to.0 {
                    observations.push(Observation::from_alert(&a));
                }
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let series =
        haechi_risk::compute(&observations, from, to, cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
    let statuses = haechi_risk::status_all(&series, model, cfg);
    if store_results {
        let mut points = Vec::new();
        for (tenant, buckets) in &series {
            let z = haechi_risk::anomalies(buckets, cfg);
            for (b, z) in buckets.iter().zip(z) {
                if b.index > 0.0 || z != 0.0 {
                    points.push(RiskPoint {
                        tenant: tenant.clone(),
                        start: b.start,
                        risk: b.index,
                        anomaly: z,
                        detail: serde_json::to_string(&b.components)?,
                    });
                }
            }
        }
        let rows: Vec<RiskStatusRow> = statuses
            .iter()
            .map(|s| {
                Ok(RiskStatusRow {
                    tenant: s.tenant.clone(),
                    computed: now,
                    status: serde_json::to_string(s)?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        store
            .replace_risk(from, &points, &rows)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(statuses)
}

fn status(args: RiskArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(args.config.as_deref(), args.data_dir.data_dir.clone())?;
    let now = match args.at.as_deref() {
        Some(s) => haechi_event::parse_rfc3339(s)
            .ok_or_else(|| anyhow::anyhow!("--at '{s}' is not an RFC 3339 time"))?,
        None => Timestamp::now(),
    };
    let path = config.state_db();
    let (store, writable) = match AlertStore::open(&path, std::time::Duration::from_secs(600)) {
        Ok(s) => (s, true),
        Err(_) => (
            AlertStore::open_read_only(&path).map_err(|e| anyhow::anyhow!("{e}"))?,
            false,
        ),
    };
    let model = configured_model(&config)?;
    // A look back (`--at`) is printed, not stored: the stored status is the current one.
    let store_results = writable && args.at.is_none();
    let mut statuses = compute_and_store(&config, &store, model.as_ref(), now, store_results)?;
    if let Some(t) = &args.tenant {
        statuses.retain(|s| &s.tenant == t);
    }
    if statuses.is_empty() {
        println!(
            "no alerts in the last {} days{}: the risk index of every institution is 0",
            config.risk.history_days,
            args.tenant
                .as_deref()
                .map(|t| format!(" for {t}"))
                .unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for s in &statuses {
        if args.json {
            println!("{}", serde_json::to_string(s)?);
        } else {
            print_status(s);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(s: &TenantStatus) {
    let probability = s
        .incident_probability
        .map(|p| {
            format!(
                "{:.1}%{}",
                p * 100.0,
                if s.over_threshold == Some(true) {
                    " (over the alert threshold)"
                } else {
                    ""
                }
            )
        })
        .unwrap_or_else(|| "n/a (no incident model)".into());
    println!(
        "{}  index {:.1}  trend {:?} ({:+.1}/h)  anomaly z {:+.1}  incident probability {probability}",
        s.tenant, s.index, s.trend.direction, s.trend.slope_per_hour, s.anomaly
    );
    let forecast: Vec<String> = s
        .forecast
        .iter()
        .enumerate()
        .map(|(i, f)| format!("+{}h {:.1}", i + 1, f.index))
        .collect();
    println!("    forecast: {}", forecast.join("  "));
    println!(
        "    last bucket: {} alerts ({} high, {} critical), {} indicator hits, {} sources, {} seen at other institutions",
        s.counts.alerts,
        s.counts.high,
        s.counts.critical,
        s.counts.indicators,
        s.counts.sources,
        s.counts.shared_attackers
    );
    if !s.drivers.is_empty() {
        let d: Vec<String> = s
            .drivers
            .iter()
            .map(|c| format!("{} {:+.2}", c.feature, c.contribution))
            .collect();
        println!("    drivers: {}", d.join(", "));
    }
}

/// Where the samples of each pool come from, relative to the shared data directory.
const BACKGROUND: &[&str] = &[
    "logs/loghub/Linux_2k.log",
    "logs/loghub/OpenSSH_2k.log",
    "logs/loghub/Apache_2k.log",
    "logs/access_logs/elastic_examples_apache_access_2015.log",
    "logs/auth/soc-zeek-lab_auth.log",
    "logs/zeek/soc-zeek-lab",
    "logs/zeek/brimdata-wrccdc2018/dns.log.gz",
    "logs/suricata/mssis_eve.json",
];
const FOOTHOLD: &[&str] = &[
    "evtx/EVTX-to-MITRE-Attack/TA0002-Execution",
    "evtx/EVTX-to-MITRE-Attack/TA0003-Persistence",
    "evtx/EVTX-to-MITRE-Attack/TA0004-Privilege Escalation",
    "evtx/EVTX-to-MITRE-Attack/TA0005-Defense Evasion",
    "evtx/EVTX-to-MITRE-Attack/TA0006-Credential Access",
    "evtx/EVTX-to-MITRE-Attack/TA0007-Discovery",
];
const INCIDENT: &[&str] = &[
    "evtx/EVTX-to-MITRE-Attack/TA0008-Lateral Movement",
    "evtx/EVTX-to-MITRE-Attack/TA0011-Command and Control",
    "evtx/EVTX-to-MITRE-Attack/TA0040-Impact",
    "evtx/EVTX-to-MITRE-Attack/EVTX_full_APT_attack_steps",
    "evtx/EVTX-to-MITRE-Attack/Antivirus",
    "logs/suricata/zeus_analysis_eve.json",
];

/// Every file under the given paths, sorted (so pools do not depend on directory order).
fn files_under(data: &Path, paths: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = paths.iter().map(|p| data.join(p)).collect();
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        anyhow::bail!("{}: missing (the scenario needs it)", missing.display());
    }
    super::ingest::collect_files(&paths)
}

/// What detection made of one file: each event's time and `event.id` (set on the events
/// an alert stands on), and the alerts.
struct Detected {
    times: Vec<Timestamp>,
    ids: Vec<Option<String>>,
    alerts: Vec<haechi_event::Alert>,
}

/// Parses a file and runs it through detection as its own institution, so that
/// correlation rules never combine events of two sample files.
fn detect_file(
    detection: &crate::detection::Detection,
    path: &Path,
    tenant: &str,
) -> anyhow::Result<Detected> {
    let ctx = haechi_ingest::ParseContext::new(tenant);
    let mut out = Detected {
        times: Vec::new(),
        ids: Vec::new(),
        alerts: Vec::new(),
    };
    haechi_ingest::reader::read_file(
        path,
        haechi_ingest::Format::Auto,
        &ctx,
        None,
        haechi_ingest::reader::Limits::default(),
        false,
        &mut |mut batch| {
            out.alerts.extend(detection.detect(&mut batch.events));
            for e in &batch.events {
                out.times.push(e.timestamp);
                out.ids
                    .push(e.get_str(haechi_event::ecs::EVENT_ID).map(str::to_owned));
            }
            Ok(())
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(out)
}

fn detections_of(alerts: &[haechi_event::Alert], origin: Timestamp) -> Vec<SampleDetection> {
    alerts
        .iter()
        .map(|a| {
            let o = Observation::from_alert(a);
            SampleDetection {
                offset_secs: ((a.first_seen.0 - origin.0) as f64 / 1e9).max(0.0),
                kind: o.kind,
                level: o.level,
                attacker: o.attacker,
                score: o.score,
            }
        })
        .collect()
}

/// A whole file as one sample (attack recordings).
fn file_sample(
    detection: &crate::detection::Detection,
    data: &Path,
    path: &Path,
    tenant: &str,
) -> anyhow::Result<Sample> {
    let d = detect_file(detection, path, tenant)?;
    let first = d.times.iter().min().copied().unwrap_or(Timestamp(0));
    let last = d.times.iter().max().copied().unwrap_or(first);
    Ok(Sample {
        name: path
            .strip_prefix(data)
            .unwrap_or(path)
            .display()
            .to_string(),
        events: d.times.len() as u64,
        span_secs: (last.0 - first.0) as f64 / 1e9,
        detections: detections_of(&d.alerts, first),
    })
}

/// Every record of a file as its own sample (background), with the detections of the
/// alerts that stand on it (found by the `event.id` detection gave the record).
fn record_samples(
    detection: &crate::detection::Detection,
    path: &Path,
    tenant: &str,
) -> anyhow::Result<Vec<Sample>> {
    let d = detect_file(detection, path, tenant)?;
    let mut samples: Vec<Sample> = d
        .times
        .iter()
        .map(|_| Sample {
            name: String::new(),
            events: 1,
            span_secs: 0.0,
            detections: Vec::new(),
        })
        .collect();
    let by_id: std::collections::HashMap<&str, usize> = d
        .ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| id.as_deref().map(|id| (id, i)))
        .collect();
    for a in &d.alerts {
        let record = a
            .events
            .first()
            .and_then(|r| by_id.get(r.id.as_str()))
            .copied()
            .ok_or_else(|| {
                anyhow::anyhow!("{}: an alert names no event of the file", path.display())
            })?;
        samples[record]
            .detections
            .extend(detections_of(std::slice::from_ref(a), a.first_seen));
    }
    Ok(samples)
}

/// Runs the real detection over the three pools once.
fn build_pools(args: &EvalArgs) -> anyhow::Result<(Pools, String)> {
    let data = &args.data;
    let work = tempfile::tempdir()?;
    let mut config = Config {
        data_dir: work.path().to_path_buf(),
        ..Config::default()
    };
    config.detect.rules = if args.rules.is_empty() {
        vec![data.join("sigma/rules")]
    } else {
        args.rules.clone()
    };
    config.intel.feeds = super::demo::demo_feeds(&data.join("threat_intel"));
    config.ml.domains_model = Some("domains".into());
    config.ml.web_model = Some("web".into());
    // The scenario (and the shipped incident model, which must reproduce from it) is
    // built from Haechi's own detections. The equipment alerts inside the replayed
    // Suricata and Defender recordings are left out until the model has a feature of
    // their own and is re-evaluated with them (docs/models/risk.md).
    config.detect.device.enabled = false;
    let (detection, report) = crate::detection::Detection::start(&config, false)?
        .ok_or_else(|| anyhow::anyhow!("no detection configured"))?;
    let mut pools = Pools::default();
    let mut n = 0;
    let mut tenant = || {
        n += 1;
        format!("sample-{n}")
    };
    for f in files_under(data, BACKGROUND)? {
        pools
            .background
            .extend(record_samples(&detection, &f, &tenant())?);
    }
    for f in files_under(data, FOOTHOLD)? {
        pools
            .foothold
            .push(file_sample(&detection, data, &f, &tenant())?);
    }
    for f in files_under(data, INCIDENT)? {
        pools
            .incident
            .push(file_sample(&detection, data, &f, &tenant())?);
    }
    let describe = |name: &str, pool: &[Sample]| {
        let with = pool.iter().filter(|s| !s.detections.is_empty()).count();
        let d: usize = pool.iter().map(|s| s.detections.len()).sum();
        let e: u64 = pool.iter().map(|s| s.events).sum();
        format!(
            "{name}: {} samples ({with} with detections), {e} events, {d} detections",
            pool.len()
        )
    };
    let summary = format!(
        "detection: {} rules, {} indicators, models domains and web\n{}\n{}\n{}",
        report.rules,
        report.indicators,
        describe("background records", &pools.background),
        describe("foothold samples", &pools.foothold),
        describe("incident samples", &pools.incident)
    );
    Ok((pools, summary))
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    if !(0.1..=0.9).contains(&args.train_share) {
        anyhow::bail!("--train-share must be between 0.1 and 0.9");
    }
    let started = std::time::Instant::now();
    let (pools, summary) = build_pools(&args)?;
    let detect_secs = started.elapsed().as_secs_f64();
    let scenario_cfg = ScenarioConfig {
        tenants: args.tenants,
        days: args.days,
        seed: args.seed,
        ..ScenarioConfig::default()
    };
    let scenario =
        haechi_risk::scenario::generate(&scenario_cfg, &pools).map_err(|e| anyhow::anyhow!(e))?;
    let cfg = RiskConfig {
        horizon_secs: (args.horizon_hours * 3600.0).round() as u64,
        ..RiskConfig::default()
    };
    cfg.validate()
        .map_err(|e| anyhow::anyhow!("--horizon-hours: {e}"))?;
    let series = haechi_risk::compute(
        &scenario.observations,
        scenario_cfg.start,
        scenario.end,
        &cfg,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let split_day = (f64::from(args.days) * args.train_share).round() as i64;
    let split = Timestamp(scenario_cfg.start.0 + split_day * 86_400 * 1_000_000_000);
    let evaluation = haechi_risk::evaluate(&series, &scenario.incidents, split, &cfg)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Ablation: the same calendar without the cross-institution component.
    let mut alone = cfg.clone();
    alone.weights.cross_tenant = 0.0;
    let series_alone = haechi_risk::compute(
        &scenario.observations,
        scenario_cfg.start,
        scenario.end,
        &alone,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ablation = haechi_risk::evaluate(&series_alone, &scenario.incidents, split, &alone)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(out) = &args.out_model {
        std::fs::write(out, evaluation.incident_model.to_json())
            .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "scenario": scenario_cfg,
                "pools": summary,
                "campaigns": scenario.campaigns.len(),
                "incidents": scenario.incidents.len(),
                "observations": scenario.observations.len(),
                "background_events": scenario.background_events,
                "attack_events": scenario.attack_events,
                "evaluation": evaluation,
                "without_cross_tenant": {"model": ablation.model, "baseline": ablation.baseline},
                "seconds": seconds,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{summary}");
    println!(
        "calendar: {} institutions x {} days (seed {}), {} background events, {} attack events, {} campaigns, {} incidents, {} alerts",
        args.tenants,
        args.days,
        args.seed,
        scenario.background_events,
        scenario.attack_events,
        scenario.campaigns.len(),
        scenario.incidents.len(),
        scenario.observations.len()
    );
    println!(
        "split at day {split_day} ({}): train {} buckets ({} positive), test {} buckets ({} positive); horizon {} min",
        split.to_rfc3339(),
        evaluation.train.buckets,
        evaluation.train.positives,
        evaluation.test.buckets,
        evaluation.test.positives,
        evaluation.horizon_secs / 60
    );
    let row = |name: &str, m: &haechi_risk::Metrics| {
        println!(
            "{name:<34} precision {:.3}  recall {:.3}  F1 {:.3}  Brier {:.4}  AUC {}  incidents anticipated {}/{}  median lead {}",
            m.precision,
            m.recall,
            m.f1,
            m.brier,
            m.auc
                .map(|a| format!("{a:.3}"))
                .unwrap_or_else(|| "n/a".into()),
            m.anticipated,
            m.incidents,
            m.median_lead_secs
                .map(|s| format!("{:.0} min", s / 60.0))
                .unwrap_or_else(|| "n/a".into()),
        )
    };
    row("incident model", &evaluation.model);
    row("baseline: alert count last hour", &evaluation.baseline);
    row("incident model w/o cross-tenant", &ablation.model);
    println!("({detect_secs:.1}s for detection over the pools, {seconds:.1}s in all)");
    Ok(ExitCode::SUCCESS)
}
