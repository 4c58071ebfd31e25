//! The playbook file format (YAML, one playbook per file, `*.yml` / `*.yaml` in the
//! playbook directory):
//!
//! ```yaml
//! id: block-web-attackers          # unique; runs and audit records name it
//! name: Block web attackers at the edge
//! enabled: true                    # default true
//! mode: approval                   # auto (default) | approval: waits for a person
//! trigger:                         # every condition given must hold
//!   min_level: high                # informational | low | medium | high | critical
//!   rules: [7745c2ea-24a5-4290-b680-04359cb84b35]   # rule ids or titles
//!   tags: [attack.initial_access]  # any of these rule tags
//!   tenants: [seoul, busan]
//!   sources: [sigma, indicator]    # sigma | correlation | indicator | model
//!   indicator: true                # only threat-intel hits
//!   min_score: 0.95                # only model alerts with at least this probability
//!   incident:                      # the incident the alert was grouped into
//!     campaign: true               # part of a cross-institution campaign
//!     min_alerts: 3                # groups at least 3 alerts
//!     min_level: high
//!     status: [new, triage]
//! actions:
//!   - block: {list: edge, value: "{{attacker}}", expires: 24h, scope: all}  # scope: all | institution
//!   - webhook: {url: "https://soar.example/hook", secret_env: HAECHI_WEBHOOK_SECRET}
//!   - incident: {status: containment, note: "blocked {{attacker}}"}
//!   - email: {to: [soc@cert.example], subject: "{{level}}: {{rule}} at {{tenant}}"}  # body optional
//!   - tag: {tags: [campaign-{{attacker}}, blocked]}   # adds rule tags to the alert
//! ```

use crate::RespondError;
use haechi_event::{Alert, AlertSource, Level};
use haechi_store::state::incidents::STATUSES;
use serde::Deserialize;
use std::path::Path;

/// The largest playbook file read (bytes).
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// The most actions one playbook has.
pub const MAX_ACTIONS: usize = 32;
/// The most tags one tag action adds.
pub const MAX_TAGS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Runs as soon as an alert matches.
    #[default]
    Auto,
    /// Waits for a person's approval in the console or the API.
    Approval,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub id: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub mode: Mode,
    pub trigger: Trigger,
    pub actions: Vec<Action>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    #[serde(default)]
    pub min_level: Option<Level>,
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub tenants: Vec<String>,
    #[serde(default)]
    pub sources: Vec<AlertSource>,
    #[serde(default)]
    pub indicator: bool,
    #[serde(default)]
    pub min_score: Option<f64>,
    /// Conditions on the incident the alert was grouped into (none: not looked at).
    #[serde(default)]
    pub incident: Option<IncidentCondition>,
    /// Also run for alerts of drills (tagged `drill`); off, a drill never blocks a real
    /// address, calls a webhook or sends mail.
    #[serde(default)]
    pub drills: bool,
}

/// What the alert's incident must be for a playbook to run. Every condition given must
/// hold; an alert in no incident (below `detect.incident_min_level`) never matches.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentCondition {
    /// The incident is part of a cross-institution campaign.
    #[serde(default)]
    pub campaign: bool,
    /// It groups at least this many alerts.
    #[serde(default)]
    pub min_alerts: Option<u64>,
    /// Its level is at least this.
    #[serde(default)]
    pub min_level: Option<Level>,
    /// Its status is one of these.
    #[serde(default)]
    pub status: Vec<String>,
}

