//! The message formats. Batches of events come in two encodings, named by the
//! `Haechi-Encoding` header:
//!
//! * `haechi-bin1+zstd` (written): a compact binary form of the events, zstd-compressed.
//!   Field names are written once per message and referred to by number; values keep
//!   their types (an IP stays an IP). Decoding it costs a fraction of parsing JSON, which
//!   was a detection worker's largest cost after detection itself.
//! * `ndjson+zstd` (read, for batches an earlier Haechi published): the events as flat
//!   NDJSON, the form the write-ahead log and the embedded store keep.
//!
//! Every length is checked against what is left of the message, so a broken or hostile
//! message is refused with the reason, never read past its end. Alerts travel as a
//! zstd-compressed JSON array (`json+zstd`).

use crate::ClusterError;
use haechi_event::{Alert, Event, FieldName, Timestamp, Value, event_from_json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, OnceLock};

/// The value of the `Haechi-Encoding` header for the batches written.
pub const ENCODING: &str = "haechi-bin1+zstd";
/// The batches of an earlier Haechi, still read.
pub const ENCODING_NDJSON: &str = "ndjson+zstd";
/// The value of the `Haechi-Encoding` header for alerts.
pub const ENCODING_ALERTS: &str = "json+zstd";

/// The most bytes a message may unpack to (a compressed batch cannot grow past it).
pub const MAX_DECODED_BYTES: u64 = 256 << 20;

/// Lists nest at most this deep (the parsers make one level).
const MAX_LIST_DEPTH: u32 = 8;

/// The most room reserved ahead for events, fields or list items from a count the
/// message states (vectors grow past it as items really arrive): a forged count must
/// not reserve gigabytes.
const MAX_RESERVE: usize = 4096;

/// A field written by name instead of by its number in the message's table (past
/// 65,535 distinct names in one batch).
const SPELLED_OUT: u16 = u16::MAX;

const TAG_STR: u8 = 0;
const TAG_INT: u8 = 1;
const TAG_FLOAT: u8 = 2;
const TAG_BOOL: u8 = 3;
const TAG_IP4: u8 = 4;
const TAG_IP6: u8 = 5;
const TAG_LIST: u8 = 6;

/// The events as one compressed message body ([`ENCODING`]): the table of field names,
/// then per event its time, institution and fields (name number, typed value).
pub fn encode(events: &[Event]) -> Vec<u8> {
    let mut numbers: HashMap<&str, u16> = HashMap::new();
    let mut table: Vec<&str> = Vec::new();
    let mut body = Vec::with_capacity(events.len() * 256);
    put_u32(&mut body, events.len() as u32);
    for e in events {
        body.extend_from_slice(&e.timestamp.0.to_le_bytes());
        put_str(&mut body, &e.tenant);
        put_u32(&mut body, e.fields.len() as u32);
        for (name, value) in &e.fields {
            let number = match numbers.get(name.as_ref()) {
                Some(n) => *n,
                None if table.len() < SPELLED_OUT as usize => {
                    let n = table.len() as u16;
                    table.push(name.as_ref());
                    numbers.insert(name.as_ref(), n);
                    n
                }
                None => SPELLED_OUT,
            };
            body.extend_from_slice(&number.to_le_bytes());
            if number == SPELLED_OUT {
                put_str(&mut body, name);
            }
            put_value(&mut body, value);
        }
    }
    let mut out = Vec::with_capacity(body.len() + table.len() * 16 + 4);
    put_u32(&mut out, table.len() as u32);
    for name in &table {
        put_str(&mut out, name);
    }
    out.extend_from_slice(&body);
    zstd::bulk::compress(&out, 1).unwrap_or_else(|_| unreachable!("in-memory zstd"))
}

/// The events of a message body in `encoding` (its `Haechi-Encoding` header; none means
/// the earlier NDJSON form).
pub fn decode(payload: &[u8], encoding: Option<&str>) -> Result<Vec<Event>, ClusterError> {
    match encoding {
        Some(ENCODING) => decode_binary(&unpack(payload)?),
        None | Some(ENCODING_NDJSON) => decode_ndjson(&unpack(payload)?),
        Some(other) => Err(ClusterError::Codec(format!(
            "unknown encoding {other:?} (published by a newer Haechi?)"
        ))),
    }
}

fn decode_ndjson(ndjson: &[u8]) -> Result<Vec<Event>, ClusterError> {
    let mut events = Vec::new();
    for (i, line) in ndjson.split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(line)
            .map_err(|e| ClusterError::Codec(format!("event {i}: {e}")))?;
        let event = event_from_json(&value)
            .ok_or_else(|| ClusterError::Codec(format!("event {i} has no @timestamp")))?;
        events.push(event);
    }
    Ok(events)
}

