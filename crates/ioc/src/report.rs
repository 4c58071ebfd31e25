//! What loading a feed says back: counts per kind, every skipped entry with its reason,
//! and the errors that stop a feed.
//!
//! A feed entry Haechi cannot use is *skipped* ([`Skipped`], with a [`SkipReason`]) and
//! the rest of the feed loads. A feed that is unusable or hostile as a whole — unreadable,
//! over a size limit, not the format it claims — fails with a [`LoadError`], and the
//! builder is left exactly as it was before the feed.

use crate::kind::IndicatorKind;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Why one feed entry (a line, a CSV row, a STIX comparison, a MISP attribute) was not
/// taken as an indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("empty value")]
    Empty,
    #[error("not valid UTF-8")]
    NotUtf8,
    #[error("not an IP address, CIDR range, IP:port, domain, URL, hash or e-mail address")]
    Unrecognised,
    #[error("a URL path without a host (it would match that path on every host)")]
    PathWithoutHost,
    #[error("a single-label name (it would match a whole top-level domain)")]
    SingleLabel,
    #[error("a non-ASCII domain name (list it in its xn-- form)")]
    NonAsciiDomain,
    #[error("not a valid {kind}: {detail}")]
    Invalid {
        kind: IndicatorKind,
        detail: &'static str,
    },
    #[error("{kind} longer than {max} bytes")]
    TooLong { kind: IndicatorKind, max: usize },
    #[error("an IP:port, and the feed says ip_port = \"skip\"")]
    IpPortSkipped,
    #[error("a host name with a port: only IP:port endpoints are matched")]
    HostWithPort,
    #[error("the row has no column {0} (counting from 0)")]
    MissingColumn(usize),
    #[error("unknown indicator type '{0}'")]
    UnknownType(String),
    #[error("confidence '{0}' is not an integer from 0 to 100")]
    BadConfidence(String),
    #[error("expected {expected}, found {found}")]
    WrongKind {
        expected: IndicatorKind,
        found: IndicatorKind,
    },
    #[error(
        "an address or range in reserved space (private, loopback, link-local, multicast, …); the feed has skip_reserved"
    )]
    Reserved,
    #[error("revoked")]
    Revoked,
    #[error("expired: valid_until {0} is in the past")]
    Expired(String),
    #[error("'{0}' is not an RFC 3339 time")]
    BadTime(String),
    #[error("pattern_type '{0}' is not stix")]
    PatternType(String),
    #[error("an indicator without a pattern")]
    NoPattern,
    #[error("STIX pattern syntax: {0}")]
    PatternSyntax(String),
    #[error(
        "object path {0} is not one Haechi matches (ipv4-addr, ipv6-addr, domain-name, url, email-addr values, file MD5/SHA-1/SHA-256 hashes)"
    )]
    UnsupportedPath(String),
    #[error("operator {0} compares with something other than a fixed value")]
    UnsupportedOperator(String),
    #[error("a NOT comparison")]
    Negated,
    #[error("AND of different properties: no single value implies the pattern")]
    AndOfProperties,
    #[error("{0} of observations: the pattern needs several observations")]
    MultiObservation(&'static str),
    #[error("qualifier {0}: the pattern needs repeated or timed observations")]
    Qualifier(&'static str),
    #[error("to_ids is false (context, not for detection)")]
    NotToIds,
    #[error("deleted")]
    Deleted,
    #[error("MISP type '{0}' is not an indicator kind Haechi matches")]
    UnsupportedType(String),
    #[error("malformed entry: {0}")]
    Malformed(String),
}

impl SkipReason {
    /// A short stable name for counting reasons (`"unrecognised"`, `"path-without-host"`…).
    pub fn code(&self) -> &'static str {
        use SkipReason::*;
        match self {
            Empty => "empty",
            NotUtf8 => "not-utf8",
            Unrecognised => "unrecognised",
            PathWithoutHost => "path-without-host",
            SingleLabel => "single-label",
            NonAsciiDomain => "non-ascii-domain",
            Invalid { .. } => "invalid",
            TooLong { .. } => "too-long",
            IpPortSkipped => "ip-port-skipped",
            HostWithPort => "host-with-port",
            MissingColumn(_) => "missing-column",
            UnknownType(_) => "unknown-type",
            BadConfidence(_) => "bad-confidence",
            WrongKind { .. } => "wrong-kind",
            Reserved => "reserved",
            Revoked => "revoked",
            Expired(_) => "expired",
            BadTime(_) => "bad-time",
            PatternType(_) => "pattern-type",
            NoPattern => "no-pattern",
            PatternSyntax(_) => "pattern-syntax",
            UnsupportedPath(_) => "unsupported-path",
            UnsupportedOperator(_) => "unsupported-operator",
            Negated => "negated",
            AndOfProperties => "and-of-properties",
            MultiObservation(_) => "multi-observation",
            Qualifier(_) => "qualifier",
            NotToIds => "not-to-ids",
            Deleted => "deleted",
            UnsupportedType(_) => "unsupported-type",
            Malformed(_) => "malformed",
        }
    }
}

