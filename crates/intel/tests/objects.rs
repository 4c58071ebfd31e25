//! Bundles: the real OASIS examples, hand-made invalid objects, limits, TLP.

use haechi_intel::tlp::{TLP1_AMBER, TLP1_WHITE, TLP2_AMBER_STRICT, TLP2_GREEN, TLP2_RED};
use haechi_intel::{BundleError, Limits, Tlp, may_share, parse_bundle};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/threat_intel/stix2")
}

/// The accepted count of every real example bundle (as observed: nothing is rejected).
#[test]
fn real_bundles_parse_with_the_expected_counts() {
    let expected: &[(&str, usize)] = &[
        (
            "docs-defining-campaigns-threat-actors-intrusion-sets.json",
            26,
        ),
        ("docs-identifying-a-threat-actor-profile.json", 3),
        ("docs-indicator-for-malicious-url.json", 3),
        ("docs-malware-indicator-for-file-hash.json", 3),
        ("docs-sighting-of-an-indicator.json", 4),
        ("docs-sighting-of-observed-data.json", 8),
        (
            "docs-threat-actor-leveraging-attack-patterns-and-malware.json",
            7,
        ),
        ("docs-using-granular-markings.json", 4),
        ("docs-using-marking-definitions.json", 4),
        ("schemas-indicator-for-c2-ip-address.json", 1),
        ("schemas-indicator-to-campaign-relationship.json", 3),
        ("schemas-indicators-for-C2-with-COA.json", 8),
        ("schemas-infrastructure.json", 10),
        ("schemas-interop-objectmarking-test.json", 1),
        ("schemas-malicious-email-indicator-with-attachment.json", 6),
        ("schemas-threat-reports_apt1.json", 76),
        ("schemas-threat-reports_poisonivy.json", 155),
    ];
    let mut total = 0;
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    for (name, count) in expected {
        let bytes = std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = parse_bundle(&bytes, Limits::default()).unwrap();
        assert!(report.rejected.is_empty(), "{name}: {:?}", report.rejected);
        assert_eq!(report.accepted.len(), *count, "{name}");
        // The same count as objects in the file.
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let in_file = raw["objects"].as_array().map_or(1, Vec::len); // or one bare object
        assert_eq!(in_file, *count, "{name}");
        for o in &report.accepted {
            *types.entry(o.object_type.clone()).or_default() += 1;
            // Every STIX pattern of the examples is evaluable (no qualifiers among them).
            if let Some((p, "stix")) = o.pattern() {
                haechi_intel::CompiledPattern::compile(p)
                    .unwrap_or_else(|e| panic!("{name}: {p}: {e}"));
            }
        }
        total += count;
    }
    assert_eq!(total, 322);
    assert_eq!(types["indicator"], 48);
    assert_eq!(types["relationship"], 155);
    assert_eq!(types["marking-definition"], 2);
}

#[test]
fn common_properties_are_extracted() {
    let bytes = std::fs::read(data_dir().join("docs-using-marking-definitions.json")).unwrap();
    let report = parse_bundle(&bytes, Limits::default()).unwrap();
    let ind = report
        .accepted
        .iter()
        .find(|o| o.object_type == "indicator")
        .unwrap();
    assert_eq!(ind.spec_version.as_deref(), Some("2.1"));
    assert!(ind.created.is_some() && ind.modified.is_some() && ind.valid_from.is_some());
    assert!(
        ind.created_by_ref
            .as_deref()
            .unwrap()
            .starts_with("identity--")
    );
    // The example marks it TLP 1.0 AMBER.
    assert_eq!(ind.tlp(), Some(Tlp::Amber));
    assert_eq!(ind.category(), haechi_intel::Category::Sdo);
}

const UUID: &str = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

fn good_indicator() -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{UUID}"),
        "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
        "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix",
        "valid_from": "2016-01-01T00:00:00Z", "confidence": 80, "labels": ["c2"],
        "revoked": false
    })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    if value.is_null() {
        base.as_object_mut().unwrap().remove(key);
    } else {
        base[key] = value;
    }
    base
}

