//! [`IndicatorSet`]: every loaded indicator in compact, immutable tables, and the lookups
//! that answer "is this value listed, and by whom?".
//!
//! One table per kind and address family (the `table` module says why sorted arrays):
//!
//! | kind | table | bytes per indicator |
//! |---|---|---|
//! | IPv4 | `u32` keys | 8 |
//! | IPv6 | `u128` keys | 20 |
//! | CIDR v4 / v6 | laminar range table | ~29 / ~65 |
//! | IP:port v4 / v6 | `u64` / 18-byte keys | 12 / 22 |
//! | MD5 / SHA-1 / SHA-256 | 16 / 20 / 32-byte keys | 20 / 24 / 36 |
//! | domain, URL, e-mail | keyed hash + text arena | 16 + text length |
//!
//! plus 4 bytes per indicator for its metadata index, and one [`IndicatorMeta`] per
//! distinct metadata. A set never changes once built: to update, build a new one and swap
//! it in ([`crate::SharedIndicators`]).

use crate::kind::{IndicatorKind, IndicatorValue, parse_hex};
use crate::matcher::Hit;
use crate::meta::IndicatorMeta;
use crate::normalize::{self, MAX_DOMAIN_LEN, MAX_EMAIL_LEN, MAX_URL_LEN, StackBuf};
use crate::report::KindCounts;
use crate::table::{Endpoint6, RangeTable, SortedTable, StrTable, hash_text};
use std::hash::RandomState;
use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Which table an indicator is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Table {
    Ipv4,
    Ipv6,
    Cidr4,
    Cidr6,
    IpPort4,
    IpPort6,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
}

/// Names one indicator of one [`IndicatorSet`] (valid only for that set): its table and
/// position. Hits carry it so that two hits on the same indicator compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndicatorId {
    table: Table,
    index: u32,
}

impl IndicatorId {
    pub(crate) fn new(table: Table, index: usize) -> Self {
        IndicatorId {
            table,
            index: index as u32,
        }
    }

    pub fn kind(self) -> IndicatorKind {
        match self.table {
            Table::Ipv4 | Table::Ipv6 => IndicatorKind::Ip,
            Table::Cidr4 | Table::Cidr6 => IndicatorKind::Cidr,
            Table::IpPort4 | Table::IpPort6 => IndicatorKind::IpPort,
            Table::Domain => IndicatorKind::Domain,
            Table::Url => IndicatorKind::Url,
            Table::Email => IndicatorKind::Email,
            Table::Md5 => IndicatorKind::Md5,
            Table::Sha1 => IndicatorKind::Sha1,
            Table::Sha256 => IndicatorKind::Sha256,
        }
    }
}

