//! The live pipeline of `haechi serve`: deliveries from the listeners and the HTTP
//! endpoint are de-duplicated, parsed, tagged with their tenant, and appended to the
//! store by a pool of worker threads; a commit loop makes them searchable.
//!
//! Alerts are as durable as events. A batch's alerts are recorded under a key made of
//! its write-ahead log sequence, once ([`Pipeline::process`]); the log keeps the batch
//! until a commit, and a commit waits for every batch between its append and its alerts
//! ([`Pipeline::commit`]), so a crash in between leaves the batch in the log. On start,
//! [`Pipeline::redo_inherited_log`] detects the batches an earlier process left there
//! again and records the alerts of those whose key is not recorded yet.

use crate::config::{Config, parse_cidr};
use crate::detection::Detection;
use haechi_event::{Event, ecs};
use haechi_ingest::dedup::SharedDeduplicator;
use haechi_ingest::listen::Delivery;
use haechi_ingest::metrics::{Metrics, SourceFormat};
use haechi_ingest::reader::{Limits, ReadStats, parse_records};
use haechi_ingest::{JsonMapping, ParseContext};
use haechi_store::EventStore;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::mpsc;

/// Decides the tenant of records whose listener or token does not fix one.
pub struct TenantResolver {
    default: Arc<str>,
    by_address: Vec<(IpAddr, u8, Arc<str>)>,
    by_hostname: BTreeMap<String, Arc<str>>,
}

impl TenantResolver {
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let mut by_address = Vec::new();
        for a in &config.tenants.by_address {
            let (ip, prefix) = parse_cidr(&a.cidr)?;
            by_address.push((ip, prefix, Arc::from(a.tenant.as_str())));
        }
        // Most specific first.
        by_address.sort_by_key(|a| std::cmp::Reverse(a.1));
        Ok(TenantResolver {
            default: Arc::from(config.tenants.default.as_str()),
            by_address,
            by_hostname: config
                .tenants
                .by_hostname
                .iter()
                .map(|(h, t)| (h.to_ascii_lowercase(), Arc::from(t.as_str())))
                .collect(),
        })
    }

    /// The tenant of a sender by its address, if a mapping covers it.
    pub fn by_peer(&self, ip: IpAddr) -> Option<Arc<str>> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.by_address
            .iter()
            .find(|(net, prefix, _)| haechi_query::in_cidr(ip, *net, *prefix))
            .map(|(_, _, t)| t.clone())
    }

    /// Re-tags events by the hostname in their header where the mapping names it.
    pub fn retag_by_hostname(&self, events: &mut [Event]) {
        if self.by_hostname.is_empty() {
            return;
        }
        for e in events {
            let host = e
                .get_str(ecs::HOST_HOSTNAME)
                .or_else(|| e.get_str(ecs::HOST_NAME))
                .or_else(|| e.get_str(ecs::OBSERVER_HOSTNAME));
            if let Some(t) = host.and_then(|h| self.by_hostname.get(&h.to_ascii_lowercase())) {
                e.tenant = t.clone();
            }
        }
    }

    pub fn default_tenant(&self) -> Arc<str> {
        self.default.clone()
    }
}

/// What the workers share.
pub struct Pipeline {
    pub store: Arc<dyn EventStore>,
    pub metrics: Arc<Metrics>,
    pub tenants: TenantResolver,
    pub dedup: SharedDeduplicator,
    pub limits: Limits,
    pub timezone: chrono_tz::Tz,
    pub year: Option<i32>,
    pub keep_original: bool,
    pub json_mapping: Arc<JsonMapping>,
    /// Sigma rules and indicators every event meets (`None` without rules).
    pub detection: Option<Arc<Detection>>,
    /// With `[cluster]`: batches go to NATS JetStream instead of detection and the store
    /// (the `detector` and `store` roles take them from there).
    pub bus: Option<Arc<ClusterSink>>,
    /// The ids of the bus batches this store writer stored last: a batch published
    /// twice (a retry the server did not recognise) often arrives before the first copy
    /// is searchable.
    pub recent_batches: Mutex<RecentBatches>,
    /// Held shared from a batch's append to its recorded alerts, exclusively by a commit
    /// (which lets the log drop the batch).
    pub commit_gate: RwLock<()>,
    /// Alerts of stored batches that could not be recorded yet (the state store failed):
    /// recorded again before each commit, which waits for them.
    pub unrecorded: Mutex<Vec<Unrecorded>>,
}

