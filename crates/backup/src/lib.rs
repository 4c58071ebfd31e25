//! # Backup and restore of a data directory
//!
//! [`backup`] copies a data directory while `haechi serve` keeps running, into a backup
//! directory that holds a copy of the data directory (`data/`), the configuration and
//! model files named by the deployment (`config/`), and `manifest.json`: every file with
//! its size, SHA-256 and mode, every database with its row counts per table, and what the
//! event store held. The manifest is written last, so a backup without one is incomplete
//! and is refused.
//!
//! Consistency: the SQLite databases (state, intel, access, vulnerabilities) are copied
//! first, each as one transaction (`VACUUM INTO`); the event store after them (see
//! [`haechi_store::embedded::snapshot`]). An alert in the copy therefore never points at an
//! event the copy lacks: the pipeline stores events before it records their alerts.
//!
//! [`restore`] checks every file against the manifest before it writes anything, refuses a
//! data directory that is not empty, copies, and then checks what it wrote: each database
//! passes `PRAGMA integrity_check` with the row counts of the manifest, and the event
//! store opens (replaying its copied log).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The manifest's format; a restore refuses another.
pub const FORMAT: &str = "haechi-backup/1";
const MANIFEST: &str = "manifest.json";
const DATA: &str = "data";
const CONFIG: &str = "config";
/// The event store's directory in a data directory.
const STORE: &str = "store";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("database {path}: {message}")]
    Database { path: String, message: String },
    #[error("event store: {0}")]
    Store(#[from] haechi_store::StoreError),
    #[error("{0} is not empty; {1}")]
    NotEmpty(String, &'static str),
    #[error(
        "{0} holds no {MANIFEST}: the backup is incomplete (it was interrupted) or this is not a backup"
    )]
    Incomplete(String),
    #[error("{path}: {reason}")]
    Damaged { path: String, reason: String },
    #[error("after the restore, {what}: {reason}")]
    Check { what: String, reason: String },
}

pub type Result<T> = std::result::Result<T, BackupError>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What to back up.
#[derive(Debug, Clone)]
pub struct Plan {
    pub data_dir: PathBuf,
    /// Files outside the data directory (the configuration, model files), stored under
    /// `config/` by the name given.
    pub extras: Vec<(String, PathBuf)>,
    /// Where the deployment keeps its events when not in the data directory (a ClickHouse
    /// server): said in the manifest, since those events are not in the backup.
    pub external_events: Option<String>,
    pub haechi_version: String,
}

/// The manifest of a backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub haechi_version: String,
    /// When the copy started (RFC 3339, UTC).
    pub created: String,
    /// The data directory copied.
    pub source: String,
    pub events: EventsPart,
    pub databases: Vec<Database>,
    /// Every file of the backup (paths relative to the backup directory).
    pub files: Vec<FileEntry>,
    /// Every directory with its mode (a key directory stays owner-only).
    #[serde(default)]
    pub directories: Vec<DirEntry>,
    /// What was left out, and why.
    pub skipped: Vec<Skipped>,
}

