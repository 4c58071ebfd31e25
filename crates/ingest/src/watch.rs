//! Directory sources (`[[watch]]`): files delivered into a folder, the way cloud exports
//! land (CloudTrail to an S3 bucket synced here, Azure diagnostic settings to a storage
//! account, GCP log sinks to a bucket, Kubernetes audit logs rotated by the API server).
//!
//! Every `poll_secs` the folder is walked (recursively: CloudTrail nests files by
//! account, region and day). A file is read once it has not changed for `settle_secs`
//! (so a file still being copied is not read half-way): decompressed by its magic bytes
//! (gzip, zstd), split into its records — the elements of a JSON document (a CloudTrail
//! `{"Records": […]}` delivery file, a JSON array, an Azure `{"records": […]}` blob) or
//! its lines — and handed to the pipeline in batches like any other source, waiting for
//! each batch to be durably stored. Only then is the file marked as read, in
//! `<state_dir>/watch-<name>.json` (path, size, modification time), so a restart does
//! not read it again and a file that grows or is replaced is read again (its records
//! already stored are dropped by the de-duplication of the pipeline). A file that cannot
//! be read (not decompressible, a JSON document over `max_document_bytes`, an EVTX file,
//! which `haechi ingest` reads) is marked with the reason and logged, not retried in a
//! loop; a store that refuses a batch is retried at the next poll.

use crate::Format;
use crate::listen::{Delivery, ListenContext};
use crate::reader::ReadStats;
use crate::reader::{json_document_records, open_records, starts_json_document};
use haechi_event::Timestamp;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::oneshot;

/// One watched folder as configured (`[[watch]]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// A name for logs and the state file (`cloudtrail-city-hall`).
    pub name: String,
    /// The folder, read recursively.
    pub path: PathBuf,
    /// The institution everything in it belongs to.
    pub tenant: String,
    /// The record format (default `auto`).
    #[serde(default = "default_format")]
    pub format: String,
    /// Only files whose name ends with this (`.json.gz`); default: every file.
    #[serde(default)]
    pub suffix: Option<String>,
    /// How often the folder is walked (seconds, default 10).
    #[serde(default = "default_poll")]
    pub poll_secs: u64,
    /// How long a file must stay unchanged before it is read (seconds, default 2).
    #[serde(default = "default_settle")]
    pub settle_secs: u64,
}

fn default_format() -> String {
    "auto".into()
}
fn default_poll() -> u64 {
    10
}
fn default_settle() -> u64 {
    2
}

/// What the state file remembers of one file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileMark {
    pub len: u64,
    /// Modification time, nanoseconds since the epoch.
    pub modified: i128,
    pub records: u64,
    /// Why the file could not be read, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The state of one watched folder: relative path → mark.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct WatchState {
    pub files: BTreeMap<String, FileMark>,
}

impl WatchState {
    fn load(path: &Path) -> WatchState {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, path)
    }
}

/// Checks a watch entry (its format name) before the server announces itself.
pub fn check(config: &WatchConfig) -> Result<Format, String> {
    if !config.path.is_dir() {
        return Err(format!(
            "watch {}: {} is not a folder",
            config.name,
            config.path.display()
        ));
    }
    config
        .format
        .parse::<Format>()
        .map_err(|e| format!("watch {}: {e}", config.name))
}

