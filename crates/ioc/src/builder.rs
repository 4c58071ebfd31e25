//! [`IndicatorSetBuilder`]: collects indicators from feeds (or one by one), then sorts them
//! into an immutable [`IndicatorSet`].
//!
//! The builder keeps indicators in flat per-kind vectors of (key, metadata index) — about
//! the size of the final set — and interns metadata as it goes. A feed that fails to load
//! is rolled back ([`IndicatorSetBuilder::load_feed`] restores the state from before it),
//! so one bad feed never leaves half its indicators behind.

use crate::kind::IndicatorValue;
use crate::limits::Limits;
use crate::meta::IndicatorMeta;
use crate::normalize;
use crate::report::LoadError;
use crate::set::{IndicatorSet, ip_port4_key, ip_port6_key};
use crate::table::{Endpoint6, RangeTable, SortedTable, StrEntries, hash_text};
use haechi_event::Timestamp;
use std::collections::HashMap;
use std::hash::RandomState;
use std::net::IpAddr;
use std::sync::Arc;

/// The index of an interned [`IndicatorMeta`] in a builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetaId(pub(crate) u32);

/// Collects indicators, then [`build`](IndicatorSetBuilder::build)s an [`IndicatorSet`].
#[derive(Debug)]
pub struct IndicatorSetBuilder {
    limits: Limits,
    now: Timestamp,
    hasher: RandomState,
    ipv4: Vec<(u32, u32)>,
    ipv6: Vec<(u128, u32)>,
    cidr4: Vec<(u32, u8, u32)>,
    cidr6: Vec<(u128, u8, u32)>,
    ip_port4: Vec<(u64, u32)>,
    ip_port6: Vec<(Endpoint6, u32)>,
    domains: StrEntries,
    urls: StrEntries,
    emails: StrEntries,
    md5: Vec<([u8; 16], u32)>,
    sha1: Vec<([u8; 20], u32)>,
    sha256: Vec<([u8; 32], u32)>,
    metas: Vec<Arc<IndicatorMeta>>,
    meta_ids: HashMap<Arc<IndicatorMeta>, u32>,
    added: usize,
}

/// The builder's sizes at one moment, to roll back to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checkpoint {
    lens: [usize; 13],
    metas: usize,
    added: usize,
}

impl Default for IndicatorSetBuilder {
    fn default() -> Self {
        IndicatorSetBuilder::new(Limits::default())
    }
}

impl IndicatorSetBuilder {
    pub fn new(limits: Limits) -> Self {
        IndicatorSetBuilder {
            limits,
            now: Timestamp::now(),
            hasher: RandomState::new(),
            ipv4: Vec::new(),
            ipv6: Vec::new(),
            cidr4: Vec::new(),
            cidr6: Vec::new(),
            ip_port4: Vec::new(),
            ip_port6: Vec::new(),
            domains: StrEntries::default(),
            urls: StrEntries::default(),
            emails: StrEntries::default(),
            md5: Vec::new(),
            sha1: Vec::new(),
            sha256: Vec::new(),
            metas: Vec::new(),
            meta_ids: HashMap::new(),
            added: 0,
        }
    }

    /// Sets the time STIX `valid_until` is compared with (default: when the builder was
    /// made).
    pub fn with_now(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.now
    }

    /// Indicators added so far (duplicates included).
    pub fn len(&self) -> usize {
        self.added
    }

    pub fn is_empty(&self) -> bool {
        self.added == 0
    }

    /// The id of `meta`, adding it to the table if it is new.
    pub fn intern(&mut self, meta: IndicatorMeta) -> MetaId {
        if let Some(&id) = self.meta_ids.get(&meta) {
            return MetaId(id);
        }
        let id = self.metas.len() as u32;
        let meta = Arc::new(meta);
        self.metas.push(Arc::clone(&meta));
        self.meta_ids.insert(meta, id);
        MetaId(id)
    }

