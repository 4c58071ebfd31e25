//! `haechi attribute [--technique T]... [--software S]... [--top N] [--json] [--attack FILE]`:
//! the intrusion sets of MITRE ATT&CK ranked by similarity to the techniques and software
//! an incident showed ([`haechi_attribution`]), each with the evidence that matched and
//! that did not. `--evaluate` prints the ranking's figures on pseudo-incidents instead.
//! A similarity to published reporting, never a verdict.

use haechi_attribution::eval::{Mode, evaluate};
use haechi_attribution::{Attack, Evidence, rank};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct AttributeArgs {
    /// An ATT&CK technique id seen in the incident (`T1059.001`); repeat for more.
    #[arg(long = "technique")]
    techniques: Vec<String>,
    /// An ATT&CK software id seen in the incident (`S0154`); repeat for more.
    #[arg(long = "software")]
    software: Vec<String>,
    /// How many groups to show.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// A JSON list of `{"id", "name", "score", "matched_techniques", "matched_software", ...}`,
    /// best first.
    #[arg(long)]
    json: bool,
    /// The ATT&CK Enterprise STIX 2.1 bundle (default: `DATA_DIR/attack/enterprise-attack.json`,
    /// else `../shared/data/attack/enterprise-attack*.json`).
    #[arg(long, env = "HAECHI_ATTACK")]
    attack: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A configuration file (for `data_dir`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the ranking's top-1, top-3 and mean reciprocal rank on pseudo-incidents drawn
    /// from the groups (see the model card) instead of ranking.
    #[arg(long)]
    evaluate: bool,
}

/// The bundle to read: the one given, the data directory's, or the shared data's.
pub fn bundle_path(attack: Option<&Path>, data_dir: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = attack {
        return Ok(p.to_owned());
    }
    let kept = data_dir.join("attack").join("enterprise-attack.json");
    if kept.is_file() {
        return Ok(kept);
    }
    let shared = Path::new("../shared/data/attack");
    let mut found: Vec<PathBuf> = std::fs::read_dir(shared)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("enterprise-attack") && n.ends_with(".json"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().ok_or_else(|| {
        anyhow::anyhow!(
            "no ATT&CK bundle: give --attack FILE (attack-stix-data's enterprise-attack.json), or put it in {}",
            kept.display()
        )
    })
}

/// A technique id `T1234` or `T1234.567`, or a software id `S1234`.
fn valid_id(id: &str, letter: char, sub: bool) -> bool {
    let Some(rest) = id.strip_prefix(letter) else {
        return false;
    };
    let (main, tail) = match rest.split_once('.') {
        Some((m, t)) if sub => (m, Some(t)),
        Some(_) => return false,
        None => (rest, None),
    };
    main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && tail.is_none_or(|t| t.len() == 3 && t.bytes().all(|b| b.is_ascii_digit()))
}

pub fn run(args: AttributeArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), args.data_dir.clone())?;
    let load = || -> anyhow::Result<(PathBuf, Attack)> {
        let path = bundle_path(args.attack.as_deref(), &config.data_dir)?;
        let attack = Attack::load(&path).map_err(|e| anyhow::anyhow!(e))?;
        Ok((path, attack))
    };
    if args.evaluate {
        let (_, attack) = load()?;
        return evaluate_and_print(&attack, args.json);
    }
    let techniques: Vec<String> = args
        .techniques
        .iter()
        .map(|t| t.trim().to_uppercase())
        .collect();
    let software: Vec<String> = args
        .software
        .iter()
        .map(|s| s.trim().to_uppercase())
        .collect();
    anyhow::ensure!(
        !techniques.is_empty() || !software.is_empty(),
        "give at least one --technique or --software"
    );
    for t in &techniques {
        anyhow::ensure!(
            valid_id(t, 'T', true),
            "--technique '{t}': an ATT&CK technique id, T1059 or T1059.001"
        );
    }
    for s in &software {
        anyhow::ensure!(
            valid_id(s, 'S', false),
            "--software '{s}': an ATT&CK software id, S0154"
        );
    }
    // The ids are checked first: a typo is told before the bundle is read.
    let (path, attack) = load()?;
    for unknown in techniques
        .iter()
        .chain(&software)
        .filter(|i| !attack.knows(i))
    {
        eprintln!(
            "warning: {unknown} is not in this ATT&CK ({}); it matches no group",
            path.display()
        );
    }
    let evidence = Evidence {
        techniques,
        software,
    };
    let ranked: Vec<_> = rank(&attack, &evidence)
        .into_iter()
        .take(args.top)
        .collect();
    if args.json {
        println!("{}", serde_json::to_string(&ranked)?);
        return Ok(ExitCode::SUCCESS);
    }
    if ranked.is_empty() {
        println!("no group is reported to use any of this evidence");
    }
    for (i, c) in ranked.iter().enumerate() {
        println!("{:>2}. {} {} — score {:.3}", i + 1, c.id, c.name, c.score);
        let named = |ids: &[String]| -> String {
            ids.iter()
                .map(|id| match attack.names.get(id) {
                    Some(n) => format!("{id} {n}"),
                    None => id.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !c.matched_techniques.is_empty() {
            println!("    techniques: {}", named(&c.matched_techniques));
        }
        if !c.matched_software.is_empty() {
            println!("    software: {}", named(&c.matched_software));
        }
        for p in &c.partial_techniques {
            println!("    in part: {} ({})", p.technique, p.via);
        }
        let missing: Vec<String> = c
            .unmatched_techniques
            .iter()
            .chain(&c.unmatched_software)
            .cloned()
            .collect();
        if !missing.is_empty() {
            println!("    not reported of it: {}", missing.join(", "));
        }
    }
    eprintln!(
        "a similarity to what ATT&CK reports of each group ({} groups), not a verdict",
        attack.groups.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn evaluate_and_print(attack: &Attack, as_json: bool) -> anyhow::Result<ExitCode> {
    let mut all = Vec::new();
    for mode in [Mode::Observed, Mode::HalfUnreported, Mode::LeftOut] {
        for (share, noise) in [(0.3, 3), (0.1, 2)] {
            let f = evaluate(attack, mode, share, noise, 5, 7);
            if as_json {
                all.push(json!(f));
            } else {
                println!(
                    "{:<16} {:>3.0} % drawn + {noise} unrelated: {} incidents of {} groups; ranking top-1 {:.3} top-3 {:.3} MRR {:.3}; exact overlap top-1 {:.3} top-3 {:.3} MRR {:.3}",
                    format!("{mode:?}"),
                    share * 100.0,
                    f.incidents,
                    f.groups,
                    f.ranking.top1,
                    f.ranking.top3,
                    f.ranking.mrr,
                    f.baseline.top1,
                    f.baseline.top3,
                    f.baseline.mrr
                );
            }
        }
    }
    if as_json {
        println!("{}", serde_json::to_string(&all)?);
    }
    Ok(ExitCode::SUCCESS)
}
