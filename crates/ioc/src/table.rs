//! The compact, immutable tables an [`crate::IndicatorSet`] is made of.
//!
//! Every table is a **sorted array** searched by binary search, with a radix index on the
//! top 16 bits of the key so that a lookup in ten million keys touches one small bucket
//! (a few cache lines) instead of 24 levels of a cold binary search. Sorted arrays cost
//! exactly the key and a 4-byte metadata index per indicator (no per-entry pointers,
//! buckets or load factor), hold duplicate keys naturally (the same IP from two feeds is
//! two entries, reported as two hits), and never change once built, so any number of
//! threads read them without locks.
//!
//! * [`SortedTable`] maps fixed-size keys (IPv4 as `u32`, IPv6 and hashes as big-endian
//!   byte arrays, endpoints) to metadata indexes.
//! * [`StrTable`] holds texts (domains, URLs, e-mail addresses) by a keyed 64-bit hash,
//!   the texts themselves concatenated in one arena to compare candidates.
//! * [`RangeTable`] holds CIDR ranges as the elementary intervals they cut the address
//!   space into; each interval knows its innermost range and each range its enclosing one,
//!   so one binary search finds every range that contains an address.

use std::hash::BuildHasher;
use std::mem::size_of;
use std::ops::Range;

/// Below this many keys a plain binary search is as fast as the radix index.
const INDEX_MIN_LEN: usize = 4096;
const BUCKETS: usize = 1 << 16;

/// A table key, kept sorted by `(bucket, key)`.
///
/// Exact-match tables bucket by a *mix* of the key: real addresses cluster (one provider's
/// ranges, every IPv6 address under `2xxx:`), and bucketing by the top bits would pile
/// them into a few huge buckets. A mixed bucket spreads them evenly; a crafted feed that
/// piles keys into one bucket still gets a binary search, never worse. Range tables need
/// the key order itself and use [`TopBits`].
pub(crate) trait Key: Copy + Ord {
    fn bucket(&self) -> usize;
}

const MIX64: u64 = 0x9E37_79B9_7F4A_7C15;

impl Key for u32 {
    fn bucket(&self) -> usize {
        (u64::from(*self).wrapping_mul(MIX64) >> 48) as usize
    }
}

impl Key for u64 {
    fn bucket(&self) -> usize {
        ((*self ^ (*self >> 29)).wrapping_mul(MIX64) >> 48) as usize
    }
}

impl Key for u128 {
    fn bucket(&self) -> usize {
        let folded = (*self as u64) ^ ((*self >> 64) as u64).rotate_left(17);
        folded.bucket()
    }
}

/// Digests: already uniform, so their first two bytes are the bucket.
impl<const N: usize> Key for [u8; N] {
    fn bucket(&self) -> usize {
        (usize::from(self[0]) << 8) | usize::from(self[1])
    }
}

/// An IPv6 endpoint: address then port, big-endian.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Endpoint6(pub [u8; 18]);

impl Key for Endpoint6 {
    fn bucket(&self) -> usize {
        let mut addr = [0u8; 16];
        addr.copy_from_slice(&self.0[..16]);
        let port = u128::from(u16::from_be_bytes([self.0[16], self.0[17]]));
        (u128::from_be_bytes(addr) ^ port).bucket()
    }
}

/// A key bucketed by its top 16 bits, so that `(bucket, key)` order is the key order and
/// "the greatest key at or below" can be searched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TopBits<K>(pub K);

impl Key for TopBits<u32> {
    fn bucket(&self) -> usize {
        (self.0 >> 16) as usize
    }
}

impl Key for TopBits<u128> {
    fn bucket(&self) -> usize {
        (self.0 >> 112) as usize
    }
}

/// Sorted keys with an optional radix index: `index[b]..index[b + 1]` are the positions of
/// the keys in bucket `b`.
#[derive(Debug, Default)]
pub(crate) struct SortedKeys<K> {
    keys: Box<[K]>,
    index: Option<Box<[u32]>>,
}

