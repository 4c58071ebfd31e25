//! Cross-checks Haechi's EVTX reader against an independent parser: for every `.evtx` file of
//! the shared sample set, the number of events `parse_evtx_file` yields must equal the number
//! of records python-evtx (the PyPI package `python-evtx`, module `Evtx`) counts, and no
//! record may be refused.
//!
//! Needs `python3` with `python-evtx` installed (`pip install python-evtx`). The test fails,
//! never skips, when either is missing: a skipped cross-check would look like a passed one.
//! python-evtx counts all 311 files in about a second, so the whole set is compared.

use haechi_ingest::ParseContext;
use haechi_ingest::parsers::evtx::parse_evtx_file;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const EVTX_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/evtx");
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/evtx_count.py");

fn evtx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("sample folder {} is missing: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("readable folder entry").path();
        if path.is_dir() {
            evtx_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "evtx") {
            out.push(path);
        }
    }
}

/// `path → record count` from scripts/evtx_count.py.
fn python_evtx_counts(files: &[PathBuf]) -> BTreeMap<String, u64> {
    let output = Command::new("python3").arg(SCRIPT).args(files).output().unwrap_or_else(|e| {
        panic!("cannot run python3 ({e}): the EVTX cross-check needs python3 with the PyPI package python-evtx")
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/evtx_count.py failed ({}): {stderr}\n(the EVTX cross-check needs python3 with the PyPI package \
         python-evtx: pip install python-evtx)",
        output.status
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    stdout
        .lines()
        .map(|line| {
            let (path, count) = line
                .rsplit_once('\t')
                .unwrap_or_else(|| panic!("unexpected line from evtx_count.py: {line:?}"));
            (
                path.to_owned(),
                count
                    .parse()
                    .unwrap_or_else(|_| panic!("unexpected count in {line:?}")),
            )
        })
        .collect()
}

#[test]
fn every_evtx_file_has_as_many_events_as_python_evtx_counts_records() {
    let mut files = Vec::new();
    evtx_files(Path::new(EVTX_DIR), &mut files);
    files.sort();
    assert_eq!(
        files.len(),
        311,
        "the shared sample set has 311 .evtx files"
    );

    let python = python_evtx_counts(&files);
    assert_eq!(python.len(), files.len(), "python-evtx counted every file");

    let ctx = ParseContext::new("cross-check");
    let mut differences = Vec::new();
    let (mut ours_total, mut theirs_total) = (0u64, 0u64);
    for file in &files {
        let key = file.to_str().expect("UTF-8 path");
        let theirs = *python
            .get(key)
            .unwrap_or_else(|| panic!("python-evtx printed no count for {key}"));
        let (mut events, mut errors) = (0u64, Vec::new());
        parse_evtx_file(file, &ctx, &mut |r| match r {
            Ok(_) => events += 1,
            Err(e) => errors.push(e.0),
        })
        .unwrap_or_else(|e| panic!("{key}: {e}"));
        if events != theirs || !errors.is_empty() {
            differences.push(format!(
                "{key}: Haechi {events} events, python-evtx {theirs} records, refused: {errors:?}"
            ));
        }
        ours_total += events;
        theirs_total += theirs;
    }
    assert!(
        differences.is_empty(),
        "Haechi and python-evtx disagree:\n{}",
        differences.join("\n")
    );
    assert_eq!(ours_total, theirs_total);
    assert_eq!(ours_total, 13_129);
}
