#![allow(dead_code)]

use haechi_event::{AlertSource, Level, Timestamp};
use haechi_risk::{Bucket, Counts, Observation};

pub const S: i64 = 1_000_000_000;
pub const HOUR: i64 = 3600 * S;
pub const DAY: i64 = 24 * HOUR;

/// A fixed day (2026-01-05T00:00:00Z) so tests never depend on the clock.
pub const T0: i64 = 1_767_571_200 * S;

pub fn obs(
    tenant: &str,
    t: i64,
    kind: AlertSource,
    level: Level,
    count: u32,
    attacker: Option<&str>,
) -> Observation {
    Observation {
        tenant: tenant.into(),
        time: Timestamp(t),
        kind,
        level,
        count,
        attacker: attacker.map(str::to_owned),
        score: None,
    }
}

pub fn sigma(tenant: &str, t: i64, level: Level, attacker: Option<&str>) -> Observation {
    obs(tenant, t, AlertSource::Sigma, level, 1, attacker)
}

/// splitmix64: deterministic pseudo-random numbers for tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.f64().max(1e-300);
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// A bucket with only an index and an alert count (for baseline/forecast/evaluation tests).
pub fn bucket(start: i64, index: f64, alerts: u32) -> Bucket {
    Bucket {
        start: Timestamp(start),
        index,
        counts: Counts {
            alerts,
            ..Counts::default()
        },
        ..Bucket::default()
    }
}
