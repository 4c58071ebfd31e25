mod common;

use common::*;
use haechi_event::{AlertSource, Level, Timestamp};
use haechi_risk::{Observation, RiskConfig, compute};
use std::collections::{BTreeSet, HashMap};

fn index_of(obs: &[Observation], tenant: &str, cfg: &RiskConfig) -> f64 {
    let s = compute(obs, Timestamp(T0), Timestamp(T0 + 300 * S), cfg).unwrap();
    assert_eq!(s[tenant].len(), 1);
    s[tenant][0].index
}

#[test]
fn severity_ordering_raises_the_index() {
    let cfg = RiskConfig::default();
    let by_level: Vec<f64> = Level::ALL
        .iter()
        .map(|&l| index_of(&[sigma("t", T0 + 10 * S, l, None)], "t", &cfg))
        .collect();
    assert_eq!(by_level[0], 0.0, "informational weighs nothing");
    for w in by_level.windows(2) {
        assert!(w[1] > w[0], "{by_level:?}");
    }
    assert!(by_level.iter().all(|i| (0.0..=100.0).contains(i)));
    let two_high = index_of(
        &[
            sigma("t", T0 + 10 * S, Level::High, None),
            sigma("t", T0 + 20 * S, Level::High, None),
        ],
        "t",
        &cfg,
    );
    assert!(two_high > by_level[3], "more alerts, more risk");
}

#[test]
fn one_noisy_rule_does_not_dominate() {
    let cfg = RiskConfig::default();
    let noisy = index_of(
        &[obs("t", T0, AlertSource::Sigma, Level::Medium, 1000, None)],
        "t",
        &cfg,
    );
    let critical = index_of(&[sigma("t", T0, Level::Critical, None)], "t", &cfg);
    assert!(
        noisy < critical,
        "1000 merged mediums {noisy} vs one critical {critical}"
    );
    let many = index_of(
        &(0..200)
            .map(|i| sigma("t", T0 + i * S, Level::Low, None))
            .collect::<Vec<_>>(),
        "t",
        &cfg,
    );
    assert!(many < 60.0, "200 low alerts saturate: {many}");
}

#[test]
fn components_sum_to_the_index() {
    let cfg = RiskConfig::default();
    let mut o = vec![
        sigma("t", T0, Level::High, Some("198.51.100.1")),
        obs(
            "t",
            T0,
            AlertSource::Indicator,
            Level::Medium,
            2,
            Some("evil.com"),
        ),
        obs(
            "u",
            T0,
            AlertSource::Indicator,
            Level::Medium,
            1,
            Some("evil.com"),
        ),
    ];
    let mut m = obs("t", T0, AlertSource::Model, Level::High, 1, Some("qx.biz"));
    m.score = Some(0.9);
    o.push(m);
    let s = compute(&o, Timestamp(T0), Timestamp(T0 + 1), &cfg).unwrap();
    let b = &s["t"][0];
    let c = b.components;
    let sum = c.severity + c.ml + c.indicators + c.sources + c.cross_tenant;
    assert!((sum - b.index).abs() < 1e-9, "{b:?}");
    assert!(c.severity > 0.0 && c.ml > 0.0 && c.indicators > 0.0 && c.sources > 0.0);
    assert!(c.cross_tenant > 0.0);
    assert_eq!(b.counts.sources, 3);
    assert_eq!(b.counts.cross_tenant, 1);
    assert_eq!(b.counts.indicators, 2);
    assert_eq!(b.counts.model, 1);
}

#[test]
fn one_attacker_at_three_tenants_raises_all_three() {
    let cfg = RiskConfig::default();
    let tenants = ["city", "water", "school"];
    let shared: Vec<Observation> = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| sigma(t, T0 + i as i64 * 60 * S, Level::High, Some("198.51.100.7")))
        .collect();
    let distinct: Vec<Observation> = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let a = format!("198.51.100.{}", 10 + i);
            sigma(t, T0 + i as i64 * 60 * S, Level::High, Some(&a))
        })
        .collect();
    let a = compute(&shared, Timestamp(T0), Timestamp(T0 + 300 * S), &cfg).unwrap();
    let b = compute(&distinct, Timestamp(T0), Timestamp(T0 + 300 * S), &cfg).unwrap();
    for t in tenants {
        let (x, y) = (&a[t][0], &b[t][0]);
        assert!(
            x.index > y.index,
            "{t}: shared {} vs distinct {}",
            x.index,
            y.index
        );
        assert_eq!(x.counts.cross_tenant, 2, "{t} sees two other tenants");
        assert_eq!(x.counts.shared_attackers, 1);
        assert_eq!(y.counts.cross_tenant, 0);
        assert_eq!(x.counts.sources, y.counts.sources);
    }
    // Proportional to how many others saw it: two tenants raise less than three.
    let two = compute(&shared[..2], Timestamp(T0), Timestamp(T0 + 300 * S), &cfg).unwrap();
    assert!(two["city"][0].components.cross_tenant < a["city"][0].components.cross_tenant);
}

#[test]
fn private_addresses_are_not_cross_tenant_evidence_by_default() {
    let o = vec![
        sigma("a", T0, Level::High, Some("10.0.0.5")),
        sigma("b", T0, Level::High, Some("10.0.0.5")),
    ];
    let mut cfg = RiskConfig::default();
    let s = compute(&o, Timestamp(T0), Timestamp(T0 + 1), &cfg).unwrap();
    assert_eq!(s["a"][0].counts.cross_tenant, 0);
    assert_eq!(s["a"][0].counts.sources, 0);
    cfg.ignore_private_attackers = false;
    let s = compute(&o, Timestamp(T0), Timestamp(T0 + 1), &cfg).unwrap();
    assert_eq!(s["a"][0].counts.cross_tenant, 1);
}

