//! Trains the domain model on the hash-split training side of the dev set and reports
//! validation metrics, baseline metrics, training time and scoring speed.
//!
//! `cargo run --release -p haechi-ml --example domains_report [-- out.model]`

use std::time::Instant;

use haechi_ml::{
    DGA_DEV_CSV, DomainModel, EntropyBaseline, TrainConfig, evaluate, load_domain_csv, sha256,
    split_train_validation,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let samples = load_domain_csv(DGA_DEV_CSV)?;
    let file_sha = sha256::to_hex(&sha256::sha256(&std::fs::read(DGA_DEV_CSV)?));
    println!(
        "loaded {} rows in {:?} (file sha256 {file_sha})",
        samples.len(),
        t.elapsed()
    );
    let (train, valid) = split_train_validation(&samples, 20);
    println!("train {} / validation {}", train.len(), valid.len());

    let cfg = TrainConfig::default();
    let t = Instant::now();
    let mut model = DomainModel::train(&train, &cfg);
    let train_time = t.elapsed();
    let m = evaluate(&model, &valid);
    let base = EntropyBaseline::fit(&train);
    let b = base.evaluate(&valid);
    let train_m = evaluate(&model, &train);

    println!("training: {train_time:?} ({} epochs)", cfg.epochs);
    println!(
        "model    valid: acc {:.4} macro-F1 {:.4} AUC {:.4}  (train acc {:.4})",
        m.accuracy,
        m.macro_f1,
        m.auc.unwrap_or(f64::NAN),
        train_m.accuracy
    );
    println!(
        "baseline valid: acc {:.4} macro-F1 {:.4} AUC {:.4}  (entropy >= {:.3})",
        b.accuracy,
        b.macro_f1,
        b.auc.unwrap_or(f64::NAN),
        base.threshold
    );

    // Per-family recall on validation.
    let rows = std::fs::read_to_string(DGA_DEV_CSV)?;
    let mut fam: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for line in rows.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 4 || !haechi_ml::is_validation(f[0], 20) {
            continue;
        }
        let e = fam.entry(f[3].to_string()).or_default();
        e.0 += 1;
        let pred = model.score(f[0]) >= 0.5;
        if pred == (f[1] == "1") {
            e.1 += 1;
        }
    }
    for (k, (n, ok)) in &fam {
        println!("  {k:<14} n={n:<6} correct={:.4}", *ok as f64 / *n as f64);
    }

    // Scoring speed.
    let names: Vec<&str> = valid.iter().map(|s| s.domain.as_str()).collect();
    let mut acc = 0.0f32;
    let rounds = 20;
    let t = Instant::now();
    for _ in 0..rounds {
        for n in &names {
            acc += model.score(std::hint::black_box(n));
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / (rounds * names.len()) as f64;
    println!("scoring: {ns:.0} ns/name (checksum {acc:.1})");

    for name in [
        "google.com",
        "wikipedia.org",
        "xjwqkzrvbtyp.net",
        "aeqowamcmmywmsqu.org",
    ] {
        let top: Vec<String> = model
            .explain(name)
            .iter()
            .take(5)
            .map(|(f, c)| format!("{f}={c:+.2}"))
            .collect();
        println!("{name:<24} {:.4}  {}", model.score(name), top.join(" "));
    }

    model.meta_mut().validation_metrics = Some(m.clone());
    model.meta_mut().baseline_metrics = Some(b);
    model.meta_mut().source = Some(format!("dga_dev_balanced.csv sha256 {file_sha}"));
    println!("{}", serde_json::to_string_pretty(&m)?);
    if let Some(out) = std::env::args().nth(1) {
        model.save(&out)?;
        println!("saved {out} ({} bytes)", std::fs::metadata(&out)?.len());
    }
    Ok(())
}
