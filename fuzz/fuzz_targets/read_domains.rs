//! Domain Watch's inputs: zone files (RFC 1035 master format), Certificate Transparency
//! JSON lines and plain lists, recognised and read into names (each through UTS #46 and
//! the Public Suffix List).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let format = haechi_domains::input::recognise(&text);
    for (_, name) in haechi_domains::input::names(&text, format) {
        if let Ok(name) = name {
            let _ = haechi_domains::name::parse(&name);
        }
    }
});
