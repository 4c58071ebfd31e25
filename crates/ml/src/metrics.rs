//! Binary-classification metrics (class 0 = legit, class 1 = dga).

use serde::{Deserialize, Serialize};

/// Precision/recall/F1 of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

/// Confusion matrix; positive = dga.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub tn: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub tp: u64,
}

/// Evaluation summary; serializes to JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub n: u64,
    /// Decision threshold on the score (score >= threshold ⇒ dga).
    pub threshold: f64,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// ROC AUC of the raw scores (ties count one half); `None` if only one class is present.
    pub auc: Option<f64>,
    /// `[legit, dga]`.
    pub per_class: Vec<ClassMetrics>,
    pub confusion: Confusion,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn class(name: &str, tp: u64, fp: u64, fn_: u64) -> ClassMetrics {
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    ClassMetrics {
        class: name.into(),
        precision,
        recall,
        f1,
        support: tp + fn_,
    }
}

/// ROC AUC via the rank-sum (Mann–Whitney U) statistic with average ranks for ties.
pub fn roc_auc(labels: &[bool], scores: &[f32]) -> Option<f64> {
    assert_eq!(
        labels.len(),
        scores.len(),
        "labels and scores differ in length"
    );
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            if labels[k] {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    Some((rank_sum_pos - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

impl Metrics {
    /// Metrics of `scores` against `labels` (true = dga), predicting dga when `score >= threshold`.
    pub fn from_scores(labels: &[bool], scores: &[f32], threshold: f32) -> Metrics {
        Self::from_scores_named(labels, scores, threshold, ["legit", "dga"])
    }

    /// Like [`Metrics::from_scores`] with explicit class names `[negative, positive]`
    /// (e.g. `["normal", "attack"]` for the web model).
    pub fn from_scores_named(
        labels: &[bool],
        scores: &[f32],
        threshold: f32,
        names: [&str; 2],
    ) -> Metrics {
        assert_eq!(
            labels.len(),
            scores.len(),
            "labels and scores differ in length"
        );
        let mut c = Confusion::default();
        for (&l, &s) in labels.iter().zip(scores) {
            match (l, s >= threshold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fn_ += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        let per_class = vec![
            class(names[0], c.tn, c.fn_, c.fp),
            class(names[1], c.tp, c.fp, c.fn_),
        ];
        Metrics {
            n: labels.len() as u64,
            threshold: threshold as f64,
            accuracy: ratio(c.tp + c.tn, labels.len() as u64),
            macro_f1: (per_class[0].f1 + per_class[1].f1) / 2.0,
            auc: roc_auc(labels, scores),
            per_class,
            confusion: c,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        let labels = [true, true, false, false, true];
        let scores = [0.9, 0.4, 0.6, 0.1, 0.8];
        let m = Metrics::from_scores(&labels, &scores, 0.5);
        assert_eq!(
            m.confusion,
            Confusion {
                tn: 1,
                fp: 1,
                fn_: 1,
                tp: 2
            }
        );
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        assert!((m.per_class[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class[1].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.per_class[0].f1 - 0.5).abs() < 1e-12);
        // pairs (pos, neg): 0.9>0.6,0.9>0.1,0.4<0.6,0.4>0.1,0.8>0.6,0.8>0.1 → 5/6
        assert!((m.auc.unwrap() - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(roc_auc(&[true, false], &[0.5, 0.5]), Some(0.5));
        assert_eq!(roc_auc(&[true, true], &[0.5, 0.6]), None);
        let json = serde_json::to_value(&m).unwrap();
        for key in ["accuracy", "macro_f1", "per_class", "auc", "confusion"] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        assert_eq!(json["confusion"]["fn"], 1);
    }
}
