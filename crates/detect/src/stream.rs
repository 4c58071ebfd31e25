//! Streaming detection: every batch the collector accepts is evaluated before it is
//! stored, and what fires becomes [`Alert`]s.
//!
//! A [`StreamDetector`] holds the live rule set and exceptions behind `RwLock<Arc<…>>`:
//! a reload builds the new [`Detector`] aside (rule loading takes seconds) and swaps it
//! in between batches, carrying the correlation state over, so detection never stops.
//! Events an alert stands on get an `event.id` (when they have none) before they are
//! stored, so that the alert's references find them.

use crate::alert::{
    DOMAIN_FIELDS, Exceptions, domain_model_alert, flow_model_alert, indicator_alert, sigma_alert,
    web_model_alert,
};
use crate::device::DeviceRules;
use crate::hunt::Detector;
use haechi_event::{Alert, Event, Timestamp, Value, ecs};
use haechi_ioc::{Hit, IndicatorSet, SharedIndicators};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Batches at least this large are spread over all cores.
const PARALLEL_BATCH: usize = 256;

/// The live rules and exceptions of a running pipeline.
pub struct StreamDetector {
    detector: RwLock<Arc<Detector>>,
    exceptions: RwLock<Arc<Exceptions>>,
    /// How the equipment's own detections become alerts.
    device: RwLock<Arc<DeviceRules>>,
    /// The OT behaviour model's allow-list, when one is configured.
    ot: RwLock<Option<Arc<crate::ot::Allowlist>>>,
    indicators: SharedIndicators,
    /// The sharing hub's indicators (the intel store's collections), swapped on their
    /// own whenever the hub changes, without reloading the feeds.
    hub: SharedIndicators,
    /// The DGA model and its alert threshold (probability), when configured.
    domain_model: RwLock<Option<(Arc<haechi_ml::DomainModel>, f32)>>,
    /// The web-attack model and its threshold, when configured.
    web_model: RwLock<Option<(Arc<haechi_ml::WebModel>, f32)>>,
    /// The flow model (`live` features) and its threshold, when configured.
    flow_model: RwLock<Option<(Arc<haechi_ml::FlowModel>, f32)>>,
    min_level: usize,
    /// `event.id` values are `seed + n` in hex: unique within a run, and across runs
    /// because the seed is the start time in nanoseconds.
    id_seed: u64,
    next_id: AtomicU64,
    suppressed: AtomicU64,
    /// Equipment detections counted in storm alerts (beyond the ceiling).
    storm_folded: AtomicU64,
}

impl StreamDetector {
    /// `min_level` is a rank in [`crate::hunt::LEVELS`].
    pub fn new(detector: Detector, exceptions: Exceptions, min_level: usize) -> StreamDetector {
        StreamDetector {
            detector: RwLock::new(Arc::new(detector)),
            exceptions: RwLock::new(Arc::new(exceptions)),
            device: RwLock::new(Arc::new(DeviceRules::default())),
            ot: RwLock::new(None),
            indicators: SharedIndicators::default(),
            hub: SharedIndicators::default(),
            domain_model: RwLock::new(None),
            web_model: RwLock::new(None),
            flow_model: RwLock::new(None),
            min_level,
            id_seed: Timestamp::now().0 as u64,
            next_id: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
            storm_folded: AtomicU64::new(0),
        }
    }

    /// Swaps in a new rule set; correlation counts in progress carry over.
    pub fn replace_rules(&self, detector: Detector) {
        let previous = self.detector();
        detector.take_correlation_state(&previous);
        *self.detector.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(detector);
    }

    /// Swaps in a new indicator set (feeds reloaded).
    pub fn replace_indicators(&self, set: IndicatorSet) {
        self.indicators.replace(Arc::new(set));
    }

    /// Swaps in a new set of the sharing hub's indicators.
    pub fn replace_hub_indicators(&self, set: IndicatorSet) {
        self.hub.replace(Arc::new(set));
    }

