//! # The event model
//!
//! Everything Haechi collects becomes an [`Event`]: a UTC timestamp, the institution it
//! belongs to (the tenant, ECS `organization.id`) and a flat list of fields. Field names
//! are dotted ECS names (`source.ip`, `event.category`, …) beside the device's original
//! names (`Event.EventData.CommandLine`, `cs1`, `proto`, …), because Sigma rules match on
//! native names while searches and dashboards use ECS.
//!
//! * [`Value`] is a typed field value (string, integer, float, boolean, IP address, or a
//!   list of them); typing happens once, at parse time, so that the store can index IPs as
//!   IPs and numbers as numbers.
//! * [`FieldName`] is a `Cow<'static, str>`: ECS names are static strings (no allocation on
//!   the hot path), original names are owned.
//! * [`Batch`] is what flows between stages: every stage takes and returns batches.
//! * [`DeadLetter`] is a record that could not be parsed, with the reason and its source:
//!   nothing is dropped silently.
//! * [`ecs`] holds the field names Haechi writes, so that a typo is a compile error.
//! * [`Alert`] is what detection makes of events: a rule or indicator that fired, for a
//!   tenant and an entity, with references to the events.

pub mod alert;
pub mod ecs;
pub mod failpoint;
mod json;
mod time;
mod value;

use std::borrow::Cow;
use std::sync::Arc;

pub use alert::{Alert, AlertSource, AlertState, Disposition, EventRef, Level, Triage};
pub use json::{event_from_json, event_to_json, flatten_json_into, write_event_json};
pub use time::{Timestamp, parse_rfc3339};
pub use value::Value;

/// A tenant (institution) id: 1–64 characters of `a-z 0-9 - _ .`. Every crate that
/// takes a tenant from a person checks it with this one rule.
pub fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 64
        && t.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

/// A field name: static for ECS names, owned for names that come from the device.
pub type FieldName = Cow<'static, str>;

/// One normalized event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When the event happened (device time, in UTC), or when it was received if the
    /// record carries no time.
    pub timestamp: Timestamp,
    /// The institution the event belongs to (`organization.id`).
    pub tenant: Arc<str>,
    /// Every field, ECS and original, in the order the parser produced them.
    pub fields: Vec<(FieldName, Value)>,
}

impl Event {
    /// A new event with room for `capacity` fields.
    pub fn new(timestamp: Timestamp, tenant: Arc<str>, capacity: usize) -> Self {
        Event {
            timestamp,
            tenant,
            fields: Vec::with_capacity(capacity),
        }
    }

    /// Appends a field. Callers set each name once; `set` replaces instead.
    #[inline]
    pub fn push(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Appends a string field unless it is empty or `-` (the usual "no value" marks).
    #[inline]
    pub fn push_str_nonempty(&mut self, name: impl Into<FieldName>, value: &str) {
        if !value.is_empty() && value != "-" {
            self.fields
                .push((name.into(), Value::Str(value.to_owned())));
        }
    }

    /// Sets a field, replacing an existing value of the same name.
    pub fn set(&mut self, name: impl Into<FieldName>, value: impl Into<Value>) {
        let name = name.into();
        let value = value.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&Value> {
        if name == ecs::TIMESTAMP {
            return None;
        }
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The first value of a field as a string, if it is one.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The free-text body of the event: `message`, else `event.original`.
    pub fn message(&self) -> Option<&str> {
        self.get_str(ecs::MESSAGE)
            .or_else(|| self.get_str(ecs::EVENT_ORIGINAL))
    }
}

/// Events that travel together between stages.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub events: Vec<Event>,
    pub dead_letters: Vec<DeadLetter>,
}

impl Batch {
    pub fn with_capacity(n: usize) -> Self {
        Batch {
            events: Vec::with_capacity(n),
            dead_letters: Vec::new(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.dead_letters.is_empty()
    }
    pub fn len(&self) -> usize {
        self.events.len() + self.dead_letters.len()
    }
}

/// A record that could not be turned into an event. Kept with the reason so that an
/// operator can fix the source or the parser and replay it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    /// When Haechi received the record.
    pub received: Timestamp,
    /// The institution the record was for.
    pub tenant: String,
    /// Where it came from: a file path and line, or a listener and peer address.
    pub source: String,
    /// The format Haechi tried to parse it as.
    pub format: String,
    /// Why it was rejected, specific enough to act on.
    pub reason: String,
    /// The record itself (lossily decoded as UTF-8, cut at 64 KiB).
    pub record: String,
}

/// The longest record text a dead letter keeps.
pub const DEAD_LETTER_MAX_RECORD: usize = 64 * 1024;

impl DeadLetter {
    pub fn new(tenant: &str, source: String, format: &str, reason: String, record: &[u8]) -> Self {
        let cut = &record[..record.len().min(DEAD_LETTER_MAX_RECORD)];
        DeadLetter {
            received: Timestamp::now(),
            tenant: tenant.to_owned(),
            source,
            format: format.to_owned(),
            reason,
            record: String::from_utf8_lossy(cut).into_owned(),
        }
    }
}
