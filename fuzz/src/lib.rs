//! Shared set-up of the fuzz targets: fixed parse contexts (so a crash reproduces whatever
//! the date) and the loops that feed records to a parser.

use haechi_event::{Event, Timestamp};
use haechi_ingest::{Format, ParseContext, new_parser};
use std::sync::LazyLock;

/// 2024-03-31T01:30:00Z: the night Europe/Berlin springs forward, so local stamps near it
/// fall into the gap or the overlap.
const RECEIVED: Timestamp = Timestamp(1_711_848_600_000_000_000);

/// Two contexts every input is parsed in: UTC, and a zone with daylight saving time (whose
/// local times can be missing or ambiguous). The year of stamps without one is inferred.
pub static CONTEXTS: LazyLock<[ParseContext; 2]> = LazyLock::new(|| {
    let utc = ParseContext {
        received: RECEIVED,
        ..ParseContext::new("fuzz")
    };
    let berlin = ParseContext {
        timezone: chrono_tz::Europe::Berlin,
        ..utc.clone()
    };
    [utc, berlin]
});

/// Parses the whole input as one record (newlines included), in each context. Invalid
/// UTF-8 is replaced, as the readers do.
pub fn parse_record(format: Format, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for ctx in CONTEXTS.iter() {
        let _ = new_parser(format).parse(&text, ctx);
    }
}

/// Parses the input line by line with one parser per context, so that parsers keeping state
/// between the records of a stream (Zeek's header) see a stream.
pub fn parse_stream(format: Format, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for ctx in CONTEXTS.iter() {
        let mut parser = new_parser(format);
        for line in text.split('\n') {
            let _ = parser.parse(line.strip_suffix('\r').unwrap_or(line), ctx);
        }
    }
}

/// An event for queries to be evaluated on: a parsed sshd line with IPs, ports, a user, a
/// message and a time.
pub static EVENT: LazyLock<Event> = LazyLock::new(|| {
    let line = "<38>Mar 31 03:10:01 web-01 sshd[4242]: Failed password for invalid user \
                admin from 203.0.113.7 port 52211 ssh2";
    new_parser(Format::Syslog)
        .parse(line, &CONTEXTS[0])
        .ok()
        .flatten()
        .expect("the sample sshd line parses")
});
