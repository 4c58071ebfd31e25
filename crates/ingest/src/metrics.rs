//! Collection metrics in the Prometheus text format (`/metrics`): events in and stored per
//! source and format, dead letters, duplicates, UDP drops, queue depth, connections.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels: which source (listener or `file`) and which format.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceFormat {
    pub source: String,
    pub format: String,
}

/// Labels: which source.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

/// Labels: what raised an alert and its level.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabel {
    pub source: String,
    pub level: String,
}

/// A playbook action and its outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabel {
    pub action: String,
    pub outcome: String,
}

/// A TAXII exchange: the remote, `pull` or `push`, and `ok` or `failed`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SyncLabel {
    pub remote: String,
    pub direction: String,
    pub outcome: String,
}

/// Whether a retro-hunt pass was truncated.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TruncatedLabel {
    pub truncated: String,
}

/// Every collection metric, registered once.
pub struct Metrics {
    registry: Registry,
    /// Records received, before parsing.
    pub records_received: Family<SourceLabel, Counter>,
    /// Events parsed and stored.
    pub events_stored: Family<SourceFormat, Counter>,
    pub dead_letters: Family<SourceLabel, Counter>,
    pub duplicates: Family<SourceLabel, Counter>,
    /// UDP datagrams dropped because the pipeline, or their source's share of it, was full.
    pub udp_dropped: Family<SourceLabel, Counter>,
    /// Deliveries that waited because their source had its share of the queue (one
    /// flooding institution slowed down, not the others).
    pub share_waits: Family<SourceLabel, Counter>,
    /// Records refused for exceeding a size limit (also dead-lettered).
    pub oversized: Family<SourceLabel, Counter>,
    /// Deliveries waiting in the pipeline queue.
    pub queue_depth: Gauge,
    /// Open TCP/TLS syslog connections.
    pub connections: Gauge,
    /// Store: searchable events, bytes on disk, events not yet committed.
    pub store_events: Gauge,
    pub store_bytes: Gauge,
    pub store_pending: Gauge,
    /// Alerts raised by detection (before merging), by source and level.
    pub alerts: Family<AlertLabel, Counter>,
    /// Seconds from a delivery's arrival to its alerts being stored (one observation
    /// per alerting delivery).
    pub alert_latency: Histogram,
    /// Detections that exceptions silenced (rules, indicators, models, devices).
    pub detections_suppressed: Counter,
    /// Equipment detections beyond the storm ceiling, counted in storm alerts.
    pub device_storm_folded: Counter,
    /// Stored batches whose alerts wait for the state store (it refused them; they are
    /// recorded again before each commit).
    pub alerts_unrecorded: Gauge,
    /// Playbook actions carried out, by action and outcome (`ok`, `failed`).
    pub playbook_actions: Family<ActionLabel, Counter>,
    /// Exchanges with partner TAXII servers, by remote, direction and outcome.
    pub taxii_syncs: Family<SyncLabel, Counter>,
    /// Retro-hunt passes, by whether they were truncated (`true`, `false`).
    pub retro_hunts: Family<TruncatedLabel, Counter>,
    /// Per-source totals and last arrival, for the console's ingest health.
    health: std::sync::Mutex<std::collections::BTreeMap<String, SourceHealth>>,
}

