//! `haechi bench --stages stix`: the STIX object store at the sizes the sharing hub
//! meets — 50,000 indicators imported from one bundle (validation and storage, objects/s),
//! the same bundle again (every object a duplicate), then pages of 1,000 objects as the
//! TAXII server will read them (first page, a page deep into the collection by `next`,
//! `added_after`). Median of 20 for the pages.

use super::bench::BenchArgs;
use super::bench_state::median_ms;
use haechi_intel::Limits;
use haechi_intel::store::{Filter, IntelStore, Versions};
use std::time::Instant;

const OBJECTS: usize = 50_000;

fn bundle() -> Vec<u8> {
    let objects: Vec<serde_json::Value> = (0..OBJECTS)
        .map(|i| {
            serde_json::json!({
                "type": "indicator", "spec_version": "2.1",
                "id": format!("indicator--{:08x}-0000-4000-8000-{:012x}", i, i),
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "name": format!("bench indicator {i}"),
                "pattern": format!("[ipv4-addr:value = '10.{}.{}.{}']", (i >> 16) & 255, (i >> 8) & 255, i & 255),
                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
                "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects,
    }))
    .unwrap_or_default()
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store =
        IntelStore::open(&dir.path().join("intel.db")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let c = store
        .add_collection("bench", "Bench", "")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = bundle();
    let limits = Limits {
        max_bytes: bytes.len() + 1,
        max_objects: OBJECTS,
    };
    let report = |what: &str, value: f64, unit: &str, note: String| {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"bench": "stix", "what": what, "value": value, "unit": unit, "note": note})
            );
        } else {
            println!("stix {what:<44} {value:>10.2} {unit:<10} {note}");
        }
    };
    for (what, expect_new) in [
        ("import (validate and store)", true),
        ("import again (all duplicates)", false),
    ] {
        let started = Instant::now();
        let r = store
            .add_bundle("bench", &bytes, limits, "bench")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let secs = started.elapsed().as_secs_f64();
        let n = if expect_new { r.stored } else { r.duplicates };
        report(
            what,
            n as f64 / secs,
            "objects/s",
            format!(
                "{n} objects, {} refused, {} MB bundle",
                r.rejected.len(),
                bytes.len() >> 20
            ),
        );
    }
    let page = |f: Filter| {
        store
            .objects(&c.id, &f)
            .map(|p| p.objects.len())
            .unwrap_or(0)
    };
    let deep = store
        .objects(
            &c.id,
            &Filter {
                limit: 40_000,
                versions: Versions::All,
                ..Default::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .next;
    let middle_added = store
        .objects(
            &c.id,
            &Filter {
                limit: 25_000,
                versions: Versions::All,
                ..Default::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .objects
        .last()
        .map(|o| o.date_added);
    let cases: Vec<(&str, Filter)> = vec![
        (
            "page of 1,000 (newest versions)",
            Filter {
                limit: 1000,
                ..Default::default()
            },
        ),
        (
            "page of 1,000 after 40,000 (next)",
            Filter {
                limit: 1000,
                next: deep,
                ..Default::default()
            },
        ),
        (
            "page of 1,000 added_after the 25,000th",
            Filter {
                limit: 1000,
                added_after: middle_added,
                ..Default::default()
            },
        ),
    ];
    for (what, f) in cases {
        let (ms, n) = median_ms(|| page(f.clone()));
        report(what, ms, "ms median", format!("{n} objects"));
    }
    Ok(())
}
