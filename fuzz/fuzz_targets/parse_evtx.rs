//! An `.evtx` file: the input is written to a temporary file (one per fuzzing process,
//! removed after each input) and read with `parse_evtx_file`, as the collector reads files.
//! Run it with `-max_len=69632`: the 4 KiB file header and one 64 KiB chunk.
#![no_main]

use haechi_ingest::parsers::evtx::parse_evtx_file;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::LazyLock;

static PATH: LazyLock<PathBuf> =
    LazyLock::new(|| std::env::temp_dir().join(format!("haechi-fuzz-{}.evtx", std::process::id())));

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*PATH, data).expect("write the temporary EVTX file");
    let ctx = &haechi_fuzz::CONTEXTS[0];
    let _ = parse_evtx_file(&PATH, ctx, &mut |record| drop(record));
    let _ = std::fs::remove_file(&*PATH);
});
