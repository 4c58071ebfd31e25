//! STIX 2.1: the indicators of the real OASIS example bundles, and the ones Haechi must
//! not take (revoked, expired, unsound patterns).

mod common;

use common::*;
use haechi_event::parse_rfc3339;
use haechi_ioc::{FeedConfig, FeedFormat, IndicatorSetBuilder, LoadReport};

#[test]
fn malicious_url_bundle() {
    let set = set_of(&[stix("stix2/docs-indicator-for-malicious-url.json")]);
    let mut found = Vec::new();
    set.match_event(
        &event(&[("url.original", "http://X4Z9ARB.cn/4712/")]),
        &mut found,
    );
    assert_eq!(found.len(), 1);
    let hit = &found[0];
    assert_eq!(hit.indicator, "http://x4z9arb.cn/4712/");
    assert_eq!(
        hit.description(),
        Some(
            "Malicious site hosting downloader: This organized threat actor group operates to create profit from all types of crime."
        )
    );
    assert_eq!(
        hit.meta.object_id.as_deref(),
        Some("indicator--d81f86b9-975b-4c0b-875e-810c5ad45a4f")
    );
    assert_eq!(
        hit.meta.collection_id.as_deref(),
        Some("bundle--56be2a3b-1534-4bef-8fe9-602926274089")
    );
    assert_eq!(
        hit.meta.first_seen.as_deref(),
        Some("2014-06-29T13:49:37.079Z")
    );
    // The URL's path matters; its host alone is not an indicator.
    assert!(hits(&set, &[("url.original", "http://x4z9arb.cn/other")]).is_empty());
    assert!(hits(&set, &[("dns.question.name", "x4z9arb.cn")]).is_empty());
}

#[test]
fn file_hash_bundle() {
    let set = set_of(&[stix("stix2/docs-malware-indicator-for-file-hash.json")]);
    let sha = "EF537F25C895BFA782526529A9B63D97AA631564D5D789C2B765448C8635FB6C";
    assert_eq!(
        hits(
            &set,
            &[("Event.EventData.Hashes", &format!("SHA1=00,SHA256={sha}"))]
        ),
        [format!(
            "Event.EventData.Hashes={sha} -> sha256:{} (stix2/docs-malware-indicator-for-file-hash.json)",
            sha.to_lowercase()
        )]
    );
}

#[test]
fn c2_ip_bundle_and_tlp_markings() {
    let set = set_of(&[stix("stix2/schemas-indicator-for-c2-ip-address.json")]);
    let mut found = Vec::new();
    set.match_event(&event(&[("destination.ip", "10.0.0.0")]), &mut found);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].description(),
        Some("IP Address for known C2 channel: Test description C2 channel.")
    );
    assert!(
        hits(&set, &[("destination.ip", "10.0.0.1")]).is_empty(),
        "an address, not a range"
    );

    let set = set_of(&[stix("stix2/docs-using-marking-definitions.json")]);
    set.match_event(&event(&[("destination.ip", "10.0.0.0")]), &mut found);
    let markings: Vec<&str> = found[0].meta.markings.iter().map(|m| &**m).collect();
    assert_eq!(
        markings,
        [
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
            "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"
        ]
    );
    assert_eq!(found[0].meta.tlp().as_deref(), Some("TLP:AMBER"));
}

#[test]
fn apt1_ranges_domains_and_md5s_but_not_certificate_conjunctions() {
    let mut builder = IndicatorSetBuilder::default();
    let report = builder
        .load_feed(&stix("stix2/schemas-threat-reports_apt1.json"))
        .unwrap();
    let set = builder.build();
    assert_eq!(
        hits(&set, &[("source.ip", "223.167.1.2")]),
        ["source.ip=223.167.1.2 -> cidr:223.166.0.0/15 (stix2/schemas-threat-reports_apt1.json)"]
    );
    assert_eq!(
        hits(&set, &[("dns.question.name", "mail.hugesoft.org")]).len(),
        1
    );
    assert_eq!(
        hits(
            &set,
            &[("file.hash.md5", "001dd76872d80801692ff942308c64e6")]
        )
        .len(),
        1
    );
    let ands: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.reason.code() == "and-of-properties")
        .collect();
    assert_eq!(ands.len(), 2);
    assert_eq!(
        ands[0].location.to_string(),
        "indicator--b3b6b540-d838-41e2-853b-005056c00008"
    );
}

#[test]
fn poisonivy_or_patterns_give_every_alternative() {
    let mut builder = IndicatorSetBuilder::default();
    let report = builder
        .load_feed(&stix("stix2/schemas-threat-reports_poisonivy.json"))
        .unwrap();
    let set = builder.build();
    // [domain-name:value = 'www.webserver.dynssl.com' OR ipv4-addr:value = '113.10.246.30' OR …]
    assert_eq!(
        hits(&set, &[("dns.question.name", "www.webserver.dynssl.com")]).len(),
        1
    );
    let shared = hits(&set, &[("destination.ip", "113.10.246.30")]);
    assert_eq!(shared.len(), 4, "listed by four indicators: {shared:?}");
    // 'domain autuo.xicp.net' is not a domain: that side is skipped, the IP beside it kept.
    assert_eq!(hits(&set, &[("destination.ip", "60.10.1.115")]).len(), 1);
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.text.contains("'domain autuo.xicp.net'"))
    );
}

fn bundle(indicators: &[&str]) -> String {
    format!(
        r#"{{"type": "bundle", "id": "bundle--0bd4e4a4-0b1c-4d8a-a8e4-5b8b1a5f0001", "objects": [{}]}}"#,
        indicators.join(",")
    )
}