/// A value seen in an event, to look up in a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observable<'a> {
    /// Matches listed addresses and every listed range containing it.
    Ip(IpAddr),
    /// Matches listed IP:port endpoints.
    IpPort(IpAddr, u16),
    /// Matches the name and every listed domain above it (`a.b.evil.com` → `evil.com`).
    Domain(&'a str),
    /// Matches the URL in normal form; only URL indicators (the matcher also looks up the
    /// host).
    Url(&'a str),
    Email(&'a str),
    /// Hex MD5, SHA-1 or SHA-256, by length, either case.
    Hash(&'a str),
}

/// An immutable set of indicators. Build one with [`crate::IndicatorSetBuilder`].
#[derive(Debug, Default)]
pub struct IndicatorSet {
    pub(crate) hasher: RandomState,
    pub(crate) ipv4: SortedTable<u32>,
    pub(crate) ipv6: SortedTable<u128>,
    pub(crate) cidr4: RangeTable<u32>,
    pub(crate) cidr6: RangeTable<u128>,
    pub(crate) ip_port4: SortedTable<u64>,
    pub(crate) ip_port6: SortedTable<Endpoint6>,
    pub(crate) domains: StrTable,
    /// Whether some listed domain has a single label (only via `IndicatorSetBuilder::add`;
    /// feeds never give one), so lookups must try the last label too.
    pub(crate) single_label_domains: bool,
    pub(crate) urls: StrTable,
    pub(crate) emails: StrTable,
    pub(crate) md5: SortedTable<[u8; 16]>,
    pub(crate) sha1: SortedTable<[u8; 20]>,
    pub(crate) sha256: SortedTable<[u8; 32]>,
    pub(crate) metas: Box<[Arc<IndicatorMeta>]>,
    pub(crate) meta_heap_bytes: usize,
}

thread_local! {
    /// Where event URLs are normalised: big enough for any URL that can match (see
    /// `find_url`), allocated once per thread.
    static URL_BUFFER: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(MAX_URL_LEN + 32));
}

/// An IPv4 endpoint as one ordered key.
pub(crate) fn ip_port4_key(ip: Ipv4Addr, port: u16) -> u64 {
    (u64::from(u32::from(ip)) << 16) | u64::from(port)
}

/// An IPv6 endpoint as one ordered key: address then port, big-endian.
pub(crate) fn ip_port6_key(ip: Ipv6Addr, port: u16) -> Endpoint6 {
    let mut key = [0u8; 18];
    key[..16].copy_from_slice(&ip.octets());
    key[16..].copy_from_slice(&port.to_be_bytes());
    Endpoint6(key)
}

impl IndicatorSet {
    /// An empty set (matches nothing).
    pub fn empty() -> Self {
        IndicatorSet::default()
    }

    /// How many indicators (after merging exact duplicates: same value, same metadata).
    pub fn len(&self) -> usize {
        self.counts().total()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Indicators per kind.
    pub fn counts(&self) -> KindCounts {
        let mut counts = KindCounts::default();
        counts.add(IndicatorKind::Ip, self.ipv4.len() + self.ipv6.len());
        counts.add(IndicatorKind::Cidr, self.cidr4.len() + self.cidr6.len());
        counts.add(
            IndicatorKind::IpPort,
            self.ip_port4.len() + self.ip_port6.len(),
        );
        counts.add(IndicatorKind::Domain, self.domains.len());
        counts.add(IndicatorKind::Url, self.urls.len());
        counts.add(IndicatorKind::Email, self.emails.len());
        counts.add(IndicatorKind::Md5, self.md5.len());
        counts.add(IndicatorKind::Sha1, self.sha1.len());
        counts.add(IndicatorKind::Sha256, self.sha256.len());
        counts
    }

    /// The distinct metadata entries.
    pub fn meta_count(&self) -> usize {
        self.metas.len()
    }

    /// An estimate of the memory the set holds: every table, the text arenas and the
    /// metadata (a lower bound: allocator overhead is not counted).
    pub fn memory_bytes(&self) -> usize {
        size_of::<Self>()
            + self.ipv4.memory_bytes()
            + self.ipv6.memory_bytes()
            + self.cidr4.memory_bytes()
            + self.cidr6.memory_bytes()
            + self.ip_port4.memory_bytes()
            + self.ip_port6.memory_bytes()
            + self.domains.memory_bytes()
            + self.urls.memory_bytes()
            + self.emails.memory_bytes()
            + self.md5.memory_bytes()
            + self.sha1.memory_bytes()
            + self.sha256.memory_bytes()
            + self.metas.len() * (size_of::<Arc<IndicatorMeta>>() + 16 + size_of::<IndicatorMeta>())
            + self.meta_heap_bytes
    }

    /// The indicator's value, in canonical form.
    pub fn value(&self, id: IndicatorId) -> IndicatorValue {
        let i = id.index as usize;
        match id.table {
            Table::Ipv4 => IndicatorValue::Ip(IpAddr::V4(self.ipv4.key(i).into())),
            Table::Ipv6 => IndicatorValue::Ip(IpAddr::V6(self.ipv6.key(i).into())),
            Table::Cidr4 => {
                let (net, len) = self.cidr4.range(i);
                IndicatorValue::Cidr(IpAddr::V4(net.into()), len)
            }
            Table::Cidr6 => {
                let (net, len) = self.cidr6.range(i);
                IndicatorValue::Cidr(IpAddr::V6(net.into()), len)
            }
            Table::IpPort4 => {
                let key = self.ip_port4.key(i);
                let ip = Ipv4Addr::from((key >> 16) as u32);
                IndicatorValue::IpPort(SocketAddr::new(IpAddr::V4(ip), key as u16))
            }
            Table::IpPort6 => {
                let Endpoint6(key) = self.ip_port6.key(i);
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&key[..16]);
                let port = u16::from_be_bytes([key[16], key[17]]);
                IndicatorValue::IpPort(SocketAddr::new(IpAddr::V6(octets.into()), port))
            }
            Table::Domain => IndicatorValue::Domain(self.domains.text(i).to_owned()),
            Table::Url => IndicatorValue::Url(self.urls.text(i).to_owned()),
            Table::Email => IndicatorValue::Email(self.emails.text(i).to_owned()),
            Table::Md5 => IndicatorValue::Md5(self.md5.key(i)),
            Table::Sha1 => IndicatorValue::Sha1(self.sha1.key(i)),
            Table::Sha256 => IndicatorValue::Sha256(self.sha256.key(i)),
        }
    }

    /// The indicator's value as text (what [`Hit::indicator`] holds), with one allocation.
    pub fn value_text(&self, id: IndicatorId) -> String {
        let i = id.index as usize;
        match id.table {
            Table::Domain => self.domains.text(i).to_owned(),
            Table::Url => self.urls.text(i).to_owned(),
            Table::Email => self.emails.text(i).to_owned(),
            _ => crate::matcher::to_text(&self.value(id)),
        }
    }

    /// The indicator's metadata.
    pub fn meta(&self, id: IndicatorId) -> &Arc<IndicatorMeta> {
        &self.metas[self.meta_index(id) as usize]
    }

    fn meta_index(&self, id: IndicatorId) -> u32 {
        let i = id.index as usize;
        match id.table {
            Table::Ipv4 => self.ipv4.meta(i),
            Table::Ipv6 => self.ipv6.meta(i),
            Table::Cidr4 => self.cidr4.meta(i),
            Table::Cidr6 => self.cidr6.meta(i),
            Table::IpPort4 => self.ip_port4.meta(i),
            Table::IpPort6 => self.ip_port6.meta(i),
            Table::Domain => self.domains.meta(i),
            Table::Url => self.urls.meta(i),
            Table::Email => self.emails.meta(i),
            Table::Md5 => self.md5.meta(i),
            Table::Sha1 => self.sha1.meta(i),
            Table::Sha256 => self.sha256.meta(i),
        }
    }

    /// Every indicator with its metadata, table by table (for export and inspection).
    pub fn iter(&self) -> impl Iterator<Item = (IndicatorId, IndicatorValue, &IndicatorMeta)> {
        let tables = [
            (Table::Ipv4, self.ipv4.len()),
            (Table::Ipv6, self.ipv6.len()),
            (Table::Cidr4, self.cidr4.len()),
            (Table::Cidr6, self.cidr6.len()),
            (Table::IpPort4, self.ip_port4.len()),
            (Table::IpPort6, self.ip_port6.len()),
            (Table::Domain, self.domains.len()),
            (Table::Url, self.urls.len()),
            (Table::Email, self.emails.len()),
            (Table::Md5, self.md5.len()),
            (Table::Sha1, self.sha1.len()),
            (Table::Sha256, self.sha256.len()),
        ];
        tables
            .into_iter()
            .flat_map(|(table, len)| (0..len).map(move |i| IndicatorId::new(table, i)))
            .map(|id| (id, self.value(id), self.meta(id).as_ref()))
    }

    /// Whether any indicator matches `observable`. Never allocates.
    pub fn contains(&self, observable: Observable<'_>) -> bool {
        let mut found = false;
        self.find(observable, &mut |_| found = true);
        found
    }

    /// Appends a [`Hit`] to `hits` for every indicator matching `observable`, naming
    /// `field` as where it was seen. Allocates only for hits.
    pub fn lookup(&self, observable: Observable<'_>, field: &'static str, hits: &mut Vec<Hit>) {
        self.find(observable, &mut |id| {
            hits.push(Hit::new(self, id, field, observable_text(observable)))
        });
    }

    /// Calls `f` with every indicator matching `observable`.
    pub fn find(&self, observable: Observable<'_>, f: &mut dyn FnMut(IndicatorId)) {
        match observable {
            Observable::Ip(ip) => self.find_ip(ip, f),
            Observable::IpPort(ip, port) => self.find_ip_port(ip, port, f),
            Observable::Domain(name) => self.find_domain(name, f),
            Observable::Url(url) => {
                if let Some(parts) = normalize::split_url(url) {
                    self.find_url(&parts, f)
                }
            }
            Observable::Email(addr) => self.find_email(addr, f),
            Observable::Hash(hex) => self.find_hash(hex, f),
        }
    }

    /// Listed addresses equal to `ip`, then listed ranges containing it, innermost first.
    /// IPv4-mapped IPv6 addresses are looked up as IPv4.
    pub(crate) fn find_ip(&self, ip: IpAddr, f: &mut dyn FnMut(IndicatorId)) {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let key = u32::from(v4);
                self.ipv4
                    .find(&key, &mut |i, _| f(IndicatorId::new(Table::Ipv4, i)));
                self.cidr4
                    .find(key, &mut |i, _| f(IndicatorId::new(Table::Cidr4, i)));
            }
            IpAddr::V6(v6) => {
                self.ipv6.find(&u128::from(v6), &mut |i, _| {
                    f(IndicatorId::new(Table::Ipv6, i))
                });
                self.cidr6.find(u128::from(v6), &mut |i, _| {
                    f(IndicatorId::new(Table::Cidr6, i))
                });
            }
        }
    }

    pub(crate) fn has_ip_ports(&self) -> bool {
        self.ip_port4.len() + self.ip_port6.len() > 0
    }

    pub(crate) fn find_ip_port(&self, ip: IpAddr, port: u16, f: &mut dyn FnMut(IndicatorId)) {
        match ip.to_canonical() {
            IpAddr::V4(v4) => self.ip_port4.find(&ip_port4_key(v4, port), &mut |i, _| {
                f(IndicatorId::new(Table::IpPort4, i))
            }),
            IpAddr::V6(v6) => self.ip_port6.find(&ip_port6_key(v6, port), &mut |i, _| {
                f(IndicatorId::new(Table::IpPort6, i))
            }),
        }
    }

    /// `name` and every name above it: `a.b.evil.com`, `b.evil.com`, `evil.com` (and `com`
    /// only if a single-label domain was added by hand).
    pub(crate) fn find_domain(&self, name: &str, f: &mut dyn FnMut(IndicatorId)) {
        if self.domains.is_empty() {
            return;
        }
        let name = name.trim();
        let name = name.strip_suffix('.').unwrap_or(name);
        if name.len() > MAX_DOMAIN_LEN {
            return;
        }
        let mut buf = StackBuf::<MAX_DOMAIN_LEN>::new();
        normalize::Sink::push_lower(&mut buf, name.as_bytes());
        let Some(lower) = buf.get() else { return };
        let mut start = 0;
        while start < lower.len() {
            let suffix = &lower[start..];
            let dot = memchr::memchr(b'.', suffix);
            if dot.is_none() && !self.single_label_domains {
                break;
            }
            if suffix.len() <= self.domains.max_len() {
                let hash = hash_text(&self.hasher, suffix);
                self.domains.candidates(hash, &mut |i, text| {
                    if text.as_bytes() == suffix {
                        f(IndicatorId::new(Table::Domain, i))
                    }
                });
            }
            match dot {
                Some(d) => start += d + 1,
                None => break,
            }
        }
    }

    pub(crate) fn has_urls(&self) -> bool {
        !self.urls.is_empty()
    }

    /// The URL in normal form; a listed URL without a scheme matches any scheme, and an
    /// event URL without a scheme matches a listed one with any scheme.
    pub(crate) fn find_url(&self, parts: &normalize::UrlParts<'_>, f: &mut dyn FnMut(IndicatorId)) {
        if self.urls.is_empty() {
            return;
        }
        // The raw text bounds the normal form (which adds at most `/` and drops or keeps
        // the port): a URL longer than any listed one plus that cannot match.
        let raw = parts.host.len() + parts.tail.len() + 7;
        if raw > self.urls.max_len() + 8 {
            return;
        }
        URL_BUFFER.with_borrow_mut(|buf| {
            buf.clear();
            parts.write_rest(buf);
            let rest = buf.as_slice();
            let hash = hash_text(&self.hasher, rest);
            self.urls.candidates(hash, &mut |i, text| {
                let (scheme, listed_rest) = normalize::split_scheme(text);
                let scheme_ok = match (scheme, parts.scheme) {
                    (Some(listed), Some(seen)) => listed.eq_ignore_ascii_case(seen),
                    _ => true,
                };
                if scheme_ok && listed_rest.as_bytes() == rest {
                    f(IndicatorId::new(Table::Url, i))
                }
            });
        });
    }

    pub(crate) fn find_email(&self, addr: &str, f: &mut dyn FnMut(IndicatorId)) {
        let addr = addr.trim();
        if self.emails.is_empty() || addr.len() > MAX_EMAIL_LEN.min(self.emails.max_len()) {
            return;
        }
        let mut buf = StackBuf::<MAX_EMAIL_LEN>::new();
        normalize::Sink::push_lower(&mut buf, addr.as_bytes());
        let Some(lower) = buf.get() else { return };
        let hash = hash_text(&self.hasher, lower);
        self.emails.candidates(hash, &mut |i, text| {
            if text.as_bytes() == lower {
                f(IndicatorId::new(Table::Email, i))
            }
        });
    }

    /// A hex digest, by its length (32 MD5, 40 SHA-1, 64 SHA-256), either case.
    pub(crate) fn find_hash(&self, hex: &str, f: &mut dyn FnMut(IndicatorId)) {
        let hex = hex.trim();
        match hex.len() {
            32 if self.md5.len() > 0 => {
                if let Some(key) = parse_hex::<16>(hex) {
                    self.md5
                        .find(&key, &mut |i, _| f(IndicatorId::new(Table::Md5, i)));
                }
            }
            40 if self.sha1.len() > 0 => {
                if let Some(key) = parse_hex::<20>(hex) {
                    self.sha1
                        .find(&key, &mut |i, _| f(IndicatorId::new(Table::Sha1, i)));
                }
            }
            64 if self.sha256.len() > 0 => {
                if let Some(key) = parse_hex::<32>(hex) {
                    self.sha256
                        .find(&key, &mut |i, _| f(IndicatorId::new(Table::Sha256, i)));
                }
            }
            _ => {}
        }
    }
}

/// How a hit shows the observable it matched.
fn observable_text(observable: Observable<'_>) -> String {
    match observable {
        Observable::Ip(ip) => ip.to_string(),
        Observable::IpPort(ip, port) => SocketAddr::new(ip, port).to_string(),
        Observable::Domain(s) | Observable::Url(s) | Observable::Email(s) | Observable::Hash(s) => {
            s.to_owned()
        }
    }
}
