//! MISP events: the real CIRCL events, `to_ids`, object attributes, and the other shapes
//! MISP writes.

mod common;

use common::*;
use haechi_ioc::{FeedConfig, FeedFormat, IndicatorSetBuilder};

#[test]
fn xorist_event_hashes_with_event_context() {
    let set = set_of(&[misp("misp/57c4445b-c548-4654-af0b-4be3950d210f.json")]);
    let mut found = Vec::new();
    set.match_event(
        &event(&[("file.hash.md5", "0749BAE92CA336A02C83D126E04EC628")]),
        &mut found,
    );
    assert_eq!(found.len(), 1);
    let meta = &found[0].meta;
    assert_eq!(
        meta.description.as_deref(),
        Some("Ransomware - Xorist: Imported via the Freetext Import Tool")
    );
    assert_eq!(
        meta.collection_id.as_deref(),
        Some("57c4445b-c548-4654-af0b-4be3950d210f")
    );
    assert_eq!(meta.to_ids, Some(true));
    assert_eq!(meta.tlp().as_deref(), Some("TLP:WHITE"));
    assert_eq!(
        hits(
            &set,
            &[(
                "process.hash.sha256",
                "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"
            )]
        )
        .len(),
        1
    );
}

#[test]
fn cerber_event_respects_to_ids_unless_told_otherwise() {
    let set = set_of(&[misp("misp/HTML_event.json")]);
    assert_eq!(
        hits(&set, &[("dns.question.name", "decrypttozxybarc.onion")]),
        [
            "dns.question.name=decrypttozxybarc.onion -> domain:decrypttozxybarc.onion (misp/HTML_event.json)"
        ]
    );
    // A filename|sha1 attribute gives its hash.
    assert_eq!(
        hits(
            &set,
            &[("file.hash.sha1", "0af6bde11eaa699604aa92cce9a6210dfce70f42")]
        )
        .len(),
        1
    );
    // `http://ipinfo.io/json` is context (to_ids false): not an indicator by default...
    assert!(hits(&set, &[("url.full", "http://ipinfo.io/json")]).is_empty());

    // ...but taken, with the flag recorded, when the feed asks for everything.
    let all = FeedConfig {
        only_to_ids: false,
        ..misp("misp/HTML_event.json")
    };
    let mut builder = IndicatorSetBuilder::default();
    let report = builder.load_feed(&all).unwrap();
    assert_eq!(
        report.accepted.to_string(),
        "domain=1 url=5 md5=1 sha1=1 sha256=1"
    );
    let set = builder.build();
    let mut found = Vec::new();
    set.match_event(&event(&[("url.full", "http://ipinfo.io/json")]), &mut found);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].meta.to_ids, Some(false));
    assert_eq!(
        found[0].description(),
        Some("Cerber Ransomware: Geo lookup")
    );
}

#[test]
fn sednit_object_attributes_are_indicators() {
    let set = set_of(&[misp("misp/existing_event.json")]);
    // From a `domain-ip` object, and a top-level domain attribute.
    let mut found = Vec::new();
    set.match_event(
        &event(&[("dns.question.name", "www.movieultimate.com")]),
        &mut found,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].meta.collection_id.as_deref(),
        Some("5a3c2fcd-8328-42bb-a95e-4f4402de0b81")
    );
    // From a `file` object.
    set.match_event(
        &event(&[("file.hash.sha1", "68064fc152e23d56e541714af52651cb4ba81aaf")]),
        &mut found,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].meta.object_id.as_deref(),
        Some("5a3cd5b6-78a8-4e47-8333-4c62950d210f")
    );
}

fn load(text: &str, feed: FeedConfig) -> (haechi_ioc::IndicatorSet, haechi_ioc::LoadReport) {
    let mut builder = IndicatorSetBuilder::default();
    let report = builder.load_feed_bytes(&feed, text.as_bytes()).unwrap();
    (builder.build(), report)
}

const EVENT: &str = r#"{"Event": {
    "info": "Phishing wave", "uuid": "11111111-1111-4111-8111-111111111111",
    "Tag": [{"name": "tlp:amber"}],
    "Attribute": [
        {"type": "domain|ip", "value": "phish.example|192.0.2.50", "to_ids": true, "uuid": "a1",
         "Tag": [{"name": "osint:certainty=\"75\""}]},
        {"type": "ip-dst|port", "value": "192.0.2.60|4444", "to_ids": "1", "uuid": "a2"},
        {"type": "email-src", "value": "Boss@Phish.example", "to_ids": true, "uuid": "a3", "comment": "sender"},
        {"type": "sha256", "value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "to_ids": true, "deleted": true, "uuid": "a4"},
        {"type": "ip-dst", "value": "198.51.100.0/24", "to_ids": true, "uuid": "a5"},
        {"type": "hostname|port", "value": "c2.phish.example|8080", "to_ids": true, "uuid": "a6"},
        {"type": "md5", "value": "not-a-hash", "to_ids": true, "uuid": "a7"}
    ],
    "Object": [{"name": "file", "deleted": true, "Attribute": [
        {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "to_ids": true, "uuid": "o1"}]}]
}}"#;

