//! Ranking intrusion sets by similarity to an incident.
//!
//! Every item of evidence (a technique or a software) weighs its specificity: the inverse
//! document frequency over the groups, `ln((N + 1) / (df + 1)) + 1`, software counting
//! twice (a malware family says more than a technique). A group matches a technique fully
//! when it is reported to use it; for a quarter when it uses a related one (the same base
//! technique: `T1059.001` and `T1059.003`), or when one of its software is reported to do
//! it; a software only fully. Two shares make the score:
//!
//! * coverage: how much of the incident the group explains, `Σ credit·w / Σ w` over the
//!   incident's evidence;
//! * specificity: how much of the group's profile the incident shows, the weight of the
//!   group's techniques and software that earned credit over the weight of its whole
//!   profile.
//!
//! `score = coverage · specificity^ALPHA` (ALPHA = [`SPECIFICITY_EXPONENT`]), from 0 to 1:
//! explaining the incident comes first, and among groups that explain it alike the one
//! with the narrower profile ranks higher, so that a group reported with a hundred
//! techniques does not win every ranking by matching something of everything, and a
//! group reported with one does not win by matching that one. The baseline
//! [`rank_by_overlap`] counts the exact matches.

use crate::attack::{Attack, Group, base_technique};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What an incident showed: ATT&CK technique ids (`T1059.001`) and software ids (`S0154`).
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub techniques: Vec<String>,
    pub software: Vec<String>,
}

/// A technique matched in part, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Partial {
    pub technique: String,
    /// `related technique T1059.003`, or `through its software S0154`.
    pub via: String,
}

/// One ranked group with the evidence behind its score.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub id: String,
    pub name: String,
    pub score: f64,
    pub matched_techniques: Vec<String>,
    pub matched_software: Vec<String>,
    pub partial_techniques: Vec<Partial>,
    pub unmatched_techniques: Vec<String>,
    pub unmatched_software: Vec<String>,
}

/// The weights of the evidence over a set of groups, computed once.
pub struct Ranker<'a> {
    attack: &'a Attack,
    technique_df: HashMap<&'a str, usize>,
    software_df: HashMap<&'a str, usize>,
    groups: usize,
    alpha: f64,
}

/// Credit for a related technique or one a group's software does (chosen on the dev
/// pseudo-incidents between 0.25 and 0.5).
const PARTIAL: f64 = 0.25;
/// How much more a software weighs than a technique of the same rarity.
const SOFTWARE_FACTOR: f64 = 2.0;
/// How much the specificity counts beside the coverage (chosen on the dev pseudo-incidents
/// among 0, 0.25 and 0.5; see the model card).
pub const SPECIFICITY_EXPONENT: f64 = 0.25;

impl<'a> Ranker<'a> {
    pub fn new(attack: &'a Attack) -> Ranker<'a> {
        let mut technique_df: HashMap<&str, usize> = HashMap::new();
        let mut software_df: HashMap<&str, usize> = HashMap::new();
        for g in &attack.groups {
            for t in &g.techniques {
                *technique_df.entry(t).or_default() += 1;
            }
            for s in &g.software {
                *software_df.entry(s).or_default() += 1;
            }
        }
        Ranker {
            attack,
            technique_df,
            software_df,
            groups: attack.groups.len(),
            alpha: SPECIFICITY_EXPONENT,
        }
    }

    /// The same ranking with another specificity exponent (for the evaluation).
    pub fn with_specificity_exponent(mut self, alpha: f64) -> Ranker<'a> {
        self.alpha = alpha;
        self
    }

    fn idf(&self, df: usize) -> f64 {
        ((self.groups as f64 + 1.0) / (df as f64 + 1.0)).ln() + 1.0
    }

    pub fn technique_weight(&self, t: &str) -> f64 {
        self.idf(self.technique_df.get(t).copied().unwrap_or(0))
    }

    pub fn software_weight(&self, s: &str) -> f64 {
        SOFTWARE_FACTOR * self.idf(self.software_df.get(s).copied().unwrap_or(0))
    }

    fn mass(&self, g: &Group) -> f64 {
        let t: f64 = g.techniques.iter().map(|t| self.technique_weight(t)).sum();
        let s: f64 = g.software.iter().map(|s| self.software_weight(s)).sum();
        t + s
    }

