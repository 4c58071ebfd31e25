//! Streaming detection: every batch the collector accepts is evaluated before it is
//! stored, and what fires becomes [`Alert`]s.
//!
//! A [`StreamDetector`] holds the live rule set and exceptions behind `RwLock<Arc<…>>`:
//! a reload builds the new [`Detector`] aside (rule loading takes seconds) and swaps it
//! in between batches, carrying the correlation state over, so detection never stops.
//! Events an alert stands on get an `event.id` (when they have none) before they are
//! stored, so that the alert's references find them.

use crate::alert::{
    DOMAIN_FIELDS, Exceptions, domain_model_alert, indicator_alert, sigma_alert, web_model_alert,
};
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
    indicators: SharedIndicators,
    /// The DGA model and its alert threshold (probability), when configured.
    domain_model: RwLock<Option<(Arc<haechi_ml::DomainModel>, f32)>>,
    /// The web-attack model and its threshold, when configured.
    web_model: RwLock<Option<(Arc<haechi_ml::WebModel>, f32)>>,
    min_level: usize,
    /// `event.id` values are `seed + n` in hex: unique within a run, and across runs
    /// because the seed is the start time in nanoseconds.
    id_seed: u64,
    next_id: AtomicU64,
    suppressed: AtomicU64,
}

impl StreamDetector {
    /// `min_level` is a rank in [`crate::hunt::LEVELS`].
    pub fn new(detector: Detector, exceptions: Exceptions, min_level: usize) -> StreamDetector {
        StreamDetector {
            detector: RwLock::new(Arc::new(detector)),
            exceptions: RwLock::new(Arc::new(exceptions)),
            indicators: SharedIndicators::default(),
            domain_model: RwLock::new(None),
            web_model: RwLock::new(None),
            min_level,
            id_seed: Timestamp::now().0 as u64,
            next_id: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
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

    /// Sets (or removes) the domain model and the probability at which it alerts.
    pub fn replace_domain_model(&self, model: Option<(haechi_ml::DomainModel, f32)>) {
        *self.domain_model.write().unwrap_or_else(|e| e.into_inner()) =
            model.map(|(m, t)| (Arc::new(m), t));
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
        let models = Models {
            domains: domain_model.as_ref().map(|(m, t)| (m.as_ref(), *t)),
            web: web_model.as_ref().map(|(m, t)| (m.as_ref(), *t)),
        };
        let run = |hits: &mut Vec<Hit>, event: &mut Event| {
            self.detect_one(&detector, &exceptions, &indicators, &models, hits, event)
        };
        if events.len() >= PARALLEL_BATCH {
            events
                .par_iter_mut()
                .map_init(Vec::new, run)
                .flatten_iter()
                .collect()
        } else {
            let mut hits = Vec::new();
            events.iter_mut().flat_map(|e| run(&mut hits, e)).collect()
        }
    }

    fn detect_one(
        &self,
        detector: &Detector,
        exceptions: &Exceptions,
        indicators: &IndicatorSet,
        models: &Models<'_>,
        hits: &mut Vec<Hit>,
        event: &mut Event,
    ) -> Vec<Alert> {
        let detections = detector.detect(event, self.min_level);
        let scored = models
            .score_domain(event)
            .map(|v| ("model:domains", v))
            .or_else(|| models.score_web(event).map(|v| ("model:web", v)));
        if indicators.is_empty() {
            hits.clear();
        } else {
            indicators.match_event(event, hits);
            // One alert per indicator and event, whichever fields it was seen in.
            hits.sort_by_key(|h| h.id);
            hits.dedup_by_key(|h| h.id);
        }
        if detections.is_empty() && hits.is_empty() && scored.is_none() {
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
        if kept.is_empty() && hits.is_empty() && scored.is_none() {
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
            .chain(scored.map(|(rule, (field, value, p, top))| {
                if rule == "model:web" {
                    web_model_alert(field, &value, p, &top, event, &id)
                } else {
                    domain_model_alert(field, &value, p, &top, event, &id)
                }
            }))
            .filter(|a| {
                a.level as usize >= self.min_level || a.source != haechi_event::AlertSource::Model
            })
            .collect()
    }
}

/// The models the pipeline scores events with, for one batch.
struct Models<'m> {
    domains: Option<(&'m haechi_ml::DomainModel, f32)>,
    web: Option<(&'m haechi_ml::WebModel, f32)>,
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
