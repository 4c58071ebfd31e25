//! Haechi's events as rsigma sees them.
//!
//! Sigma rules for Windows name native fields (`CommandLine`, `EventID`, `Channel`,
//! `Provider_Name`); Haechi keeps them under their EVTX paths (`Event.EventData.CommandLine`,
//! `Event.System.EventID`, …). [`SigmaView`] resolves a rule's field name to the stored one,
//! and for Security 4688 events applies the renames that make them `process_creation`
//! events (`NewProcessName` is `Image`, `ParentProcessName` is `ParentImage`).

use haechi_event::{Event, Value, ecs, event_to_json};
use rsigma_eval::event::{Event as SigmaEvent, EventValue};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A read-only view of one event for rule evaluation.
pub struct SigmaView<'a> {
    pub event: &'a Event,
    /// Set for Security 4688 events (process creation with Security's field names).
    security_process_creation: bool,
    /// Every name a rule may use for a field, built on the first lookup: rules ask for
    /// many fields per event, and a scan of the field list per lookup was a third of
    /// hunting time.
    index: OnceCell<NameIndex<'a>>,
    /// The values keyword selections search, chosen on first use: every keyword rule
    /// asks, and choosing them per rule was a twentieth of a detection worker's time.
    keyword_values: OnceCell<Vec<&'a Value>>,
}

/// Field names (as rules may write them) to values.
type NameIndex<'a> = HashMap<Cow<'a, str>, &'a Value, BuildHasherDefault<FxHasher>>;

/// The Fx hash (rustc's), started from a per-process random seed: field names are
/// short, so a fast hash matters, and the seed keeps a sender from choosing names that
/// all collide.
#[derive(Clone, Copy)]
struct FxHasher(u64);

impl Default for FxHasher {
    fn default() -> Self {
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        FxHasher(*SEED.get_or_init(|| {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(0x6861_6563_6869u64)
        }))
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let word = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl<'a> SigmaView<'a> {
    pub fn new(event: &'a Event) -> Self {
        let security_process_creation = event.get_str("winlog.channel") == Some("Security")
            && event.get_str("event.code") == Some("4688");
        SigmaView {
            event,
            security_process_creation,
            index: OnceCell::new(),
            keyword_values: OnceCell::new(),
        }
    }

    fn index(&self) -> &NameIndex<'a> {
        self.index.get_or_init(|| name_index(self.event))
    }

    /// Every name a rule may use for one of this event's fields: what rsigma's candidate
    /// index probes instead of trying each of the thousand field names rules use.
    fn visit_names(&self, visit: &mut dyn FnMut(&str)) {
        let index = self.index();
        for name in index.keys() {
            visit(name);
        }
        if self.security_process_creation {
            for (rule_name, stored) in SECURITY_4688_RENAMES {
                if index.contains_key(stored) {
                    visit(rule_name);
                }
            }
        }
        for (taxonomy, ecs_name) in TAXONOMY_TO_ECS {
            if index.contains_key(*ecs_name) {
                visit(taxonomy);
            }
        }
        for (special, stored) in SPECIAL_NAMES {
            if index.contains_key(stored) {
                visit(special);
            }
        }
    }

    /// The stored value of a rule's field name.
    fn lookup(&self, path: &str) -> Option<&'a Value> {
        let index = self.index();
        if let Some(v) = index.get(path) {
            return Some(v);
        }
        if self.security_process_creation
            && let Some((_, stored)) = SECURITY_4688_RENAMES.iter().find(|(r, _)| *r == path)
            && let Some(v) = index.get(*stored)
        {
            return Some(v);
        }
        if let Some(ecs_name) = taxonomy_to_ecs(path)
            && let Some(v) = index.get(ecs_name)
        {
            return Some(v);
        }
        SPECIAL_NAMES
            .iter()
            .filter(|(name, _)| *name == path)
            .find_map(|(_, stored)| index.get(*stored).copied())
    }
}

/// Security 4688 is Sigma's `process_creation` with other field names (rule name,
/// Security's name).
const SECURITY_4688_RENAMES: [(&str, &str); 5] = [
    ("Image", "NewProcessName"),
    ("ParentImage", "ParentProcessName"),
    ("User", "SubjectUserName"),
    ("IntegrityLevel", "MandatoryLabel"),
    ("LogonId", "SubjectLogonId"),
];

/// Rule names that live elsewhere in EVTX renderings, in order of preference. The
/// `antivirus` taxonomy names the threat `Signature`; Defender, `Threat Name`.
const SPECIAL_NAMES: [(&str, &str); 4] = [
    ("Provider_Name", "Event.System.Provider_attributes.Name"),
    ("Signature", "Event.EventData.Threat Name"),
    ("EventID", "event.code"),
    ("EventID", "Event.System.EventID.#text"),
];

