//! The write-ahead log: appended batches, synced to disk before `append` returns.
//!
//! Writing and syncing are separate steps ([`Wal::write`], then [`Segment::sync`]) so
//! that the store writes under its lock and syncs outside it: appenders that arrive
//! while one sync runs are covered by the next one (group commit) instead of queueing
//! one `fsync` each behind the lock.
//!
//! A log is a directory of segment files `wal-<first seq>.log`. Each record is
//! `[len: u32 LE][crc32 of seq+payload: u32 LE][seq: u64 LE][payload: len bytes]`, the
//! payload being the batch's events as NDJSON (the same bytes the index stores). After a
//! crash the last record may be torn; [`Wal::open`] truncates it away and keeps the rest.
//! Segments are deleted once every event in them is committed to the indexes.

use crate::{Result, StoreError, io_err};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const HEADER: usize = 16;
/// The largest record accepted on replay; larger lengths mean corruption.
const MAX_RECORD: u32 = 1 << 30;

/// One replayed record: its sequence number and NDJSON payload.
pub struct WalRecord {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// The segment being written, shared with those waiting to sync it.
pub struct Segment {
    file: File,
    /// The highest sequence number fully written to this segment.
    last_written: AtomicU64,
    path: PathBuf,
}

impl Segment {
    fn open(path: &Path) -> Result<Arc<Segment>> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io_err(path))?;
        Ok(Arc::new(Segment {
            file,
            last_written: AtomicU64::new(0),
            path: path.to_owned(),
        }))
    }

    /// Syncs the segment; returns the highest sequence number now on disk.
    pub fn sync(&self) -> Result<u64> {
        let upto = self.last_written.load(Ordering::Acquire);
        self.file.sync_data().map_err(io_err(&self.path))?;
        Ok(upto)
    }
}

/// An open write-ahead log.
pub struct Wal {
    dir: PathBuf,
    segment: Arc<Segment>,
    path: PathBuf,
    next_seq: u64,
    bytes: u64,
    /// Segments an earlier process left (found at open): kept through commits until
    /// [`Wal::release_inherited`], so that a process that can redo their after-effects
    /// (detection, after a crash) finds them even if another process committed them first.
    inherited: Vec<PathBuf>,
}

impl Wal {
    /// Opens the log in `dir`, returning it with every intact record found there (to be
    /// replayed by the caller). A torn record at the end of a segment is cut off.
    pub fn open(dir: &Path) -> Result<(Wal, Vec<WalRecord>)> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut records = Vec::new();
        for seg in segments(dir)? {
            read_segment(&seg, &mut records)?;
        }
        // Sequence numbers never restart: after a commit the log is an empty segment named
        // by the next number, and the indexes remember the last number they hold; reusing
        // a number would make replay skip acknowledged events as already committed.
        let named = segments(dir)?
            .iter()
            .filter_map(|p| segment_first_seq(p))
            .max()
            .unwrap_or(1);
        let next_seq = records.last().map(|r| r.seq + 1).unwrap_or(1).max(named);
        let path = dir.join(format!("wal-{next_seq:020}.log"));
        let segment = Segment::open(&path)?;
        sync_dir(dir)?;
        let bytes = crate::deadletter::dir_size(dir);
        let inherited = segments(dir)?.into_iter().filter(|p| *p != path).collect();
        Ok((
            Wal {
                dir: dir.to_owned(),
                segment,
                path,
                next_seq,
                bytes,
                inherited,
            },
            records,
        ))
    }

    /// Appends one record and syncs it. Returns its sequence number.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64> {
        let (seq, segment) = self.write(payload)?;
        segment.sync()?;
        Ok(seq)
    }

    /// Writes one record without syncing it: durable once [`Segment::sync`] of the
    /// returned segment has returned a sequence number at least as high.
    pub fn write(&mut self, payload: &[u8]) -> Result<(u64, Arc<Segment>)> {
        let seq = self.next_seq;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&seq.to_le_bytes());
        crc.update(payload);
        let mut header = [0u8; HEADER];
        header[0..4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        header[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
        header[8..16].copy_from_slice(&seq.to_le_bytes());
        let mut file = &self.segment.file;
        let before = file.metadata().map_err(io_err(&self.path))?.len();
        let written = file
            .write_all(&header)
            .and_then(|_| file.write_all(payload));
        if let Err(e) = written {
            // A torn record would hide every later record from replay: cut it off.
            let _ = file.set_len(before);
            return Err(io_err(&self.path)(e));
        }
        self.segment.last_written.store(seq, Ordering::Release);
        self.next_seq += 1;
        self.bytes += (HEADER + payload.len()) as u64;
        Ok((seq, self.segment.clone()))
    }

    /// Makes the next record's number at least `seq` (the store calls it with one more
    /// than the highest number its indexes have committed).
    pub fn advance_to(&mut self, seq: u64) -> Result<()> {
        if seq <= self.next_seq {
            return Ok(());
        }
        self.next_seq = seq;
        let path = self.dir.join(format!("wal-{seq:020}.log"));
        let old = std::mem::replace(&mut self.path, path.clone());
        self.segment = Segment::open(&path)?;
        if std::fs::metadata(&old).is_ok_and(|m| m.len() == 0) {
            std::fs::remove_file(&old).map_err(io_err(&old))?;
        }
        sync_dir(&self.dir)
    }

    /// The sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Bytes in the log's segments.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Starts a new segment and deletes every older one but the inherited ones. Call
    /// only when every record appended so far is committed to the indexes.
    pub fn truncate_committed(&mut self) -> Result<()> {
        let path = self.dir.join(format!("wal-{:020}.log", self.next_seq));
        if path != self.path {
            self.segment = Segment::open(&path)?;
            self.path = path;
        }
        for seg in segments(&self.dir)? {
            if seg != self.path && !self.inherited.contains(&seg) {
                std::fs::remove_file(&seg).map_err(io_err(&seg))?;
            }
        }
        sync_dir(&self.dir)?;
        self.bytes = crate::deadletter::dir_size(&self.dir);
        Ok(())
    }

    /// The segments an earlier process left, still kept.
    pub fn inherited(&self) -> &[PathBuf] {
        &self.inherited
    }

    /// Lets the next commit delete the inherited segments (their after-effects are done).
    pub fn release_inherited(&mut self) {
        self.inherited.clear();
    }
}

