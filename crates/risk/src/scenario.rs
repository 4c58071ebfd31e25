//! The evaluation scenario: real attack samples replayed at known times into the
//! background traffic of several institutions.
//!
//! The public data sets carry no incident timelines, so the incident model is evaluated
//! on a simulated calendar built from real parts (see `docs/models/risk.md` for the exact
//! recipe and the figures):
//!
//! * **Samples** are real files (EVTX attack recordings, log files) that the caller has
//!   parsed and run through Haechi's real detection (Sigma rules, threat-intel feeds,
//!   models) *once*; a [`Sample`] keeps the detections with their offsets from the
//!   sample's first event. Replaying a sample at time `t` for tenant `x` emits those
//!   detections at `t + offset` (the sample's span compressed to at most
//!   [`ScenarioConfig::max_sample_secs`]). Detection of a single event does not depend on
//!   when it is replayed, so this gives the alerts a full replay would give, except that
//!   correlation rules across replays are not re-run and identical alerts are not merged.
//! * **Background**: every tenant has a size (uniform 0.5–2.0) and an hourly event rate
//!   `background_events_per_hour × size × diurnal(hour) × weekly(day)` (diurnal: a bump
//!   around 13:00 UTC over a floor of 25 %; weekends 40 %). Each background event is a
//!   record drawn uniformly from the background pool; its detections (most records have
//!   none) are emitted. Attacker values of background detections are made tenant-specific
//!   (`tenant/value`), so background never links institutions: cross-institution signal
//!   comes from campaigns only — the assumption the scenario tests.
//! * **Campaigns** arrive as a Poisson process (`campaigns_per_day`). A campaign gains a
//!   foothold at 1..=`max_tenants_per_campaign` distinct tenants within two hours: each
//!   replays a random *foothold* sample (execution, persistence, privilege escalation,
//!   defence evasion, credential access, discovery); the first tenant's foothold opens
//!   the campaign. With probability `incident_share`
//!   the campaign becomes an **incident** at one of its tenants: an *incident* sample
//!   (lateral movement, command and control, impact, full APT chains) is replayed after a
//!   lead time drawn uniformly from `lead_hours`. Between foothold and incident the
//!   intrusion progresses at the victim: 0..=`max_progress_stages` further early-stage
//!   samples are replayed there at uniform random times. With probability
//!   `1 − precursor_share` the victim shows nothing before the incident (no foothold, no
//!   progression: the intrusion gave no early warning there). Campaigns that do not
//!   become incidents stop after their footholds (blocked, or abandoned). The incident is
//!   `[first, last]` detection of the incident replay. Attacker values of a campaign are
//!   `campaign<N>/value`, shared by its tenants.
//!
//! Everything is drawn from two seeded splitmix64 streams, one for the background and one
//! for the campaigns (so the campaign calendar does not move when the background pool
//! changes): the same pools, configuration and seed give the same calendar.

use crate::{Incident, Observation};
use haechi_event::{AlertSource, Level, Timestamp};
use serde::{Deserialize, Serialize};

/// One detection of a sample, at its offset from the sample's first event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleDetection {
    pub offset_secs: f64,
    pub kind: AlertSource,
    pub level: Level,
    pub attacker: Option<String>,
    pub score: Option<f32>,
}

/// A real sample (a file, or one record of a background file) with its detections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub name: String,
    /// Events in the sample.
    pub events: u64,
    /// Seconds from its first to its last event.
    pub span_secs: f64,
    pub detections: Vec<SampleDetection>,
}

/// The three pools of samples.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    /// One sample per background record.
    pub background: Vec<Sample>,
    /// Early-stage attack samples.
    pub foothold: Vec<Sample>,
    /// Late-stage attack samples; replaying one is an incident.
    pub incident: Vec<Sample>,
}

/// The knobs of the calendar (all documented in the module essay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioConfig {
    pub tenants: usize,
    pub days: u32,
    /// Midnight UTC of the first day.
    pub start: Timestamp,
    pub seed: u64,
    pub background_events_per_hour: f64,
    pub campaigns_per_day: f64,
    pub max_tenants_per_campaign: usize,
    pub incident_share: f64,
    pub precursor_share: f64,
    pub lead_hours: (f64, f64),
    /// At most this many further early-stage samples at the victim between the foothold
    /// and the incident (uniform 0..=max).
    pub max_progress_stages: usize,
    pub max_sample_secs: f64,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            tenants: 8,
            days: 56,
            // Monday 2026-01-05T00:00:00Z
            start: Timestamp(1_767_571_200 * 1_000_000_000),
            seed: 20_261_123,
            background_events_per_hour: 2_000.0,
            campaigns_per_day: 2.0,
            max_tenants_per_campaign: 3,
            incident_share: 0.4,
            precursor_share: 0.75,
            lead_hours: (0.5, 12.0),
            max_progress_stages: 3,
            max_sample_secs: 1_800.0,
        }
    }
}

