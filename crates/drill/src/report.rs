//! Scoring a drill. A run's technique is detected when an alert raised while the run was
//! replayed carries its ATT&CK tag (`attack.t1053.005`) or its parent's (`attack.t1053`), or when
//! the run's tag is the parent of the alert's; the time to detect is from the run's first
//! injected event to the first such alert. Every other alert of the drill is listed
//! under `other_alerts` (what officers would also have faced).

use crate::record::DrillRecord;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TechniqueScore {
    pub technique: String,
    pub dataset: String,
    pub title: String,
    pub detected: bool,
    pub time_to_detect_s: Option<f64>,
    /// The rules whose alerts carried the technique (`title (id)`).
    pub rules: Vec<String>,
    /// The other alerts raised while the run was replayed (`title [tags]`): what fired
    /// instead, when the technique was missed.
    pub alerts_during_run: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub drill: String,
    pub name: String,
    pub tenant: String,
    pub speed: f64,
    pub techniques: Vec<TechniqueScore>,
    pub detected: usize,
    pub share_detected: f64,
    pub median_time_to_detect_s: Option<f64>,
    pub alerts: usize,
    pub other_alerts: Vec<String>,
    /// How fast people acted on the drill's alerts and incidents (filled in from the
    /// audit log by whoever has it: [`crate::officers`]).
    pub officers: Vec<crate::officers::OfficerTimes>,
    /// What officers faced: the drill's alerts as stored and the incidents they were
    /// grouped into (filled in from the state store by whoever has it).
    pub triage: Option<TriageFold>,
}

/// The drill's alerts as an officer's queue holds them (after merging) and the incidents
/// that group them: the reduction the grouping gives.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TriageFold {
    pub alerts: usize,
    pub incidents: usize,
    /// Alerts in no incident (below `detect.incident_min_level`).
    pub ungrouped: usize,
    /// Alerts per incident (grouped alerts only); `None` without incidents.
    pub alerts_per_incident: Option<f64>,
}

fn matches(run_technique: &str, tag: &str) -> bool {
    let Some(t) = tag.strip_prefix("attack.") else {
        return false;
    };
    let t = t.to_uppercase();
    let base = |x: &str| x.split('.').next().unwrap_or(x).to_owned();
    t == run_technique
        || t == base(run_technique)
        || (!run_technique.contains('.') && base(&t) == run_technique)
}

pub fn report(d: &DrillRecord) -> Report {
    let mut techniques = Vec::new();
    let mut used = vec![false; d.alerts.len()];
    for run in &d.runs {
        let mut rules: Vec<String> = Vec::new();
        let mut first: Option<f64> = None;
        let mut during_run: Vec<String> = Vec::new();
        for (i, a) in d.alerts.iter().enumerate() {
            // Raised while the run was replayed: runs follow one another, and an alert of
            // a later run does not detect an earlier one.
            let during =
                a.raised_s + 1e-9 >= run.first_event_s && a.raised_s <= run.last_event_s + 1e-9;
            if !during {
                continue;
            }
            if !a.tags.iter().any(|t| matches(&run.technique, t)) {
                let tags: Vec<&str> = a
                    .tags
                    .iter()
                    .filter(|t| t.starts_with("attack.t"))
                    .map(String::as_str)
                    .collect();
                let line = format!("{} [{}]", a.rule_title, tags.join(" "));
                if !during_run.contains(&line) {
                    during_run.push(line);
                }
                continue;
            }
            used[i] = true;
            let rule = format!("{} ({})", a.rule_title, a.rule_id);
            if !rules.contains(&rule) {
                rules.push(rule);
            }
            first = Some(first.map_or(a.raised_s, |f: f64| f.min(a.raised_s)));
        }
        techniques.push(TechniqueScore {
            technique: run.technique.clone(),
            dataset: run.dataset.clone(),
            title: run.title.clone(),
            detected: first.is_some(),
            time_to_detect_s: first
                .map(|f| ((f - run.first_event_s).max(0.0) * 1000.0).round() / 1000.0),
            rules,
            alerts_during_run: during_run,
        });
    }
    let detected = techniques.iter().filter(|t| t.detected).count();
    let median = crate::officers::median(
        techniques
            .iter()
            .filter_map(|t| t.time_to_detect_s)
            .collect(),
    );
    let mut other: Vec<String> = d
        .alerts
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(a, _)| format!("{} ({})", a.rule_title, a.level))
        .collect();
    other.sort();
    other.dedup();
    Report {
        drill: d.id.clone(),
        name: d.name.clone(),
        tenant: d.tenant.clone(),
        speed: d.speed,
        share_detected: if techniques.is_empty() {
            0.0
        } else {
            detected as f64 / techniques.len() as f64
        },
        techniques,
        detected,
        median_time_to_detect_s: median,
        alerts: d.alerts.len(),
        other_alerts: other,
        officers: Vec::new(),
        triage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{DrillAlert, RunRecord};

    #[test]
    fn a_run_is_detected_by_its_technique_or_its_parent_only() {
        let alert = |tag: &str, at: f64| DrillAlert {
            rule_id: format!("r-{tag}"),
            rule_title: format!("rule {tag}"),
            level: "high".into(),
            tags: vec![tag.into()],
            entity: "host.name=a".into(),
            raised_s: at,
        };
        let run = |t: &str, first: f64| RunRecord {
            dataset: format!("d-{t}"),
            title: t.into(),
            technique: t.into(),
            events: 10,
            first_event_s: first,
            last_event_s: first + 5.0,
        };
        let d = DrillRecord {
            id: "drill-x".into(),
            name: "x".into(),
            tenant: "t".into(),
            speed: 1.0,
            started: String::new(),
            runs: vec![
                run("T1053.005", 0.0),
                run("T1003.002", 10.0),
                run("T1047", 20.0),
                run("T1053.005", 30.0),
            ],
            alerts: vec![
                alert("attack.t1053", 2.5),
                alert("attack.t1003.001", 11.0),
                alert("attack.t1047", 24.0),
                alert("attack.t1047", 21.5),
            ],
            rules_loaded: 4,
        };
        let r = report(&d);
        let by: Vec<(bool, Option<f64>)> = r
            .techniques
            .iter()
            .map(|t| (t.detected, t.time_to_detect_s))
            .collect();
        assert_eq!(
            by,
            [
                (true, Some(2.5)),
                (false, None),
                (true, Some(1.5)),
                (false, None)
            ],
            "the last run's technique alerted during the first run only"
        );
        assert_eq!(r.detected, 2);
        assert_eq!(r.median_time_to_detect_s, Some(2.0));
        assert_eq!(
            r.other_alerts,
            ["rule attack.t1003.001 (high)"],
            "a sibling is not the technique"
        );
    }
}