    /// The hub's indicator set in use.
    pub fn hub_indicators(&self) -> Arc<IndicatorSet> {
        self.hub.load()
    }

    /// Sets (or removes) the domain model and the probability at which it alerts.
    pub fn replace_domain_model(&self, model: Option<(haechi_ml::DomainModel, f32)>) {
        *self.domain_model.write().unwrap_or_else(|e| e.into_inner()) =
            model.map(|(m, t)| (Arc::new(m), t));
    }

    /// Sets (or removes) the flow model and the probability at which it alerts. Only a
    /// model of the `live` schema can score Haechi's flow events; others are refused.
    pub fn replace_flow_model(
        &self,
        model: Option<(haechi_ml::FlowModel, f32)>,
    ) -> Result<(), String> {
        if let Some((m, _)) = &model
            && m.schema() != haechi_ml::FlowSchema::Live
        {
            return Err(format!(
                "a flow model of the `{}` schema cannot score live flow events: train one with `--features live` (or use the default `flows`)",
                m.schema().name()
            ));
        }
        *self.flow_model.write().unwrap_or_else(|e| e.into_inner()) =
            model.map(|(m, t)| (Arc::new(m), t));
        Ok(())
    }

    /// Sets (or removes) the web-attack model and the probability at which it alerts.
    pub fn replace_web_model(&self, model: Option<(haechi_ml::WebModel, f32)>) {
        *self.web_model.write().unwrap_or_else(|e| e.into_inner()) =
            model.map(|(m, t)| (Arc::new(m), t));
    }

    /// The indicator set in use.
    pub fn indicators(&self) -> Arc<IndicatorSet> {
        self.indicators.load()
    }

    /// Swaps in new device-alert tables (severity, techniques, ceiling).
    pub fn replace_device_rules(&self, rules: DeviceRules) {
        *self.device.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(rules);
    }

    /// Sets (or removes) the OT behaviour model's allow-list.
    pub fn replace_ot_allowlist(&self, allowlist: Option<crate::ot::Allowlist>) {
        *self.ot.write().unwrap_or_else(|e| e.into_inner()) = allowlist.map(Arc::new);
    }

