//! The risk index: observations → per-tenant buckets.

use crate::observation::is_local_address;
use crate::{Observation, RiskConfig, RiskError};
use haechi_event::{AlertSource, Level, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

/// A small multiplicative hasher for the interning tables (tenants, attackers): the keys
/// are short strings and not attacker-chosen in a way that matters for a batch
/// computation, so SipHash's DoS resistance is not needed here.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(26) ^ v).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(26) ^ u64::from(i)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }
    fn finish(&self) -> u64 {
        // Mix the high bits down: hashbrown takes its control byte from the top 7 bits and
        // its slot from the low bits.
        let h = self.0;
        h ^ (h >> 29) ^ (h >> 47)
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The index of one bucket split by component, in index points: the parts sum to the
/// bucket's index (each component's share of the raw risk `R`, times the index).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Components {
    pub severity: f64,
    pub ml: f64,
    pub indicators: f64,
    pub sources: f64,
    pub cross_tenant: f64,
}

/// What was counted in one bucket (before weighting and saturation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Sum of the observations' counts, every kind and level.
    pub alerts: u32,
    pub informational: u32,
    pub low: u32,
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
    /// Sum of the counts of indicator observations.
    pub indicators: u32,
    /// Sum of the counts of model observations at or above the ML threshold.
    pub model: u32,
    /// Sum of `score · log2(1 + count)` of those model observations.
    pub ml_sum: f64,
    /// Distinct attacker values in the bucket.
    pub sources: u32,
    /// Sum over the bucket's attackers of the number of *other* tenants that saw the same
    /// attacker within the correlation window.
    pub cross_tenant: u32,
    /// Attackers of the bucket seen at one other tenant or more.
    pub shared_attackers: u32,
}

impl Counts {
    /// High plus critical.
    pub fn severe(&self) -> u32 {
        self.high.saturating_add(self.critical)
    }
}

/// One bucket of one tenant's series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket (it covers `[start, start + bucket_secs)`).
    pub start: Timestamp,
    /// Risk index, 0–100.
    pub index: f64,
    /// The raw risk `R` before squashing.
    pub raw: f64,
    pub components: Components,
    pub counts: Counts,
}

/// Per tenant, its buckets in time order, one per bucket of the range (quiet buckets
/// included, with index 0).
pub type RiskSeries = BTreeMap<String, Vec<Bucket>>;

#[derive(Clone, Copy, Default)]
struct Acc {
    level_eff: [f64; 5],
    level_count: [u32; 5],
    alerts: u32,
    ml_sum: f64,
    model: u32,
    ioc_eff: f64,
    ioc_count: u32,
    sources: u32,
    cross: u32,
    shared: u32,
}

fn level_slot(l: Level) -> usize {
    match l {
        Level::Informational => 0,
        Level::Low => 1,
        Level::Medium => 2,
        Level::High => 3,
        Level::Critical => 4,
    }
}

/// Effective count of a merged alert: `log2(1 + count)` (1 for 1, 2 for 3, 10 for 1023).
pub fn effective_count(count: u32) -> f64 {
    (1.0 + count.max(1) as f64).log2()
}