/// Watches one folder until shutdown.
pub async fn run(config: WatchConfig, ctx: ListenContext, state_dir: PathBuf) {
    let format = match check(&config) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("{e}");
            return;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&state_dir) {
        tracing::error!(
            "watch {}: cannot create {}: {e}",
            config.name,
            state_dir.display()
        );
        return;
    }
    let state_path = state_dir.join(format!("watch-{}.json", slug(&config.name)));
    let mut state = WatchState::load(&state_path);
    let name: Arc<str> = Arc::from(config.name.as_str());
    let tenant: Arc<str> = Arc::from(config.tenant.as_str());
    loop {
        let mut changed = false;
        for (relative, path, len, modified) in due_files(&config) {
            if ctx.shutdown.is_cancelled() {
                return;
            }
            if state
                .files
                .get(&relative)
                .is_some_and(|m| m.len == len && m.modified == modified)
            {
                continue;
            }
            let outcome = read_file_into(&path, format, &name, &tenant, &ctx).await;
            let mark = match outcome {
                Ok(records) => FileMark {
                    len,
                    modified,
                    records,
                    error: None,
                },
                Err(FileError::Store(e)) => {
                    tracing::warn!(
                        "watch {name}: {}: not stored ({e}); trying again at the next poll",
                        path.display()
                    );
                    continue;
                }
                Err(FileError::Unreadable(e)) => {
                    tracing::warn!("watch {name}: {}: {e}", path.display());
                    FileMark {
                        len,
                        modified,
                        records: 0,
                        error: Some(e),
                    }
                }
            };
            state.files.insert(relative, mark);
            changed = true;
        }
        if changed && let Err(e) = state.save(&state_path) {
            tracing::error!("watch {name}: cannot save {}: {e}", state_path.display());
        }
        tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(config.poll_secs.max(1))) => {}
        }
    }
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The files of the folder that have settled: (relative path, path, size, modified).
fn due_files(config: &WatchConfig) -> Vec<(String, PathBuf, u64, i128)> {
    let settle = Duration::from_secs(config.settle_secs);
    let now = SystemTime::now();
    let mut out = Vec::new();
    let mut stack = vec![config.path.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
                continue;
            }
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.')
                || config
                    .suffix
                    .as_deref()
                    .is_some_and(|s| !file_name.ends_with(s))
            {
                continue;
            }
            let Ok(modified) = meta.modified() else {
                continue;
            };
            if now.duration_since(modified).unwrap_or_default() < settle {
                continue;
            }
            let nanos = modified
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i128);
            let relative = path
                .strip_prefix(&config.path)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            out.push((relative, path, meta.len(), nanos));
        }
    }
    out.sort();
    out
}

enum FileError {
    /// The file cannot be read as records (it will not get better by retrying).
    Unreadable(String),
    /// The pipeline did not store a batch (retry later).
    Store(String),
}

/// Reads one file and hands its records on; the number of records handed on.
async fn read_file_into(
    path: &Path,
    format: Format,
    name: &Arc<str>,
    tenant: &Arc<str>,
    ctx: &ListenContext,
) -> Result<u64, FileError> {
    let limits = ctx.limits;
    let path_owned = path.to_owned();
    // Reading and decompressing block: off the async workers.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<Vec<u8>>, String>>(2);
    let batch = limits.batch_size.max(1);
    let reader = tokio::task::spawn_blocking(move || {
        let send = |r| tx.blocking_send(r).is_ok();
        let (mut reader, is_evtx) = match open_records(&path_owned) {
            Ok(r) => r,
            Err(e) => return send(Err(format!("cannot read: {e}"))),
        };
        if is_evtx {
            return send(Err(
                "an EVTX file: read it with `haechi ingest`, or forward the events".into(),
            ));
        }
        match starts_json_document(&mut reader) {
            Ok(true) => match json_document_records(reader, limits.max_document_bytes) {
                Ok(records) => records.chunks(batch).all(|c| send(Ok(c.to_vec()))),
                Err(e) => send(Err(format!("JSON document: {e}"))),
            },
            Ok(false) => {
                let mut chunk = Vec::with_capacity(batch);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) => break,
                        Ok(_) => chunk.push(std::mem::take(&mut line)),
                        Err(e) => return send(Err(format!("cannot read: {e}"))),
                    }
                    if chunk.len() >= batch && !send(Ok(std::mem::take(&mut chunk))) {
                        return false;
                    }
                }
                chunk.is_empty() || send(Ok(chunk))
            }
            Err(e) => send(Err(format!("cannot read: {e}"))),
        }
    });
    let mut records = 0u64;
    while let Some(chunk) = rx.recv().await {
        if ctx.shutdown.is_cancelled() {
            // Not marked as read: the next start reads it again, and de-duplication drops
            // what was already stored.
            return Err(FileError::Store("shutting down".into()));
        }
        let chunk = chunk.map_err(FileError::Unreadable)?;
        records += chunk.len() as u64;
        let (ack, stored) = oneshot::channel::<Result<ReadStats, String>>();
        let delivery = Delivery {
            listener: name.clone(),
            peer: None,
            tenant: Some(tenant.clone()),
            format,
            records: chunk,
            received: Timestamp::now(),
            ack: Some(ack),
            // One chunk at a time: a file never holds more than one place in the queue.
            slot: None,
            drill: None,
        };
        ctx.sender
            .send(delivery)
            .await
            .map_err(|_| FileError::Store("the pipeline is shutting down".into()))?;
        match stored.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(FileError::Store(e)),
            Err(_) => return Err(FileError::Store("the pipeline dropped the batch".into())),
        }
    }
    let _ = reader.await;
    Ok(records)
}
