//! `haechi intel sync [--remote NAME]`: one exchange with each partner TAXII server of
//! `[[intel.remotes]]` — pull what its collection added since the last pull, then push
//! what the local `push_from` collection received since the last push
//! ([`haechi_intel::remote`]). `haechi serve` does the same every `interval_secs`
//! ([`sync_loop`]). Exit 1 when any remote failed.

use super::load_config;
use crate::DataDirArg;
use haechi_intel::remote::{Remote, RemoteConfig, pull, push};
use haechi_intel::store::IntelStore;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// One pull and one push with a remote, as a line for people.
/// A failed pull does not stop the push (nor the other way round); both errors are
/// returned together.
pub async fn sync_once(remote: &Remote, store: &Arc<IntelStore>) -> Result<String, String> {
    let (pulled, pushed) = (pull(remote, store).await, push(remote, store).await);
    let (pulled, pushed) = match (pulled, pushed) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(a), Ok(_)) => return Err(format!("pull: {a}")),
        (Ok(_), Err(b)) => return Err(format!("push: {b}")),
        (Err(a), Err(b)) => return Err(format!("pull: {a}; push: {b}")),
    };
    let mut line = format!(
        "remote {}: pulled {} objects in {} pages ({} stored, {} duplicates, {} refused); pushed {} ({} accepted, {} refused, {} withheld by TLP, {} not echoed back)",
        remote.config.name,
        pulled.received,
        pulled.pages,
        pulled.stored,
        pulled.duplicates,
        pulled.refused,
        pushed.sent,
        pushed.accepted,
        pushed.failed.len(),
        pushed.withheld,
        pushed.echoes,
    );
    for why in pulled.rejected.iter().chain(&pushed.failed).take(10) {
        line.push_str(&format!("\n  {why}"));
    }
    Ok(line)
}

pub fn run(
    config: Option<PathBuf>,
    data_dir: DataDirArg,
    only: Option<String>,
) -> anyhow::Result<ExitCode> {
    let config = load_config(config.as_deref(), data_dir.data_dir)?;
    let remotes: Vec<RemoteConfig> = config
        .intel
        .remotes
        .iter()
        .filter(|r| only.as_deref().is_none_or(|o| o == r.name))
        .cloned()
        .collect();
    if remotes.is_empty() {
        anyhow::bail!(match only {
            Some(name) => format!("no remote '{name}' in [[intel.remotes]]"),
            None => "no [[intel.remotes]] in the configuration".into(),
        });
    }
    let store = Arc::new(
        IntelStore::open(&IntelStore::path_in(&config.data_dir))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut failed = false;
    for r in remotes {
        let result = match Remote::new(r) {
            Ok(remote) => runtime.block_on(sync_once(&remote, &store)),
            Err(e) => Err(e),
        };
        match result {
            Ok(line) => println!("{line}"),
            Err(e) => {
                failed = true;
                eprintln!("{e}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Counts an exchange in the metrics: each direction `ok` unless its error is named.
fn count_sync(
    metrics: &haechi_ingest::metrics::Metrics,
    remote: &str,
    result: &Result<String, String>,
) {
    for direction in ["pull", "push"] {
        let failed = matches!(result, Err(e) if e.contains(&format!("{direction}:")));
        metrics
            .taxii_syncs
            .get_or_create(&haechi_ingest::metrics::SyncLabel {
                remote: remote.to_owned(),
                direction: direction.to_owned(),
                outcome: if failed { "failed" } else { "ok" }.to_owned(),
            })
            .inc();
    }
}

/// Syncs with one remote every `interval_secs` until `stop`.
pub async fn sync_loop(
    remote: Remote,
    store: Arc<IntelStore>,
    metrics: Arc<haechi_ingest::metrics::Metrics>,
    stop: tokio_util::sync::CancellationToken,
) {
    let interval = std::time::Duration::from_secs(remote.config.interval_secs);
    loop {
        let result = sync_once(&remote, &store).await;
        count_sync(&metrics, &remote.config.name, &result);
        match result {
            Ok(line) => tracing::info!("{line}"),
            Err(e) => tracing::error!("{e}"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