/// What happened in one campaign (for the report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: u32,
    pub start: Timestamp,
    /// `(tenant, sample name)` of each foothold replayed.
    pub footholds: Vec<(String, String)>,
    /// The incident, if the campaign became one: (tenant, sample, lead hours, whether
    /// the victim's foothold was replayed).
    pub incident: Option<(String, String, f64, bool)>,
}

/// The generated calendar.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub observations: Vec<Observation>,
    pub incidents: Vec<Incident>,
    pub campaigns: Vec<Campaign>,
    pub background_events: u64,
    pub attack_events: u64,
    pub end: Timestamp,
}

/// splitmix64, the PRNG of the scenario.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Poisson(λ): Knuth's product method for small λ, a rounded normal approximation
    /// (clamped at 0) above 30, where it is accurate enough for event counts.
    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            // Box–Muller
            let u1 = self.unit().max(f64::MIN_POSITIVE);
            let u2 = self.unit();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            return (lambda + z * lambda.sqrt()).round().max(0.0) as u64;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.unit();
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }
}

const NANOS: f64 = 1e9;
const HOUR_NS: i64 = 3_600_000_000_000;

/// Relative background activity at `hour` (0–23, UTC) on `weekday` (0 = Monday).
pub fn activity(hour: u32, weekday: u32) -> f64 {
    let d = (hour as f64 - 13.0) / 4.0;
    let diurnal = 0.25 + 0.75 * (-d * d).exp();
    let weekly = if weekday >= 5 { 0.4 } else { 1.0 };
    diurnal * weekly
}

/// Builds the calendar. Pools must not be empty (the foothold and incident pools need
/// at least one sample with a detection each, or the scenario has nothing to predict).
pub fn generate(cfg: &ScenarioConfig, pools: &Pools) -> Result<Scenario, String> {
    if cfg.tenants == 0 || cfg.days == 0 {
        return Err("the scenario needs at least one tenant and one day".into());
    }
    for (name, pool) in [
        ("background", &pools.background),
        ("foothold", &pools.foothold),
        ("incident", &pools.incident),
    ] {
        if !pool.iter().any(|s| !s.detections.is_empty()) {
            return Err(format!("the {name} pool has no sample with a detection"));
        }
    }
    let tenants: Vec<String> = (0..cfg.tenants)
        .map(|i| format!("institution-{:02}", i + 1))
        .collect();
    let mut out = Scenario {
        end: Timestamp(cfg.start.0 + i64::from(cfg.days) * 24 * HOUR_NS),
        ..Scenario::default()
    };
    // Two independent streams: the campaign calendar does not move when the background
    // pool (or what detection finds in it) changes.
    background(cfg, pools, &tenants, &mut Rng(cfg.seed), &mut out);
    campaigns(
        cfg,
        pools,
        &tenants,
        &mut Rng(cfg.seed ^ 0x6361_6d70_6169_676e),
        &mut out,
    );
    out.observations.retain(|o| o.time < out.end);
    out.observations.sort_by_key(|o| o.time);
    out.incidents.retain(|i| i.start < out.end);
    out.incidents.sort_by_key(|i| i.start);
    Ok(out)
}

fn background(
    cfg: &ScenarioConfig,
    pools: &Pools,
    tenants: &[String],
    rng: &mut Rng,
    out: &mut Scenario,
) {
    let sizes: Vec<f64> = tenants.iter().map(|_| rng.between(0.5, 2.0)).collect();
    let hours = cfg.days as i64 * 24;
    for (t, tenant) in tenants.iter().enumerate() {
        for h in 0..hours {
            let rate = cfg.background_events_per_hour
                * sizes[t]
                * activity((h % 24) as u32, ((h / 24) % 7) as u32);
            let n = rng.poisson(rate);
            out.background_events += n;
            let hour_start = cfg.start.0 + h * HOUR_NS;
            for _ in 0..n {
                let sample = &pools.background[rng.below(pools.background.len())];
                if sample.detections.is_empty() {
                    continue;
                }
                let at = hour_start + (rng.unit() * HOUR_NS as f64) as i64;
                emit(sample, tenant, at, 1.0, &|a| format!("{tenant}/{a}"), out);
            }
        }
    }
}