#[test]
fn composite_types_certainty_deletion_and_bad_values() {
    let (set, report) = load(EVENT, FeedConfig::new("misp", "", FeedFormat::Misp));
    assert_eq!(report.entries, 8);
    assert_eq!(
        report.accepted.to_string(),
        "ip=1 cidr=1 ip-port=1 domain=1 email=1"
    );
    let reasons: Vec<String> = report
        .skipped
        .iter()
        .map(|s| format!("{} {}", s.location, s.reason.code()))
        .collect();
    assert_eq!(
        reasons,
        [
            "a4 deleted",
            "a6 host-with-port",
            "a7 invalid",
            "o1 deleted"
        ]
    );

    let mut found = Vec::new();
    set.match_event(
        &event(&[
            ("dns.question.name", "phish.example"),
            ("destination.ip", "192.0.2.50"),
        ]),
        &mut found,
    );
    assert_eq!(found.len(), 2);
    assert!(
        found
            .iter()
            .all(|h| h.confidence() == Some(75) && h.meta.tlp().as_deref() == Some("TLP:AMBER"))
    );
    assert_eq!(
        hits(
            &set,
            &[
                ("destination.ip", "192.0.2.60"),
                ("destination.port", "4444")
            ]
        )
        .len(),
        1
    );
    assert_eq!(hits(&set, &[("destination.ip", "198.51.100.9")]).len(), 1);
    set.match_event(
        &event(&[("email.from.address", "boss@phish.example")]),
        &mut found,
    );
    assert_eq!(found[0].description(), Some("Phishing wave: sender"));
}

#[test]
fn search_results_lists_and_bare_events_load_alike() {
    let attribute = r#"{"type": "domain", "value": "evil.example", "to_ids": true}"#;
    let shapes = [
        format!(
            r#"{{"response": [{{"Event": {{"info": "a", "Attribute": [{attribute}]}}}}, {{"Event": {{"info": "b", "Attribute": [{attribute}]}}}}]}}"#
        ),
        format!(
            r#"[{{"Event": {{"info": "a", "Attribute": [{attribute}]}}}}, {{"Event": {{"info": "b", "Attribute": [{attribute}]}}}}]"#
        ),
        format!(r#"{{"info": "a", "Attribute": [{attribute}, {attribute}]}}"#),
    ];
    for shape in shapes {
        let (_, report) = load(&shape, FeedConfig::new("misp", "", FeedFormat::Misp));
        assert_eq!(report.accepted.to_string(), "domain=2", "{shape}");
    }
}

#[test]
fn a_file_that_is_not_a_misp_event_is_an_error() {
    let mut builder = IndicatorSetBuilder::default();
    let feed = FeedConfig::new(
        "stix-as-misp",
        path("stix2/docs-indicator-for-malicious-url.json"),
        FeedFormat::Misp,
    );
    let err = builder.load_feed(&feed).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a MISP event: no \"Event\", \"Attribute\" or \"Object\" found"
    );
}

#[test]
fn a_misp_feed_directory_loads_the_events_of_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let uuid = "57c4445b-c548-4654-af0b-4be3950d210f";
    std::fs::copy(
        path(&format!("misp/{uuid}.json")),
        dir.path().join(format!("{uuid}.json")),
    )
    .unwrap();
    // As MISP writes it: event uuid → summary; one key tries to leave the directory.
    let manifest = serde_json::json!({
        uuid: {"info": "Ransomware - Xorist", "date": "2016-08-29", "timestamp": "1472460893"},
        "../../etc/passwd": {"info": "not an event"},
    });
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).unwrap();
    let feed = FeedConfig::new("circl-feed", dir.path(), FeedFormat::Misp);
    let mut builder = IndicatorSetBuilder::default();
    let report = builder.load_feed(&feed).unwrap();
    assert_eq!(
        report.skipped_by_reason.get("malformed"),
        Some(&1),
        "{report}"
    );
    let set = builder.build();
    let mut found = Vec::new();
    set.match_event(
        &event(&[("file.hash.md5", "0749BAE92CA336A02C83D126E04EC628")]),
        &mut found,
    );
    assert_eq!(found.len(), 1, "the event's attributes are loaded");
    assert_eq!(found[0].meta.collection_id.as_deref(), Some(uuid));

    // A listed event that is missing is an error naming it, and nothing stays loaded.
    let manifest = serde_json::json!({
        uuid: {}, "00000000-0000-4000-8000-000000000000": {},
    });
    std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).unwrap();
    let mut builder = IndicatorSetBuilder::default();
    let err = builder.load_feed(&feed).unwrap_err().to_string();
    assert!(
        err.contains("00000000-0000-4000-8000-000000000000"),
        "{err}"
    );
    assert!(builder.build().is_empty());
}