/// Computes the buckets of every tenant for `[from, to)` (widened to bucket boundaries:
/// `from` floored, `to` ceiled, both on multiples of `bucket_secs` since the epoch).
///
/// Observations in `[from − correlation_window, from)` are used only as context for the
/// cross-institution component; earlier and later ones are ignored, so to recompute the
/// recent buckets incrementally, pass the observations from `from − correlation_window`
/// on. The output has every tenant that has an observation in the range or its context.
/// O(n + tenants × buckets + attackers); the order of `observations` does not matter.
pub fn compute(
    observations: &[Observation],
    from: Timestamp,
    to: Timestamp,
    cfg: &RiskConfig,
) -> Result<RiskSeries, RiskError> {
    cfg.validate()?;
    let bns = cfg.bucket_ns();
    let b0 = from.0.div_euclid(bns);
    let b_end = (to.0.div_euclid(bns)) + i64::from(to.0.rem_euclid(bns) != 0);
    if b_end <= b0 {
        return Ok(RiskSeries::new());
    }
    let w = cfg.buckets_in(cfg.correlation_window_secs) as i64;
    let ctx = w - 1; // context buckets before b0
    let cb0 = b0 - ctx;
    let n_out = (b_end - b0) as usize;
    let n_all = (b_end - cb0) as usize;

    let mut tenant_ids: FastMap<&str, u32> = FastMap::default();
    let mut tenants: Vec<&str> = Vec::new();
    let mut accs: Vec<Vec<Acc>> = Vec::new();
    // Owned keys: allocated one after the other as attackers are first seen, they sit
    // close together, while borrowed keys would point all over the observations.
    let mut attacker_ids: FastMap<Box<str>, u32> = FastMap::default();
    let mut n_attackers: u32 = 0;
    // (attacker, bucket in 0..n_all, tenant)
    let mut entries: Vec<(u32, u32, u32)> = Vec::with_capacity(observations.len());

    for o in observations {
        let b = o.time.0.div_euclid(bns);
        if b < cb0 || b >= b_end {
            continue;
        }
        let j = (b - cb0) as usize;
        let t = match tenant_ids.get(o.tenant.as_str()) {
            Some(&t) => t,
            None => {
                let t = tenants.len() as u32;
                tenant_ids.insert(o.tenant.as_str(), t);
                tenants.push(o.tenant.as_str());
                accs.push(vec![Acc::default(); n_out]);
                t
            }
        };
        if let Some(a) = o.attacker.as_deref() {
            let id = match attacker_ids.get(a) {
                Some(&id) => id,
                None => {
                    let id = if cfg.ignore_private_attackers && is_local_address(a) {
                        u32::MAX
                    } else {
                        n_attackers += 1;
                        n_attackers - 1
                    };
                    attacker_ids.insert(a.into(), id);
                    id
                }
            };
            if id != u32::MAX {
                entries.push((id, j as u32, t));
            }
        }
        if (j as i64) < ctx {
            continue;
        }
        let acc = &mut accs[t as usize][j - ctx as usize];
        let count = o.count.max(1);
        let eff = effective_count(count);
        let slot = level_slot(o.level);
        acc.level_eff[slot] += eff;
        acc.level_count[slot] = acc.level_count[slot].saturating_add(count);
        acc.alerts = acc.alerts.saturating_add(count);
        match o.kind {
            AlertSource::Indicator => {
                acc.ioc_eff += eff;
                acc.ioc_count = acc.ioc_count.saturating_add(count);
            }
            AlertSource::Model => {
                let score = o.score.unwrap_or(cfg.ml_threshold);
                if score >= cfg.ml_threshold {
                    acc.ml_sum += f64::from(score) * eff;
                    acc.model = acc.model.saturating_add(count);
                }
            }
            AlertSource::Sigma
            | AlertSource::Correlation
            | AlertSource::Device
            | AlertSource::Vuln
            | AlertSource::Domain => {}
        }
    }

    cross_tenant(
        &mut entries,
        n_all,
        n_attackers as usize,
        tenants.len(),
        w,
        ctx,
        &mut accs,
    );

    let mut out = RiskSeries::new();
    for (t, name) in tenants.iter().enumerate() {
        let series = accs[t]
            .iter()
            .enumerate()
            .map(|(i, acc)| finish(acc, Timestamp((b0 + i as i64) * bns), cfg))
            .collect();
        out.insert((*name).to_owned(), series);
    }
    Ok(out)
}

