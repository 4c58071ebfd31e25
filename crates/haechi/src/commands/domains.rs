//! `haechi domains scan [--protected FILE] [--json] FILE...`: Domain Watch over files of
//! names — plain lists, Certificate Transparency JSON lines, zone files, gzip or not —
//! against institutions' protected names (`--protected`, a CSV `tenant,domain`): each
//! look-alike with its kind, target, institution, score and evidence, and the names UTS
//! #39 marks unsafe even without a protected list ([`haechi_domains`]). Names that cannot
//! be read are counted by reason on standard error, never a crash.

use haechi_domains::{Index, Protected, input, lookalike, unsafe_names};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DomainsArgs {
    #[command(subcommand)]
    command: DomainsCommand,
    /// Where Haechi keeps its data: `domains/universe.fst` and `domains/protected.csv`
    /// (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// A configuration file (for `data_dir`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum DomainsCommand {
    /// The universe of registered names: `add FILE...` (registrable domains of lists,
    /// CT lines and zone files merged in), `status`.
    Universe {
        #[command(subcommand)]
        command: UniverseCommand,
    },
    /// Institutions' protected names: `add --tenant ID DOMAIN` (retro-hunted over the
    /// universe at once), `list`, `remove --tenant ID DOMAIN`.
    Protect {
        #[command(subcommand)]
        command: ProtectCommand,
    },
    /// Find look-alikes of protected names, and unsafe names, in files of names.
    Scan {
        /// A CSV `tenant,domain` of the institutions' protected names (a header line
        /// `tenant,domain` is allowed); default: the names `domains protect add` keeps.
        #[arg(long)]
        protected: Option<PathBuf>,
        /// One JSON object per finding.
        #[arg(long)]
        json: bool,
        /// The DGA and phishing model that scores every name: a file written by `haechi
        /// train domains`, or a default model's name; `none` for look-alikes only.
        #[arg(long, default_value = "domains")]
        model: String,
        /// The model's probability from which a name is a `dga` or `phishing` finding.
        #[arg(long, default_value_t = MODEL_THRESHOLD, value_parser = parse_score)]
        model_threshold: f32,
        /// Print findings from this score (0 to 1; the default is the alert threshold).
        #[arg(long, default_value_t = lookalike::ALERT_SCORE, value_parser = parse_score)]
        min_score: f32,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(clap::Subcommand)]
enum UniverseCommand {
    /// Merge the registrable domains of files (lists, CT JSON lines, zone files, gzip or
    /// not) into the universe.
    Add {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// How many names the universe holds and what it costs.
    Status,
}

#[derive(clap::Subcommand)]
enum ProtectCommand {
    /// Protect a registrable domain of an institution; its look-alikes already in the
    /// universe are printed at once.
    Add {
        #[arg(long)]
        tenant: String,
        domain: String,
        /// One JSON object per look-alike found.
        #[arg(long)]
        json: bool,
        /// Also find the label inside longer labels (`mykbstar`), not only starting them:
        /// a walk over most of the universe.
        #[arg(long)]
        deep: bool,
    },
    /// The protected names.
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Stop protecting a name.
    Remove {
        #[arg(long)]
        tenant: String,
        domain: String,
    },
}

fn universe_path(data_dir: &Path) -> PathBuf {
    data_dir.join("domains").join("universe.fst")
}

fn protected_path(data_dir: &Path) -> PathBuf {
    data_dir.join("domains").join("protected.csv")
}

pub fn run(args: DomainsArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), args.data_dir.clone())?;
    let data_dir = config.data_dir.clone();
    match args.command {
        DomainsCommand::Universe { command } => universe(&data_dir, command),
        DomainsCommand::Protect { command } => protect(&data_dir, command),
        DomainsCommand::Scan {
            protected,
            json,
            model,
            model_threshold,
            min_score,
            files,
        } => {
            let protected = protected.or_else(|| {
                let kept = protected_path(&data_dir);
                kept.is_file().then_some(kept)
            });
            scan(protected, json, &model, model_threshold, min_score, &files)
        }
    }
}

