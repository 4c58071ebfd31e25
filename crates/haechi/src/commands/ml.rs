//! `haechi train`, `haechi eval`, `haechi predict`: Haechi's own models (`haechi-ml`).
//!
//! * `domains`: the malicious-domain (DGA and phishing host) classifier over the domain CSV
//!   layout of `../shared/data/domains/dga_dev_balanced.csv` (`domain`, `label` with
//!   1 = malicious, optional `family`). A `--data` file whose first line is not such a
//!   `domain,label` header is read as a plain list of **malicious** host names, one per line
//!   (`#` comments and blank lines skipped, lower-cased, de-duplicated), family `phishing` —
//!   e.g. `../shared/data/domains/phishing_hostnames_openphish.txt`. A name in several files
//!   keeps the label of the first.
//! * `web`: the web-attack classifier over the HTTP parameter layout of
//!   `../shared/data/web_attacks/httpparams_payload_train.csv` (`payload`, `label` with
//!   `norm`/`anom`).
//!
//! * `flows`: the network-flow attack classifier over NSL-KDD `.txt` (41 features) or
//!   UNSW-NB15 CSV files (42 features), recognised by their first line; `--features live`
//!   trains on the features Haechi computes from Suricata `flow` and Zeek `conn` events,
//!   `--classes category` predicts the attack family instead of attack/normal.

use haechi_ml::{
    DomainModel, DomainSet, EntropyBaseline, FamilyRate, FlowDataset, FlowFormat, FlowModel,
    FlowSchema, FlowTask, FlowTrainConfig, Metrics, TrainConfig, WebBaseline, WebModel, evaluate,
    evaluate_families, evaluate_flows, evaluate_web, load_domain_csv, load_domain_file, load_flows,
    load_web_csv, sha256, split_flows, split_web_train_validation,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct TrainArgs {
    /// What to train: `domains`, `web` or `flows`.
    pub model: String,
    /// Labeled data files (the published layout of the model's data set). Domains: a
    /// `domain,label[,family]` CSV, or a file whose first line is not that header: a list of
    /// malicious host names, one per line (`#` comments allowed), family `phishing`.
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(long)]
    pub out: PathBuf,
    /// The training seed (same data and seed: the same model, bit for bit).
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
    /// Percent of the data held out for validation (by a hash of each name, so that a
    /// name is never on both sides). 0 trains on everything and reports no validation
    /// figures: use it when the validation set is a separate file for `haechi eval`.
    #[arg(long, default_value_t = 20)]
    pub validation_percent: u32,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Flows: `dataset` (every feature of the file's data set) or `live` (only what
    /// Haechi computes from Suricata/Zeek flow events; UNSW-NB15 files only).
    #[arg(long, default_value = "dataset")]
    pub features: String,
    /// Flows: `binary` (attack/normal) or `category` (the attack family).
    #[arg(long, default_value = "binary")]
    pub classes: String,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// A model file written by `haechi train`, or the name of a default model
    /// (`haechi models` lists them).
    pub model: PathBuf,
    /// Labeled data to evaluate on (never the data the model was trained on). Domains: a
    /// `domain,label[,family]` CSV or a list of malicious host names (see `haechi train`);
    /// the share flagged is also reported per family.
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// One JSON object: accuracy, macro_f1, auc, per_class, confusion.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    /// A model file written by `haechi train`, or the name of a default model
    /// (`haechi models` lists them).
    pub model: PathBuf,
    /// Files of records to score: the model's CSV layout, or one name or HTTP parameter
    /// value per line.
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// One JSON object per name.
    #[arg(long)]
    pub json: bool,
    /// How many of the features that drove each decision to show.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
}

/// The domain data of `files` (CSV or malicious host-name lists), a name in several files
/// kept once, with the label of the first.
fn load_all(files: &[PathBuf]) -> anyhow::Result<DomainSet> {
    let mut all = DomainSet::default();
    for f in files {
        let set = load_domain_file(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let skipped = all.extend_dedup(set);
        if skipped > 0 {
            eprintln!(
                "{}: {skipped} names already given by an earlier file (or twice) skipped",
                f.display()
            );
        }
    }
    Ok(all)
}

/// One line per family: how many names, and the share scored malicious.
fn print_families(families: &[FamilyRate]) {
    println!("  per family (share scored malicious at 0.5):");
    for f in families {
        println!(
            "  {:<15} {:<9} n {:>6}  flagged {:.4}",
            f.family,
            if f.malicious { "malicious" } else { "benign" },
            f.n,
            f.share()
        );
    }
}

pub fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    if args.validation_percent > 50 {
        anyhow::bail!("--validation-percent must be 0 to 50");
    }
    match args.model.as_str() {
        "domains" => train_domains(args),
        "web" => train_web(args),
        "flows" => train_flows(args),
        other => anyhow::bail!("model '{other}': use domains, web or flows"),
    }
}

/// `path sha256 HEX` of each data file, kept in the model's metadata.
fn sources(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| {
            let hash = std::fs::read(f)
                .map(|b| sha256::to_hex(&sha256::sha256(&b)))
                .unwrap_or_default();
            format!("{} sha256 {hash}", f.display())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn report_training(
    args: &TrainArgs,
    n: (usize, usize),
    metrics: &Metrics,
    baseline: &Metrics,
    started: std::time::Instant,
    baseline_name: &str,
) {
    let seconds = started.elapsed().as_secs_f64();
    if n.1 == 0 {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"model": args.model, "out": args.out, "train": n.0, "validation": 0, "seconds": seconds})
            );
        } else {
            println!(
                "trained {} on {} records (none held out) in {seconds:.1}s; wrote {}",
                args.model,
                n.0,
                args.out.display()
            );
        }
        return;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"model": args.model, "out": args.out, "train": n.0, "validation": n.1, "metrics": metrics, "baseline": baseline, "seconds": seconds})
        );
    } else {
        println!(
            "trained {} on {} records, validated on {} held out, in {seconds:.1}s; wrote {}",
            args.model,
            n.0,
            n.1,
            args.out.display()
        );
        print_metrics("model", metrics);
        print_metrics(baseline_name, baseline);
    }
}

