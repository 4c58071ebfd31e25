//! How an event becomes a ClickHouse row and back.
//!
//! | column | holds | serves |
//! |---|---|---|
//! | `ts` Int64 | `@timestamp`, ns UTC | time windows, newest-first order, histograms (sort key) |
//! | `org` String | `organization.id` | the institution filter (sort key, first) |
//! | `day` Date | the UTC day of `ts` | partitions: retention drops whole days |
//! | `source_ip`, `destination_ip` FixedString(16) | the field's value when it has exactly one and it reads as an IP (IPv4 mapped), else 16 zero bytes | needle searches read one narrow column first (`PREWHERE`) |
//! | `fk`, `fv`, `ft`, `fnum`, `fip` (parallel arrays) | one entry per scalar value: field name, value as text (original case), type tag, value as number (NaN if none), value as IP (zeros if none) | every field predicate, top-N counts, and rebuilding the event |
//! | `mw`, `ow` Array(String) | the distinct words of `message` and `event.original` (the query language's tokenizer) | free text |
//!
//! Everything but the two IP columns lives in the arrays, so new device fields need no
//! schema change, and the row rebuilds the event without a second copy of it (the
//! figures for this choice are in `docs/design/scale-out.md`).

use haechi_event::{Event, FieldName, Timestamp, Value, ecs};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv6Addr};

/// Type tags of `ft` (the low five bits, [`TAG_MASK`]); the high bits are flags.
pub const TAG_STR: u8 = 1;
pub const TAG_INT: u8 = 2;
pub const TAG_FLOAT: u8 = 3;
pub const TAG_BOOL: u8 = 4;
pub const TAG_IP: u8 = 5;
/// An empty list (no value follows).
pub const TAG_EMPTY_LIST: u8 = 6;
pub const TAG_MASK: u8 = 0x1f;
/// Flag: the value reads as an IP address (`fip` holds it).
pub const FLAG_HAS_IP: u8 = 0x40;
/// Flag: the value is an element of a list.
pub const FLAG_LIST: u8 = 0x80;
/// Flag: this element starts a new list (with [`FLAG_LIST`]).
pub const FLAG_LIST_START: u8 = 0x20;

/// The event's row, as the `clickhouse` crate writes it (RowBinary, columns by name).
#[derive(Debug, Clone, PartialEq, ::clickhouse::Row, serde::Serialize, serde::Deserialize)]
pub struct EventRow {
    pub ts: i64,
    pub org: String,
    /// Days since 1970-01-01 (ClickHouse `Date`).
    pub day: u16,
    pub source_ip: [u8; 16],
    pub destination_ip: [u8; 16],
    pub fk: Vec<String>,
    pub fv: Vec<String>,
    pub ft: Vec<u8>,
    pub fnum: Vec<f64>,
    pub fip: Vec<[u8; 16]>,
    pub mw: Vec<String>,
    pub ow: Vec<String>,
}

/// The columns a search reads to rebuild events.
pub const READ_COLUMNS: &str = "ts, org, fk, fv, ft";

/// What a search reads back.
#[derive(Debug, Clone, ::clickhouse::Row, serde::Deserialize)]
pub struct StoredRow {
    pub ts: i64,
    pub org: String,
    pub fk: Vec<String>,
    pub fv: Vec<String>,
    pub ft: Vec<u8>,
}

