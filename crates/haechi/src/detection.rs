//! Wiring of streaming detection: the rules, indicator feeds and exceptions of the
//! configuration become a [`StreamDetector`], its alerts go to the [`AlertStore`], and a
//! reload (SIGHUP or `POST /api/rules/reload`) rebuilds rules and indicator sets aside
//! and swaps them in.

use crate::config::Config;
use haechi_detect::alert::Exceptions;
use haechi_detect::hunt::{Detector, LEVELS};
use haechi_detect::rules::load_rules;
use haechi_detect::stream::StreamDetector;
use haechi_event::{Alert, Event};
use haechi_store::state::{AlertStore, RecordStats};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Detection of a running pipeline: rules, exceptions, and where alerts go.
pub struct Detection {
    pub detector: StreamDetector,
    pub alerts: Arc<AlertStore>,
    rules: Vec<PathBuf>,
    exceptions: Vec<haechi_detect::alert::ExceptionConfig>,
    device: haechi_detect::device::DeviceConfig,
    ot_allowlist: Option<PathBuf>,
    intel: crate::config::IntelConfig,
    ml: crate::config::MlConfig,
    /// The configuration file, read again on every reload.
    source: Option<PathBuf>,
    cli_rules: Vec<PathBuf>,
    /// One reload at a time (each builds a whole rule and indicator set aside).
    reloading: std::sync::Mutex<()>,
    /// Where stored alerts go for the playbooks (set by `haechi serve`).
    responder: std::sync::OnceLock<tokio::sync::mpsc::Sender<Vec<Alert>>>,
    /// Every stored batch, for the console's live queue (`GET /api/alerts/stream`).
    live: tokio::sync::broadcast::Sender<Arc<Vec<Alert>>>,
    /// Hits of the sharing hub's indicators since the hub watcher last took them, to
    /// become STIX sightings ([`crate::hub`]).
    sightings: std::sync::Mutex<std::collections::HashMap<(String, String), Seen>>,
    /// The detector's suppressed and storm-folded counts already added to the metrics.
    counted: [std::sync::atomic::AtomicU64; 2],
}

/// Hits of one hub indicator: its collection, its STIX id, how many, first and last.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub collection: String,
    pub indicator: String,
    pub count: u64,
    pub first: haechi_event::Timestamp,
    pub last: haechi_event::Timestamp,
}

/// The sharing hub's feed names are `hub:<collection>`.
pub const HUB_FEED_PREFIX: &str = "hub:";

/// Adds the hub indicator hits among `alerts` to `seen` (by collection and indicator).
fn note_hub_hits(alerts: &[Alert], seen: &mut std::collections::HashMap<(String, String), Seen>) {
    for a in alerts {
        if a.source != haechi_event::AlertSource::Indicator {
            continue;
        }
        let feed = a.details.get("feed").and_then(|v| v.as_str());
        let object = a.details.get("object_id").and_then(|v| v.as_str());
        let (Some(collection), Some(indicator)) =
            (feed.and_then(|f| f.strip_prefix(HUB_FEED_PREFIX)), object)
        else {
            continue;
        };
        let key = (collection.to_owned(), indicator.to_owned());
        let full = seen.len() >= 100_000;
        match seen.get_mut(&key) {
            Some(s) => {
                s.count += a.count;
                s.first = s.first.min(a.first_seen);
                s.last = s.last.max(a.last_seen);
            }
            // Bounded: a hub watcher that never runs must not grow this without end.
            None if full => {}
            None => {
                seen.insert(
                    key,
                    Seen {
                        collection: collection.to_owned(),
                        indicator: indicator.to_owned(),
                        count: a.count,
                        first: a.first_seen,
                        last: a.last_seen,
                    },
                );
            }
        }
    }
}

/// Batches the live feed holds for a slow console before it tells it to reload.
const LIVE_BACKLOG: usize = 256;

/// What a (re)load found.
#[derive(Debug, serde::Serialize)]
pub struct LoadReport {
    pub rules: usize,
    pub failed: usize,
    /// Indicators in the set, after merging duplicates.
    pub indicators: usize,
    /// One line per feed: entries, accepted per kind, skipped per reason.
    pub feeds: Vec<String>,
    pub indicator_bytes: usize,
    pub seconds: f64,
}

