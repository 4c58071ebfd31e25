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
    /// Accepted like every command's; `scan` keeps nothing there.
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    #[allow(dead_code)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum DomainsCommand {
    /// Find look-alikes of protected names, and unsafe names, in files of names.
    Scan {
        /// A CSV `tenant,domain` of the institutions' protected names (a header line
        /// `tenant,domain` is allowed).
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

pub fn run(args: DomainsArgs) -> anyhow::Result<ExitCode> {
    let DomainsCommand::Scan {
        protected,
        json,
        model,
        model_threshold,
        min_score,
        files,
    } = args.command;
    let model = match model.as_str() {
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
    for file in &files {
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