fn campaigns(
    cfg: &ScenarioConfig,
    pools: &Pools,
    tenants: &[String],
    rng: &mut Rng,
    out: &mut Scenario,
) {
    let span_ns = cfg.days as f64 * 24.0 * HOUR_NS as f64;
    let n = rng.poisson(cfg.campaigns_per_day * cfg.days as f64);
    let mut starts: Vec<i64> = (0..n)
        .map(|_| cfg.start.0 + (rng.unit() * span_ns) as i64)
        .collect();
    starts.sort_unstable();
    for (id, start) in starts.into_iter().enumerate() {
        let id = id as u32;
        let attacker = move |a: &str| format!("campaign{id}/{a}");
        let k = 1 + rng.below(cfg.max_tenants_per_campaign.clamp(1, tenants.len()));
        let mut targets: Vec<usize> = Vec::with_capacity(k);
        while targets.len() < k {
            let t = rng.below(tenants.len());
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        let becomes_incident = rng.unit() < cfg.incident_share;
        let victim = targets[0];
        let victim_warned = !becomes_incident || rng.unit() < cfg.precursor_share;
        let mut record = Campaign {
            id,
            start: Timestamp(start),
            footholds: Vec::new(),
            incident: None,
        };
        for &t in &targets {
            // The victim's foothold opens the campaign, so that everything the victim
            // shows comes before its incident; the others follow within two hours.
            let jitter = (rng.unit() * 2.0 * HOUR_NS as f64) as i64;
            let at = if t == victim { start } else { start + jitter };
            let sample = pick_with_detections(&pools.foothold, rng);
            if t == victim && !victim_warned {
                continue;
            }
            out.attack_events += sample.events;
            emit(
                sample,
                &tenants[t],
                at,
                compression(cfg, sample),
                &attacker,
                out,
            );
            record
                .footholds
                .push((tenants[t].clone(), sample.name.clone()));
        }
        if becomes_incident {
            let lead = rng.between(cfg.lead_hours.0, cfg.lead_hours.1);
            let at = start + (lead * HOUR_NS as f64) as i64;
            // The intrusion progresses at the victim: further early-stage samples at
            // random times between the foothold and the incident.
            let stages = if victim_warned {
                rng.below(cfg.max_progress_stages + 1)
            } else {
                0
            };
            let mut times: Vec<i64> = (0..stages)
                .map(|_| start + (rng.unit() * (at - start) as f64) as i64)
                .collect();
            times.sort_unstable();
            for t in times {
                let sample = pick_with_detections(&pools.foothold, rng);
                out.attack_events += sample.events;
                emit(
                    sample,
                    &tenants[victim],
                    t,
                    compression(cfg, sample),
                    &attacker,
                    out,
                );
                record
                    .footholds
                    .push((tenants[victim].clone(), sample.name.clone()));
            }
            let sample = pick_with_detections(&pools.incident, rng);
            let factor = compression(cfg, sample);
            out.attack_events += sample.events;
            let first = sample
                .detections
                .iter()
                .map(|d| d.offset_secs)
                .fold(f64::INFINITY, f64::min);
            let last = sample
                .detections
                .iter()
                .map(|d| d.offset_secs)
                .fold(0.0, f64::max);
            emit(sample, &tenants[victim], at, factor, &attacker, out);
            out.incidents.push(Incident {
                tenant: tenants[victim].clone(),
                start: Timestamp(at + (first * factor * NANOS) as i64),
                end: Timestamp(at + (last * factor * NANOS) as i64),
            });
            record.incident = Some((
                tenants[victim].clone(),
                sample.name.clone(),
                lead,
                victim_warned,
            ));
        }
        out.campaigns.push(record);
    }
}

/// The factor that squeezes a sample's span into `max_sample_secs` (1 if it fits).
fn compression(cfg: &ScenarioConfig, sample: &Sample) -> f64 {
    if sample.span_secs > cfg.max_sample_secs && sample.span_secs > 0.0 {
        cfg.max_sample_secs / sample.span_secs
    } else {
        1.0
    }
}

/// A random sample that has at least one detection (`generate` checked one exists).
fn pick_with_detections<'p>(pool: &'p [Sample], rng: &mut Rng) -> &'p Sample {
    loop {
        let s = &pool[rng.below(pool.len())];
        if !s.detections.is_empty() {
            return s;
        }
    }
}

