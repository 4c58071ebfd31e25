//! Measures the risk index on synthetic observations:
//! `cargo run --release -p haechi-risk --example throughput -- [observations] [tenants] [days]`.

use haechi_event::{AlertSource, Level, Timestamp};
use haechi_risk::{Dataset, Incident, Observation, RiskConfig, compute, evaluate, status_all};
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000) as usize;
    let tenants = args.get(1).copied().unwrap_or(100);
    let days = args.get(2).copied().unwrap_or(30) as i64;
    let s = 1_000_000_000i64;
    let t0 = 1_767_571_200 * s;
    let mut x: u64 = 1;
    let mut rnd = move || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let names: Vec<String> = (0..tenants).map(|i| format!("tenant-{i:03}")).collect();
    let kinds = [
        AlertSource::Sigma,
        AlertSource::Correlation,
        AlertSource::Indicator,
        AlertSource::Model,
    ];
    let obs: Vec<Observation> = (0..n)
        .map(|_| {
            let r = rnd();
            let a = rnd() % 50_000;
            Observation {
                tenant: names[(r % tenants) as usize].clone(),
                time: Timestamp(t0 + (rnd() % (days as u64 * 86_400)) as i64 * s),
                kind: kinds[(r >> 20) as usize % 4],
                level: Level::ALL[(r >> 24) as usize % 5],
                count: 1 + (r >> 32) as u32 % 5,
                attacker: ((r >> 40) % 3 != 0).then(|| {
                    if a % 10 == 0 {
                        format!("10.{}.{}.{}", a % 256, (a >> 8) % 256, 7)
                    } else {
                        format!(
                            "{}.{}.{}.{}",
                            20 + a % 200,
                            (a >> 3) % 256,
                            (a >> 5) % 256,
                            9
                        )
                    }
                }),
                score: Some(((r >> 48) % 1000) as f32 / 1000.0),
            }
        })
        .collect();
    let cfg = RiskConfig::default();
    let (from, to) = (Timestamp(t0), Timestamp(t0 + days * 86_400 * s));
    let mut best = f64::MAX;
    let mut series = Default::default();
    for _ in 0..3 {
        let t = Instant::now();
        series = compute(&obs, from, to, &cfg).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
    }
    let buckets: usize = series.values().map(Vec::len).sum();
    println!(
        "compute: {n} observations, {tenants} tenants, {days} days → {buckets} buckets in {:.3} s (best of 3), {:.1} M obs/s",
        best,
        n as f64 / best / 1e6
    );
    let incidents: Vec<Incident> = (0..200)
        .map(|i| {
            let st = t0 + (rnd() % (days as u64 * 86_400)) as i64 * s;
            Incident {
                tenant: names[i % names.len()].clone(),
                start: Timestamp(st),
                end: Timestamp(st + 3600 * s),
            }
        })
        .collect();
    let t = Instant::now();
    let ds = Dataset::new(&series, &incidents, &cfg);
    println!(
        "features + labels: {} rows in {:.3} s",
        ds.rows.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let e = evaluate(
        &series,
        &incidents,
        Timestamp(t0 + days * 86_400 * s * 2 / 3),
        &cfg,
    )
    .unwrap();
    println!(
        "evaluate (features, IRLS on {} buckets, {} iterations, scoring): {:.3} s",
        e.train.buckets,
        e.incident_model.logistic.iterations,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let st = status_all(&series, Some(&e.incident_model), &cfg);
    println!(
        "status of {} tenants: {:.3} s",
        st.len(),
        t.elapsed().as_secs_f64()
    );
}
