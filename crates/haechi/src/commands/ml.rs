//! `haechi train`, `haechi eval`, `haechi predict`: Haechi's own models (`haechi-ml`).
//!
//! First model: `domains`, the malicious-domain (DGA) classifier over the domain CSV
//! layout of `../shared/data/domains/dga_dev_balanced.csv` (`domain`, `label` with 1 =
//! malicious). Flow and web models follow (issue "Prediction").

use haechi_ml::{
    DomainModel, EntropyBaseline, Metrics, Sample, TrainConfig, evaluate, load_domain_csv, sha256,
    split_train_validation,
};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct TrainArgs {
    /// What to train: `domains` (flows and web are not built yet).
    pub model: String,
    /// Labeled data files (the published layout of the model's data set).
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(long)]
    pub out: PathBuf,
    /// The training seed (same data and seed: the same model, bit for bit).
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
    /// Percent of the data held out for validation (by a hash of each name, so that a
    /// name is never on both sides).
    #[arg(long, default_value_t = 20)]
    pub validation_percent: u32,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// A model file written by `haechi train`.
    pub model: PathBuf,
    /// Labeled data to evaluate on (never the data the model was trained on).
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// One JSON object: accuracy, macro_f1, auc, per_class, confusion.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    /// A model file written by `haechi train`.
    pub model: PathBuf,
    /// Files of names to score: the domain CSV layout, or one name per line.
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// One JSON object per name.
    #[arg(long)]
    pub json: bool,
    /// How many of the features that drove each decision to show.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
}

fn load_all(files: &[PathBuf]) -> anyhow::Result<Vec<Sample>> {
    let mut all = Vec::new();
    for f in files {
        all.extend(load_domain_csv(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?);
    }
    Ok(all)
}

pub fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    if args.model != "domains" {
        anyhow::bail!(
            "model '{}': only `domains` can be trained so far (flows and web come next)",
            args.model
        );
    }
    if !(1..=50).contains(&args.validation_percent) {
        anyhow::bail!("--validation-percent must be 1 to 50");
    }
    let started = std::time::Instant::now();
    let samples = load_all(&args.data)?;
    let (train, valid) = split_train_validation(&samples, args.validation_percent);
    let cfg = TrainConfig {
        seed: args.seed,
        ..TrainConfig::default()
    };
    let mut model = DomainModel::train(&train, &cfg);
    let metrics = evaluate(&model, &valid);
    let baseline = EntropyBaseline::fit(&train).evaluate(&valid);
    let sources: Vec<String> = args
        .data
        .iter()
        .map(|f| {
            let hash = std::fs::read(f)
                .map(|b| sha256::to_hex(&sha256::sha256(&b)))
                .unwrap_or_default();
            format!("{} sha256 {hash}", f.display())
        })
        .collect();
    model.meta_mut().source = Some(sources.join("; "));
    model.meta_mut().validation_metrics = Some(metrics.clone());
    model.meta_mut().baseline_metrics = Some(baseline.clone());
    model
        .save(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"model": "domains", "out": args.out, "train": train.len(), "validation": valid.len(), "metrics": metrics, "baseline": baseline, "seconds": seconds})
        );
    } else {
        println!(
            "trained domains on {} names, validated on {} held out, in {seconds:.1}s; wrote {}",
            train.len(),
            valid.len(),
            args.out.display()
        );
        print_metrics("model", &metrics);
        print_metrics("baseline (entropy threshold)", &baseline);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let model = DomainModel::load(&args.model)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    let samples = load_all(&args.data)?;
    let metrics = evaluate(&model, &samples);
    if args.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        print_metrics("model", &metrics);
        for c in &metrics.per_class {
            println!(
                "  {:<6} precision {:.4} recall {:.4} F1 {:.4} support {}",
                c.class, c.precision, c.recall, c.f1, c.support
            );
        }
        let m = &metrics.confusion;
        println!(
            "  confusion: {} true dga, {} false dga, {} true legit, {} missed dga",
            m.tp, m.fp, m.tn, m.fn_
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_metrics(what: &str, m: &Metrics) {
    println!(
        "{what}: accuracy {:.4}, macro-F1 {:.4}, ROC AUC {}",
        m.accuracy,
        m.macro_f1,
        m.auc
            .map(|a| format!("{a:.4}"))
            .unwrap_or_else(|| "n/a".into())
    );
}

pub fn predict(args: PredictArgs) -> anyhow::Result<ExitCode> {
    let model = DomainModel::load(&args.model)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.model.display()))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for f in &args.data {
        let names = names_in(f)?;
        for name in names {
            let p = model.score(&name);
            let class = if p >= 0.5 { "dga" } else { "legit" };
            let mut top = model.explain(&name);
            top.truncate(args.top);
            if args.json {
                std::io::Write::write_all(
                    &mut out,
                    format!(
                        "{}\n",
                        serde_json::json!({"name": name, "class": class, "probability": p, "features": top})
                    )
                    .as_bytes(),
                )?;
            } else {
                let why: Vec<String> = top.iter().map(|(f, w)| format!("{f} {w:+.2}")).collect();
                std::io::Write::write_all(
                    &mut out,
                    format!("{class:<5} {p:.3}  {name}  ({})\n", why.join(", ")).as_bytes(),
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The names of a file: the `domain` column of the CSV layout, else one per line.
fn names_in(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    if let Ok(samples) = load_domain_csv(path) {
        return Ok(samples.into_iter().map(|s| s.domain).collect());
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}