fn decode_binary(body: &[u8]) -> Result<Vec<Event>, ClusterError> {
    let mut r = Reader { buf: body, at: 0 };
    let names = (0..r.u32("the name count")?)
        .map(|_| r.str("a field name").map(intern))
        .collect::<Result<Vec<FieldName>, _>>()?;
    let count = r.u32("the event count")? as usize;
    let mut events = Vec::with_capacity(count.min(MAX_RESERVE));
    let mut tenant: Arc<str> = Arc::from("");
    for i in 0..count {
        let at = |e: ClusterError| ClusterError::Codec(format!("event {i}: {e}"));
        let ts = r.i64("the time").map_err(at)?;
        let t = r.str("the institution").map_err(at)?;
        if *tenant != *t {
            tenant = Arc::from(t);
        }
        let n = r.u32("the field count").map_err(at)? as usize;
        let mut event = Event::new(Timestamp(ts), tenant.clone(), n.min(MAX_RESERVE));
        for _ in 0..n {
            let name = match r.u16("a field").map_err(at)? {
                SPELLED_OUT => Cow::Owned(r.str("a field name").map_err(at)?.to_owned()),
                k => names.get(k as usize).cloned().ok_or_else(|| {
                    ClusterError::Codec(format!("event {i}: field name {k} is not in the table"))
                })?,
            };
            let value = r.value(0).map_err(at)?;
            event.fields.push((name, value));
        }
        events.push(event);
    }
    if r.left() != 0 {
        return Err(ClusterError::Codec(format!(
            "{} bytes after the last event",
            r.left()
        )));
    }
    Ok(events)
}

/// Field names as `'static` strings, so that decoded events share them instead of
/// allocating each: a site sees few distinct names, so the first 4,096 are kept for the
/// process's life; any further name is allocated per event (a hostile sender cannot grow
/// memory without end).
fn intern(name: &str) -> FieldName {
    const MAX_INTERNED: usize = 4096;
    static NAMES: OnceLock<Mutex<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name) {
        return Cow::Borrowed(known);
    }
    if names.len() >= MAX_INTERNED {
        return Cow::Owned(name.to_owned());
    }
    let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(kept);
    Cow::Borrowed(kept)
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Str(s) => {
            out.push(TAG_STR);
            put_str(out, s);
        }
        Value::Int(i) => {
            out.push(TAG_INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(TAG_FLOAT);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Bool(b) => out.extend_from_slice(&[TAG_BOOL, u8::from(*b)]),
        Value::Ip(IpAddr::V4(ip)) => {
            out.push(TAG_IP4);
            out.extend_from_slice(&ip.octets());
        }
        Value::Ip(IpAddr::V6(ip)) => {
            out.push(TAG_IP6);
            out.extend_from_slice(&ip.octets());
        }
        Value::List(items) => {
            out.push(TAG_LIST);
            put_u32(out, items.len() as u32);
            for item in items {
                put_value(out, item);
            }
        }
    }
}

/// Reads the binary form, refusing whatever would read past the end.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.buf.len() - self.at
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ClusterError> {
        if n > self.left() {
            return Err(ClusterError::Codec(format!(
                "{what}: {n} bytes wanted at offset {}, {} left",
                self.at,
                self.left()
            )));
        }
        let bytes = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ClusterError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn u16(&mut self, what: &str) -> Result<u16, ClusterError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &str) -> Result<u32, ClusterError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn i64(&mut self, what: &str) -> Result<i64, ClusterError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    fn str(&mut self, what: &str) -> Result<&'a str, ClusterError> {
        let n = self.u32(what)? as usize;
        let bytes = self.take(n, what)?;
        std::str::from_utf8(bytes)
            .map_err(|e| ClusterError::Codec(format!("{what} is not UTF-8: {e}")))
    }

    fn value(&mut self, depth: u32) -> Result<Value, ClusterError> {
        Ok(match self.array::<1>("a value's type")?[0] {
            TAG_STR => Value::Str(self.str("a text value")?.to_owned()),
            TAG_INT => Value::Int(self.i64("a number")?),
            TAG_FLOAT => Value::Float(f64::from_bits(self.i64("a number")? as u64)),
            TAG_BOOL => Value::Bool(self.array::<1>("a flag")?[0] != 0),
            TAG_IP4 => Value::Ip(IpAddr::V4(Ipv4Addr::from(
                self.array::<4>("an IPv4 address")?,
            ))),
            TAG_IP6 => Value::Ip(IpAddr::V6(Ipv6Addr::from(
                self.array::<16>("an IPv6 address")?,
            ))),
            TAG_LIST if depth < MAX_LIST_DEPTH => {
                let n = self.u32("a list's length")? as usize;
                let mut items = Vec::with_capacity(n.min(MAX_RESERVE));
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            TAG_LIST => {
                return Err(ClusterError::Codec(format!(
                    "lists nest deeper than {MAX_LIST_DEPTH}"
                )));
            }
            tag => return Err(ClusterError::Codec(format!("unknown value type {tag}"))),
        })
    }
}

