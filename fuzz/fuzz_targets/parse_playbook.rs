//! Playbooks (YAML): read and validated.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = haechi_respond::playbook::parse_str(&String::from_utf8_lossy(data));
});
