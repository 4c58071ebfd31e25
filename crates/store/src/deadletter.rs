//! The dead-letter record: one NDJSON file per UTC day under `deadletter/`, appended and
//! synced with every batch, so that a rejected record and its reason are never lost.

use crate::{Result, io_err};
use haechi_event::DeadLetter;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Appends dead letters to daily files.
pub struct DeadLetterLog {
    dir: PathBuf,
    current: Mutex<Option<(String, File)>>,
}

impl DeadLetterLog {
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        Ok(DeadLetterLog {
            dir: dir.to_owned(),
            current: Mutex::new(None),
        })
    }

    /// Appends and syncs the letters (one line each).
    pub fn append(&self, letters: &[DeadLetter]) -> Result<()> {
        if letters.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(letters.len() * 256);
        for l in letters {
            serde_json::to_writer(&mut buf, l)
                .map_err(|e| crate::StoreError::Invalid(e.to_string()))?;
            buf.push(b'\n');
        }
        let day = letters[0]
            .received
            .to_datetime()
            .format("%Y-%m-%d")
            .to_string();
        let mut guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_none_or(|(d, _)| *d != day) {
            let path = self.dir.join(format!("{day}.ndjson"));
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            *guard = Some((day.clone(), file));
        }
        let path = self.dir.join(format!("{day}.ndjson"));
        let (_, file) = guard
            .as_mut()
            .ok_or_else(|| crate::StoreError::Invalid("dead-letter file not open".into()))?;
        file.write_all(&buf).map_err(io_err(&path))?;
        file.sync_data().map_err(io_err(&path))?;
        Ok(())
    }

    /// Every dead letter kept, oldest file first (for `haechi deadletter` and tests).
    pub fn read_all(&self) -> Result<Vec<DeadLetter>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(io_err(&self.dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for path in files {
            let file = File::open(&path).map_err(io_err(&path))?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(io_err(&path))?;
                if let Ok(l) = serde_json::from_str(&line) {
                    out.push(l);
                }
            }
        }
        Ok(out)
    }

    /// How many dead letters are kept (lines in all files).
    pub fn count(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
            .filter_map(|p| std::fs::read(p).ok())
            .map(|data| line_count(&data))
            .sum()
    }

    /// Bytes on disk.
    pub fn bytes(&self) -> u64 {
        dir_size(&self.dir)
    }
}

/// The total size of the files under `dir`, recursively.
pub(crate) fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Lines in an NDJSON file (every record ends with a newline).
fn line_count(data: &[u8]) -> u64 {
    data.iter().filter(|b| **b == b'\n').count() as u64
}
