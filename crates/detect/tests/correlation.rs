//! Sigma correlation rules evaluated on a stream of events: the specification's own
//! example (many failed logins followed by a successful one), `value_count`, and
//! `generate`.

use haechi_detect::hunt::Detector;
use haechi_detect::rules::load_rules;
use haechi_event::{Event, Timestamp};
use std::sync::Arc;

/// The example of the Sigma correlation specification (v2.0.2, "Failed Logins Followed
/// by Successful Login"), with the failed-login threshold at 3.
const BRUTE_FORCE: &str = r#"
title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
author: Florian Roth (Nextron Systems)
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 3
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
"#;

const SPRAY: &str = r#"
title: Password spray from one source
id: 0e95725d-7320-415d-80f7-004da920fc12
correlation:
    type: value_count
    rules:
        - failed_login
    group-by:
        - IpAddress
    timespan: 1h
    condition:
        field: User
        gte: 3
level: medium
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
level: low
"#;

fn detector(yaml: &str) -> Detector {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.yml");
    std::fs::write(&path, yaml).unwrap();
    let set = load_rules(&[path]).unwrap();
    assert!(set.failures.is_empty(), "{:?}", set.failures);
    let (detector, failures) = Detector::new(&set);
    assert!(failures.is_empty(), "{failures:?}");
    detector
}

fn logon(second: i64, code: u32, user: &str, ip: &str) -> Event {
    let mut e = Event::new(
        Timestamp(1_700_000_000_000_000_000 + second * 1_000_000_000),
        Arc::from("t1"),
        6,
    );
    e.push("winlog.channel", "Security");
    e.push("event.code", code.to_string());
    e.push("Event.System.EventID", code.to_string());
    e.push("Event.EventData.User", user);
    e.push("Event.EventData.IpAddress", ip);
    e
}

/// Rule ids that fire on each event in turn.
fn run(detector: &Detector, events: &[Event]) -> Vec<Vec<String>> {
    events
        .iter()
        .map(|e| {
            detector
                .detect(e, 0)
                .iter()
                .map(|d| d.rule.id.clone())
                .collect()
        })
        .collect()
}

#[test]
fn failed_logins_then_success_fires_the_ordered_correlation_once_the_chain_completes() {
    let d = detector(BRUTE_FORCE);
    let events = [
        logon(0, 4625, "bob", "10.0.0.9"),
        logon(10, 4625, "bob", "10.0.0.9"),
        logon(20, 4625, "bob", "10.0.0.9"),
        logon(30, 4624, "bob", "10.0.0.9"),
    ];
    let fired = run(&d, &events);
    // Referenced rules, the chained `event_count` correlation included, do not alert on
    // their own (`generate` defaults to false).
    assert!(fired[..3].concat().is_empty(), "{fired:?}");
    assert_eq!(
        fired[3],
        ["b180ead8-d58f-40b2-ae54-c8940995b9b6"],
        "the success after the failures completes the ordered chain"
    );
    let last = d.detect(&logon(31, 4624, "bob", "10.0.0.9"), 0);
    let facts = last
        .iter()
        .find_map(|x| x.correlation.clone())
        .expect("correlation facts");
    assert_eq!(facts.group, [("User".to_owned(), "bob".to_owned())]);
    assert_eq!(facts.timespan_secs, 600);
    assert_eq!(
        last[0].rule.author.as_deref(),
        Some("Florian Roth (Nextron Systems)"),
        "attribution is kept for correlation alerts"
    );
}

#[test]
fn success_before_failures_or_for_another_user_or_outside_the_timespan_does_not_fire() {
    let d = detector(BRUTE_FORCE);
    let wrong_order = [
        logon(0, 4624, "amy", "10.0.0.9"),
        logon(1, 4625, "amy", "10.0.0.9"),
        logon(2, 4625, "amy", "10.0.0.9"),
    ];
    let fired = run(&d, &wrong_order);
    assert!(
        !fired
            .concat()
            .contains(&"b180ead8-d58f-40b2-ae54-c8940995b9b6".to_owned()),
        "{fired:?}"
    );
    let other_user = [
        logon(0, 4625, "carl", "10.0.0.9"),
        logon(1, 4625, "carl", "10.0.0.9"),
        logon(2, 4625, "carl", "10.0.0.9"),
        logon(3, 4624, "dora", "10.0.0.9"),
    ];
    let fired = run(&d, &other_user);
    assert!(fired[3].is_empty(), "{fired:?}");
    let slow = [
        logon(0, 4625, "eve", "10.0.0.9"),
        logon(400, 4625, "eve", "10.0.0.9"),
        logon(800, 4625, "eve", "10.0.0.9"),
    ];
    let fired = run(&d, &slow);
    assert!(
        fired.concat().is_empty(),
        "three failures over 800 s are not three within 10 minutes: {fired:?}"
    );
}

#[test]
fn value_count_counts_distinct_users_per_source_address() {
    let d = detector(SPRAY);
    let events = [
        logon(0, 4625, "u1", "192.0.2.7"),
        logon(1, 4625, "u1", "192.0.2.7"),
        logon(2, 4625, "u2", "192.0.2.7"),
        logon(3, 4625, "u9", "198.51.100.1"),
        logon(4, 4625, "u3", "192.0.2.7"),
    ];
    let fired = run(&d, &events);
    assert!(
        fired[..4].concat().is_empty(),
        "two distinct users are not three: {fired:?}"
    );
    assert_eq!(fired[4], ["0e95725d-7320-415d-80f7-004da920fc12"]);
    let facts = d
        .detect(&logon(5, 4625, "u4", "192.0.2.7"), 0)
        .into_iter()
        .find_map(|x| x.correlation)
        .expect("still above the threshold");
    assert_eq!(facts.kind, "valuecount");
    assert_eq!(
        facts.group,
        [("IpAddress".to_owned(), "192.0.2.7".to_owned())]
    );
    assert!(facts.value >= 4.0, "{}", facts.value);
}

#[test]
fn a_correlation_naming_a_missing_rule_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yml");
    std::fs::write(
        &path,
        "title: orphan\nid: 11111111-0000-0000-0000-000000000001\ncorrelation:\n  type: event_count\n  rules: [nowhere]\n  group-by: [User]\n  timespan: 5m\n  condition: {gte: 2}\n",
    )
    .unwrap();
    let set = load_rules(&[path]).unwrap();
    let (_, failures) = Detector::new(&set);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].reason.contains("nowhere"),
        "{}",
        failures[0].reason
    );
}

#[test]
fn generate_true_keeps_the_referenced_rules_alerting() {
    let d = detector(&SPRAY.replace("level: medium\n", "level: medium\ngenerate: true\n"));
    let fired = run(&d, &[logon(0, 4625, "u1", "192.0.2.7")]);
    assert_eq!(fired[0], ["53ba33fd-3a50-4468-a5ef-c583635cfa92"]);
}

#[test]
fn counts_never_mix_two_institutions() {
    let d = detector(SPRAY);
    let at = |tenant: &str, second: i64, user: &str| {
        let mut e = logon(second, 4625, user, "192.0.2.7");
        e.tenant = Arc::from(tenant);
        e
    };
    let fired = run(
        &d,
        &[at("t1", 0, "u1"), at("t1", 1, "u2"), at("t2", 2, "u3")],
    );
    assert!(
        fired.concat().is_empty(),
        "two users at t1 and one at t2 are not three at either: {fired:?}"
    );
    let fired = run(&d, &[at("t1", 3, "u4")]);
    assert_eq!(fired[0], ["0e95725d-7320-415d-80f7-004da920fc12"]);
}
