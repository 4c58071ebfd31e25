//! The query language: parse the input, then evaluate the query on a parsed event and take its
//! time bounds, as the search does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(query) = haechi_query::parse(text) {
        let _ = query.matches(&haechi_fuzz::EVENT);
        let _ = query.time_bounds();
    }
});
