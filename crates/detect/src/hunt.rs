//! Evaluating Sigma rules on events: the engine behind `haechi hunt` (and, next, the
//! streaming detector).
//!
//! rsigma's [`rsigma_eval::Engine`] compiles each rule once and indexes rules by the
//! fields and values they need (with Aho-Corasick over their literals), so an event is
//! only evaluated against rules that can match; [`crate::logsource`] restricts rules to
//! those whose logsource fits the event. The engine is `Send + Sync`: one is shared by
//! all threads.

use crate::logsource::event_logsources;
use crate::rules::{LoadedRule, RuleFailure, RuleInfo, RuleSet};
use crate::sigma_event::SigmaView;
use haechi_event::Event;
use rsigma_eval::{CorrelationConfig, CorrelationEngine, EvaluationResult};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Sigma levels in order, for `--min-level`.
pub const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

/// The rank of a level name (unknown names rank lowest).
pub fn level_rank(level: Option<&str>) -> usize {
    level
        .and_then(|l| LEVELS.iter().position(|x| *x == l))
        .unwrap_or(0)
}

/// Compiled rules and their attribution, and the state of the correlation rules.
pub struct Detector {
    /// One engine per logsource pattern of the rules (`product`, `category`, `service`,
    /// each possibly absent): an event meets only the engines whose pattern fits one of
    /// its logsources, so it is never tested against a rule of another logsource, and
    /// each engine's candidate search covers only its own rules.
    engines: HashMap<LogsourceKey, rsigma_eval::Engine>,
    infos: HashMap<String, RuleInfo>,
    /// Present when the set has correlation rules. Detection runs on all threads at
    /// once; only events with a detection of a rule that a correlation names take this
    /// lock, in arrival order.
    correlator: Option<Correlators>,
    /// Ids and names of the rules correlations refer to.
    correlated: HashSet<String>,
    /// Ids of rules that only feed correlations (Sigma's `generate: false`, the default):
    /// they raise no alert of their own.
    feeds_only: HashSet<String>,
}

/// One rule firing on one event.
#[derive(Debug, Clone)]
pub struct Detection<'d> {
    pub rule: &'d RuleInfo,
    /// The fields and values that made the rule match.
    pub matched: Vec<(String, String)>,
    /// For a correlation rule: what was counted.
    pub correlation: Option<CorrelationFacts>,
}

/// What a correlation rule counted when it fired.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CorrelationFacts {
    /// `event_count`, `value_count`, `temporal`, `temporal_ordered`, …
    pub kind: String,
    /// The `group-by` fields and their values.
    pub group: Vec<(String, String)>,
    /// The count (or distinct-value count) that met the condition.
    pub value: f64,
    pub timespan_secs: u64,
}

impl Detector {
    /// Compiles the loaded rules; those that fail to compile are returned with the reason.
    pub fn new(set: &RuleSet) -> (Detector, Vec<RuleFailure>) {
        let mut groups: HashMap<LogsourceKey, Vec<&LoadedRule>> = HashMap::new();
        for r in &set.rules {
            groups
                .entry(LogsourceKey::of_rule(&r.info))
                .or_default()
                .push(r);
        }
        let mut failures = Vec::new();
        let mut engines = HashMap::with_capacity(groups.len());
        for (key, rules) in groups {
            let mut engine = rsigma_eval::Engine::new();
            for (i, e) in engine.add_rules(rules.iter().map(|r| &r.rule)) {
                if let Some(r) = rules.get(i) {
                    failures.push(RuleFailure {
                        path: r.info.path.clone(),
                        reason: e.to_string(),
                    });
                }
            }
            engines.insert(key, engine);
        }
        let mut infos: HashMap<String, RuleInfo> = set
            .rules
            .iter()
            .map(|r| (r.info.id.clone(), r.info.clone()))
            .collect();
        let (correlator, correlated) = build_correlator(set, &mut infos, &mut failures);
        let feeds_only = feeds_only(set);
        (
            Detector {
                engines,
                infos,
                correlator,
                correlated,
                feeds_only,
            },
            failures,
        )
    }

