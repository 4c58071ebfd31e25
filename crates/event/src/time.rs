//! Timestamps: nanoseconds since the Unix epoch, always UTC.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use std::fmt;

/// A UTC instant with nanosecond precision. Ordered, hashable, 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_nanos_opt().unwrap_or(0))
    }
    pub fn from_secs_f64(secs: f64) -> Self {
        Timestamp((secs * 1e9) as i64)
    }
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms.saturating_mul(1_000_000))
    }
    pub fn from_micros(us: i64) -> Self {
        Timestamp(us.saturating_mul(1_000))
    }
    pub fn nanos(self) -> i64 {
        self.0
    }
    pub fn micros(self) -> i64 {
        self.0.div_euclid(1_000)
    }
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_nanos(self.0)
    }
    pub fn from_datetime<Tz: TimeZone>(dt: &DateTime<Tz>) -> Self {
        Timestamp(dt.timestamp_nanos_opt().unwrap_or(i64::MAX))
    }
    /// RFC 3339 in UTC with the shortest fraction that keeps the precision.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s}")))
    }
}

/// Parses RFC 3339 / ISO 8601 with an offset (`2024-01-02T03:04:05.123Z`, `…+09:00`),
/// also with a space instead of `T`. A time without an offset is read as UTC.
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(Timestamp::from_datetime(&dt));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(Timestamp::from_datetime(&dt));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Timestamp::from_datetime(&naive.and_utc()));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(Timestamp::from_datetime(&d.and_hms_opt(0, 0, 0)?.and_utc()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offset_is_converted_to_utc() {
        let t = parse_rfc3339("2024-03-01T09:00:00+09:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-01T00:00:00Z");
    }

    #[test]
    fn fraction_is_kept() {
        let t = parse_rfc3339("2015-10-07T19:18:39.123456Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2015-10-07T19:18:39.123456Z");
    }

    #[test]
    fn suricata_style_offset_without_colon() {
        let t = parse_rfc3339("2023-04-23T12:13:07.123456+0000").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-04-23T12:13:07.123456Z");
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