fn emit(
    sample: &Sample,
    tenant: &str,
    at: i64,
    factor: f64,
    attacker: &dyn Fn(&str) -> String,
    out: &mut Scenario,
) {
    for d in &sample.detections {
        out.observations.push(Observation {
            tenant: tenant.to_owned(),
            time: Timestamp(at + (d.offset_secs * factor * NANOS) as i64),
            kind: d.kind,
            level: d.level,
            count: 1,
            attacker: d.attacker.as_deref().map(attacker),
            score: d.score,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, detections: &[(f64, Level, Option<&str>)]) -> Sample {
        Sample {
            name: name.into(),
            events: detections.len() as u64 + 1,
            span_secs: detections.iter().map(|d| d.0).fold(0.0, f64::max),
            detections: detections
                .iter()
                .map(|(o, l, a)| SampleDetection {
                    offset_secs: *o,
                    kind: AlertSource::Sigma,
                    level: *l,
                    attacker: a.map(str::to_owned),
                    score: None,
                })
                .collect(),
        }
    }

    fn pools() -> Pools {
        Pools {
            background: vec![
                sample("quiet", &[]),
                sample("noisy", &[(0.0, Level::Low, Some("10.0.0.1"))]),
            ],
            foothold: vec![sample("foothold", &[(0.0, Level::Medium, Some("1.2.3.4"))])],
            incident: vec![sample(
                "impact",
                &[
                    (10.0, Level::High, Some("1.2.3.4")),
                    (7200.0, Level::Critical, None),
                ],
            )],
        }
    }

    fn small() -> ScenarioConfig {
        ScenarioConfig {
            tenants: 4,
            days: 14,
            background_events_per_hour: 20.0,
            campaigns_per_day: 3.0,
            ..ScenarioConfig::default()
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_calendar() {
        let a = generate(&small(), &pools()).unwrap();
        let b = generate(&small(), &pools()).unwrap();
        assert_eq!(a.observations, b.observations);
        assert_eq!(a.incidents, b.incidents);
        let other = generate(&ScenarioConfig { seed: 7, ..small() }, &pools()).unwrap();
        assert_ne!(a.observations, other.observations);
    }

    #[test]
    fn incidents_follow_their_campaign_and_are_compressed() {
        let s = generate(&small(), &pools()).unwrap();
        assert!(
            !s.incidents.is_empty(),
            "42 campaigns at a 40 % share give incidents"
        );
        for c in &s.campaigns {
            if let Some((tenant, _, lead, _)) = &c.incident {
                let inc = s
                    .incidents
                    .iter()
                    .find(|i| &i.tenant == tenant && i.start.0 >= c.start.0)
                    .expect("the incident is recorded");
                assert!((0.5..=12.0).contains(lead));
                // the 7,200 s sample is squeezed into 1,800 s
                let len = (inc.end.0 - inc.start.0) as f64 / NANOS;
                assert!(len <= 1_800.0 + 1.0, "{len}");
            }
        }
        assert!(s.observations.windows(2).all(|w| w[0].time <= w[1].time));
    }

    #[test]
    fn background_attackers_are_tenant_specific_and_campaign_attackers_shared() {
        let s = generate(&small(), &pools()).unwrap();
        let low: Vec<&Observation> = s
            .observations
            .iter()
            .filter(|o| o.level == Level::Low)
            .collect();
        assert!(!low.is_empty());
        assert!(
            low.iter()
                .all(|o| o.attacker.as_deref() == Some(format!("{}/10.0.0.1", o.tenant).as_str()))
        );
        let campaign_attackers = s
            .observations
            .iter()
            .filter_map(|o| o.attacker.as_deref())
            .filter(|a| a.starts_with("campaign"))
            .count();
        assert!(campaign_attackers > 0);
        assert!(s.background_events > 0);
    }

    #[test]
    fn empty_pools_are_refused() {
        let mut p = pools();
        p.incident[0].detections.clear();
        let err = generate(&small(), &p).unwrap_err();
        assert!(err.contains("incident pool"), "{err}");
    }
}
