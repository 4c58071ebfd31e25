//! `haechi domains scan [--protected FILE] [--json] FILE...`: Domain Watch over files of
//! names — plain lists, Certificate Transparency JSON lines, zone files, gzip or not —
//! against institutions' protected names (`--protected`, a CSV `tenant,domain`): each
//! look-alike with its kind, target, institution, score and evidence, and the names UTS
//! #39 marks unsafe even without a protected list ([`haechi_domains`]). Names that cannot
//! be read are counted by reason on standard error, never a crash.

use super::access::{audited, cli_actor};
use haechi_access::{AccessStore, AuditEntry};
use haechi_domains::watch::{Checked, Watch};
use haechi_domains::{Index, Protected, input, lookalike, unsafe_names};
use haechi_server::domains::{RaiseFn, Raised};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

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
        /// Where the sweep records how far it got (every 50,000 entries and after each
        /// file); run the same command again to resume after the last recorded point
        /// (findings between it and the stop are printed again). Removed when the sweep
        /// reaches the end.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
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

use haechi_domains::watch::{protected_path, universe_path};

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
            checkpoint,
            files,
        } => {
            let protected = protected.or_else(|| {
                let kept = protected_path(&data_dir);
                kept.is_file().then_some(kept)
            });
            let sweep = Sweep {
                json,
                model_threshold,
                min_score,
                checkpoint,
            };
            scan(protected, &model, &sweep, &files)
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

/// The audit log, where protecting a name is recorded.
fn access(data_dir: &Path) -> anyhow::Result<AccessStore> {
    let path = AccessStore::path_in(data_dir);
    AccessStore::open(&path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))
}