    /// The device-alert tables in use.
    pub fn device_rules(&self) -> Arc<DeviceRules> {
        self.device
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn replace_exceptions(&self, exceptions: Exceptions) {
        *self.exceptions.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(exceptions);
    }

    /// The rule set in use.
    pub fn detector(&self) -> Arc<Detector> {
        self.detector
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many detections exceptions have silenced since start.
    pub fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }

    /// How many equipment detections went into storm alerts since start.
    pub fn storm_folded(&self) -> u64 {
        self.storm_folded.load(Ordering::Relaxed)
    }

    /// Evaluates every event; returns the alerts and gives each event they stand on an
    /// `event.id`.
    pub fn detect_batch(&self, events: &mut [Event]) -> Vec<Alert> {
        let detector = self.detector();
        let exceptions = self
            .exceptions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let indicators = self.indicators.load();
        let hub = self.hub.load();
        let device = self.device_rules();
        let ot = self.ot.read().unwrap_or_else(|e| e.into_inner()).clone();
        let domain_model = self
            .domain_model
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let web_model = self
            .web_model
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let flow_model = self
            .flow_model
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let models = Models {
            domains: domain_model.as_ref().map(|(m, t)| (m.as_ref(), *t)),
            web: web_model.as_ref().map(|(m, t)| (m.as_ref(), *t)),
            flows: flow_model.as_ref().map(|(m, t)| (m.as_ref(), *t)),
        };
        let run = |hits: &mut Vec<Hit>, event: &mut Event| {
            let sets = [indicators.as_ref(), hub.as_ref()];
            let rules = Rules {
                detector: &detector,
                exceptions: &exceptions,
                indicators: &sets,
                models: &models,
                device: &device,
                ot: ot.as_deref(),
            };
            self.detect_one(&rules, hits, event)
        };
        let alerts = if events.len() >= PARALLEL_BATCH {
            events
                .par_iter_mut()
                .map_init(Vec::new, run)
                .flatten_iter()
                .collect()
        } else {
            let mut hits = Vec::new();
            events.iter_mut().flat_map(|e| run(&mut hits, e)).collect()
        };
        let alerts = device.fold(alerts, Timestamp::now());
        let storm: u64 = alerts
            .iter()
            .filter(|a| a.details.contains_key("storm"))
            .map(|a| a.count)
            .sum();
        if storm > 0 {
            self.storm_folded.fetch_add(storm, Ordering::Relaxed);
        }
        alerts
    }

    fn detect_one(&self, rules: &Rules<'_>, hits: &mut Vec<Hit>, event: &mut Event) -> Vec<Alert> {
        let Rules {
            detector,
            exceptions,
            indicators: indicator_sets,
            models,
            device,
            ot,
        } = *rules;
        let detections = detector.detect(event, self.min_level);
        let by_device = device.may_alert(event);
        let by_ot = ot.is_some() && event.get("ics.protocol").is_some();
        let scored = models
            .score_domain(event)
            .map(|v| ("model:domains", v))
            .or_else(|| models.score_web(event).map(|v| ("model:web", v)))
            .or_else(|| models.score_flow(event).map(|v| ("model:flows", v)));
        match_indicators(indicator_sets, event, hits);
        if detections.is_empty() && hits.is_empty() && scored.is_none() && !by_device && !by_ot {
            return Vec::new();
        }
        let mut kept = Vec::with_capacity(detections.len());
        for d in detections {
            if exceptions.suppresses(&d.rule.id, event) {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
            } else {
                kept.push(d);
            }
        }
        let before = hits.len();
        hits.retain(|h| !exceptions.suppresses(&h.rule_id(), event));
        self.suppressed
            .fetch_add((before - hits.len()) as u64, Ordering::Relaxed);
        let scored = scored.filter(|(rule, _)| {
            let quiet = exceptions.suppresses(rule, event);
            if quiet {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
            }
            !quiet
        });
        // The device alert is built with a placeholder reference, set below once the
        // event has its id (only events that alert get one).
        let device_alert = by_device
            .then(|| device.alert(event, ""))
            .flatten()
            .filter(|a| self.admits(a, exceptions, event));
        let ot_alert = ot
            .filter(|_| by_ot)
            .and_then(|list| list.check(event, ""))
            .filter(|a| self.admits(a, exceptions, event));
        if kept.is_empty()
            && hits.is_empty()
            && scored.is_none()
            && device_alert.is_none()
            && ot_alert.is_none()
        {
            return Vec::new();
        }
        let id = match event.get_str(ecs::EVENT_ID) {
            Some(id) => id.to_owned(),
            None => {
                let n = self.next_id.fetch_add(1, Ordering::Relaxed);
                let id = format!("{:016x}", self.id_seed.wrapping_add(n));
                event.push(ecs::EVENT_ID, Value::Str(id.clone()));
                id
            }
        };
        kept.iter()
            .map(|d| sigma_alert(d, event, &id))
            .chain(
                hits.iter()
                    .map(|h| indicator_alert(h, event, &id))
                    // Indicator levels follow the feed's confidence; the same floor applies.
                    .filter(|a| a.level as usize >= self.min_level),
            )
            .chain(scored.map(|(rule, (field, value, p, top))| match rule {
                "model:web" => web_model_alert(field, &value, p, &top, event, &id),
                "model:flows" => flow_model_alert(&value, p, &top, event, &id),
                _ => domain_model_alert(field, &value, p, &top, event, &id),
            }))
            .filter(|a| {
                a.level as usize >= self.min_level || a.source != haechi_event::AlertSource::Model
            })
            .chain(device_alert.into_iter().chain(ot_alert).map(|mut a| {
                a.events[0].id = id.clone();
                a
            }))
            .collect()
    }
}

impl StreamDetector {
    /// Whether an alert built outside the rules (device, OT model) reaches the queue: at
    /// or above the level floor and not excepted (an exception is counted).
    fn admits(&self, alert: &Alert, exceptions: &Exceptions, event: &Event) -> bool {
        if (alert.level as usize) < self.min_level {
            return false;
        }
        let quiet = exceptions.suppresses(&alert.rule_id, event);
        if quiet {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
        !quiet
    }
}

/// Everything one batch is evaluated with.
#[derive(Clone, Copy)]
struct Rules<'r> {
    detector: &'r Detector,
    exceptions: &'r Exceptions,
    indicators: &'r [&'r IndicatorSet; 2],
    models: &'r Models<'r>,
    device: &'r DeviceRules,
    ot: Option<&'r crate::ot::Allowlist>,
}

