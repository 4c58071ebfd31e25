//! Evaluation of the incident model against the naive alert-count baseline.

use crate::incident::{Dataset, IncidentModel, best_threshold};
use crate::{Incident, RiskConfig, RiskError, RiskSeries};
use haechi_event::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One scored bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub tenant: String,
    /// The bucket is `[start, end)`; the prediction is made at `end`.
    pub start: Timestamp,
    pub end: Timestamp,
    /// What the threshold applies to (the probability for the model, the count for the
    /// baseline) and what ROC AUC ranks by.
    pub score: f64,
    /// The probability used for the Brier score.
    pub probability: f64,
    /// `None` inside an incident (not scored).
    pub label: Option<bool>,
}

/// Figures of one predictor on the test side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Positive means `score ≥ threshold`.
    pub threshold: f64,
    /// Labelled test buckets and how many are positive.
    pub buckets: usize,
    pub positives: usize,
    pub true_positives: usize,
    pub false_positives: usize,
    pub false_negatives: usize,
    pub true_negatives: usize,
    /// 0 when nothing is predicted positive.
    pub precision: f64,
    /// 0 when there are no positives.
    pub recall: f64,
    pub f1: f64,
    /// Mean of `(probability − label)²`.
    pub brier: f64,
    /// ROC AUC of `score` (ties count one half); `None` with one class only.
    pub auc: Option<f64>,
    /// Test incidents (start at or after the split, tenant scored).
    pub incidents: usize,
    /// Incidents with a bucket at or over the threshold in the horizon before them.
    pub anticipated: usize,
    pub missed: usize,
    /// Over anticipated incidents: `start − end of the first bucket over the threshold`
    /// among the labelled buckets whose end is in `(start − horizon, start]`.
    pub mean_lead_secs: Option<f64>,
    pub median_lead_secs: Option<f64>,
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula with average ranks for ties.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|&&y| y).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        let avg = (i + 1 + j) as f64 / 2.0; // ranks i+1 ..= j
        rank_sum += avg * order[i..j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j;
    }
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Scores predictions: classification figures over the labelled predictions whose bucket
/// starts at or after `split`; lead times over the incidents that start at or after
/// `split` (of tenants present in `predictions`), using every labelled prediction of the
/// tenant whose end lies in `(start − horizon, start]`, whichever side of the split.
pub fn score(
    predictions: &[Prediction],
    incidents: &[Incident],
    threshold: f64,
    horizon_secs: u64,
    split: Timestamp,
) -> Metrics {
    let test: Vec<&Prediction> = predictions
        .iter()
        .filter(|p| p.label.is_some() && p.start >= split)
        .collect();
    let ys: Vec<bool> = test.iter().map(|p| p.label == Some(true)).collect();
    let scores: Vec<f64> = test.iter().map(|p| p.score).collect();
    let (mut tp, mut fp, mut fneg, mut tn) = (0, 0, 0, 0);
    let mut brier = 0.0;
    for (p, &y) in test.iter().zip(&ys) {
        match (p.score >= threshold, y) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, true) => fneg += 1,
            (false, false) => tn += 1,
        }
        brier += (p.probability - f64::from(u8::from(y))).powi(2);
    }
    let n = test.len();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fneg);
    let f1 = ratio(2 * tp, 2 * tp + fp + fneg);

    let mut by_tenant: HashMap<&str, Vec<&Prediction>> = HashMap::new();
    for p in predictions.iter().filter(|p| p.label.is_some()) {
        by_tenant.entry(p.tenant.as_str()).or_default().push(p);
    }
    for v in by_tenant.values_mut() {
        v.sort_by_key(|p| p.end);
    }
    let h = horizon_secs as i64 * 1_000_000_000;
    let (mut n_inc, mut leads) = (0, Vec::new());
    for inc in incidents.iter().filter(|i| i.start >= split) {
        let Some(ps) = by_tenant.get(inc.tenant.as_str()) else {
            continue;
        };
        n_inc += 1;
        let lo = ps.partition_point(|p| p.end.0 <= inc.start.0 - h);
        let hi = ps.partition_point(|p| p.end.0 <= inc.start.0);
        if let Some(p) = ps[lo..hi].iter().find(|p| p.score >= threshold) {
            leads.push((inc.start.0 - p.end.0) as f64 / 1e9);
        }
    }
    let anticipated = leads.len();
    let mean_lead_secs =
        (!leads.is_empty()).then(|| leads.iter().sum::<f64>() / leads.len() as f64);
    Metrics {
        threshold,
        buckets: n,
        positives: tp + fneg,
        true_positives: tp,
        false_positives: fp,
        false_negatives: fneg,
        true_negatives: tn,
        precision,
        recall,
        f1,
        brier: if n == 0 { 0.0 } else { brier / n as f64 },
        auc: roc_auc(&scores, &ys),
        incidents: n_inc,
        anticipated,
        missed: n_inc - anticipated,
        mean_lead_secs,
        median_lead_secs: median(&mut leads),
    }
}

/// One count level of the naive baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountLevel {
    /// [`CountBaseline::level`] of the counts in it.
    pub level: u32,
    pub buckets: usize,
    pub positives: usize,
    /// `(positives + prior) / (buckets + 1)`.
    pub probability: f64,
}

