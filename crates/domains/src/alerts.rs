//! How Domain Watch findings read in the alert queue: one alert of origin `domain` per
//! (institution, kind, name) — the state store merges repeats — for the institution whose
//! protected name is imitated. Findings without a target (DGA, phishing, UTS #39 unsafe
//! names) go to the center's own tenant when one is configured, else they raise nothing.

use crate::watch::Checked;
use haechi_event::{Alert, AlertSource, Level, Timestamp};
use serde_json::json;

/// The level of a finding: look-alikes of a protected name that are close or deceptive
/// (score 0.9 and up), and any look-alike registered today, are high; the rest medium.
pub fn level(c: &Checked) -> Level {
    let targeted = !c.finding.target.is_empty();
    if targeted && (c.finding.score >= 0.9 || c.new) {
        Level::High
    } else {
        Level::Medium
    }
}

/// The alert for one checked finding; `center` takes the findings without a target.
pub fn alert(c: &Checked, center: Option<&str>, now: Timestamp) -> Option<Alert> {
    let f = &c.finding;
    let tenant = if f.target.is_empty() {
        center?.to_owned()
    } else {
        f.tenant.clone()
    };
    let mut details = serde_json::Map::new();
    details.insert("name".into(), json!(f.domain));
    if let Some(u) = &f.unicode {
        details.insert("unicode".into(), json!(u));
    }
    details.insert("kind".into(), json!(f.kind));
    if !f.target.is_empty() {
        details.insert("target".into(), json!(f.target));
    }
    details.insert("score".into(), json!(f.score));
    details.insert("evidence".into(), json!(f.evidence));
    details.insert("new".into(), json!(c.new));
    if c.first_seen > 0 {
        details.insert("first_seen".into(), json!(c.first_seen));
    }
    let shown = f.unicode.as_deref().unwrap_or(&f.domain);
    let title = if f.target.is_empty() {
        format!("{} name {shown}: {}", f.kind, f.evidence)
    } else {
        format!("{} of {}: {shown} ({})", f.kind, f.target, f.evidence)
    };
    Some(Alert {
        id: 0,
        tenant,
        source: AlertSource::Domain,
        rule_id: format!("domain-{}", f.kind),
        rule_title: title.chars().take(300).collect(),
        level: level(c),
        author: None,
        status: None,
        references: Vec::new(),
        tags: vec!["domain-watch".into()],
        entity: format!("domain={}", alerted_name(f)),
        first_seen: now,
        last_seen: now,
        count: 1,
        events: Vec::new(),
        details,
        stored: Timestamp(0),
        triage: Default::default(),
    })
}

/// The name an alert (and a block list entry) is about: a look-alike's registrable domain
/// (its subdomains are the same registration, and blocking it blocks them), or the name
/// itself when nothing is imitated (a phishing host on a shared hosting domain).
pub fn alerted_name(f: &crate::Finding) -> String {
    if f.target.is_empty() {
        return f.domain.clone();
    }
    crate::parse(&f.domain)
        .map(|n| n.registrable)
        .unwrap_or_else(|_| f.domain.clone())
}

/// The alerts of a batch's findings.
pub fn for_findings(found: &[Checked], center: Option<&str>, now: Timestamp) -> Vec<Alert> {
    found.iter().filter_map(|c| alert(c, center, now)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Finding;

    fn checked(target: &str, score: f32, new: bool) -> Checked {
        Checked {
            finding: Finding {
                domain: "seou1.go.kr".into(),
                unicode: None,
                kind: "typosquat",
                target: target.into(),
                tenant: if target.is_empty() { "" } else { "seoul" }.into(),
                score,
                evidence: "l → 1".into(),
            },
            new,
            first_seen: if new { 5 } else { 0 },
        }
    }

    #[test]
    fn look_alikes_alert_their_institution_and_untargeted_names_only_the_center() {
        let a = alert(&checked("seoul.go.kr", 0.8, true), None, Timestamp(1)).unwrap();
        assert_eq!(
            (a.tenant.as_str(), a.rule_id.as_str(), a.level),
            ("seoul", "domain-typosquat", Level::High)
        );
        assert_eq!(a.entity, "domain=seou1.go.kr");
        assert_eq!(a.details["target"], "seoul.go.kr");
        let old = alert(&checked("seoul.go.kr", 0.8, false), None, Timestamp(1)).unwrap();
        assert_eq!(old.level, Level::Medium);
        assert!(alert(&checked("", 0.99, true), None, Timestamp(1)).is_none());
        let c = alert(&checked("", 0.99, true), Some("cert"), Timestamp(1)).unwrap();
        assert_eq!((c.tenant.as_str(), c.level), ("cert", Level::Medium));
    }
}