/// The event store's part of a backup.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EventsPart {
    /// Day indexes copied.
    pub partitions: usize,
    /// Write-ahead log segments copied.
    pub log_segments: usize,
    pub dead_letter_files: usize,
    /// Events kept outside the data directory, not in this backup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Database {
    /// Relative to the backup directory.
    pub path: String,
    /// Rows per table when copied.
    pub tables: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// Unix permission bits (credentials and keys stay owner-only).
    pub mode: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirEntry {
    pub path: String,
    pub mode: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

/// Copies the plan's data directory into `out` (missing or empty) and writes the manifest.
pub fn backup(plan: &Plan, out: &Path) -> Result<Manifest> {
    ensure_empty(out, "a backup goes into a new or empty directory")?;
    create_private_dir(out)?;
    let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let data_out = out.join(DATA);
    create_private_dir(&data_out)?;
    let found = survey(&plan.data_dir)?;
    let mut manifest = Manifest {
        format: FORMAT.into(),
        haechi_version: plan.haechi_version.clone(),
        created,
        source: plan.data_dir.display().to_string(),
        events: EventsPart {
            external: plan.external_events.clone(),
            ..EventsPart::default()
        },
        databases: Vec::new(),
        files: Vec::new(),
        directories: Vec::new(),
        skipped: found.skipped,
    };
    // Databases first, the event store after them (see the module documentation).
    for rel in &found.databases {
        let target = data_out.join(rel);
        make_parent(&target)?;
        let tables = copy_database(&plan.data_dir.join(rel), &target)?;
        copy_mode(&plan.data_dir.join(rel), &target)?;
        manifest.databases.push(Database {
            path: backup_path(DATA, rel),
            tables,
        });
    }
    if found.has_store {
        let stats = haechi_store::embedded::snapshot::snapshot(
            &plan.data_dir.join(STORE),
            &data_out.join(STORE),
        )?;
        manifest.events.partitions = stats.partitions;
        manifest.events.log_segments = stats.log_segments;
        manifest.events.dead_letter_files = stats.dead_letter_files;
    }
    for rel in &found.files {
        let target = data_out.join(rel);
        make_parent(&target)?;
        if copy_file(&plan.data_dir.join(rel), &target)? {
            copy_mode(&plan.data_dir.join(rel), &target)?;
        } else {
            manifest.skipped.push(Skipped {
                path: rel.clone(),
                reason: "removed while the backup ran".into(),
            });
        }
    }
    for (name, path) in &plan.extras {
        let target = out.join(CONFIG).join(name);
        make_parent(&target)?;
        if !copy_file(path, &target)? {
            return Err(BackupError::Io {
                path: path.display().to_string(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        copy_mode(path, &target)?;
    }
    for rel in &found.directories {
        let target = data_out.join(rel);
        if target.is_dir() {
            copy_mode(&plan.data_dir.join(rel), &target)?;
        }
    }
    (manifest.files, manifest.directories) = hash_tree(out)?;
    write_manifest(out, &manifest)?;
    Ok(manifest)
}

/// Reads a backup's manifest and checks every file it lists (size and SHA-256).
pub fn verify(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BackupError::Incomplete(dir.display().to_string()));
        }
        Err(e) => return Err(io_err(&path)(e)),
    };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| BackupError::Damaged {
        path: path.display().to_string(),
        reason: format!("not a backup manifest: {e}"),
    })?;
    if manifest.format != FORMAT {
        return Err(BackupError::Damaged {
            path: path.display().to_string(),
            reason: format!("format {:?}; this Haechi reads {FORMAT:?}", manifest.format),
        });
    }
    for entry in &manifest.files {
        check_entry(dir, entry)?;
    }
    Ok(manifest)
}

/// What a restore wrote and found.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// Events searchable in the restored store (none without an embedded store).
    pub events: Option<u64>,
    /// Where the configuration and model files of the backup are (they are not copied
    /// into the data directory: the deployment decides where they live).
    pub config_files: Vec<String>,
}

/// Restores the backup in `dir` into `data_dir` (missing or empty).
pub fn restore(dir: &Path, data_dir: &Path) -> Result<RestoreReport> {
    let manifest = verify(dir)?;
    ensure_empty(
        data_dir,
        "a restore goes into a new or empty data directory",
    )?;
    create_private_dir(data_dir)?;
    let data_prefix = format!("{DATA}/");
    let mut config_files = Vec::new();
    for entry in &manifest.files {
        let Some(rel) = entry.path.strip_prefix(&data_prefix) else {
            config_files.push(dir.join(&entry.path).display().to_string());
            continue;
        };
        let target = data_dir.join(safe_relative(rel, &entry.path)?);
        make_parent(&target)?;
        copy_file(&dir.join(&entry.path), &target)?;
        set_mode(&target, entry.mode)?;
    }
    let mut directories: Vec<&DirEntry> = manifest
        .directories
        .iter()
        .filter(|d| d.path.starts_with(&data_prefix))
        .collect();
    directories.sort_by_key(|d| std::cmp::Reverse(d.path.len()));
    for d in directories {
        let rel = &d.path[data_prefix.len()..];
        let target = data_dir.join(safe_relative(rel, &d.path)?);
        std::fs::create_dir_all(&target).map_err(io_err(&target))?;
        set_mode(&target, d.mode)?;
    }
    sync_dir(data_dir)?;
    for db in &manifest.databases {
        let rel = db.path.strip_prefix(&data_prefix).unwrap_or(&db.path);
        check_database(&data_dir.join(rel), &db.tables)?;
    }
    let store = data_dir.join(STORE);
    let events = if store.join("events").is_dir() {
        let opened = haechi_store::embedded::EmbeddedStore::open(&store, Default::default())
            .map_err(|e| BackupError::Check {
                what: "the event store".into(),
                reason: e.to_string(),
            })?;
        Some(haechi_store::EventStore::stats(&opened).events)
    } else {
        None
    };
    Ok(RestoreReport {
        manifest,
        events,
        config_files,
    })
}

