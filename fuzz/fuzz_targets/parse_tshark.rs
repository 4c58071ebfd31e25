//! OT traffic as tshark's JSON (Modbus, DNP3 and the other ICS dissectors): one record.
#![no_main]

use haechi_ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| haechi_fuzz::parse_record(Format::Tshark, data));