fn indicator(id: u32, pattern: &str, extra: &str) -> String {
    format!(
        r#"{{"type": "indicator", "spec_version": "2.1",
            "id": "indicator--00000000-0000-4000-8000-{id:012}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": {}, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"{extra}}}"#,
        serde_json::to_string(pattern).unwrap()
    )
}

fn load_at(now: &str, text: &str) -> (haechi_ioc::IndicatorSet, LoadReport) {
    let mut builder = IndicatorSetBuilder::default().with_now(parse_rfc3339(now).unwrap());
    let report = builder
        .load_feed_bytes(
            &FeedConfig::new("bundle", "", FeedFormat::Stix),
            text.as_bytes(),
        )
        .unwrap();
    (builder.build(), report)
}

#[test]
fn revoked_and_expired_indicators_are_skipped() {
    let text = bundle(&[
        &indicator(1, "[ipv4-addr:value = '192.0.2.1']", r#", "revoked": true"#),
        &indicator(
            2,
            "[ipv4-addr:value = '192.0.2.2']",
            r#", "valid_until": "2025-01-01T00:00:00Z""#,
        ),
        &indicator(
            3,
            "[ipv4-addr:value = '192.0.2.3']",
            r#", "valid_until": "2025-06-01T00:00:00Z""#,
        ),
        &indicator(
            4,
            "[ipv4-addr:value = '192.0.2.4']",
            r#", "revoked": false, "confidence": 85"#,
        ),
        &indicator(
            5,
            "[ipv4-addr:value = '192.0.2.5']",
            r#", "valid_until": "next week""#,
        ),
        &indicator(
            6,
            "alert tcp any any -> any 80",
            r#", "pattern_type": "snort""#,
        ),
    ]);
    let (set, report) = load_at("2025-03-01T00:00:00Z", &text);
    let reasons: Vec<(String, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.location.to_string(), s.reason.code()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "indicator--00000000-0000-4000-8000-000000000001".to_owned(),
                "revoked"
            ),
            (
                "indicator--00000000-0000-4000-8000-000000000002".to_owned(),
                "expired"
            ),
            (
                "indicator--00000000-0000-4000-8000-000000000005".to_owned(),
                "bad-time"
            ),
            (
                "indicator--00000000-0000-4000-8000-000000000006".to_owned(),
                "pattern-type"
            ),
        ]
    );
    assert!(hits(&set, &[("source.ip", "192.0.2.2")]).is_empty());
    assert_eq!(
        hits(&set, &[("source.ip", "192.0.2.3")]).len(),
        1,
        "still valid on 2025-03-01"
    );
    let mut found = Vec::new();
    set.match_event(&event(&[("source.ip", "192.0.2.4")]), &mut found);
    assert_eq!(found[0].confidence(), Some(85));

    // Three months later the third one has expired too.
    let (set, _) = load_at("2025-06-01T00:00:00Z", &text);
    assert!(hits(&set, &[("source.ip", "192.0.2.3")]).is_empty());
}

#[test]
fn conjunctions_are_taken_only_when_each_value_implies_the_pattern() {
    let text = bundle(&[
        &indicator(
            1,
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
            "",
        ),
        &indicator(
            2,
            "[file:hashes.MD5 = '0cc175b9c0f1b6a831c399e269772661' AND file:name = 'a.exe']",
            "",
        ),
        &indicator(
            3,
            "[ipv4-addr:value = '192.0.2.9'] AND [domain-name:value = 'c2.example']",
            "",
        ),
        &indicator(4, "[network-traffic:dst_ref.value = '192.0.2.10']", ""),
        &indicator(
            5,
            "[ipv6-addr:value ISSUBSET '2001:db8::/32'] OR [email-addr:value = 'x@example.org']",
            "",
        ),
    ]);
    let (set, report) = load_at("2025-01-01T00:00:00Z", &text);
    assert_eq!(report.accepted.to_string(), "cidr=1 md5=1 sha256=1 email=1");
    assert_eq!(report.skipped_by_reason.get("and-of-properties"), Some(&1));
    assert_eq!(report.skipped_by_reason.get("multi-observation"), Some(&1));
    assert_eq!(report.skipped_by_reason.get("unsupported-path"), Some(&1));
    assert_eq!(
        hits(
            &set,
            &[("file.hash.md5", "d41d8cd98f00b204e9800998ecf8427e")]
        )
        .len(),
        1
    );
    assert!(
        hits(
            &set,
            &[("file.hash.md5", "0cc175b9c0f1b6a831c399e269772661")]
        )
        .is_empty()
    );
    assert!(hits(&set, &[("source.ip", "192.0.2.9")]).is_empty());
    assert_eq!(hits(&set, &[("source.ip", "2001:db8::77")]).len(), 1);
}

#[test]
fn a_file_that_is_not_stix_is_an_error() {
    let mut builder = IndicatorSetBuilder::default();
    let feed = FeedConfig::new(
        "misp-as-stix",
        path("misp/HTML_event.json"),
        FeedFormat::Stix,
    );
    let err = builder.load_feed(&feed).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a STIX 2.1 bundle or object: no \"type\" at the top level"
    );
    let err = builder
        .load_feed_bytes(
            &FeedConfig::new("x", "", FeedFormat::Stix),
            b"{\"type\": \"bundle\", \"objects\": [",
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("not valid JSON: EOF while parsing"),
        "{err}"
    );
}
