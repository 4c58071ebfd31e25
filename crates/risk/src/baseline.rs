//! Seasonal baseline (median and MAD per hour of day) and the robust anomaly score.

use crate::{Bucket, RiskConfig};
use haechi_event::Timestamp;
use serde::{Deserialize, Serialize};

pub(crate) const DAY_NS: i64 = 86_400 * 1_000_000_000;
pub(crate) const HOUR_NS: i64 = 3_600 * 1_000_000_000;

/// Median and median absolute deviation of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RobustStat {
    pub median: f64,
    pub mad: f64,
    /// Sample size.
    pub n: usize,
}

impl RobustStat {
    /// `None` for an empty sample. Reorders `values`.
    pub fn of(values: &mut [f64]) -> Option<RobustStat> {
        if values.is_empty() {
            return None;
        }
        let median = median(values);
        for v in values.iter_mut() {
            *v = (*v - median).abs();
        }
        let mad = median_in_place(values);
        Some(RobustStat {
            median,
            mad,
            n: values.len(),
        })
    }

    /// The robust spread `max(1.4826 · MAD, floor)` (1.4826 · MAD estimates the standard
    /// deviation of normal data).
    pub fn spread(&self, floor: f64) -> f64 {
        (1.4826 * self.mad).max(floor).max(f64::MIN_POSITIVE)
    }
}

fn median(values: &mut [f64]) -> f64 {
    median_in_place(values)
}

/// The median (mean of the two middle values for an even count) of a non-empty slice.
fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (left, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if n % 2 == 1 {
        m
    } else {
        let below = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + m) / 2.0
    }
}

/// A tenant's baseline: per UTC hour of day, the median and MAD of the index over the
/// trailing days, and the all-hours figures used when an hour has too few samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub hours: Vec<Option<RobustStat>>,
    pub global: Option<RobustStat>,
    /// The floor of the spread (`baseline_min_spread`).
    pub min_spread: f64,
}

/// What a baseline expects at a time: the median and the spread, and whether they come
/// from that hour of day (`seasonal`) or from the all-hours fallback.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    pub median: f64,
    pub spread: f64,
    pub seasonal: bool,
}

pub(crate) fn hour_of_day(t: Timestamp) -> usize {
    (t.0.rem_euclid(DAY_NS) / HOUR_NS) as usize
}

impl Baseline {
    /// Fits a baseline on `buckets` (all of them: the caller picks the trailing window).
    pub fn fit(buckets: &[Bucket], cfg: &RiskConfig) -> Baseline {
        let mut per_hour: Vec<Vec<f64>> = vec![Vec::new(); 24];
        let mut all = Vec::with_capacity(buckets.len());
        for b in buckets {
            per_hour[hour_of_day(b.start)].push(b.index);
            all.push(b.index);
        }
        Baseline {
            hours: per_hour
                .iter_mut()
                .map(|v| RobustStat::of(v).filter(|s| s.n >= cfg.baseline_min_hour_samples))
                .collect(),
            global: RobustStat::of(&mut all).filter(|s| s.n >= cfg.baseline_min_samples),
            min_spread: cfg.baseline_min_spread,
        }
    }

    /// The expectation at `t`, `None` when there is not enough history at all.
    pub fn expected(&self, t: Timestamp) -> Option<Expected> {
        let (stat, seasonal) = match self.hours.get(hour_of_day(t)).copied().flatten() {
            Some(s) => (s, true),
            None => (self.global?, false),
        };
        Some(Expected {
            median: stat.median,
            spread: stat.spread(self.min_spread),
            seasonal,
        })
    }

    /// Robust z of `index` at `t`: `(index − median) / spread`; 0 without history.
    pub fn z(&self, t: Timestamp, index: f64) -> f64 {
        self.expected(t)
            .map_or(0.0, |e| (index - e.median) / e.spread)
    }
}

/// The baseline in force for buckets of the UTC day that contains `t`: fitted on the
/// buckets of `series` (sorted by time) in the `baseline_days` full days before that day.
pub fn baseline_at(series: &[Bucket], t: Timestamp, cfg: &RiskConfig) -> Baseline {
    let day = t.0.div_euclid(DAY_NS);
    let lo = Timestamp((day - i64::from(cfg.baseline_days)) * DAY_NS);
    let hi = Timestamp(day * DAY_NS);
    let a = series.partition_point(|b| b.start < lo);
    let b = series.partition_point(|b| b.start < hi);
    Baseline::fit(&series[a..b], cfg)
}

/// The anomaly (robust z) of every bucket of `series` (sorted by time). Causal: the
/// baseline of a bucket is refitted once per UTC day from the `baseline_days` full days
/// before the bucket's day, so a bucket never sees itself or anything later.
pub fn anomalies(series: &[Bucket], cfg: &RiskConfig) -> Vec<f64> {
    anomalies_from(series, 0, cfg)
}

/// [`anomalies`] of `series[from..]` only (the history before `from` still feeds the
/// baselines): what a status of the latest buckets needs.
pub fn anomalies_from(series: &[Bucket], from: usize, cfg: &RiskConfig) -> Vec<f64> {
    let mut out = Vec::with_capacity(series.len().saturating_sub(from));
    let mut i = from;
    while i < series.len() {
        let day = series[i].start.0.div_euclid(DAY_NS);
        let base = baseline_at(series, series[i].start, cfg);
        while i < series.len() && series[i].start.0.div_euclid(DAY_NS) == day {
            out.push(base.z(series[i].start, series[i].index));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        let s = RobustStat::of(&mut [1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert_eq!((s.median, s.mad, s.n), (3.0, 1.0, 5));
        assert!(RobustStat::of(&mut []).is_none());
    }
}