    /// One group's candidate entry for `evidence`.
    pub fn score(&self, g: &Group, evidence: &Evidence) -> Candidate {
        let mut c = Candidate {
            id: g.id.clone(),
            name: g.name.clone(),
            score: 0.0,
            matched_techniques: Vec::new(),
            matched_software: Vec::new(),
            partial_techniques: Vec::new(),
            unmatched_techniques: Vec::new(),
            unmatched_software: Vec::new(),
        };
        let (mut explained, mut total) = (0.0f64, 0.0f64);
        // The group's items that earned credit, each counted once.
        let mut shown: HashSet<&str> = HashSet::new();
        for t in &evidence.techniques {
            let w = self.technique_weight(t);
            total += w;
            if let Some(own) = g.techniques.get(t) {
                explained += w;
                shown.insert(own);
                c.matched_techniques.push(t.clone());
            } else if let Some((item, via)) = self.related(g, t) {
                explained += PARTIAL * w;
                shown.insert(item);
                c.partial_techniques.push(Partial {
                    technique: t.clone(),
                    via,
                });
            } else {
                c.unmatched_techniques.push(t.clone());
            }
        }
        for s in &evidence.software {
            let w = self.software_weight(s);
            total += w;
            if let Some(own) = g.software.get(s) {
                explained += w;
                shown.insert(own);
                c.matched_software.push(s.clone());
            } else {
                c.unmatched_software.push(s.clone());
            }
        }
        let mass = self.mass(g);
        if total > 0.0 && mass > 0.0 && explained > 0.0 {
            let shown_mass: f64 = shown
                .iter()
                .map(|i| {
                    if g.software.contains(*i) {
                        self.software_weight(i)
                    } else {
                        self.technique_weight(i)
                    }
                })
                .sum();
            let coverage = explained / total;
            let specificity = (shown_mass / mass).min(1.0);
            c.score = coverage * specificity.powf(self.alpha);
        }
        c
    }

    /// Why `g` gets partial credit for `t`: a related technique, or one of its software
    /// does it; with the group's item that earns it.
    fn related<'g>(&self, g: &'g Group, t: &str) -> Option<(&'g str, String)> {
        let base = base_technique(t);
        if let Some(r) = g.techniques.iter().find(|x| base_technique(x) == base) {
            return Some((r, format!("related technique {r}")));
        }
        g.software
            .iter()
            .find(|s| {
                self.attack
                    .software_techniques
                    .get(*s)
                    .is_some_and(|ts| ts.contains(t))
            })
            .map(|s| (s.as_str(), format!("through its software {s}")))
    }

    /// Every group with a score above 0, best first; `replaced` stands in for the group
    /// of the same id (an evaluation removes evidence from one profile).
    pub fn rank(&self, evidence: &Evidence, replaced: Option<&Group>) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = self
            .attack
            .groups
            .iter()
            .map(|g| match replaced {
                Some(r) if r.id == g.id => self.score(r, evidence),
                _ => self.score(g, evidence),
            })
            .filter(|c| c.score > 0.0)
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        out
    }
}

/// The groups ranked for `evidence` (see the module).
pub fn rank(attack: &Attack, evidence: &Evidence) -> Vec<Candidate> {
    Ranker::new(attack).rank(evidence, None)
}

/// The baseline: groups by the number of techniques and software they share exactly with
/// the incident (ties by id).
pub fn rank_by_overlap(
    attack: &Attack,
    evidence: &Evidence,
    replaced: Option<&Group>,
) -> Vec<(String, usize)> {
    let techniques: HashSet<&String> = evidence.techniques.iter().collect();
    let software: HashSet<&String> = evidence.software.iter().collect();
    let mut out: Vec<(String, usize)> = attack
        .groups
        .iter()
        .map(|g| {
            let g = match replaced {
                Some(r) if r.id == g.id => r,
                _ => g,
            };
            let n = g
                .techniques
                .iter()
                .filter(|t| techniques.contains(t))
                .count()
                + g.software.iter().filter(|s| software.contains(s)).count();
            (g.id.clone(), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}