/// Alerts of a stored batch not recorded yet, with the key that records them once.
pub struct Unrecorded {
    key: Option<String>,
    alerts: Vec<haechi_event::Alert>,
    received: haechi_event::Timestamp,
}

/// The key under which the alerts of the logged batch `seq` are recorded once: its
/// sequence, first time and size (a sequence alone could come back if every partition
/// were dropped and the log restarted).
fn log_batch_key(seq: u64, events: &[Event]) -> String {
    let first = events.first().map_or(0, |e| e.timestamp.0);
    format!("log-{seq}-{first}-{}", events.len())
}

/// The last [`RecentBatches::CAPACITY`] batch ids, oldest dropped first.
#[derive(Default)]
pub struct RecentBatches {
    order: std::collections::VecDeque<String>,
    ids: std::collections::HashSet<String>,
}

impl RecentBatches {
    const CAPACITY: usize = 65_536;

    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    fn insert(&mut self, id: String) {
        if self.ids.insert(id.clone()) {
            self.order.push_back(id);
            if self.order.len() > Self::CAPACITY
                && let Some(old) = self.order.pop_front()
            {
                self.ids.remove(&old);
            }
        }
    }
}

/// The NATS side of a collector: the bus, and the runtime its calls run on.
pub struct ClusterSink {
    pub bus: haechi_cluster::Bus,
    pub runtime: tokio::runtime::Handle,
}

impl Pipeline {
    /// Processes one delivery: de-duplicate, parse, tag, store, count, acknowledge.
    pub fn process(&self, delivery: Delivery) {
        let Delivery {
            listener,
            peer,
            tenant,
            format,
            records,
            received,
            ack,
            drill,
            // Held until the delivery is processed: its source's place in the queue.
            slot: _slot,
        } = delivery;
        let fixed = tenant
            .clone()
            .or_else(|| peer.and_then(|p| self.tenants.by_peer(p.ip())));
        let tenant = fixed
            .clone()
            .unwrap_or_else(|| self.tenants.default_tenant());
        let label = Metrics::source(&listener);
        let ctx = ParseContext {
            tenant: tenant.clone(),
            received,
            year: self.year,
            timezone: self.timezone,
            json_mapping: self.json_mapping.clone(),
        };
        let source = match peer {
            Some(p) => format!("{listener} {p}"),
            None => listener.to_string(),
        };
        let (mut batch, stats) = parse_records(
            records.iter().map(Vec::as_slice),
            format,
            &ctx,
            source,
            Some(&self.dedup),
            self.limits,
            self.keep_original,
        );
        if fixed.is_none() {
            self.tenants.retag_by_hostname(&mut batch.events);
        }
        if let Some(drill) = &drill {
            // Every event of a drill says so, where officers and searches see it.
            for e in &mut batch.events {
                e.set(haechi_drill::DRILL_LABEL, &**drill);
            }
        }
        if let Some(sink) = &self.bus {
            // Acknowledged once JetStream holds the batch; detection and the store take
            // it from there. Dead letters stay with the collector's store.
            let result = sink
                .runtime
                .block_on(sink.bus.publish(&mut batch.events, received))
                .map_err(|e| e.to_string())
                .and_then(|_| {
                    self.store
                        .append_dead_letters(&batch.dead_letters)
                        .map_err(|e| e.to_string())
                });
            match &result {
                Ok(()) => self.count(&listener, &stats, &label),
                Err(e) => {
                    tracing::error!(listener = %listener, error = %e, "publishing a batch failed")
                }
            }
            if let Some(ack) = ack {
                let _ = ack.send(result.map(|_| stats));
            }
            return;
        }
        let alerts = self.detect(&mut batch.events);
        let gate = self.commit_gate.read().unwrap_or_else(|e| e.into_inner());
        let result = self.store.append_logged(&batch.events).and_then(|seq| {
            self.store
                .append_dead_letters(&batch.dead_letters)
                .map(|()| seq)
        });
        match &result {
            Ok(seq) => {
                haechi_event::failpoint::hit("abort-after-append");
                self.count(&listener, &stats, &label);
                let key = seq.map(|seq| log_batch_key(seq, &batch.events));
                self.record_or_keep(key, alerts, received);
            }
            Err(e) => tracing::error!(listener = %listener, error = %e, "storing a batch failed"),
        }
        drop(gate);
        let result = result.map(|_| ());
        if let Some(ack) = ack {
            let _ = ack.send(result.map(|_| stats).map_err(|e| e.to_string()));
        }
    }