fn protect(data_dir: &Path, command: ProtectCommand) -> anyhow::Result<ExitCode> {
    let watch = haechi_domains::watch::Watch::open(data_dir, None, lookalike::ALERT_SCORE)
        .map_err(|e| anyhow::anyhow!(e))?;
    match command {
        ProtectCommand::List { tenant } => {
            for p in watch
                .protected(tenant.as_deref())
                .map_err(|e| anyhow::anyhow!(e))?
            {
                println!("{},{}", p.tenant, p.name.registrable);
            }
        }
        ProtectCommand::Remove { tenant, domain } => {
            let target = format!("domain:{domain}");
            audited(&access(data_dir)?, "domain.unprotect", &target, || {
                let removed = watch
                    .unprotect(&tenant, &domain)
                    .map_err(|e| anyhow::anyhow!(e))?;
                anyhow::ensure!(removed, "{tenant} does not protect {domain}");
                let entry = AuditEntry::new(cli_actor(), "domain.unprotect", &target)
                    .before(json!({"tenant": tenant, "domain": domain}));
                Ok(((), entry))
            })?;
            println!("{domain} no longer protected for {tenant}");
        }
        ProtectCommand::Add {
            tenant,
            domain,
            json,
            deep,
        } => {
            let p = audited(
                &access(data_dir)?,
                "domain.protect",
                &format!("domain:{domain}"),
                || {
                    let p = watch
                        .protect(&tenant, &domain, deep)
                        .map_err(|e| anyhow::anyhow!(e))?;
                    let entry = AuditEntry::new(
                        cli_actor(),
                        "domain.protect",
                        format!("domain:{}", p.domain),
                    )
                    .after(
                        json!({"tenant": tenant, "domain": p.domain, "look_alikes": p.found.len()}),
                    );
                    Ok((p, entry))
                },
            )?;
            let mut out = std::io::stdout().lock();
            for f in &p.found {
                write_finding(&mut out, f, json)?;
            }
            eprintln!(
                "{} protected for {tenant}: {} look-alikes among {} known names ({:.3} s)",
                p.domain,
                p.found.len(),
                p.searched_names,
                p.seconds
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How a scan prints, filters and records its progress.
struct Sweep {
    json: bool,
    model_threshold: f32,
    min_score: f32,
    checkpoint: Option<PathBuf>,
}

/// How far a sweep got: the files done and the entries done in the next one.
#[derive(serde::Serialize, serde::Deserialize, Default, PartialEq, Debug)]
struct Checkpoint {
    files_done: Vec<PathBuf>,
    entries_done: usize,
}

/// Entries between two checkpoints.
const CHECKPOINT_EVERY: usize = 50_000;

fn read_checkpoint(path: &Path, files: &[PathBuf]) -> anyhow::Result<Checkpoint> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Checkpoint::default()),
        Err(e) => anyhow::bail!("{}: {e}", path.display()),
    };
    let c: Checkpoint = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a sweep checkpoint: {e}", path.display()))?;
    anyhow::ensure!(
        files.starts_with(&c.files_done),
        "{}: recorded for other files ({:?}); remove it to start over",
        path.display(),
        c.files_done
    );
    Ok(c)
}

fn write_checkpoint(path: &Path, c: &Checkpoint) -> anyhow::Result<()> {
    let fresh = path.with_extension("new");
    std::fs::write(&fresh, serde_json::to_vec(c)?)?;
    std::fs::rename(&fresh, path)?;
    Ok(())
}

fn scan(
    protected: Option<PathBuf>,
    model: &str,
    sweep: &Sweep,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let Sweep {
        json,
        model_threshold,
        min_score,
        ..
    } = *sweep;
    let mut progress = match &sweep.checkpoint {
        Some(p) => read_checkpoint(p, files)?,
        None => Checkpoint::default(),
    };
    if progress != Checkpoint::default() {
        eprintln!(
            "resuming after {} files and {} entries of the next",
            progress.files_done.len(),
            progress.entries_done
        );
    }
    let show_progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
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
    for file in files.iter().skip(progress.files_done.len()) {
        let text = match input::read(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                failed_files += 1;
                progress.files_done.push(file.clone());
                continue;
            }
        };
        let format = input::recognise(&text);
        let skip = std::mem::take(&mut progress.entries_done);
        for (done, (line, entry)) in input::names(&text, format)
            .into_iter()
            .enumerate()
            .skip(skip)
        {
            if done > skip && done % CHECKPOINT_EVERY == 0 {
                out.flush()?;
                if let Some(p) = &sweep.checkpoint {
                    progress.entries_done = done;
                    write_checkpoint(p, &progress)?;
                }
                if show_progress {
                    eprint!("\r{}: {done} entries, {findings} findings", file.display());
                }
            }
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
        out.flush()?;
        progress.files_done.push(file.clone());
        progress.entries_done = 0;
        if let Some(p) = &sweep.checkpoint {
            write_checkpoint(p, &progress)?;
        }
        if show_progress {
            eprintln!();
        }
    }
    out.flush()?;
    // The sweep reached the end (files that could not be read were reported).
    if let Some(p) = &sweep.checkpoint {
        let _ = std::fs::remove_file(p);
    }
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
/// Phishing Catcher's published figure was taken at) would be flagged (see docs/domain-watch.md).
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

/// The protected names of a `tenant,domain` CSV.
pub fn read_protected(path: &Path) -> anyhow::Result<Vec<Protected>> {
    haechi_domains::watch::read_protected(path).map_err(|e| anyhow::anyhow!(e))
}

/// The watch of `haechi serve` (`[domains]`), its model loaded.
pub fn open_watch(config: &crate::config::Config) -> anyhow::Result<Arc<Watch>> {
    let d = &config.domains;
    let scorer: Option<Arc<haechi_domains::watch::Scorer>> = match d.model.as_str() {
        "none" => None,
        spec => {
            let model = crate::default_models::load_with(
                Path::new(spec),
                |p| haechi_ml::DomainModel::load(p),
                haechi_ml::DomainModel::from_bytes,
            )?;
            let threshold = d.model_threshold;
            Some(Arc::new(move |name: &haechi_domains::Name| {
                model_finding(&model, name, threshold)
            }))
        }
    };
    Ok(Arc::new(
        Watch::open(&config.data_dir, scorer, d.min_score).map_err(|e| anyhow::anyhow!(e))?,
    ))
}

/// How `haechi serve` raises findings: `domain` alerts through detection (live queue,
/// incidents, playbooks), close look-alikes into the block list for the institution they
/// imitate, and those as STIX indicators into the hub collection (`[domains]`).
pub fn raiser(
    config: &crate::config::Config,
    detection: Arc<crate::detection::Detection>,
    hub: Option<Arc<haechi_intel::store::IntelStore>>,
) -> Arc<RaiseFn> {
    let d = config.domains.clone();
    Arc::new(move |found: &[Checked]| {
        let now = haechi_event::Timestamp::now();
        let alerts = haechi_domains::alerts::for_findings(found, d.tenant.as_deref(), now);
        if !alerts.is_empty() {
            detection.record(&alerts).map_err(|e| format!("{e:#}"))?;
        }
        let mut raised = Raised {
            alerts: alerts.len(),
            ..Raised::default()
        };
        let blocked: Vec<&Checked> = found
            .iter()
            .filter(|c| !c.finding.target.is_empty() && c.finding.score >= d.block_score)
            .collect();
        if d.block_list.is_empty() || blocked.is_empty() {
            return Ok(raised);
        }
        let expires = haechi_event::Timestamp(now.0 + d.block_days as i64 * 86_400_000_000_000);
        for c in &blocked {
            let f = &c.finding;
            detection
                .alerts
                .block(
                    &d.block_list,
                    &haechi_domains::alerts::alerted_name(f),
                    Some(&f.tenant),
                    &format!("{} of {}: {}", f.kind, f.target, f.evidence),
                    "domain-watch",
                    Some(expires),
                )
                .map_err(|e| e.to_string())?;
            raised.blocked += 1;
        }
        if let (Some(name), Some(hub)) = (&d.share_collection, &hub) {
            raised.shared = share(hub, name, &d.share_tlp, &blocked)?;
        }
        Ok(raised)
    })
}

/// STIX indicators of blocked look-alikes into a hub collection (created when missing).
fn share(
    hub: &haechi_intel::store::IntelStore,
    collection: &str,
    tlp: &str,
    blocked: &[&Checked],
) -> Result<usize, String> {
    let tlp = haechi_intel::tlp::Tlp::parse(tlp).ok_or("share_tlp")?;
    let c = match hub.collection(collection) {
        Ok(c) => c,
        Err(_) => hub
            .add_collection(
                collection,
                "Domain Watch look-alikes",
                "Domain names that imitate institutions' protected names, found by Haechi's Domain Watch",
            )
            .map_err(|e| e.to_string())?,
    };
    let now = chrono::Utc::now();
    let mut objects = Vec::new();
    for b in blocked {
        let f = &b.finding;
        let o = haechi_intel::build::indicator_from_value(
            haechi_ioc::IndicatorKind::Domain,
            &haechi_domains::alerts::alerted_name(f),
            tlp,
            None,
            now,
        )
        .map_err(|e| e.to_string())?;
        let mut v = o.json.clone();
        v["name"] = json!(format!("{} of {}: {}", f.kind, f.target, f.domain));
        v["description"] = json!(format!(
            "A look-alike of {} found by Haechi's Domain Watch: {} (score {:.2})",
            f.target, f.evidence, f.score
        ));
        v["indicator_types"] = json!(["anomalous-activity"]);
        objects.push(haechi_intel::objects::StixObject::from_json(v).map_err(|e| e.to_string())?);
    }
    hub.add_objects(&c.id, &objects, "domain-watch")
        .map(|r| r.stored)
        .map_err(|e| e.to_string())
}

/// `[domains] watch`: every `every`, checks the files that arrived in `dir` (oldest
/// first), raises their findings, and moves each to `done/` (or `failed/` with the
/// reason). A file is moved only once its findings are raised: after a crash it is read
/// again, and alerts merge.
pub async fn watch_folder(
    dir: PathBuf,
    every: std::time::Duration,
    api: haechi_server::domains::DomainsApi,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (dir, api) = (dir.clone(), api.clone());
        match tokio::task::spawn_blocking(move || sweep_folder(&dir, &api)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %format!("{e:#}"), "watching domain names"),
            Err(e) => tracing::error!(error = %e, "the domain folder task failed"),
        }
    }
}

