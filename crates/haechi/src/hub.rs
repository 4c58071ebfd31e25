//! Wiring of the sharing hub into detection: the intel store's indicators reach the live
//! matcher without a restart, and what arrives is retro-hunted in the stored events.
//!
//! A watcher thread looks at the store's fingerprint (last `date_added`, version count)
//! every [`WATCH_INTERVAL`], so it sees TAXII POSTs, deletions and `haechi intel import`
//! run by another process alike. On a change it
//! 1. rebuilds the hub's indicator set — the newest version of every indicator of every
//!    collection, read as a STIX feed named `hub:<collection>` (revoked and expired ones
//!    skipped, patterns read by haechi-ioc) — and swaps it into the detector;
//! 2. retro-hunts the indicators added since the last hunt (a watermark kept in the store,
//!    so indicators imported while the server was down are hunted at its next start):
//!    [`haechi_detect::retro`] finds candidate events of the last `intel.retro_hunt_days`
//!    through the index and confirms them with the live matcher; the alerts are recorded
//!    like live ones (playbooks and the console see them), tagged `retrospective`.

use crate::detection::Detection;
use haechi_event::Timestamp;
use haechi_intel::store::IntelStore;
use haechi_ioc::{FeedConfig, FeedFormat, IndicatorSet, IndicatorSetBuilder};
use haechi_store::{EventStore, SearchRequest};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the store is looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);
/// The most events one candidate query reads (the newest first).
pub const RETRO_MAX_EVENTS: usize = 100_000;
/// The store key of the retro-hunt watermark (the last `date_added` hunted).
const WATERMARK: &str = "retro_hunted_until";

/// What one pass did, for the log and the tests.
#[derive(Debug, Default)]
pub struct Pass {
    pub indicators: usize,
    pub new_indicators: usize,
    pub events_checked: usize,
    pub alerts: usize,
    pub truncated: bool,
    pub seconds: f64,
}

/// The indicators of every collection, newest versions added after `added_after`.
pub fn hub_indicators(
    intel: &IntelStore,
    added_after: Option<i64>,
    limits: haechi_ioc::Limits,
) -> anyhow::Result<IndicatorSet> {
    let mut builder = IndicatorSetBuilder::new(limits);
    for c in intel.collections().map_err(|e| anyhow::anyhow!("{e}"))? {
        let bundle = intel
            .indicator_bundle(&c.id, added_after)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let feed = FeedConfig::new(format!("hub:{}", c.name), "", FeedFormat::Stix);
        builder
            .load_feed_bytes(&feed, &bundle)
            .map_err(|e| anyhow::anyhow!("collection {}: {e}", c.name))?;
    }
    Ok(builder.build())
}

/// One watcher pass: rebuild the hub's set, retro-hunt what is new.
pub fn refresh(
    intel: &IntelStore,
    detection: &Detection,
    events: &dyn EventStore,
    limits: haechi_ioc::Limits,
    retro_days: u32,
) -> anyhow::Result<Pass> {
    let started = Instant::now();
    let (last_added, _) = intel.fingerprint().map_err(|e| anyhow::anyhow!("{e}"))?;
    let all = hub_indicators(intel, None, limits)?;
    let mut pass = Pass {
        indicators: all.len(),
        ..Pass::default()
    };
    detection.detector.replace_hub_indicators(all);
    let hunted_until = intel.meta(WATERMARK).map_err(|e| anyhow::anyhow!("{e}"))?;
    if retro_days > 0 && hunted_until.is_none_or(|h| h < last_added) {
        let fresh = hub_indicators(intel, hunted_until, limits)?;
        pass.new_indicators = fresh.len();
        if !fresh.is_empty() {
            retro_hunt(&fresh, detection, events, retro_days, &mut pass)?;
        }
    }
    intel
        .set_meta(WATERMARK, last_added)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pass.seconds = started.elapsed().as_secs_f64();
    Ok(pass)
}

/// Searches the last `days` of stored events for `fresh` and records the alerts.
pub fn retro_hunt(
    fresh: &IndicatorSet,
    detection: &Detection,
    events: &dyn EventStore,
    days: u32,
    pass: &mut Pass,
) -> anyhow::Result<()> {
    let from = Timestamp(Timestamp::now().0 - i64::from(days) * 86_400 * 1_000_000_000);
    for query in haechi_detect::retro::candidate_queries(fresh) {
        let found = events.search(&SearchRequest {
            query,
            from: Some(from),
            to: None,
            tenants: None,
            limit: RETRO_MAX_EVENTS,
        })?;
        pass.truncated |= found.total > found.events.len() as u64;
        pass.events_checked += found.events.len();
        let alerts = haechi_detect::retro::retro_alerts(fresh, &found.events);
        if !alerts.is_empty() {
            pass.alerts += alerts.len();
            detection.record(&alerts)?;
        }
    }
    Ok(())
}

/// Starts the watcher thread; it stops when `stop` is cancelled.
pub fn spawn_watcher(
    intel: Arc<IntelStore>,
    detection: Arc<Detection>,
    events: Arc<dyn EventStore>,
    limits: haechi_ioc::Limits,
    retro_days: u32,
    stop: tokio_util::sync::CancellationToken,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut seen = None;
        while !stop.is_cancelled() {
            match intel.fingerprint() {
                Ok(now) if Some(now) != seen => {
                    match refresh(&intel, &detection, events.as_ref(), limits, retro_days) {
                        Ok(p) => {
                            seen = Some(now);
                            tracing::info!(
                                indicators = p.indicators,
                                new = p.new_indicators,
                                events_checked = p.events_checked,
                                retro_alerts = p.alerts,
                                truncated = p.truncated,
                                seconds = p.seconds,
                                "sharing hub indicators loaded"
                            );
                        }
                        Err(e) => tracing::error!("sharing hub indicators: {e:#}"),
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!("sharing hub: {e}"),
            }
            std::thread::sleep(WATCH_INTERVAL);
        }
    })
}
