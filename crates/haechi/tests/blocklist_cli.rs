//! `haechi blocklist` from a shell: entries added (renewed, expiring, per institution),
//! exported as plain text and as an nftables script that the real `nft` accepts (checked
//! with `nft -c` inside a user and network namespace the test creates, so no firewall of
//! the machine is touched), removed, and every change audited.

mod common;

use common::*;

fn run(data: &std::path::Path, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["--data-dir", data.to_str().unwrap()]);
    let out = haechi(&all);
    assert!(out.status.success(), "haechi {args:?}: {}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn block_lists_export_to_nftables_that_nft_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    run(
        &data,
        &[
            "blocklist",
            "add",
            "edge",
            "203.0.113.9",
            "--reason",
            "scanner",
            "--expires-hours",
            "24",
        ],
    );
    run(
        &data,
        &[
            "blocklist",
            "add",
            "edge",
            "10.1.2.3/16",
            "--tenant",
            "seoul",
        ],
    );
    run(&data, &["blocklist", "add", "edge", "2001:db8::/32"]);
    run(&data, &["blocklist", "add", "edge", "c2.example.net"]);
    let renewed = run(
        &data,
        &[
            "blocklist",
            "add",
            "edge",
            "203.0.113.9",
            "--expires-hours",
            "48",
        ],
    );
    assert!(renewed.starts_with("renewed"), "{renewed}");
    let bad = haechi(&[
        "blocklist",
        "add",
        "edge",
        "999.1.1.1/8",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(
        describe(&bad).contains("not an IP address"),
        "{}",
        describe(&bad)
    );

    let plain = run(&data, &["blocklist", "export", "edge"]);
    assert_eq!(plain.lines().count(), 4, "{plain}");
    assert!(
        plain.contains("10.1.0.0/16"),
        "networks are canonical: {plain}"
    );
    let busan = run(&data, &["blocklist", "export", "edge", "--tenant", "busan"]);
    assert!(
        !busan.contains("10.1.0.0/16"),
        "Seoul's entry is not Busan's: {busan}"
    );

    let script = run(
        &data,
        &["blocklist", "export", "edge", "--format", "nftables"],
    );
    assert!(
        script.contains("203.0.113.9") && script.contains("2001:db8::/32"),
        "{script}"
    );
    assert!(
        !script.contains("c2.example.net\n") && script.contains("1 domain entries"),
        "{script}"
    );
    let file = write_file(dir.path(), "edge.nft", &script);
    let nft = std::process::Command::new("unshare")
        .args(["-rn", "nft", "-c", "-f"])
        .arg(&file)
        .output()
        .expect("`unshare` and `nft` are installed (scripts/setup-test-tools installs nftables)");
    assert!(
        nft.status.success(),
        "nft rejects the script: {}\n{script}",
        String::from_utf8_lossy(&nft.stderr)
    );

    let removed = run(&data, &["blocklist", "remove", "edge", "c2.example.net"]);
    assert!(removed.contains("removed"), "{removed}");
    let list = run(&data, &["blocklist", "list"]);
    assert!(
        list.contains("edge") && list.contains("3 entries"),
        "{list}"
    );
    let audit = run(&data, &["audit", "list", "--limit", "100"]);
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.contains("\"blocklist.add\""))
            .count(),
        5,
        "{audit}"
    );
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.contains("\"blocklist.remove\""))
            .count(),
        1
    );
    assert!(run(&data, &["audit", "verify"]).contains("intact"));
}
