//! An incident's timeline in the formats investigators load elsewhere:
//!
//! * Timesketch JSONL and CSV: the fields Timesketch requires — `message` (what happened,
//!   in words), `datetime` (ISO 8601), `timestamp_desc` (which time it is) — with
//!   `timestamp` (microseconds since the epoch) and every field of the event beside them;
//! * Plaso's `l2tcsv`: `date,time,timezone,MACB,source,sourcetype,type,user,host,short,
//!   desc,version,filename,inode,notes,format,extra`.
//!
//! Events are Haechi's stored events as flat JSON objects (`source.ip`, `@timestamp`, …).

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// What the event time is, for `timestamp_desc`.
pub const TIMESTAMP_DESC: &str = "Event Recorded";
/// The most extra columns a CSV carries (fields beyond are left to the JSONL).
pub const MAX_CSV_FIELDS: usize = 256;

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// What an event says, in one line: its message, else its most telling fields, else its
/// original text.
pub fn message(event: &Value) -> String {
    if let Some(m) = event.get("message").and_then(Value::as_str) {
        return m.chars().take(1000).collect();
    }
    const FIELDS: [&str; 12] = [
        "event.action",
        "event.code",
        "process.command_line",
        "user.name",
        "source.ip",
        "destination.ip",
        "destination.port",
        "url.original",
        "dns.question.name",
        "file.path",
        "host.name",
        "rule.name",
    ];
    let parts: Vec<String> = FIELDS
        .iter()
        .filter_map(|f| event.get(*f).map(|v| format!("{f}={}", text(v))))
        .collect();
    if !parts.is_empty() {
        return parts.join(" ");
    }
    event
        .get("event.original")
        .map(text)
        .unwrap_or_default()
        .chars()
        .take(1000)
        .collect()
}

/// The event's time: ISO 8601 and microseconds since the epoch.
fn when(event: &Value) -> (String, i64) {
    let iso = event
        .get("@timestamp")
        .and_then(Value::as_str)
        .unwrap_or("1970-01-01T00:00:00Z")
        .to_owned();
    let micros = haechi_event::parse_rfc3339(&iso).map_or(0, |t| t.0 / 1000);
    (iso, micros)
}

/// One Timesketch object per event, one per line.
pub fn timesketch_jsonl(events: &[Value]) -> String {
    let mut out = String::new();
    for e in events {
        let (iso, micros) = when(e);
        let mut o = Map::new();
        o.insert("message".into(), Value::String(message(e)));
        o.insert("datetime".into(), Value::String(iso));
        o.insert("timestamp".into(), Value::from(micros));
        o.insert(
            "timestamp_desc".into(),
            Value::String(TIMESTAMP_DESC.into()),
        );
        if let Some(fields) = e.as_object() {
            for (k, v) in fields {
                if !o.contains_key(k) {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        out.push_str(&Value::Object(o).to_string());
        out.push('\n');
    }
    out
}

/// A CSV field per RFC 4180.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv_row(fields: &[String]) -> String {
    let mut row = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    row.push_str("\r\n");
    row
}

/// Timesketch CSV: the required columns, then the events' fields (sorted).
pub fn timesketch_csv(events: &[Value]) -> String {
    let fixed = ["message", "datetime", "timestamp", "timestamp_desc"];
    let extra: Vec<String> = events
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().cloned())
        .filter(|k| !fixed.contains(&k.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(MAX_CSV_FIELDS)
        .collect();
    let mut header: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
    header.extend(extra.iter().cloned());
    let mut out = csv_row(&header);
    for e in events {
        let (iso, micros) = when(e);
        let mut row = vec![
            message(e),
            iso,
            micros.to_string(),
            TIMESTAMP_DESC.to_owned(),
        ];
        row.extend(extra.iter().map(|k| e.get(k).map(text).unwrap_or_default()));
        out.push_str(&csv_row(&row));
    }
    out
}

/// The l2tcsv columns, in order.
pub const L2TCSV_COLUMNS: [&str; 17] = [
    "date",
    "time",
    "timezone",
    "MACB",
    "source",
    "sourcetype",
    "type",
    "user",
    "host",
    "short",
    "desc",
    "version",
    "filename",
    "inode",
    "notes",
    "format",
    "extra",
];

/// Plaso's l2tcsv: date `MM/DD/YYYY`, time `HH:MM:SS`, UTC; the source is the event's
/// dataset or category, the short text its message, the long one every field.
pub fn l2tcsv(events: &[Value]) -> String {
    let header: Vec<String> = L2TCSV_COLUMNS.iter().map(|s| s.to_string()).collect();
    let mut out = csv_row(&header);
    for e in events {
        let (iso, _) = when(e);
        let (date, time) = match (iso.get(0..10), iso.get(11..19)) {
            (Some(d), Some(t)) => (
                format!("{}/{}/{}", &d[5..7], &d[8..10], &d[0..4]),
                t.to_owned(),
            ),
            _ => ("01/01/1970".into(), "00:00:00".into()),
        };
        let field = |k: &str| e.get(k).map(text).unwrap_or_default();
        let source = ["event.dataset", "event.module", "event.category"]
            .iter()
            .map(|k| field(k))
            .find(|v| !v.is_empty())
            .unwrap_or_else(|| "LOG".into());
        let all: Vec<String> = e
            .as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k}: {}", text(v))).collect())
            .unwrap_or_default();
        let short: String = message(e).chars().take(80).collect();
        let row = vec![
            date,
            time,
            "UTC".into(),
            "M...".into(),
            source.to_uppercase(),
            field("event.kind"),
            TIMESTAMP_DESC.into(),
            field("user.name"),
            field("host.name"),
            short,
            all.join("; "),
            "2".into(),
            field("file.path"),
            "-".into(),
            "-".into(),
            "haechi".into(),
            format!("event.id: {}", field("event.id")),
        ];
        out.push_str(&csv_row(&row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_carry_the_required_fields_and_quote_what_needs_it() {
        let events = [json!({
            "@timestamp": "2026-12-06T09:01:00.5Z", "source.ip": "203.0.113.50",
            "url.original": "/dl?file=\"a,b\"", "event.id": "e1", "event.kind": "event",
        })];
        let line: Value = serde_json::from_str(timesketch_jsonl(&events).trim()).unwrap();
        assert_eq!(line["datetime"], "2026-12-06T09:01:00.5Z");
        assert_eq!(line["timestamp"], 1_796_547_660_500_000i64);
        assert_eq!(line["timestamp_desc"], TIMESTAMP_DESC);
        assert!(
            line["message"]
                .as_str()
                .unwrap()
                .contains("source.ip=203.0.113.50")
        );
        let csv = timesketch_csv(&events);
        assert!(csv.starts_with("message,datetime,timestamp,timestamp_desc,"));
        assert!(csv.contains("\"/dl?file=\"\"a,b\"\"\""), "{csv}");
        let l2t = l2tcsv(&events);
        assert!(
            l2t.lines()
                .nth(1)
                .unwrap()
                .starts_with("12/06/2026,09:01:00,UTC,M...,")
        );
    }
}
