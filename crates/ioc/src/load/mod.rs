//! Loading feeds: the feed configuration ([`FeedConfig`]), reading files within the
//! [`Limits`], and the four formats — [`plain`] lists, [`csv`] with a column mapping,
//! [`stix`] 2.1 bundles and [`misp`] events.
//!
//! Every loader reads entries, turns each into zero or more [`IndicatorValue`]s with their
//! [`IndicatorMeta`], and either adds them to the builder or records why not. The common
//! steps (metadata defaults and templates, the IP:port policy, skip bookkeeping, limits)
//! live here, in `FeedLoad`.

pub mod csv;
pub mod misp;
pub mod plain;
pub mod stix;
pub mod stix_pattern;

use crate::builder::{IndicatorSetBuilder, MetaId};
use crate::kind::{IndicatorKind, IndicatorValue};
use crate::limits::Limits;
use crate::meta::IndicatorMeta;
use crate::report::{LoadError, LoadReport, Location, SkipReason, Skipped};
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The format of a feed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    /// One indicator per line, kind detected per line; `#` (and `;`) comments; text after
    /// the value (`1.2.3.4 # scanner`, ipsum's `1.2.3.4<TAB>7`) is the description.
    Plain,
    /// CSV with a column mapping (`value_column`, optional `type_column`,
    /// `description_column`, `confidence_column`, `first_seen_column`,
    /// `reference_column`); quoted fields; `#` comment lines.
    Csv,
    /// A STIX 2.1 bundle (or a single STIX object): its `indicator` objects with STIX
    /// patterns.
    Stix,
    /// A MISP event (`{"Event": {…}}`, a bare event, a `{"response": […]}` search result or
    /// a list of events): attributes and object attributes.
    Misp,
}

impl FeedFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Plain => "plain",
            FeedFormat::Csv => "csv",
            FeedFormat::Stix => "stix",
            FeedFormat::Misp => "misp",
        }
    }
}

/// What to do with an `IP:port` entry (maltrail's `1.2.3.4:443`, MISP `ip-dst|port`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpPortPolicy {
    /// Keep it as an IP:port indicator: matches an event endpoint with that address *and*
    /// port (the precise reading).
    #[default]
    Endpoint,
    /// Drop the port: matches the address on any port (broader, more hits).
    Ip,
    /// Skip it (counted in the report).
    Skip,
}

/// A CSV column: by 0-based index, or by name from the header row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Column {
    Index(usize),
    Name(String),
}

/// One feed, as configured. The fields after `ip_port` apply to one format each.
///
/// In TOML:
///
/// ```toml
/// [[intel.feeds]]
/// name = "feodotracker"
/// path = "intel/feodotracker_ipblocklist.csv"
/// format = "csv"
/// confidence = 90
/// header = true
/// value_column = "dst_ip"
/// description_column = "malware"
/// description = "Feodo Tracker botnet C2: {}"
/// first_seen_column = "first_seen_utc"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// The source name every indicator of the feed carries.
    pub name: String,
    /// The file (`load_feed_bytes` ignores it, except in error messages).
    #[serde(default)]
    pub path: PathBuf,
    /// Or an http(s) URL the feed is fetched from at every (re)load, within
    /// `max_file_bytes` (fetched by the caller, then given to `load_feed_bytes`).
    #[serde(default)]
    pub url: Option<String>,
    pub format: FeedFormat,
    /// Confidence 0–100 for indicators whose entry gives none.
    #[serde(default)]
    pub confidence: Option<u8>,
    /// Description for indicators whose entry gives none. With `{}` in it, a template:
    /// `{}` is replaced by the entry's own description (the text after a plain-list value,
    /// the CSV description column), e.g. `"on {} blocklists"` for ipsum.
    #[serde(default)]
    pub description: Option<String>,
    /// Plain and CSV: take every value as this kind instead of detecting it (entries of
    /// another kind are skipped).
    #[serde(default)]
    pub kind: Option<IndicatorKind>,
    /// Plain, CSV and MISP: what to do with IP:port entries.
    #[serde(default)]
    pub ip_port: IpPortPolicy,
    /// CSV: the first row names the columns.
    #[serde(default)]
    pub header: bool,
    /// CSV: the field separator (one ASCII character).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// CSV: the column holding the indicator (required for CSV).
    #[serde(default)]
    pub value_column: Option<Column>,
    /// CSV: a column naming each row's kind (`ip`, `domain`, `url`, `md5_hash`, `ip:port`…,
    /// see [`IndicatorKind::from_type_name`]).
    #[serde(default)]
    pub type_column: Option<Column>,
    #[serde(default)]
    pub description_column: Option<Column>,
    /// CSV: a column with an integer confidence 0–100.
    #[serde(default)]
    pub confidence_column: Option<Column>,
    #[serde(default)]
    pub first_seen_column: Option<Column>,
    /// CSV: a column with a reference (a link, an id), kept as the indicator's object id.
    #[serde(default)]
    pub reference_column: Option<Column>,
    /// MISP: take only attributes with `to_ids: true` (MISP's "use for detection");
    /// `false` takes all and records the flag.
    #[serde(default = "yes")]
    pub only_to_ids: bool,
    /// Skip addresses and ranges in private, loopback, link-local, multicast and other
    /// reserved space (RFC 6890). Perimeter blocklists such as FireHOL level 1 list the
    /// bogon ranges on purpose; matched against internal addresses they would raise an
    /// alert for every internal event.
    #[serde(default)]
    pub skip_reserved: bool,
    /// How reliable the source is, on the Admiralty scale: `A` (completely reliable,
    /// confidence × 1.0), `B` (× 0.9), `C` (× 0.75), `D` (× 0.5), `E` (× 0.25), `F`
    /// (cannot be judged, × 0.5). None: × 1.0.
    #[serde(default)]
    pub reliability: Option<Reliability>,
    /// Confidence halves every this many days after the indicator's first-seen time
    /// (CSV `first_seen_column`, STIX `valid_from`, MISP `first_seen`). None: no decay.
    #[serde(default)]
    pub half_life_days: Option<u32>,
    /// Indicators first seen more than this many days ago are skipped as expired. None:
    /// they do not expire by age.
    #[serde(default)]
    pub expire_days: Option<u32>,
}

