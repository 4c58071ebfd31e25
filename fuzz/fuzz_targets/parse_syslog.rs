//! One syslog record (RFC 3164 or 5424, with CEF, LEEF or key=value payloads): the whole input
//! as one record, parsed in UTC and in a zone with daylight saving time.
#![no_main]

use haechi_ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| haechi_fuzz::parse_record(Format::Syslog, data));