/// What one source delivered since start, and when it last did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct SourceHealth {
    pub source: String,
    pub events: u64,
    pub dead_letters: u64,
    pub duplicates: u64,
    pub last_seen: Option<haechi_event::Timestamp>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("haechi");
        let m = Metrics {
            registry: Registry::default(),
            records_received: Family::default(),
            events_stored: Family::default(),
            dead_letters: Family::default(),
            duplicates: Family::default(),
            udp_dropped: Family::default(),
            share_waits: Family::default(),
            oversized: Family::default(),
            queue_depth: Gauge::default(),
            connections: Gauge::default(),
            store_events: Gauge::default(),
            store_bytes: Gauge::default(),
            store_pending: Gauge::default(),
            alerts: Family::default(),
            alert_latency: Histogram::new(exponential_buckets(0.000_5, 2.0, 16)),
            detections_suppressed: Counter::default(),
            device_storm_folded: Counter::default(),
            alerts_unrecorded: Gauge::default(),
            playbook_actions: Family::default(),
            taxii_syncs: Family::default(),
            retro_hunts: Family::default(),
            health: Default::default(),
        };
        registry.register(
            "alerts_unrecorded",
            "Stored batches whose alerts wait for the state store",
            m.alerts_unrecorded.clone(),
        );
        registry.register(
            "playbook_actions",
            "Playbook actions carried out, by action and outcome",
            m.playbook_actions.clone(),
        );
        registry.register(
            "taxii_syncs",
            "Exchanges with partner TAXII servers, by remote, direction and outcome",
            m.taxii_syncs.clone(),
        );
        registry.register(
            "retro_hunts",
            "Retro-hunt passes, by whether they were truncated",
            m.retro_hunts.clone(),
        );
        registry.register(
            "alert_latency_seconds",
            "Seconds from the arrival of events to their alerts being stored",
            m.alert_latency.clone(),
        );
        registry.register(
            "alerts_raised",
            "Alerts raised by detection, before merging",
            m.alerts.clone(),
        );
        registry.register(
            "detections_suppressed",
            "Detections silenced by an exception",
            m.detections_suppressed.clone(),
        );
        registry.register(
            "device_storm_folded",
            "Equipment detections beyond the per-minute ceiling, counted in storm alerts",
            m.device_storm_folded.clone(),
        );
        registry.register(
            "records_received",
            "Records received, before parsing",
            m.records_received.clone(),
        );
        registry.register(
            "events_stored",
            "Events parsed, normalized and stored",
            m.events_stored.clone(),
        );
        registry.register(
            "dead_letters",
            "Records that could not be parsed, kept with the reason",
            m.dead_letters.clone(),
        );
        registry.register(
            "duplicates",
            "Records dropped as duplicates",
            m.duplicates.clone(),
        );
        registry.register(
            "udp_dropped",
            "UDP datagrams dropped because the pipeline was full",
            m.udp_dropped.clone(),
        );
        registry.register(
            "share_waits",
            "Deliveries that waited because their source had its share of the pipeline queue",
            m.share_waits.clone(),
        );
        registry.register(
            "oversized",
            "Records refused for exceeding a size limit",
            m.oversized.clone(),
        );
        registry.register(
            "queue_depth",
            "Deliveries waiting in the pipeline queue",
            m.queue_depth.clone(),
        );
        registry.register(
            "connections",
            "Open TCP and TLS syslog connections",
            m.connections.clone(),
        );
        registry.register(
            "store_events",
            "Events searchable in the store",
            m.store_events.clone(),
        );
        registry.register(
            "store_bytes",
            "Bytes the store uses on disk",
            m.store_bytes.clone(),
        );
        registry.register(
            "store_pending",
            "Events in the write-ahead log not yet committed",
            m.store_pending.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts a stored batch of `source` (one lock per batch, not per event).
    pub fn note_batch(&self, source: &str, events: u64, dead_letters: u64, duplicates: u64) {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let h = health
            .entry(source.to_owned())
            .or_insert_with(|| SourceHealth {
                source: source.to_owned(),
                ..Default::default()
            });
        h.events += events;
        h.dead_letters += dead_letters;
        h.duplicates += duplicates;
        h.last_seen = Some(haechi_event::Timestamp::now());
    }

    /// Every source that delivered since start, by name.
    pub fn health(&self) -> Vec<SourceHealth> {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health.values().cloned().collect()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn source(source: &str) -> SourceLabel {
        SourceLabel {
            source: source.to_owned(),
        }
    }
}