impl Detection {
    /// Loads the rules of `config` (none configured, device alerts off and `hub` false:
    /// `Ok(None)`, no detection). `hub`: the sharing hub has collections, whose indicators are matched.
    pub fn start(config: &Config, hub: bool) -> anyhow::Result<Option<(Detection, LoadReport)>> {
        if !hub
            && !config.detect.device.enabled
            && config.detect.rules.is_empty()
            && config.intel.feeds.is_empty()
            && config.ml.domains_model.is_none()
            && config.ml.web_model.is_none()
            && config.ml.flows_model.is_none()
        {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let (detector, mut report) = build(&config.detect.rules)?;
        let (indicators, feeds) = load_indicators(&config.intel)?;
        report.indicators = indicators.len();
        report.indicator_bytes = indicators.memory_bytes();
        report.feeds = feeds;
        report.seconds = started.elapsed().as_secs_f64();
        let exceptions =
            Exceptions::new(&config.detect.exceptions).map_err(|e| anyhow::anyhow!(e))?;
        let min_level = LEVELS
            .iter()
            .position(|l| *l == config.detect.min_level)
            .unwrap_or(0);
        let alerts = AlertStore::open(
            &config.state_db(),
            Duration::from_secs(config.detect.merge_window_secs),
        )
        .map_err(|e| anyhow::anyhow!("cannot open the state store: {e}"))?
        .with_grouping(haechi_store::state::Grouping {
            window_nanos: i64::try_from(config.detect.incident_window_secs)
                .unwrap_or(i64::MAX / 1_000_000_000)
                .saturating_mul(1_000_000_000),
            min_level: haechi_event::Level::parse(&config.detect.incident_min_level)
                .unwrap_or(haechi_event::Level::Medium),
        });
        let detector = StreamDetector::new(detector, exceptions, min_level);
        detector.replace_device_rules(device_rules(&config.detect.device)?);
        detector.replace_ot_allowlist(ot_allowlist(&config.detect)?);
        detector.replace_indicators(indicators);
        detector.replace_domain_model(load_domain_model(&config.ml)?);
        detector.replace_web_model(load_web_model(&config.ml)?);
        detector
            .replace_flow_model(load_flow_model(&config.ml)?)
            .map_err(|e| anyhow::anyhow!("ml.flows_model: {e}"))?;
        Ok(Some((
            Detection {
                detector,
                alerts: Arc::new(alerts),
                rules: config.detect.rules.clone(),
                exceptions: config.detect.exceptions.clone(),
                device: config.detect.device.clone(),
                ot_allowlist: config.detect.ot_allowlist.clone(),
                intel: config.intel.clone(),
                ml: config.ml.clone(),
                source: config.source.clone(),
                cli_rules: config.cli_rules.clone(),
                reloading: std::sync::Mutex::new(()),
                responder: std::sync::OnceLock::new(),
                live: tokio::sync::broadcast::channel(LIVE_BACKLOG).0,
                sightings: std::sync::Mutex::new(std::collections::HashMap::new()),
                counted: Default::default(),
            },
            report,
        )))
    }

    /// Evaluates a batch before it is stored (tagging the events alerts stand on).
    pub fn detect(&self, events: &mut [Event]) -> Vec<Alert> {
        self.detector.detect_batch(events)
    }

    /// Adds what the detector suppressed and folded into storms since the last call to
    /// the metrics (the running maximum, so concurrent callers never count twice).
    pub fn count_into(&self, metrics: &haechi_ingest::metrics::Metrics) {
        use std::sync::atomic::Ordering;
        let now = [self.detector.suppressed(), self.detector.storm_folded()];
        let counters = [&metrics.detections_suppressed, &metrics.device_storm_folded];
        for ((seen, value), counter) in self.counted.iter().zip(now).zip(counters) {
            let before = seen.fetch_max(value, Ordering::Relaxed);
            if value > before {
                counter.inc_by(value - before);
            }
        }
    }

    /// Stores alerts once their events are stored, then hands them (with their ids) to
    /// the playbooks. The hand-over never blocks the pipeline: when the responder is
    /// behind by a full queue, the alerts are stored but meet no playbook, and that is
    /// logged.
    pub fn record(&self, alerts: &[Alert]) -> anyhow::Result<RecordStats> {
        let (stats, ids) = self
            .alerts
            .record(alerts)
            .map_err(|e| anyhow::anyhow!("storing alerts: {e}"))?;
        Ok(self.hand_over(alerts, stats, ids))
    }

    /// [`Detection::record`] for the alerts of one batch of the scale-out bus: a batch
    /// delivered again records and hands over nothing (`None`).
    pub fn record_batch(
        &self,
        batch_id: &str,
        alerts: &[Alert],
    ) -> anyhow::Result<Option<RecordStats>> {
        let Some((stats, ids)) = self
            .alerts
            .record_batch(batch_id, alerts)
            .map_err(|e| anyhow::anyhow!("storing alerts: {e}"))?
        else {
            return Ok(None);
        };
        Ok(Some(self.hand_over(alerts, stats, ids)))
    }

    /// After recording: hub sightings, the live feed and the playbooks.
    fn hand_over(&self, alerts: &[Alert], stats: RecordStats, ids: Vec<i64>) -> RecordStats {
        note_hub_hits(
            alerts,
            &mut self.sightings.lock().unwrap_or_else(|e| e.into_inner()),
        );
        let responder = self.responder.get();
        if alerts.is_empty() || (responder.is_none() && self.live.receiver_count() == 0) {
            return stats;
        }
        let stored: Vec<Alert> = alerts
            .iter()
            .zip(ids)
            .map(|(a, id)| Alert { id, ..a.clone() })
            .collect();
        if self.live.receiver_count() > 0 {
            // No receiver left between the check and the send is not an error.
            let _ = self.live.send(Arc::new(stored.clone()));
        }
        if let Some(tx) = responder
            && tx.try_send(stored).is_err()
        {
            tracing::warn!(
                "the playbook responder is behind: {} alerts meet no playbook",
                alerts.len()
            );
        }
        stats
    }

    /// Takes the hub indicator hits gathered since the last call.
    pub fn take_sightings(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.sightings.lock().unwrap_or_else(|e| e.into_inner()))
            .into_values()
            .collect()
    }

