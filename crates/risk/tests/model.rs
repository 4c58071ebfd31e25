//! Logistic regression, labels, evaluation (exact on hand-made cases), status.

mod common;

use common::*;
use haechi_event::{Level, Timestamp};
use haechi_risk::{
    Bucket, CountBaseline, FEATURE_NAMES, Incident, IncidentModel, Logistic, Prediction,
    RiskConfig, RiskSeries, compute, evaluate, features, labels, score, status, status_all,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn logistic_regression_recovers_a_known_relation() {
    let mut rng = Rng(5);
    let n = 50_000;
    let rows: Vec<[f64; 2]> = (0..n).map(|_| [rng.normal(), rng.normal()]).collect();
    let ys: Vec<bool> = rows
        .iter()
        .map(|x| {
            let p = 1.0 / (1.0 + (-(-1.0 + 1.5 * x[0] - 2.0 * x[1])).exp());
            rng.f64() < p
        })
        .collect();
    let m = Logistic::fit(&["a", "b"], &rows, &ys, 1.0).unwrap();
    let (b0, w) = m.raw_coefficients();
    assert!((b0 + 1.0).abs() < 0.08, "intercept {b0}");
    assert!((w[0] - 1.5).abs() < 0.08, "{w:?}");
    assert!((w[1] + 2.0).abs() < 0.08, "{w:?}");
    assert!(m.iterations < 20, "Newton converges fast: {}", m.iterations);
    // Same data, same model: deterministic.
    assert_eq!(m, Logistic::fit(&["a", "b"], &rows, &ys, 1.0).unwrap());
}

#[test]
fn logistic_regression_separates_a_separable_relation() {
    let mut rng = Rng(11);
    let rows: Vec<[f64; 3]> = (0..2000)
        .map(|_| [rng.f64() * 10.0, rng.f64(), rng.f64() * 100.0])
        .collect();
    // Positive iff 2·x0 − 10·x1 > 5; x2 is noise.
    let ys: Vec<bool> = rows
        .iter()
        .map(|x| 2.0 * x[0] - 10.0 * x[1] > 5.0)
        .collect();
    let m = Logistic::fit(&["x0", "x1", "noise"], &rows, &ys, 0.01).unwrap();
    let acc = rows
        .iter()
        .zip(&ys)
        .filter(|(x, y)| (m.probability(&x[..]) >= 0.5) == **y)
        .count() as f64
        / rows.len() as f64;
    assert!(acc > 0.99, "{acc}");
    let (_, w) = m.raw_coefficients();
    assert!(
        (w[0] / w[1] + 0.2).abs() < 0.03,
        "direction 2 : −10, got {w:?}"
    );
    assert!(
        w[2].abs() < 0.05 * w[0].abs(),
        "the noise feature weighs little: {w:?}"
    );
    let e = m.explain(&[9.0, 0.1, 50.0]);
    let sum: f64 = e.bias + e.contributions.iter().map(|c| c.contribution).sum::<f64>();
    assert!((sum - e.logit).abs() < 1e-9);
    assert_eq!(e.contributions[0].feature, "x0", "{e:?}");
}

#[test]
fn labels_mark_the_horizon_before_incidents_and_exclude_their_buckets() {
    let cfg = RiskConfig::default(); // 300 s buckets, 3600 s horizon
    let s: Vec<Bucket> = (0..40).map(|i| bucket(T0 + i * 300 * S, 0.0, 0)).collect();
    let inc = Incident {
        tenant: "t".into(),
        start: Timestamp(T0 + 25 * 300 * S + 10 * S), // inside bucket 25
        end: Timestamp(T0 + 27 * 300 * S),            // bucket 27 starts at the end
    };
    let l = labels(&s, &[&inc], &cfg);
    // Bucket i ends at (i+1)·300; positive iff end ≤ start < end + 3600.
    for (i, l) in l.iter().enumerate() {
        let expect = match i {
            25..=27 => None,
            13..=24 => Some(true),
            _ => Some(false),
        };
        assert_eq!(*l, expect, "bucket {i}");
    }
}

/// Hand-made predictions: every figure computed by hand.
#[test]
fn scoring_computes_lead_time_and_brier_exactly() {
    let p = |tenant: &str, b: i64, prob: f64, label: Option<bool>| Prediction {
        tenant: tenant.into(),
        start: Timestamp(b * 300 * S),
        end: Timestamp((b + 1) * 300 * S),
        score: prob,
        probability: prob,
        label,
    };
    let preds = vec![
        p("x", 0, 0.99, Some(false)), // before the split: ignored
        p("x", 6, 0.1, Some(false)),
        p("x", 7, 0.2, Some(true)),
        p("x", 8, 0.6, Some(true)),
        p("x", 9, 0.9, Some(true)),
        p("x", 10, 0.95, None),
        p("x", 11, 0.3, Some(false)),
        p("y", 17, 0.1, Some(true)),
        p("y", 18, 0.1, Some(true)),
        p("y", 19, 0.1, Some(true)),
        p("y", 20, 0.9, None),
        p("y", 21, 0.7, Some(false)),
    ];
    let inc = |t: &str, start: i64| Incident {
        tenant: t.into(),
        start: Timestamp(start * S),
        end: Timestamp(start * S + 60 * S),
    };
    let incidents = vec![
        inc("x", 100),  // before the split: not a test incident
        inc("x", 3000), // window (2100, 3000]: buckets 7, 8, 9; first ≥ 0.5 ends at 2700
        inc("y", 6000), // window (5100, 6000]: buckets 17–19, never ≥ 0.5: missed
        inc("z", 6000), // tenant never scored: not counted
    ];
    let m = score(&preds, &incidents, 0.5, 900, Timestamp(1000 * S));
    assert_eq!(m.buckets, 9);
    assert_eq!(m.positives, 6);
    assert_eq!(
        (
            m.true_positives,
            m.false_positives,
            m.false_negatives,
            m.true_negatives
        ),
        (2, 1, 4, 2)
    );
    assert!(close(m.precision, 2.0 / 3.0) && close(m.recall, 2.0 / 6.0));
    assert!(close(m.f1, 4.0 / 9.0));
    let brier = (0.01 + 0.64 + 0.16 + 0.01 + 0.09 + 3.0 * 0.81 + 0.49) / 9.0;
    assert!(close(m.brier, brier), "{} vs {brier}", m.brier);
    assert!(close(m.auc.unwrap(), 7.5 / 18.0), "{:?}", m.auc);
    assert_eq!((m.incidents, m.anticipated, m.missed), (2, 1, 1));
    assert_eq!(m.mean_lead_secs, Some(300.0));
    assert_eq!(m.median_lead_secs, Some(300.0));
}

/// One tenant, hourly buckets, 2 h horizon: the naive baseline's figures by hand.
fn tiny_case() -> (RiskSeries, Vec<Incident>, RiskConfig) {
    let cfg = RiskConfig {
        bucket_secs: 3600,
        horizon_secs: 7200,
        ..RiskConfig::default()
    };
    //            b: 0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19
    let counts = [0, 2, 3, 5, 7, 0, 5, 0, 1, 1, 0, 0, 3, 4, 0, 8, 0, 9, 0, 0];
    let s: Vec<Bucket> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| bucket(T0 + i as i64 * HOUR, 5.0 * c as f64, c))
        .collect();
    let inc = |h: i64| Incident {
        tenant: "a".into(),
        start: Timestamp(T0 + h * HOUR),
        end: Timestamp(T0 + h * HOUR + 600 * S),
    };
    let mut series = RiskSeries::new();
    series.insert("a".into(), s);
    (series, vec![inc(4), inc(15)], cfg)
}