/// Fills `sources`, `cross` and `shared` of the accumulators from the attacker entries:
/// entries are grouped by attacker and ordered by bucket with two stable counting sorts,
/// then each attacker's sightings are scanned with a sliding window of `w` buckets that
/// keeps, per tenant, how many sightings are in the window.
fn cross_tenant(
    entries: &mut Vec<(u32, u32, u32)>,
    n_buckets: usize,
    n_attackers: usize,
    n_tenants: usize,
    w: i64,
    ctx: i64,
    accs: &mut [Vec<Acc>],
) {
    if entries.is_empty() {
        return;
    }
    let by_bucket = counting_sort(entries, n_buckets, |e| e.1 as usize);
    let sorted = counting_sort(&by_bucket, n_attackers, |e| e.0 as usize);
    drop(by_bucket);
    entries.clear();

    let mut in_window = vec![0u32; n_tenants];
    let mut stamp = vec![u64::MAX; n_tenants];
    let mut generation: u64 = 0;
    let mut g = 0;
    while g < sorted.len() {
        let attacker = sorted[g].0;
        let mut end = g;
        while end < sorted.len() && sorted[end].0 == attacker {
            end += 1;
        }
        let group = &sorted[g..end];
        let mut distinct: u32 = 0;
        let mut left = 0;
        let mut i = 0;
        while i < group.len() {
            let j = group[i].1 as i64;
            while left < i && (group[left].1 as i64) <= j - w {
                let t = group[left].2 as usize;
                in_window[t] -= 1;
                if in_window[t] == 0 {
                    distinct -= 1;
                }
                left += 1;
            }
            let mut k = i;
            while k < group.len() && group[k].1 as i64 == j {
                let t = group[k].2 as usize;
                if in_window[t] == 0 {
                    distinct += 1;
                }
                in_window[t] += 1;
                k += 1;
            }
            if j >= ctx {
                generation += 1;
                for e in &group[i..k] {
                    let t = e.2 as usize;
                    if stamp[t] == generation {
                        continue;
                    }
                    stamp[t] = generation;
                    let acc = &mut accs[t][(j - ctx) as usize];
                    acc.sources += 1;
                    let others = distinct - 1;
                    acc.cross = acc.cross.saturating_add(others);
                    acc.shared += u32::from(others > 0);
                }
            }
            i = k;
        }
        for e in &group[left..] {
            in_window[e.2 as usize] -= 1;
        }
        g = end;
    }
}

fn counting_sort<T: Copy>(items: &[T], n_keys: usize, key: impl Fn(&T) -> usize) -> Vec<T> {
    let mut start = vec![0usize; n_keys + 1];
    for it in items {
        start[key(it) + 1] += 1;
    }
    for k in 0..n_keys {
        start[k + 1] += start[k];
    }
    let mut out: Vec<T> = items.to_vec();
    for it in items {
        let k = key(it);
        out[start[k]] = *it;
        start[k] += 1;
    }
    out
}

/// `ln(1 + x)`, skipping the call for the common 0.
fn ln1p(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.ln_1p() }
}

fn finish(acc: &Acc, start: Timestamp, cfg: &RiskConfig) -> Bucket {
    if acc.alerts == 0 && acc.sources == 0 {
        return Bucket {
            start,
            ..Bucket::default()
        };
    }
    let lw = &cfg.level_weights;
    let severity: f64 = Level::ALL
        .iter()
        .map(|&l| lw.of(l) * ln1p(acc.level_eff[level_slot(l)]))
        .sum();
    let w = &cfg.weights;
    let parts = [
        w.severity * severity,
        w.ml * ln1p(acc.ml_sum),
        w.indicators * ln1p(acc.ioc_eff),
        w.sources * ln1p(f64::from(acc.sources)),
        w.cross_tenant * ln1p(f64::from(acc.cross)),
    ];
    let raw: f64 = parts.iter().sum();
    let index = 100.0 * (1.0 - (-raw / cfg.scale).exp());
    let share = if raw > 0.0 { index / raw } else { 0.0 };
    Bucket {
        start,
        index,
        raw,
        components: Components {
            severity: parts[0] * share,
            ml: parts[1] * share,
            indicators: parts[2] * share,
            sources: parts[3] * share,
            cross_tenant: parts[4] * share,
        },
        counts: Counts {
            alerts: acc.alerts,
            informational: acc.level_count[0],
            low: acc.level_count[1],
            medium: acc.level_count[2],
            high: acc.level_count[3],
            critical: acc.level_count[4],
            indicators: acc.ioc_count,
            model: acc.model,
            ml_sum: acc.ml_sum,
            sources: acc.sources,
            cross_tenant: acc.cross,
            shared_attackers: acc.shared,
        },
    }
}

/// The index of a raw risk: `100 · (1 − exp(−raw / scale))`.
pub fn squash(raw: f64, scale: f64) -> f64 {
    100.0 * (1.0 - (-raw / scale).exp())
}
