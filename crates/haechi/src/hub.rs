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
//!
//! Every pass also turns the hub indicators' hits since the last pass into STIX
//! **sightings** ([`record_sightings`]): one `sighting` per indicator, stored in the
//! indicator's own collection (so the partner who shared it, reading that collection,
//! sees it), marked with the indicator's TLP, re-versioned as hits accumulate (count,
//! first and last seen), sighted by the identity "Haechi control center". A sighting says
//! that and when the center saw the indicator, never which institution or event.

use crate::detection::{Detection, Seen};
use haechi_event::Timestamp;
use haechi_intel::store::IntelStore;
use haechi_ioc::{FeedConfig, FeedFormat, IndicatorSet, IndicatorSetBuilder};
use haechi_store::{EventStore, SearchRequest};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the store is looked at.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);
/// The most events one candidate query reads (the newest first), by default
/// (`[intel] retro_hunt_max_events`).
pub const RETRO_MAX_EVENTS: usize = 100_000;

/// How far back and how much a retro-hunt reads (`[intel] retro_hunt_days`,
/// `retro_hunt_max_events`).
#[derive(Debug, Clone, Copy)]
pub struct RetroLimits {
    pub days: u32,
    pub max_events: usize,
}
/// The store key of the retro-hunt watermark (the last `date_added` hunted).
const WATERMARK: &str = "retro_hunted_until";

/// What one pass did, for the log and the tests.
#[derive(Debug, Default)]
pub struct Pass {
    pub indicators: usize,
    pub new_indicators: usize,
    pub events_checked: usize,
    pub alerts: usize,
    /// Events the candidate queries matched (more than checked when truncated).
    pub matched: u64,
    pub truncated: bool,
    pub seconds: f64,
}

/// The indicators of every collection, newest versions added in (`added_after`,
/// `added_until`]. A collection that cannot be loaded (over a limit) is left out and
/// named in the second list; the others still load.
pub fn hub_indicators(
    intel: &IntelStore,
    added_after: Option<i64>,
    added_until: Option<i64>,
    limits: haechi_ioc::Limits,
) -> anyhow::Result<(IndicatorSet, Vec<String>)> {
    let mut builder = IndicatorSetBuilder::new(limits);
    let mut failed = Vec::new();
    for c in intel.collections().map_err(|e| anyhow::anyhow!("{e}"))? {
        let bundle = intel
            .indicator_bundle(&c.id, added_after, added_until)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let feed = FeedConfig::new(format!("hub:{}", c.name), "", FeedFormat::Stix);
        if let Err(e) = builder.load_feed_bytes(&feed, &bundle) {
            failed.push(format!("collection {}: {e}", c.name));
        }
    }
    Ok((builder.build(), failed))
}

/// One watcher pass: rebuild the hub's set, retro-hunt what is new.
pub fn refresh(
    intel: &IntelStore,
    detection: &Detection,
    events: &dyn EventStore,
    limits: haechi_ioc::Limits,
    retro: RetroLimits,
) -> anyhow::Result<Pass> {
    let started = Instant::now();
    let (last_added, _) = intel.fingerprint().map_err(|e| anyhow::anyhow!("{e}"))?;
    let (all, failed) = hub_indicators(intel, None, None, limits)?;
    for f in &failed {
        tracing::error!("sharing hub indicators: {f} (left out of the matcher)");
    }
    let mut pass = Pass {
        indicators: all.len(),
        ..Pass::default()
    };
    detection.detector.replace_hub_indicators(all);
    let hunted_until = intel.meta(WATERMARK).map_err(|e| anyhow::anyhow!("{e}"))?;
    if retro.days > 0 && hunted_until.is_none_or(|h| h < last_added) {
        // Exactly what arrived up to the fingerprint: what comes meanwhile is for the
        // next pass.
        let (fresh, _) = hub_indicators(intel, hunted_until, Some(last_added), limits)?;
        pass.new_indicators = fresh.len();
        if !fresh.is_empty() {
            retro_hunt(&fresh, detection, events, retro, &mut pass)?;
            record_pass(detection, &pass, started.elapsed().as_secs_f64());
        }
    }
    intel
        .set_meta(WATERMARK, last_added)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pass.seconds = started.elapsed().as_secs_f64();
    Ok(pass)
}

