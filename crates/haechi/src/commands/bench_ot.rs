//! `haechi bench` stages `ot` and `cloudtrail`: the sources of the OT and cloud issue.
//!
//! * `ot`: parse+normalize of Wireshark packets (`tshark -T ek`, a real Modbus capture of
//!   `ot/`), and the OT behaviour model scoring events (learned on the first 60 % of the
//!   real Modbus log of `ot/automayt_ics_pcap`, then every event checked), per core.
//! * `cloudtrail`: a 100 MB CloudTrail delivery file (`{"Records": […]}`, built from the
//!   real OTRF records) read and unpacked through the file reader, as `haechi ingest`
//!   reads a bucket export.

use super::bench::{BenchArgs, report, tempfile_dir, time_parse};
use haechi_detect::ot::Allowlist;
use haechi_event::Event;
use haechi_ingest::reader::{Limits, read_file};
use haechi_ingest::{Format, ParseContext, new_parser};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

const TSHARK_SAMPLE: &str =
    "ot/iti_ics_security_tools/pcaps/ModbusTCP/Modbus/modbus_test_2.pcap.ek.jsonl.zst";
const MODBUS_LOG: &str = "ot/automayt_ics_pcap/ETHERNET_IP/mb/modbus.log";
const CLOUDTRAIL_SAMPLE: &str =
    "cloud/otrf_security_datasets/aws/ec2_proxy_s3_exfiltration_2020-09-14011940.json";

/// The lines of a zstd-compressed text file.
fn zstd_lines(path: &Path) -> anyhow::Result<Vec<String>> {
    let file = std::fs::File::open(path)?;
    let reader = BufReader::new(zstd::stream::read::Decoder::new(file)?);
    Ok(reader
        .lines()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect())
}

pub fn run_ot(args: &BenchArgs, ctx: &ParseContext) -> anyhow::Result<()> {
    // tshark packets, repeated to the target volume.
    let path = args.data.join(TSHARK_SAMPLE);
    let base = zstd_lines(&path)?;
    let mut lines: Vec<&str> = Vec::new();
    let mut bytes = 0;
    while bytes < args.megabytes << 20 {
        for l in &base {
            bytes += l.len() + 1;
            lines.push(l);
        }
    }
    let (ok, bad, secs) = time_parse(Format::Tshark, &lines, ctx);
    report(
        args,
        "parse+normalize",
        "tshark",
        &path,
        ok,
        bad,
        bytes,
        secs,
    );

    // The OT model: learn, then score.
    let path = args.data.join(MODBUS_LOG);
    let mut parser = new_parser(Format::Zeek);
    let events: Vec<Event> = std::fs::read_to_string(&path)?
        .lines()
        .filter_map(|l| parser.parse(l, ctx).ok().flatten())
        .collect();
    anyhow::ensure!(!events.is_empty(), "{} gave no events", path.display());
    let mut model = Allowlist::default();
    model.learn(&events[..events.len() * 6 / 10]);
    let target = 1_000_000usize.max(events.len());
    let started = Instant::now();
    let (mut scored, mut findings) = (0u64, 0u64);
    while (scored as usize) < target {
        for e in &events {
            scored += 1;
            if std::hint::black_box(model.check(e, "bench")).is_some() {
                findings += 1;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path)?.len() as usize * (scored as usize / events.len());
    report(
        args,
        "ot-model check",
        "zeek",
        &path,
        scored,
        0,
        bytes,
        secs,
    );
    if !args.json {
        println!(
            "ot-model check: {} pairs learned, {findings} findings in {scored} checks",
            model.pairs()
        );
    }
    Ok(())
}

pub fn run_cloudtrail(args: &BenchArgs, ctx: &ParseContext) -> anyhow::Result<()> {
    let sample = args.data.join(CLOUDTRAIL_SAMPLE);
    let records: Vec<String> = std::fs::read_to_string(&sample)?
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(!records.is_empty(), "{} has no records", sample.display());
    let dir = tempfile_dir()?;
    let path = dir.join("cloudtrail-delivery.json");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        out.write_all(b"{\"Records\":[")?;
        let mut written = 0usize;
        let mut first = true;
        'fill: loop {
            for r in &records {
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                out.write_all(r.as_bytes())?;
                written += r.len() + 1;
                if written >= 100 << 20 {
                    break 'fill;
                }
            }
        }
        out.write_all(b"]}")?;
    }
    let bytes = std::fs::metadata(&path)?.len() as usize;
    let limits = Limits {
        max_document_bytes: 512 << 20,
        ..Limits::default()
    };
    let started = Instant::now();
    let mut events = 0u64;
    let stats = read_file(
        &path,
        Format::Auto,
        ctx,
        None,
        limits,
        false,
        &mut |batch| {
            events += batch.events.len() as u64;
            std::hint::black_box(batch);
            Ok(())
        },
    )?;
    let secs = started.elapsed().as_secs_f64();
    std::fs::remove_dir_all(&dir).ok();
    report(
        args,
        "unpack delivery file",
        "cloudtrail",
        &path,
        events,
        stats.dead_letters,
        bytes,
        secs,
    );
    Ok(())
}