/// The number in a segment's name (`wal-<first seq>.log`).
fn segment_first_seq(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_prefix("wal-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

fn segments(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("wal-") && n.ends_with(".log"))
        })
        .collect();
    segs.sort();
    Ok(segs)
}

/// Reads the intact records of a segment without changing it (a torn end is ignored).
pub fn read_records(path: &Path) -> Result<Vec<WalRecord>> {
    let mut out = Vec::new();
    let data = std::fs::read(path).map_err(io_err(path))?;
    let mut offset = 0usize;
    while let Some((record, end)) = parse_record(&data, offset) {
        out.push(record);
        offset = end;
    }
    Ok(out)
}

/// The intact record at `offset`, and where the next one starts.
fn parse_record(data: &[u8], offset: usize) -> Option<(WalRecord, usize)> {
    if offset + HEADER > data.len() {
        return None;
    }
    let len = u32::from_le_bytes(data[offset..offset + 4].try_into().ok()?);
    let crc = u32::from_le_bytes(data[offset + 4..offset + 8].try_into().ok()?);
    let seq = u64::from_le_bytes(data[offset + 8..offset + 16].try_into().ok()?);
    let end = offset + HEADER + len as usize;
    if len > MAX_RECORD || end > data.len() {
        return None;
    }
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq.to_le_bytes());
    hasher.update(&data[offset + HEADER..end]);
    (hasher.finalize() == crc).then(|| {
        let payload = data[offset + HEADER..end].to_vec();
        (WalRecord { seq, payload }, end)
    })
}

/// Reads the intact records of one segment; cuts the file after the last intact record.
fn read_segment(path: &Path, out: &mut Vec<WalRecord>) -> Result<()> {
    let mut data = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .map_err(io_err(path))?;
    let mut offset = 0usize;
    while let Some((record, end)) = parse_record(&data, offset) {
        let seq = record.seq;
        if out.last().is_some_and(|r| r.seq >= seq) {
            return Err(StoreError::CorruptLog {
                path: path.display().to_string(),
                offset: offset as u64,
                reason: format!(
                    "sequence {seq} does not follow {}",
                    out.last().map(|r| r.seq).unwrap_or(0)
                ),
            });
        }
        out.push(record);
        offset = end;
    }
    if offset < data.len() {
        tracing::warn!(path = %path.display(), offset, dropped = data.len() - offset, "cutting a torn record off the write-ahead log");
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io_err(path))?;
        f.set_len(offset as u64).map_err(io_err(path))?;
        f.sync_all().map_err(io_err(path))?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopen_and_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, old) = Wal::open(dir.path()).unwrap();
            assert!(old.is_empty());
            assert_eq!(wal.append(b"one").unwrap(), 1);
            assert_eq!(wal.append(b"two").unwrap(), 2);
        }
        // Simulate a crash in the middle of writing a third record.
        let seg = segments(dir.path()).unwrap().pop().unwrap();
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[9, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let (mut wal, records) = Wal::open(dir.path()).unwrap();
        assert_eq!(
            records
                .iter()
                .map(|r| r.payload.as_slice())
                .collect::<Vec<_>>(),
            [b"one".as_slice(), b"two"]
        );
        assert_eq!(wal.append(b"three").unwrap(), 3);
        wal.truncate_committed().unwrap();
        let (mut wal, records) = Wal::open(dir.path()).unwrap();
        assert_eq!(
            records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2],
            "an earlier process's records stay until released; this process's are gone"
        );
        wal.release_inherited();
        wal.truncate_committed().unwrap();
        let (_, records) = Wal::open(dir.path()).unwrap();
        assert!(
            records.is_empty(),
            "released and committed records are gone after truncation"
        );
    }

    #[test]
    fn corrupted_payload_is_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, _) = Wal::open(dir.path()).unwrap();
            wal.append(b"good").unwrap();
            wal.append(b"flipped").unwrap();
        }
        let seg = segments(dir.path()).unwrap().pop().unwrap();
        let mut data = std::fs::read(&seg).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0xff;
        std::fs::write(&seg, &data).unwrap();
        let (_, records) = Wal::open(dir.path()).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].payload, b"good");
    }
}
