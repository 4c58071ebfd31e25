//! ICS captures as Wireshark writes them (`tshark -T ek`, the `.ek.jsonl.zst` files next to
//! every capture of `ot/`): recognised by `--format auto`, read compressed, mapped to the
//! `ics.*` fields with the right function, direction, client and server; the protocol-
//! neutral rules of `rules/ot` alert on state-changing operations and stay quiet on
//! read-only captures; the OT model learns and checks tshark records like Zeek's.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const ITI: &str = "ot/iti_ics_security_tools/pcaps";
const ICSNPP: &str = "ot/icsnpp";

fn ek(relative: &str) -> PathBuf {
    sample(&format!("{relative}.ek.jsonl.zst"))
}

fn pack() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/ot")
}

/// Rule title → (detections, level, tags), for one hunt over `file`.
fn hunt(file: &Path) -> BTreeMap<String, (usize, String, Vec<String>)> {
    let pack = pack();
    let out = haechi(&[
        "hunt",
        "--rules",
        pack.to_str().unwrap(),
        "--json",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let mut by_rule = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let d: Value = serde_json::from_str(line).unwrap();
        let tags = d["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        let e = by_rule
            .entry(d["rule_title"].as_str().unwrap().to_owned())
            .or_insert((0, d["level"].as_str().unwrap().to_owned(), tags));
        e.0 += 1;
    }
    by_rule
}

fn ingest(data: &Path, files: &[&Path]) -> String {
    let mut args = vec!["ingest", "--data-dir", data.to_str().unwrap()];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    let out = haechi(&args);
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

fn first(data: &Path, query: &str) -> Value {
    search_events(data, &["--from", "2000-01-01"], query)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no event matches {query}"))
}

#[test]
fn tshark_packets_of_every_ics_protocol_map_to_the_ics_fields() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = [
        ek(&format!("{ITI}/s7/snap7_s300_stop.pcapng")),
        ek(&format!("{ITI}/ModbusTCP/Modbus/modbus_test.pcap")),
        ek(&format!("{ICSNPP}/dnp3/testing/traces/dnp3_example.pcap")),
        ek(&format!(
            "{ICSNPP}/enip/tests/traces/set_attribute_single_service_cip.pcapng"
        )),
        ek(&format!(
            "{ICSNPP}/bacnet/testing/traces/bacnet_services.pcap"
        )),
        ek(&format!(
            "{ICSNPP}/opcua-binary/pcaps/open62541_client-server_minimal.pcap"
        )),
    ];
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let report = ingest(&data, &refs);
    assert!(report.contains("dead-lettered 0"), "{report}");
    assert!(report.contains("tshark"), "{report}");

    // S7comm: the PLC stop job, from the engineering station to the PLC.
    let stop = first(
        &data,
        "ics.protocol:s7comm AND ics.function.code:41 AND ics.direction:request",
    );
    assert_eq!(field(&stop, "ics.function.name"), Some("PLC Stop"));
    assert_eq!(field(&stop, "ics.operation"), Some("mode_change"));
    assert_eq!(stop["ics.state_changing"], Value::Bool(true));
    assert_eq!(field(&stop, "ics.direction"), Some("request"));
    assert_eq!(field(&stop, "event.module"), Some("tshark"));
    assert_eq!(field(&stop, "network.protocol"), Some("s7comm"));
    assert_eq!(stop["server.port"], 102);
    assert_eq!(field(&stop, "client.ip"), field(&stop, "source.ip"));
    assert_eq!(field(&stop, "s7comm.param_func"), Some("0x29"));

    // Modbus: a register write with its unit, address and the names Zeek uses; the reply
    // names the same client and server.
    let write = first(
        &data,
        "ics.function.name:WRITE_SINGLE_REGISTER AND ics.direction:request",
    );
    assert_eq!(field(&write, "ics.operation"), Some("write"));
    assert_eq!(field(&write, "client.ip"), Some("192.168.0.156"));
    assert_eq!(write["server.port"], 502);
    assert!(write.get("ics.unit_id").is_some() && write.get("ics.address").is_some());
    assert_eq!(field(&write, "modbus.func_code"), Some("6"));
    let reply = first(
        &data,
        "ics.function.name:WRITE_SINGLE_REGISTER AND ics.direction:response",
    );
    assert_eq!(field(&reply, "client.ip"), Some("192.168.0.156"));
    assert_eq!(field(&reply, "source.ip"), field(&reply, "server.ip"));

    // DNP3: an operate (control) from the master; the outstation's RESPONSE reads.
    let operate = first(
        &data,
        "ics.protocol:dnp3 AND ics.function.name:OPERATE AND ics.direction:request",
    );
    assert_eq!(field(&operate, "ics.operation"), Some("control"));
    assert_eq!(field(&operate, "ics.direction"), Some("request"));
    let response = first(&data, "ics.protocol:dnp3 AND ics.function.name:RESPONSE");
    assert_eq!(field(&response, "ics.operation"), Some("read"));
    assert_eq!(field(&response, "ics.direction"), Some("response"));

    // CIP: Set Attribute Single is a write.
    let set = first(&data, "ics.protocol:cip AND ics.function.code:16");
    assert_eq!(
        field(&set, "ics.function.name"),
        Some("Set Attribute Single")
    );
    assert_eq!(field(&set, "ics.operation"), Some("write"));

    // BACnet: confirmed services by ICSNPP's names.
    let read = first(
        &data,
        "ics.protocol:bacnet AND ics.function.name:read_property",
    );
    assert_eq!(field(&read, "ics.operation"), Some("read"));
    let who = first(&data, "ics.protocol:bacnet AND ics.function.name:who_is");
    assert_eq!(field(&who, "ics.operation"), Some("identity"));

    // OPC UA: services by the node id of their encoding.
    let write = first(
        &data,
        "ics.protocol:opcua AND ics.function.name:WriteRequest",
    );
    assert_eq!(field(&write, "ics.operation"), Some("write"));
    assert_eq!(field(&write, "ics.direction"), Some("request"));
    let browse = first(
        &data,
        "ics.protocol:opcua AND ics.function.name:BrowseRequest",
    );
    assert_eq!(field(&browse, "ics.operation"), Some("read"));
}

#[test]
fn state_changing_captures_alert_from_rules_alone_and_read_only_ones_do_not() {
    let stop = hunt(&ek(&format!("{ITI}/s7/snap7_s300_stop.pcapng")));
    let mode = &stop["Operating mode change of a controller (any sensor)"];
    assert_eq!(mode.1, "critical");
    assert!(mode.2.contains(&"attack.t0858".to_owned()), "{mode:?}");
    assert_eq!(stop.len(), 1, "{stop:?}");

    let download = hunt(&ek(&format!("{ITI}/s7/s7comm_downloading_block_db1.pcap")));
    let d = &download["Program download to a controller (any sensor)"];
    assert!(d.0 >= 1 && d.1 == "critical" && d.2.contains(&"attack.t0843".to_owned()));

    let opcua = hunt(&ek(&format!(
        "{ICSNPP}/opcua-binary/pcaps/open62541_client-server_minimal.pcap"
    )));
    // One alert per request: the replies of the same operations do not raise again.
    assert_eq!(
        opcua["Write to an ICS device (any sensor)"].0, 2,
        "{opcua:?}"
    );
    assert_eq!(opcua["Control command to an ICS device (any sensor)"].0, 1);

    let writes = hunt(&ek(&format!("{ITI}/ModbusTCP/Modbus/modbus_test.pcap")));
    assert_eq!(
        writes["Write to an ICS device (any sensor)"].0, 62,
        "{writes:?}"
    );

    // Read-only traffic: polling, variable reads, browsing, reading with history.
    for quiet in [
        format!("{ITI}/ModbusTCP/Modbus/modbus_test_2.pcap"),
        format!("{ITI}/s7/snap7_s300_readVar.pcapng"),
        format!("{ICSNPP}/opcua-binary/pcaps/open62541_browse_next.pcap"),
        format!("{ICSNPP}/opcua-binary/pcaps/open62541_read_service_test_data_with_history.pcap"),
    ] {
        let found = hunt(&ek(&quiet));
        assert!(found.is_empty(), "{quiet}: {found:?}");
    }
}

#[test]
fn the_ot_model_learns_and_checks_tshark_records() {
    let dir = tempfile::tempdir().unwrap();
    let allowlist = dir.path().join("plant.ot.json");
    let baseline = ek(&format!("{ITI}/ModbusTCP/Modbus/modbus_test_2.pcap"));
    let out = haechi(&[
        "ot",
        "learn",
        "--tenant",
        "plant",
        "--out",
        allowlist.to_str().unwrap(),
        baseline.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let list: Value = serde_json::from_str(&std::fs::read_to_string(&allowlist).unwrap()).unwrap();
    let pairs: Vec<&String> = list["tenants"]["plant"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    // The master polls the PLC; replies are not a second conversation the other way.
    assert_eq!(pairs, vec!["192.168.0.21>192.168.0.20/modbus"]);

    let check = |file: &Path| -> Vec<Value> {
        let out = haechi(&[
            "ot",
            "check",
            "--tenant",
            "plant",
            "--allowlist",
            allowlist.to_str().unwrap(),
            "--json",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert_eq!(check(&baseline), Vec::<Value>::new());

    // The same PLC, now also written by a host the baseline never saw.
    let findings = check(&ek(&format!("{ITI}/ModbusTCP/Modbus/modbus_test.pcap")));
    let writer = findings
        .iter()
        .find(|f| f.to_string().contains("192.168.0.156"))
        .unwrap_or_else(|| panic!("no finding names the new writer: {findings:?}"));
    assert_eq!(writer["rule_id"], "ot:new-talker");
    assert!(
        writer["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "attack.t0886"),
        "{writer}"
    );
}
