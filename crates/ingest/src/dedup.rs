//! De-duplication of records that arrive twice (a sender that retries, overlapping file
//! reads, two collectors forwarding the same device).
//!
//! A record is a duplicate when the same tenant already sent the same bytes within the
//! window. The key is a 64-bit hash of tenant and record bytes; the window holds the most
//! recent `capacity` keys (first in, first out), so memory is bounded: 8 MiB for 1 M keys.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};

/// Remembers the keys of the last `capacity` records.
pub struct Deduplicator {
    seen: HashSet<u64, IdentityHash>,
    order: VecDeque<u64>,
    capacity: usize,
}

/// Keys are already hashes; hashing them again would waste time.
#[derive(Default, Clone, Copy)]
struct IdentityHash;

impl BuildHasher for IdentityHash {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

impl Deduplicator {
    /// A window of `capacity` records; 0 disables de-duplication.
    pub fn new(capacity: usize) -> Self {
        Deduplicator {
            seen: HashSet::with_capacity_and_hasher(capacity.min(1 << 20), IdentityHash),
            order: VecDeque::with_capacity(capacity.min(1 << 20)),
            capacity,
        }
    }

    /// True when this record was seen before (and is to be dropped); remembers it otherwise.
    pub fn is_duplicate(&mut self, tenant: &str, record: &[u8]) -> bool {
        self.is_duplicate_key(record_key(tenant, record))
    }

    /// Like [`Deduplicator::is_duplicate`] for a key computed with [`record_key`]
    /// (so callers can hash outside a lock).
    pub fn is_duplicate_key(&mut self, key: u64) -> bool {
        if self.capacity == 0 {
            return false;
        }
        if !self.seen.insert(key) {
            return true;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        false
    }
}

/// A [`Deduplicator`] shared by threads: 16 shards, each behind its own lock, chosen
/// by the key, so parallel readers rarely wait for each other.
pub struct SharedDeduplicator {
    shards: Vec<std::sync::Mutex<Deduplicator>>,
}

impl SharedDeduplicator {
    /// A window of about `capacity` records in all; 0 disables de-duplication.
    pub fn new(capacity: usize) -> Self {
        let per_shard = if capacity == 0 {
            0
        } else {
            capacity.div_ceil(16)
        };
        SharedDeduplicator {
            shards: (0..16)
                .map(|_| std::sync::Mutex::new(Deduplicator::new(per_shard)))
                .collect(),
        }
    }

    /// True when this record was seen before; remembers it otherwise.
    pub fn is_duplicate(&self, tenant: &str, record: &[u8]) -> bool {
        self.is_duplicate_key(record_key(tenant, record))
    }

    pub fn is_duplicate_key(&self, key: u64) -> bool {
        let shard = &self.shards[(key >> 60) as usize];
        shard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_duplicate_key(key)
    }
}

/// The first bytes of a saved de-duplication window.
const SAVED_MAGIC: &[u8; 8] = b"HDEDUP01";

impl SharedDeduplicator {
    /// Saves the window (keys in arrival order) so that a restarted process still knows
    /// what it accepted: re-sent records and re-read files stay duplicates. Written to a
    /// temporary file and renamed, so a crash leaves the previous copy.
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = path.with_extension("tmp");
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        w.write_all(SAVED_MAGIC)?;
        for shard in &self.shards {
            let d = shard.lock().unwrap_or_else(|e| e.into_inner());
            w.write_all(&(d.order.len() as u64).to_le_bytes())?;
            for k in &d.order {
                w.write_all(&k.to_le_bytes())?;
            }
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    }

    /// A window of `capacity` records, filled from a saved one if `path` exists. A file
    /// that is not a saved window is an error (it is never silently ignored).
    pub fn load(path: &std::path::Path, capacity: usize) -> std::io::Result<Self> {
        let dedup = SharedDeduplicator::new(capacity);
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(dedup),
            Err(e) => return Err(e),
        };
        let bad = |why: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is not a saved de-duplication window: {why}",
                    path.display()
                ),
            )
        };
        if !data.starts_with(SAVED_MAGIC) {
            return Err(bad("wrong header"));
        }
        let mut at = SAVED_MAGIC.len();
        let mut next = |data: &[u8]| -> Option<u64> {
            let v = u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?);
            at += 8;
            Some(v)
        };
        for _ in 0..16 {
            let n = next(&data).ok_or_else(|| bad("cut short"))?;
            for _ in 0..n {
                let key = next(&data).ok_or_else(|| bad("cut short"))?;
                dedup.is_duplicate_key(key);
            }
        }
        Ok(dedup)
    }
}

/// FNV-1a over tenant, a separator and the record, finished with a 64-bit mixer. Not
/// cryptographic: a collision drops one record, at a rate of about n²/2⁶⁵.
pub fn record_key(tenant: &str, record: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tenant.as_bytes().iter().chain(&[0xff]).chain(record) {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finalizer: spreads FNV's weak high bits.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_record_same_tenant_is_a_duplicate() {
        let mut d = Deduplicator::new(10);
        assert!(!d.is_duplicate("a", b"line"));
        assert!(d.is_duplicate("a", b"line"));
    }

    #[test]
    fn same_record_other_tenant_is_not() {
        let mut d = Deduplicator::new(10);
        assert!(!d.is_duplicate("a", b"line"));
        assert!(!d.is_duplicate("b", b"line"));
    }

    #[test]
    fn saved_window_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dedup.bin");
        let d = SharedDeduplicator::new(1000);
        assert!(!d.is_duplicate("a", b"line one"));
        d.save(&path).unwrap();
        let back = SharedDeduplicator::load(&path, 1000).unwrap();
        assert!(back.is_duplicate("a", b"line one"));
        assert!(!back.is_duplicate("a", b"line two"));
        std::fs::write(&path, b"garbage").unwrap();
        assert!(SharedDeduplicator::load(&path, 1000).is_err());
        assert!(SharedDeduplicator::load(&dir.path().join("none"), 10).is_ok());
    }

    #[test]
    fn window_forgets_oldest() {
        let mut d = Deduplicator::new(2);
        assert!(!d.is_duplicate("a", b"1"));
        assert!(!d.is_duplicate("a", b"2"));
        assert!(!d.is_duplicate("a", b"3"));
        assert!(!d.is_duplicate("a", b"1"), "1 fell out of the window");
        assert!(d.is_duplicate("a", b"3"));
    }
}
