//! Haechi's events as rsigma sees them.
//!
//! Sigma rules for Windows name native fields (`CommandLine`, `EventID`, `Channel`,
//! `Provider_Name`); Haechi keeps them under their EVTX paths (`Event.EventData.CommandLine`,
//! `Event.System.EventID`, …). [`SigmaView`] resolves a rule's field name to the stored one,
//! and for Security 4688 events applies the renames that make them `process_creation`
//! events (`NewProcessName` is `Image`, `ParentProcessName` is `ParentImage`).

use haechi_event::{Event, FieldName, Value, ecs, event_to_json};
use rsigma_eval::event::{Event as SigmaEvent, EventValue};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;

/// A read-only view of one event for rule evaluation.
pub struct SigmaView<'a> {
    pub event: &'a Event,
    /// Set for Security 4688 events (process creation with Security's field names).
    security_process_creation: bool,
    /// Every name a rule may use for a field, built on the first lookup: rules ask for
    /// many fields per event, and a scan of the field list per lookup was a third of
    /// hunting time.
    index: OnceCell<HashMap<Cow<'a, str>, &'a Value>>,
}

impl<'a> SigmaView<'a> {
    pub fn new(event: &'a Event) -> Self {
        let security_process_creation = event.get_str("winlog.channel") == Some("Security")
            && event.get_str("event.code") == Some("4688");
        SigmaView {
            event,
            security_process_creation,
            index: OnceCell::new(),
        }
    }

    /// The stored value of a rule's field name.
    fn lookup(&self, path: &str) -> Option<&'a Value> {
        let index = self.index.get_or_init(|| name_index(self.event));
        if let Some(v) = index.get(path) {
            return Some(v);
        }
        let renamed = match (self.security_process_creation, path) {
            (true, "Image") => "NewProcessName",
            (true, "ParentImage") => "ParentProcessName",
            (true, "User") => "SubjectUserName",
            (true, "IntegrityLevel") => "MandatoryLabel",
            (true, "LogonId") => "SubjectLogonId",
            _ => path,
        };
        if renamed != path
            && let Some(v) = index.get(renamed)
        {
            return Some(v);
        }
        if let Some(ecs_name) = taxonomy_to_ecs(path)
            && let Some(v) = index.get(ecs_name)
        {
            return Some(v);
        }
        let special = |name: &str| index.get(name).copied();
        match path {
            "Provider_Name" => special("Event.System.Provider_attributes.Name"),
            // The `antivirus` taxonomy names the threat `Signature`; Defender, `Threat Name`.
            "Signature" => special("Event.EventData.Threat Name"),
            "EventID" => special("event.code").or_else(|| special("Event.System.EventID.#text")),
            _ => None,
        }
    }
}

/// The names a rule may use for each field of an event, most specific first: the stored
/// name; the name under `Event.EventData.`, `Event.System.`, `Event.UserData.`; the last
/// segment of nested UserData payloads (`Event.UserData.<Element>.<Field>`); and
/// Defender's spaced data names without spaces (`Threat Name` is `ThreatName`).
fn name_index(event: &Event) -> HashMap<Cow<'_, str>, &Value> {
    let fields = &event.fields;
    let mut index: HashMap<Cow<'_, str>, &Value> = HashMap::with_capacity(fields.len() * 2);
    for (n, v) in fields {
        index.entry(Cow::Borrowed(n.as_ref())).or_insert(v);
    }
    for prefix in ["Event.EventData.", "Event.System.", "Event.UserData."] {
        for (n, v) in fields {
            if let Some(short) = n.strip_prefix(prefix) {
                index.entry(Cow::Borrowed(short)).or_insert(v);
            }
        }
    }
    for (n, v) in fields {
        if let Some((_, last)) = n
            .strip_prefix("Event.UserData.")
            .and_then(|rest| rest.rsplit_once('.'))
        {
            index.entry(Cow::Borrowed(last)).or_insert(v);
        }
        if let Some(spaced) = n
            .strip_prefix("Event.EventData.")
            .filter(|d| d.contains(' '))
        {
            index.entry(Cow::Owned(spaced.replace(' ', ""))).or_insert(v);
        }
    }
    index
}

/// The ECS field that holds a Sigma taxonomy field of the non-Windows logsources
/// (webserver and proxy in W3C names, firewall, dns), for events that do not carry the
/// taxonomy name itself. `cs-uri-query` maps to the whole request URI (`url.original`):
/// SigmaHQ web rules look for attack strings in path and query alike.
pub fn taxonomy_to_ecs(field: &str) -> Option<&'static str> {
    Some(match field {
        "c-ip" | "src_ip" => "source.ip",
        "s-ip" | "dst_ip" => "destination.ip",
        "src_port" => "source.port",
        "dst_port" | "s-port" => "destination.port",
        "cs-method" => "http.request.method",
        "cs-uri-query" | "c-uri" | "cs-uri" => "url.original",
        "cs-uri-stem" | "c-uri-stem" => "url.path",
        "c-uri-query" => "url.query",
        "c-uri-extension" => "url.extension",
        "cs-user-agent" | "c-useragent" | "user_agent" => "user_agent.original",
        "sc-status" => "http.response.status_code",
        "cs-referrer" | "cs-referer" => "http.request.referrer",
        "cs-host" | "r-dns" => "url.domain",
        "cs-username" | "c-username" => "user.name",
        "sc-bytes" => "http.response.body.bytes",
        "action" => "event.action",
        "query" => "dns.question.name",
        "record_type" | "qtype_name" => "dns.question.type",
        "answer" => "dns.answers.data",
        _ => return None,
    })
}

impl<'a> SigmaView<'a> {
    /// The values keyword (field-less) selections search: what the device wrote (its
    /// own field names, the message, the original line), not the ECS fields Haechi
    /// derived from it (`event.kind: event`, `winlog.channel`, …), which would make
    /// keywords such as `event` or `sysmon` fire on every record. An event that has
    /// nothing but ECS fields is searched whole.
    fn keyword_fields(&self) -> impl Iterator<Item = &'a Value> + '_ {
        let fields = &self.event.fields;
        let device_written = |name: &FieldName| {
            matches!(name, Cow::Owned(_)) || name == ecs::MESSAGE || name == ecs::EVENT_ORIGINAL
        };
        let any_device = fields.iter().any(|(n, _)| device_written(n));
        fields
            .iter()
            .filter(move |(n, _)| !any_device || device_written(n))
            .map(|(_, v)| v)
    }
}


fn to_event_value(value: &Value) -> EventValue<'_> {
    match value {
        Value::Str(s) => {
            // EventID and other numbers arrive as text from some sources; rules compare numbers.
            EventValue::Str(Cow::Borrowed(s.as_str()))
        }
        Value::Int(i) => EventValue::Int(*i),
        Value::Float(x) => EventValue::Float(*x),
        Value::Bool(b) => EventValue::Bool(*b),
        Value::Ip(ip) => EventValue::Str(Cow::Owned(ip.to_string())),
        Value::List(items) => EventValue::Array(items.iter().map(to_event_value).collect()),
    }
}

impl SigmaEvent for SigmaView<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        self.lookup(path).map(to_event_value)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.keyword_fields()
            .any(|v| v.scalars().any(|s| pred(&s.as_text())))
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.keyword_fields()
            .flat_map(|v| v.scalars().map(|s| s.as_text()))
            .collect()
    }

    fn to_json(&self) -> serde_json::Value {
        event_to_json(self.event)
    }
}