/// Checks every file waiting in `dir` once.
pub fn sweep_folder(dir: &Path, api: &haechi_server::domains::DomainsApi) -> anyhow::Result<()> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !entry.file_type()?.is_file() || name.starts_with('.') || name.ends_with(".part") {
            continue;
        }
        files.push((entry.metadata()?.modified()?, entry.path()));
    }
    files.sort();
    for (_, path) in files {
        let outcome = check_file(&path, api);
        let (folder, reason) = match &outcome {
            Ok(_) => ("done", None),
            Err(e) => ("failed", Some(format!("{e:#}\n"))),
        };
        let to = dir.join(folder);
        std::fs::create_dir_all(&to)?;
        let target = to.join(path.file_name().expect("a file"));
        std::fs::rename(&path, &target)?;
        if let Some(reason) = reason {
            tracing::warn!(file = %path.display(), reason = %reason.trim(), "domain names not read");
            std::fs::write(target.with_extension("reason"), reason)?;
        }
        if let Ok((report, raised)) = outcome {
            tracing::info!(
                file = %path.display(), names = report.names, new = report.new_names,
                findings = report.findings.len(), alerts = raised.alerts, blocked = raised.blocked,
                not_read = report.not_read.values().sum::<usize>(),
                "domain names checked"
            );
        }
    }
    Ok(())
}

fn check_file(
    path: &Path,
    api: &haechi_server::domains::DomainsApi,
) -> anyhow::Result<(haechi_domains::watch::Report, Raised)> {
    let text = input::read(path).map_err(|e| anyhow::anyhow!(e))?;
    let entries = input::names(&text, input::recognise(&text));
    let now = haechi_event::Timestamp::now().0 / 1_000_000_000;
    let mut total = haechi_domains::watch::Report::default();
    let mut raised = Raised::default();
    for chunk in entries.chunks(haechi_domains::watch::MAX_BATCH_NAMES) {
        let report = api
            .watch
            .check_names(chunk.iter().map(|(_, e)| e.clone()), now)
            .map_err(|e| anyhow::anyhow!(e))?;
        if let Some(raise) = &api.raise
            && !report.findings.is_empty()
        {
            let r = raise(&report.findings).map_err(|e| anyhow::anyhow!(e))?;
            raised.alerts += r.alerts;
            raised.blocked += r.blocked;
            raised.shared += r.shared;
        }
        total.names += report.names;
        total.new_names += report.new_names;
        for (k, v) in report.not_read {
            *total.not_read.entry(k).or_default() += v;
        }
        total.findings.extend(report.findings);
    }
    Ok((total, raised))
}

/// `[domains] merge_secs`: folds the names seen since the universe was built into it.
pub async fn merge_periodically(
    watch: Arc<Watch>,
    every: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let w = watch.clone();
        match tokio::task::spawn_blocking(move || w.merge_seen()).await {
            Ok(Ok(n)) => tracing::info!(names = n, "seen domain names merged into the universe"),
            Ok(Err(e)) => tracing::error!(error = %e, "merging seen domain names"),
            Err(e) => tracing::error!(error = %e, "the domain merge task failed"),
        }
    }
}