#[test]
fn cross_tenant_is_causal_and_windowed() {
    let cfg = RiskConfig::default(); // 6 h window
    let o = vec![
        sigma("a", T0 + HOUR, Level::High, Some("203.0.113.5")),
        sigma("b", T0 + 2 * HOUR, Level::High, Some("203.0.113.5")),
        sigma("c", T0 + 15 * HOUR / 2, Level::High, Some("203.0.113.5")),
    ];
    let s = compute(&o, Timestamp(T0), Timestamp(T0 + 10 * HOUR), &cfg).unwrap();
    let at = |t: &str, h: f64| s[t][(h * 12.0) as usize].counts.cross_tenant;
    assert_eq!(at("a", 1.0), 0, "b's later sighting is not known yet");
    assert_eq!(at("b", 2.0), 1, "a saw it an hour before");
    assert_eq!(
        at("c", 7.5),
        1,
        "b (5.5 h before) is in the window, a (6.5 h) is not"
    );
}

#[test]
fn recomputing_a_recent_range_gives_the_same_buckets() {
    let cfg = RiskConfig::default();
    let mut rng = Rng(7);
    let o: Vec<Observation> = (0..3000)
        .map(|_| {
            let t = format!("t{}", rng.below(4));
            let a = format!("198.51.100.{}", rng.below(30));
            sigma(
                &t,
                T0 + rng.below(2 * 86400) as i64 * S,
                Level::ALL[rng.below(5) as usize],
                Some(&a),
            )
        })
        .collect();
    let full = compute(&o, Timestamp(T0), Timestamp(T0 + 2 * DAY), &cfg).unwrap();
    let mid = T0 + 30 * HOUR;
    let part = compute(&o, Timestamp(mid), Timestamp(T0 + 2 * DAY), &cfg).unwrap();
    for (t, buckets) in &part {
        let off = full[t].len() - buckets.len();
        assert_eq!(&full[t][off..], &buckets[..], "{t}");
    }
}

/// The O(n) sliding-window computation against a direct O(n²) one.
#[test]
fn cross_tenant_matches_brute_force() {
    let cfg = RiskConfig {
        correlation_window_secs: 2 * 3600,
        ..RiskConfig::default()
    };
    let mut rng = Rng(42);
    let o: Vec<Observation> = (0..2000)
        .map(|_| {
            let t = format!("t{}", rng.below(6));
            let a = format!("203.0.113.{}", rng.below(40));
            sigma(&t, T0 + rng.below(86400) as i64 * S, Level::Low, Some(&a))
        })
        .collect();
    let s = compute(&o, Timestamp(T0 + 3 * HOUR), Timestamp(T0 + DAY), &cfg).unwrap();
    let bns = 300 * S;
    let w = 24; // window in buckets
    // (tenant, bucket) -> distinct attackers; (attacker) -> [(bucket, tenant)]
    let mut seen: HashMap<(String, i64), BTreeSet<String>> = HashMap::new();
    let mut sightings: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for x in &o {
        let b = x.time.0.div_euclid(bns);
        let a = x.attacker.clone().unwrap();
        seen.entry((x.tenant.clone(), b))
            .or_default()
            .insert(a.clone());
        sightings.entry(a).or_default().push((b, x.tenant.clone()));
    }
    let mut checked = 0;
    for (t, buckets) in &s {
        for bk in buckets {
            let b = bk.start.0 / bns;
            let attackers = seen.get(&(t.clone(), b)).cloned().unwrap_or_default();
            let mut cross = 0;
            for a in &attackers {
                let others: BTreeSet<&String> = sightings[a]
                    .iter()
                    .filter(|(bb, tt)| *bb <= b && *bb > b - w && tt != t)
                    .map(|(_, tt)| tt)
                    .collect();
                cross += others.len() as u32;
            }
            assert_eq!(bk.counts.sources, attackers.len() as u32, "{t} {b}");
            assert_eq!(bk.counts.cross_tenant, cross, "{t} {b}");
            checked += u32::from(cross > 0);
        }
    }
    assert!(checked > 100, "the case exercises the window: {checked}");
}

#[test]
fn empty_and_bad_input() {
    let cfg = RiskConfig::default();
    assert!(
        compute(&[], Timestamp(T0), Timestamp(T0), &cfg)
            .unwrap()
            .is_empty()
    );
    let bad = RiskConfig {
        bucket_secs: 7,
        ..RiskConfig::default()
    };
    assert!(compute(&[], Timestamp(T0), Timestamp(T0 + DAY), &bad).is_err());
    let cfg: RiskConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, RiskConfig::default(), "every field has a default");
}

/// The figures quoted in the crate essay.
#[test]
fn the_essay_examples() {
    let cfg = RiskConfig::default();
    let high = index_of(&[sigma("t", T0, Level::High, None)], "t", &cfg);
    let critical = index_of(&[sigma("t", T0, Level::Critical, None)], "t", &cfg);
    assert!((high - 19.9).abs() < 0.1, "{high}");
    assert!((critical - 42.6).abs() < 0.1, "{critical}");
    let a = Some("198.51.100.66");
    let o = vec![
        sigma("t", T0, Level::Critical, a),
        obs("t", T0, AlertSource::Indicator, Level::High, 1, a),
        sigma("u", T0, Level::Low, a),
        sigma("v", T0, Level::Low, a),
    ];
    let x = index_of(&o, "t", &cfg);
    assert!((x - 70.9).abs() < 0.2, "{x}");
}
