//! One module per command.

pub mod access;
pub mod alerts;
pub mod attribute;
pub mod backup;
pub mod bench;
pub mod bench_clickhouse;
pub mod bench_cluster;
pub mod bench_domains;
pub mod bench_fairness;
pub mod bench_ml;
pub mod bench_ot;
pub mod bench_state;
pub mod bench_stix;
pub mod bench_stream;
pub mod bench_vuln;
pub mod blocklist;
pub mod cluster;
pub mod deadletter;
pub mod demo;
pub mod doctor;
pub mod domains;
pub mod drill;
pub mod drill_server;
pub mod hunt;
pub mod incident;
pub mod ingest;
pub mod intel;
pub mod intel_partner;
pub mod intel_store;
pub mod intel_sync;
pub mod isms;
pub mod ml;
pub mod ot;
pub mod playbook;
pub mod risk;
pub mod rules;
pub mod search;
pub mod serve;
pub mod vuln;
pub mod web;

use crate::config::Config;
use haechi_store::clickhouse::ClickHouseStore;
use haechi_store::embedded::EmbeddedStore;
use haechi_store::{Backend, EventStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Loads the configuration and applies a `--data-dir` override.
pub fn load_config(config: Option<&Path>, data_dir: Option<PathBuf>) -> anyhow::Result<Config> {
    let mut c = Config::load(config)?;
    if let Some(d) = data_dir {
        c.data_dir = d;
    }
    Ok(c)
}

/// Opens the event store of a configuration: the embedded one in the data directory, or
/// the ClickHouse server of `[store.clickhouse]` with `[store] backend = "clickhouse"`.
pub fn open_store(config: &Config) -> anyhow::Result<Arc<dyn EventStore>> {
    if let Some(clickhouse) = open_clickhouse(config)? {
        return Ok(clickhouse);
    }
    let dir = config.store_dir();
    let store = EmbeddedStore::open(&dir, config.store.clone())
        .map_err(|e| anyhow::anyhow!("cannot open the store in {}: {e}", dir.display()))?;
    Ok(Arc::new(store))
}

fn open_clickhouse(config: &Config) -> anyhow::Result<Option<Arc<dyn EventStore>>> {
    if config.store.backend != Backend::ClickHouse {
        return Ok(None);
    }
    let c = &config.store.clickhouse;
    let store =
        ClickHouseStore::open_with_retention(c, config.store.retention_days).map_err(|e| {
            anyhow::anyhow!(
                "cannot open the ClickHouse store (database {}): {e}",
                c.database
            )
        })?;
    Ok(Some(Arc::new(store)))
}

/// Opens the embedded store for searching. When no other process writes it, it is
/// opened normally, which replays a write-ahead log left by a crash (so events a crashed
/// server acknowledged are found); beside a running `haechi serve` it is opened read-only
/// and sees what that server has committed.
pub fn open_store_read_only(config: &Config) -> anyhow::Result<Arc<dyn EventStore>> {
    if let Some(clickhouse) = open_clickhouse(config)? {
        return Ok(clickhouse);
    }
    let dir = config.store_dir();
    if !dir.join("events").is_dir() {
        anyhow::bail!(
            "there is no event store in {} yet: `haechi ingest` or `haechi serve` creates it",
            dir.display()
        );
    }
    let opened = match EmbeddedStore::open(&dir, config.store.clone()) {
        Err(haechi_store::StoreError::Locked(_)) => EmbeddedStore::open_read_only(&dir),
        other => other,
    };
    let store =
        opened.map_err(|e| anyhow::anyhow!("cannot open the store in {}: {e}", dir.display()))?;
    Ok(Arc::new(store))
}

/// The progress bar of commands that read files: bytes done of `total_bytes` (drawn on a
/// terminal only).
pub fn file_progress_bar(total_bytes: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total_bytes);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}