fn train_web(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let mut samples = Vec::new();
    for f in &args.data {
        samples.extend(load_web_csv(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?);
    }
    let (train, valid) = split_web_train_validation(&samples, args.validation_percent);
    let cfg = TrainConfig {
        seed: args.seed,
        ..WebModel::default_config()
    };
    let mut model = WebModel::train(&train, &cfg);
    let metrics = evaluate_web(&model, &valid);
    let baseline = WebBaseline.evaluate(&valid);
    model.meta_mut().source = Some(sources(&args.data));
    if !valid.is_empty() {
        model.meta_mut().validation_metrics = Some(metrics.clone());
        model.meta_mut().baseline_metrics = Some(baseline.clone());
    }
    model
        .save(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    report_training(
        &args,
        (train.len(), valid.len()),
        &metrics,
        &baseline,
        started,
        "baseline (attack-token list)",
    );
    Ok(ExitCode::SUCCESS)
}

fn train_domains(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let samples = load_all(&args.data)?;
    let (train, valid) = samples.split(args.validation_percent);
    let cfg = TrainConfig {
        seed: args.seed,
        ..DomainModel::default_config()
    };
    let mut model = DomainModel::train(&train.samples, &cfg);
    let metrics = evaluate(&model, &valid.samples);
    let baseline = EntropyBaseline::fit(&train.samples).evaluate(&valid.samples);
    let families = evaluate_families(&model, &valid);
    model.meta_mut().source = Some(sources(&args.data));
    if !valid.is_empty() {
        model.meta_mut().validation_metrics = Some(metrics.clone());
        model.meta_mut().baseline_metrics = Some(baseline.clone());
        model.meta_mut().validation_families = Some(families.clone());
    }
    model
        .save(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    report_training(
        &args,
        (train.len(), valid.len()),
        &metrics,
        &baseline,
        started,
        "baseline (entropy threshold)",
    );
    if !valid.is_empty() && !args.json {
        print_families(&families);
    }
    Ok(ExitCode::SUCCESS)
}

/// The one flow file of `--data` (NSL-KDD `.txt` or UNSW-NB15 CSV).
fn load_flow_data(files: &[PathBuf]) -> anyhow::Result<FlowDataset> {
    let [file] = files else {
        anyhow::bail!("flows: give one --data file (NSL-KDD .txt or UNSW-NB15 CSV)");
    };
    load_flows(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

/// Refuses training data the trees cannot learn from: one class only, or more families
/// than a model holds.
fn check_trainable(train: &FlowDataset, task: FlowTask) -> anyhow::Result<()> {
    let classes: std::collections::BTreeSet<String> = match task {
        FlowTask::Binary => train.attack.iter().map(|a| a.to_string()).collect(),
        FlowTask::Category => train.category.iter().cloned().collect(),
    };
    match classes.len() {
        0 => anyhow::bail!("flows: no training records"),
        1 => anyhow::bail!("flows: the training records are all of one class; nothing to learn"),
        n if n > 32 => anyhow::bail!("flows: {n} attack families; a model holds at most 32"),
        _ => Ok(()),
    }
}

/// Refuses data of another data set than the model's (NSL-KDD records for a UNSW-NB15
/// model, or the other way round).
fn check_flow_format(model: &FlowModel, data: &FlowDataset) -> anyhow::Result<()> {
    if data.format != model.schema().format() {
        anyhow::bail!(
            "this flow model reads {:?} records (schema `{}`), the data is {:?}",
            model.schema().format(),
            model.schema().name(),
            data.format
        );
    }
    Ok(())
}

fn train_flows(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let data = load_flow_data(&args.data)?;
    let schema = match (args.features.as_str(), data.format) {
        ("dataset", FlowFormat::NslKdd) => FlowSchema::NslKdd,
        ("dataset", FlowFormat::Unsw) => FlowSchema::Unsw,
        ("live", FlowFormat::Unsw) => FlowSchema::Live,
        ("live", FlowFormat::NslKdd) => anyhow::bail!(
            "--features live needs UNSW-NB15 data: NSL-KDD records lack packet counts"
        ),
        (other, _) => anyhow::bail!("--features '{other}': use dataset or live"),
    };
    let task = match args.classes.as_str() {
        "binary" => FlowTask::Binary,
        "category" => FlowTask::Category,
        other => anyhow::bail!("--classes '{other}': use binary or category"),
    };
    let (train, valid) = split_flows(&data, args.validation_percent, args.seed);
    check_trainable(&train, task)?;
    let mut cfg = FlowTrainConfig::new(schema, task);
    cfg.gbdt.seed = args.seed;
    let mut model = FlowModel::train(&train, &cfg);
    let metrics = evaluate_flows(&model, &valid);
    let baseline = evaluate_flows(&FlowModel::train_baseline(&train, &cfg), &valid);
    model.meta_mut().source = Some(sources(&args.data));
    if !valid.is_empty() {
        model.meta_mut().validation_metrics = Some(metrics.clone());
        model.meta_mut().baseline_metrics = Some(baseline.clone());
    }
    model
        .save(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.out.display()))?;
    report_training(
        &args,
        (train.len(), valid.len()),
        &metrics,
        &baseline,
        started,
        "baseline (one decision stump)",
    );
    Ok(ExitCode::SUCCESS)
}

/// A model file of either kind.
enum AnyModel {
    Domains(DomainModel),
    Web(WebModel),
    Flows(Box<FlowModel>),
}

impl AnyModel {
    /// A model file or the name of a default model; the kind is read from the file.
    fn load(spec: &Path) -> anyhow::Result<AnyModel> {
        use crate::default_models::load_with;
        let domain_error = match load_with(spec, |p| DomainModel::load(p), DomainModel::from_bytes)
        {
            Ok(m) => return Ok(AnyModel::Domains(m)),
            Err(e) => e,
        };
        if let Ok(m) = load_with(spec, |p| WebModel::load(p), WebModel::from_bytes) {
            return Ok(AnyModel::Web(m));
        }
        if let Ok(m) = load_with(spec, |p| FlowModel::load(p), FlowModel::from_bytes) {
            return Ok(AnyModel::Flows(Box::new(m)));
        }
        Err(domain_error)
    }

    /// Scores a name or parameter value (text models only).
    fn score(&self, record: &str) -> f32 {
        match self {
            AnyModel::Domains(m) => m.score(record),
            AnyModel::Web(m) => m.score(record),
            AnyModel::Flows(_) => f32::NAN,
        }
    }

    fn explain(&self, record: &str) -> Vec<(String, f32)> {
        match self {
            AnyModel::Domains(m) => m.explain(record),
            AnyModel::Web(m) => m.explain(record),
            AnyModel::Flows(_) => Vec::new(),
        }
    }

    /// The class names, negative then positive.
    fn classes(&self) -> (&'static str, &'static str) {
        match self {
            // A model with the host features is trained for phishing hosts too.
            AnyModel::Domains(m) if m.meta().train.host_features => ("legit", "malicious"),
            AnyModel::Domains(_) => ("legit", "dga"),
            AnyModel::Web(_) | AnyModel::Flows(_) => ("normal", "attack"),
        }
    }
}

pub fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let mut families = None;
    let metrics = match AnyModel::load(&args.model)? {
        AnyModel::Domains(model) => {
            let data = load_all(&args.data)?;
            families = Some(evaluate_families(&model, &data));
            evaluate(&model, &data.samples)
        }
        AnyModel::Web(model) => {
            let mut samples = Vec::new();
            for f in &args.data {
                samples
                    .extend(load_web_csv(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?);
            }
            evaluate_web(&model, &samples)
        }
        AnyModel::Flows(model) => {
            let data = load_flow_data(&args.data)?;
            check_flow_format(&model, &data)?;
            evaluate_flows(&model, &data)
        }
    };
    if args.json {
        let mut json = serde_json::to_value(&metrics)?;
        if let (Some(f), Some(obj)) = (&families, json.as_object_mut()) {
            obj.insert("per_family".into(), serde_json::to_value(f)?);
        }
        println!("{json}");
    } else {
        print_metrics("model", &metrics);
        for c in &metrics.per_class {
            println!(
                "  {:<15} precision {:.4} recall {:.4} F1 {:.4} support {}",
                c.class, c.precision, c.recall, c.f1, c.support
            );
        }
        if let Some(brier) = metrics.brier {
            println!("  Brier score {brier:.4}");
        }
        match &metrics.confusion_matrix {
            Some(matrix) => {
                println!(
                    "  confusion matrix (rows: true class, columns: predicted, in the order above):"
                );
                for (c, row) in metrics.per_class.iter().zip(matrix) {
                    let cells: Vec<String> = row.iter().map(|n| format!("{n:>6}")).collect();
                    println!("  {:<15} {}", c.class, cells.join(""));
                }
            }
            None => {
                let m = &metrics.confusion;
                println!(
                    "  confusion: {} true positives, {} false positives, {} true negatives, {} missed",
                    m.tp, m.fp, m.tn, m.fn_
                );
            }
        }
        if let Some(f) = &families {
            print_families(f);
        }
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
    let model = AnyModel::load(&args.model)?;
    if let AnyModel::Flows(flows) = &model {
        return predict_flows(flows, &args);
    }
    let (negative, positive) = model.classes();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for f in &args.data {
        let names = names_in(f)?;
        for name in names {
            let p = model.score(&name);
            let class = if p >= 0.5 { positive } else { negative };
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

/// Scores every record of a flow file: class, probability of that class, top features.
fn predict_flows(model: &FlowModel, args: &PredictArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let data = load_flow_data(&args.data)?;
    check_flow_format(model, &data)?;
    let classes = model.class_names();
    let mut x = vec![0.0f32; model.n_features()];
    let mut p = vec![0.0f32; classes.len()];
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for row in 0..data.len() {
        model.features(&data, row, &mut x);
        let (class, probability) = if classes.len() == 2 {
            let attack = model.score(&x);
            if attack >= 0.5 {
                (1, attack)
            } else {
                (0, 1.0 - attack)
            }
        } else {
            model.predict_proba(&x, &mut p);
            let best = model.predict_class(&x);
            (best, p[best])
        };
        let top = model.explain(&x, args.top);
        if args.json {
            writeln!(
                out,
                "{}",
                serde_json::json!({"record": row + 1, "class": classes[class], "probability": probability, "features": top})
            )?;
        } else {
            let why: Vec<String> = top.iter().map(|(f, w)| format!("{f} {w:+.2}")).collect();
            writeln!(
                out,
                "{:>7}  {:<15} {probability:.3}  ({})",
                row + 1,
                classes[class],
                why.join(", ")
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The records of a file: the `domain` or `payload` column of the CSV layouts, else one
/// per line.
fn names_in(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    if let Ok(samples) = load_domain_csv(path) {
        return Ok(samples.into_iter().map(|s| s.domain).collect());
    }
    if let Ok(samples) = load_web_csv(path) {
        return Ok(samples.into_iter().map(|s| s.payload).collect());
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

/// `haechi models`: the models shipped in the binary, usable by name.
pub fn models() -> anyhow::Result<ExitCode> {
    for m in crate::default_models::DEFAULT_MODELS {
        println!(
            "{:<16} {:>8} KiB  {}  (docs/models/{}.md)",
            m.name,
            m.bytes.len() / 1024,
            m.what,
            m.card
        );
    }
    Ok(ExitCode::SUCCESS)
}