impl<K: Key> SortedKeys<K> {
    /// `keys` must be sorted by `(bucket, key)`.
    fn new(keys: Vec<K>) -> Self {
        debug_assert!(keys.is_sorted_by_key(|k| (k.bucket(), *k)));
        let index = (keys.len() >= INDEX_MIN_LEN).then(|| {
            let mut index = vec![0u32; BUCKETS + 1];
            let mut pos = 0;
            for (bucket, slot) in index.iter_mut().enumerate() {
                while pos < keys.len() && keys[pos].bucket() < bucket {
                    pos += 1;
                }
                *slot = pos as u32;
            }
            index.into_boxed_slice()
        });
        SortedKeys {
            keys: keys.into_boxed_slice(),
            index,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn get(&self, i: usize) -> K {
        self.keys[i]
    }

    /// The positions where `key` can be: its bucket, or everything.
    #[inline]
    fn window(&self, key: &K) -> (usize, usize) {
        match &self.index {
            Some(index) => {
                let b = key.bucket();
                (index[b] as usize, index[b + 1] as usize)
            }
            None => (0, self.keys.len()),
        }
    }

    /// The positions holding `key`.
    #[inline]
    pub(crate) fn equal_range(&self, key: &K) -> Range<usize> {
        let (lo, hi) = self.window(key);
        let window = &self.keys[lo..hi];
        let start = match &self.index {
            // Inside one bucket the order is the key order.
            Some(_) => window.partition_point(|k| k < key),
            None => {
                let target = (key.bucket(), *key);
                window.partition_point(|k| (k.bucket(), *k) < target)
            }
        };
        // Equal keys are adjacent: count them with a short scan, not a second search.
        let len = window[start..].iter().take_while(|k| *k == key).count();
        lo + start..lo + start + len
    }

    /// The position of the greatest key `<= key` (only for [`TopBits`] keys, whose
    /// buckets follow the key order).
    #[inline]
    pub(crate) fn last_at_or_below(&self, key: &K) -> Option<usize> {
        let (lo, hi) = self.window(key);
        let after = lo + self.keys[lo..hi].partition_point(|k| k <= key);
        after.checked_sub(1)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.keys.len() * size_of::<K>() + self.index.as_ref().map_or(0, |i| i.len() * 4)
    }
}

/// Fixed-size keys to metadata indexes.
#[derive(Debug, Default)]
pub(crate) struct SortedTable<K> {
    keys: SortedKeys<K>,
    metas: Box<[u32]>,
}

impl<K: Key> SortedTable<K> {
    /// Sorts, drops exact duplicates (same key, same metadata), and indexes.
    pub(crate) fn build(mut pairs: Vec<(K, u32)>) -> Self {
        pairs.sort_unstable_by_key(|&(k, m)| (k.bucket(), k, m));
        pairs.dedup();
        let (keys, metas): (Vec<K>, Vec<u32>) = pairs.into_iter().unzip();
        SortedTable {
            keys: SortedKeys::new(keys),
            metas: metas.into_boxed_slice(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn key(&self, i: usize) -> K {
        self.keys.get(i)
    }

    pub(crate) fn meta(&self, i: usize) -> u32 {
        self.metas[i]
    }

    /// Calls `f(position, meta)` for every entry of `key`.
    #[inline]
    pub(crate) fn find(&self, key: &K, f: &mut impl FnMut(usize, u32)) {
        if self.metas.is_empty() {
            return;
        }
        for i in self.keys.equal_range(key) {
            f(i, self.metas[i]);
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.keys.memory_bytes() + self.metas.len() * 4
    }
}

/// Texts as the builder collects them: an arena and (hash, span, meta) entries.
#[derive(Debug, Default)]
pub(crate) struct StrEntries {
    arena: String,
    entries: Vec<StrEntry>,
}

#[derive(Debug, Clone, Copy)]
struct StrEntry {
    hash: u64,
    start: u32,
    len: u32,
    meta: u32,
}

/// The arena would pass the 4 GiB that `u32` offsets address.
#[derive(Debug)]
pub(crate) struct ArenaFull;

impl StrEntries {
    /// Adds `text`, hashed as `hash` (the hash of the part lookups compare: all of a domain,
    /// a URL without its scheme).
    pub(crate) fn push(&mut self, text: &str, hash: u64, meta: u32) -> Result<(), ArenaFull> {
        let start = u32::try_from(self.arena.len()).map_err(|_| ArenaFull)?;
        let len = u32::try_from(text.len()).map_err(|_| ArenaFull)?;
        start.checked_add(len).ok_or(ArenaFull)?;
        self.arena.push_str(text);
        self.entries.push(StrEntry {
            hash,
            start,
            len,
            meta,
        });
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forgets everything pushed after the first `len` entries.
    pub(crate) fn truncate(&mut self, len: usize) {
        if let Some(first_gone) = self.entries.get(len) {
            self.arena.truncate(first_gone.start as usize);
        }
        self.entries.truncate(len);
    }

    /// Sorts by (hash, text, meta), drops exact duplicates, and lays the texts out again in
    /// that order so that entry `i` spans `ends[i - 1]..ends[i]`.
    pub(crate) fn build(self) -> StrTable {
        let StrEntries { arena, mut entries } = self;
        let text = |e: &StrEntry| &arena[e.start as usize..(e.start + e.len) as usize];
        let order = |e: &StrEntry| (e.hash.bucket(), e.hash, text(e), e.meta);
        entries.sort_unstable_by(|a, b| order(a).cmp(&order(b)));
        entries.dedup_by(|a, b| a.hash == b.hash && a.meta == b.meta && text(a) == text(b));
        let mut sorted = String::with_capacity(entries.iter().map(|e| e.len as usize).sum());
        let mut ends = Vec::with_capacity(entries.len());
        let mut hashes = Vec::with_capacity(entries.len());
        let mut metas = Vec::with_capacity(entries.len());
        let mut max_len = 0;
        for e in &entries {
            sorted.push_str(text(e));
            ends.push(sorted.len() as u32);
            hashes.push(e.hash);
            metas.push(e.meta);
            max_len = max_len.max(e.len as usize);
        }
        StrTable {
            hashes: SortedKeys::new(hashes),
            metas: metas.into_boxed_slice(),
            ends: ends.into_boxed_slice(),
            arena: sorted.into_boxed_str(),
            max_len,
        }
    }
}

/// Texts by keyed hash.
#[derive(Debug, Default)]
pub(crate) struct StrTable {
    hashes: SortedKeys<u64>,
    metas: Box<[u32]>,
    ends: Box<[u32]>,
    arena: Box<str>,
    /// The longest text: a longer probe cannot match and is not hashed.
    max_len: usize,
}

impl StrTable {
    pub(crate) fn len(&self) -> usize {
        self.metas.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    pub(crate) fn text(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    pub(crate) fn meta(&self, i: usize) -> u32 {
        self.metas[i]
    }

    /// Calls `f(position, text)` for every entry whose hash is `hash`; the caller
    /// compares the text (a hash match is only a candidate).
    #[inline]
    pub(crate) fn candidates(&self, hash: u64, f: &mut impl FnMut(usize, &str)) {
        for i in self.hashes.equal_range(&hash) {
            f(i, self.text(i));
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.hashes.memory_bytes() + self.metas.len() * 4 + self.ends.len() * 4 + self.arena.len()
    }
}

/// Hashes a text the way [`StrTable`]s are keyed.
#[inline]
pub(crate) fn hash_text(hasher: &impl BuildHasher, bytes: &[u8]) -> u64 {
    hasher.hash_one(bytes)
}

/// An integer IP address type a [`RangeTable`] can hold.
pub(crate) trait IpBits: Copy + Ord + std::fmt::Debug
where
    TopBits<Self>: Key,
{
    /// The last address of the network `self/len` (`self` has no host bits).
    fn last(self, len: u8) -> Self;
    fn next(self) -> Option<Self>;
}

impl IpBits for u32 {
    fn last(self, len: u8) -> Self {
        self | !crate::kind::mask32(len)
    }
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
}

impl IpBits for u128 {
    fn last(self, len: u8) -> Self {
        self | !crate::kind::mask128(len)
    }
    fn next(self) -> Option<Self> {
        self.checked_add(1)
    }
}

const NONE: u32 = u32::MAX;

/// CIDR ranges of one address family.
///
/// CIDR ranges are *laminar*: two ranges are disjoint or one contains the other. Sorted by
/// (network, prefix length), a sweep with a stack of open ranges gives each range its
/// enclosing range (`parents`) and cuts the address space into segments, each labelled
/// with the innermost range covering it (or none). Looking up an address is one search for
/// its segment, then a walk up the parents: exactly the ranges that contain it, innermost
/// first.
#[derive(Debug, Default)]
pub(crate) struct RangeTable<K> {
    nets: Box<[K]>,
    lens: Box<[u8]>,
    metas: Box<[u32]>,
    parents: Box<[u32]>,
    seg_starts: SortedKeys<TopBits<K>>,
    seg_inner: Box<[u32]>,
}

impl<K: IpBits> RangeTable<K>
where
    TopBits<K>: Key,
{
    /// `ranges` are (network without host bits, prefix length, meta).
    pub(crate) fn build(mut ranges: Vec<(K, u8, u32)>) -> Self {
        ranges.sort_unstable();
        ranges.dedup();
        let n = ranges.len();
        let mut parents = vec![NONE; n];
        let mut segments: Vec<(K, u32)> = Vec::with_capacity(2 * n + 1);
        let mut stack: Vec<u32> = Vec::new();
        let last = |i: u32| {
            let (net, len, _) = ranges[i as usize];
            net.last(len)
        };
        // Closes the ranges that end before `until` (all of them for `None`), starting a
        // segment after each one with the range that is innermost from there on.
        let close = |stack: &mut Vec<u32>, segments: &mut Vec<(K, u32)>, until: Option<K>| {
            while let Some(&top) = stack.last() {
                let end = last(top);
                if until.is_some_and(|start| end >= start) {
                    break;
                }
                stack.pop();
                if let Some(after) = end.next() {
                    segments.push((after, stack.last().copied().unwrap_or(NONE)));
                }
            }
        };
        for (i, &(net, _, _)) in ranges.iter().enumerate() {
            close(&mut stack, &mut segments, Some(net));
            parents[i] = stack.last().copied().unwrap_or(NONE);
            segments.push((net, i as u32));
            stack.push(i as u32);
        }
        close(&mut stack, &mut segments, None);
        // Several segments can start at one address (a range and its first sub-range, or
        // two ranges ending together): the last one pushed is the innermost.
        let mut deduped: Vec<(K, u32)> = Vec::with_capacity(segments.len());
        for seg in segments {
            match deduped.last_mut() {
                Some(prev) if prev.0 == seg.0 => *prev = seg,
                _ => deduped.push(seg),
            }
        }
        let (seg_starts, seg_inner): (Vec<TopBits<K>>, Vec<u32>) =
            deduped.into_iter().map(|(k, i)| (TopBits(k), i)).unzip();
        let (nets, rest): (Vec<K>, Vec<(u8, u32)>) =
            ranges.into_iter().map(|(n, l, m)| (n, (l, m))).unzip();
        let (lens, metas): (Vec<u8>, Vec<u32>) = rest.into_iter().unzip();
        RangeTable {
            nets: nets.into_boxed_slice(),
            lens: lens.into_boxed_slice(),
            metas: metas.into_boxed_slice(),
            parents: parents.into_boxed_slice(),
            seg_starts: SortedKeys::new(seg_starts),
            seg_inner: seg_inner.into_boxed_slice(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nets.len()
    }

    pub(crate) fn range(&self, i: usize) -> (K, u8) {
        (self.nets[i], self.lens[i])
    }

    pub(crate) fn meta(&self, i: usize) -> u32 {
        self.metas[i]
    }

    /// Calls `f(position, meta)` for every range containing `addr`, innermost first.
    #[inline]
    pub(crate) fn find(&self, addr: K, f: &mut impl FnMut(usize, u32)) {
        if self.nets.is_empty() {
            return;
        }
        let Some(seg) = self.seg_starts.last_at_or_below(&TopBits(addr)) else {
            return;
        };
        let mut i = self.seg_inner[seg];
        while i != NONE {
            f(i as usize, self.metas[i as usize]);
            i = self.parents[i as usize];
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.nets.len() * (size_of::<K>() + 1 + 4 + 4)
            + self.seg_starts.memory_bytes()
            + self.seg_inner.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> u32 {
        s.parse::<std::net::Ipv4Addr>().unwrap().into()
    }

    fn covering(table: &RangeTable<u32>, addr: &str) -> Vec<String> {
        let mut out = Vec::new();
        table.find(v4(addr), &mut |i, meta| {
            let (net, len) = table.range(i);
            out.push(format!("{}/{len}#{meta}", std::net::Ipv4Addr::from(net)));
        });
        out
    }

    #[test]
    fn nested_and_adjacent_ranges_give_every_covering_range() {
        let r = |s: &str, len, meta| (v4(s), len, meta);
        let table = RangeTable::build(vec![
            r("10.0.0.0", 8, 0),
            r("10.1.0.0", 16, 1),
            r("10.1.2.0", 24, 2),
            r("10.1.2.0", 24, 3), // the same range from another feed
            r("10.2.0.0", 16, 4),
            r("11.0.0.0", 8, 5), // adjacent to 10/8
            r("0.0.0.0", 0, 6),  // everything
            r("255.255.255.0", 24, 7),
        ]);
        assert_eq!(covering(&table, "9.255.255.255"), ["0.0.0.0/0#6"]);
        assert_eq!(
            covering(&table, "10.0.0.1"),
            ["10.0.0.0/8#0", "0.0.0.0/0#6"]
        );
        assert_eq!(
            covering(&table, "10.1.2.3"),
            [
                "10.1.2.0/24#3",
                "10.1.2.0/24#2",
                "10.1.0.0/16#1",
                "10.0.0.0/8#0",
                "0.0.0.0/0#6"
            ]
        );
        assert_eq!(
            covering(&table, "10.1.3.0"),
            ["10.1.0.0/16#1", "10.0.0.0/8#0", "0.0.0.0/0#6"]
        );
        assert_eq!(
            covering(&table, "10.255.255.255"),
            ["10.0.0.0/8#0", "0.0.0.0/0#6"]
        );
        assert_eq!(
            covering(&table, "11.0.0.0"),
            ["11.0.0.0/8#5", "0.0.0.0/0#6"]
        );
        assert_eq!(covering(&table, "12.0.0.0"), ["0.0.0.0/0#6"]);
        assert_eq!(
            covering(&table, "255.255.255.255"),
            ["255.255.255.0/24#7", "0.0.0.0/0#6"]
        );
    }

    #[test]
    fn ranges_agree_with_a_linear_scan_on_random_input() {
        // A deterministic pseudo-random mix of nested, adjacent and duplicate ranges,
        // checked address by address against the obvious O(n) answer.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ranges = Vec::new();
        for meta in 0..3000u32 {
            let len = 8 + (next() % 25) as u8;
            let net = ((next() as u32) & 0x0FFF_FFFF) & crate::kind::mask32(len);
            ranges.push((net, len, meta % 7));
        }
        let table = RangeTable::build(ranges.clone());
        for _ in 0..20_000 {
            let addr = (next() as u32) & 0x0FFF_FFFF;
            let mut expected: Vec<(u32, u8, u32)> = ranges
                .iter()
                .copied()
                .filter(|&(net, len, _)| addr & crate::kind::mask32(len) == net)
                .collect();
            expected.sort_unstable();
            expected.dedup();
            let mut got = Vec::new();
            table.find(addr, &mut |i, meta| {
                let (net, len) = table.range(i);
                got.push((net, len, meta));
            });
            got.sort_unstable();
            assert_eq!(got, expected, "address {addr:#x}");
        }
    }

    /// Every key of a table is found with all its metadata, and absent keys are not, with
    /// and without the radix index.
    fn check_exact<K: Key + std::fmt::Debug>(present: &[K], absent: &[K]) {
        let pairs: Vec<(K, u32)> = present
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32 % 3))
            .collect();
        let table = SortedTable::build(pairs.clone());
        for &(k, m) in &pairs {
            let mut metas = Vec::new();
            table.find(&k, &mut |_, meta| metas.push(meta));
            assert!(metas.contains(&m), "{k:?} with meta {m}");
        }
        for k in absent {
            let mut n = 0;
            table.find(k, &mut |_, _| n += 1);
            assert_eq!(n, 0, "{k:?} is not in the table");
        }
    }

    #[test]
    fn clustered_keys_are_found_in_small_and_indexed_tables() {
        for n in [1usize, 10, 4095, 4096, 50_000] {
            // IPv6 addresses under one /32, IPv4 addresses of one /16: the clustering real
            // feeds have.
            let v6: Vec<u128> = (0..n as u128)
                .map(|i| (0x2001_0db8u128 << 96) | (i * 7))
                .collect();
            let v6_absent: Vec<u128> = (0..100u128)
                .map(|i| (0x2001_0db8u128 << 96) | (i * 7 + 3))
                .collect();
            check_exact(&v6, &v6_absent);
            let v4: Vec<u32> = (0..n as u32)
                .map(|i| 0xC633_0000 | (i * 2 % 65536))
                .collect();
            check_exact(&v4, &[0xC633_0001, 0xC634_0000, 0]);
            let digests: Vec<[u8; 4]> = (0..n as u32).map(|i| (i * 2).to_be_bytes()).collect();
            check_exact(&digests, &[1u32.to_be_bytes(), u32::MAX.to_be_bytes()]);
        }
    }

    #[test]
    fn sorted_table_with_index_finds_duplicates_and_misses() {
        let pairs: Vec<(u32, u32)> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) & !1, i % 3))
            .chain([(42, 7), (42, 8), (42, 7)])
            .collect();
        let table = SortedTable::build(pairs.clone());
        let mut found = Vec::new();
        table.find(&42, &mut |_, m| found.push(m));
        found.sort_unstable();
        let mut expected: Vec<u32> = pairs.iter().filter(|p| p.0 == 42).map(|p| p.1).collect();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(found, expected);
        let mut none = 0;
        table.find(&43, &mut |_, _| none += 1);
        assert_eq!(none, 0, "odd keys were never inserted");
        for &(k, _) in pairs.iter().take(1000) {
            let mut n = 0;
            table.find(&k, &mut |_, _| n += 1);
            assert!(n >= 1);
        }
    }
}