/// The naive baseline: the unweighted alert count of the trailing hour. "Positive" when
/// the count is at least `threshold` (max F1 on the training side); its probability, for
/// the Brier score, is the training-side positive rate of the count's level (0; 1; 2–3;
/// 4–7; …, i.e. `1 + ⌊log2 count⌋`), shrunk by one pseudo-bucket towards the overall
/// training rate `prior`; a level never seen in training takes the nearest seen level
/// below it (or `prior` if none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountBaseline {
    pub threshold: f64,
    pub prior: f64,
    pub levels: Vec<CountLevel>,
}

impl CountBaseline {
    pub fn level(count: f64) -> u32 {
        if count < 1.0 {
            0
        } else {
            1 + count.log2().floor().min(62.0) as u32
        }
    }

    pub fn fit(counts: &[f64], labels: &[bool]) -> CountBaseline {
        let prior = if labels.is_empty() {
            0.0
        } else {
            labels.iter().filter(|&&y| y).count() as f64 / labels.len() as f64
        };
        let mut levels: Vec<CountLevel> = Vec::new();
        for (&c, &y) in counts.iter().zip(labels) {
            let l = CountBaseline::level(c);
            let at = match levels.binary_search_by_key(&l, |x| x.level) {
                Ok(i) => i,
                Err(i) => {
                    levels.insert(
                        i,
                        CountLevel {
                            level: l,
                            buckets: 0,
                            positives: 0,
                            probability: 0.0,
                        },
                    );
                    i
                }
            };
            levels[at].buckets += 1;
            levels[at].positives += usize::from(y);
        }
        for l in &mut levels {
            l.probability = (l.positives as f64 + prior) / (l.buckets as f64 + 1.0);
        }
        CountBaseline {
            threshold: best_threshold(counts, labels).0,
            prior,
            levels,
        }
    }

    pub fn probability(&self, count: f64) -> f64 {
        let l = CountBaseline::level(count);
        let i = self.levels.partition_point(|x| x.level <= l);
        if i == 0 {
            self.prior
        } else {
            self.levels[i - 1].probability
        }
    }
}

/// Sizes of a side of the split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub buckets: usize,
    pub positives: usize,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub split: Timestamp,
    pub horizon_secs: u64,
    pub bucket_secs: u64,
    pub train: Side,
    pub test: Side,
    pub model: Metrics,
    pub baseline: Metrics,
    pub incident_model: IncidentModel,
    pub count_baseline: CountBaseline,
}

/// Trains the incident model and the count baseline on the buckets whose label window
/// ends by `split` (`end + horizon ≤ split`), picks both thresholds there (max F1), and
/// scores both on the buckets that start at or after `split` (see [`score`]). Buckets
/// inside incidents are left out everywhere; buckets between the two sides (their label
/// window straddles the split) are used only for lead times.
pub fn evaluate(
    series: &RiskSeries,
    incidents: &[Incident],
    split: Timestamp,
    cfg: &RiskConfig,
) -> Result<Evaluation, RiskError> {
    cfg.validate()?;
    let ds = Dataset::new(series, incidents, cfg);
    let model = IncidentModel::train(&ds, split, cfg)?;
    let bns = cfg.bucket_ns();
    let span = bns + cfg.horizon_secs as i64 * 1_000_000_000;
    let (counts, ys): (Vec<f64>, Vec<bool>) = ds
        .rows
        .iter()
        .filter(|r| r.start.0 + span <= split.0)
        .filter_map(|r| r.label.map(|y| (r.alerts_1h, y)))
        .unzip();
    let baseline = CountBaseline::fit(&counts, &ys);
    let mut model_preds = Vec::with_capacity(ds.rows.len());
    let mut base_preds = Vec::with_capacity(ds.rows.len());
    for r in &ds.rows {
        let tenant = ds.tenants[r.tenant as usize].clone();
        let (start, end) = (r.start, haechi_event::Timestamp(r.start.0 + bns));
        let p = model.probability(&r.features);
        model_preds.push(Prediction {
            tenant: tenant.clone(),
            start,
            end,
            score: p,
            probability: p,
            label: r.label,
        });
        base_preds.push(Prediction {
            tenant,
            start,
            end,
            score: r.alerts_1h,
            probability: baseline.probability(r.alerts_1h),
            label: r.label,
        });
    }
    let m = score(
        &model_preds,
        incidents,
        model.threshold,
        cfg.horizon_secs,
        split,
    );
    let b = score(
        &base_preds,
        incidents,
        baseline.threshold,
        cfg.horizon_secs,
        split,
    );
    Ok(Evaluation {
        split,
        horizon_secs: cfg.horizon_secs,
        bucket_secs: cfg.bucket_secs,
        train: Side {
            buckets: model.buckets,
            positives: model.positives,
        },
        test: Side {
            buckets: m.buckets,
            positives: m.positives,
        },
        model: m,
        baseline: b,
        incident_model: model,
        count_baseline: baseline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_with_ties() {
        assert_eq!(
            roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
            Some(0.75)
        );
        assert_eq!(roc_auc(&[1.0, 1.0], &[false, true]), Some(0.5));
        assert_eq!(roc_auc(&[1.0], &[true]), None);
    }

    #[test]
    fn count_levels() {
        let l: Vec<u32> = [0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 8.0]
            .map(CountBaseline::level)
            .to_vec();
        assert_eq!(l, vec![0, 1, 2, 2, 3, 3, 4]);
    }
}