    /// Every rule that fires on the event, once each, at or above `min_level` (a rank
    /// in [`LEVELS`]), followed by the correlation rules the event completes. Rules that
    /// only feed a correlation (Sigma's `generate: false`, the default) do not appear.
    pub fn detect(&self, event: &Event, min_level: usize) -> Vec<Detection<'_>> {
        let view = SigmaView::new(event);
        let mut keys: Vec<LogsourceKey> = Vec::with_capacity(8);
        for ls in event_logsources(event) {
            for key in LogsourceKey::patterns_fitting(&ls) {
                if !keys.contains(&key) && self.engines.contains_key(&key) {
                    keys.push(key);
                }
            }
        }
        let mut results: Vec<EvaluationResult> = Vec::new();
        for key in &keys {
            if let Some(engine) = self.engines.get(key) {
                results.extend(engine.evaluate(&view));
            }
        }
        if let Some(correlator) = &self.correlator
            && results
                .iter()
                .any(|r| self.correlated.contains(result_key(r)))
        {
            results = correlator.process(event, &view, results);
        }
        results
            .iter()
            .filter(|r| !self.feeds_only.contains(result_key(r)))
            .filter_map(|r| self.detection(r))
            .filter(|d| level_rank(d.rule.level.as_deref()) >= min_level)
            .collect()
    }

    fn detection(&self, result: &EvaluationResult) -> Option<Detection<'_>> {
        let rule = self.infos.get(result_key(result))?;
        let matched = result
            .as_detection()
            .map(|d| {
                d.matched_fields
                    .iter()
                    .map(|f| (f.field.clone(), json_text(&f.value)))
                    .collect()
            })
            .unwrap_or_default();
        let correlation = result.as_correlation().map(|c| CorrelationFacts {
            kind: format!("{:?}", c.correlation_type).to_lowercase(),
            group: c.group_key.clone(),
            value: c.aggregated_value,
            timespan_secs: c.timespan_secs,
        });
        Some(Detection {
            rule,
            matched,
            correlation,
        })
    }

    /// How many rules are compiled (detection and correlation).
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }

    /// How many correlation groups hold state (for metrics).
    pub fn correlation_state_count(&self) -> usize {
        self.correlator.as_ref().map_or(0, Correlators::state_count)
    }

    /// Moves the correlation state of `previous` into this detector (after a rule
    /// reload), so that counts in progress survive; groups of removed rules are dropped.
    pub fn take_correlation_state(&self, previous: &Detector) {
        let (Some(new), Some(old)) = (&self.correlator, &previous.correlator) else {
            return;
        };
        new.take_state(old);
    }
}

/// A logsource pattern: what a rule's `logsource` names (lowercase; `None` = any).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LogsourceKey {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
}

impl LogsourceKey {
    fn of_rule(rule: &RuleInfo) -> Self {
        let lower = |s: &Option<String>| s.as_ref().map(|s| s.to_lowercase());
        LogsourceKey {
            product: lower(&rule.product),
            category: lower(&rule.category),
            service: lower(&rule.service),
        }
    }

    /// The patterns a concrete event logsource satisfies: each attribute either as the
    /// event has it or absent (Sigma: a rule constrains only what it names).
    fn patterns_fitting(event: &rsigma_parser::LogSource) -> impl Iterator<Item = Self> + '_ {
        let lower = |s: &Option<String>| s.as_ref().map(|s| s.to_lowercase());
        let (p, c, s) = (
            lower(&event.product),
            lower(&event.category),
            lower(&event.service),
        );
        (0..8u8).filter_map(move |mask| {
            let pick = |bit: u8, v: &Option<String>| {
                if mask & bit == 0 {
                    Some(None)
                } else {
                    v.clone().map(Some)
                }
            };
            Some(LogsourceKey {
                product: pick(1, &p)?,
                category: pick(2, &c)?,
                service: pick(4, &s)?,
            })
        })
    }
}

/// The id a result is known by: the rule id, or its title for rules without one.
fn result_key(result: &EvaluationResult) -> &str {
    result
        .header
        .rule_id
        .as_deref()
        .unwrap_or(&result.header.rule_title)
}

/// A matched value as text (strings without their JSON quotes).
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The ids of the rules (detection or correlation) named by a correlation without
/// `generate: true`. References may be ids or names; rsigma's own filter only resolves
/// ids, so Haechi resolves both here.
fn feeds_only(set: &RuleSet) -> HashSet<String> {
    let mut by_ref: HashMap<&str, String> = HashMap::new();
    let identities = set
        .rules
        .iter()
        .map(|r| (&r.rule.id, &r.rule.name, &r.info.id))
        .chain(
            set.correlations
                .iter()
                .map(|c| (&c.rule.id, &c.rule.name, &c.info.id)),
        );
    for (id, name, key) in identities {
        for r in [id, name].into_iter().flatten() {
            by_ref.insert(r.as_str(), key.clone());
        }
    }
    set.correlations
        .iter()
        .filter(|c| !c.rule.generate)
        .flat_map(|c| c.rule.rules.iter())
        .filter_map(|r| by_ref.get(r.as_str()).cloned())
        .collect()
}

