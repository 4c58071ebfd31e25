//! # Collection: from raw records to normalized events
//!
//! A *source* yields raw records (lines of a file, syslog frames from a socket, NDJSON
//! lines from an HTTP body, records of an EVTX file). A [`RecordParser`] turns one record
//! into an [`Event`] with ECS field names beside the device's own, or says precisely why it
//! cannot; the caller turns that refusal into a [`haechi_event::DeadLetter`]. Each format
//! is one module under [`parsers`], registered by name in [`Format`]; adding a format is
//! adding one file and one match arm in [`parsers::new_parser`].
//!
//! * [`Format`] names a format (`syslog`, `cef`, `leef`, `json`, `suricata`, `zeek`,
//!   `evtx`, `clf`, `kv`, `cloudtrail`, `k8s_audit`, `winlog`, `azure`, `gcp_audit`,
//!   `m365`, `okta`, `openstack`, `raw`) and [`detect`] guesses it from a record (`--format auto`).
//! * [`ParseContext`] carries what a record does not say itself: its tenant, the year and
//!   time zone for syslog stamps without them, and the JSON field mapping.
//! * [`normalize`] holds the helpers every parser shares (ECS categorization, IPs, ports).
//! * [`reader`] reads files (plain, gzip, EVTX) into batches with line-length limits.
//! * [`listen`] runs the syslog listeners (UDP, TCP, TLS) and [`metrics`] counts what
//!   arrives, what is stored and what is dropped.
//! * [`ics`] adds the `ics.*` fields (protocol, function, operation, state-changing) to
//!   the records of industrial protocols.
//! * [`dedup`] drops records that were already accepted (re-sent lines, overlapping files).
//! * [`fair`] shares the pipeline's queue between institutions, so one that floods slows
//!   only itself.

pub mod dedup;
pub mod detect;
pub mod fair;
mod format;
pub mod ics;
pub mod listen;
pub mod metrics;
pub mod normalize;
pub mod parsers;
pub mod reader;
pub mod watch;

pub use format::{Format, UnknownFormat};
pub use parsers::{JsonMapping, new_parser};

use chrono_tz::Tz;
use haechi_event::{Event, Timestamp};
use std::sync::Arc;

/// What a parser needs to know that the record itself may not say.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// The institution the records belong to (`organization.id`).
    pub tenant: Arc<str>,
    /// When the records were received; used for records without a time of their own and
    /// to infer the year of RFC 3164 stamps (which have none).
    pub received: Timestamp,
    /// The year for stamps without one; `None` infers it from `received` (a stamp more
    /// than a day in the future is taken to be from the previous year).
    pub year: Option<i32>,
    /// The time zone of stamps without an offset (RFC 3164, CLF without offset, …).
    pub timezone: Tz,
    /// How generic JSON lines map to ECS.
    pub json_mapping: Arc<JsonMapping>,
}

impl ParseContext {
    /// A context for `tenant` with UTC, the current year and the default JSON mapping.
    pub fn new(tenant: &str) -> Self {
        ParseContext {
            tenant: Arc::from(tenant),
            received: Timestamp::now(),
            year: None,
            timezone: Tz::UTC,
            json_mapping: Arc::new(JsonMapping::default()),
        }
    }
}

/// Why a record was refused. The text goes into the dead-letter record, so it says what
/// was expected and where the record differed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(reason: impl Into<String>) -> Self {
        ParseError(reason.into())
    }
}

/// Turns one record into one event.
///
/// A parser may keep state between the records of one stream (Zeek TSV reads its
/// `#fields` header first), so each stream gets its own instance from [`new_parser`].
pub trait RecordParser: Send {
    /// The format this parser reads (for `auto`, the format it picked for the last record).
    fn format(&self) -> Format;

    /// Parses one record. `Ok(None)` means the record carried no event (a header or a
    /// comment line); `Err` means it is malformed and goes to the dead letters.
    fn parse(&mut self, record: &str, ctx: &ParseContext) -> Result<Option<Event>, ParseError>;

    /// Parses a record that may carry several events (a CloudTrail delivery object's
    /// `Records`, a Kubernetes `EventList`), handing each event or refusal to `out`.
    /// Formats of one event per record keep this default.
    fn parse_many(
        &mut self,
        record: &str,
        ctx: &ParseContext,
        out: &mut dyn FnMut(Result<Event, ParseError>),
    ) {
        match self.parse(record, ctx) {
            Ok(Some(event)) => out(Ok(event)),
            Ok(None) => {}
            Err(e) => out(Err(e)),
        }
    }
}