    /// Adds one indicator. Values should be in the canonical form
    /// [`IndicatorValue::detect`] and [`IndicatorValue::parse`] give (domains and e-mail
    /// addresses are lowercased here; a URL must already be in normal form). Fails when the builder already holds `limits.max_indicators`.
    pub fn add(&mut self, value: &IndicatorValue, meta: MetaId) -> Result<(), LoadError> {
        if self.added >= self.limits.max_indicators {
            return Err(LoadError::TooManyIndicators {
                max: self.limits.max_indicators,
            });
        }
        let m = meta.0;
        let full = |_| LoadError::TextTooLarge;
        match value {
            IndicatorValue::Ip(IpAddr::V4(v4)) => self.ipv4.push((u32::from(*v4), m)),
            IndicatorValue::Ip(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => self.ipv4.push((u32::from(v4), m)),
                None => self.ipv6.push((u128::from(*v6), m)),
            },
            IndicatorValue::Cidr(net, len) => match crate::kind::cidr(*net, *len) {
                Ok(IndicatorValue::Cidr(IpAddr::V4(v4), len)) => {
                    self.cidr4.push((u32::from(v4), len, m))
                }
                Ok(IndicatorValue::Cidr(IpAddr::V6(v6), len)) => {
                    self.cidr6.push((u128::from(v6), len, m))
                }
                Ok(ip) => return self.add(&ip, meta),
                Err(_) => {
                    return Err(LoadError::Config {
                        feed: self.metas[m as usize].source.to_string(),
                        detail: format!("invalid CIDR range {net}/{len}"),
                    });
                }
            },
            IndicatorValue::IpPort(addr) => match addr.ip().to_canonical() {
                IpAddr::V4(v4) => self.ip_port4.push((ip_port4_key(v4, addr.port()), m)),
                IpAddr::V6(v6) => self.ip_port6.push((ip_port6_key(v6, addr.port()), m)),
            },
            IndicatorValue::Domain(name) => {
                let name = lowercase(name.strip_suffix('.').unwrap_or(name));
                let hash = hash_text(&self.hasher, name.as_bytes());
                self.domains.push(&name, hash, m).map_err(full)?
            }
            IndicatorValue::Url(url) => {
                // Hashed without the scheme: lookups find scheme-less entries that way.
                let (_, rest) = normalize::split_scheme(url);
                let hash = hash_text(&self.hasher, rest.as_bytes());
                self.urls.push(url, hash, m).map_err(full)?
            }
            IndicatorValue::Email(addr) => {
                let addr = lowercase(addr);
                let hash = hash_text(&self.hasher, addr.as_bytes());
                self.emails.push(&addr, hash, m).map_err(full)?
            }
            IndicatorValue::Md5(h) => self.md5.push((*h, m)),
            IndicatorValue::Sha1(h) => self.sha1.push((*h, m)),
            IndicatorValue::Sha256(h) => self.sha256.push((*h, m)),
        }
        self.added += 1;
        Ok(())
    }

    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            lens: [
                self.ipv4.len(),
                self.ipv6.len(),
                self.cidr4.len(),
                self.cidr6.len(),
                self.ip_port4.len(),
                self.ip_port6.len(),
                self.domains.len(),
                self.urls.len(),
                self.emails.len(),
                self.md5.len(),
                self.sha1.len(),
                self.sha256.len(),
                0,
            ],
            metas: self.metas.len(),
            added: self.added,
        }
    }

    /// Forgets everything added after `cp`, metadata included.
    pub(crate) fn rollback(&mut self, cp: Checkpoint) {
        let [v4, v6, c4, c6, p4, p6, d, u, e, m5, s1, s256, _] = cp.lens;
        self.ipv4.truncate(v4);
        self.ipv6.truncate(v6);
        self.cidr4.truncate(c4);
        self.cidr6.truncate(c6);
        self.ip_port4.truncate(p4);
        self.ip_port6.truncate(p6);
        self.domains.truncate(d);
        self.urls.truncate(u);
        self.emails.truncate(e);
        self.md5.truncate(m5);
        self.sha1.truncate(s1);
        self.sha256.truncate(s256);
        for meta in self.metas.drain(cp.metas..) {
            self.meta_ids.remove(&meta);
        }
        self.added = cp.added;
    }

    /// Sorts everything into an immutable set. Exact duplicates (same value, same
    /// metadata) are merged; the same value with different metadata stays twice, so a hit
    /// names every source that lists it.
    pub fn build(self) -> IndicatorSet {
        let IndicatorSetBuilder {
            hasher,
            ipv4,
            ipv6,
            cidr4,
            cidr6,
            ip_port4,
            ip_port6,
            domains,
            urls,
            emails,
            md5,
            sha1,
            sha256,
            metas,
            meta_ids,
            ..
        } = self;
        drop(meta_ids);
        let domains = domains.build();
        let single_label_domains = (0..domains.len()).any(|i| !domains.text(i).contains('.'));
        let mut counted_sources = std::collections::HashSet::new();
        let meta_heap_bytes = metas
            .iter()
            .map(|m| {
                let source = if counted_sources.insert(Arc::as_ptr(&m.source) as *const u8) {
                    m.source.len() + 16
                } else {
                    0
                };
                m.heap_bytes() + source
            })
            .sum();
        IndicatorSet {
            hasher,
            ipv4: SortedTable::build(ipv4),
            ipv6: SortedTable::build(ipv6),
            cidr4: RangeTable::build(cidr4),
            cidr6: RangeTable::build(cidr6),
            ip_port4: SortedTable::build(ip_port4),
            ip_port6: SortedTable::build(ip_port6),
            domains,
            single_label_domains,
            urls: urls.build(),
            emails: emails.build(),
            md5: SortedTable::build(md5),
            sha1: SortedTable::build(sha1),
            sha256: SortedTable::build(sha256),
            metas: metas.into_boxed_slice(),
            meta_heap_bytes,
        }
    }
}

/// `text` with ASCII letters lowercased, allocating only if it has capitals.
fn lowercase(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}
