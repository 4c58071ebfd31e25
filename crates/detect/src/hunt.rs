//! Evaluating Sigma rules on events: the engine behind `haechi hunt` (and, next, the
//! streaming detector).
//!
//! rsigma's [`rsigma_eval::Engine`] compiles each rule once and indexes rules by the
//! fields and values they need (with Aho-Corasick over their literals), so an event is
//! only evaluated against rules that can match; [`crate::logsource`] restricts rules to
//! those whose logsource fits the event. The engine is `Send + Sync`: one is shared by
//! all threads.

use crate::logsource::event_logsources;
use crate::rules::{RuleFailure, RuleInfo, RuleSet};
use crate::sigma_event::SigmaView;
use haechi_event::Event;
use std::collections::HashMap;

/// Sigma levels in order, for `--min-level`.
pub const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

/// The rank of a level name (unknown names rank lowest).
pub fn level_rank(level: Option<&str>) -> usize {
    level
        .and_then(|l| LEVELS.iter().position(|x| *x == l))
        .unwrap_or(0)
}

/// Compiled rules and their attribution.
pub struct Detector {
    engine: rsigma_eval::Engine,
    infos: HashMap<String, RuleInfo>,
}

/// One rule firing on one event.
#[derive(Debug, Clone)]
pub struct Detection<'d> {
    pub rule: &'d RuleInfo,
    /// The fields and values that made the rule match.
    pub matched: Vec<(String, String)>,
}

impl Detector {
    /// Compiles the loaded rules; those that fail to compile are returned with the reason.
    pub fn new(set: &RuleSet) -> (Detector, Vec<RuleFailure>) {
        let mut engine = rsigma_eval::Engine::new();
        let errors = engine.add_rules(set.rules.iter().map(|r| &r.rule));
        let failures = errors
            .into_iter()
            .filter_map(|(i, e)| {
                set.rules.get(i).map(|r| RuleFailure {
                    path: r.info.path.clone(),
                    reason: e.to_string(),
                })
            })
            .collect();
        let infos = set
            .rules
            .iter()
            .map(|r| (r.info.id.clone(), r.info.clone()))
            .collect();
        (Detector { engine, infos }, failures)
    }

    /// Every rule that fires on the event, once each, at or above `min_level`.
    pub fn detect(&self, event: &Event, min_level: usize) -> Vec<Detection<'_>> {
        let view = SigmaView::new(event);
        let mut out: Vec<Detection<'_>> = Vec::new();
        for logsource in event_logsources(event) {
            for result in self.engine.evaluate_with_logsource(&view, &logsource) {
                let key = result
                    .header
                    .rule_id
                    .clone()
                    .unwrap_or_else(|| result.header.rule_title.clone());
                let Some(rule) = self.infos.get(&key) else {
                    continue;
                };
                if level_rank(rule.level.as_deref()) < min_level
                    || out.iter().any(|d| d.rule.id == rule.id)
                {
                    continue;
                }
                let matched = result
                    .as_detection()
                    .map(|d| {
                        d.matched_fields
                            .iter()
                            .map(|f| (f.field.clone(), format!("{}", f.value)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Detection { rule, matched });
            }
        }
        out
    }

    /// How many rules are compiled.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }
}