/// What a data directory holds, by how it is copied (paths relative to it).
struct Survey {
    directories: Vec<String>,
    databases: Vec<String>,
    files: Vec<String>,
    has_store: bool,
    skipped: Vec<Skipped>,
}

fn survey(data_dir: &Path) -> Result<Survey> {
    if !data_dir.is_dir() {
        return Err(BackupError::Io {
            path: data_dir.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such data directory"),
        });
    }
    let mut survey = Survey {
        directories: Vec::new(),
        databases: Vec::new(),
        files: Vec::new(),
        has_store: false,
        skipped: Vec::new(),
    };
    walk(data_dir, "", &mut survey)?;
    Ok(survey)
}

fn walk(root: &Path, rel: &str, out: &mut Survey) -> Result<()> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(io_err(&dir))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry.file_type().map_err(io_err(&entry.path()))?;
        if kind.is_symlink() {
            out.skipped.push(Skipped {
                path,
                reason: "a symbolic link (its target is not part of the data directory)".into(),
            });
        } else if kind.is_dir() {
            if path == STORE && is_event_store(&entry.path()) {
                out.has_store = true;
            } else {
                out.directories.push(path.clone());
                walk(root, &path, out)?;
            }
        } else if !kind.is_file() || is_transient(&name) {
            continue;
        } else if is_sqlite(&entry.path()) {
            out.databases.push(path);
        } else {
            out.files.push(path);
        }
    }
    Ok(())
}

fn is_event_store(dir: &Path) -> bool {
    dir.join("events").is_dir() || dir.join("wal").is_dir()
}

/// Files that belong to a running process, not to the data: locks, SQLite's own log and
/// shared memory (their content is inside the `VACUUM INTO` copy), probes.
fn is_transient(name: &str) -> bool {
    name == "LOCK"
        || name.starts_with(".doctor-probe")
        || name.ends_with("-wal")
        || name.ends_with("-shm")
        || name.ends_with("-journal")
        || name.ends_with(".tmp")
}

fn is_sqlite(path: &Path) -> bool {
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok()
        && &header == b"SQLite format 3\0"
}

/// Copies a live database as one read transaction; returns its rows per table.
fn copy_database(from: &Path, to: &Path) -> Result<BTreeMap<String, u64>> {
    let db_err = |e: rusqlite::Error| BackupError::Database {
        path: from.display().to_string(),
        message: e.to_string(),
    };
    let conn = rusqlite::Connection::open_with_flags(
        from,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(db_err)?;
    let target = to.to_str().ok_or_else(|| BackupError::Damaged {
        path: to.display().to_string(),
        reason: "the path is not UTF-8".into(),
    })?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(db_err)?;
    let copy = rusqlite::Connection::open(to).map_err(db_err)?;
    let tables = table_counts(&copy).map_err(db_err)?;
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(io_err(to))?;
    Ok(tables)
}

fn table_counts(conn: &rusqlite::Connection) -> rusqlite::Result<BTreeMap<String, u64>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|name| {
            let sql = format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\""));
            let n: i64 = conn.query_row(&sql, [], |r| r.get(0))?;
            Ok((name, n as u64))
        })
        .collect()
}

fn check_database(path: &Path, expected: &BTreeMap<String, u64>) -> Result<()> {
    let fail = |reason: String| BackupError::Check {
        what: path.display().to_string(),
        reason,
    };
    let conn = rusqlite::Connection::open(path).map_err(|e| fail(e.to_string()))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| fail(e.to_string()))?;
    if integrity != "ok" {
        return Err(fail(format!("integrity check: {integrity}")));
    }
    let found = table_counts(&conn).map_err(|e| fail(e.to_string()))?;
    if &found != expected {
        return Err(fail(format!(
            "rows per table {found:?}, the manifest says {expected:?}"
        )));
    }
    Ok(())
}