/// The correlation engine for the set's correlation rules, fed with the detections of
/// the main engine (so rules are compiled for evaluation once); `None` without
/// correlation rules. A correlation naming a rule that is not loaded is a failure.
fn build_correlator(
    set: &RuleSet,
    infos: &mut HashMap<String, RuleInfo>,
    failures: &mut Vec<RuleFailure>,
) -> (Option<Correlators>, HashSet<String>) {
    let mut correlated = HashSet::new();
    if set.correlations.is_empty() {
        return (None, correlated);
    }
    let mut correlator = CorrelationEngine::new(CorrelationConfig::default());
    let (mut rules, mut correlations) = (Vec::new(), Vec::new());
    let mut known: HashSet<&str> = HashSet::new();
    for r in &set.rules {
        known.extend(r.rule.id.as_deref());
        known.extend(r.rule.name.as_deref());
    }
    for c in &set.correlations {
        known.extend(c.rule.id.as_deref());
        known.extend(c.rule.name.as_deref());
    }
    let referenced: HashSet<&str> = set
        .correlations
        .iter()
        .flat_map(|c| c.rule.rules.iter().map(String::as_str))
        .collect();
    // The correlator must know the identity (id and name) of every referenced rule.
    for r in &set.rules {
        let named = r.rule.id.as_deref().is_some_and(|i| referenced.contains(i))
            || r.rule
                .name
                .as_deref()
                .is_some_and(|n| referenced.contains(n));
        if named {
            match correlator.add_rule(&r.rule) {
                Ok(()) => rules.push(r.rule.clone()),
                Err(e) => failures.push(RuleFailure {
                    path: r.info.path.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        if named {
            correlated.extend(r.rule.id.clone());
            correlated.extend(r.rule.name.clone());
        }
    }
    for c in &set.correlations {
        if let Some(missing) = c.rule.rules.iter().find(|r| !known.contains(r.as_str())) {
            failures.push(RuleFailure {
                path: c.info.path.clone(),
                reason: format!(
                    "correlation '{}' names rule '{missing}', which is not loaded",
                    c.info.title
                ),
            });
            continue;
        }
        match correlator.add_correlation(&c.rule) {
            Ok(()) => {
                infos.insert(c.info.id.clone(), c.info.clone());
                correlations.push(c.rule.clone());
            }
            Err(e) => failures.push(RuleFailure {
                path: c.info.path.clone(),
                reason: e.to_string(),
            }),
        }
    }
    (
        Some(Correlators {
            rules,
            correlations,
            by_tenant: Mutex::new(HashMap::new()),
        }),
        correlated,
    )
}

/// Correlation state, one engine per tenant: a count never mixes two institutions'
/// events, and one tenant's flood of groups cannot evict another's state.
struct Correlators {
    /// The referenced rules and correlations every tenant's engine is built from (all
    /// known to compile).
    rules: Vec<rsigma_parser::SigmaRule>,
    correlations: Vec<rsigma_parser::CorrelationRule>,
    by_tenant: Mutex<HashMap<Arc<str>, CorrelationEngine>>,
}

/// How far in the future an event's time may lie before correlation uses the arrival
/// clock instead: a forged or skewed timestamp must not expire every window at once.
const MAX_FUTURE_SKEW_SECS: i64 = 300;

impl Correlators {
    fn engine(&self) -> CorrelationEngine {
        let mut engine = CorrelationEngine::new(CorrelationConfig::default());
        for r in &self.rules {
            let _ = engine.add_rule(r);
        }
        for c in &self.correlations {
            let _ = engine.add_correlation(c);
        }
        engine
    }

    /// Feeds one event's detections to its tenant's correlations (in the order events
    /// reach this lock); returns the detections and the correlations that fired.
    fn process(
        &self,
        event: &Event,
        view: &SigmaView<'_>,
        results: Vec<EvaluationResult>,
    ) -> Vec<EvaluationResult> {
        let now = chrono::Utc::now().timestamp();
        let secs = event
            .timestamp
            .nanos()
            .div_euclid(1_000_000_000)
            .min(now + MAX_FUTURE_SKEW_SECS);
        let mut tenants = self.by_tenant.lock().unwrap_or_else(|e| e.into_inner());
        let engine = tenants
            .entry(event.tenant.clone())
            .or_insert_with(|| self.engine());
        engine.process_with_detections(view, results, secs)
    }

    fn state_count(&self) -> usize {
        self.by_tenant
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(CorrelationEngine::state_count)
            .sum()
    }

    /// Moves every tenant's state from `old` (before a rule reload).
    fn take_state(&self, old: &Correlators) {
        let old = old.by_tenant.lock().unwrap_or_else(|e| e.into_inner());
        let mut new = self.by_tenant.lock().unwrap_or_else(|e| e.into_inner());
        for (tenant, engine) in old.iter() {
            let mut fresh = self.engine();
            fresh.import_state(engine.export_state());
            new.insert(tenant.clone(), fresh);
        }
    }
}
