//! What Haechi builds passes the OASIS STIX 2.1 validator (`stix2-validator` 3.2.0 from
//! PyPI, installed by `scripts/setup-test-tools`). This test fails — it does not skip —
//! when the validator is missing.

use chrono::{TimeZone, Utc};
use haechi_intel::{
    Limits, Tlp, bundle, identity, indicator_from_value, parse_bundle, tlp_marking,
};
use haechi_ioc::IndicatorKind;
use std::process::Command;

/// Runs the validator on a file: (passed, its report). The package has no `__main__`, so
/// its library entry point is called (the `stix2_validator` script does the same).
fn oasis_validate(path: &std::path::Path) -> (bool, String) {
    let script = "import sys\n\
        from stix2validator import validate_file, print_results\n\
        r = validate_file(sys.argv[1])\n\
        print_results(r)\n\
        sys.exit(0 if r.is_valid else 1)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .expect("python3 is needed to run the OASIS stix2-validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("No module named"),
        "the OASIS stix2-validator is not installed: run scripts/setup-test-tools\n{text}"
    );
    (out.status.success(), text)
}

#[test]
fn built_objects_pass_the_oasis_validator() {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
    let org = identity("Haechi test institution", "organization", now).unwrap();
    let by = Some(org.id.as_str());
    let values = [
        (IndicatorKind::Ip, "198.51.100.7", Tlp::Green),
        (IndicatorKind::Ip, "2001:db8::7", Tlp::Amber),
        (IndicatorKind::Cidr, "203.0.113.0/24", Tlp::Clear),
        (IndicatorKind::IpPort, "198.51.100.7:8443", Tlp::AmberStrict),
        (IndicatorKind::Domain, "evil.example.com", Tlp::Red),
        (
            IndicatorKind::Url,
            "http://evil.example.com/it's/gate.php?a=1",
            Tlp::Green,
        ),
        (
            IndicatorKind::Md5,
            "d41d8cd98f00b204e9800998ecf8427e",
            Tlp::Green,
        ),
        (
            IndicatorKind::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            Tlp::Green,
        ),
        (
            IndicatorKind::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            Tlp::Green,
        ),
        (IndicatorKind::Email, "phish@evil.example.com", Tlp::Amber),
    ];
    let mut objects = vec![org.clone()];
    objects.extend(Tlp::ALL.iter().map(|&t| tlp_marking(t)));
    for (kind, value, tlp) in values {
        let ind = indicator_from_value(kind, value, tlp, by, now).unwrap();
        assert_eq!(ind.tlp(), Some(tlp));
        assert_eq!(ind.created_by_ref.as_deref(), by);
        objects.push(ind);
    }
    // Without a creator too.
    objects.push(
        indicator_from_value(
            IndicatorKind::Domain,
            "x.example.net",
            Tlp::Clear,
            None,
            now,
        )
        .unwrap(),
    );
    let text = bundle(&objects);

    // Haechi reads back what it wrote.
    let report = parse_bundle(text.as_bytes(), Limits::default()).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.accepted.len(), objects.len());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haechi-bundle.json");
    std::fs::write(&path, &text).unwrap();
    let (ok, output) = oasis_validate(&path);
    assert!(
        ok,
        "stix2-validator refused Haechi's bundle:\n{output}\n{text}"
    );
    // Not even a SHOULD is missed.
    assert!(!output.contains("Warning"), "{output}");
}

#[test]
fn the_validator_does_reject_a_broken_bundle() {
    // The check above means something only if the validator can fail.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(
        &path,
        r#"{"type": "bundle", "id": "bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "objects": [
            {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
             "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
             "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z"}]}"#,
    )
    .unwrap();
    let (ok, output) = oasis_validate(&path);
    assert!(!ok, "a pattern-less indicator passed:\n{output}");
}

#[test]
fn bad_values_are_refused() {
    let now = Utc::now();
    assert!(indicator_from_value(IndicatorKind::Ip, "not-an-ip", Tlp::Green, None, now).is_err());
    assert!(
        indicator_from_value(
            IndicatorKind::Domain,
            "x.com",
            Tlp::Green,
            Some("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            now
        )
        .is_err()
    );
}

#[test]
fn a_shared_incident_passes_the_oasis_validator() {
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).unwrap();
    let facts = haechi_intel::IncidentFacts {
        title: "SSH brute force and C2 beacons from 203.0.113.66".into(),
        summary: "Campaign across city-hall, hospital and water-works; 14 alerts.".into(),
        indicators: vec![
            "203.0.113.66".into(),
            "update-check.example".into(),
            "not a value".into(),
        ],
        techniques: vec![
            ("T1110".into(), "Brute Force".into()),
            ("T1071.004".into(), "T1071.004".into()),
        ],
        response: vec![
            "203.0.113.66 blocked at the edge (block list edge)".into(),
            "Task done: reset the root password on db-01".into(),
        ],
    };
    let (objects, skipped) =
        haechi_intel::incident_objects(&facts, Tlp::Amber, "Haechi CERT", now).unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    let count = |t: &str| objects.iter().filter(|o| o.object_type == t).count();
    assert_eq!(count("indicator"), 2);
    assert_eq!(count("attack-pattern"), 2);
    assert_eq!(count("course-of-action"), 1);
    assert_eq!(count("relationship"), 2 * 2 + 2, "indicates and mitigates");
    assert_eq!(count("report"), 1);
    assert!(
        objects
            .iter()
            .filter(|o| o.object_type != "marking-definition")
            .all(|o| o.tlp() == Some(Tlp::Amber)),
        "every object carries the chosen TLP"
    );
    // A sighting of one of the indicators, as the hub records hits.
    let mut objects = objects;
    let center = format!("identity--{}", haechi_intel::uuid_from_digest(&[7u8; 32]));
    let indicator = objects
        .iter()
        .find(|o| o.object_type == "indicator")
        .unwrap()
        .id
        .clone();
    objects.push(haechi_intel::center_identity(&center, "Haechi control center").unwrap());
    objects.push(
        haechi_intel::sighting(
            &format!("sighting--{}", haechi_intel::uuid_from_digest(&[9u8; 32])),
            &indicator,
            &center,
            3,
            now,
            now + chrono::Duration::minutes(5),
            Tlp::Amber,
            now,
            now,
        )
        .unwrap(),
    );
    let text = bundle(&objects);
    let report = parse_bundle(text.as_bytes(), Limits::default()).unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incident-bundle.json");
    std::fs::write(&path, &text).unwrap();
    let (ok, output) = oasis_validate(&path);
    assert!(
        ok,
        "stix2-validator refused the incident bundle:\n{output}\n{text}"
    );
    assert!(!output.contains("Warning"), "{output}");
}
