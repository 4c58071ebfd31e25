//! Features of a bucket for the incident model, and labels from incidents.

use crate::baseline::anomalies;
use crate::{Bucket, RiskConfig};
use haechi_event::Timestamp;
use serde::{Deserialize, Serialize};

/// A known incident of one tenant, `[start, end]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub tenant: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Number of features.
pub const N_FEATURES: usize = 14;

/// The features of a bucket, in order. Counts are `ln(1 + x)`; "1h"/"6h" are sums over
/// the trailing hour/six hours/day, the bucket included.
pub const FEATURE_NAMES: [&str; N_FEATURES] = [
    "index",
    "index_max_1h",
    "anomaly_z",
    "slope_1h",
    "severe_1h",
    "severe_6h",
    "alerts_1h",
    "indicators_1h",
    "ml_1h",
    "sources_1h",
    "cross_tenant_1h",
    "cross_tenant_6h",
    "severe_24h",
    "alerts_24h",
];

/// One feature vector.
pub type Features = [f64; N_FEATURES];

/// The anomaly is clamped to ±this in the features, so that one huge z (a tenant with a
/// flat-zero baseline) does not dominate the fit.
pub const MAX_Z: f64 = 10.0;

/// Trailing sums over a fixed window of buckets via a prefix sum.
fn rolling(values: impl Iterator<Item = f64>, window: usize) -> Vec<f64> {
    let v: Vec<f64> = values.collect();
    let mut prefix = Vec::with_capacity(v.len() + 1);
    prefix.push(0.0);
    for x in &v {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + x);
    }
    (0..v.len())
        .map(|i| prefix[i + 1] - prefix[(i + 1).saturating_sub(window)])
        .collect()
}

/// Slope (index points per hour) of the least-squares line through the trailing hour of
/// buckets ending at `i` (0 with fewer than two buckets).
pub fn slope_per_hour(series: &[Bucket], i: usize, cfg: &RiskConfig) -> f64 {
    let n = cfg.buckets_in(3600).min(i + 1);
    if n < 2 {
        return 0.0;
    }
    let ys = &series[i + 1 - n..=i];
    let nf = n as f64;
    let mx = (nf - 1.0) / 2.0;
    let my = ys.iter().map(|b| b.index).sum::<f64>() / nf;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (k, b) in ys.iter().enumerate() {
        let dx = k as f64 - mx;
        sxy += dx * (b.index - my);
        sxx += dx * dx;
    }
    sxy / sxx * (3600.0 / cfg.bucket_secs as f64)
}

/// The unweighted alert count (sum of `counts.alerts`) over the trailing hour of every
/// bucket: the naive baseline's score.
pub fn alerts_last_hour(series: &[Bucket], cfg: &RiskConfig) -> Vec<f64> {
    rolling(
        series.iter().map(|b| f64::from(b.counts.alerts)),
        cfg.buckets_in(3600),
    )
}

/// The features of every bucket of one tenant's `series` (sorted, dense), with the
/// anomaly from [`anomalies`]. Causal: bucket `i` uses buckets `..=i` only.
pub fn features(series: &[Bucket], cfg: &RiskConfig) -> Vec<Features> {
    let z = anomalies(series, cfg);
    features_with(series, &z, cfg)
}

/// [`features`] with the anomalies already computed.
pub fn features_with(series: &[Bucket], z: &[f64], cfg: &RiskConfig) -> Vec<Features> {
    let h1 = cfg.buckets_in(3600);
    let h6 = cfg.buckets_in(6 * 3600);
    let h24 = cfg.buckets_in(24 * 3600);
    let severe = |w| rolling(series.iter().map(|b| f64::from(b.counts.severe())), w);
    let (sev1, sev6, sev24) = (severe(h1), severe(h6), severe(h24));
    // Intrusions take hours to days from foothold to impact: a day of memory.
    let alerts24 = rolling(series.iter().map(|b| f64::from(b.counts.alerts)), h24);
    let alerts1 = alerts_last_hour(series, cfg);
    let ioc1 = rolling(series.iter().map(|b| f64::from(b.counts.indicators)), h1);
    let ml1 = rolling(series.iter().map(|b| b.counts.ml_sum), h1);
    let src1 = rolling(series.iter().map(|b| f64::from(b.counts.sources)), h1);
    let cross = |w| rolling(series.iter().map(|b| f64::from(b.counts.cross_tenant)), w);
    let (x1, x6) = (cross(h1), cross(h6));
    let mut max_q: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    (0..series.len())
        .map(|i| {
            // Sliding-window maximum of the index over the trailing hour.
            while max_q
                .back()
                .is_some_and(|&k| series[k].index <= series[i].index)
            {
                max_q.pop_back();
            }
            max_q.push_back(i);
            while max_q.front().is_some_and(|&k| k + h1 <= i) {
                max_q.pop_front();
            }
            let max1 = series[max_q[0]].index;
            [
                series[i].index,
                max1,
                z.get(i).copied().unwrap_or(0.0).clamp(-MAX_Z, MAX_Z),
                slope_per_hour(series, i, cfg),
                sev1[i].ln_1p(),
                sev6[i].ln_1p(),
                alerts1[i].ln_1p(),
                ioc1[i].ln_1p(),
                ml1[i].ln_1p(),
                src1[i].ln_1p(),
                x1[i].ln_1p(),
                x6[i].ln_1p(),
                sev24[i].ln_1p(),
                alerts24[i].ln_1p(),
            ]
        })
        .collect()
}

/// The label of every bucket of one tenant's `series` given that tenant's `incidents`:
/// `None` when the bucket `[start, end)` overlaps an incident `[start, end]` (excluded
/// from training and scoring), `Some(true)` when an incident starts in
/// `[end, end + horizon)`, else `Some(false)`.
pub fn labels(series: &[Bucket], incidents: &[&Incident], cfg: &RiskConfig) -> Vec<Option<bool>> {
    let mut inc: Vec<(i64, i64)> = incidents.iter().map(|i| (i.start.0, i.end.0)).collect();
    inc.sort_unstable();
    // prefix_max_end[k] = max end of the first k incidents (by start).
    let mut prefix_max_end = Vec::with_capacity(inc.len() + 1);
    prefix_max_end.push(i64::MIN);
    for &(_, e) in &inc {
        let m = prefix_max_end.last().copied().unwrap_or(i64::MIN).max(e);
        prefix_max_end.push(m);
    }
    let bns = cfg.bucket_ns();
    let hns = cfg.horizon_secs as i64 * 1_000_000_000;
    series
        .iter()
        .map(|b| {
            let (s, e) = (b.start.0, b.start.0 + bns);
            let started_before_end = inc.partition_point(|i| i.0 < e);
            if prefix_max_end[started_before_end] >= s {
                return None;
            }
            Some(inc.get(started_before_end).is_some_and(|i| i.0 < e + hns))
        })
        .collect()
}
