//! `json`: generic JSON lines (NDJSON), one object per line, mapped to ECS by a
//! configurable [`JsonMapping`].
//!
//! * Nested objects flatten to dotted names (`{"source":{"ip":"…"}}` → `source.ip`, the same
//!   as a literal `"source.ip"` key), arrays of objects to one list per leaf, exactly as
//!   [`haechi_event::flatten_json_into`] does, but in one pass over the text without building
//!   a JSON tree ([`flatten_json_line`]). A key that occurs twice keeps both values.
//! * The time comes from the first of [`JsonMapping::timestamp_fields`] that the record has
//!   (RFC 3339 / ISO 8601, in `ParseContext::timezone` when it has no offset, or epoch
//!   seconds, milliseconds, microseconds or nanoseconds, as a number or a numeric string, told
//!   apart by magnitude); a record with none of them is
//!   stamped with its receive time. A candidate that is present but unreadable is an error
//!   (unless a later candidate reads), so that a wrong time never passes silently.
//! * [`JsonMapping::rename`] copies (or, with `keep_original = false`, moves) source paths to
//!   ECS names; afterwards the values of ECS IP fields ([`ecs::IP_FIELDS`]) are typed as IPs.
//! * A document that already is ECS (`@timestamp`, `event.*`, `source.ip`, …) comes through
//!   unchanged: `@timestamp` becomes the event time, every other field stays as it is. Only
//!   `organization.id` is dropped: the tenant is the one the record arrived for, never one a
//!   record claims. `event.kind` is set to `event` when the record has none.

use crate::{Format, ParseContext, ParseError, RecordParser, normalize};
use haechi_event::{Event, FieldName, Timestamp, Value, ecs};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use std::collections::HashMap;

/// How generic JSON lines map to ECS (the `[json]` section of the configuration).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JsonMapping {
    /// Candidate paths of the event time, tried in order (dotted paths reach into nested
    /// objects). Default: `@timestamp`, `timestamp`, `time`, `ts`, `eventTime`.
    pub timestamp_fields: Vec<String>,
    /// Source path (dotted, after flattening) → ECS name, e.g. `{"src_ip": "source.ip"}`.
    pub rename: HashMap<String, String>,
    /// A field whose value becomes `message` (as text), e.g. `"msg"`.
    pub message_field: Option<String>,
    /// Whether renamed fields are also kept under their original names (default: yes).
    pub keep_original: bool,
}

impl Default for JsonMapping {
    fn default() -> Self {
        JsonMapping {
            timestamp_fields: ["@timestamp", "timestamp", "time", "ts", "eventTime"]
                .map(String::from)
                .to_vec(),
            rename: HashMap::new(),
            message_field: None,
            keep_original: true,
        }
    }
}

/// Parses JSON lines with the mapping of the [`ParseContext`].
#[derive(Debug, Default)]
pub struct JsonParser;

impl JsonParser {
    pub fn new() -> Self {
        JsonParser
    }
}

impl RecordParser for JsonParser {
    fn format(&self) -> Format {
        Format::Json
    }

    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
        let text = record.trim();
        if text.is_empty() {
            return Ok(None);
        }
        json_line_to_event(text, ctx, &ctx.json_mapping).map(Some)
    }
}

/// How keys become names while flattening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `a.b.c`, as [`haechi_event::flatten_json_into`] does.
    Plain,
    /// EVTX records rendered as JSON: an element's `#text` is the element itself, its
    /// `#attributes` are `<element>_attributes.<name>`; the `<Event>` namespace attribute
    /// (`Event_attributes` / `Event.#attributes`) is left out.
    Evtx,
}

/// Parses one JSON object and flattens it into `fields` in a single pass, without building a
/// JSON tree: the same names and values as [`haechi_event::flatten_json_into`] gives for the
/// parsed object (nested objects → dotted names, arrays of scalars → lists, arrays of objects
/// → one list per leaf name). Field names are interned ([`normalize::static_name`]). Anything
/// but one JSON object is an error with serde's message and position.
pub fn flatten_json_line(
    text: &str,
    fields: &mut Vec<(FieldName, Value)>,
) -> Result<(), ParseError> {
    flatten_with(
        serde_json::Deserializer::from_str(text),
        Flavor::Plain,
        fields,
    )
}

