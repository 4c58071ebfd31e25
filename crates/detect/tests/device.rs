//! The equipment's own detections as alerts: real records of each family of equipment,
//! parsed by the real parsers, become alerts of origin `device` with the mapped level,
//! the ATT&CK technique, the attacker, the victim and the observer; storms fold into
//! counts and nothing is lost.
//!
//! Suricata, Zeek and Defender records are real (`../shared/data`). There are no public
//! CEF, LEEF or FortiGate samples of good quality there: those records are the examples
//! of the format specifications (ArcSight CEF, IBM LEEF 2.0, the FortiOS log reference).

use haechi_detect::device::{DeviceConfig, DeviceRules, SeverityRule, TechniqueRule};
use haechi_event::{Alert, AlertSource, Event, Level, Timestamp};
use haechi_ingest::parsers::evtx::parse_evtx_file;
use haechi_ingest::{Format, ParseContext, new_parser};
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn parse(format: Format, lines: &[&str]) -> Vec<Event> {
    let ctx = ParseContext::new("seoul");
    let mut parser = new_parser(format);
    lines
        .iter()
        .filter_map(|l| parser.parse(l, &ctx).expect("a valid record"))
        .collect()
}

fn alerts(rules: &DeviceRules, events: &[Event]) -> Vec<Alert> {
    events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| rules.alert(e, &format!("e{i}")))
        .collect()
}

fn one(rules: &DeviceRules, format: Format, line: &str) -> Alert {
    let mut found = alerts(rules, &parse(format, &[line]));
    assert_eq!(found.len(), 1, "one alert for {line}: {found:#?}");
    found.remove(0)
}

fn detail<'a>(a: &'a Alert, key: &str) -> &'a serde_json::Value {
    a.details
        .get(key)
        .unwrap_or_else(|| panic!("details.{key} in {:#?}", a.details))
}

#[test]
fn a_suricata_et_alert_becomes_a_high_device_alert_with_its_technique() {
    let text = std::fs::read_to_string(Path::new(DATA).join("logs/suricata/mssis_eve.json"))
        .expect("the Suricata sample");
    let line = text
        .lines()
        .find(|l| l.contains("\"signature_id\":2049067"))
        .expect("the IcedID DNS alert");
    let a = one(&DeviceRules::default(), Format::Suricata, line);
    assert_eq!(a.source, AlertSource::Device);
    assert_eq!(a.rule_id, "device:suricata:2049067");
    assert_eq!(
        a.rule_title,
        "ET MALWARE DNS Query to IcedID Domain (grafielucho .com)"
    );
    assert_eq!(a.level, Level::High, "Suricata severity 1");
    assert_eq!(
        a.tags,
        ["attack.t1071"],
        "classtype 'A Network Trojan was detected'"
    );
    assert_eq!(a.entity, "source.ip=10.10.31.101");
    assert_eq!(detail(&a, "attacker"), "10.10.31.101");
    assert_eq!(detail(&a, "victim"), "10.10.31.1");
    assert_eq!(detail(&a, "signature_id"), "2049067");
    assert_eq!(detail(&a, "severity"), "1");
    assert_eq!(detail(&a, "observer")["vendor"], "OISF");
    assert_eq!(detail(&a, "observer")["product"], "Suricata");
    assert_eq!(a.events[0].id, "e0");
    assert_eq!(a.tenant, "seoul");
}

#[test]
fn a_technique_the_rule_names_itself_wins_over_the_table() {
    let line = r#"{"timestamp":"2024-03-01T10:00:00.000000+0000","event_type":"alert","src_ip":"203.0.113.9","src_port":4444,"dest_ip":"192.0.2.10","dest_port":443,"proto":"TCP","host":"ids-3","alert":{"action":"allowed","gid":1,"signature_id":2030000,"rev":1,"signature":"ET EXPLOIT test","category":"Web Application Attack","severity":2,"metadata":{"mitre_technique_id":["T1059_001"]},"source":{"ip":"203.0.113.9","port":4444},"target":{"ip":"192.0.2.10","port":443}}}"#;
    let a = one(&DeviceRules::default(), Format::Suricata, line);
    assert_eq!(a.tags, ["attack.t1059.001"]);
    assert_eq!(a.level, Level::Medium);
    assert_eq!(detail(&a, "observer")["hostname"], "ids-3");
    assert_eq!(a.author.as_deref(), Some("ids-3"), "the device that saw it");
}

#[test]
fn suricata_flows_and_dns_records_raise_nothing() {
    let text = std::fs::read_to_string(Path::new(DATA).join("logs/suricata/mssis_eve.json"))
        .expect("the Suricata sample");
    let lines: Vec<&str> = text.lines().collect();
    let events = parse(Format::Suricata, &lines);
    let raised = alerts(&DeviceRules::default(), &events);
    let alert_records = lines
        .iter()
        .filter(|l| l.contains("\"event_type\":\"alert\""))
        .count();
    assert_eq!(raised.len(), alert_records, "one per EVE alert, none else");
    assert!(alert_records < lines.len());
}

