//! `haechi intel collection|import|list`: the STIX object store (`<data_dir>/state/intel.db`)
//! from the command line.
//!
//! * `haechi intel collection add NAME [--title T] [--description D]`, `collection list`;
//! * `haechi intel import --collection NAME FILE|URL...` — STIX 2.1 bundles (or bare
//!   objects), from files or http(s) URLs: every valid object is stored (a version it already has is counted as a
//!   duplicate), every invalid one is reported with its reasons; exit 1 when any was
//!   refused;
//! * `haechi intel list --collection NAME [--type T]... [--all-versions] [--limit N]` —
//!   the objects as JSON lines, oldest first.
//! * `haechi intel export --collection NAME [--tlp-max LEVEL] [--type T]... [--out FILE]` —
//!   the newest version of every object as one STIX 2.1 bundle (standard output by
//!   default), leaving out what is above `--tlp-max` (amber+strict by default: RED only
//!   when asked for by name).

use crate::DataDirArg;
use haechi_intel::Limits;
use haechi_intel::store::{Filter, IntelStore, Versions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum CollectionCommand {
    /// Create a collection.
    Add {
        name: String,
        #[arg(long, default_value = "")]
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        data_dir: DataDirArg,
    },
    /// The collections, with their ids and object counts.
    List {
        #[command(flatten)]
        data_dir: DataDirArg,
    },
}

/// Applies a command-line change to the hub under an audit intent, recorded as
/// `cli:<login name>` with what `change` returns as the record's `after`.
fn audit<T>(
    data_dir: &DataDirArg,
    action: &str,
    target: String,
    change: impl FnOnce() -> anyhow::Result<(T, serde_json::Value)>,
) -> anyhow::Result<T> {
    let dir = super::load_config(None, data_dir.data_dir.clone())?.data_dir;
    let access = haechi_access::AccessStore::open(&haechi_access::AccessStore::path_in(&dir))?;
    super::access::audited(&access, action, &target, || {
        let (value, after) = change()?;
        let entry = haechi_access::AuditEntry::new(super::access::cli_actor(), action, &target)
            .after(after);
        Ok((value, entry))
    })
}

fn open(data_dir: DataDirArg) -> anyhow::Result<IntelStore> {
    let dir = super::load_config(None, data_dir.data_dir)?.data_dir;
    let path = IntelStore::path_in(&dir);
    IntelStore::open(&path).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn collection(command: CollectionCommand) -> anyhow::Result<ExitCode> {
    match command {
        CollectionCommand::Add {
            name,
            title,
            description,
            data_dir,
        } => {
            let store = open(data_dir.clone())?;
            let c = audit(
                &data_dir,
                "intel.collection.add",
                format!("collection:{name}"),
                || {
                    let c = store
                        .add_collection(&name, &title, &description)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    let after = serde_json::json!(c);
                    Ok((c, after))
                },
            )?;
            println!("collection {} created, id {}", c.name, c.id);
        }
        CollectionCommand::List { data_dir } => {
            let store = open(data_dir)?;
            for c in store.collections().map_err(|e| anyhow::anyhow!("{e}"))? {
                let n = store.count(&c.id).map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("{}\t{}\t{n} objects\t{}", c.name, c.id, c.title);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn import(
    collection: &str,
    files: &[PathBuf],
    data_dir: DataDirArg,
) -> anyhow::Result<ExitCode> {
    let store = open(data_dir.clone())?;
    let actor = super::access::cli_actor();
    let mut refused = 0;
    for file in files {
        let bytes = match file
            .to_str()
            .filter(|f| f.starts_with("http://") || f.starts_with("https://"))
        {
            Some(url) => haechi_intel::remote::fetch_blocking(
                url,
                Limits::default().max_bytes as u64,
                std::time::Duration::from_secs(120),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?,
            None => std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?,
        };
        let started = std::time::Instant::now();
        let imported = audit(
            &data_dir,
            "intel.import",
            format!("collection:{collection}"),
            || {
                let r = store.add_bundle(collection, &bytes, Limits::default(), &actor)?;
                let after = serde_json::json!({"source": file.display().to_string(), "stored": r.stored, "duplicates": r.duplicates, "refused": r.rejected.len()});
                Ok((r, after))
            },
        );
        match imported.map_err(|e| e.downcast::<haechi_intel::store::StoreError>()) {
            Ok(r) => {
                println!(
                    "{}: {} stored, {} duplicates, {} refused ({:.0} objects/s)",
                    file.display(),
                    r.stored,
                    r.duplicates,
                    r.rejected.len(),
                    (r.stored + r.duplicates + r.rejected.len()) as f64
                        / started.elapsed().as_secs_f64().max(1e-9)
                );
                for (_, why) in &r.rejected {
                    println!("  refused {why}");
                }
                refused += r.rejected.len();
            }
            Err(Ok(haechi_intel::store::StoreError::NoCollection(c))) => {
                anyhow::bail!(
                    "no collection '{c}': create it with `haechi intel collection add {c}`"
                )
            }
            Err(Ok(e)) => {
                println!("{}: not imported: {e}", file.display());
                refused += 1;
            }
            // Not the hub's refusal (the audit log could not be written): stop.
            Err(Err(e)) => return Err(e),
        }
    }
    Ok(if refused > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn list(
    collection: &str,
    types: Vec<String>,
    all_versions: bool,
    limit: usize,
    data_dir: DataDirArg,
) -> anyhow::Result<ExitCode> {
    let store = open(data_dir.clone())?;
    let c = store
        .collection(collection)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut filter = Filter {
        types,
        versions: if all_versions {
            Versions::All
        } else {
            Versions::Last
        },
        limit: limit.min(haechi_intel::store::MAX_PAGE),
        ..Default::default()
    };
    let mut left = limit;
    while left > 0 {
        filter.limit = left.min(haechi_intel::store::MAX_PAGE);
        let page = store
            .objects(&c.id, &filter)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        left -= page.objects.len();
        for o in &page.objects {
            println!("{}", o.json);
        }
        match page.next {
            Some(n) => filter.next = Some(n),
            None => break,
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a collection as one STIX bundle; answers how many objects went and how many
/// were withheld by their TLP.
pub fn export(
    collection: &str,
    tlp_max: &str,
    types: Vec<String>,
    out: Option<PathBuf>,
    data_dir: DataDirArg,
) -> anyhow::Result<ExitCode> {
    let max = haechi_intel::Tlp::parse(tlp_max).ok_or_else(|| {
        anyhow::anyhow!("--tlp-max '{tlp_max}': clear, green, amber, amber+strict or red")
    })?;
    let store = open(data_dir.clone())?;
    let c = store
        .collection(collection)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let filter = Filter {
        types,
        ..Default::default()
    };
    let (mut objects, mut withheld) = (Vec::new(), 0usize);
    for o in store
        .all_objects(&c.id, filter)
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        if o.tlp.unwrap_or(haechi_intel::Tlp::UNMARKED_DEFAULT) <= max {
            objects.push(o.json);
        } else {
            withheld += 1;
        }
    }
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": format!("bundle--{}", haechi_intel::build::new_uuid()),
        "objects": objects,
    });
    let text = serde_json::to_string_pretty(&bundle)?;
    // What leaves the hub is on the record: the intent before it leaves.
    audit(
        &data_dir,
        "intel.export",
        format!("collection:{}", c.name),
        || {
            match &out {
                Some(path) => std::fs::write(path, text + "\n")
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                None => println!("{text}"),
            }
            let after = serde_json::json!({"objects": objects.len(), "withheld": withheld, "tlp_max": max.as_str(), "out": out.as_ref().map(|p| p.display().to_string())});
            Ok(((), after))
        },
    )?;
    eprintln!(
        "{} objects exported from {}, {withheld} withheld (above {})",
        objects.len(),
        c.name,
        max
    );
    Ok(ExitCode::SUCCESS)
}
