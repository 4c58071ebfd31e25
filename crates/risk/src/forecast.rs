//! Forecast of the index: seasonal profile (median per hour of day) plus Holt's damped
//! trend on the deseasonalized hourly series.

use crate::baseline::{HOUR_NS, RobustStat, hour_of_day};
use crate::{Bucket, RiskConfig};
use haechi_event::Timestamp;
use serde::{Deserialize, Serialize};

/// One forecast point: the expected mean index of the hour starting at `time`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastPoint {
    pub time: Timestamp,
    pub index: f64,
}

/// The mean index of each UTC hour that has buckets in `series` (sorted by time), as
/// (hour start, mean). The last hour may be partial.
pub fn hourly(series: &[Bucket]) -> Vec<(Timestamp, f64)> {
    let mut out: Vec<(Timestamp, f64)> = Vec::new();
    let mut i = 0;
    while i < series.len() {
        let h = series[i].start.0.div_euclid(HOUR_NS);
        let (mut sum, mut n) = (0.0, 0usize);
        while i < series.len() && series[i].start.0.div_euclid(HOUR_NS) == h {
            sum += series[i].index;
            n += 1;
            i += 1;
        }
        out.push((Timestamp(h * HOUR_NS), sum / n as f64));
    }
    out
}

/// The seasonal offsets per UTC hour of day: the median of the hourly means of that hour
/// over the last `days` days, minus the mean of those medians; an hour with fewer than
/// two days of data has offset 0, and so do all hours with fewer than two days in all.
pub fn seasonal_profile(hours: &[(Timestamp, f64)], days: u32) -> [f64; 24] {
    let keep = (days as usize * 24).min(hours.len());
    let recent = &hours[hours.len() - keep..];
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); 24];
    for &(t, y) in recent {
        per[hour_of_day(t)].push(y);
    }
    let mut prof = [0.0; 24];
    let mut have = [false; 24];
    for (h, v) in per.iter_mut().enumerate() {
        if v.len() >= 2
            && let Some(s) = RobustStat::of(v)
        {
            prof[h] = s.median;
            have[h] = true;
        }
    }
    let n = have.iter().filter(|&&x| x).count();
    if n < 2 {
        return [0.0; 24];
    }
    let mean = prof.iter().sum::<f64>() / n as f64;
    for h in 0..24 {
        prof[h] = if have[h] { prof[h] - mean } else { 0.0 };
    }
    prof
}

/// Forecasts the mean index of the next `hours` hours after the last hour of `series`:
/// `ŷ(T+k) = ℓ + (φ + φ² + … + φᵏ)·b + s(hour(T+k))`, clamped to 0–100, where `s` is
/// [`seasonal_profile`] over `baseline_days`, and `ℓ`, `b` are Holt's level and trend
/// (α = `forecast_alpha`, β = `forecast_beta`, φ = `forecast_phi`) run over the
/// deseasonalized hourly means `y − s`, starting from the first hour with trend 0.
/// Empty when `series` is.
pub fn forecast(series: &[Bucket], hours: usize, cfg: &RiskConfig) -> Vec<ForecastPoint> {
    let hs = hourly(series);
    forecast_hourly(&hs, hours, cfg)
}

/// [`forecast`] on an hourly series already aggregated.
pub fn forecast_hourly(
    hs: &[(Timestamp, f64)],
    hours: usize,
    cfg: &RiskConfig,
) -> Vec<ForecastPoint> {
    let Some(&(last, _)) = hs.last() else {
        return Vec::new();
    };
    let s = seasonal_profile(hs, cfg.baseline_days);
    let (a, beta, phi) = (cfg.forecast_alpha, cfg.forecast_beta, cfg.forecast_phi);
    let mut level = hs[0].1 - s[hour_of_day(hs[0].0)];
    let mut trend = 0.0;
    for &(t, y) in &hs[1..] {
        let r = y - s[hour_of_day(t)];
        let new_level = a * r + (1.0 - a) * (level + phi * trend);
        trend = beta * (new_level - level) + (1.0 - beta) * phi * trend;
        level = new_level;
    }
    let mut damp = 0.0;
    let mut pow = 1.0;
    (1..=hours)
        .map(|k| {
            pow *= phi;
            damp += pow;
            let time = Timestamp(last.0 + k as i64 * HOUR_NS);
            let index = (level + damp * trend + s[hour_of_day(time)]).clamp(0.0, 100.0);
            ForecastPoint { time, index }
        })
        .collect()
}