#[test]
fn zeek_notices_map_by_their_type() {
    let text =
        std::fs::read_to_string(Path::new(DATA).join("logs/zeek/brimdata-wrccdc2018/notice.log"))
            .expect("the Zeek notice log");
    let lines: Vec<&str> = text.lines().collect();
    let events = parse(Format::Zeek, &lines);
    let raised = alerts(&DeviceRules::default(), &events);
    assert_eq!(raised.len(), 207, "every notice of the log");
    let a = &raised[0];
    assert_eq!(a.rule_id, "device:zeek:SSL::Invalid_Server_Cert");
    assert_eq!(a.rule_title, "SSL::Invalid_Server_Cert");
    assert_eq!(a.level, Level::Low, "an invalid certificate is low");
    assert!(
        detail(a, "message")
            .as_str()
            .unwrap()
            .starts_with("SSL certificate validation failed"),
        "the notice's msg is kept: {:#?}",
        a.details
    );
    assert_eq!(detail(a, "observer")["product"], "Zeek");
}

#[test]
fn a_port_scan_notice_is_discovery() {
    let log = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tnote\tmsg\tsrc\tdst\tp\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\taddr\taddr\tport\n1700000000.0\t-\t-\t-\t-\t-\tScan::Port_Scan\t198.51.100.7 scanned at least 15 unique ports of host 192.0.2.5 in 0m2s\t198.51.100.7\t192.0.2.5\t-";
    let lines: Vec<&str> = log.lines().collect();
    let raised = alerts(&DeviceRules::default(), &parse(Format::Zeek, &lines));
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].tags, ["attack.t1046"]);
    assert_eq!(raised[0].level, Level::Medium);
    assert_eq!(raised[0].entity, "source.ip=198.51.100.7");
}

/// The FortiOS log reference's IPS example.
const FORTIGATE_IPS: &str = r#"date=2019-05-13 time=11:20:54 logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" devname="fgt-seoul-1" devid="FGT60E0000000000" srcip=10.1.100.22 dstip=172.16.200.55 proto=6 action="dropped" policyid=1 attack="Adobe.Flash.newfunction.Handling.Code.Execution" attackid=40138 severity="critical""#;

#[test]
fn fortigate_ips_virus_and_waf_logs_are_device_alerts() {
    let rules = DeviceRules::default();
    let ips = one(&rules, Format::Kv, FORTIGATE_IPS);
    assert_eq!(ips.rule_id, "device:fortigate:40138");
    assert_eq!(
        ips.rule_title,
        "Adobe.Flash.newfunction.Handling.Code.Execution"
    );
    assert_eq!(ips.level, Level::Critical);
    assert_eq!(detail(&ips, "action"), "dropped");
    assert_eq!(detail(&ips, "observer")["vendor"], "Fortinet");
    assert_eq!(detail(&ips, "observer")["name"], "fgt-seoul-1");
    assert_eq!(ips.author.as_deref(), Some("fgt-seoul-1"));

    let virus = one(
        &rules,
        Format::Kv,
        r#"date=2019-05-13 time=14:10:27 logid="0211008192" type="utm" subtype="virus" eventtype="infected" level="warning" devname="fgt-seoul-1" devid="FGT60E0000000000" srcip=10.1.100.11 dstip=172.16.200.55 srcport=44356 dstport=80 proto=6 service="HTTP" action="blocked" direction="incoming" filename="eicar.com" virus="EICAR_TEST_FILE" virusid=2172 crlevel="low""#,
    );
    assert_eq!(virus.rule_id, "device:fortigate:2172");
    assert_eq!(virus.rule_title, "EICAR_TEST_FILE");
    assert_eq!(virus.level, Level::Low, "crlevel");
    assert_eq!(virus.tags, ["attack.t1204"]);

    let waf = one(
        &rules,
        Format::Kv,
        r#"date=2019-05-13 time=16:00:01 logid="1200030248" type="utm" subtype="waf" eventtype="waf-signature" level="warning" devname="fgt-seoul-1" devid="FGT60E0000000000" srcip=203.0.113.40 dstip=192.0.2.80 proto=6 action="blocked" severity="high" msg="SQL Injection" eventid=100000013"#,
    );
    assert_eq!(waf.level, Level::High);
    assert_eq!(waf.tags, ["attack.t1190"]);
    assert_eq!(detail(&waf, "attacker"), "203.0.113.40");

    // Application control: what it only saw is an event, what it blocked a detection.
    let seen = r#"date=2019-05-13 time=16:05:00 logid="1059028704" type="utm" subtype="app-ctrl" eventtype="signature" level="information" devid="FGT60E0000000000" srcip=10.1.100.11 dstip=192.0.2.1 proto=6 action="pass" app="HTTP.BROWSER" apprisk="elevated""#;
    assert!(alerts(&rules, &parse(Format::Kv, &[seen])).is_empty());
    let blocked = seen.replace("action=\"pass\"", "action=\"block\"");
    assert_eq!(alerts(&rules, &parse(Format::Kv, &[&blocked])).len(), 1);
}