/// The Admiralty (NATO) source-reliability grades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Reliability {
    A,
    B,
    C,
    D,
    E,
    F,
}

impl Reliability {
    /// What a confidence is multiplied by.
    pub fn factor(self) -> f64 {
        match self {
            Reliability::A => 1.0,
            Reliability::B => 0.9,
            Reliability::C => 0.75,
            Reliability::D | Reliability::F => 0.5,
            Reliability::E => 0.25,
        }
    }
}

fn default_delimiter() -> char {
    ','
}

fn yes() -> bool {
    true
}

impl FeedConfig {
    /// A feed with every option at its default.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, format: FeedFormat) -> Self {
        FeedConfig {
            name: name.into(),
            path: path.into(),
            url: None,
            format,
            confidence: None,
            description: None,
            kind: None,
            ip_port: IpPortPolicy::default(),
            header: false,
            delimiter: default_delimiter(),
            value_column: None,
            type_column: None,
            description_column: None,
            confidence_column: None,
            first_seen_column: None,
            reference_column: None,
            only_to_ids: true,
            skip_reserved: false,
            reliability: None,
            half_life_days: None,
            expire_days: None,
        }
    }

    /// Checks what can be checked before reading the feed.
    fn check(&self) -> Result<(), LoadError> {
        let fail = |detail: String| LoadError::Config {
            feed: self.name.clone(),
            detail,
        };
        if self.name.trim().is_empty() {
            return Err(fail("the feed needs a name".into()));
        }
        if let Some(c) = self.confidence.filter(|&c| c > 100) {
            return Err(fail(format!("confidence {c} is over 100")));
        }
        if self.half_life_days == Some(0) || self.expire_days == Some(0) {
            return Err(fail("half_life_days and expire_days are at least 1".into()));
        }
        if self.format == FeedFormat::Csv {
            if self.value_column.is_none() {
                return Err(fail("format csv needs value_column".into()));
            }
            if !self.delimiter.is_ascii() {
                return Err(fail(format!(
                    "delimiter {:?} is not one ASCII character",
                    self.delimiter
                )));
            }
        }
        Ok(())
    }
}

impl IndicatorSetBuilder {
    /// Reads and loads one feed file — or, for a `misp` feed whose path is a directory,
    /// a MISP feed (`manifest.json` and one `<uuid>.json` per event it lists). On error
    /// nothing of the feed stays in the builder.
    pub fn load_feed(&mut self, feed: &FeedConfig) -> Result<LoadReport, LoadError> {
        if feed.format == FeedFormat::Misp && feed.path.is_dir() {
            return self.load_misp_feed(feed);
        }
        let bytes = read_limited(&feed.path, self.limits().max_file_bytes)?;
        self.load_feed_bytes(feed, &bytes)
    }

