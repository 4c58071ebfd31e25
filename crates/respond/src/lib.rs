//! # Automated response
//!
//! Playbooks are YAML files in a directory ([`playbook`]): a **trigger** on alerts
//! (level, rule, tags, institution, origin, indicator hit, ML score) and a list of
//! **actions** — add the attacker or entity to a block list with an expiry, call a
//! webhook (JSON POST, HMAC-SHA256 signature header, retries), move the alert's
//! incident along the workflow with a note, send e-mail over SMTP ([`mail`]), tag the
//! alert. A playbook runs automatically or waits for a person's approval; [`plan()`]
//! turns a playbook and an alert into the concrete actions (what a dry run shows, what an
//! approver sees), and [`execute`] carries them out through [`Effects`] (the state store,
//! in the binary) and the [`Outbound`] senders.

pub mod mail;
pub mod playbook;
pub mod publish;
pub mod runner;
pub mod webhook;

pub use playbook::{Action, Mode, Playbook, Trigger, load_dir};
pub use runner::{LoadReport, Responder};

use haechi_event::Alert;
use serde::{Deserialize, Serialize};

/// What can go wrong loading playbooks.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// One action with every template filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Planned {
    Block {
        list: String,
        value: String,
        /// `None`: permanent.
        expires_secs: Option<u64>,
        /// The alert's institution when `scope: institution`, else every institution.
        tenant: Option<String>,
        reason: String,
    },
    Webhook {
        url: String,
        /// The JSON body sent.
        body: serde_json::Value,
        /// The name of the environment variable holding the signing secret.
        secret_env: Option<String>,
    },
    Incident {
        alert: i64,
        status: Option<String>,
        note: Option<String>,
    },
    Email {
        to: Vec<String>,
        subject: String,
        body: String,
    },
    Tag {
        alert: i64,
        tags: Vec<String>,
    },
    Publish {
        alert: i64,
        collection: String,
        tlp: String,
    },
}

impl Planned {
    /// The action's name, as playbooks spell it (`block`, `webhook`, `email`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Planned::Block { .. } => "block",
            Planned::Webhook { .. } => "webhook",
            Planned::Incident { .. } => "incident",
            Planned::Email { .. } => "email",
            Planned::Tag { .. } => "tag",
            Planned::Publish { .. } => "publish",
        }
    }
}

/// What reaches outside Haechi: webhooks, and e-mail when `[respond.smtp]` is set.
pub struct Outbound {
    pub http: webhook::Client,
    pub mail: Option<mail::Mailer>,
    /// The sharing hub the `publish` action stores in (`None`: it fails with that reason).
    pub hub: Option<std::sync::Arc<haechi_intel::store::IntelStore>>,
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub action: Planned,
    pub ok: bool,
    pub detail: String,
}

/// What actions change outside the playbook engine (the binary implements it on the
/// state store, auditing each change as the playbook).
pub trait Effects: Send + Sync {
    fn block(
        &self,
        list: &str,
        value: &str,
        tenant: Option<&str>,
        reason: &str,
        expires_secs: Option<u64>,
    ) -> Result<String, String>;
    fn update_incident(
        &self,
        alert: i64,
        status: Option<&str>,
        note: Option<&str>,
    ) -> Result<String, String>;
    fn tag(&self, alert: i64, tags: &[String]) -> Result<String, String>;
    /// Shares the alert's incident with the hub ([`publish`]).
    fn publish(&self, alert: i64, collection: &str, tlp: &str) -> Result<String, String>;
}