    /// The live feed of stored alerts (with their ids), for the console.
    pub fn live(&self) -> tokio::sync::broadcast::Sender<Arc<Vec<Alert>>> {
        self.live.clone()
    }

    /// Sends every stored alert to `tx` from now on (once).
    pub fn respond_with(&self, tx: tokio::sync::mpsc::Sender<Vec<Alert>>) {
        let _ = self.responder.set(tx);
    }

    /// Reloads rules, indicator feeds and exceptions, reading the configuration file
    /// again when there is one (so new exceptions and feeds take effect). Everything is
    /// built first and swapped in only when all of it loaded; otherwise the running set
    /// stays. `min_level` and `merge_window_secs` need a restart.
    pub fn reload(&self) -> anyhow::Result<LoadReport> {
        let Ok(_one_at_a_time) = self.reloading.try_lock() else {
            anyhow::bail!("a reload is already running");
        };
        let (rules, exception_configs, device, ot, intel, ml) = match &self.source {
            Some(path) => {
                let c = crate::config::Config::load(Some(path))?;
                let ot = ot_allowlist(&c.detect)?;
                let mut rules = c.detect.rules;
                rules.extend(self.cli_rules.iter().cloned());
                (
                    rules,
                    c.detect.exceptions,
                    c.detect.device,
                    ot,
                    c.intel,
                    c.ml,
                )
            }
            None => (
                self.rules.clone(),
                self.exceptions.clone(),
                self.device.clone(),
                self.ot_allowlist
                    .as_deref()
                    .map(crate::commands::ot::load_allowlist)
                    .transpose()?,
                self.intel.clone(),
                self.ml.clone(),
            ),
        };
        let started = std::time::Instant::now();
        let (detector, mut report) = build(&rules)?;
        let (indicators, feeds) = load_indicators(&intel)?;
        let exceptions = Exceptions::new(&exception_configs).map_err(|e| anyhow::anyhow!(e))?;
        let device = device_rules(&device)?;
        let domain_model = load_domain_model(&ml)?;
        let web_model = load_web_model(&ml)?;
        let flow_model = load_flow_model(&ml)?;
        report.indicators = indicators.len();
        report.indicator_bytes = indicators.memory_bytes();
        report.feeds = feeds;
        report.seconds = started.elapsed().as_secs_f64();
        self.detector.replace_rules(detector);
        self.detector.replace_indicators(indicators);
        self.detector.replace_exceptions(exceptions);
        self.detector.replace_device_rules(device);
        self.detector.replace_ot_allowlist(ot);
        self.detector.replace_domain_model(domain_model);
        self.detector.replace_web_model(web_model);
        self.detector
            .replace_flow_model(flow_model)
            .map_err(|e| anyhow::anyhow!("ml.flows_model: {e}"))?;
        Ok(report)
    }
}

/// The configured OT allow-list, loaded (none configured: `None`).
fn ot_allowlist(
    detect: &crate::config::DetectConfig,
) -> anyhow::Result<Option<haechi_detect::ot::Allowlist>> {
    detect
        .ot_allowlist
        .as_deref()
        .map(crate::commands::ot::load_allowlist)
        .transpose()
        .map_err(|e| anyhow::anyhow!("detect.ot_allowlist: {e}"))
}

/// The compiled `[detect.device]` tables.
fn device_rules(
    config: &haechi_detect::device::DeviceConfig,
) -> anyhow::Result<haechi_detect::device::DeviceRules> {
    haechi_detect::device::DeviceRules::new(config).map_err(|e| anyhow::anyhow!(e))
}

