//! STIX 2.1 bundles and TAXII envelopes as partners send them: every object validated.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = haechi_intel::objects::parse_envelope(data, haechi_intel::objects::Limits::default());
});
