//! `haechi isms` from a shell: the catalog covers the 101 ISMS-P criteria by the numbers
//! KISA publishes, and an institution's monthly report shows its real evidence — its
//! inventory, a KEV finding open past CISA's due date (a gap on patching), the events
//! it sent, alerts nobody looked at, a token that never expires, and an intact audit
//! chain.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn the_catalog_has_every_isms_p_criterion_by_kisa_s_numbers() {
    let out = haechi(&["isms", "catalog", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // The numbers of the criteria table in shared/data/isms/ISMS-P.md.
    let facts = std::fs::read_to_string(sample("isms/ISMS-P.md")).unwrap();
    let published: Vec<String> = facts
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|id| {
            id.matches('.').count() == 2 && id.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
        .map(str::to_owned)
        .collect();
    assert_eq!(published.len(), 101);
    assert_eq!(ids, published);
}

#[test]
fn a_monthly_report_shows_an_institution_s_evidence_and_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let vulns = sample("vulns");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--data-dir", d]);
        let out = haechi(&all);
        assert!(out.status.success(), "haechi {args:?}: {}", describe(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&[
        "vuln",
        "db",
        "import",
        vulns
            .join("friendsofphp_security_advisories/facade")
            .to_str()
            .unwrap(),
        vulns.join("cisa_kev").to_str().unwrap(),
    ]);
    run(&[
        "sbom",
        "add",
        "--tenant",
        "seoul",
        "--system",
        "wiki",
        "--exposure",
        "internet-facing",
        vulns
            .join("lockfiles/bookstack_v0.30.0/composer.lock")
            .to_str()
            .unwrap(),
    ]);
    create_token(&data, "seoul-feed", "institution", Some("seoul"));
    let log = write_file(
        dir.path(),
        "access.log",
        &(0..20)
            .map(|i| access_line("192.0.2.7", i, false) + "\n")
            .collect::<String>(),
    );
    run(&[
        "ingest",
        "--tenant",
        "seoul",
        "--format",
        "clf",
        log.to_str().unwrap(),
    ]);
    // The month of the events (ten minutes before the test began): at the turn of a
    // month the alert raised just now belongs to the next one.
    let month = test_epoch().format("%Y-%m").to_string();
    let same_month = chrono::Utc::now().format("%Y-%m").to_string() == month;
    let report: Value = serde_json::from_str(&run(&[
        "isms", "report", "--tenant", "seoul", "--month", &month, "--json",
    ]))
    .unwrap();
    let e = &report["evidence"];
    assert_eq!(e["asset_inventory"]["inventories"], 1);
    assert_eq!(e["asset_inventory"]["components"], 137);
    assert!(
        e["patch_latency"]["kev_past_due"]
            .to_string()
            .contains("facade/ignition"),
        "{e}"
    );
    assert_eq!(e["log_retention"]["events_stored_in_period"], 20);
    if same_month {
        assert!(
            e["log_review"]["untriaged"].as_u64().unwrap() >= 1,
            "the KEV alert was never looked at: {e}"
        );
    }
    assert_eq!(e["access_review"]["tokens_without_expiry"], 1);
    assert_eq!(e["audit_integrity"]["intact"], true);
    let status = |id: &str| -> String {
        report["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        status("2.10.8"),
        "gap",
        "a KEV finding past due is a patching gap"
    );
    assert_eq!(status("2.9.4"), "evidenced", "events were kept");
    assert_eq!(status("1.4.2"), "evidenced", "the audit chain is intact");
    assert_eq!(status("2.5.6"), "gap", "a token that never expires");
    assert_eq!(status("3.5.1"), "not evidenced by Haechi");
    let s = &report["summary"];
    let total = s["evidenced"].as_u64().unwrap()
        + s["gaps"].as_u64().unwrap()
        + s["not_evidenced_by_haechi"].as_u64().unwrap();
    assert_eq!(total, 101);
    let bad = haechi(&[
        "isms",
        "report",
        "--tenant",
        "seoul",
        "--month",
        "2026-13",
        "--data-dir",
        d,
    ]);
    assert!(!bad.status.success() && describe(&bad).contains("YYYY-MM"));
}