/// Keeps the pass in the state store, where the console shows it (a truncated hunt
/// misses alerts silently otherwise). A failure is logged: the hunt's alerts are stored.
fn record_pass(detection: &Detection, pass: &Pass, seconds: f64) {
    let run = haechi_store::state::retro::RetroHuntRun {
        new_indicators: pass.new_indicators as u64,
        events_checked: pass.events_checked as u64,
        alerts: pass.alerts as u64,
        matched: pass.matched,
        truncated: pass.truncated,
        seconds,
    };
    if let Err(e) = detection.alerts.record_retro_hunt(&run) {
        tracing::error!(error = %e, "the retro-hunt pass could not be recorded");
    }
}

/// Searches the last `days` of stored events for `fresh` and records the alerts: all of
/// them once the whole hunt succeeded (a failed search records nothing, and the next
/// pass hunts again), each (event, indicator) once however many candidate queries found
/// the event.
pub fn retro_hunt(
    fresh: &IndicatorSet,
    detection: &Detection,
    events: &dyn EventStore,
    retro: RetroLimits,
    pass: &mut Pass,
) -> anyhow::Result<()> {
    let from = Timestamp(Timestamp::now().0 - i64::from(retro.days) * 86_400 * 1_000_000_000);
    let mut alerts = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for query in haechi_detect::retro::candidate_queries(fresh) {
        let found = events.search(&SearchRequest {
            query,
            from: Some(from),
            to: None,
            tenants: None,
            limit: retro.max_events.max(1),
        })?;
        pass.matched += found.total;
        if found.total > found.events.len() as u64 {
            pass.truncated = true;
            tracing::warn!(
                matched = found.total,
                read = found.events.len(),
                "retro-hunt: a candidate query matched more events than are read; the newest were hunted"
            );
        }
        pass.events_checked += found.events.len();
        for alert in haechi_detect::retro::retro_alerts(fresh, &found.events) {
            let reference = alert.events.first().map(|e| (e.timestamp, e.id.clone()));
            let key = (
                alert.tenant.clone(),
                alert.rule_id.clone(),
                alert.entity.clone(),
                reference,
            );
            if seen.insert(key) {
                alerts.push(alert);
            }
        }
    }
    if !alerts.is_empty() {
        pass.alerts = alerts.len();
        detection.record(&alerts)?;
    }
    Ok(())
}

/// Whom Haechi's sightings name as the observer.
pub const CENTER_NAME: &str = "Haechi control center";

/// A STIX id that is always the same for `name`: `<kind>--<uuid from its SHA-256>`.
fn stable_id(kind: &str, name: &str) -> String {
    let digest = haechi_access::secret::sha256(format!("haechi:{kind}:{name}").as_bytes());
    format!("{kind}--{}", haechi_intel::uuid_from_digest(&digest))
}

/// Stores (or re-versions) one sighting per indicator hit; answers how many.
pub fn record_sightings(intel: &IntelStore, seen: Vec<Seen>) -> anyhow::Result<usize> {
    let mut written = 0;
    for s in seen {
        match record_sighting(intel, &s) {
            Ok(true) => written += 1,
            Ok(false) => {}
            Err(e) => tracing::error!(indicator = %s.indicator, "sighting not recorded: {e:#}"),
        }
    }
    Ok(written)
}

