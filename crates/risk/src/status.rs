//! The current state of each tenant, for `haechi risk`.

use crate::baseline::{Expected, anomalies_from, baseline_at};
use crate::features::{features_with, slope_per_hour};
use crate::forecast::{ForecastPoint, forecast};
use crate::logistic::Contribution;
use crate::{Bucket, Components, Counts, IncidentModel, RiskConfig, RiskSeries};
use haechi_event::Timestamp;
use serde::{Deserialize, Serialize};

/// Direction of the index over the last hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Rising,
    Steady,
    Falling,
}

/// The trend over the last hour: least-squares slope in index points per hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub slope_per_hour: f64,
    pub direction: Direction,
}

/// One tenant now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantStatus {
    pub tenant: String,
    /// Start of the last bucket.
    pub time: Timestamp,
    pub index: f64,
    pub components: Components,
    pub counts: Counts,
    pub trend: Trend,
    /// Robust z of the last bucket against its baseline (0 without history).
    pub anomaly: f64,
    /// What the baseline expected for this hour of day, if there is enough history.
    pub expected: Option<Expected>,
    /// Hourly forecast of the mean index for the next `forecast_hours` hours.
    pub forecast: Vec<ForecastPoint>,
    /// Probability that an incident starts within the model's horizon (no model: `None`).
    pub incident_probability: Option<f64>,
    /// Whether that probability is at or above the model's threshold.
    pub over_threshold: Option<bool>,
    /// The five features that moved the logit most.
    pub drivers: Vec<Contribution>,
}

/// The status of one tenant from its series (sorted, dense; the last bucket is "now").
/// `None` for an empty series.
pub fn status(
    tenant: &str,
    series: &[Bucket],
    model: Option<&IncidentModel>,
    cfg: &RiskConfig,
) -> Option<TenantStatus> {
    let last = series.len().checked_sub(1)?;
    let b = &series[last];
    // The last bucket's features need only the trailing day.
    let tail = last.saturating_sub(cfg.buckets_in(24 * 3600) + 1);
    let z = anomalies_from(series, tail, cfg);
    let slope = slope_per_hour(series, last, cfg);
    let direction = if slope > cfg.trend_threshold {
        Direction::Rising
    } else if slope < -cfg.trend_threshold {
        Direction::Falling
    } else {
        Direction::Steady
    };
    let (probability, over, drivers) = match model {
        Some(m) => {
            let f = features_with(&series[tail..], &z, cfg);
            let x = f[f.len() - 1];
            let mut e = m.explain(&x);
            e.contributions.truncate(5);
            (
                Some(e.probability),
                Some(e.probability >= m.threshold),
                e.contributions,
            )
        }
        None => (None, None, Vec::new()),
    };
    Some(TenantStatus {
        tenant: tenant.to_owned(),
        time: b.start,
        index: b.index,
        components: b.components,
        counts: b.counts,
        trend: Trend {
            slope_per_hour: slope,
            direction,
        },
        anomaly: z[z.len() - 1],
        expected: baseline_at(series, b.start, cfg).expected(b.start),
        forecast: forecast(series, cfg.forecast_hours, cfg),
        incident_probability: probability,
        over_threshold: over,
        drivers,
    })
}

/// [`status`] of every tenant, highest incident probability (then index) first.
pub fn status_all(
    series: &RiskSeries,
    model: Option<&IncidentModel>,
    cfg: &RiskConfig,
) -> Vec<TenantStatus> {
    let mut v: Vec<TenantStatus> = series
        .iter()
        .filter_map(|(t, s)| status(t, s, model, cfg))
        .collect();
    v.sort_by(|a, b| {
        b.incident_probability
            .unwrap_or(0.0)
            .total_cmp(&a.incident_probability.unwrap_or(0.0))
            .then(b.index.total_cmp(&a.index))
    });
    v
}
