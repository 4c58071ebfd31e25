//! `--format auto`: the input split into lines, each detected and parsed by the parser of its
//! format (one per format for the stream, as the collector keeps them).
#![no_main]

use haechi_ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| haechi_fuzz::parse_stream(Format::Auto, data));
