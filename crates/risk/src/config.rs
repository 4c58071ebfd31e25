//! Configuration: weights, bucket size, windows. Every field has a serde default, so an
//! empty TOML/JSON table gives [`RiskConfig::default`].

use crate::RiskError;
use haechi_event::Level;
use serde::{Deserialize, Serialize};

/// Weight of one alert by its level, before saturation (see the crate essay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelWeights {
    pub informational: f64,
    pub low: f64,
    pub medium: f64,
    pub high: f64,
    pub critical: f64,
}

impl Default for LevelWeights {
    fn default() -> Self {
        LevelWeights {
            informational: 0.0,
            low: 1.0,
            medium: 3.0,
            high: 8.0,
            critical: 20.0,
        }
    }
}

impl LevelWeights {
    pub fn of(&self, level: Level) -> f64 {
        match level {
            Level::Informational => self.informational,
            Level::Low => self.low,
            Level::Medium => self.medium,
            Level::High => self.high,
            Level::Critical => self.critical,
        }
    }
}

/// Weights of the five components in the raw risk `R` (see the crate essay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComponentWeights {
    pub severity: f64,
    pub ml: f64,
    pub indicators: f64,
    pub sources: f64,
    pub cross_tenant: f64,
}

impl Default for ComponentWeights {
    fn default() -> Self {
        ComponentWeights {
            severity: 1.0,
            ml: 6.0,
            indicators: 5.0,
            sources: 2.0,
            cross_tenant: 6.0,
        }
    }
}

/// The whole configuration of the risk index, baseline, forecast and incident model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Bucket length in seconds; buckets are aligned on multiples of it since the epoch.
    pub bucket_secs: u64,
    pub level_weights: LevelWeights,
    pub weights: ComponentWeights,
    /// Model alerts count in the `ml` component when their score is at least this.
    pub ml_threshold: f32,
    /// `index = 100 · (1 − exp(−R / scale))`: the raw risk that gives index 63.
    pub scale: f64,
    /// An attacker value seen at another tenant within this many seconds before the end
    /// of a bucket (trailing, causal) counts as a cross-institution sighting.
    pub correlation_window_secs: u64,
    /// Ignore attacker values that are private, loopback, link-local, unspecified or
    /// CGNAT IP addresses: `10.0.0.5` at two institutions is two different machines.
    pub ignore_private_attackers: bool,
    /// Trailing days of history for the seasonal baseline.
    pub baseline_days: u32,
    /// An hour-of-day needs at least this many trailing buckets for its own median/MAD;
    /// otherwise the tenant's all-hours median/MAD is used.
    pub baseline_min_hour_samples: usize,
    /// The all-hours fallback needs at least this many trailing buckets; otherwise the
    /// anomaly is 0 (no baseline yet).
    pub baseline_min_samples: usize,
    /// Floor of the robust spread `1.4826 · MAD`, in index points, so that a tenant that
    /// is always at 0 does not get an infinite z for its first low alert.
    pub baseline_min_spread: f64,
    /// Forecast: level smoothing α, trend smoothing β, damping φ of Holt's method.
    pub forecast_alpha: f64,
    pub forecast_beta: f64,
    pub forecast_phi: f64,
    /// Hours forecast by [`crate::status`].
    pub forecast_hours: usize,
    /// Incident horizon in seconds: a bucket is positive if an incident of its tenant
    /// starts within this long after the bucket's end.
    pub horizon_secs: u64,
    /// L2 penalty of the logistic regression (on standardized features, bias excluded).
    pub l2: f64,
    /// `|slope|` (index points per hour) under which the trend is `steady`.
    pub trend_threshold: f64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            bucket_secs: 300,
            level_weights: LevelWeights::default(),
            weights: ComponentWeights::default(),
            ml_threshold: 0.5,
            scale: 25.0,
            correlation_window_secs: 6 * 3600,
            ignore_private_attackers: true,
            baseline_days: 14,
            baseline_min_hour_samples: 24,
            baseline_min_samples: 12,
            baseline_min_spread: 2.0,
            forecast_alpha: 0.3,
            forecast_beta: 0.05,
            forecast_phi: 0.9,
            forecast_hours: 6,
            horizon_secs: 3600,
            l2: 1.0,
            trend_threshold: 5.0,
        }
    }
}

impl RiskConfig {
    /// Checks ranges; every public entry point that takes a config calls it.
    pub fn validate(&self) -> Result<(), RiskError> {
        let bad = |m: &str| Err(RiskError::BadConfig(m.to_owned()));
        if self.bucket_secs == 0 || 86_400 % self.bucket_secs != 0 {
            return bad("bucket_secs must be > 0 and divide a day (86400)");
        }
        if !(self.scale > 0.0 && self.scale.is_finite()) {
            return bad("scale must be > 0");
        }
        let w = &self.weights;
        let l = &self.level_weights;
        if [
            w.severity,
            w.ml,
            w.indicators,
            w.sources,
            w.cross_tenant,
            l.informational,
            l.low,
            l.medium,
            l.high,
            l.critical,
        ]
        .iter()
        .any(|x| !(x.is_finite() && *x >= 0.0))
        {
            return bad("weights must be finite and >= 0");
        }
        if !(0.0..=1.0).contains(&self.forecast_alpha)
            || !(0.0..=1.0).contains(&self.forecast_beta)
            || !(0.0..=1.0).contains(&self.forecast_phi)
        {
            return bad("forecast_alpha, forecast_beta and forecast_phi must be in [0, 1]");
        }
        if self.horizon_secs < self.bucket_secs {
            return bad("horizon_secs must be at least one bucket");
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return bad("l2 must be >= 0");
        }
        Ok(())
    }

    /// Number of buckets in `secs` seconds, at least one.
    pub fn buckets_in(&self, secs: u64) -> usize {
        (secs / self.bucket_secs).max(1) as usize
    }

    pub(crate) fn bucket_ns(&self) -> i64 {
        self.bucket_secs as i64 * 1_000_000_000
    }
}
