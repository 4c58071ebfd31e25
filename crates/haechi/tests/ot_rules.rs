//! The OT rule pack (`rules/ot`) through Haechi's own engine (`haechi hunt`): state-changing
//! ICS operations alert from rules alone, before any baseline is learned, and read-only
//! traffic (polling, identity, status) raises nothing.
//!
//! Real Zeek logs of `ot/automayt_ics_pcap` are used as they are. The CISA ICSNPP btest
//! baselines mask `ts` (`XXXXXXXXXX.XXXXXX`, which also ate the leading digits of a few
//! small numbers) and open with a `### BTest` line: the test copies them with real
//! epoch times, as a live Zeek would have written them.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn pack() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/ot")
}

/// Rule title → detections, for one hunt over `files`.
fn hunt(files: &[&Path]) -> BTreeMap<String, (usize, String)> {
    let pack = pack();
    let mut args = vec!["hunt", "--rules", pack.to_str().unwrap(), "--json"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    let out = haechi(&args);
    assert!(out.status.success(), "{}", describe(&out));
    let mut by_rule: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let d: Value = serde_json::from_str(line).unwrap();
        let e = by_rule
            .entry(d["rule_title"].as_str().unwrap().to_owned())
            .or_insert((0, d["level"].as_str().unwrap().to_owned()));
        e.0 += 1;
    }
    by_rule
}

/// A btest baseline as a live Zeek log: no `### BTest` line, the n-th row's `ts` the
/// epoch 1700000000 + n (the mask and the digits it swallowed replaced).
fn unmask(src: &Path, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(src).unwrap();
    let mut row = 0;
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("### "))
        .map(|l| {
            if l.starts_with('#') {
                return l.to_owned();
            }
            row += 1;
            let mut cols: Vec<String> = l.split('\t').map(str::to_owned).collect();
            for c in cols.iter_mut() {
                if let Some(i) = c.find("XXXXXXXXXX.XXXXXX") {
                    // The mask covers the integer part and ate any digits before it.
                    let prefix_digits = c[..i].chars().all(|ch| ch.is_ascii_digit());
                    if prefix_digits {
                        *c = format!("{}.000000", 1_700_000_000 + row);
                    }
                }
            }
            cols.join("\t")
        })
        .collect();
    let name = src
        .strip_prefix(sample("ot"))
        .unwrap()
        .to_string_lossy()
        .replace('/', "_");
    write_file(dir, &name, &(lines.join("\n") + "\n"))
}

#[test]
fn modbus_writes_alert_and_polling_does_not() {
    let mb = sample("ot/automayt_ics_pcap/ETHERNET_IP/mb/modbus.log");
    let text = std::fs::read_to_string(&mb).unwrap();
    let writes = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.split('\t')
                .nth(6)
                .is_some_and(|f| f.starts_with("WRITE_"))
        })
        .count();
    let found = hunt(&[&mb]);
    let (n, level) = &found["Modbus write function code"];
    assert_eq!(*n, writes, "one alert per write: {found:#?}");
    assert_eq!(level, "high");
    assert_eq!(found.len(), 1, "the reads raise nothing: {found:#?}");

    // A PLC polled with READ_HOLDING_REGISTERS, and device-identification probing.
    let quiet = hunt(&[
        &sample("ot/automayt_ics_pcap/MODBUS/Modbus/modbus.log"),
        &sample("ot/automayt_ics_pcap/Additional_Captures/4SICS-GeekLounge-151021/modbus.log"),
    ]);
    assert!(quiet.is_empty(), "{quiet:#?}");
}

#[test]
fn dnp3_s7_and_bacnet_state_changes_alert_from_the_first_day() {
    let dir = tempfile::tempdir().unwrap();
    // Real DNP3: unsolicited reporting switched off (a configuration change), then reads.
    let dnp3 = hunt(&[&sample(
        "ot/automayt_ics_pcap/Additional_Captures/4SICS-GeekLounge-151022/dnp3.log",
    )]);
    assert_eq!(dnp3.values().map(|(n, _)| n).sum::<usize>(), 1, "{dnp3:#?}");

    // S7comm (snap7 test capture): program upload and a PLC stop/start.
    let s7 = unmask(
        &sample("ot/icsnpp/s7comm/tests/baseline/analyzer.snap7/s7comm.log"),
        dir.path(),
    );
    let found = hunt(&[&s7]);
    let critical: usize = found
        .values()
        .filter(|(_, level)| level == "critical")
        .map(|(n, _)| n)
        .sum();
    assert!(
        critical >= 2,
        "PLC stop/start and RAM-to-ROM are critical: {found:#?}"
    );
    assert!(
        found.keys().any(|t| t.to_lowercase().contains("upload")),
        "{found:#?}"
    );

    // BACnet: the device is reinitialized; the discovery log (who-is, i-am) is quiet.
    let basic = "ot/icsnpp/bacnet/testing/baseline/analyzer.basic";
    let reinit = hunt(&[&unmask(&sample(&format!("{basic}/bacnet.log")), dir.path())]);
    assert!(
        reinit
            .iter()
            .any(|(t, (_, l))| t.to_lowercase().contains("reinitialize") && l == "critical"),
        "{reinit:#?}"
    );
    let discovery = hunt(&[&unmask(
        &sample(&format!("{basic}/bacnet_discovery.log")),
        dir.path(),
    )]);
    assert!(discovery.is_empty(), "{discovery:#?}");
}