/// The hits of every indicator set on one event: one per indicator and set, whichever
/// fields it was seen in. (Ids are per set, so each set is de-duplicated on its own.)
fn match_indicators(sets: &[&IndicatorSet; 2], event: &Event, hits: &mut Vec<Hit>) {
    hits.clear();
    let mut more = Vec::new();
    for set in sets.iter().filter(|s| !s.is_empty()) {
        set.match_event(event, &mut more);
        more.sort_by_key(|h| h.id);
        more.dedup_by_key(|h| h.id);
        hits.append(&mut more);
    }
}

/// The models the pipeline scores events with, for one batch.
struct Models<'m> {
    domains: Option<(&'m haechi_ml::DomainModel, f32)>,
    web: Option<(&'m haechi_ml::WebModel, f32)>,
    flows: Option<(&'m haechi_ml::FlowModel, f32)>,
}

/// One model verdict: field, scored value, probability, top features.
type ModelVerdict = (&'static str, String, f32, Vec<(String, f32)>);

impl Models<'_> {
    /// Scores the event's first domain name; a verdict when it reaches the threshold.
    fn score_domain(&self, event: &Event) -> Option<ModelVerdict> {
        let (model, threshold) = self.domains?;
        let (field, name) = DOMAIN_FIELDS
            .iter()
            .find_map(|f| event.get_str(f).map(|v| (*f, v)))?;
        if !is_public_dns_name(name) {
            return None;
        }
        let p = model.score(name);
        if p < threshold {
            return None;
        }
        let mut top = model.explain(name);
        top.truncate(3);
        Some((field, name.to_owned(), p, top))
    }
}

impl Models<'_> {
    /// Scores each value of the event's query string (the model knows parameter values,
    /// not the `a=1&b=2` syntax); a verdict for the worst one when it reaches the
    /// threshold.
    fn score_web(&self, event: &Event) -> Option<ModelVerdict> {
        let (model, threshold) = self.web?;
        let query = event.get_str(ecs::URL_QUERY)?;
        let (value, p) = query
            .trim_start_matches('?')
            .split('&')
            .map(|part| part.split_once('=').map_or(part, |(_, v)| v))
            .filter(|v| !v.is_empty())
            .map(|v| (v, model.score(v)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        if p < threshold {
            return None;
        }
        let mut top = model.explain(value);
        top.truncate(3);
        Some((ecs::URL_QUERY, value.to_owned(), p, top))
    }
}

impl Models<'_> {
    /// Scores a flow event (Zeek `conn`, Suricata `flow`); a verdict when the probability
    /// of an attack reaches the threshold. The value is a one-line summary of the flow.
    fn score_flow(&self, event: &Event) -> Option<ModelVerdict> {
        let (model, threshold) = self.flows?;
        let record = flow_record(event)?;
        let p = model.score_record(&record)?;
        // NaN is refused too (a broken model must not alert on every flow).
        if p.is_nan() || p < threshold {
            return None;
        }
        let top = model.explain_record(&record, 3).unwrap_or_default();
        let summary = format!(
            "{} {} {} {}/{} packets {}/{} bytes {:.3}s",
            record.transport.unwrap_or("-"),
            record.service.unwrap_or("-"),
            record.state.unwrap_or("-"),
            record.src_packets.unwrap_or(0),
            record.dst_packets.unwrap_or(0),
            record.src_bytes.unwrap_or(0),
            record.dst_bytes.unwrap_or(0),
            record.duration_secs.unwrap_or(0.0),
        );
        Some(("flow", summary, p, top))
    }
}

/// A whole number field (counts, bytes).
fn count(event: &Event, name: &str) -> Option<u64> {
    match event.get(name)? {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Float(f) if *f >= 0.0 => Some(*f as u64),
        Value::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// The flow the event describes, in the flow model's terms, if it is a flow record:
/// a Zeek `conn` entry (it has `conn_state`) or a Suricata EVE `flow` event. States and
/// application protocols are mapped to the UNSW-NB15 vocabulary the model learned.
pub fn flow_record(event: &Event) -> Option<haechi_ml::FlowRecord<'_>> {
    let transport = event.get_str(ecs::NETWORK_TRANSPORT);
    let state = if let Some(conn_state) = event.get_str("conn_state") {
        haechi_ml::zeek_conn_state_to_unsw(conn_state, transport.unwrap_or(""))
    } else if event.get_str("event_type") == Some("flow") {
        let answered = count(event, ecs::DESTINATION_PACKETS).is_some_and(|n| n > 0);
        haechi_ml::suricata_state_to_unsw(
            event.get_str("flow.state").unwrap_or(""),
            transport.unwrap_or(""),
            answered,
        )
    } else {
        return None;
    };
    let duration_secs = match event.get(ecs::EVENT_DURATION) {
        Some(Value::Int(ns)) => Some(*ns as f64 / 1e9),
        Some(Value::Float(ns)) => Some(ns / 1e9),
        _ => None,
    };
    let service = event
        .get_str(ecs::NETWORK_PROTOCOL)
        .map(haechi_ml::service_to_unsw)
        .filter(|s| *s != "-");
    // UNSW-NB15 counts bytes with their headers, as Suricata does; Zeek's `orig_bytes`
    // are payload only, so its `orig_ip_bytes`/`resp_ip_bytes` are preferred.
    let bytes =
        |ip_bytes: &str, ecs_name: &str| count(event, ip_bytes).or_else(|| count(event, ecs_name));
    Some(haechi_ml::FlowRecord {
        duration_secs,
        transport,
        service,
        state: Some(state),
        src_packets: count(event, ecs::SOURCE_PACKETS),
        dst_packets: count(event, ecs::DESTINATION_PACKETS),
        src_bytes: bytes("orig_ip_bytes", ecs::SOURCE_BYTES),
        dst_bytes: bytes("resp_ip_bytes", ecs::DESTINATION_BYTES),
    })
}

/// Suffixes of names that are never registered on the Internet (mDNS, reverse lookups,
/// home and corporate networks): a generated-looking device name there is not a DGA.
const LOCAL_SUFFIXES: [&str; 8] = [
    ".local",
    ".arpa",
    ".lan",
    ".internal",
    ".localdomain",
    ".home",
    ".corp",
    ".localhost",
];

/// Whether a name is worth the domain model: at least two labels, only DNS host
/// characters, and not under a local-only suffix.
fn is_public_dns_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name.contains('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        && !LOCAL_SUFFIXES
            .iter()
            .any(|s| name.len() >= s.len() && name[name.len() - s.len()..].eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::is_public_dns_name;

    #[test]
    fn local_and_malformed_names_are_not_scored() {
        assert!(is_public_dns_name("xjwqkzrvbtyphqlm.net"));
        assert!(is_public_dns_name("cdn.Example.COM."));
        for n in [
            "desktop-fdp9pg2.local",
            "1.0.168.192.in-addr.arpa",
            "printer",
            "kishor’s macbook.local",
            "nas.LAN",
        ] {
            assert!(!is_public_dns_name(n), "{n}");
        }
    }
}