fn uuid(n: u32) -> String {
    format!("{n:08x}-17d4-4cbf-938f-98ee46b3cd3f")
}

/// Each invalid object gives its own reason; the valid siblings are accepted.
#[test]
fn invalid_objects_are_rejected_with_their_rule() {
    let ts = "2020-01-01T00:00:00.000Z";
    let cases: Vec<(Value, &str)> = vec![
        (
            with(good_indicator(), "valid_from", Value::Null),
            "valid_from is required",
        ),
        (
            with(good_indicator(), "pattern", Value::Null),
            "pattern is required",
        ),
        (
            with(good_indicator(), "pattern_type", Value::Null),
            "pattern_type is required",
        ),
        (
            with(
                good_indicator(),
                "pattern",
                json!("[ipv4-addr:value = '1.2.3.4'"),
            ),
            "pattern is not a valid STIX pattern",
        ),
        (
            with(
                good_indicator(),
                "valid_until",
                json!("2015-01-01T00:00:00Z"),
            ),
            "valid_until must be later than valid_from",
        ),
        (
            with(good_indicator(), "id", json!("indicator--not-a-uuid")),
            "does not end with an RFC 4122 UUID",
        ),
        (
            with(good_indicator(), "id", json!(format!("malware--{UUID}"))),
            "is not of type indicator",
        ),
        (
            with(
                good_indicator(),
                "created",
                json!("2016-04-06T20:03:48+09:00"),
            ),
            "is not in UTC with a 'Z' suffix",
        ),
        (
            with(
                good_indicator(),
                "modified",
                json!("2016-04-05T20:03:48.000Z"),
            ),
            "modified must not be earlier than created",
        ),
        (
            with(good_indicator(), "spec_version", json!("2.0")),
            "spec_version must be \"2.1\"",
        ),
        (
            with(good_indicator(), "spec_version", Value::Null),
            "spec_version is required",
        ),
        (
            with(good_indicator(), "confidence", json!(101)),
            "confidence must be an integer 0–100",
        ),
        (
            with(
                good_indicator(),
                "created_by_ref",
                json!(format!("malware--{UUID}")),
            ),
            "created_by_ref: \"malware--",
        ),
        (
            with(good_indicator(), "object_marking_refs", json!(["tlp-red"])),
            "object_marking_refs: \"tlp-red\" is not an identifier",
        ),
        (
            json!({"type": "ipv4-addr", "id": format!("ipv4-addr--{}", uuid(1)), "value": "2001:db8::1"}),
            "is not an IPv4 address or CIDR range",
        ),
        (
            json!({"type": "ipv6-addr", "id": format!("ipv6-addr--{}", uuid(2)), "value": "10.0.0.1"}),
            "is not an IPv6 address or CIDR range",
        ),
        (
            json!({"type": "domain-name", "id": format!("domain-name--{}", uuid(3))}),
            "value is required",
        ),
        (
            json!({"type": "url", "id": format!("url--{}", uuid(4)), "value": ""}),
            "value must not be empty",
        ),
        (
            json!({"type": "email-addr", "id": format!("email-addr--{}", uuid(5)), "value": "nobody"}),
            "is not an e-mail address",
        ),
        (
            json!({"type": "file", "id": format!("file--{}", uuid(6)), "size": 10}),
            "file needs at least one of hashes and name",
        ),
        (
            json!({"type": "file", "id": format!("file--{}", uuid(7)), "hashes": {"SHA-256": "abc"}}),
            "hashes.SHA-256 \"abc\" is not 64 hex digits",
        ),
        (
            json!({"type": "sighting", "spec_version": "2.1", "id": format!("sighting--{}", uuid(8)), "created": ts, "modified": ts}),
            "sighting_of_ref is required",
        ),
        (
            json!({"type": "sighting", "spec_version": "2.1", "id": format!("sighting--{}", uuid(9)), "created": ts, "modified": ts,
                "sighting_of_ref": format!("indicator--{UUID}"), "first_seen": "2020-02-01T00:00:00Z", "last_seen": "2020-01-01T00:00:00Z"}),
            "last_seen must not be earlier than first_seen",
        ),
        (
            json!({"type": "malware", "spec_version": "2.1", "id": format!("malware--{}", uuid(10)), "created": ts, "modified": ts, "name": "x"}),
            "is_family is required",
        ),
        (
            json!({"type": "malware", "spec_version": "2.1", "id": format!("malware--{}", uuid(11)), "created": ts, "modified": ts, "is_family": true}),
            "name is required",
        ),
        (
            json!({"type": "threat-actor", "spec_version": "2.1", "id": format!("threat-actor--{}", uuid(12)), "created": ts, "modified": ts}),
            "name is required",
        ),
        (
            json!({"type": "intrusion-set", "spec_version": "2.1", "id": format!("intrusion-set--{}", uuid(13)), "created": ts, "modified": ts}),
            "name is required",
        ),
        (
            json!({"type": "attack-pattern", "spec_version": "2.1", "id": format!("attack-pattern--{}", uuid(14)), "created": ts, "modified": ts, "name": 5}),
            "name must be a string",
        ),
        (
            json!({"type": "course-of-action", "spec_version": "2.1", "id": format!("course-of-action--{}", uuid(15)), "created": ts, "modified": ts}),
            "name is required",
        ),
        (
            json!({"type": "report", "spec_version": "2.1", "id": format!("report--{}", uuid(16)), "created": ts, "modified": ts, "name": "r", "published": ts, "object_refs": []}),
            "object_refs must not be empty",
        ),
        (
            json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--{}", uuid(17)), "created": ts, "modified": ts,
                "relationship_type": "indicates", "source_ref": format!("indicator--{UUID}")}),
            "target_ref is required",
        ),
        (
            json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--{}", uuid(18)), "created": ts, "modified": ts,
                "relationship_type": "Indicates", "source_ref": format!("indicator--{UUID}"), "target_ref": format!("malware--{UUID}")}),
            "relationship_type \"Indicates\" must be lower-case",
        ),
        (
            json!({"type": "identity", "spec_version": "2.1", "id": format!("identity--{}", uuid(19)), "created": ts, "modified": ts}),
            "name is required",
        ),
        (
            json!({"type": "marking-definition", "spec_version": "2.1", "id": format!("marking-definition--{}", uuid(20)), "created": ts,
                "definition_type": "tlp", "definition": {"tlp": "purple"}}),
            "a tlp definition needs tlp: white, green, amber or red",
        ),
        (
            json!({"type": "marking-definition", "spec_version": "2.1", "id": TLP1_WHITE, "created": ts,
                "definition_type": "tlp", "definition": {"tlp": "red"}}),
            "is the TLP:CLEAR marking but says \"red\"",
        ),
        (
            json!({"type": "Indicator", "id": "x"}),
            "type \"Indicator\" must be",
        ),
    ];
    let valid = [
        good_indicator(),
        json!({"type": "ipv4-addr", "id": format!("ipv4-addr--{}", uuid(100)), "value": "198.51.100.0/24"}),
        json!({"type": "file", "id": format!("file--{}", uuid(101)), "hashes": {"SHA256": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}),
        Tlp::AmberStrict.marking_definition(),
        json!({"type": "x-custom-thing", "spec_version": "2.1", "id": format!("x-custom-thing--{}", uuid(102)), "created": ts, "modified": ts}),
    ];
    let mut objects: Vec<Value> = cases.iter().map(|(o, _)| o.clone()).collect();
    objects.extend(valid.iter().cloned());
    let bundle =
        json!({"type": "bundle", "id": format!("bundle--{}", uuid(999)), "objects": objects});
    let report = parse_bundle(bundle.to_string().as_bytes(), Limits::default()).unwrap();
    assert_eq!(report.accepted.len(), valid.len(), "{:#?}", report.rejected);
    assert_eq!(report.rejected.len(), cases.len());
    for ((id, msg), (obj, rule)) in report.rejected.iter().zip(&cases) {
        assert!(msg.contains(rule), "expected {rule:?} in {msg:?}");
        assert_eq!(id.as_deref(), obj["id"].as_str());
        if let Some(id) = id {
            assert!(msg.starts_with(id.as_str()), "{msg} names its object");
        }
        // Only the rule that was broken.
        assert!(!msg.contains("; "), "one violation expected: {msg}");
    }
}