#[test]
fn evaluation_of_the_naive_baseline_on_a_tiny_case() {
    let (series, incidents, cfg) = tiny_case();
    let split = Timestamp(T0 + 10 * HOUR);
    let e = evaluate(&series, &incidents, split, &cfg).unwrap();
    // Training: end + 2 h ≤ 10 h → buckets 0–7, minus bucket 4 (inside the incident at 4 h);
    // positives: buckets 2 and 3 (the incident starts within 2 h of their end).
    assert_eq!((e.train.buckets, e.train.positives), (7, 2));
    // Counts 0 2 3 5 · 0 5 0 with labels − − + + · − − − : max F1 at "count ≥ 3"
    // (tp 2, fp 1 → F1 0.8; ≥ 5: 0.5; ≥ 2: 0.667; ≥ 0: 0.571).
    let b = &e.count_baseline;
    assert_eq!(b.threshold, 3.0);
    assert!(close(b.prior, 2.0 / 7.0));
    // Levels: 0 → {b0,b5,b7} 0/3; 2 (counts 2–3) → {b1,b2} 1/2; 3 (4–7) → {b3,b6} 1/2.
    let lv: Vec<(u32, usize, usize)> = b
        .levels
        .iter()
        .map(|l| (l.level, l.buckets, l.positives))
        .collect();
    assert_eq!(lv, vec![(0, 3, 0), (2, 2, 1), (3, 2, 1)]);
    let (p0, p2, p3) = (
        (2.0 / 7.0) / 4.0,
        (1.0 + 2.0 / 7.0) / 3.0,
        (1.0 + 2.0 / 7.0) / 3.0,
    );
    assert!(close(CountBaseline::level(9.0) as f64, 4.0));
    assert!(
        close(b.probability(9.0), p3),
        "unseen level 4 takes level 3"
    );
    assert!(
        close(b.probability(1.0), p0),
        "unseen level 1 takes level 0"
    );
    // Test: buckets 10–19 minus 15 (incident); positives 13 and 14.
    // Counts 0 0 3 4 0 · 0 9 0 0 → predicted ≥ 3: b12 (fp), b13 (tp), b17 (fp); b14 fn.
    let m = &e.baseline;
    assert_eq!((m.buckets, m.positives), (9, 2));
    assert_eq!(
        (
            m.true_positives,
            m.false_positives,
            m.false_negatives,
            m.true_negatives
        ),
        (1, 2, 1, 5)
    );
    assert!(close(m.precision, 1.0 / 3.0) && close(m.recall, 0.5) && close(m.f1, 0.4));
    let brier = (p2 * p2 + (1.0 - p3).powi(2) + (1.0 - p0).powi(2) + p3 * p3 + 5.0 * p0 * p0) / 9.0;
    assert!(close(m.brier, brier), "{} vs {brier}", m.brier);
    // AUC by count: b13 (4) beats 6 of 7 negatives, b14 (0) ties 5 zeros → (6 + 2.5) / 14.
    assert!(close(m.auc.unwrap(), 8.5 / 14.0), "{:?}", m.auc);
    // The test incident at 15 h: buckets ending in (13 h, 15 h] are 13 and 14; b13 (4 ≥ 3)
    // ends at 14 h → lead 3600 s.
    assert_eq!((m.incidents, m.anticipated, m.missed), (1, 1, 0));
    assert_eq!(m.mean_lead_secs, Some(3600.0));
    assert_eq!(m.median_lead_secs, Some(3600.0));

    // The model side: same split, its Brier is the mean squared error of its own
    // probabilities on the test buckets.
    assert_eq!((e.model.buckets, e.model.positives), (9, 2));
    let f = features(&series["a"], &cfg);
    let l = labels(&series["a"], &incidents.iter().collect::<Vec<_>>(), &cfg);
    let mut sq = 0.0;
    for i in 10..20 {
        if let Some(y) = l[i] {
            sq += (e.incident_model.probability(&f[i]) - f64::from(u8::from(y))).powi(2);
        }
    }
    assert!(close(e.model.brier, sq / 9.0));
    let json = serde_json::to_string(&e).unwrap();
    assert!(json.contains("\"mean_lead_secs\":3600.0"), "{json}");
}

