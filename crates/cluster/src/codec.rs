//! The message format of a batch: the events as flat NDJSON (the form the write-ahead
//! log and the embedded store keep), zstd-compressed. The `Haechi-Encoding` header
//! names it, so a faster codec can replace it without new subjects.

use crate::ClusterError;
use haechi_event::{Alert, Event, event_from_json, write_event_json};
use std::io::Read;

/// The value of the `Haechi-Encoding` header for this format.
pub const ENCODING: &str = "ndjson+zstd";

/// The most bytes a message may unpack to (a compressed batch cannot grow past it).
pub const MAX_DECODED_BYTES: u64 = 256 << 20;

/// The events as one compressed message body.
pub fn encode(events: &[Event]) -> Vec<u8> {
    let mut ndjson = Vec::with_capacity(events.len() * 512);
    for e in events {
        write_event_json(e, &mut ndjson);
        ndjson.push(b'\n');
    }
    zstd::bulk::compress(&ndjson, 1).unwrap_or_else(|_| unreachable!("in-memory zstd"))
}

/// The events of a message body.
pub fn decode(payload: &[u8]) -> Result<Vec<Event>, ClusterError> {
    let ndjson = unpack(payload)?;
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
    use haechi_event::{Timestamp, Value};

    #[test]
    fn a_batch_round_trips_and_garbage_is_refused() {
        let mut e = Event::new(Timestamp(1_714_557_600_000_000_000), "seoul".into(), 3);
        e.push("message", "Failed password for root");
        e.push("destination.port", 22i64);
        e.push("event.category", Value::List(vec!["authentication".into()]));
        let back = decode(&encode(&[e.clone(), e.clone()])).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(&*back[0].tenant, "seoul");
        assert_eq!(back[0].timestamp, e.timestamp);
        assert_eq!(back[0].get("destination.port"), Some(&Value::Int(22)));
        assert!(decode(b"not zstd at all").is_err());
        let not_json = zstd::bulk::compress(b"{broken\n", 1).unwrap();
        let err = decode(&not_json).unwrap_err().to_string();
        assert!(err.contains("event 0"), "{err}");
    }
}