#[test]
fn bundle_level_errors_and_limits() {
    let one = json!({"type": "bundle", "id": format!("bundle--{UUID}"), "objects": [good_indicator(), good_indicator()]}).to_string();
    let ok = parse_bundle(one.as_bytes(), Limits::default()).unwrap();
    assert_eq!(ok.accepted.len(), 2);
    assert_eq!(
        ok.bundle_id.as_deref(),
        Some(format!("bundle--{UUID}").as_str())
    );
    assert_eq!(
        parse_bundle(
            one.as_bytes(),
            Limits {
                max_bytes: 100,
                max_objects: 10
            }
        )
        .unwrap_err(),
        BundleError::TooLarge {
            size: one.len(),
            max: 100
        }
    );
    assert_eq!(
        parse_bundle(
            one.as_bytes(),
            Limits {
                max_bytes: 1 << 20,
                max_objects: 1
            }
        )
        .unwrap_err(),
        BundleError::TooManyObjects { count: 2, max: 1 }
    );
    assert!(matches!(
        parse_bundle(b"{not json", Limits::default()),
        Err(BundleError::Json(_))
    ));
    assert!(matches!(
        parse_bundle(b"[1]", Limits::default()),
        Err(BundleError::NotABundle(_))
    ));
    let bad_id = json!({"type": "bundle", "id": "bundle--1", "objects": []}).to_string();
    assert!(matches!(
        parse_bundle(bad_id.as_bytes(), Limits::default()),
        Err(BundleError::NotABundle(_))
    ));
    // A bare object is a bundle of one.
    let bare = parse_bundle(good_indicator().to_string().as_bytes(), Limits::default()).unwrap();
    assert_eq!((bare.bundle_id, bare.accepted.len()), (None, 1));
}

