//! A consistent copy of an embedded store that another process may be writing at the same
//! time (`haechi backup` beside a running `haechi serve`).
//!
//! Why this order is enough: the write-ahead log is copied first, the day indexes after.
//! An event acknowledged before the copy started is either still in the log (copied) or
//! was committed to its day's index before the log dropped it, and so is in any index
//! state read afterwards. Each index is read from its committed `meta.json`: the segment
//! files it names are immutable, so copying them gives exactly that commit; when a merge
//! deletes one of them during the copy, the day is copied again from its newer
//! `meta.json`. On open, the copied log is replayed only past each day's committed log
//! sequence (the commit payload), so nothing is indexed twice.

use crate::{Result, StoreError, io_err};
use std::path::{Path, PathBuf};

/// What a snapshot copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotStats {
    /// Day indexes copied.
    pub partitions: usize,
    /// Write-ahead log segments copied (events not yet committed to an index).
    pub log_segments: usize,
    /// Dead-letter files copied.
    pub dead_letter_files: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// How often a day is copied again when merges keep deleting the files of the commit
/// being copied, before giving up.
const MAX_ATTEMPTS: usize = 20;

/// Copies the store under `root` into `out` (created; must not hold a store already).
pub fn snapshot(root: &Path, out: &Path) -> Result<SnapshotStats> {
    let mut stats = SnapshotStats::default();
    let (log, events, dead) = (out.join("wal"), out.join("events"), out.join("deadletter"));
    for dir in [&log, &events, &dead] {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    for segment in sorted_files(&root.join("wal"))? {
        if let Some(bytes) = copy_if_present(&segment, &log.join(file_name(&segment)))? {
            stats.log_segments += 1;
            stats.bytes += bytes;
        }
    }
    for day in sorted_dirs(&root.join("events"))? {
        if !day.join("meta.json").is_file() {
            continue; // a day created but never committed holds nothing
        }
        stats.bytes += copy_partition(&day, &events.join(file_name(&day)))?;
        stats.partitions += 1;
    }
    for file in sorted_files(&root.join("deadletter"))? {
        if let Some(bytes) = copy_if_present(&file, &dead.join(file_name(&file)))? {
            stats.dead_letter_files += 1;
            stats.bytes += bytes;
        }
    }
    Ok(stats)
}

/// Copies one day's last commit; returns the bytes written.
fn copy_partition(day: &Path, out: &Path) -> Result<u64> {
    let name = day.display().to_string();
    for _ in 0..MAX_ATTEMPTS {
        let meta_path = day.join("meta.json");
        let meta = std::fs::read(&meta_path).map_err(io_err(&meta_path))?;
        let segments = segment_ids(&meta).map_err(|reason| StoreError::Index {
            partition: name.clone(),
            message: format!("meta.json cannot be read for a backup: {reason}"),
        })?;
        if out.exists() {
            std::fs::remove_dir_all(out).map_err(io_err(out))?;
        }
        std::fs::create_dir_all(out).map_err(io_err(out))?;
        match copy_segments(day, out, &segments)? {
            Some((mut copied, bytes)) => {
                write_synced(&out.join("meta.json"), &meta)?;
                // Files the copy's index manages, so that its later merges delete them.
                copied.push("meta.json".into());
                let managed = serde_json::to_vec(&copied).unwrap_or_default();
                write_synced(&out.join(".managed.json"), &managed)?;
                return Ok(bytes + meta.len() as u64);
            }
            None => continue, // a merge deleted a file of this commit: read the newer one
        }
    }
    Err(StoreError::Index {
        partition: name,
        message: format!("its files kept changing during {MAX_ATTEMPTS} attempts to copy it"),
    })
}

/// Copies every file of the segments named; `None` when one disappeared meanwhile.
fn copy_segments(
    day: &Path,
    out: &Path,
    segments: &[String],
) -> Result<Option<(Vec<String>, u64)>> {
    let mut copied = Vec::new();
    let mut bytes = 0;
    let mut found = vec![false; segments.len()];
    for file in sorted_files(day)? {
        let name = file_name(&file);
        let Some(i) = segments.iter().position(|id| {
            name.strip_prefix(id.as_str())
                .is_some_and(|r| r.starts_with('.'))
        }) else {
            continue;
        };
        match copy_if_present(&file, &out.join(&name))? {
            Some(n) => {
                bytes += n;
                found[i] = true;
                copied.push(name);
            }
            None => return Ok(None),
        }
    }
    Ok(found.iter().all(|f| *f).then_some((copied, bytes)))
}

/// The segment ids a tantivy `meta.json` lists, as its file names spell them (no hyphens).
fn segment_ids(meta: &[u8]) -> std::result::Result<Vec<String>, String> {
    let json: serde_json::Value = serde_json::from_slice(meta).map_err(|e| e.to_string())?;
    let segments = json
        .get("segments")
        .and_then(|s| s.as_array())
        .ok_or("it lists no segments")?;
    segments
        .iter()
        .map(|s| {
            s.get("segment_id")
                .and_then(|id| id.as_str())
                .map(|id| id.replace('-', ""))
                .ok_or_else(|| "a segment has no id".to_owned())
        })
        .collect()
}

/// Copies a file and syncs the copy; `None` when the source no longer exists.
fn copy_if_present(from: &Path, to: &Path) -> Result<Option<u64>> {
    let mut source = match std::fs::File::open(from) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(from)(e)),
    };
    let mut target = std::fs::File::create(to).map_err(io_err(to))?;
    let bytes = std::io::copy(&mut source, &mut target).map_err(io_err(to))?;
    target.sync_all().map_err(io_err(to))?;
    Ok(Some(bytes))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The regular files of a directory, sorted (none when it does not exist).
fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>> {
    entries(dir, |t| t.is_file())
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    entries(dir, |t| t.is_dir())
}

fn entries(dir: &Path, keep: impl Fn(&std::fs::FileType) -> bool) -> Result<Vec<PathBuf>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut out: Vec<PathBuf> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| keep(&t)))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventStore;
    use crate::embedded::{EmbeddedStore, StoreConfig};
    use haechi_event::Event;

    fn events(n: usize, tag: &str) -> Vec<Event> {
        (0..n)
            .map(|i| {
                let at = haechi_event::Timestamp((1_790_000_000 + i as i64) * 1_000_000_000);
                let mut e = Event::new(at, "test".into(), 2);
                e.set("message", format!("{tag} event {i}"));
                e
            })
            .collect()
    }

    #[test]
    fn a_snapshot_of_an_open_store_holds_committed_and_logged_events_once() {
        let dir = tempfile::tempdir().unwrap();
        let (root, copy) = (dir.path().join("store"), dir.path().join("copy"));
        let store = EmbeddedStore::open(&root, StoreConfig::default()).unwrap();
        store.append(&events(300, "committed")).unwrap();
        store.commit().unwrap();
        store.append(&events(200, "logged")).unwrap(); // in the log only
        let stats = snapshot(&root, &copy).unwrap();
        assert_eq!(stats.partitions, 1);
        assert!(stats.log_segments >= 1, "{stats:?}");
        drop(store);
        let restored = EmbeddedStore::open(&copy, StoreConfig::default()).unwrap();
        assert_eq!(
            restored.stats().events,
            500,
            "every acknowledged event, once"
        );
    }

    #[test]
    fn segment_ids_are_spelled_as_file_names() {
        let meta =
            br#"{"segments":[{"segment_id":"b732e914-1bd3-43fb-8d8f-79b9a78b701d","max_doc":3}]}"#;
        assert_eq!(
            segment_ids(meta).unwrap(),
            ["b732e9141bd343fb8d8f79b9a78b701d"]
        );
        assert!(segment_ids(b"{}").is_err());
    }
}