/// Every file under the backup directory with its size, hash and mode.
fn hash_tree(out: &Path) -> Result<(Vec<FileEntry>, Vec<DirEntry>)> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    hash_dir(out, "", &mut files, &mut dirs)?;
    files.retain(|f| f.path != MANIFEST);
    Ok((files, dirs))
}

fn hash_dir(
    root: &Path,
    rel: &str,
    out: &mut Vec<FileEntry>,
    dirs: &mut Vec<DirEntry>,
) -> Result<()> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(io_err(&dir))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if entry.file_type().map_err(io_err(&entry.path()))?.is_dir() {
            dirs.push(DirEntry {
                mode: mode_of(&entry.path())?,
                path: path.clone(),
            });
            hash_dir(root, &path, out, dirs)?;
        } else {
            let (bytes, sha256) = hash_file(&entry.path())?;
            out.push(FileEntry {
                mode: mode_of(&entry.path())?,
                path,
                bytes,
                sha256,
            });
        }
    }
    Ok(())
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        context.update(&buf[..n]);
    }
    let hex = context
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, hex))
}

fn check_entry(dir: &Path, entry: &FileEntry) -> Result<()> {
    let path = dir.join(safe_relative(&entry.path, &entry.path)?);
    let damaged = |reason: String| BackupError::Damaged {
        path: path.display().to_string(),
        reason,
    };
    if !path.is_file() {
        return Err(damaged("missing from the backup".into()));
    }
    let (bytes, sha256) = hash_file(&path)?;
    if bytes != entry.bytes {
        return Err(damaged(format!(
            "{bytes} bytes, the manifest says {}",
            entry.bytes
        )));
    }
    if sha256 != entry.sha256 {
        return Err(damaged(format!(
            "SHA-256 {sha256} differs from the manifest's {}: the file was changed or damaged",
            entry.sha256
        )));
    }
    Ok(())
}

/// A manifest path, refused when it could leave the directory it is relative to.
fn safe_relative<'a>(rel: &'a str, shown: &str) -> Result<&'a Path> {
    let path = Path::new(rel);
    let safe = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if safe && !rel.is_empty() {
        Ok(path)
    } else {
        Err(BackupError::Damaged {
            path: shown.to_owned(),
            reason: "the manifest names a path outside the backup".into(),
        })
    }
}

fn backup_path(top: &str, rel: &str) -> String {
    format!("{top}/{rel}")
}

fn write_manifest(out: &Path, manifest: &Manifest) -> Result<()> {
    let tmp = out.join(format!("{MANIFEST}.partial"));
    let bytes = serde_json::to_vec_pretty(manifest).unwrap_or_default();
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(&bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    let path = out.join(MANIFEST);
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(out)
}

/// Copies a file and syncs the copy; false when the source no longer exists.
fn copy_file(from: &Path, to: &Path) -> Result<bool> {
    let mut source = match std::fs::File::open(from) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_err(from)(e)),
    };
    let mut target = std::fs::File::create(to).map_err(io_err(to))?;
    std::io::copy(&mut source, &mut target).map_err(io_err(to))?;
    target.sync_all().map_err(io_err(to))?;
    Ok(true)
}

fn ensure_empty(dir: &Path, why: &'static str) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(BackupError::NotEmpty(dir.display().to_string(), why)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(dir)(e)),
    }
}

fn make_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(io_err(parent)),
        None => Ok(()),
    }
}

/// Creates a directory only its owner can enter (a backup holds credentials and keys).
fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    set_mode(dir, 0o700)
}

fn mode_of(path: &Path) -> Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)
        .map_err(io_err(path))?
        .permissions()
        .mode()
        & 0o7777)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o777))
        .map_err(io_err(path))
}

fn copy_mode(from: &Path, to: &Path) -> Result<()> {
    match mode_of(from) {
        Ok(mode) => set_mode(to, mode),
        Err(_) => Ok(()), // removed meanwhile: the copy keeps the default
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_cannot_leave_the_backup() {
        assert!(safe_relative("data/state/state.db", "x").is_ok());
        for bad in ["../etc/passwd", "/etc/passwd", "data/../../x", ""] {
            assert!(safe_relative(bad, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn locks_and_sqlite_side_files_are_not_data() {
        for name in ["LOCK", "state.db-wal", "state.db-shm", ".doctor-probe-12"] {
            assert!(is_transient(name), "{name}");
        }
        assert!(!is_transient("state.db"));
        assert!(!is_transient("api-token"));
    }
}