    /// Detection on one delivery's events; the alerts of a drill's events are marked as
    /// the drill's (here, so that the redo of a log and the detector role mark them too).
    fn detect(&self, events: &mut [Event]) -> Vec<haechi_event::Alert> {
        match &self.detection {
            Some(d) => {
                let mut alerts = d.detect(events);
                d.count_into(&self.metrics);
                if let Some(drill) = haechi_drill::drill_of(events) {
                    for a in &mut alerts {
                        haechi_drill::mark_alert(a, drill);
                    }
                }
                alerts
            }
            None => Vec::new(),
        }
    }

    /// The `detector` role's work on a batch from the bus: detection, then the alerts
    /// onto the `ALERTS` stream for the site's alert writer. Errors make the bus deliver
    /// the batch again; its alerts then carry the same message id, so they are recorded
    /// once.
    pub fn detect_delivered(&self, mut delivered: haechi_cluster::Delivered) -> Result<(), String> {
        let alerts = self.detect(&mut delivered.events);
        if alerts.is_empty() {
            return Ok(());
        }
        let sink = self
            .bus
            .as_ref()
            .ok_or("the detector role needs [cluster]")?;
        sink.runtime
            .block_on(
                sink.bus
                    .publish_alerts(&delivered.id, &alerts, delivered.received),
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The alert writer's work (the `api` role): the alerts of one event batch into the
    /// state store, at most once per message id (the state store keeps the ids of
    /// recorded ones).
    pub fn record_delivered_alerts(
        &self,
        delivered: haechi_cluster::DeliveredAlerts,
    ) -> Result<(), String> {
        self.record_alerts_of(Some(&delivered.id), &delivered.alerts, delivered.received)
    }

    /// The `store` role's work on several batches from the bus: one append for all. A
    /// batch delivered again (its writer died before acknowledging) adds only the events
    /// not stored yet, found by the `event.id` every event left its collector with; a
    /// later delivery comes after `ack_wait_secs`, long after the commit loop made the
    /// first one searchable (and a restart replays the embedded store's log first).
    pub fn store_gathered(&self, gathered: Vec<haechi_cluster::Delivered>) -> Result<(), String> {
        let mut events = Vec::with_capacity(gathered.iter().map(|d| d.events.len()).sum());
        let mut ids = Vec::with_capacity(gathered.len());
        for d in gathered {
            let seen = {
                let recent = self
                    .recent_batches
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                recent.contains(&d.id) || ids.contains(&d.id)
            };
            if seen {
                tracing::info!(batch = %d.id, "a batch stored moments ago came again");
                continue;
            }
            ids.push(d.id.clone());
            events.extend(self.not_yet_stored(d)?);
        }
        self.store.append(&events).map_err(|e| e.to_string())?;
        let mut recent = self
            .recent_batches
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for id in ids {
            recent.insert(id);
        }
        Ok(())
    }

    /// The events of a batch the store does not hold yet: all of them on a first
    /// delivery; on a later one, those whose `event.id` is not found.
    fn not_yet_stored(&self, delivered: haechi_cluster::Delivered) -> Result<Vec<Event>, String> {
        if !delivered.redelivered {
            return Ok(delivered.events);
        }
        let stored = self.stored_ids(&delivered.events)?;
        let missing: Vec<Event> = delivered
            .events
            .into_iter()
            .filter(|e| {
                e.get_str(ecs::EVENT_ID)
                    .is_none_or(|id| !stored.contains(id))
            })
            .collect();
        tracing::info!(batch = %delivered.id, missing = missing.len(), "a batch delivered again");
        Ok(missing)
    }

    /// The `event.id`s of `events` the store already holds.
    fn stored_ids(&self, events: &[Event]) -> Result<std::collections::HashSet<String>, String> {
        let ids: Vec<&str> = events
            .iter()
            .filter_map(|e| e.get_str(ecs::EVENT_ID))
            .collect();
        let (Some(from), Some(to)) = (
            events.iter().map(|e| e.timestamp).min(),
            events.iter().map(|e| e.timestamp).max(),
        ) else {
            return Ok(Default::default());
        };
        self.store
            .stored_event_ids(&ids, from, to)
            .map_err(|e| e.to_string())
    }

    /// Records the alerts of a stored batch (after the events, which they reference);
    /// when the state store fails, keeps them for the next commit to record.
    fn record_or_keep(
        &self,
        key: Option<String>,
        alerts: Vec<haechi_event::Alert>,
        received: haechi_event::Timestamp,
    ) {
        if alerts.is_empty()
            || self
                .record_alerts_of(key.as_deref(), &alerts, received)
                .is_ok()
        {
            return;
        }
        let mut unrecorded = self.unrecorded.lock().unwrap_or_else(|e| e.into_inner());
        unrecorded.push(Unrecorded {
            key,
            alerts,
            received,
        });
        self.metrics.alerts_unrecorded.set(unrecorded.len() as i64);
    }

    /// Makes what was appended searchable and lets the log drop it: once no batch is
    /// between its append and its alerts, and every alert kept from a failure is
    /// recorded (otherwise the log keeps the batches and the commit fails).
    pub fn commit(&self) -> haechi_store::Result<()> {
        let _gate = self.commit_gate.write().unwrap_or_else(|e| e.into_inner());
        let kept = std::mem::take(&mut *self.unrecorded.lock().unwrap_or_else(|e| e.into_inner()));
        let mut still = Vec::new();
        for u in kept {
            if self
                .record_alerts_of(u.key.as_deref(), &u.alerts, u.received)
                .is_err()
            {
                still.push(u);
            }
        }
        self.metrics.alerts_unrecorded.set(still.len() as i64);
        if !still.is_empty() {
            let n = still.len();
            self.unrecorded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(still);
            return Err(haechi_store::StoreError::Invalid(format!(
                "the alerts of {n} stored batches cannot be recorded yet; \
                 the write-ahead log keeps their batches until they are"
            )));
        }
        self.store.commit()
    }

    /// Detects the batches an earlier process left in the write-ahead log again (it
    /// stopped before committing them: perhaps before their alerts were recorded) and
    /// records the alerts not recorded yet. Returns the batches redone.
    pub fn redo_inherited_log(&self) -> haechi_store::Result<usize> {
        let received = haechi_event::Timestamp::now();
        self.store.redo_inherited_log(&mut |seq, mut events| {
            // With `[cluster]` the store writer's batches were detected by the detectors,
            // whose alerts cross JetStream before a batch is acknowledged: nothing to redo.
            if self.detection.is_none() || self.bus.is_some() {
                return;
            }
            let alerts = self.detect(&mut events);
            self.record_or_keep(Some(log_batch_key(seq, &events)), alerts, received);
        })
    }

    /// Stores alerts; with the id of a bus batch, at most once per batch.
    fn record_alerts_of(
        &self,
        batch: Option<&str>,
        alerts: &[haechi_event::Alert],
        received: haechi_event::Timestamp,
    ) -> Result<(), String> {
        let Some(d) = &self.detection else {
            return Ok(());
        };
        if alerts.is_empty() {
            return Ok(());
        }
        let recorded = match batch {
            Some(id) => d.record_batch(id, alerts).map(|r| r.is_some()),
            None => d.record(alerts).map(|_| true),
        };
        match recorded {
            // Recorded before (a batch delivered again): counted then.
            Ok(false) => Ok(()),
            Ok(true) => {
                for a in alerts {
                    self.metrics
                        .alerts
                        .get_or_create(&haechi_ingest::metrics::AlertLabel {
                            source: a.source.as_str().to_owned(),
                            level: a.level.as_str().to_owned(),
                        })
                        .inc();
                }
                self.metrics
                    .alert_latency
                    .observe((haechi_event::Timestamp::now().0 - received.0).max(0) as f64 / 1e9);
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, alerts = alerts.len(), "alerts not stored");
                Err(format!("{e:#}"))
            }
        }
    }

    fn count(
        &self,
        listener: &str,
        stats: &ReadStats,
        label: &haechi_ingest::metrics::SourceLabel,
    ) {
        let events: u64 = stats.by_format.values().sum();
        self.metrics
            .note_batch(listener, events, stats.dead_letters, stats.duplicates);
        for (format, n) in &stats.by_format {
            self.metrics
                .events_stored
                .get_or_create(&SourceFormat {
                    source: listener.to_owned(),
                    format: format.clone(),
                })
                .inc_by(*n);
        }
        if stats.dead_letters > 0 {
            self.metrics
                .dead_letters
                .get_or_create(label)
                .inc_by(stats.dead_letters);
        }
        if stats.duplicates > 0 {
            self.metrics
                .duplicates
                .get_or_create(label)
                .inc_by(stats.duplicates);
        }
    }
}

/// Starts `n` worker threads that drain `receiver` until every sender is gone.
pub fn start_workers(
    pipeline: Arc<Pipeline>,
    receiver: mpsc::Receiver<Delivery>,
    n: usize,
) -> Vec<std::thread::JoinHandle<()>> {
    let receiver = Arc::new(Mutex::new(receiver));
    (0..n.max(1))
        .map(|i| {
            let (pipeline, receiver) = (pipeline.clone(), receiver.clone());
            std::thread::Builder::new()
                .name(format!("pipeline-{i}"))
                .spawn(move || {
                    loop {
                        let next = receiver
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .blocking_recv();
                        match next {
                            Some(d) => pipeline.process(d),
                            None => return,
                        }
                    }
                })
                .unwrap_or_else(|e| panic!("cannot start a pipeline thread: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::{Timestamp, Value};
    use haechi_store::embedded::{EmbeddedStore, StoreConfig};

    fn pipeline(dir: &std::path::Path) -> Pipeline {
        let config = Config::default();
        let store = EmbeddedStore::open(
            &dir.join("store"),
            StoreConfig {
                writer_threads: 1,
                writer_memory_bytes: 15 << 20,
                ..Default::default()
            },
        )
        .unwrap();
        Pipeline {
            store: Arc::new(store),
            metrics: Arc::new(Metrics::new()),
            tenants: TenantResolver::new(&config).unwrap(),
            dedup: SharedDeduplicator::new(0),
            limits: Limits::default(),
            timezone: chrono_tz::UTC,
            year: None,
            keep_original: true,
            json_mapping: Arc::new(config.parse.json.clone()),
            detection: None,
            bus: None,
            recent_batches: Default::default(),
            commit_gate: Default::default(),
            unrecorded: Default::default(),
        }
    }

    fn delivered(redelivered: bool) -> haechi_cluster::Delivered {
        let events = (0..10)
            .map(|i| {
                let mut e = Event::new(Timestamp(1_714_557_600_000_000_000 + i), "seoul".into(), 2);
                e.push(ecs::EVENT_ID, Value::Str(format!("batch-a-{i:05x}")));
                e.push(ecs::MESSAGE, format!("event {i}"));
                e
            })
            .collect();
        haechi_cluster::Delivered {
            events,
            received: Timestamp::now(),
            id: "center.node.a.0".into(),
            redelivered,
        }
    }

    /// A store writer that stored a batch and died before acknowledging gets the batch
    /// again: it stores only what is missing. The same batch again in the same process
    /// (a retried publish) is skipped whole.
    #[test]
    fn a_batch_stored_then_delivered_again_is_not_stored_twice() {
        let dir = tempfile::tempdir().unwrap();
        let p = pipeline(dir.path());
        let mut first = delivered(false);
        first.events.truncate(6);
        p.store_gathered(vec![first]).unwrap();
        p.store.commit().unwrap();
        // As after a restart: the writer no longer remembers the batch.
        *p.recent_batches.lock().unwrap() = Default::default();
        p.store_gathered(vec![delivered(true)]).unwrap();
        p.store.commit().unwrap();
        let all = haechi_store::SearchRequest::new(haechi_query::Query::All);
        assert_eq!(
            p.store.search(&all).unwrap().total,
            10,
            "6 before, the 4 missing after"
        );
        p.store_gathered(vec![delivered(false)]).unwrap();
        p.store.commit().unwrap();
        assert_eq!(p.store.search(&all).unwrap().total, 10, "remembered");
    }
}