    /// A MISP feed directory: the events its manifest lists, each file within the file
    /// limit and all of them together too. A manifest key that is not a UUID is skipped
    /// (it could name a file outside the directory); a listed event file that is missing
    /// is an error, as a typo in a feed path is.
    fn load_misp_feed(&mut self, feed: &FeedConfig) -> Result<LoadReport, LoadError> {
        feed.check()?;
        let max = self.limits().max_file_bytes;
        let manifest_path = feed.path.join("manifest.json");
        let manifest: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&read_limited(&manifest_path, max)?).map_err(|e| {
                LoadError::Format {
                    format: "MISP feed manifest",
                    detail: format!("{}: {e}", manifest_path.display()),
                }
            })?;
        let checkpoint = self.checkpoint();
        let mut load = FeedLoad::new(self, feed);
        let mut total = 0u64;
        let mut result = Ok(());
        let mut uuids: Vec<&String> = manifest.keys().collect();
        uuids.sort();
        for uuid in uuids {
            let is_uuid =
                uuid.len() == 36 && uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            if !is_uuid {
                load.skip(
                    Location::Object(uuid.clone()),
                    "",
                    SkipReason::Malformed("a manifest key that is not an event UUID".into()),
                );
                continue;
            }
            let path = feed.path.join(format!("{uuid}.json"));
            result = read_limited(&path, max).and_then(|bytes| {
                total += bytes.len() as u64;
                if total > max {
                    return Err(LoadError::FileTooLarge {
                        path: feed.path.clone(),
                        size: total,
                        max,
                    });
                }
                misp::load(&mut load, &bytes)
            });
            if result.is_err() {
                break;
            }
        }
        let report = load.report;
        match result {
            Ok(()) => Ok(report),
            Err(e) => {
                self.rollback(checkpoint);
                Err(e)
            }
        }
    }

    /// Loads a feed already in memory (fetched over HTTP, say). On error nothing of the
    /// feed stays in the builder.
    pub fn load_feed_bytes(
        &mut self,
        feed: &FeedConfig,
        bytes: &[u8],
    ) -> Result<LoadReport, LoadError> {
        feed.check()?;
        let max = self.limits().max_file_bytes;
        if bytes.len() as u64 > max {
            return Err(LoadError::FileTooLarge {
                path: feed.path.clone(),
                size: bytes.len() as u64,
                max,
            });
        }
        let checkpoint = self.checkpoint();
        let mut load = FeedLoad::new(self, feed);
        let result = match feed.format {
            FeedFormat::Plain => plain::load(&mut load, bytes),
            FeedFormat::Csv => csv::load(&mut load, bytes),
            FeedFormat::Stix => stix::load(&mut load, bytes),
            FeedFormat::Misp => misp::load(&mut load, bytes),
        };
        let report = load.report;
        match result {
            Ok(()) => Ok(report),
            Err(e) => {
                self.rollback(checkpoint);
                Err(e)
            }
        }
    }
}

/// Reads a whole file, refusing one over `max` bytes (before reading, and while reading in
/// case it grows).
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let too_large = |size| LoadError::FileTooLarge {
        path: path.to_owned(),
        size,
        max,
    };
    if size > max {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Lines of a text file: 1-based number and content without `\r\n`/`\n` (and without a
/// UTF-8 byte-order mark on the first line).
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rest = Some(bytes);
    let mut number = 0u64;
    std::iter::from_fn(move || {
        let text = rest?;
        number += 1;
        let line = match memchr::memchr(b'\n', text) {
            Some(i) => {
                rest = Some(&text[i + 1..]);
                &text[..i]
            }
            None => {
                rest = None;
                if text.is_empty() {
                    return None;
                }
                text
            }
        };
        Some((number, line.strip_suffix(b"\r").unwrap_or(line)))
    })
}

/// One feed being loaded into a builder: the report so far and the metadata defaults.
pub(crate) struct FeedLoad<'a> {
    pub(crate) builder: &'a mut IndicatorSetBuilder,
    pub(crate) feed: &'a FeedConfig,
    pub(crate) report: LoadReport,
    source: Arc<str>,
    /// Consecutive entries usually share their metadata: skip the interning lookup then.
    last_meta: Option<(IndicatorMeta, MetaId)>,
    /// Metadata whose indicators are past `expire_days`: their values are skipped.
    expired: std::collections::HashSet<MetaId>,
}