/// Stores the new version of one indicator's sighting and drops the previous one (the
/// newest carries the totals); `false` when the indicator or its collection is gone.
fn record_sighting(intel: &IntelStore, s: &Seen) -> anyhow::Result<bool> {
    use haechi_intel::store::{Filter, Versions};
    let err = |e: haechi_intel::store::StoreError| anyhow::anyhow!("{e}");
    let center = stable_id("identity", CENTER_NAME);
    let now = Timestamp::now().to_datetime();
    {
        let Ok(collection) = intel.collection(&s.collection) else {
            return Ok(false); // deleted meanwhile
        };
        let newest = |id: &str| -> anyhow::Result<Option<haechi_intel::store::Stored>> {
            Ok(intel
                .objects(
                    &collection.id,
                    &Filter {
                        ids: vec![id.to_owned()],
                        versions: Versions::Last,
                        limit: 1,
                        ..Filter::default()
                    },
                )
                .map_err(err)?
                .objects
                .pop())
        };
        let Some(indicator) = newest(&s.indicator)? else {
            return Ok(false);
        };
        let id = stable_id("sighting", &format!("{}/{}", collection.id, s.indicator));
        let (mut count, mut first, mut last, mut created) =
            (s.count, s.first.to_datetime(), s.last.to_datetime(), now);
        let previous = newest(&id)?;
        if let Some(previous) = &previous {
            let j = &previous.json;
            count += j["count"].as_u64().unwrap_or(0);
            let at = |k: &str| {
                j[k].as_str()
                    .and_then(haechi_event::parse_rfc3339)
                    .map(|t| t.to_datetime())
            };
            first = at("first_seen").map_or(first, |t| t.min(first));
            last = at("last_seen").map_or(last, |t| t.max(last));
            created = at("created").unwrap_or(created);
        }
        let tlp = indicator.tlp.unwrap_or(haechi_intel::Tlp::UNMARKED_DEFAULT);
        let objects = [
            haechi_intel::center_identity(&center, CENTER_NAME)?,
            haechi_intel::sighting(
                &id,
                &s.indicator,
                &center,
                count,
                first,
                last,
                tlp,
                created,
                now,
            )?,
        ];
        let added = intel
            .add_objects(&collection.id, &objects, SIGHTINGS_SOURCE)
            .map_err(err)?;
        if let Some(previous) = previous.filter(|_| added.stored > 0) {
            intel
                .delete(
                    &collection.id,
                    &id,
                    Some(&previous.version),
                    Some(SIGHTINGS_SOURCE),
                )
                .map_err(err)?;
        }
        Ok(true)
    }
}

/// What Haechi's sightings are marked as added by.
const SIGHTINGS_SOURCE: &str = "haechi:sightings";

/// Starts the watcher thread; it stops when `stop` is cancelled.
pub fn spawn_watcher(
    intel: Arc<IntelStore>,
    detection: Arc<Detection>,
    events: Arc<dyn EventStore>,
    limits: haechi_ioc::Limits,
    retro: RetroLimits,
    metrics: Arc<haechi_ingest::metrics::Metrics>,
    stop: tokio_util::sync::CancellationToken,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut seen = None;
        while !stop.is_cancelled() {
            match intel.fingerprint() {
                Ok(now) if Some(now) != seen => {
                    match refresh(&intel, &detection, events.as_ref(), limits, retro) {
                        Ok(p) => {
                            seen = Some(now);
                            if p.new_indicators > 0 {
                                metrics
                                    .retro_hunts
                                    .get_or_create(&haechi_ingest::metrics::TruncatedLabel {
                                        truncated: p.truncated.to_string(),
                                    })
                                    .inc();
                            }
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
                        Err(e) => {
                            tracing::error!("sharing hub indicators: {e:#}");
                            // Not again at once: the same failure would repeat.
                            std::thread::sleep(WATCH_INTERVAL * 15);
                        }
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!("sharing hub: {e}"),
            }
            let hits = detection.take_sightings();
            if !hits.is_empty() {
                match record_sightings(&intel, hits) {
                    Ok(n) => tracing::info!(sightings = n, "sharing hub sightings recorded"),
                    Err(e) => tracing::error!("sharing hub sightings: {e:#}"),
                }
            }
            std::thread::sleep(WATCH_INTERVAL);
        }
    })
}