/// [`flatten_json_line`] for bytes, in either [`Flavor`].
pub(crate) fn flatten_json_bytes(
    bytes: &[u8],
    flavor: Flavor,
    fields: &mut Vec<(FieldName, Value)>,
) -> Result<(), ParseError> {
    flatten_with(serde_json::Deserializer::from_slice(bytes), flavor, fields)
}

fn flatten_with<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    flavor: Flavor,
    fields: &mut Vec<(FieldName, Value)>,
) -> Result<(), ParseError> {
    let mut prefix = String::with_capacity(64);
    Node {
        fields,
        prefix: &mut prefix,
        root: true,
        flavor,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ParseError::new(format!("not a JSON object: {e}")),
        _ => ParseError::new(format!("invalid JSON: {e}")),
    })
}

/// Appends `key` to `prefix` as the flavor names it; `false` when its value is left out.
fn push_key(prefix: &mut String, key: &str, flavor: Flavor) -> bool {
    if flavor == Flavor::Evtx {
        match key {
            "#text" => return true,
            "#attributes" if prefix == "Event" => return false,
            "#attributes" => {
                prefix.push_str("_attributes");
                return true;
            }
            "Event_attributes" if prefix.is_empty() => return false,
            _ => {}
        }
    }
    if !prefix.is_empty() {
        prefix.push('.');
    }
    prefix.push_str(key);
    true
}

/// Flattens the JSON value at `prefix` (see [`flatten_json_line`]).
struct Node<'a> {
    fields: &'a mut Vec<(FieldName, Value)>,
    prefix: &'a mut String,
    /// The top level, which must be an object.
    root: bool,
    flavor: Flavor,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.root {
            deserializer.deserialize_map(self)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl Node<'_> {
    fn push(self, value: Value) {
        self.fields
            .push((normalize::static_name(self.prefix), value));
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(if self.root {
            "a JSON object"
        } else {
            "a JSON value"
        })
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.push(Value::Bool(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.push(Value::Int(v));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.push(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.push(Value::Float(v));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.push(Value::Str(v.to_owned()));
        Ok(())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.push(Value::Str(v));
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = self.prefix.len();
        while let Some(descend) = map.next_key_seed(Key {
            prefix: self.prefix,
            flavor: self.flavor,
        })? {
            if descend {
                map.next_value_seed(Node {
                    fields: self.fields,
                    prefix: self.prefix,
                    root: false,
                    flavor: self.flavor,
                })?;
            } else {
                map.next_value::<de::IgnoredAny>()?;
            }
            self.prefix.truncate(base);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Arrays are rare and their flattening depends on all their elements: read them whole.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        flatten_owned(self.fields, self.prefix, Json::Array(items), self.flavor);
        Ok(())
    }
}

/// Appends a key to the prefix (`a` → `a.key`); yields whether to descend into its value.
struct Key<'a> {
    prefix: &'a mut String,
    flavor: Flavor,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(push_key(self.prefix, key, self.flavor))
    }
}

/// [`haechi_event::flatten_json_into`] for an owned value (strings are moved, not copied),
/// in either [`Flavor`].
pub(crate) fn flatten_owned(
    fields: &mut Vec<(FieldName, Value)>,
    prefix: &mut String,
    value: Json,
    flavor: Flavor,
) {
    match value {
        Json::Object(map) => {
            let base = prefix.len();
            for (key, v) in map {
                if push_key(prefix, &key, flavor) {
                    flatten_owned(fields, prefix, v, flavor);
                }
                prefix.truncate(base);
            }
        }
        Json::Array(items) if items.iter().any(Json::is_object) => {
            let mut sub = Vec::new();
            for item in items {
                flatten_owned(&mut sub, prefix, item, flavor);
            }
            merge_repeated(fields, sub);
        }
        Json::Array(items) => {
            let list: Vec<Value> = items.into_iter().filter_map(scalar_owned).collect();
            if !list.is_empty() {
                fields.push((normalize::static_name(prefix), Value::List(list)));
            }
        }
        scalar => {
            if let Some(v) = scalar_owned(scalar) {
                fields.push((normalize::static_name(prefix), v));
            }
        }
    }
}

/// Groups repeated names into one list each, keeping first-seen order.
pub(crate) fn merge_repeated(fields: &mut Vec<(FieldName, Value)>, sub: Vec<(FieldName, Value)>) {
    let mut grouped: Vec<(FieldName, Vec<Value>)> = Vec::new();
    for (name, value) in sub {
        match grouped.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => grouped.push((name, vec![value])),
        }
    }
    for (name, mut values) in grouped {
        let value = if values.len() == 1 {
            values.pop().unwrap_or(Value::Bool(false))
        } else {
            Value::List(values)
        };
        fields.push((name, value));
    }
}

/// A JSON scalar as a value (`null` is none; an array a list; an object its JSON text).
pub(crate) fn scalar_owned(value: Json) -> Option<Value> {
    match value {
        Json::String(s) => Some(Value::Str(s)),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        }),
        Json::Bool(b) => Some(Value::Bool(b)),
        Json::Null => None,
        Json::Array(items) => Some(Value::List(
            items.into_iter().filter_map(scalar_owned).collect(),
        )),
        Json::Object(_) => Some(Value::Str(value.to_string())),
    }
}

