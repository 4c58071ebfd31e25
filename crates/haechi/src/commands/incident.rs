//! `haechi incident export ID --out DIR [--before-mins N] [--after-mins N]`: an incident as a
//! signed evidence package ([`haechi_forensics`]) — the incident with its alerts, notes and
//! tasks, every pinned event and every event its alerts stand on in their stored form,
//! the timeline around it, and the custody log from the audit log — and `haechi evidence
//! verify DIR [--key KEY]` / `haechi evidence key`, which check a package and print the
//! center's public key; `haechi incident timeline ID --format F` writes the timeline for
//! Timesketch or as Plaso's l2tcsv. Works beside a running server; the export is audited.

use super::access::cli_actor;
use haechi_access::{AccessStore, AuditEntry};
use haechi_event::{Timestamp, event_to_json};
use haechi_forensics::{Custody, Item, keys, timeline};
use haechi_store::SearchRequest;
use haechi_store::state::AlertStore;
use haechi_store::state::incidents::evidence_query;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct IncidentArgs {
    #[command(subcommand)]
    command: IncidentCommand,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// A configuration file (for `data_dir` and the event store).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum IncidentCommand {
    /// Write an incident as a signed evidence package into a new folder.
    Export {
        id: i64,
        #[arg(long)]
        out: PathBuf,
        /// Minutes of the institution's events before the first alert in the timeline.
        #[arg(long, default_value_t = 60)]
        before_mins: i64,
        /// Minutes after the last alert.
        #[arg(long, default_value_t = 60)]
        after_mins: i64,
    },
    /// What to ask next: the DFIQ questions for the incident's ATT&CK techniques (its
    /// alerts' `attack.t…` tags), with their approaches and a Haechi query where one fits.
    Questions {
        id: i64,
        /// The DFIQ catalog (`scenarios/`, `facets/`, `questions/`); default
        /// `DATA_DIR/dfiq`, else `../shared/data/attack/dfiq/data`.
        #[arg(long)]
        dfiq: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The MITRE ATT&CK groups whose reported techniques and software the incident's
    /// alerts resemble (their `attack.t…` and `attack.s…` tags), as `haechi attribute`
    /// ranks them: a similarity, not a verdict.
    Attribute {
        id: i64,
        /// The ATT&CK Enterprise bundle (as for `haechi attribute`).
        #[arg(long, env = "HAECHI_ATTACK")]
        attack: Option<PathBuf>,
        #[arg(long, default_value_t = 5)]
        top: usize,
        #[arg(long)]
        json: bool,
    },
    /// The incident's timeline for other tools: `timesketch-jsonl`, `timesketch-csv`
    /// (message, datetime, timestamp, timestamp_desc and every field) or `l2tcsv` (Plaso's
    /// CSV).
    Timeline {
        id: i64,
        #[arg(long, default_value = "timesketch-jsonl")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 60)]
        before_mins: i64,
        #[arg(long, default_value_t = 60)]
        after_mins: i64,
    },
}

#[derive(clap::Args)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    command: EvidenceCommand,
    /// Where Haechi keeps its data (its key: `keys/evidence-ed25519.pub`).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum EvidenceCommand {
    /// Check a package: the signature under the trusted key, every item's SHA-256 and size,
    /// nothing added or removed, every custody record's hash. Names each item that changed.
    Verify {
        path: PathBuf,
        /// The center's public key (64 hex digits, or a file holding them); default: the
        /// data directory's `keys/evidence-ed25519.pub`.
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print the center's public key (creating the key pair on first use).
    Key,
}

/// The most timeline events a package holds, and the most referenced events.
const MAX_TIMELINE: usize = 2_000;
const MAX_MARGIN_MINS: i64 = 7 * 24 * 60;

pub fn run(args: IncidentArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), args.data_dir.clone())?;
    match args.command {
        IncidentCommand::Export {
            id,
            out,
            before_mins,
            after_mins,
        } => {
            anyhow::ensure!(
                (0..=MAX_MARGIN_MINS).contains(&before_mins)
                    && (0..=MAX_MARGIN_MINS).contains(&after_mins),
                "--before-mins and --after-mins: 0 to {MAX_MARGIN_MINS}"
            );
            export(&config, id, &out, before_mins, after_mins)
        }
        IncidentCommand::Questions { id, dfiq, json } => questions(&config, id, dfiq, json),
        IncidentCommand::Attribute {
            id,
            attack,
            top,
            json,
        } => attribute(&config, id, attack, top, json),
        IncidentCommand::Timeline {
            id,
            format,
            out,
            before_mins,
            after_mins,
        } => {
            anyhow::ensure!(
                (0..=MAX_MARGIN_MINS).contains(&before_mins)
                    && (0..=MAX_MARGIN_MINS).contains(&after_mins),
                "--before-mins and --after-mins: 0 to {MAX_MARGIN_MINS}"
            );
            let render: fn(&[serde_json::Value]) -> String = match format.as_str() {
                "timesketch-jsonl" => timeline::timesketch_jsonl,
                "timesketch-csv" => timeline::timesketch_csv,
                "l2tcsv" => timeline::l2tcsv,
                other => anyhow::bail!(
                    "--format '{other}': use timesketch-jsonl, timesketch-csv or l2tcsv"
                ),
            };
            let (_, detail) = open_incident(&config, id)?;
            let store = super::open_store_read_only(&config)?;
            let (_, events) = gather_timeline(&*store, &detail.incident, before_mins, after_mins)?;
            let text = render(&events);
            match out {
                Some(path) => {
                    std::fs::write(&path, text)?;
                    eprintln!(
                        "{} events of incident {id} in {}",
                        events.len(),
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The state store (read-only, beside a running server) and the incident `id` in it.
fn open_incident(
    config: &crate::config::Config,
    id: i64,
) -> anyhow::Result<(AlertStore, haechi_store::state::incidents::IncidentDetail)> {
    let alerts =
        AlertStore::open_read_only(&config.state_db()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let detail = alerts
        .incident(id, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("no incident {id}"))?;
    Ok((alerts, detail))
}

fn attribute(
    config: &crate::config::Config,
    id: i64,
    attack: Option<PathBuf>,
    top: usize,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let (_, detail) = open_incident(config, id)?;
    let tags: Vec<&String> = detail.alerts.iter().flat_map(|a| a.tags.iter()).collect();
    let techniques: Vec<String> = haechi_forensics::dfiq::techniques_of_tags(tags.iter().copied())
        .into_iter()
        .collect();
    let software: Vec<String> = tags
        .iter()
        .filter_map(|t| t.strip_prefix("attack.s"))
        .filter(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
        .map(|n| format!("S{n}"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let path = super::attribute::bundle_path(attack.as_deref(), &config.data_dir)?;
    let knowledge = haechi_attribution::Attack::load(&path).map_err(|e| anyhow::anyhow!(e))?;
    let evidence = haechi_attribution::Evidence {
        techniques: techniques.clone(),
        software: software.clone(),
    };
    let ranked: Vec<_> = haechi_attribution::rank(&knowledge, &evidence)
        .into_iter()
        .take(top)
        .collect();
    if as_json {
        println!(
            "{}",
            serde_json::to_string(&json!({
                "incident": id, "techniques": techniques, "software": software,
                "candidates": ranked,
                "note": "a similarity to what ATT&CK reports of each group, not a verdict",
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "incident {id}: techniques {}; software {}",
        if techniques.is_empty() {
            "none".to_owned()
        } else {
            techniques.join(", ")
        },
        if software.is_empty() {
            "none".to_owned()
        } else {
            software.join(", ")
        }
    );
    for (i, c) in ranked.iter().enumerate() {
        println!(
            "{:>2}. {} {} — score {:.3} (matched {}{})",
            i + 1,
            c.id,
            c.name,
            c.score,
            c.matched_techniques
                .iter()
                .chain(&c.matched_software)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if c.partial_techniques.is_empty() {
                String::new()
            } else {
                format!("; in part {}", c.partial_techniques.len())
            }
        );
    }
    eprintln!("a similarity to what ATT&CK reports of each group, not a verdict");
    Ok(ExitCode::SUCCESS)
}

fn questions(
    config: &crate::config::Config,
    id: i64,
    dfiq: Option<PathBuf>,
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    let dir = dfiq
        .or_else(|| {
            let kept = config.data_dir.join("dfiq");
            kept.is_dir().then_some(kept)
        })
        .unwrap_or_else(|| PathBuf::from("../shared/data/attack/dfiq/data"));
    let catalog = haechi_forensics::dfiq::Catalog::load(&dir).map_err(|e| anyhow::anyhow!(e))?;
    let (_, detail) = open_incident(config, id)?;
    let techniques = haechi_forensics::dfiq::techniques_of_tags(
        detail.alerts.iter().flat_map(|a| a.tags.iter()),
    );
    let asked = catalog.questions_for(&techniques);
    if as_json {
        println!(
            "{}",
            serde_json::to_string(
                &json!({"incident": id, "techniques": techniques, "questions": asked})
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if techniques.is_empty() {
        println!(
            "incident {id}: its alerts carry no ATT&CK technique, so no DFIQ question is chosen"
        );
    }
    for a in &asked {
        println!(
            "{} {} — because {}",
            a.question.id,
            a.question.name,
            a.because.join(", ")
        );
        if let Some(q) = &a.haechi_query {
            println!("    haechi search '{q}'");
        }
        for approach in &a.question.approaches {
            println!("    approach: {}", approach.name);
        }
    }
    eprintln!(
        "{} questions for {} techniques ({})",
        asked.len(),
        techniques.len(),
        techniques.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// The institution's events involving the incident's entities and attackers, from
/// `before_mins` before its first alert to `after_mins` after its last, oldest first (at
/// most [`MAX_TIMELINE`], the latest); and how many there are in all.
fn gather_timeline(
    store: &dyn haechi_store::EventStore,
    incident: &haechi_store::state::incidents::Incident,
    before_mins: i64,
    after_mins: i64,
) -> anyhow::Result<(u64, Vec<serde_json::Value>)> {
    let minute = 60_000_000_000i64;
    let Some(query) = evidence_query(&incident.keys) else {
        return Ok((0, Vec::new()));
    };
    let mut request = SearchRequest::new(query);
    request.tenants = Some(vec![incident.tenant.clone()]);
    request.from = Some(Timestamp(incident.first_seen.0 - before_mins * minute));
    request.to = Some(Timestamp(incident.last_seen.0 + after_mins * minute + 1));
    request.limit = MAX_TIMELINE;
    let found = store.search(&request).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut events: Vec<serde_json::Value> = found.events.iter().map(event_to_json).collect();
    events.reverse();
    Ok((found.total, events))
}

fn export(
    config: &crate::config::Config,
    id: i64,
    out: &Path,
    before_mins: i64,
    after_mins: i64,
) -> anyhow::Result<ExitCode> {
    let (alerts, detail) = open_incident(config, id)?;
    let tasks = alerts.tasks(id).map_err(|e| anyhow::anyhow!("{e}"))?;
    let pinned = alerts.evidence(id).map_err(|e| anyhow::anyhow!("{e}"))?;
    let incident = &detail.incident;
    let store = super::open_store_read_only(config)?;
    let mut items = vec![Item {
        path: "incident.json".into(),
        bytes: serde_json::to_vec_pretty(&json!({
            "incident": incident, "alerts": detail.alerts, "notes": detail.notes, "tasks": tasks,
        }))?,
    }];
    for (i, e) in pinned.iter().enumerate() {
        items.push(Item {
            path: format!("evidence/{:04}.json", i + 1),
            bytes: serde_json::to_vec_pretty(e)?,
        });
    }
    // The events the alerts stand on, as stored.
    let mut referenced = 0;
    for r in detail.alerts.iter().flat_map(|a| a.events.iter()) {
        let query = haechi_query::parse(&format!("event.id:\"{}\"", r.id.replace('"', "")))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut request = SearchRequest::new(query);
        request.tenants = Some(vec![incident.tenant.clone()]);
        request.from = Some(r.timestamp);
        request.to = Some(Timestamp(r.timestamp.0 + 1));
        request.limit = 10;
        for event in store
            .search(&request)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .events
        {
            referenced += 1;
            items.push(Item {
                path: format!("events/{referenced:04}.json"),
                bytes: serde_json::to_vec_pretty(&event_to_json(&event))?,
            });
        }
    }
    let (total, timeline) = gather_timeline(&*store, incident, before_mins, after_mins)?;
    items.push(Item {
        path: "timeline.jsonl".into(),
        bytes: timeline::timesketch_jsonl(&timeline).into_bytes(),
    });
    items.push(Item {
        path: "timeline.json".into(),
        bytes: serde_json::to_vec_pretty(&json!({
            "total": total, "before_mins": before_mins, "after_mins": after_mins, "events": timeline,
        }))?,
    });
    // The export itself goes into the custody log it carries.
    let access = AccessStore::open(&AccessStore::path_in(&config.data_dir))?;
    let actor = cli_actor();
    access.audit(
        &AuditEntry::new(actor.clone(), "incident.export", format!("incident:{id}"))
            .after(json!({"out": out.display().to_string(), "items": items.len() + 1})),
    )?;
    let alert_targets: Vec<String> = detail
        .alerts
        .iter()
        .map(|a| format!("alert:{}", a.id))
        .collect();
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = access.audit_records(after, 1000)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        records.extend(
            page.into_iter().filter(|r| {
                r.target == format!("incident:{id}") || alert_targets.contains(&r.target)
            }),
        );
    }
    let chain = access.verify_audit()?;
    let custody = Custody {
        audit_head: chain.head,
        records,
    };
    let signer = keys::Signer::load_or_create(&keys::dir_in(&config.data_dir))
        .map_err(|e| anyhow::anyhow!(e))?;
    let about = json!({
        "incident": id, "tenant": incident.tenant, "title": incident.title,
        "exported_by": actor, "exported_at": Timestamp::now().to_rfc3339(),
        "by_haechi": env!("CARGO_PKG_VERSION"),
        "timeline_window_mins": [before_mins, after_mins],
    });
    let manifest = haechi_forensics::write(out, about, &items, &custody, &signer)
        .map_err(|e| anyhow::anyhow!(e))?;
    println!(
        "incident {id}: {} items ({} pinned, {referenced} referenced events, {} timeline events, {} custody records) in {}, signed by {}",
        manifest.items.len(),
        pinned.len(),
        timeline.len(),
        custody.records.len(),
        out.display(),
        signer.public_hex()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run_evidence(args: EvidenceArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_deref(), args.data_dir.clone())?;
    let keys_dir = keys::dir_in(&config.data_dir);
    match args.command {
        EvidenceCommand::Key => {
            let signer = keys::Signer::load_or_create(&keys_dir).map_err(|e| anyhow::anyhow!(e))?;
            println!("{}", signer.public_hex());
            Ok(ExitCode::SUCCESS)
        }
        EvidenceCommand::Verify { path, key, json } => {
            let trusted = match key {
                Some(k) => keys::read_public(&k).map_err(|e| anyhow::anyhow!(e))?,
                None => {
                    let file = keys_dir.join(keys::PUBLIC_FILE);
                    anyhow::ensure!(
                        file.is_file(),
                        "no trusted key: give --key (the center's public key, which `haechi evidence key` prints there)"
                    );
                    keys::read_public(&file.display().to_string())
                        .map_err(|e| anyhow::anyhow!(e))?
                }
            };
            let v = haechi_forensics::verify(&path, &trusted).map_err(|e| anyhow::anyhow!(e))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&json!({"ok": v.ok(), "verification": v}))?
                );
            } else if v.ok() {
                println!(
                    "{}: intact — {} items, {} custody records, signed by {}",
                    path.display(),
                    v.items,
                    v.custody_records,
                    v.signed_by
                );
            } else {
                for p in &v.problems {
                    println!("{p}");
                }
                eprintln!("{}: {} problems", path.display(), v.problems.len());
            }
            Ok(if v.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