/// A synthetic multi-tenant scenario: incidents are preceded by a ramp of high alerts from
/// one attacker seen at several tenants; the trained model must beat the count baseline.
#[test]
fn the_model_learns_precursors_on_a_synthetic_scenario() {
    let cfg = RiskConfig::default();
    let mut rng = Rng(3);
    let tenants: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
    let days = 10;
    let mut obs = Vec::new();
    // Background: low/medium alerts, bursty (noisy rules), no precursors.
    for t in &tenants {
        for _ in 0..days * 300 {
            let at = T0 + rng.below(days as u64 * 86400) as i64 * S;
            let lvl = if rng.f64() < 0.7 {
                Level::Low
            } else {
                Level::Medium
            };
            let mut o = sigma(t, at, lvl, None);
            o.count = 1 + rng.below(20) as u32;
            obs.push(o);
        }
    }
    let mut incidents = Vec::new();
    for k in 0..40 {
        let t = &tenants[k % tenants.len()];
        let start = T0 + DAY + rng.below((days as u64 - 2) * 86400) as i64 * S;
        let attacker = format!("198.51.100.{}", k % 200);
        // 40 minutes of precursors: a few high alerts from the attacker.
        for m in 0..4 {
            let at = start - (40 - m * 10) * 60 * S;
            obs.push(sigma(t, at, Level::High, Some(&attacker)));
            obs.push(sigma(
                &tenants[(k + 1) % tenants.len()],
                at,
                Level::Low,
                Some(&attacker),
            ));
        }
        incidents.push(Incident {
            tenant: t.clone(),
            start: Timestamp(start),
            end: Timestamp(start + 2 * HOUR),
        });
    }
    let series = compute(&obs, Timestamp(T0), Timestamp(T0 + days * DAY), &cfg).unwrap();
    let split = Timestamp(T0 + 6 * DAY);
    let e = evaluate(&series, &incidents, split, &cfg).unwrap();
    // Precursors start 40 min before the incident, the horizon is 60 min: the buckets of
    // the first 20 min of each positive window carry no signal, which caps the AUC.
    assert!(e.model.auc.unwrap() > 0.75, "{:?}", e.model);
    assert!(
        e.model.auc > e.baseline.auc,
        "{:?}\n{:?}",
        e.model,
        e.baseline
    );
    assert!(
        e.model.f1 > e.baseline.f1,
        "model {:?}\nbaseline {:?}",
        e.model,
        e.baseline
    );
    assert!(e.model.brier < e.baseline.brier);
    assert!(e.model.anticipated > e.model.incidents / 2, "{:?}", e.model);

    // The model file round-trips and is checked on load.
    let json = e.incident_model.to_json();
    let back = IncidentModel::from_json(&json).unwrap();
    // serde_json's float parsing may be off by an ulp (no `float_roundtrip`).
    let near = |a: &[f64], b: &[f64]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1.0))
    };
    assert!(near(
        &back.logistic.weights,
        &e.incident_model.logistic.weights
    ));
    assert!(near(&back.logistic.mean, &e.incident_model.logistic.mean));
    assert!(near(&back.logistic.std, &e.incident_model.logistic.std));
    assert!(near(&[back.threshold], &[e.incident_model.threshold]));
    assert_eq!(back.logistic.names, FEATURE_NAMES);
    let bad = json.replace("\"slope_1h\"", "\"slope\"");
    assert!(IncidentModel::from_json(&bad).is_err());

    // Status of every tenant.
    let st = status_all(&series, Some(&e.incident_model), &cfg);
    assert_eq!(st.len(), tenants.len());
    for s in &st {
        assert_eq!(s.forecast.len(), cfg.forecast_hours);
        let p = s.incident_probability.unwrap();
        assert!((0.0..=1.0).contains(&p));
        assert_eq!(s.drivers.len(), 5);
    }
    assert!(
        st.windows(2)
            .all(|w| w[0].incident_probability >= w[1].incident_probability)
    );
    // The status computes the last bucket's features on a tail only: same numbers.
    let t0 = st.iter().find(|s| s.tenant == "t0").unwrap();
    let f = features(&series["t0"], &cfg);
    let p = e.incident_model.probability(f.last().unwrap());
    assert!(close(t0.incident_probability.unwrap(), p));
    let one = status("t0", &series["t0"], None, &cfg).unwrap();
    assert_eq!(one.incident_probability, None);
    assert!(
        serde_json::to_string(&one)
            .unwrap()
            .contains("\"direction\"")
    );
}
