//! Values a command does not know are refused with a message naming what it accepts and
//! exit code 2 — never a silent run that measures or exports nothing.

mod common;

use common::*;

#[test]
fn unknown_values_are_refused_with_exit_2_and_what_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    for (args, says) in [
        (
            vec!["bench", "--stages", "nonsense"],
            "possible values: parse",
        ),
        (
            vec![
                "incident",
                "timeline",
                "1",
                "--format",
                "nonsense",
                "--data-dir",
                d,
            ],
            "timesketch-jsonl, timesketch-csv or l2tcsv",
        ),
        (
            vec![
                "blocklist",
                "export",
                "x",
                "--format",
                "nonsense",
                "--data-dir",
                d,
            ],
            "plain, json, nftables, rpz or sha256",
        ),
        (
            vec![
                "drill",
                "run",
                "--tenant",
                "x",
                "--speed",
                "0",
                "--data-dir",
                d,
                ".",
            ],
            "--speed: 0.1 to 100000",
        ),
        (
            vec!["attribute", "--technique", "T59"],
            "an ATT&CK technique id",
        ),
    ] {
        let out = haechi(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            describe(&out)
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed: {}",
            describe(&out)
        );
    }
}
