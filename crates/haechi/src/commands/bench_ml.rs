//! `haechi bench --stages ml`: inference throughput of the default models on one core
//! (records per second, features computed from the records as in the pipeline), and the
//! training time of the flow model on one million rows.

use super::bench::BenchArgs;
use crate::default_models::default_model;
use haechi_ml::{DomainModel, FlowModel, FlowRecord, WebModel};
use std::time::Instant;

/// Runs `f` over `n` records until at least a second has passed; records per second.
fn rate(n: usize, mut f: impl FnMut() -> f32) -> f64 {
    let started = Instant::now();
    let mut done = 0usize;
    let mut sink = 0.0f32;
    while started.elapsed().as_secs_f64() < 1.0 {
        sink += f();
        done += n;
    }
    std::hint::black_box(sink);
    done as f64 / started.elapsed().as_secs_f64()
}

fn print(args: &BenchArgs, what: &str, per_s: f64, note: &str) {
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "ml", "what": what, "records_per_s_one_core": per_s, "note": note})
        );
    } else {
        println!("ml  {what:<34} {per_s:>12.0} records/s on one core  {note}");
    }
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let load = |name: &str| default_model(name).map(|m| m.bytes).unwrap_or_default();
    let unsw_path = args.data.join("ids/unsw_nb15_part_a.csv");
    let unsw = haechi_ml::load_flows(&unsw_path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", unsw_path.display()))?;

    // Flow models: features of every row prepared once (as the data-set models read
    // them), then scored.
    for name in ["unsw", "flows"] {
        let model = FlowModel::from_bytes(load(name)).map_err(|e| anyhow::anyhow!("{e}"))?;
        let nf = model.n_features();
        let mut rows = vec![0.0f32; unsw.len() * nf];
        for (r, x) in rows.chunks_mut(nf).enumerate() {
            model.features(&unsw, r, x);
        }
        let per_s = rate(unsw.len(), || rows.chunks(nf).map(|x| model.score(x)).sum());
        print(
            args,
            &format!("flows: model {name} (features ready)"),
            per_s,
            "",
        );
    }
    // The live path: a flow record as the pipeline builds it, features derived and scored.
    let live = FlowModel::from_bytes(load("flows")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let records: Vec<FlowRecord<'static>> = (0..4096)
        .map(|i| FlowRecord {
            duration_secs: Some((i % 97) as f64 * 0.013),
            transport: Some(["tcp", "udp", "icmp"][i % 3]),
            service: [Some("http"), Some("dns"), None][i % 3],
            state: Some(["FIN", "CON", "INT", "REQ"][i % 4]),
            src_packets: Some((i % 31) as u64 + 1),
            dst_packets: Some((i % 17) as u64),
            src_bytes: Some((i % 1500) as u64 * 7),
            dst_bytes: Some((i % 900) as u64 * 11),
        })
        .collect();
    let per_s = rate(records.len(), || {
        records
            .iter()
            .map(|r| live.score_record(r).unwrap_or(0.0))
            .sum()
    });
    print(
        args,
        "flows: live record -> score",
        per_s,
        "(target 500,000)",
    );

    let domains_csv = args.data.join("domains/dga_dev_balanced.csv");
    let names: Vec<String> = haechi_ml::load_domain_csv(&domains_csv)
        .map_err(|e| anyhow::anyhow!("{}: {e}", domains_csv.display()))?
        .into_iter()
        .map(|s| s.domain)
        .collect();
    let domains = DomainModel::from_bytes(load("domains")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let per_s = rate(names.len(), || names.iter().map(|n| domains.score(n)).sum());
    print(args, "domains: name -> score", per_s, "(target 1,000,000)");

    let web_csv = args.data.join("web_attacks/httpparams_payload_train.csv");
    let payloads: Vec<String> = haechi_ml::load_web_csv(&web_csv)
        .map_err(|e| anyhow::anyhow!("{}: {e}", web_csv.display()))?
        .into_iter()
        .map(|s| s.payload)
        .collect();
    let web = WebModel::from_bytes(load("web")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let per_s = rate(payloads.len(), || {
        payloads.iter().map(|p| web.score(p)).sum()
    });
    print(args, "web: parameter value -> score", per_s, "");

    // Training on one million rows: the UNSW-NB15 half repeated (same rows, so the trees
    // learn nothing new; this measures time, not accuracy).
    let idx: Vec<usize> = (0..1_000_000).map(|i| i % unsw.len()).collect();
    let big = unsw.subset(&idx);
    let cfg =
        haechi_ml::FlowTrainConfig::new(haechi_ml::FlowSchema::Unsw, haechi_ml::FlowTask::Binary);
    let started = Instant::now();
    let model = FlowModel::train(&big, &cfg);
    let secs = started.elapsed().as_secs_f64();
    std::hint::black_box(model.n_features());
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "ml", "what": "flows: train 1,000,000 rows (unsw, binary)", "seconds": secs})
        );
    } else {
        println!("ml  flows: train 1,000,000 rows (unsw binary) {secs:>8.1} s on all cores");
    }
    Ok(())
}