/// tantivy and ClickHouse both keep IPs as 16 bytes; IPv4 becomes IPv4-mapped.
pub fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// The inverse of [`ip_bytes`].
pub fn ip_from_bytes(bytes: [u8; 16]) -> IpAddr {
    let v6 = Ipv6Addr::from(bytes);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

impl EventRow {
    pub fn from_event(event: &Event) -> EventRow {
        let n = event.fields.len();
        let mut row = EventRow {
            ts: event.timestamp.0,
            org: event.tenant.to_string(),
            day: event
                .timestamp
                .0
                .div_euclid(86_400_000_000_000)
                .clamp(0, 65_535) as u16,
            source_ip: [0; 16],
            destination_ip: [0; 16],
            fk: Vec::with_capacity(n),
            fv: Vec::with_capacity(n),
            ft: Vec::with_capacity(n),
            fnum: Vec::with_capacity(n),
            fip: Vec::with_capacity(n),
            mw: Vec::new(),
            ow: Vec::new(),
        };
        let mut message_words = BTreeSet::new();
        let mut original_words = BTreeSet::new();
        for (name, value) in &event.fields {
            match value {
                Value::List(items) if items.is_empty() => {
                    row.push_entry(name, "", TAG_EMPTY_LIST | FLAG_LIST | FLAG_LIST_START, None);
                }
                Value::List(_) => {
                    for (i, scalar) in value.scalars().enumerate() {
                        let start = if i == 0 { FLAG_LIST_START } else { 0 };
                        row.push_scalar(name, scalar, FLAG_LIST | start);
                    }
                }
                scalar => row.push_scalar(name, scalar, 0),
            }
            let words = if name == ecs::MESSAGE {
                &mut message_words
            } else if name == ecs::EVENT_ORIGINAL {
                &mut original_words
            } else {
                continue;
            };
            for scalar in value.scalars() {
                words.extend(haechi_query::tokenize(&scalar.as_text()));
            }
        }
        row.source_ip = row.single_ip(ecs::SOURCE_IP);
        row.destination_ip = row.single_ip(ecs::DESTINATION_IP);
        row.mw = message_words.into_iter().collect();
        row.ow = original_words.into_iter().collect();
        row
    }

    /// The field's IP when it has exactly one value and that value reads as an IP (the
    /// hot column's contract, which the SQL compiler relies on); zeros otherwise.
    fn single_ip(&self, field: &str) -> [u8; 16] {
        let mut found = self.fk.iter().enumerate().filter(|(_, k)| *k == field);
        match (found.next(), found.next()) {
            (Some((i, _)), None) if self.ft[i] & FLAG_HAS_IP != 0 => self.fip[i],
            _ => [0; 16],
        }
    }

    fn push_scalar(&mut self, name: &FieldName, value: &Value, flags: u8) {
        let tag = match value {
            Value::Str(_) => TAG_STR,
            Value::Int(_) => TAG_INT,
            Value::Float(_) => TAG_FLOAT,
            Value::Bool(_) => TAG_BOOL,
            Value::Ip(_) => TAG_IP,
            Value::List(_) => TAG_EMPTY_LIST,
        };
        let text = value.as_text();
        let ip = value.as_ip();
        let flags = flags | if ip.is_some() { FLAG_HAS_IP } else { 0 };
        self.fnum.push(value.as_f64().unwrap_or(f64::NAN));
        self.fip.push(ip.map(ip_bytes).unwrap_or([0; 16]));
        self.fk.push(name.to_string());
        self.fv.push(text.into_owned());
        self.ft.push(tag | flags);
    }

    fn push_entry(&mut self, name: &FieldName, text: &str, tag: u8, ip: Option<IpAddr>) {
        self.fk.push(name.to_string());
        self.fv.push(text.to_owned());
        self.ft.push(tag);
        self.fnum.push(f64::NAN);
        self.fip.push(ip.map(ip_bytes).unwrap_or([0; 16]));
    }
}

impl StoredRow {
    /// Rebuilds the event: field order, types and lists as they were stored.
    pub fn into_event(self) -> Event {
        let mut event = Event::new(Timestamp(self.ts), self.org.into(), self.fk.len());
        let mut open_list: Option<(String, Vec<Value>)> = None;
        for ((key, text), tag) in self.fk.into_iter().zip(self.fv).zip(self.ft) {
            let in_list = tag & FLAG_LIST != 0;
            let starts = tag & FLAG_LIST_START != 0;
            if (!in_list || starts)
                && let Some((k, items)) = open_list.take()
            {
                event.push(k, Value::List(items));
            }
            let base = tag & TAG_MASK;
            if base == TAG_EMPTY_LIST {
                event.push(key, Value::List(Vec::new()));
                continue;
            }
            let value = scalar_from(base, text);
            if in_list {
                match &mut open_list {
                    Some((_, items)) => items.push(value),
                    None => open_list = Some((key, vec![value])),
                }
            } else {
                event.push(key, value);
            }
        }
        if let Some((k, items)) = open_list {
            event.push(k, Value::List(items));
        }
        event
    }
}

/// The value a stored text and tag stand for (text when the tag does not parse).
fn scalar_from(tag: u8, text: String) -> Value {
    match tag {
        TAG_INT => text.parse().map(Value::Int).unwrap_or(Value::Str(text)),
        TAG_FLOAT => text.parse().map(Value::Float).unwrap_or(Value::Str(text)),
        TAG_BOOL => Value::Bool(text == "true"),
        TAG_IP => text.parse().map(Value::Ip).unwrap_or(Value::Str(text)),
        _ => Value::Str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(row: EventRow) -> StoredRow {
        StoredRow {
            ts: row.ts,
            org: row.org,
            fk: row.fk,
            fv: row.fv,
            ft: row.ft,
        }
    }

    #[test]
    fn an_event_round_trips_with_types_lists_and_order() {
        let mut e = Event::new(Timestamp(1_714_557_600_123_456_789), "seoul".into(), 8);
        e.push("source.ip", Value::Ip("10.0.0.1".parse().unwrap()));
        e.push("destination.ip", Value::Ip("2001:db8::7".parse().unwrap()));
        e.push("destination.port", 22i64);
        e.push("ratio", Value::Float(0.25));
        e.push("ok", Value::Bool(true));
        e.push(
            "log.level",
            Value::List(vec!["alert".into(), "alert".into()]),
        );
        e.push("log.level", Value::List(vec!["x".into()]));
        e.push("empty", Value::List(vec![]));
        e.push("addr", "10.1.2.3");
        e.push("message", "Failed password for root");
        let row = EventRow::from_event(&e);
        assert_eq!(
            ip_from_bytes(row.source_ip),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(row.mw, vec!["failed", "for", "password", "root"]);
        let i = row.fk.iter().position(|k| k == "addr").unwrap();
        assert_ne!(
            row.ft[i] & FLAG_HAS_IP,
            0,
            "a string that reads as an IP is an IP too"
        );
        assert_eq!(row.day, 19_844);
        let back = stored(row).into_event();
        assert_eq!(back, e);
    }
}