/// The index of the first field called `name`.
pub(crate) fn position(fields: &[(FieldName, Value)], name: &str) -> Option<usize> {
    fields.iter().position(|(n, _)| n == name)
}

/// Shortens a value for an error message.
pub(crate) fn shown(value: &Value) -> String {
    let text = match value {
        Value::Str(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    match normalize::excerpt(&text, 80) {
        cut if cut.len() < text.len() => format!("{cut}…"),
        _ => text,
    }
}

/// The event time from the mapping's candidate fields (see the module documentation).
fn event_time(
    fields: &[(FieldName, Value)],
    ctx: &ParseContext,
    mapping: &JsonMapping,
) -> Result<Timestamp, ParseError> {
    let mut unreadable: Option<(&str, &Value)> = None;
    for name in &mapping.timestamp_fields {
        if let Some(i) = position(fields, name) {
            let value = &fields[i].1;
            if let Some(t) = normalize::value_time(value, ctx) {
                return Ok(t);
            }
            unreadable.get_or_insert((name, value));
        }
    }
    match unreadable {
        None => Ok(ctx.received),
        Some((name, value)) => Err(ParseError::new(format!(
            "time field \"{name}\" holds {}, which is neither an ISO 8601 time nor epoch seconds/milliseconds",
            shown(value)
        ))),
    }
}

/// Turns a JSON line into an event with `mapping` (see the module documentation).
pub fn json_line_to_event(
    text: &str,
    ctx: &ParseContext,
    mapping: &JsonMapping,
) -> Result<Event, ParseError> {
    let mut fields = Vec::with_capacity(32);
    flatten_json_line(text, &mut fields)?;
    let timestamp = event_time(&fields, ctx, mapping)?;
    // `@timestamp` is the event time; the tenant is not the record's to say.
    fields.retain(|(name, _)| name != ecs::TIMESTAMP && name != ecs::ORGANIZATION_ID);
    let mut event = Event {
        timestamp,
        tenant: ctx.tenant.clone(),
        fields,
    };
    if !mapping.rename.is_empty() || mapping.message_field.is_some() {
        apply_rename(&mut event, mapping);
    }
    normalize::type_ip_fields(&mut event, 0);
    if position(&event.fields, ecs::EVENT_KIND).is_none() {
        event.push(ecs::EVENT_KIND, "event");
    }
    Ok(event)
}

/// Copies (or moves) renamed fields to their ECS names and the message field to `message`.
fn apply_rename(event: &mut Event, mapping: &JsonMapping) {
    let original_len = event.fields.len();
    let message_field = mapping
        .message_field
        .as_deref()
        .filter(|f| *f != ecs::MESSAGE);
    for i in 0..original_len {
        let name = event.fields[i].0.as_ref();
        let is_message = message_field == Some(name);
        let target = mapping.rename.get(name);
        if is_message {
            let text = Value::Str(event.fields[i].1.as_text().into_owned());
            event.fields.push((FieldName::Borrowed(ecs::MESSAGE), text));
        }
        let Some(target) = target else { continue };
        if mapping.keep_original {
            let value = event.fields[i].1.clone();
            event.fields.push((FieldName::Owned(target.clone()), value));
        } else {
            event.fields[i].0 = FieldName::Owned(target.clone());
        }
    }
    if !mapping.keep_original
        && let Some(field) = message_field
    {
        event.fields.retain(|(name, _)| name != field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::{event_to_json, flatten_json_into, parse_rfc3339};
    use std::sync::Arc;

    fn ctx_with(mapping: JsonMapping) -> ParseContext {
        let mut ctx = ParseContext::new("seoul-city");
        ctx.received = parse_rfc3339("2030-01-01T00:00:00Z").unwrap();
        ctx.json_mapping = Arc::new(mapping);
        ctx
    }

    fn parse(line: &str, ctx: &ParseContext) -> Result<Event, ParseError> {
        JsonParser::new()
            .parse(line, ctx)
            .map(|e| e.expect("an event"))
    }

    fn ip(s: &str) -> Value {
        Value::Ip(s.parse().unwrap())
    }

    #[test]
    fn rename_copies_to_ecs_and_types_ips() {
        let mapping = JsonMapping {
            rename: [
                ("src_ip", "source.ip"),
                ("dst.addr", "destination.ip"),
                ("act", "event.action"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .into(),
            ..JsonMapping::default()
        };
        let ctx = ctx_with(mapping);
        let e = parse(r#"{"ts":1700000000,"src_ip":"10.0.0.1","dst":{"addr":"2001:db8::1","port":443},"act":"deny"}"#, &ctx)
            .unwrap();
        assert_eq!(e.get("source.ip"), Some(&ip("10.0.0.1")));
        assert_eq!(e.get("destination.ip"), Some(&ip("2001:db8::1")));
        assert_eq!(e.get_str("event.action"), Some("deny"));
        // originals kept by default, untyped (only ECS IP fields are typed)
        assert_eq!(e.get_str("src_ip"), Some("10.0.0.1"));
        assert_eq!(e.get("dst.port"), Some(&Value::Int(443)));
        assert_eq!(e.timestamp.to_rfc3339(), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn rename_without_keeping_originals_moves_fields() {
        let mapping = JsonMapping {
            rename: [("src_ip".to_owned(), "source.ip".to_owned())].into(),
            message_field: Some("msg".into()),
            keep_original: false,
            ..JsonMapping::default()
        };
        let ctx = ctx_with(mapping);
        let e = parse(r#"{"src_ip":"192.0.2.7","msg":"login failed"}"#, &ctx).unwrap();
        assert_eq!(e.get("source.ip"), Some(&ip("192.0.2.7")));
        assert_eq!(e.get("src_ip"), None);
        assert_eq!(e.get_str("message"), Some("login failed"));
        assert_eq!(e.get("msg"), None);
        // no time field: the receive time
        assert_eq!(e.timestamp, ctx.received);
    }

    #[test]
    fn epoch_seconds_millis_and_rfc3339_times() {
        let ctx = ctx_with(JsonMapping::default());
        let cases = [
            (r#"{"ts":1700000000.25}"#, "2023-11-14T22:13:20.250Z"),
            (r#"{"time":1700000000123}"#, "2023-11-14T22:13:20.123Z"),
            (
                r#"{"timestamp":"1700000000123"}"#,
                "2023-11-14T22:13:20.123Z",
            ),
            (
                r#"{"eventTime":"2024-03-01T09:00:00+09:00"}"#,
                "2024-03-01T00:00:00Z",
            ),
            (
                r#"{"@timestamp":"2024-03-01T00:00:00.5Z","ts":1}"#,
                "2024-03-01T00:00:00.500Z",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(
                parse(line, &ctx).unwrap().timestamp.to_rfc3339(),
                want,
                "{line}"
            );
        }
    }

    #[test]
    fn configured_timestamp_path_reaches_into_objects() {
        let mapping = JsonMapping {
            timestamp_fields: vec!["meta.created".into()],
            ..JsonMapping::default()
        };
        let ctx = ctx_with(mapping);
        let e = parse(
            r#"{"meta":{"created":"2021-05-06T07:08:09Z"},"ts":5}"#,
            &ctx,
        )
        .unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2021-05-06T07:08:09Z");
        assert_eq!(e.get_str("meta.created"), Some("2021-05-06T07:08:09Z"));
    }

    #[test]
    fn unreadable_time_is_an_error_naming_the_field() {
        let ctx = ctx_with(JsonMapping::default());
        let err = parse(r#"{"time":"yesterday"}"#, &ctx).unwrap_err();
        assert!(
            err.0.contains("\"time\"") && err.0.contains("\"yesterday\""),
            "{err}"
        );
        // a later candidate that reads wins
        assert!(parse(r#"{"time":"yesterday","ts":1700000000}"#, &ctx).is_ok());
    }

    #[test]
    fn non_objects_are_errors_with_position() {
        let ctx = ctx_with(JsonMapping::default());
        let err = parse(r#"{"a":1,"b":}"#, &ctx).unwrap_err();
        assert!(
            err.0
                .starts_with("invalid JSON: expected value at line 1 column 12"),
            "{err}"
        );
        let err = parse("[1,2]", &ctx).unwrap_err();
        assert_eq!(
            err.0,
            "not a JSON object: invalid type: sequence, expected a JSON object at line 1 column 0"
        );
        let err = parse(r#"{"a":1} {"b":2}"#, &ctx).unwrap_err();
        assert_eq!(
            err.0,
            "invalid JSON: trailing characters at line 1 column 9"
        );
        assert!(JsonParser::new().parse("   ", &ctx).unwrap().is_none());
    }

    #[test]
    fn ecs_document_comes_through_unchanged() {
        let ctx = ctx_with(JsonMapping::default());
        let line = r#"{"@timestamp":"2024-05-01T10:20:30.123Z","event":{"kind":"alert","category":["network","intrusion_detection"],"severity":2},"source":{"ip":"10.1.2.3","port":5555},"destination.ip":"8.8.8.8","message":"x","organization.id":"other-tenant"}"#;
        let e = parse(line, &ctx).unwrap();
        assert_eq!(e.timestamp.to_rfc3339(), "2024-05-01T10:20:30.123Z");
        assert_eq!(e.get("source.ip"), Some(&ip("10.1.2.3")));
        let flat = event_to_json(&e);
        let mut want = serde_json::Map::new();
        want.insert("@timestamp".into(), "2024-05-01T10:20:30.123Z".into());
        want.insert("organization.id".into(), "seoul-city".into());
        want.insert("event.kind".into(), "alert".into());
        want.insert(
            "event.category".into(),
            serde_json::json!(["network", "intrusion_detection"]),
        );
        want.insert("event.severity".into(), 2.into());
        want.insert("source.ip".into(), "10.1.2.3".into());
        want.insert("source.port".into(), 5555.into());
        want.insert("destination.ip".into(), "8.8.8.8".into());
        want.insert("message".into(), "x".into());
        assert_eq!(flat, Json::Object(want));
    }

    /// The one-pass flattener gives exactly what `flatten_json_into` gives for the parsed
    /// object, on every real JSON sample line and on nesting edge cases.
    #[test]
    fn one_pass_flattening_equals_flatten_json_into() {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/logs/");
        let mut lines: Vec<String> = Vec::new();
        for file in [
            "suricata/mssis_eve.json",
            "suricata/zeus_analysis_eve.json",
            "zeek/brimdata-wrccdc2018/notice.json",
            "zeek/brimdata-wrccdc2018/ssh.json",
        ] {
            let text = std::fs::read_to_string(format!("{data}{file}"))
                .unwrap_or_else(|e| panic!("{file} is missing: {e}"));
            lines.extend(text.lines().map(str::to_owned));
        }
        lines.extend(
            [
                r#"{"a":{"b":[{"c":1,"d":[1,2]},{"c":2},{"e":{"f":null}}],"g":[]},"h":[1,[2,3],"x",null,true],"i":{}}"#,
                r#"{"m":[{"k":"v"},"s",[{"n":1}]],"big":18446744073709551615,"neg":-5,"f":1.5e3,"esc":"a\"b\u00e9\n"}"#,
                r#"{"":{"x":1},"a.b":3,"a":{"b":4}}"#,
            ]
            .map(str::to_owned),
        );
        for line in &lines {
            let mut ours = Vec::new();
            flatten_json_line(line, &mut ours).unwrap();
            let parsed: Json = serde_json::from_str(line).unwrap();
            let mut theirs = Event::new(Timestamp(0), "t".into(), 8);
            flatten_json_into(&mut theirs, "", &parsed);
            assert_eq!(ours, theirs.fields, "{line}");
        }
        // One difference, on purpose: a key that occurs twice keeps both values (serde_json's
        // map keeps the last one only); nothing of a record is dropped silently.
        let mut ours = Vec::new();
        flatten_json_line(r#"{"dup":1,"dup":2}"#, &mut ours).unwrap();
        assert_eq!(
            ours,
            vec![
                (FieldName::from("dup"), Value::Int(1)),
                (FieldName::from("dup"), Value::Int(2))
            ]
        );
    }
}
