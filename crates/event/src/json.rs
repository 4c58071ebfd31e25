//! Events to and from flat JSON objects (`{"@timestamp": …, "organization.id": …, "source.ip": …}`).
//!
//! Flat dotted keys are the storage and output form: one key per field, exactly as a
//! search names it. Nested JSON from devices is flattened on the way in.

use crate::{Event, FieldName, Timestamp, Value, ecs};
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// Writes the event as one flat JSON object, exactly as [`event_to_json`] would render it,
/// straight into `out` (no intermediate tree: this is the store's hot path).
pub fn write_event_json(event: &Event, out: &mut Vec<u8>) {
    if has_repeated_names(event) {
        // Rare: repeated names become arrays, which needs the grouping of the tree form.
        let _ = serde_json::to_writer(&mut *out, &event_to_json(event));
        return;
    }
    out.push(b'{');
    write_str(out, ecs::TIMESTAMP);
    out.push(b':');
    write_str(out, &event.timestamp.to_rfc3339());
    out.push(b',');
    write_str(out, ecs::ORGANIZATION_ID);
    out.push(b':');
    write_str(out, &event.tenant);
    for (name, value) in &event.fields {
        if name == ecs::TIMESTAMP || name == ecs::ORGANIZATION_ID {
            continue;
        }
        out.push(b',');
        write_str(out, name);
        out.push(b':');
        write_value(out, value);
    }
    out.push(b'}');
}

fn has_repeated_names(event: &Event) -> bool {
    let f = &event.fields;
    (1..f.len()).any(|i| {
        let n = &f[i].0;
        f[..i].iter().any(|(m, _)| m.len() == n.len() && m == n)
            || n == ecs::TIMESTAMP
            || n == ecs::ORGANIZATION_ID
    }) || f
        .first()
        .is_some_and(|(n, _)| n == ecs::TIMESTAMP || n == ecs::ORGANIZATION_ID)
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => write_str(out, s),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        },
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Ip(ip) => write_str(out, &ip.to_string()),
        Value::List(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, v);
            }
            out.push(b']');
        }
    }
}

/// The event as one flat JSON object. A field that occurs several times becomes an array.
pub fn event_to_json(event: &Event) -> Json {
    let mut map = Map::with_capacity(event.fields.len() + 2);
    map.insert(
        ecs::TIMESTAMP.into(),
        Json::String(event.timestamp.to_rfc3339()),
    );
    map.insert(
        ecs::ORGANIZATION_ID.into(),
        Json::String(event.tenant.to_string()),
    );
    for (name, value) in &event.fields {
        let json = value_to_json(value);
        match map.get_mut(name.as_ref()) {
            Some(Json::Array(items)) => items.push(json),
            Some(existing) => {
                let first = existing.take();
                *existing = Json::Array(vec![first, json]);
            }
            None => {
                map.insert(name.to_string(), json);
            }
        }
    }
    Json::Object(map)
}

fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Str(s) => Json::String(s.clone()),
        Value::Int(i) => Json::from(*i),
        Value::Float(x) => serde_json::Number::from_f64(*x)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Bool(b) => Json::Bool(*b),
        Value::Ip(ip) => Json::String(ip.to_string()),
        Value::List(items) => Json::Array(items.iter().map(value_to_json).collect()),
    }
}

/// Reads an event back from its flat JSON form (as written by [`event_to_json`]).
/// Returns `None` when `@timestamp` or `organization.id` is missing.
pub fn event_from_json(json: &Json) -> Option<Event> {
    let map = json.as_object()?;
    let timestamp = crate::parse_rfc3339(map.get(ecs::TIMESTAMP)?.as_str()?)?;
    let tenant: Arc<str> = Arc::from(map.get(ecs::ORGANIZATION_ID)?.as_str()?);
    let mut event = Event::new(timestamp, tenant, map.len());
    for (key, value) in map {
        if key == ecs::TIMESTAMP || key == ecs::ORGANIZATION_ID {
            continue;
        }
        flatten_json_into(&mut event, key, value);
    }
    Some(event)
}