/// Loads and compiles rules; failures are logged with file and reason, not fatal (the
/// public rule set has a few rules the engine refuses), but a set where nothing loads is.
fn build(paths: &[PathBuf]) -> anyhow::Result<(Detector, LoadReport)> {
    let started = std::time::Instant::now();
    if paths.is_empty() {
        let (detector, _) = Detector::new(&Default::default());
        return Ok((detector, empty_report()));
    }
    let set = load_rules(paths).map_err(|e| anyhow::anyhow!("cannot read the rules: {e}"))?;
    let (detector, compile_failures) = Detector::new(&set);
    for f in set.failures.iter().chain(&compile_failures) {
        tracing::warn!(path = %f.path.display(), reason = %f.reason, "rule not loaded");
    }
    if detector.is_empty() {
        anyhow::bail!(
            "no rule loaded from {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let report = LoadReport {
        rules: detector.len(),
        failed: set.failures.len() + compile_failures.len(),
        seconds: started.elapsed().as_secs_f64(),
        ..empty_report()
    };
    Ok((detector, report))
}

fn empty_report() -> LoadReport {
    LoadReport {
        rules: 0,
        failed: 0,
        indicators: 0,
        feeds: Vec::new(),
        indicator_bytes: 0,
        seconds: 0.0,
    }
}

/// The configured domain model and its threshold (`None` when none is configured).
fn load_domain_model(
    ml: &crate::config::MlConfig,
) -> anyhow::Result<Option<(haechi_ml::DomainModel, f32)>> {
    let Some(path) = &ml.domains_model else {
        return Ok(None);
    };
    let model = crate::default_models::load_with(
        path,
        |p| haechi_ml::DomainModel::load(p),
        haechi_ml::DomainModel::from_bytes,
    )
    .map_err(|e| anyhow::anyhow!("ml.domains_model: {e}"))?;
    Ok(Some((model, ml.domains_threshold)))
}

/// The configured web model and its threshold (`None` when none is configured).
fn load_web_model(
    ml: &crate::config::MlConfig,
) -> anyhow::Result<Option<(haechi_ml::WebModel, f32)>> {
    let Some(path) = &ml.web_model else {
        return Ok(None);
    };
    let model = crate::default_models::load_with(
        path,
        |p| haechi_ml::WebModel::load(p),
        haechi_ml::WebModel::from_bytes,
    )
    .map_err(|e| anyhow::anyhow!("ml.web_model: {e}"))?;
    Ok(Some((model, ml.web_threshold)))
}

/// The configured flow model and its threshold (`None` when none is configured).
fn load_flow_model(
    ml: &crate::config::MlConfig,
) -> anyhow::Result<Option<(haechi_ml::FlowModel, f32)>> {
    let Some(path) = &ml.flows_model else {
        return Ok(None);
    };
    let model = crate::default_models::load_with(
        path,
        |p| haechi_ml::FlowModel::load(p),
        haechi_ml::FlowModel::from_bytes,
    )
    .map_err(|e| anyhow::anyhow!("ml.flows_model: {e}"))?;
    if model.schema() != haechi_ml::FlowSchema::Live {
        anyhow::bail!(
            "ml.flows_model: a model of the `{}` schema cannot score live flow events; train one with `--features live` or use the default `flows`",
            model.schema().name()
        );
    }
    Ok(Some((model, ml.flows_threshold)))
}

/// Loads every configured feed into one indicator set; a feed that cannot be used (no
/// file, over a limit, not the format it claims) is an error naming it, so that a typo
/// in the configuration is noticed rather than silently matching nothing.
pub fn load_indicators(
    intel: &crate::config::IntelConfig,
) -> anyhow::Result<(haechi_ioc::IndicatorSet, Vec<String>)> {
    let mut builder = haechi_ioc::IndicatorSetBuilder::new(intel.limits);
    let mut lines = Vec::with_capacity(intel.feeds.len());
    for feed in &intel.feeds {
        let report = match &feed.url {
            Some(url) => {
                let bytes = haechi_intel::remote::fetch_blocking(
                    url,
                    intel.limits.max_file_bytes,
                    std::time::Duration::from_secs(120),
                )
                .map_err(|e| anyhow::anyhow!("intel feed '{}': {e}", feed.name))?;
                builder.load_feed_bytes(feed, &bytes)
            }
            None => builder.load_feed(feed),
        }
        .map_err(|e| anyhow::anyhow!("intel feed '{}': {e}", feed.name))?;
        for s in report.skipped.iter().take(3) {
            tracing::debug!(feed = %feed.name, skipped = ?s, "indicator entry skipped");
        }
        lines.push(report.to_string());
    }
    Ok((builder.build(), lines))
}