fn universe(data_dir: &Path, command: UniverseCommand) -> anyhow::Result<ExitCode> {
    let path = universe_path(data_dir);
    match command {
        UniverseCommand::Status => {
            anyhow::ensure!(
                path.is_file(),
                "no universe yet: haechi domains universe add FILE..."
            );
            let u =
                haechi_domains::universe::Universe::open(&path).map_err(|e| anyhow::anyhow!(e))?;
            println!(
                "{} names, {} bytes ({:.1} bytes per name)",
                u.len(),
                u.bytes(),
                u.bytes() as f64 / u.len().max(1) as f64
            );
        }
        UniverseCommand::Add { files } => {
            let mut names: Vec<String> = Vec::new();
            if path.is_file() {
                let u = haechi_domains::universe::Universe::open(&path)
                    .map_err(|e| anyhow::anyhow!(e))?;
                names.extend(u.names());
            }
            let before = names.len();
            let mut unread = 0usize;
            for file in &files {
                let text = input::read(file).map_err(|e| anyhow::anyhow!(e))?;
                for (_, entry) in input::names(&text, input::recognise(&text)) {
                    match entry.ok().and_then(|raw| haechi_domains::parse(&raw).ok()) {
                        Some(n) => names.push(n.registrable),
                        None => unread += 1,
                    }
                }
            }
            std::fs::create_dir_all(path.parent().expect("a folder"))?;
            // Written beside and renamed: a reader never sees half a universe.
            let fresh = path.with_extension("fst.new");
            let total =
                haechi_domains::universe::build(&fresh, names).map_err(|e| anyhow::anyhow!(e))?;
            std::fs::rename(&fresh, &path)?;
            println!(
                "{total} names in the universe ({} new), {unread} entries not read",
                total as usize - before.min(total as usize)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn protect(data_dir: &Path, command: ProtectCommand) -> anyhow::Result<ExitCode> {
    let path = protected_path(data_dir);
    let mut list = if path.is_file() {
        read_protected(&path)?
    } else {
        Vec::new()
    };
    let save = |list: &[Protected]| -> anyhow::Result<()> {
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        let mut text = String::from("tenant,domain\n");
        for p in list {
            text.push_str(&format!("{},{}\n", p.tenant, p.name.registrable));
        }
        let fresh = path.with_extension("csv.new");
        std::fs::write(&fresh, text)?;
        std::fs::rename(&fresh, &path)?;
        Ok(())
    };
    match command {
        ProtectCommand::List { tenant } => {
            for p in list
                .iter()
                .filter(|p| tenant.as_deref().is_none_or(|t| p.tenant == t))
            {
                println!("{},{}", p.tenant, p.name.registrable);
            }
        }
        ProtectCommand::Remove { tenant, domain } => {
            let name =
                haechi_domains::parse(&domain).map_err(|e| anyhow::anyhow!("{domain}: {e}"))?;
            let before = list.len();
            list.retain(|p| !(p.tenant == tenant && p.name.registrable == name.registrable));
            anyhow::ensure!(
                list.len() < before,
                "{tenant} does not protect {}",
                name.registrable
            );
            save(&list)?;
            println!("{} no longer protected for {tenant}", name.registrable);
        }
        ProtectCommand::Add {
            tenant,
            domain,
            json,
            deep,
        } => {
            anyhow::ensure!(
                haechi_server::valid_tenant(&tenant),
                "--tenant '{tenant}' is not a valid id"
            );
            let name =
                haechi_domains::parse(&domain).map_err(|e| anyhow::anyhow!("{domain}: {e}"))?;
            let protected = Protected {
                tenant: tenant.clone(),
                name,
            };
            if !list
                .iter()
                .any(|p| p.tenant == tenant && p.name.registrable == protected.name.registrable)
            {
                list.push(protected.clone());
                save(&list)?;
            }
            let universe = universe_path(data_dir);
            if !universe.is_file() {
                eprintln!(
                    "{} protected for {tenant}; no universe to retro-hunt yet",
                    protected.name.registrable
                );
                return Ok(ExitCode::SUCCESS);
            }
            let u = haechi_domains::universe::Universe::open(&universe)
                .map_err(|e| anyhow::anyhow!(e))?;
            let started = std::time::Instant::now();
            let found = u
                .retro_hunt(&protected, deep)
                .map_err(|e| anyhow::anyhow!(e))?;
            let secs = started.elapsed().as_secs_f64();
            let mut out = std::io::stdout().lock();
            for f in &found {
                write_finding(&mut out, f, json)?;
            }
            eprintln!(
                "{} protected for {tenant}: {} look-alikes among the universe's {} names ({secs:.3} s)",
                protected.name.registrable,
                found.len(),
                u.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn scan(
    protected: Option<PathBuf>,
    json: bool,
    model: &str,
    model_threshold: f32,
    min_score: f32,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let model = match model {
        "none" => None,
        spec => Some(crate::default_models::load_with(
            Path::new(spec),
            |p| haechi_ml::DomainModel::load(p),
            haechi_ml::DomainModel::from_bytes,
        )?),
    };
    let protected = match protected {
        Some(p) => read_protected(&p)?,
        None => Vec::new(),
    };
    let index = Index::new(protected);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut names = 0usize;
    let mut findings = 0usize;
    let mut not_read: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed_files = 0;
    for file in files {
        let text = match input::read(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                failed_files += 1;
                continue;
            }
        };
        let format = input::recognise(&text);
        for (line, entry) in input::names(&text, format) {
            let raw = match entry {
                Ok(r) => r,
                Err(reason) => {
                    *not_read.entry(reason).or_default() += 1;
                    let _ = line;
                    continue;
                }
            };
            names += 1;
            let name = match haechi_domains::parse(&raw) {
                Ok(n) => n,
                Err(e) => {
                    *not_read.entry(e.to_string()).or_default() += 1;
                    continue;
                }
            };
            let mut found = index.check(&name);
            found.extend(unsafe_names::check(&name));
            if let Some(m) = &model
                && let Some(f) = model_finding(m, &name, model_threshold)
            {
                found.push(f);
            }
            for f in found.iter().filter(|f| f.score >= min_score) {
                findings += 1;
                write_finding(&mut out, f, json)?;
            }
        }
    }
    out.flush()?;
    let unread: usize = not_read.values().sum();
    eprintln!(
        "{names} names, {findings} findings, {unread} names not read, {} protected names",
        index.protected().len()
    );
    for (reason, n) in &not_read {
        eprintln!("  not read {n}: {reason}");
    }
    Ok(if failed_files == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The model's default threshold: where about 0.6 % of the Tranco top 100,000 (the rate
/// Phishing Catcher's published figure was taken at) would be flagged (see the README).
pub const MODEL_THRESHOLD: f32 = 0.995;

/// A `dga` or `phishing` finding when the model's probability reaches `threshold`: named
/// by what drove the score — the host features (brand or credential words, free hosting,
/// the subdomain's n-grams) say phishing, the registrable label's n-grams and shape DGA.
fn model_finding(
    model: &haechi_ml::DomainModel,
    name: &haechi_domains::Name,
    threshold: f32,
) -> Option<lookalike::Finding> {
    let score = model.score(&name.ascii);
    if score < threshold {
        return None;
    }
    let drivers = model.explain(&name.ascii);
    let host = |f: &str| f.starts_with("subgram:") || haechi_ml::HOST_FEATURE_NAMES.contains(&f);
    let push: f32 = drivers
        .iter()
        .filter(|(f, c)| *c > 0.0 && host(f))
        .map(|(_, c)| c)
        .sum();
    let shape: f32 = drivers
        .iter()
        .filter(|(f, c)| *c > 0.0 && !host(f) && f != "bias")
        .map(|(_, c)| c)
        .sum();
    let top: Vec<String> = drivers
        .iter()
        .filter(|(_, c)| *c > 0.0)
        .take(3)
        .map(|(f, c)| format!("{f} ({c:+.2})"))
        .collect();
    Some(lookalike::Finding {
        domain: name.ascii.clone(),
        unicode: (name.unicode != name.ascii).then(|| name.unicode.clone()),
        kind: if push > shape { "phishing" } else { "dga" },
        target: String::new(),
        tenant: String::new(),
        score,
        evidence: format!(
            "the model's probability {score:.3}; driven by {}",
            top.join(", ")
        ),
    })
}

fn parse_score(s: &str) -> Result<f32, String> {
    s.parse::<f32>()
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| format!("'{s}' is not a score from 0 to 1"))
}

fn write_finding(out: &mut impl Write, f: &lookalike::Finding, json: bool) -> std::io::Result<()> {
    if json {
        let mut v = json!({
            "domain": f.domain, "kind": f.kind, "score": f.score, "evidence": f.evidence,
        });
        if !f.target.is_empty() {
            v["target"] = json!(f.target);
            v["tenant"] = json!(f.tenant);
        }
        if let Some(u) = &f.unicode {
            v["unicode"] = json!(u);
        }
        writeln!(out, "{v}")
    } else {
        writeln!(
            out,
            "{:<12} {:.2} {}{} {}{}",
            f.kind,
            f.score,
            f.domain,
            f.unicode
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default(),
            if f.target.is_empty() {
                String::new()
            } else {
                format!("→ {} of {}: ", f.target, f.tenant)
            },
            f.evidence
        )
    }
}

/// The protected names of a `tenant,domain` CSV; a line that does not read is an error
/// naming it (a protected list must be right).
pub fn read_protected(path: &Path) -> anyhow::Result<Vec<Protected>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (i == 0 && line == "tenant,domain") {
            continue;
        }
        let (tenant, domain) = line.split_once(',').ok_or_else(|| {
            anyhow::anyhow!("{}:{}: expected `tenant,domain`", path.display(), i + 1)
        })?;
        anyhow::ensure!(
            haechi_server::valid_tenant(tenant.trim()),
            "{}:{}: '{}' is not a valid tenant id",
            path.display(),
            i + 1,
            tenant.trim()
        );
        let name = haechi_domains::parse(domain.trim())
            .map_err(|e| anyhow::anyhow!("{}:{}: {}: {e}", path.display(), i + 1, domain.trim()))?;
        out.push(Protected {
            tenant: tenant.trim().to_owned(),
            name,
        });
    }
    Ok(out)
}