impl<'a> FeedLoad<'a> {
    fn new(builder: &'a mut IndicatorSetBuilder, feed: &'a FeedConfig) -> Self {
        FeedLoad {
            builder,
            feed,
            report: LoadReport {
                feed: feed.name.clone(),
                ..LoadReport::default()
            },
            source: Arc::from(feed.name.as_str()),
            last_meta: None,
            expired: std::collections::HashSet::new(),
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        *self.builder.limits()
    }

    /// Metadata with the feed's name and default confidence, and the description made
    /// from the entry's own (`specific`) and the feed's (see [`FeedConfig::description`]).
    pub(crate) fn meta(&self, specific: Option<&str>) -> IndicatorMeta {
        let specific = specific.map(str::trim).filter(|s| !s.is_empty());
        let description = match (self.feed.description.as_deref(), specific) {
            (Some(template), Some(s)) if template.contains("{}") => Some(template.replace("{}", s)),
            (Some(template), None) if template.contains("{}") => None,
            (_, Some(s)) => Some(s.to_owned()),
            (Some(d), None) => Some(d.to_owned()),
            (None, None) => None,
        };
        IndicatorMeta {
            source: Arc::clone(&self.source),
            confidence: self.feed.confidence,
            description: description.map(String::into_boxed_str),
            ..IndicatorMeta::default()
        }
    }

    /// Interns `meta`, after weighing its confidence by the feed's reliability and its
    /// age (see [`FeedConfig::reliability`], [`FeedConfig::half_life_days`]); metadata past
    /// `expire_days` is remembered so that [`FeedLoad::accept`] skips its values.
    pub(crate) fn meta_id(&mut self, meta: IndicatorMeta) -> MetaId {
        if let Some((last, id)) = &self.last_meta
            && *last == meta
        {
            return *id;
        }
        let (weighed, expired) = self.weigh(meta.clone());
        let id = self.builder.intern(weighed);
        if expired {
            self.expired.insert(id);
        }
        self.last_meta = Some((meta, id));
        id
    }

    /// The confidence after reliability and decay, and whether the indicator expired.
    fn weigh(&self, mut meta: IndicatorMeta) -> (IndicatorMeta, bool) {
        let feed = self.feed;
        if feed.reliability.is_none() && feed.half_life_days.is_none() && feed.expire_days.is_none()
        {
            return (meta, false);
        }
        let age_days = meta
            .first_seen
            .as_deref()
            .and_then(haechi_event::parse_rfc3339)
            .map(|t| (self.builder.now().0 - t.0).max(0) as f64 / 86_400e9);
        let expired =
            matches!((age_days, feed.expire_days), (Some(a), Some(e)) if a > f64::from(e));
        let mut confidence = f64::from(meta.confidence.unwrap_or(50));
        confidence *= feed.reliability.map_or(1.0, Reliability::factor);
        if let (Some(age), Some(half)) = (age_days, feed.half_life_days) {
            confidence *= 0.5f64.powf(age / f64::from(half));
        }
        meta.confidence = Some(confidence.round().clamp(0.0, 100.0) as u8);
        (meta, expired)
    }

    /// Applies the feed's IP:port policy, and skips addresses and ranges in reserved
    /// space when the feed says so.
    pub(crate) fn ip_port(&self, value: IndicatorValue) -> Result<IndicatorValue, SkipReason> {
        let value = match (value, self.feed.ip_port) {
            (IndicatorValue::IpPort(_), IpPortPolicy::Skip) => {
                return Err(SkipReason::IpPortSkipped);
            }
            (IndicatorValue::IpPort(addr), IpPortPolicy::Ip) => IndicatorValue::Ip(addr.ip()),
            (value, _) => value,
        };
        if self.feed.skip_reserved && crate::kind::touches_reserved(&value) {
            return Err(SkipReason::Reserved);
        }
        Ok(value)
    }

    /// Reads an untyped value: as the feed's `kind` if it has one, else by detection; then
    /// the IP:port policy.
    pub(crate) fn read_value(&self, text: &str) -> Result<IndicatorValue, SkipReason> {
        let value = match self.feed.kind {
            Some(kind) => IndicatorValue::parse(kind, text)?,
            None => IndicatorValue::detect(text)?,
        };
        self.ip_port(value)
    }

    /// Adds an indicator.
    pub(crate) fn accept(&mut self, value: &IndicatorValue, meta: MetaId) -> Result<(), LoadError> {
        if self.expired.contains(&meta) {
            let days = self.feed.expire_days.unwrap_or(0);
            self.skip(
                Location::Object(value.to_string()),
                "",
                SkipReason::Expired(format!(
                    "first seen more than {days} days ago (expire_days)"
                )),
            );
            return Ok(());
        }
        self.builder.add(value, meta)?;
        self.report.accepted.add(value.kind(), 1);
        Ok(())
    }

    /// Records a skipped entry.
    pub(crate) fn skip(&mut self, location: Location, text: &str, reason: SkipReason) {
        let report = &mut self.report;
        report.skipped_total += 1;
        *report.skipped_by_reason.entry(reason.code()).or_default() += 1;
        if report.skipped.len() < self.builder.limits().max_skipped_details {
            report.skipped.push(Skipped {
                location,
                text: cut(text, Skipped::MAX_TEXT).to_owned(),
                reason,
            });
        }
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A confidence written as an integer 0–100 (`"85"`, `"85.0"` too).
pub(crate) fn parse_confidence(text: &str) -> Option<u8> {
    let text = text.trim();
    let value: f64 = text.parse().ok()?;
    (value.fract() == 0.0 && (0.0..=100.0).contains(&value)).then_some(value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_stripped() {
        let text = b"\xEF\xBB\xBFa\r\n\nb\nc";
        let got: Vec<(u64, &[u8])> = lines(text).collect();
        assert_eq!(got, [(1, &b"a"[..]), (2, b""), (3, b"b"), (4, b"c")]);
        assert_eq!(
            lines(b"a\n").count(),
            1,
            "no phantom line after the last newline"
        );
    }

    #[test]
    fn confidence_follows_reliability_and_age_and_old_indicators_expire() {
        let now = haechi_event::parse_rfc3339("2026-11-23T00:00:00Z").unwrap();
        let mut builder = IndicatorSetBuilder::new(crate::Limits::default()).with_now(now);
        let mut feed = FeedConfig::new("partner-csv", "", FeedFormat::Csv);
        feed.header = true;
        feed.value_column = Some(Column::Name("ip".into()));
        feed.first_seen_column = Some(Column::Name("first_seen".into()));
        feed.confidence = Some(80);
        feed.reliability = Some(Reliability::B);
        feed.half_life_days = Some(30);
        feed.expire_days = Some(365);
        let csv = b"ip,first_seen\n198.51.100.1,2026-11-23 00:00:00\n198.51.100.2,2026-10-24 00:00:00\n198.51.100.3,2025-10-01 00:00:00\n198.51.100.4,\n";
        let report = builder.load_feed_bytes(&feed, csv).unwrap();
        assert_eq!(
            report.skipped_by_reason.get("expired"),
            Some(&1),
            "{report}"
        );
        let set = builder.build();
        let confidence = |ip: &str| {
            set.iter()
                .find(|(_, v, _)| v.to_string() == ip)
                .map(|(_, _, m)| m.confidence)
        };
        assert_eq!(
            confidence("198.51.100.1"),
            Some(Some(72)),
            "fresh: 80 × 0.9"
        );
        assert_eq!(
            confidence("198.51.100.2"),
            Some(Some(36)),
            "one half-life old"
        );
        assert_eq!(confidence("198.51.100.3"), None, "expired");
        assert_eq!(
            confidence("198.51.100.4"),
            Some(Some(72)),
            "no age: no decay"
        );
        feed.half_life_days = Some(0);
        assert!(builder_err(&feed));
    }

    fn builder_err(feed: &FeedConfig) -> bool {
        IndicatorSetBuilder::new(crate::Limits::default())
            .load_feed_bytes(feed, b"ip\n1.2.3.4\n")
            .is_err()
    }

    #[test]
    fn confidence_must_be_a_whole_number_up_to_100() {
        assert_eq!(parse_confidence(" 85 "), Some(85));
        assert_eq!(parse_confidence("85.0"), Some(85));
        assert_eq!(parse_confidence("101"), None);
        assert_eq!(parse_confidence("-1"), None);
        assert_eq!(parse_confidence("high"), None);
        assert_eq!(parse_confidence("85.5"), None);
    }
}