#[test]
fn cef_and_leef_alert_from_their_severity() {
    let rules = DeviceRules::default();
    // ArcSight CEF specification's example.
    let worm = one(
        &rules,
        Format::Cef,
        "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232",
    );
    assert_eq!(worm.rule_id, "device:security-threatmanager:100");
    assert_eq!(worm.rule_title, "worm successfully stopped");
    assert_eq!(worm.level, Level::Critical, "CEF 10 is very high");
    assert_eq!(detail(&worm, "attacker"), "10.0.0.1");
    assert_eq!(detail(&worm, "victim"), "2.1.2.2");
    assert_eq!(detail(&worm, "observer")["product"], "threatmanager");

    let medium =
        "CEF:0|Security|threatmanager|1.0|101|port scan detected|5|src=10.0.0.1 dst=2.1.2.2";
    let a = one(&rules, Format::Cef, medium);
    assert_eq!(a.level, Level::Medium);
    assert_eq!(a.tags, ["attack.t1046"]);
    let traffic =
        "CEF:0|Security|threatmanager|1.0|102|connection accepted|3|src=10.0.0.1 dst=2.1.2.2";
    assert!(
        alerts(&rules, &parse(Format::Cef, &[traffic])).is_empty(),
        "a low CEF record is an event, not a detection"
    );

    // IBM LEEF 2.0 specification's example, with a severity of 5.
    let leef = one(
        &rules,
        Format::Leef,
        "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21",
    );
    assert_eq!(leef.rule_id, "device:lancope-stealthwatch:41");
    assert_eq!(leef.level, Level::Medium);
}

#[test]
fn defender_detections_in_a_real_evtx_name_the_threat_and_the_host() {
    let path = Path::new(DATA)
        .join("evtx/EVTX-to-MITRE-Attack/Antivirus/ID1116-1117-Defender threat detected.evtx");
    let mut events = Vec::new();
    parse_evtx_file(&path, &ParseContext::new("seoul"), &mut |r| {
        events.push(r.expect("a valid record"))
    })
    .expect("the EVTX file");
    let raised = alerts(&DeviceRules::default(), &events);
    assert_eq!(raised.len(), 6, "every 1116 and 1117 record");
    let mimikatz = raised
        .iter()
        .find(|a| a.rule_title == "HackTool:Win32/Mimikatz.D")
        .expect("the Mimikatz detection");
    assert_eq!(mimikatz.rule_id, "device:defender:2147729891");
    assert_eq!(mimikatz.level, Level::High, "Severity Name: High");
    assert_eq!(mimikatz.tags, ["attack.t1003.001"]);
    assert_eq!(detail(mimikatz, "victim"), "WIN10-client01.offsec.lan");
    assert_eq!(detail(mimikatz, "category"), "Tool");
}

#[test]
fn configured_rows_come_before_the_built_in_tables() {
    let config = DeviceConfig {
        severity: vec![SeverityRule {
            scale: "suricata".into(),
            severity: "1".into(),
            level: "critical".into(),
        }],
        techniques: vec![TechniqueRule {
            scale: Some("fortigate".into()),
            category: None,
            signature: Some("adobe.flash".into()),
            technique: "T1203".into(),
        }],
        ..DeviceConfig::default()
    };
    let rules = DeviceRules::new(&config).expect("a valid configuration");
    let text = std::fs::read_to_string(Path::new(DATA).join("logs/suricata/mssis_eve.json"))
        .expect("the Suricata sample");
    let line = text
        .lines()
        .find(|l| l.contains("\"signature_id\":2049067"))
        .unwrap();
    assert_eq!(one(&rules, Format::Suricata, line).level, Level::Critical);
    assert_eq!(
        one(&rules, Format::Kv, FORTIGATE_IPS).tags,
        ["attack.t1203"]
    );

    let off = DeviceRules::new(&DeviceConfig {
        enabled: false,
        ..DeviceConfig::default()
    })
    .unwrap();
    assert!(alerts(&off, &parse(Format::Kv, &[FORTIGATE_IPS])).is_empty());
}

