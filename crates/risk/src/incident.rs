//! The incident model: features → probability that an incident starts within the
//! horizon, trained on labelled buckets.

use crate::features::{FEATURE_NAMES, Features, alerts_last_hour, features, labels};
use crate::logistic::{Explanation, Logistic};
use crate::{Incident, RiskConfig, RiskError, RiskSeries};
use haechi_event::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The `kind` of an incident model file.
pub const MODEL_KIND: &str = "haechi-risk-incident";
/// The format version of an incident model file.
pub const MODEL_VERSION: u32 = 2;

/// One bucket ready for training or scoring.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Index into [`Dataset::tenants`].
    pub tenant: u32,
    pub start: Timestamp,
    pub features: Features,
    /// The unweighted alert count of the trailing hour (the naive baseline's score).
    pub alerts_1h: f64,
    /// See [`labels`]: `None` inside an incident.
    pub label: Option<bool>,
}

/// Every bucket of every tenant with its features and label.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub tenants: Vec<String>,
    pub rows: Vec<Row>,
}

impl Dataset {
    /// Features and labels of every bucket of `series`; incidents of tenants that are not
    /// in `series` are ignored.
    pub fn new(series: &RiskSeries, incidents: &[Incident], cfg: &RiskConfig) -> Dataset {
        let mut by_tenant: HashMap<&str, Vec<&Incident>> = HashMap::new();
        for i in incidents {
            by_tenant.entry(i.tenant.as_str()).or_default().push(i);
        }
        let mut ds = Dataset::default();
        for (t, (name, buckets)) in series.iter().enumerate() {
            ds.tenants.push(name.clone());
            let inc = by_tenant
                .get(name.as_str())
                .map_or(&[][..], |v| v.as_slice());
            let f = features(buckets, cfg);
            let l = labels(buckets, inc, cfg);
            let a = alerts_last_hour(buckets, cfg);
            for (i, b) in buckets.iter().enumerate() {
                ds.rows.push(Row {
                    tenant: t as u32,
                    start: b.start,
                    features: f[i],
                    alerts_1h: a[i],
                    label: l[i],
                });
            }
        }
        ds
    }
}

/// The threshold with the highest F1 when "positive" means `score ≥ threshold`, scanning
/// every distinct score (ties broken towards the higher threshold), and that F1.
/// Without positives: `(+∞, 0)`.
pub fn best_threshold(scores: &[f64], labels: &[bool]) -> (f64, f64) {
    let total_pos = labels.iter().filter(|&&y| y).count() as f64;
    if total_pos == 0.0 {
        return (f64::INFINITY, 0.0);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0.0, 0.0);
    let (mut best_t, mut best_f1) = (f64::INFINITY, 0.0);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if labels[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        let f1 = 2.0 * tp / (2.0 * tp + fp + (total_pos - tp));
        if f1 > best_f1 {
            best_f1 = f1;
            best_t = s;
        }
    }
    (best_t, best_f1)
}

/// The trained incident model, as stored (serde JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentModel {
    /// Always [`MODEL_KIND`].
    pub kind: String,
    pub version: u32,
    pub horizon_secs: u64,
    pub bucket_secs: u64,
    pub l2: f64,
    /// Only buckets whose label window ended by this time were used.
    pub trained_until: Timestamp,
    /// Training buckets and how many were positive.
    pub buckets: usize,
    pub positives: usize,
    /// The max-F1 threshold on the training buckets.
    pub threshold: f64,
    /// Feature names (= [`FEATURE_NAMES`]), standardization and weights.
    pub logistic: Logistic,
}

impl IncidentModel {
    /// Trains on the labelled buckets of `dataset` whose label window
    /// `[end, end + horizon)` ends by `until` (so that every label is known at `until`).
    pub fn train(
        dataset: &Dataset,
        until: Timestamp,
        cfg: &RiskConfig,
    ) -> Result<IncidentModel, RiskError> {
        cfg.validate()?;
        let span = (cfg.bucket_secs + cfg.horizon_secs) as i64 * 1_000_000_000;
        let (rows, ys): (Vec<&Features>, Vec<bool>) = dataset
            .rows
            .iter()
            .filter(|r| r.start.0 + span <= until.0)
            .filter_map(|r| r.label.map(|y| (&r.features, y)))
            .unzip();
        if rows.is_empty() {
            return Err(RiskError::NoTrainingData);
        }
        let rows: Vec<&[f64]> = rows.into_iter().map(|f| &f[..]).collect();
        let logistic = Logistic::fit(&FEATURE_NAMES, &rows, &ys, cfg.l2)?;
        let probs: Vec<f64> = rows.iter().map(|r| logistic.probability(r)).collect();
        let (threshold, _) = best_threshold(&probs, &ys);
        Ok(IncidentModel {
            kind: MODEL_KIND.into(),
            version: MODEL_VERSION,
            horizon_secs: cfg.horizon_secs,
            bucket_secs: cfg.bucket_secs,
            l2: cfg.l2,
            trained_until: until,
            buckets: ys.len(),
            positives: ys.iter().filter(|&&y| y).count(),
            threshold,
            logistic,
        })
    }

    /// [`Dataset::new`] then [`IncidentModel::train`].
    pub fn train_on(
        series: &RiskSeries,
        incidents: &[Incident],
        until: Timestamp,
        cfg: &RiskConfig,
    ) -> Result<IncidentModel, RiskError> {
        IncidentModel::train(&Dataset::new(series, incidents, cfg), until, cfg)
    }

    /// The probability that an incident starts within the horizon after the bucket.
    pub fn probability(&self, features: &Features) -> f64 {
        self.logistic.probability(features)
    }

    /// Each feature's contribution to the logit.
    pub fn explain(&self, features: &Features) -> Explanation {
        self.logistic.explain(features)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses and checks a model file: kind, version, feature names (must be this
    /// crate's [`FEATURE_NAMES`], in order) and finite numbers.
    pub fn from_json(s: &str) -> Result<IncidentModel, RiskError> {
        let m: IncidentModel =
            serde_json::from_str(s).map_err(|e| RiskError::BadModel(e.to_string()))?;
        if m.kind != MODEL_KIND || m.version != MODEL_VERSION {
            return Err(RiskError::BadModel(format!(
                "kind {} version {}, expected {MODEL_KIND} version {MODEL_VERSION}",
                m.kind, m.version
            )));
        }
        if m.logistic
            .names
            .iter()
            .map(String::as_str)
            .ne(FEATURE_NAMES)
        {
            return Err(RiskError::BadModel(
                "feature names differ from this build's".into(),
            ));
        }
        m.logistic.check()?;
        Ok(m)
    }
}
