//! From detections to alerts: the entity an alert is about, the event references, the
//! rule's attribution, and the per-tenant exceptions that keep known-good activity quiet.

use crate::hunt::Detection;
use haechi_event::{Alert, AlertSource, Event, EventRef, Level, Timestamp, ecs};
use haechi_query::Query;
use serde::Deserialize;

/// The fields that name what an alert is about, most specific first: the first one an
/// event has becomes the alert's entity, so that the same rule on the same host merges.
pub const ENTITY_FIELDS: [&str; 6] = [
    ecs::HOST_NAME,
    ecs::HOST_HOSTNAME,
    ecs::OBSERVER_HOSTNAME,
    ecs::SOURCE_IP,
    ecs::USER_NAME,
    ecs::DESTINATION_IP,
];

/// `field=value` of the first entity field the event has, or `-`.
pub fn entity_of(event: &Event) -> String {
    ENTITY_FIELDS
        .iter()
        .find_map(|f| {
            event
                .get(f)
                .map(|v| format!("{f}={}", v.as_text().to_lowercase()))
        })
        .unwrap_or_else(|| "-".to_owned())
}

/// The alert for one Sigma detection (or correlation) on `event`, whose `event.id` is
/// `event_id`.
pub fn sigma_alert(detection: &Detection<'_>, event: &Event, event_id: &str) -> Alert {
    let rule = detection.rule;
    let mut details = serde_json::Map::new();
    if !detection.matched.is_empty() {
        let matched: serde_json::Map<String, serde_json::Value> = detection
            .matched
            .iter()
            .map(|(f, v)| (f.clone(), serde_json::Value::String(v.clone())))
            .collect();
        details.insert("matched".into(), matched.into());
    }
    let (source, entity) = match &detection.correlation {
        Some(c) => {
            details.insert(
                "correlation".into(),
                serde_json::to_value(c).unwrap_or_default(),
            );
            let group = c
                .group
                .iter()
                .map(|(f, v)| format!("{f}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            (AlertSource::Correlation, group)
        }
        None => (AlertSource::Sigma, entity_of(event)),
    };
    Alert {
        source,
        rule_id: rule.id.clone(),
        rule_title: rule.title.clone(),
        level: Level::parse_or_lowest(rule.level.as_deref()),
        author: rule.author.clone(),
        status: rule.status.clone(),
        references: rule.references.clone(),
        tags: rule.tags.clone(),
        entity,
        details,
        ..alert_on(event, event_id)
    }
}

/// An alert's fields that come from the event it stands on: tenant, times, the one
/// event reference and a count of one.
pub(crate) fn alert_on(event: &Event, event_id: &str) -> Alert {
    Alert {
        id: 0,
        tenant: event.tenant.to_string(),
        source: AlertSource::Sigma,
        rule_id: String::new(),
        rule_title: String::new(),
        level: Level::Informational,
        author: None,
        status: None,
        references: Vec::new(),
        tags: Vec::new(),
        entity: entity_of(event),
        first_seen: event.timestamp,
        last_seen: event.timestamp,
        count: 1,
        events: vec![EventRef {
            timestamp: event.timestamp,
            id: event_id.to_owned(),
        }],
        details: serde_json::Map::new(),
        stored: Timestamp(0),
        triage: Default::default(),
    }
}

/// The alert for one threat-intel indicator seen in `event`: the rule is the indicator
/// (`indicator:<kind>:<value>`), the title names the feed and the kind, the level follows
/// the feed's confidence (≥ 80 high, ≥ 50 medium, else low; unknown: medium).
pub fn indicator_alert(hit: &haechi_ioc::Hit, event: &Event, event_id: &str) -> Alert {
    let mut details = serde_json::Map::new();
    details.insert("indicator".into(), hit.indicator.clone().into());
    details.insert("kind".into(), hit.kind.as_str().into());
    details.insert("field".into(), hit.field.into());
    details.insert("matched".into(), hit.matched.clone().into());
    details.insert("feed".into(), hit.source().into());
    if let Some(c) = hit.confidence() {
        details.insert("confidence".into(), c.into());
    }
    if let Some(d) = hit.description() {
        details.insert("description".into(), d.into());
    }
    if let Some(id) = hit.meta.object_id.as_deref() {
        details.insert("object_id".into(), id.into());
    }
    if let Some(tlp) = hit.meta.tlp() {
        details.insert("tlp".into(), tlp.into());
    }
    let level = match hit.confidence() {
        Some(c) if c >= 80 => Level::High,
        Some(c) if c >= 50 => Level::Medium,
        Some(_) => Level::Low,
        None => Level::Medium,
    };
    Alert {
        source: AlertSource::Indicator,
        rule_id: hit.rule_id(),
        rule_title: format!(
            "Threat intel: {} {} listed by {}",
            hit.kind.as_str(),
            hit.indicator,
            hit.source()
        ),
        level,
        author: Some(hit.source().to_owned()),
        details,
        ..alert_on(event, event_id)
    }
}

/// The fields whose domain names the domain model scores, in order (one score per
/// event: the first present).
pub const DOMAIN_FIELDS: [&str; 3] = [
    ecs::DNS_QUESTION_NAME,
    "url.domain",
    "tls.client.server_name",
];

/// The alert for a domain name the DGA model scored at or above its threshold: the rule
/// is the model, the entity the name, the details the probability and the features that
/// drove it.
pub fn domain_model_alert(
    field: &str,
    name: &str,
    probability: f32,
    top: &[(String, f32)],
    event: &Event,
    event_id: &str,
) -> Alert {
    let mut details = serde_json::Map::new();
    details.insert("model".into(), "domains".into());
    details.insert("field".into(), field.into());
    details.insert("name".into(), name.into());
    details.insert("probability".into(), serde_json::json!(probability));
    details.insert(
        "features".into(),
        serde_json::Value::Array(
            top.iter()
                .map(|(f, w)| serde_json::json!({"feature": f, "weight": w}))
                .collect(),
        ),
    );
    Alert {
        source: AlertSource::Model,
        rule_id: "model:domains".into(),
        rule_title: "Algorithmically generated domain name (DGA model)".into(),
        level: if probability >= 0.99 {
            Level::High
        } else {
            Level::Medium
        },
        author: Some("Haechi domain model (docs/models/domains.md)".into()),
        entity: format!("{field}={}", name.to_lowercase()),
        details,
        ..alert_on(event, event_id)
    }
}

/// The alert for an HTTP parameter value the web-attack model scored at or above its
/// threshold: the entity is the event's (the client), the details the value, the
/// probability and the features that drove it.
pub fn web_model_alert(
    field: &str,
    value: &str,
    probability: f32,
    top: &[(String, f32)],
    event: &Event,
    event_id: &str,
) -> Alert {
    let mut alert = domain_model_alert(field, value, probability, top, event, event_id);
    alert.details.insert("model".into(), "web".into());
    alert.details.remove("name");
    alert.details.insert("value".into(), value.into());
    Alert {
        rule_id: "model:web".into(),
        rule_title: "Web attack in a request parameter (web model)".into(),
        author: Some("Haechi web model (docs/models/web.md)".into()),
        entity: entity_of(event),
        ..alert
    }
}

/// The alert for a flow the flow model scored at or above its threshold: the entity is
/// the flow's source address (the side that opened it), the details the flow summary,
/// destination, probability and the features that drove it.
pub fn flow_model_alert(
    summary: &str,
    probability: f32,
    top: &[(String, f32)],
    event: &Event,
    event_id: &str,
) -> Alert {
    let mut alert = domain_model_alert("flow", summary, probability, top, event, event_id);
    alert.details.insert("model".into(), "flows".into());
    alert.details.remove("name");
    alert.details.remove("field");
    alert.details.insert("flow".into(), summary.into());
    for f in [ecs::SOURCE_IP, ecs::DESTINATION_IP, ecs::DESTINATION_PORT] {
        if let Some(v) = event.get(f) {
            alert
                .details
                .insert(f.into(), v.as_text().into_owned().into());
        }
    }
    let entity = event
        .get(ecs::SOURCE_IP)
        .map(|ip| format!("source.ip={}", ip.as_text()))
        .unwrap_or_else(|| entity_of(event));
    Alert {
        rule_id: "model:flows".into(),
        rule_title: "Attack-like network flow (flow model)".into(),
        author: Some("Haechi flow model (docs/models/flows.md)".into()),
        entity,
        ..alert
    }
}

/// One exception as configured: events of `tenant` (all tenants when absent) that match
/// `query` raise no alert from `rule` (any rule when absent).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExceptionConfig {
    pub tenant: Option<String>,
    /// A rule id (Sigma), or `indicator:<kind>:<value>` for an indicator.
    pub rule: Option<String>,
    /// A query in Haechi's query language (`haechi search`), e.g.
    /// `user.name:svc_backup AND host.name:srv-*`.
    pub query: String,
    /// Why the activity is known to be good; kept for the audit trail.
    pub reason: String,
}

/// The compiled exceptions.
#[derive(Debug, Default)]
pub struct Exceptions {
    list: Vec<(ExceptionConfig, Query)>,
}

impl Exceptions {
    /// Parses every exception's query; the first that does not parse is the error.
    pub fn new(configs: &[ExceptionConfig]) -> Result<Exceptions, String> {
        let mut list = Vec::with_capacity(configs.len());
        for (i, c) in configs.iter().enumerate() {
            let query = haechi_query::parse(&c.query)
                .map_err(|e| format!("exception {} ({}): query: {e}", i + 1, c.reason))?;
            list.push((c.clone(), query));
        }
        Ok(Exceptions { list })
    }

    /// Whether an exception covers `rule_id` firing on `event`.
    pub fn suppresses(&self, rule_id: &str, event: &Event) -> bool {
        self.list.iter().any(|(c, q)| {
            c.tenant.as_deref().is_none_or(|t| t == &*event.tenant)
                && c.rule.as_deref().is_none_or(|r| r == rule_id)
                && q.matches(event)
        })
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::Timestamp;
    use std::sync::Arc;

    fn event(tenant: &str, user: &str, host: &str) -> Event {
        let mut e = Event::new(Timestamp(0), Arc::from(tenant), 2);
        e.push(ecs::USER_NAME, user);
        e.push(ecs::HOST_NAME, host);
        e
    }

    #[test]
    fn exceptions_are_scoped_by_tenant_rule_and_query() {
        let ex = Exceptions::new(&[ExceptionConfig {
            tenant: Some("city".into()),
            rule: Some("r1".into()),
            query: "user.name:svc_backup AND host.name:srv-*".into(),
            reason: "nightly backup".into(),
        }])
        .unwrap();
        assert!(ex.suppresses("r1", &event("city", "svc_backup", "srv-02")));
        assert!(
            !ex.suppresses("r2", &event("city", "svc_backup", "srv-02")),
            "another rule"
        );
        assert!(
            !ex.suppresses("r1", &event("water", "svc_backup", "srv-02")),
            "another tenant keeps its alerts"
        );
        assert!(
            !ex.suppresses("r1", &event("city", "svc_backup", "ws-7")),
            "the query must match"
        );
    }

    #[test]
    fn a_bad_exception_query_names_the_exception() {
        let err = Exceptions::new(&[ExceptionConfig {
            tenant: None,
            rule: None,
            query: "user.name:(".into(),
            reason: "typo".into(),
        }])
        .unwrap_err();
        assert!(err.contains("exception 1 (typo)"), "{err}");
    }

    #[test]
    fn the_entity_is_the_most_specific_field_present() {
        let e = event("t", "bob", "WS-1");
        assert_eq!(entity_of(&e), "host.name=ws-1");
        let mut e = Event::new(Timestamp(0), Arc::from("t"), 1);
        e.push(ecs::SOURCE_IP, "10.1.2.3");
        assert_eq!(entity_of(&e), "source.ip=10.1.2.3");
        assert_eq!(entity_of(&Event::new(Timestamp(0), Arc::from("t"), 0)), "-");
    }
}