#[test]
fn a_bad_table_row_is_refused_with_its_reason() {
    let bad_level = DeviceConfig {
        severity: vec![SeverityRule {
            scale: "cef".into(),
            severity: "7-8".into(),
            level: "severe".into(),
        }],
        ..DeviceConfig::default()
    };
    let e = DeviceRules::new(&bad_level).unwrap_err();
    assert!(e.contains("cef/7-8") && e.contains("severe"), "{e}");
    let backwards = DeviceConfig {
        severity: vec![SeverityRule {
            scale: "cef".into(),
            severity: "8-7".into(),
            level: "high".into(),
        }],
        ..DeviceConfig::default()
    };
    assert!(
        DeviceRules::new(&backwards)
            .unwrap_err()
            .contains("backwards")
    );
    let bad_technique = DeviceConfig {
        techniques: vec![TechniqueRule {
            scale: None,
            category: Some("trojan".into()),
            signature: None,
            technique: "lateral".into(),
        }],
        ..DeviceConfig::default()
    };
    assert!(
        DeviceRules::new(&bad_technique)
            .unwrap_err()
            .contains("not an ATT&CK technique id")
    );
}

/// `n` detections of the IPS signature from `sources` distinct attackers.
fn flood(rules: &DeviceRules, n: usize, sources: usize) -> Vec<Alert> {
    (0..n)
        .map(|i| {
            let ip = format!("198.51.{}.{}", (i % sources) / 250, (i % sources) % 250 + 1);
            let line = FORTIGATE_IPS.replace("srcip=10.1.100.22", &format!("srcip={ip}"));
            let mut a = alerts(rules, &parse(Format::Kv, &[&line])).remove(0);
            a.events[0].id = format!("e{i}");
            a
        })
        .collect()
}

#[test]
fn a_storm_folds_into_counts_and_nothing_is_lost() {
    let rules = DeviceRules::default();
    let now = Timestamp::now();

    // One signature from one source: one alert with the whole count.
    let same = rules.fold(flood(&rules, 1_000, 1), now);
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].count, 1_000);
    assert_eq!(same[0].events.len(), haechi_event::alert::MAX_EVENT_REFS);

    // 150 attackers in a minute: 100 alerts of their own (the ceiling), the other 50
    // counted in one storm alert of the device; every detection is in some count.
    let rules = DeviceRules::default();
    let spread = rules.fold(flood(&rules, 600, 150), now);
    let storm: Vec<&Alert> = spread
        .iter()
        .filter(|a| a.details.get("storm").is_some())
        .collect();
    assert_eq!(storm.len(), 1, "{spread:#?}");
    assert_eq!(storm[0].entity, "observer=fgt-seoul-1");
    assert_eq!(spread.len(), 101);
    assert_eq!(spread.iter().map(|a| a.count).sum::<u64>(), 600);
    assert_eq!(rules.storm_folded(), 200, "50 attackers × 4 detections");

    // A later batch in the same minute: the admitted attackers keep their own alerts.
    let later = rules.fold(flood(&rules, 150, 150), now);
    assert_eq!(later.len(), 101);

    // The next minute starts over.
    let next = Timestamp(now.0 + 61_000_000_000);
    let fresh = rules.fold(flood(&rules, 150, 150), next);
    assert_eq!(
        fresh
            .iter()
            .filter(|a| a.details.get("storm").is_none())
            .count(),
        100
    );
}

#[test]
fn an_outbound_beacon_names_the_outside_end_as_the_attacker() {
    let beacon = r#"{"timestamp":"2024-03-01T10:00:00.000000+0000","event_type":"alert","src_ip":"10.30.0.44","src_port":49152,"dest_ip":"203.0.113.66","dest_port":443,"proto":"TCP","host":"ids-hospital","alert":{"action":"allowed","gid":1,"signature_id":2027000,"rev":1,"signature":"ET MALWARE Cobalt Strike Beacon Observed","category":"A Network Trojan was detected","severity":1}}"#;
    let a = one(&DeviceRules::default(), Format::Suricata, beacon);
    assert_eq!(detail(&a, "attacker"), "203.0.113.66", "the C2 server");
    assert_eq!(detail(&a, "victim"), "10.30.0.44", "the beaconing host");
    assert_eq!(a.entity, "destination.ip=203.0.113.66");
    // An attack from outside keeps its source as the attacker.
    let inbound = beacon
        .replace("\"src_ip\":\"10.30.0.44\"", "\"src_ip\":\"198.51.100.9\"")
        .replace("\"dest_ip\":\"203.0.113.66\"", "\"dest_ip\":\"10.30.0.44\"");
    let b = one(&DeviceRules::default(), Format::Suricata, &inbound);
    assert_eq!(detail(&b, "attacker"), "198.51.100.9");
    assert_eq!(b.entity, "source.ip=198.51.100.9");
}
