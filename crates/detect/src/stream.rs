//! Streaming detection: every batch the collector accepts is evaluated before it is
//! stored, and what fires becomes [`Alert`]s.
//!
//! A [`StreamDetector`] holds the live rule set and exceptions behind `RwLock<Arc<…>>`:
//! a reload builds the new [`Detector`] aside (rule loading takes seconds) and swaps it
//! in between batches, carrying the correlation state over, so detection never stops.
//! Events an alert stands on get an `event.id` (when they have none) before they are
//! stored, so that the alert's references find them.

use crate::alert::{Exceptions, sigma_alert};
use crate::hunt::Detector;
use haechi_event::{Alert, Event, Timestamp, Value, ecs};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Batches at least this large are spread over all cores.
const PARALLEL_BATCH: usize = 256;

/// The live rules and exceptions of a running pipeline.
pub struct StreamDetector {
    detector: RwLock<Arc<Detector>>,
    exceptions: RwLock<Arc<Exceptions>>,
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
        let run = |event: &mut Event| self.detect_one(&detector, &exceptions, event);
        if events.len() >= PARALLEL_BATCH {
            events.par_iter_mut().flat_map_iter(run).collect()
        } else {
            events.iter_mut().flat_map(run).collect()
        }
    }

    fn detect_one(
        &self,
        detector: &Detector,
        exceptions: &Exceptions,
        event: &mut Event,
    ) -> Vec<Alert> {
        let detections = detector.detect(event, self.min_level);
        if detections.is_empty() {
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
        if kept.is_empty() {
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
        kept.iter().map(|d| sigma_alert(d, event, &id)).collect()
    }
}