/// A detector's alerts of one batch as one compressed message body (a JSON array: the
/// alert writer reads every field back, ids and all).
pub fn encode_alerts(alerts: &[Alert]) -> Vec<u8> {
    let json = serde_json::to_vec(alerts).unwrap_or_else(|_| unreachable!("alerts serialize"));
    zstd::bulk::compress(&json, 1).unwrap_or_else(|_| unreachable!("in-memory zstd"))
}

/// The alerts of a message body.
pub fn decode_alerts(payload: &[u8]) -> Result<Vec<Alert>, ClusterError> {
    let json = unpack(payload)?;
    serde_json::from_slice(&json).map_err(|e| ClusterError::Codec(format!("alerts: {e}")))
}

/// A zstd body, refused when it unpacks past [`MAX_DECODED_BYTES`].
fn unpack(payload: &[u8]) -> Result<Vec<u8>, ClusterError> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(payload)
        .map_err(|e| ClusterError::Codec(format!("not zstd: {e}")))?
        .take(MAX_DECODED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| ClusterError::Codec(format!("zstd: {e}")))?;
    if out.len() as u64 > MAX_DECODED_BYTES {
        return Err(ClusterError::Codec(format!(
            "unpacks to more than {MAX_DECODED_BYTES} bytes"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        let mut e = Event::new(Timestamp(1_714_557_600_000_000_000), "seoul".into(), 3);
        e.push("message", "Failed password for root");
        e.push("destination.port", 22i64);
        e.push("event.category", Value::List(vec!["authentication".into()]));
        e.push("source.ip", Value::Ip("10.0.0.7".parse().unwrap()));
        e.push("destination.ip", Value::Ip("2001:db8::1".parse().unwrap()));
        e.push("event.risk_score", Value::Float(0.25));
        e.push("tls.established", Value::Bool(true));
        e.push("labels.empty", Value::List(vec![]));
        e
    }

    #[test]
    fn a_batch_round_trips_with_its_types_and_garbage_is_refused() {
        let e = sample();
        let mut other = sample();
        other.tenant = "busan".into();
        let back = decode(&encode(&[e.clone(), other.clone()]), Some(ENCODING)).unwrap();
        assert_eq!(back, vec![e.clone(), other]);
        assert!(decode(b"not zstd at all", Some(ENCODING)).is_err());
        let err = decode(&encode(&[e]), Some("zip+xml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown encoding"), "{err}");
    }

    #[test]
    fn every_truncation_of_a_binary_batch_is_refused() {
        let body = unpack(&encode(&[sample(), sample()])).unwrap();
        for cut in 0..body.len() {
            assert!(decode_binary(&body[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = body.clone();
        longer.push(0);
        let err = decode_binary(&longer).unwrap_err().to_string();
        assert!(err.contains("after the last event"), "{err}");
        // One field whose value nests lists past the limit.
        let mut deep = Vec::new();
        put_u32(&mut deep, 1);
        put_str(&mut deep, "x");
        put_u32(&mut deep, 1);
        deep.extend_from_slice(&0i64.to_le_bytes());
        put_str(&mut deep, "seoul");
        put_u32(&mut deep, 1);
        deep.extend_from_slice(&0u16.to_le_bytes());
        for _ in 0..20 {
            deep.push(TAG_LIST);
            put_u32(&mut deep, 1);
        }
        let err = decode_binary(&deep).unwrap_err().to_string();
        assert!(err.contains("nest deeper"), "{err}");
        // Counts far past what the message holds are refused without reserving them.
        let mut forged = Vec::new();
        put_u32(&mut forged, 0);
        put_u32(&mut forged, u32::MAX);
        forged.extend_from_slice(&0i64.to_le_bytes());
        put_str(&mut forged, "seoul");
        put_u32(&mut forged, u32::MAX);
        let err = decode_binary(&forged).unwrap_err().to_string();
        assert!(err.contains("event 0"), "{err}");
    }

    #[test]
    fn batches_of_an_earlier_haechi_are_still_read() {
        let mut ndjson = Vec::new();
        haechi_event::write_event_json(&sample(), &mut ndjson);
        ndjson.push(b'\n');
        let packed = zstd::bulk::compress(&ndjson, 1).unwrap();
        for encoding in [None, Some(ENCODING_NDJSON)] {
            let back = decode(&packed, encoding).unwrap();
            assert_eq!(back.len(), 1);
            assert_eq!(back[0].get("destination.port"), Some(&Value::Int(22)));
        }
        let not_json = zstd::bulk::compress(b"{broken\n", 1).unwrap();
        let err = decode(&not_json, None).unwrap_err().to_string();
        assert!(err.contains("event 0"), "{err}");
    }
}
