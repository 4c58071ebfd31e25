//! A Zeek stream: the input split into lines, so that the `#separator` / `#fields` / `#types`
//! header state machine sees headers, rows and headers again.
#![no_main]

use haechi_ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| haechi_fuzz::parse_stream(Format::Zeek, data));