/// Where in a feed an entry was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A line (1-based) of a plain list or CSV file.
    Line(u64),
    /// A STIX object id, or a MISP attribute uuid (or `Attribute[i]` when it has none).
    Object(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Object(id) => f.write_str(id),
        }
    }
}

/// One skipped entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub location: Location,
    /// The entry's text, cut at [`Skipped::MAX_TEXT`] bytes.
    pub text: String,
    pub reason: SkipReason,
}

impl Skipped {
    /// The longest entry text a report keeps.
    pub const MAX_TEXT: usize = 200;
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}: {}", self.location, self.text, self.reason)
    }
}

/// A count per indicator kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts([usize; IndicatorKind::ALL.len()]);

impl KindCounts {
    pub fn get(&self, kind: IndicatorKind) -> usize {
        self.0[kind as usize]
    }

    pub(crate) fn add(&mut self, kind: IndicatorKind, n: usize) {
        self.0[kind as usize] += n;
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }

    /// The kinds with a non-zero count, in [`IndicatorKind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (IndicatorKind, usize)> + '_ {
        IndicatorKind::ALL
            .into_iter()
            .map(|k| (k, self.get(k)))
            .filter(|&(_, n)| n > 0)
    }
}

impl fmt::Display for KindCounts {
    /// `ip=3 domain=2` (zero counts left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kind, n)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{kind}={n}")?;
        }
        Ok(())
    }
}

/// What loading one feed did.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// The feed's name (the source every indicator of it carries).
    pub feed: String,
    /// Entries read: lines with content (not blank, not comments), CSV rows, STIX
    /// indicator objects, MISP attributes.
    pub entries: usize,
    /// Indicators taken, per kind (one entry may give several, e.g. a STIX `OR` pattern;
    /// duplicates are counted here and merged when the set is built).
    pub accepted: KindCounts,
    /// Every skipped entry, up to `Limits::max_skipped_details`; the rest are only counted.
    pub skipped: Vec<Skipped>,
    /// All skipped entries.
    pub skipped_total: usize,
    /// Skipped entries per [`SkipReason::code`].
    pub skipped_by_reason: BTreeMap<&'static str, usize>,
}

impl fmt::Display for LoadReport {
    /// One line: `feed: 12 entries, accepted ip=10 domain=1, skipped 1 (unrecognised=1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} entries, accepted {} ({}), skipped {}",
            self.feed,
            self.entries,
            self.accepted.total(),
            self.accepted,
            self.skipped_total
        )?;
        if !self.skipped_by_reason.is_empty() {
            f.write_str(" (")?;
            for (i, (code, n)) in self.skipped_by_reason.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{code}={n}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Why a whole feed could not be loaded. The builder is unchanged after one of these.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is {size} bytes, over the limit of {max} bytes (limits.max_file_bytes)")]
    FileTooLarge { path: PathBuf, size: u64, max: u64 },
    #[error(
        "line {line} is {len} bytes long, over the limit of {max} bytes (limits.max_line_bytes)"
    )]
    LineTooLong { line: u64, len: usize, max: usize },
    #[error("more than {max} indicators (limits.max_indicators); the feed was not loaded")]
    TooManyIndicators { max: usize },
    #[error("the indicator texts of the set exceed 4 GiB")]
    TextTooLarge,
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a {format}: {detail}")]
    Format {
        format: &'static str,
        detail: String,
    },
    #[error("CSV: {0}")]
    Csv(String),
    #[error("CSV column {name:?} is not in the header (columns: {header})")]
    NoSuchColumn { name: String, header: String },
    #[error("feed {feed:?}: {detail}")]
    Config { feed: String, detail: String },
}