#[test]
fn tlp_reading_and_ordering() {
    assert!(Tlp::Clear < Tlp::Green && Tlp::Green < Tlp::Amber);
    assert!(Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
    assert_eq!(
        Tlp::from_marking_refs([TLP2_GREEN, TLP2_AMBER_STRICT]),
        Some(Tlp::AmberStrict)
    );
    assert_eq!(Tlp::from_marking_refs([TLP1_WHITE]), Some(Tlp::Clear));
    assert_eq!(
        Tlp::from_marking_refs([TLP1_AMBER, TLP2_GREEN]),
        Some(Tlp::Amber)
    );
    assert_eq!(
        Tlp::from_marking_refs(["marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"]),
        None
    );
    assert_eq!(Tlp::effective([]), Tlp::Amber);
    assert_eq!(Tlp::effective([TLP2_RED]), Tlp::Red);

    // Sharing: up to the partner's maximum, never RED.
    assert!(may_share(Tlp::Clear, Tlp::Clear));
    assert!(may_share(Tlp::Green, Tlp::Amber));
    assert!(!may_share(Tlp::Amber, Tlp::Green));
    assert!(may_share(Tlp::AmberStrict, Tlp::AmberStrict));
    assert!(!may_share(Tlp::AmberStrict, Tlp::Amber));
    for partner in Tlp::ALL {
        assert!(!may_share(Tlp::Red, partner), "RED never leaves its owner");
    }

    // The official TLP 2.0 ids (OASIS cti-stix-common-objects).
    let ids: Vec<&str> = Tlp::ALL.iter().map(|t| t.marking_id()).collect();
    assert_eq!(
        ids,
        [
            "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        ]
    );
}