/// The values a template may use: `{{attacker}}`, `{{entity}}` (`field=value`),
/// `{{entity_value}}`, `{{tenant}}`, `{{rule}}`, `{{rule_id}}`, `{{level}}`,
/// `{{alert_id}}`, `{{playbook}}`.
fn render(template: &str, alert: &Alert, playbook: &Playbook) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed '{{{{' in '{template}'"))?;
        let name = after[..end].trim();
        let value = match name {
            "attacker" => haechi_event::alert::attacker_of(alert)
                .ok_or("the alert names no attacker (no source address or indicator)")?,
            "entity" => alert.entity.clone(),
            "entity_value" => alert
                .entity
                .split_once('=')
                .map(|(_, v)| v.to_owned())
                .unwrap_or_else(|| alert.entity.clone()),
            "tenant" => alert.tenant.clone(),
            "rule" => alert.rule_title.clone(),
            "rule_id" => alert.rule_id.clone(),
            "level" => alert.level.as_str().to_owned(),
            "alert_id" => alert.id.to_string(),
            "playbook" => playbook.id.clone(),
            other => return Err(format!("unknown template value '{{{{{other}}}}}'")),
        };
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The concrete actions of `playbook` for `alert`, or why it cannot run (a template
/// value the alert lacks).
pub fn plan(playbook: &Playbook, alert: &Alert) -> Result<Vec<Planned>, String> {
    playbook
        .actions
        .iter()
        .map(|action| {
            Ok(match action {
                Action::Block {
                    list,
                    value,
                    expires,
                    scope,
                } => Planned::Block {
                    list: list.clone(),
                    value: render(value, alert, playbook)?,
                    expires_secs: expires
                        .as_deref()
                        .map(playbook::parse_duration)
                        .transpose()?,
                    tenant: (scope.as_deref() == Some("institution")).then(|| alert.tenant.clone()),
                    reason: format!(
                        "playbook {}: {} ({})",
                        playbook.id, alert.rule_title, alert.entity
                    ),
                },
                Action::Webhook { url, secret_env } => Planned::Webhook {
                    url: render(url, alert, playbook)?,
                    body: serde_json::json!({
                        "playbook": playbook.id,
                        "name": playbook.name,
                        "alert": alert,
                    }),
                    secret_env: secret_env.clone(),
                },
                Action::Incident { status, note } => Planned::Incident {
                    alert: alert.id,
                    status: status.clone(),
                    note: note
                        .as_deref()
                        .map(|n| render(n, alert, playbook))
                        .transpose()?,
                },
                Action::Email { to, subject, body } => Planned::Email {
                    to: to.clone(),
                    // One line whatever the alert's fields hold: no header injection.
                    subject: render(subject, alert, playbook)?.replace(['\r', '\n'], " "),
                    body: match body {
                        Some(b) => render(b, alert, playbook)?,
                        None => alert_summary(alert, playbook),
                    },
                },
                Action::Publish { collection, tlp } => Planned::Publish {
                    alert: alert.id,
                    collection: collection.clone(),
                    tlp: tlp.to_ascii_lowercase(),
                },
                Action::Tag { tags } => Planned::Tag {
                    alert: alert.id,
                    tags: tags
                        .iter()
                        .map(|t| {
                            render(t, alert, playbook).map(|t| t.replace(char::is_whitespace, "_"))
                        })
                        .collect::<Result<_, _>>()?,
                },
            })
        })
        .collect()
}

/// The body of an e-mail action without one: what an officer needs to act.
fn alert_summary(alert: &Alert, playbook: &Playbook) -> String {
    format!(
        "Playbook: {} ({})\nAlert: #{} {}\nLevel: {}\nInstitution: {}\nEntity: {}\nSeen: {} to {} ({} events)\nRule: {} {}\nTags: {}\n",
        playbook.name,
        playbook.id,
        alert.id,
        alert.rule_title,
        alert.level.as_str(),
        alert.tenant,
        alert.entity,
        alert.first_seen.to_rfc3339(),
        alert.last_seen.to_rfc3339(),
        alert.count,
        alert.source.as_str(),
        alert.rule_id,
        alert.tags.join(", "),
    )
}

/// Carries out planned actions in order; a failed action is reported and the next
/// ones still run (a webhook that is down must not keep an address unblocked).
pub async fn execute(plan: &[Planned], effects: &dyn Effects, out: &Outbound) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(plan.len());
    for action in plan {
        let result = match action {
            Planned::Block {
                list,
                value,
                expires_secs,
                tenant,
                reason,
            } => effects.block(list, value, tenant.as_deref(), reason, *expires_secs),
            Planned::Webhook {
                url,
                body,
                secret_env,
            } => {
                let secret = secret_env.as_deref().and_then(|v| std::env::var(v).ok());
                out.http.deliver(url, body, secret.as_deref()).await
            }
            Planned::Email { to, subject, body } => match &out.mail {
                Some(m) => m.send(to, subject, body).await,
                None => Err("no [respond.smtp] is configured: the e-mail was not sent".into()),
            },
            Planned::Tag { alert, tags } => effects.tag(*alert, tags),
            Planned::Publish {
                alert,
                collection,
                tlp,
            } => effects.publish(*alert, collection, tlp),
            Planned::Incident {
                alert,
                status,
                note,
            } => effects.update_incident(*alert, status.as_deref(), note.as_deref()),
        };
        outcomes.push(Outcome {
            action: action.clone(),
            ok: result.is_ok(),
            detail: result.unwrap_or_else(|e| e),
        });
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn alert() -> Alert {
        let mut details = serde_json::Map::new();
        details.insert(
            "matched".into(),
            serde_json::json!({"source.ip": "203.0.113.7"}),
        );
        Alert {
            id: 42,
            tenant: "seoul".into(),
            source: haechi_event::AlertSource::Sigma,
            rule_id: "r-1".into(),
            rule_title: "Path traversal".into(),
            level: haechi_event::Level::High,
            author: None,
            status: None,
            references: vec![],
            tags: vec!["attack.initial_access".into()],
            entity: "host.name=web1".into(),
            first_seen: haechi_event::Timestamp(0),
            last_seen: haechi_event::Timestamp(0),
            count: 1,
            events: vec![],
            details,
            stored: haechi_event::Timestamp(0),
            triage: Default::default(),
        }
    }

    #[test]
    fn email_subjects_stay_on_one_line_and_tags_have_no_spaces() {
        let p: Playbook = yaml_serde::from_str(
            "id: p\nname: P\ntrigger: {min_level: high}\nactions:\n  - email: {to: [soc@cert.example], subject: '{{rule}} at {{tenant}}'}\n  - tag: {tags: ['seen-{{tenant}}', '{{rule}}']}\n",
        )
        .unwrap();
        p.validate().unwrap();
        let mut a = alert();
        // A rule title is attacker-reachable text (a custom rule, a correlation name).
        a.rule_title = "x\r\nBcc: victim@example.org".into();
        let plan = plan(&p, &a).unwrap();
        let Planned::Email { subject, body, to } = &plan[0] else {
            panic!("{plan:?}")
        };
        assert!(!subject.contains(['\r', '\n']), "{subject:?}");
        assert_eq!(to, &["soc@cert.example".to_owned()]);
        assert!(body.contains("Institution: seoul") && body.contains("Entity: host.name=web1"));
        assert_eq!(
            plan[1],
            Planned::Tag {
                alert: 42,
                tags: vec!["seen-seoul".into(), "x__Bcc:_victim@example.org".into()]
            }
        );
    }

    #[test]
    fn templates_fill_in_and_unknown_names_are_refused() {
        let p: Playbook = yaml_serde::from_str(
            "id: p\nname: P\ntrigger: {min_level: high}\nactions:\n  - block: {list: edge, value: '{{attacker}}', expires: 24h, scope: institution}\n  - incident: {status: containment, note: 'blocked {{attacker}} for {{entity_value}}'}\n",
        )
        .unwrap();
        let plan = plan(&p, &alert()).unwrap();
        assert_eq!(
            plan[0],
            Planned::Block {
                list: "edge".into(),
                value: "203.0.113.7".into(),
                expires_secs: Some(86_400),
                tenant: Some("seoul".into()),
                reason: "playbook p: Path traversal (host.name=web1)".into()
            }
        );
        assert!(
            matches!(&plan[1], Planned::Incident { note: Some(n), .. } if n == "blocked 203.0.113.7 for web1")
        );
        let mut a = alert();
        a.details.clear();
        assert!(super::plan(&p, &a).unwrap_err().contains("no attacker"));
        assert!(
            render("{{nope}}", &alert(), &p)
                .unwrap_err()
                .contains("nope")
        );
    }
}
