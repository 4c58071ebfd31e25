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
    /// Brier score (mean squared error of the predicted probabilities; for more than two
    /// classes summed over classes), when the evaluator computes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brier: Option<f64>,
    /// Multiclass confusion matrix, `[true class][predicted class]` in `per_class` order
    /// (only from [`Metrics::from_multiclass`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion_matrix: Option<Vec<Vec<u64>>>,
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
            brier: None,
            confusion_matrix: None,
        }
    }

    /// Multiclass metrics of predicted class indices against true ones (both index `names`):
    /// accuracy, per-class P/R/F1, macro-F1 over the classes, and the full matrix in
    /// [`Metrics::confusion_matrix`]. `confusion` collapses class 0 (the negative, e.g.
    /// normal) against all others; `threshold` is 0 (argmax) and `auc` is `None` (callers may
    /// set a one-vs-rest AUC).
    pub fn from_multiclass(truth: &[usize], pred: &[usize], names: &[&str]) -> Metrics {
        assert_eq!(
            truth.len(),
            pred.len(),
            "truth and predictions differ in length"
        );
        let k = names.len();
        let mut cm = vec![vec![0u64; k]; k];
        for (&t, &p) in truth.iter().zip(pred) {
            cm[t][p] += 1;
        }
        let per_class: Vec<ClassMetrics> = (0..k)
            .map(|c| {
                let tp = cm[c][c];
                let fp = (0..k).filter(|&t| t != c).map(|t| cm[t][c]).sum();
                let fn_ = (0..k).filter(|&p| p != c).map(|p| cm[c][p]).sum();
                class(names[c], tp, fp, fn_)
            })
            .collect();
        let correct: u64 = (0..k).map(|c| cm[c][c]).sum();
        let mut conf = Confusion::default();
        for (&t, &p) in truth.iter().zip(pred) {
            match (t != 0, p != 0) {
                (true, true) => conf.tp += 1,
                (true, false) => conf.fn_ += 1,
                (false, true) => conf.fp += 1,
                (false, false) => conf.tn += 1,
            }
        }
        Metrics {
            n: truth.len() as u64,
            threshold: 0.0,
            accuracy: ratio(correct, truth.len() as u64),
            macro_f1: if k == 0 {
                0.0
            } else {
                per_class.iter().map(|c| c.f1).sum::<f64>() / k as f64
            },
            auc: None,
            per_class,
            confusion: conf,
            brier: None,
            confusion_matrix: Some(cm),
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
        assert!(json.get("brier").is_none() && json.get("confusion_matrix").is_none());
    }

    #[test]
    fn multiclass_hand_computed() {
        let m = Metrics::from_multiclass(&[0, 0, 1, 2, 2], &[0, 1, 1, 2, 0], &["n", "a", "b"]);
        assert_eq!(
            m.confusion_matrix,
            Some(vec![vec![1, 1, 0], vec![0, 1, 0], vec![1, 0, 1]])
        );
        assert!((m.accuracy - 0.6).abs() < 1e-12);
        assert!((m.per_class[1].precision - 0.5).abs() < 1e-12);
        assert!((m.per_class[2].recall - 0.5).abs() < 1e-12);
        assert_eq!(
            (
                m.confusion.tn,
                m.confusion.fp,
                m.confusion.fn_,
                m.confusion.tp
            ),
            (1, 1, 1, 2)
        );
        let back: Metrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}
