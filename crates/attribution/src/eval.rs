//! How well the ranking names the right group, measured on pseudo-incidents drawn from
//! ATT&CK itself (the campaigns with a known attribution are held out of the shared data
//! for an independent evaluation).
//!
//! For every group with at least [`MIN_EVIDENCE`] techniques and software, each trial
//! draws a share of its techniques and software (at least two techniques) as the
//! incident, and adds `noise` techniques the group is not reported to use (drawn from all
//! techniques any group uses: what an incident also shows that has nothing to do with the
//! actor). Two settings:
//!
//! * [`Mode::Observed`]: the group's profile is left whole — the incident repeats part of
//!   what was reported, as a campaign written up from the same reports would (optimistic);
//! * [`Mode::HalfUnreported`]: every other drawn item is removed from the group's profile
//!   while it is ranked — half of the incident is what the actor was never reported doing;
//! * [`Mode::LeftOut`]: all the drawn evidence is removed from the group's profile, so the
//!   group can match it only through related techniques and its software (pessimistic:
//!   nothing of the incident was ever reported of the actor).
//!
//! Top-1, top-3 and the mean reciprocal rank (a group not ranked counts 0) are reported
//! for the ranking and for the exact-overlap baseline on the same incidents.

use crate::attack::{Attack, Group};
use crate::rank::{Evidence, Ranker, rank_by_overlap};
use serde::Serialize;
use std::collections::BTreeSet;

/// Groups with less evidence than this are not drawn from.
pub const MIN_EVIDENCE: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Observed,
    HalfUnreported,
    LeftOut,
}

/// Top-1, top-3 and mean reciprocal rank of one ranking.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Scores {
    pub top1: f64,
    pub top3: f64,
    pub mrr: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub mode: Mode,
    pub incidents: usize,
    pub groups: usize,
    pub share_drawn: f64,
    pub noise_techniques: usize,
    pub ranking: Scores,
    pub baseline: Scores,
}

/// A small deterministic generator (the same seed gives the same incidents).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// `k` distinct items of `items`, in a random order.
    fn choose(&mut self, items: &BTreeSet<String>, k: usize) -> Vec<String> {
        let mut all: Vec<String> = items.iter().cloned().collect();
        for i in (1..all.len()).rev() {
            all.swap(i, self.below(i + 1));
        }
        all.truncate(k);
        all
    }
}

fn add(scores: &mut Scores, rank: Option<usize>) {
    if let Some(r) = rank {
        scores.mrr += 1.0 / r as f64;
        scores.top1 += f64::from(u8::from(r == 1));
        scores.top3 += f64::from(u8::from(r <= 3));
    }
}

/// The figures of `trials` incidents per eligible group.
pub fn evaluate(
    attack: &Attack,
    mode: Mode,
    share: f64,
    noise: usize,
    trials: usize,
    seed: u64,
) -> Figures {
    evaluate_with(
        Ranker::new(attack),
        attack,
        mode,
        share,
        noise,
        trials,
        seed,
    )
}

/// [`evaluate`] with a given ranker (another specificity exponent).
pub fn evaluate_with(
    ranker: Ranker<'_>,
    attack: &Attack,
    mode: Mode,
    share: f64,
    noise: usize,
    trials: usize,
    seed: u64,
) -> Figures {
    let pool: Vec<&String> = attack
        .groups
        .iter()
        .flat_map(|g| g.techniques.iter())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rng = Rng(seed.max(1));
    let (mut ranking, mut baseline) = (Scores::default(), Scores::default());
    let mut incidents = 0usize;
    let eligible: Vec<&Group> = attack
        .groups
        .iter()
        .filter(|g| {
            g.techniques.len() + g.software.len() >= MIN_EVIDENCE && g.techniques.len() >= 2
        })
        .collect();
    for _ in 0..trials {
        for g in &eligible {
            let take = |n: usize| ((n as f64 * share).ceil() as usize).min(n);
            let mut evidence = Evidence {
                techniques: rng.choose(&g.techniques, take(g.techniques.len()).max(2)),
                software: rng.choose(&g.software, take(g.software.len())),
            };
            let mut added = 0;
            while added < noise {
                let t = pool[rng.below(pool.len())];
                if !g.techniques.contains(t) && !evidence.techniques.contains(t) {
                    evidence.techniques.push(t.clone());
                    added += 1;
                }
            }
            let reduced;
            let replaced = match mode {
                Mode::Observed => None,
                Mode::HalfUnreported | Mode::LeftOut => {
                    let step = if mode == Mode::LeftOut { 1 } else { 2 };
                    let mut r = (*g).clone();
                    for t in evidence.techniques.iter().step_by(step) {
                        r.techniques.remove(t);
                    }
                    for s in evidence.software.iter().step_by(step) {
                        r.software.remove(s);
                    }
                    reduced = r;
                    Some(&reduced)
                }
            };
            let ranked = ranker.rank(&evidence, replaced);
            add(
                &mut ranking,
                ranked.iter().position(|c| c.id == g.id).map(|i| i + 1),
            );
            let base = rank_by_overlap(attack, &evidence, replaced);
            add(
                &mut baseline,
                base.iter().position(|(id, _)| *id == g.id).map(|i| i + 1),
            );
            incidents += 1;
        }
    }
    let n = incidents.max(1) as f64;
    for s in [&mut ranking, &mut baseline] {
        s.top1 /= n;
        s.top3 /= n;
        s.mrr /= n;
    }
    Figures {
        mode,
        incidents,
        groups: eligible.len(),
        share_drawn: share,
        noise_techniques: noise,
        ranking,
        baseline,
    }
}