impl IncidentCondition {
    pub fn matches(&self, incident: &haechi_store::state::Incident) -> bool {
        (!self.campaign || incident.campaign.is_some())
            && self.min_alerts.is_none_or(|n| incident.alerts >= n)
            && self.min_level.is_none_or(|l| incident.level >= l)
            && (self.status.is_empty() || self.status.contains(&incident.status))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", try_from = "ActionSpec")]
pub enum Action {
    Block {
        list: String,
        value: String,
        /// `30m`, `24h`, `7d`; none: permanent.
        #[serde(default)]
        expires: Option<String>,
        /// `all` (default) or `institution`.
        #[serde(default)]
        scope: Option<String>,
    },
    Webhook {
        url: String,
        #[serde(default)]
        secret_env: Option<String>,
    },
    Incident {
        #[serde(default)]
        status: Option<String>,
        #[serde(default)]
        note: Option<String>,
    },
    /// Mail over `[respond.smtp]`; `subject` and `body` are templates (no body: a
    /// summary of the alert).
    Email {
        to: Vec<String>,
        subject: String,
        #[serde(default)]
        body: Option<String>,
    },
    /// Adds tags (templates) to the alert: they show in the console and filter lists.
    Tag { tags: Vec<String> },
    /// Shares the alert's incident with the sharing hub: a STIX report in `collection`
    /// marked `tlp` ([`crate::publish`]). Only in playbooks that wait for approval: a
    /// person confirms what leaves the center.
    Publish { collection: String, tlp: String },
}

/// An action as written: a map with exactly one key naming it (`block:`, `webhook:`,
/// `incident:`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    #[serde(default)]
    block: Option<BlockSpec>,
    #[serde(default)]
    webhook: Option<WebhookSpec>,
    #[serde(default)]
    incident: Option<IncidentSpec>,
    #[serde(default)]
    email: Option<EmailSpec>,
    #[serde(default)]
    tag: Option<TagSpec>,
    #[serde(default)]
    publish: Option<PublishSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishSpec {
    collection: String,
    tlp: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailSpec {
    to: Vec<String>,
    subject: String,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagSpec {
    tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockSpec {
    list: String,
    value: String,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookSpec {
    url: String,
    #[serde(default)]
    secret_env: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentSpec {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

impl TryFrom<ActionSpec> for Action {
    type Error = String;

    fn try_from(a: ActionSpec) -> Result<Action, String> {
        let given = [
            a.block.is_some(),
            a.webhook.is_some(),
            a.incident.is_some(),
            a.email.is_some(),
            a.tag.is_some(),
            a.publish.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(
                "an action is a map with exactly one of block, webhook, incident, email, tag, publish"
                    .into(),
            );
        }
        Ok(if let Some(b) = a.block {
            Action::Block {
                list: b.list,
                value: b.value,
                expires: b.expires,
                scope: b.scope,
            }
        } else if let Some(w) = a.webhook {
            Action::Webhook {
                url: w.url,
                secret_env: w.secret_env,
            }
        } else if let Some(i) = a.incident {
            Action::Incident {
                status: i.status,
                note: i.note,
            }
        } else if let Some(e) = a.email {
            Action::Email {
                to: e.to,
                subject: e.subject,
                body: e.body,
            }
        } else if let Some(p) = a.publish {
            Action::Publish {
                collection: p.collection,
                tlp: p.tlp,
            }
        } else {
            Action::Tag {
                tags: a.tag.map(|t| t.tags).unwrap_or_default(),
            }
        })
    }
}

impl Trigger {
    /// Whether `alert` meets every condition given.
    pub fn matches(&self, alert: &Alert) -> bool {
        (self.drills || !alert.tags.iter().any(|t| t == DRILL_TAG))
            && self.min_level.is_none_or(|l| alert.level >= l)
            && (self.rules.is_empty()
                || self
                    .rules
                    .iter()
                    .any(|r| *r == alert.rule_id || *r == alert.rule_title))
            && (self.tags.is_empty() || alert.tags.iter().any(|t| self.tags.contains(t)))
            && (self.tenants.is_empty() || self.tenants.contains(&alert.tenant))
            && (self.sources.is_empty() || self.sources.contains(&alert.source))
            && (!self.indicator || alert.source == AlertSource::Indicator)
            && self.min_score.is_none_or(|min| {
                alert.source == AlertSource::Model
                    && alert
                        .details
                        .get("probability")
                        .and_then(|p| p.as_f64())
                        .is_some_and(|p| p >= min)
            })
    }
}

/// The tag every alert of a drill carries.
pub const DRILL_TAG: &str = "drill";

/// `30s`, `30m`, `24h`, `7d` in seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("duration '{s}': use a number with s, m, h or d (24h)"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => {
            return Err(format!(
                "duration '{s}': use a number with s, m, h or d (24h)"
            ));
        }
    };
    if secs == 0 || secs > 366 * 86_400 {
        return Err(format!("duration '{s}': between 1 s and 366 days"));
    }
    Ok(secs)
}

impl Playbook {
    /// Checks what the file format cannot: ids, durations, URLs, statuses, lists.
    pub fn validate(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !id_ok {
            return Err(format!(
                "id '{}': 1-64 characters of a-z, 0-9, '-', '_', '.'",
                self.id
            ));
        }
        if self.actions.is_empty() || self.actions.len() > MAX_ACTIONS {
            return Err(format!("actions: 1 to {MAX_ACTIONS}"));
        }
        if self.trigger == Trigger::default() {
            return Err("trigger: give at least one condition (min_level, rules, tags, …)".into());
        }
        if let Some(c) = &self.trigger.incident {
            if let Some(bad) = c.status.iter().find(|st| !STATUSES.contains(&st.as_str())) {
                return Err(format!(
                    "trigger: incident: status '{bad}': use one of {}",
                    STATUSES.join(", ")
                ));
            }
            if *c == IncidentCondition::default() {
                return Err(
                    "trigger: incident: give a condition (campaign, min_alerts, min_level, status)"
                        .into(),
                );
            }
        }
        for a in &self.actions {
            match a {
                Action::Block {
                    list,
                    expires,
                    scope,
                    ..
                } => {
                    if list.is_empty()
                        || list.len() > 64
                        || !list.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_')
                        })
                    {
                        return Err(format!(
                            "block: list '{list}': 1-64 characters of a-z, 0-9, '-', '_'"
                        ));
                    }
                    if let Some(e) = expires {
                        parse_duration(e)?;
                    }
                    if let Some(s) = scope
                        && s != "all"
                        && s != "institution"
                    {
                        return Err(format!("block: scope '{s}': use all or institution"));
                    }
                }
                Action::Webhook { url, .. } => {
                    if !(url.starts_with("http://") || url.starts_with("https://")) {
                        return Err(format!("webhook: url '{url}' must be http:// or https://"));
                    }
                }
                Action::Incident { status, note } => {
                    if let Some(s) = status
                        && !STATUSES.contains(&s.as_str())
                    {
                        return Err(format!(
                            "incident: status '{s}': use one of {}",
                            STATUSES.join(", ")
                        ));
                    }
                    if status.is_none() && note.is_none() {
                        return Err("incident: give a status, a note or both".into());
                    }
                }
                Action::Email { to, subject, .. } => {
                    if to.is_empty() || to.len() > crate::mail::MAX_RECIPIENTS {
                        return Err(format!(
                            "email: to: 1 to {} recipients",
                            crate::mail::MAX_RECIPIENTS
                        ));
                    }
                    for address in to {
                        if address.parse::<lettre::Address>().is_err() {
                            return Err(format!("email: '{address}' is not an e-mail address"));
                        }
                    }
                    if subject.trim().is_empty()
                        || subject.len() > 200
                        || subject.contains(['\r', '\n'])
                    {
                        return Err("email: subject: 1 to 200 characters on one line".into());
                    }
                }
                Action::Publish { collection, tlp } => {
                    if self.mode != Mode::Approval {
                        return Err(
                            "publish: only in a playbook with mode: approval (a person confirms what leaves the center)"
                                .into(),
                        );
                    }
                    if collection.is_empty() || collection.len() > 64 {
                        return Err("publish: collection: 1-64 characters".into());
                    }
                    if !crate::publish::SHAREABLE_TLP.contains(&tlp.to_ascii_lowercase().as_str()) {
                        return Err(format!(
                            "publish: tlp '{tlp}': clear, green, amber or amber+strict (RED never leaves the hub)"
                        ));
                    }
                }
                Action::Tag { tags } => {
                    if tags.is_empty() || tags.len() > MAX_TAGS {
                        return Err(format!("tag: tags: 1 to {MAX_TAGS}"));
                    }
                    for t in tags {
                        if t.is_empty()
                            || t.len() > 128
                            || t.chars().any(|c| c.is_whitespace() || c.is_control())
                        {
                            return Err(format!("tag: '{t}': 1-128 characters, no spaces"));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads every `*.yml`/`*.yaml` playbook of `dir`: the valid ones, and for each file
/// that is not, the reason. Duplicate ids are refused (the later file).
pub fn load_dir(dir: &Path) -> Result<(Vec<Playbook>, Vec<RespondError>), RespondError> {
    let io = |source| RespondError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    paths.sort();
    let mut good: Vec<Playbook> = Vec::new();
    let mut bad = Vec::new();
    for path in paths {
        match load_file(&path) {
            Ok(p) if good.iter().any(|g| g.id == p.id) => bad.push(RespondError::Invalid {
                path: path.display().to_string(),
                message: format!("id '{}' is already used by another playbook", p.id),
            }),
            Ok(p) => good.push(p),
            Err(e) => bad.push(e),
        }
    }
    Ok((good, bad))
}

/// Reads and validates one playbook file.
pub fn load_file(path: &Path) -> Result<Playbook, RespondError> {
    let invalid = |message: String| RespondError::Invalid {
        path: path.display().to_string(),
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|source| RespondError::Io {
            path: path.display().to_string(),
            source,
        })?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(invalid(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|source| RespondError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_str(&text).map_err(invalid)
}

/// Reads and validates one playbook's YAML text (the reason when it is not one).
pub fn parse_str(text: &str) -> Result<Playbook, String> {
    let p: Playbook = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    p.validate()?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(yaml: &str) -> Result<Playbook, String> {
        let p: Playbook = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        p.validate()?;
        Ok(p)
    }

    #[test]
    fn triggers_hold_only_when_every_condition_does() {
        let p = pb("id: x\nname: X\ntrigger: {min_level: high, tags: [attack.initial_access], tenants: [seoul]}\nactions: [{incident: {status: triage}}]").unwrap();
        let mut a = crate::tests::alert();
        assert!(p.trigger.matches(&a));
        a.tenant = "busan".into();
        assert!(!p.trigger.matches(&a));
        a.tenant = "seoul".into();
        a.level = Level::Medium;
        assert!(!p.trigger.matches(&a));
        let scored =
            pb("id: y\nname: Y\ntrigger: {min_score: 0.9}\nactions: [{incident: {note: x}}]")
                .unwrap();
        a.source = AlertSource::Model;
        a.details
            .insert("probability".into(), serde_json::json!(0.95));
        assert!(scored.trigger.matches(&a));
        a.details
            .insert("probability".into(), serde_json::json!(0.5));
        assert!(!scored.trigger.matches(&a));
    }

    #[test]
    fn bad_playbooks_say_what_is_wrong() {
        for (yaml, reason) in [
            (
                "id: x\nname: X\ntrigger: {}\nactions: [{incident: {status: triage}}]",
                "at least one condition",
            ),
            (
                "id: x\nname: X\ntrigger: {min_level: high}\nactions: []",
                "actions",
            ),
            (
                "id: x\nname: X\ntrigger: {min_level: high}\nactions: [{block: {list: edge, value: x, expires: 3w}}]",
                "duration",
            ),
            (
                "id: x\nname: X\ntrigger: {min_level: high}\nactions: [{webhook: {url: 'ftp://x'}}]",
                "http",
            ),
            (
                "id: x\nname: X\ntrigger: {min_level: high}\nactions: [{incident: {status: solved}}]",
                "eradication",
            ),
            (
                "id: x\nname: X\ntrigger: {min_level: severe}\nactions: [{incident: {status: triage}}]",
                "severe",
            ),
            (
                "id: x\nname: X\ntrigger: {min_level: high}\nactions: [{explode: {}}]",
                "explode",
            ),
        ] {
            let e = pb(yaml).unwrap_err();
            assert!(e.contains(reason), "{yaml}: {e}");
        }
    }

    #[test]
    fn a_directory_loads_the_good_and_names_the_bad() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yml"),
            "id: a\nname: A\ntrigger: {min_level: high}\nactions: [{incident: {status: triage}}]",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.yaml"),
            "id: a\nname: B\ntrigger: {min_level: low}\nactions: [{incident: {status: triage}}]",
        )
        .unwrap();
        std::fs::write(dir.path().join("c.yml"), "not: [valid").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let (good, bad) = load_dir(dir.path()).unwrap();
        assert_eq!(good.len(), 1);
        assert_eq!(bad.len(), 2);
        assert!(bad.iter().any(|e| e.to_string().contains("already used")));
        assert_eq!(parse_duration("90m").unwrap(), 5400);
    }
}

#[cfg(test)]
mod incident_condition_tests {
    use super::*;
    use haechi_event::Timestamp;
    use haechi_store::state::Incident;

    fn incident(campaign: Option<i64>, alerts: u64, status: &str) -> Incident {
        Incident {
            id: 1,
            tenant: "seoul".into(),
            title: "t".into(),
            status: status.into(),
            level: Level::High,
            owner: None,
            campaign,
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            alerts,
            keys: vec![],
            updated: Timestamp(0),
        }
    }

    #[test]
    fn incident_conditions_all_have_to_hold() {
        let c = IncidentCondition {
            campaign: true,
            min_alerts: Some(2),
            status: vec!["new".into(), "triage".into()],
            ..Default::default()
        };
        assert!(c.matches(&incident(Some(3), 2, "triage")));
        assert!(!c.matches(&incident(None, 2, "triage")), "no campaign");
        assert!(
            !c.matches(&incident(Some(3), 1, "triage")),
            "too few alerts"
        );
        assert!(!c.matches(&incident(Some(3), 2, "closed")), "wrong status");
    }

    #[test]
    fn incident_conditions_are_validated() {
        let p = |cond: &str| -> Result<(), String> {
            let text = format!(
                "id: p\nname: P\ntrigger: {{min_level: high, incident: {cond}}}\nactions:\n  - tag: {{tags: [x]}}\n"
            );
            let p: Playbook = yaml_serde::from_str(&text).map_err(|e| e.to_string())?;
            p.validate()
        };
        assert!(p("{campaign: true}").is_ok());
        assert!(p("{status: [solved]}").unwrap_err().contains("solved"));
        assert!(p("{}").unwrap_err().contains("give a condition"));
        assert!(p("{campagin: true}").is_err(), "unknown keys are refused");
    }
}