/// Flattens a JSON value into dotted fields under `prefix`: objects recurse, scalars become
/// typed values, arrays of scalars become lists, arrays of objects are flattened element
/// by element so that `answers[].rdata` becomes one list field `answers.rdata`.
pub fn flatten_json_into(event: &mut Event, prefix: &str, value: &Json) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_json_into(event, &key, v);
            }
        }
        Json::Array(items) if items.iter().any(|v| v.is_object()) => {
            let mut sub = Event::new(Timestamp(0), Arc::from(""), 8);
            for item in items {
                flatten_json_into(&mut sub, prefix, item);
            }
            merge_repeated(event, sub.fields);
        }
        Json::Array(items) => {
            let list: Vec<Value> = items.iter().filter_map(scalar_from_json).collect();
            if !list.is_empty() {
                event
                    .fields
                    .push((FieldName::Owned(prefix.to_owned()), Value::List(list)));
            }
        }
        scalar => {
            if let Some(v) = scalar_from_json(scalar) {
                event.fields.push((FieldName::Owned(prefix.to_owned()), v));
            }
        }
    }
}

/// Groups repeated names into one list each, keeping first-seen order.
fn merge_repeated(event: &mut Event, fields: Vec<(FieldName, Value)>) {
    let mut grouped: Vec<(FieldName, Vec<Value>)> = Vec::new();
    for (name, value) in fields {
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
        event.fields.push((name, value));
    }
}

fn scalar_from_json(value: &Json) -> Option<Value> {
    match value {
        Json::String(s) => Some(Value::Str(s.clone())),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        }),
        Json::Bool(b) => Some(Value::Bool(*b)),
        Json::Null => None,
        Json::Array(items) => Some(Value::List(
            items.iter().filter_map(scalar_from_json).collect(),
        )),
        Json::Object(_) => Some(Value::Str(value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_every_field() {
        let mut e = Event::new(
            Timestamp(1_700_000_000_000_000_000),
            Arc::from("seoul-city"),
            4,
        );
        e.push(ecs::SOURCE_IP, Value::Ip("10.1.2.3".parse().unwrap()));
        e.push(ecs::SOURCE_PORT, 443u16);
        e.push(ecs::MESSAGE, "hello");
        let json = event_to_json(&e);
        assert_eq!(json["organization.id"], "seoul-city");
        assert_eq!(json["source.ip"], "10.1.2.3");
        let back = event_from_json(&json).unwrap();
        assert_eq!(back.timestamp, e.timestamp);
        assert_eq!(back.get("source.port"), Some(&Value::Int(443)));
        assert_eq!(back.get_str("message"), Some("hello"));
    }

    #[test]
    fn direct_writer_renders_like_the_tree() {
        let mut e = Event::new(Timestamp(1_700_000_000_123_000_000), Arc::from("t\"q"), 4);
        e.push(ecs::SOURCE_IP, Value::Ip("2001:db8::1".parse().unwrap()));
        e.push("x.f", 1.5f64);
        e.push("x.nan", f64::NAN);
        e.push(
            "x.list",
            Value::List(vec![
                Value::Int(1),
                Value::Str("a\nb".into()),
                Value::Bool(true),
            ]),
        );
        e.push(ecs::MESSAGE, "quote \" and \u{1} control");
        let mut out = Vec::new();
        write_event_json(&e, &mut out);
        let parsed: Json = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed, event_to_json(&e));
        e.push(ecs::MESSAGE, "again");
        out.clear();
        write_event_json(&e, &mut out);
        assert_eq!(
            serde_json::from_slice::<Json>(&out).unwrap(),
            event_to_json(&e),
            "repeated names become arrays"
        );
    }

    #[test]
    fn nested_objects_and_arrays_of_objects_flatten() {
        let mut e = Event::new(Timestamp(0), Arc::from("t"), 4);
        let v = json!({"dns": {"answers": [{"rdata": "1.1.1.1"}, {"rdata": "2.2.2.2"}], "rrname": "x.org"}});
        flatten_json_into(&mut e, "", &v);
        assert_eq!(e.get_str("dns.rrname"), Some("x.org"));
        assert_eq!(
            e.get("dns.answers.rdata"),
            Some(&Value::List(vec![
                Value::Str("1.1.1.1".into()),
                Value::Str("2.2.2.2".into())
            ]))
        );
    }
}
