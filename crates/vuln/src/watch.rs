//! A watched advisory folder (`[vuln] advisories`): every poll imports the files that
//! are new or changed since the last one (by size and modification time), so that feeds
//! dropped there by a sync job reach the database, and the advisories they add or change
//! can be matched against the stored inventories at once.

use crate::import::{ImportReport, import_paths};
use crate::{AdvisoryDb, Result, VulnError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub struct AdvisoryWatch {
    dir: PathBuf,
    seen: HashMap<PathBuf, (u64, SystemTime)>,
}

impl AdvisoryWatch {
    pub fn new(dir: &Path) -> AdvisoryWatch {
        AdvisoryWatch {
            dir: dir.to_owned(),
            seen: HashMap::new(),
        }
    }

    /// Imports what changed; `None` when nothing did.
    pub fn poll(&mut self, db: &AdvisoryDb) -> Result<Option<ImportReport>> {
        let mut files = Vec::new();
        collect(&self.dir, &mut files).map_err(|e| VulnError::Read {
            path: self.dir.display().to_string(),
            message: e.to_string(),
        })?;
        let mut changed = Vec::new();
        for (path, stamp) in files {
            if self.seen.get(&path) != Some(&stamp) {
                changed.push((path, stamp));
            }
        }
        if changed.is_empty() {
            return Ok(None);
        }
        let paths: Vec<PathBuf> = changed.iter().map(|(p, _)| p.clone()).collect();
        let report = import_paths(db, &paths)?;
        for (p, stamp) in changed {
            self.seen.insert(p, stamp);
        }
        Ok(Some(report))
    }
}

fn collect(dir: &Path, out: &mut Vec<(PathBuf, (u64, SystemTime))>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue; // a sync job's temporary file, or hidden
        }
        let meta = entry.metadata()?;
        if meta.is_dir() {
            collect(&entry.path(), out)?;
        } else if meta.is_file() {
            out.push((entry.path(), (meta.len(), meta.modified()?)));
        }
    }
    Ok(())
}
