//! Baseline, anomaly and forecast on synthetic series.

mod common;

use common::*;
use haechi_event::Timestamp;
use haechi_risk::{Bucket, RiskConfig, anomalies, baseline_at, forecast, hourly};

const BUCKET: i64 = 300 * S;

/// `days` days of 5-minute buckets: `f(t)` plus uniform noise in ±`noise`.
fn series(days: i64, noise: f64, seed: u64, f: impl Fn(i64) -> f64) -> Vec<Bucket> {
    let mut rng = Rng(seed);
    (0..days * 288)
        .map(|i| {
            let t = T0 + i * BUCKET;
            let y = (f(t) + noise * (2.0 * rng.f64() - 1.0)).clamp(0.0, 100.0);
            bucket(t, y, 0)
        })
        .collect()
}

fn seasonal(t: i64) -> f64 {
    let h = (t - T0).rem_euclid(DAY) as f64 / HOUR as f64;
    40.0 + 25.0 * (2.0 * std::f64::consts::PI * h / 24.0).sin()
}

#[test]
fn the_baseline_ignores_a_single_outlier_spike() {
    let cfg = RiskConfig::default();
    let clean = series(8, 2.0, 1, |_| 10.0);
    let mut spiked = clean.clone();
    let spike = 5 * 288 + 3 * 12 + 4; // day 5, 03:20
    spiked[spike].index = 100.0;
    let day7 = Timestamp(T0 + 7 * DAY + 3 * HOUR);
    let a = baseline_at(&clean, day7, &cfg).expected(day7).unwrap();
    let b = baseline_at(&spiked, day7, &cfg).expected(day7).unwrap();
    assert!(
        a.seasonal && b.seasonal,
        "a week of history is enough per hour"
    );
    assert!((a.median - b.median).abs() < 0.2, "{a:?} {b:?}");
    assert!((a.spread - b.spread).abs() < 0.3, "{a:?} {b:?}");
    let z = anomalies(&spiked, &cfg);
    assert!(
        z[spike] > 10.0,
        "the spike itself is anomalous: {}",
        z[spike]
    );
    // The same hour the next days is not anomalous because of the spike.
    for d in 6..8 {
        let i = d * 288 + 3 * 12 + 4;
        assert!(z[i].abs() < 3.0, "day {d}: z = {}", z[i]);
    }
    // A mean/stddev baseline would have been moved by the spike; the median is not.
}

#[test]
fn the_baseline_is_seasonal_and_falls_back_without_history() {
    let cfg = RiskConfig::default();
    let s = series(5, 1.0, 3, seasonal);
    let z = anomalies(&s, &cfg);
    assert!(
        z[..288].iter().all(|&z| z == 0.0),
        "no history on the first day"
    );
    let t = Timestamp(T0 + 4 * DAY + 6 * HOUR);
    let e = baseline_at(&s, t, &cfg).expected(t).unwrap();
    assert!(e.seasonal && (e.median - 65.0).abs() < 2.0, "{e:?}");
    let t = Timestamp(T0 + 4 * DAY + 18 * HOUR);
    let e = baseline_at(&s, t, &cfg).expected(t).unwrap();
    assert!((e.median - 15.0).abs() < 2.0, "{e:?}");
    // With little history per hour (one day = 12 buckets < 24) the all-hours fallback.
    let t = Timestamp(T0 + DAY + 6 * HOUR);
    let e = baseline_at(&s, t, &cfg).expected(t).unwrap();
    assert!(!e.seasonal, "{e:?}");
    // Seasonal anomalies stay small in a seasonal series.
    let worst = z[3 * 288..].iter().fold(0.0f64, |m, z| m.max(z.abs()));
    assert!(worst < 4.0, "{worst}");
}

#[test]
fn the_forecast_beats_a_flat_forecast_on_a_seasonal_series() {
    let cfg = RiskConfig::default();
    let all = series(14, 4.0, 9, seasonal);
    let (history, future) = all.split_at(13 * 288);
    let f = forecast(history, 24, &cfg);
    let truth = hourly(future);
    assert_eq!(f.len(), 24);
    assert_eq!(f[0].time, truth[0].0, "the first point is the next hour");
    let last = hourly(history).last().unwrap().1;
    let day_mean: f64 = hourly(history)
        .iter()
        .rev()
        .take(24)
        .map(|x| x.1)
        .sum::<f64>()
        / 24.0;
    let mae = |pred: &dyn Fn(usize) -> f64| {
        truth
            .iter()
            .enumerate()
            .map(|(k, &(_, y))| (pred(k) - y).abs())
            .sum::<f64>()
            / 24.0
    };
    let ours = mae(&|k| f[k].index);
    let flat_last = mae(&|_| last);
    let flat_mean = mae(&|_| day_mean);
    assert!(
        ours < 0.3 * flat_last,
        "forecast {ours} vs last value {flat_last}"
    );
    assert!(
        ours < 0.3 * flat_mean,
        "forecast {ours} vs daily mean {flat_mean}"
    );
    assert!(ours < 3.0, "{ours}");
}

#[test]
fn the_forecast_follows_a_trend_and_stays_in_range() {
    let cfg = RiskConfig::default();
    let s = series(1, 0.0, 1, |t| 20.0 + 2.0 * ((t - T0) as f64 / HOUR as f64));
    let f = forecast(&s, 48, &cfg);
    assert!(f[0].index > 60.0, "{:?}", f[0]);
    assert!(f.windows(2).all(|w| w[1].index >= w[0].index));
    assert!(f.iter().all(|p| p.index <= 100.0));
    assert!(forecast(&[], 5, &cfg).is_empty());
}