/// The names a rule may use for each field of an event, most specific first: the stored
/// name; the name under `Event.EventData.`, `Event.System.`, `Event.UserData.`; the last
/// segment of nested UserData payloads (`Event.UserData.<Element>.<Field>`); and
/// Defender's spaced data names without spaces (`Threat Name` is `ThreatName`).
fn name_index(event: &Event) -> NameIndex<'_> {
    let fields = &event.fields;
    let mut index = NameIndex::with_capacity_and_hasher(fields.len() * 2, Default::default());
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
            index
                .entry(Cow::Owned(spaced.replace(' ', "")))
                .or_insert(v);
        }
    }
    index
}

/// The ECS field that holds a Sigma taxonomy field of the non-Windows logsources
/// (webserver and proxy in W3C names, firewall, dns), for events that do not carry the
/// taxonomy name itself. `cs-uri-query` maps to the whole request URI (`url.original`):
/// SigmaHQ web rules look for attack strings in path and query alike.
pub fn taxonomy_to_ecs(field: &str) -> Option<&'static str> {
    TAXONOMY_TO_ECS
        .iter()
        .find(|(t, _)| *t == field)
        .map(|(_, e)| *e)
}

/// Sigma taxonomy name → ECS name (see [`taxonomy_to_ecs`]).
pub const TAXONOMY_TO_ECS: &[(&str, &str)] = &[
    ("c-ip", "source.ip"),
    ("src_ip", "source.ip"),
    ("s-ip", "destination.ip"),
    ("dst_ip", "destination.ip"),
    ("src_port", "source.port"),
    ("dst_port", "destination.port"),
    ("s-port", "destination.port"),
    ("cs-method", "http.request.method"),
    ("cs-uri-query", "url.original"),
    ("c-uri", "url.original"),
    ("cs-uri", "url.original"),
    ("cs-uri-stem", "url.path"),
    ("c-uri-stem", "url.path"),
    ("c-uri-query", "url.query"),
    ("c-uri-extension", "url.extension"),
    ("cs-user-agent", "user_agent.original"),
    ("c-useragent", "user_agent.original"),
    ("user_agent", "user_agent.original"),
    ("sc-status", "http.response.status_code"),
    ("cs-referrer", "http.request.referrer"),
    ("cs-referer", "http.request.referrer"),
    ("cs-host", "url.domain"),
    ("r-dns", "url.domain"),
    ("cs-username", "user.name"),
    ("c-username", "user.name"),
    ("sc-bytes", "http.response.body.bytes"),
    ("action", "event.action"),
    ("query", "dns.question.name"),
    ("record_type", "dns.question.type"),
    ("qtype_name", "dns.question.type"),
    ("answer", "dns.answers.data"),
];

impl<'a> SigmaView<'a> {
    /// The values keyword (field-less) selections search: what the device wrote (its
    /// own field names, and the original line — or the message where the line was not
    /// kept), not the ECS fields Haechi derived from it (`event.kind: event`,
    /// `winlog.channel`, …), which would make keywords such as `event` or `sysmon` fire on
    /// every record. An event that has nothing but ECS fields is searched whole.
    fn keyword_fields(&self) -> impl Iterator<Item = &'a Value> + '_ {
        self.keyword_values
            .get_or_init(|| {
                let fields: &'a [(haechi_event::FieldName, Value)] = &self.event.fields;
                let has_original = fields.iter().any(|(n, _)| n == ecs::EVENT_ORIGINAL);
                let device_written = |name: &str| {
                    name == ecs::EVENT_ORIGINAL
                        || (!has_original && name == ecs::MESSAGE)
                        || !is_ecs_name(name)
                };
                let any_device = fields.iter().any(|(n, _)| device_written(n));
                fields
                    .iter()
                    .filter(|(n, _)| !any_device || device_written(n))
                    .map(|(_, v)| v)
                    .collect()
            })
            .iter()
            .copied()
    }
}

/// Whether a field name is in one of the ECS field sets Haechi normalizes into.
fn is_ecs_name(name: &str) -> bool {
    const SETS: [&str; 27] = [
        "agent",
        "client",
        "destination",
        "dns",
        "ecs",
        "email",
        "event",
        "file",
        "host",
        "http",
        "log",
        "network",
        "observer",
        "organization",
        "process",
        "related",
        "rule",
        "server",
        "service",
        "source",
        "threat",
        "tls",
        "url",
        "user",
        "user_agent",
        "winlog",
        "message",
    ];
    let set = name.split('.').next().unwrap_or(name);
    SETS.contains(&set) || name == "@timestamp" || name == "tags" || name == "labels"
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

    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        self.visit_names(visit);
        true
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
