//! Block lists: addresses, networks and domains that firewalls pull
//! (`/api/blocklists/NAME.txt`) or that `haechi blocklist export --format nftables`
//! writes as nftables sets.
//!
//! An entry belongs to a named list, may expire, says why and who added it, and may be
//! scoped to one institution: a center-wide entry reaches every institution's firewall,
//! an institution's entry only its own. Adding a value that is already listed renews
//! it (the later expiry wins) instead of duplicating it.

use super::{AlertStore, sql_err};
use crate::{Result, StoreError};
use haechi_event::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::net::IpAddr;

pub(super) const MIGRATE_TO_4: &str = "
CREATE TABLE IF NOT EXISTS blocklist_entries (
    list     TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    tenant   TEXT,
    reason   TEXT    NOT NULL,
    added_by TEXT    NOT NULL,
    added    INTEGER NOT NULL,
    expires  INTEGER,
    PRIMARY KEY (list, value)
);
CREATE INDEX IF NOT EXISTS blocklist_expiry ON blocklist_entries (list, expires);
";

/// The most entries one list holds.
pub const MAX_ENTRIES: usize = 1_000_000;

/// What an entry blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Ipv4,
    Ipv6,
    Cidr4,
    Cidr6,
    Domain,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Ipv4 => "ipv4",
            EntryKind::Ipv6 => "ipv6",
            EntryKind::Cidr4 => "cidr4",
            EntryKind::Cidr6 => "cidr6",
            EntryKind::Domain => "domain",
        }
    }

    fn parse(s: &str) -> EntryKind {
        match s {
            "ipv4" => EntryKind::Ipv4,
            "ipv6" => EntryKind::Ipv6,
            "cidr4" => EntryKind::Cidr4,
            "cidr6" => EntryKind::Cidr6,
            _ => EntryKind::Domain,
        }
    }

    /// Whether it is an IPv4 address or network.
    pub fn is_v4(self) -> bool {
        matches!(self, EntryKind::Ipv4 | EntryKind::Cidr4)
    }

    pub fn is_v6(self) -> bool {
        matches!(self, EntryKind::Ipv6 | EntryKind::Cidr6)
    }
}

/// A block-list entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockEntry {
    pub list: String,
    /// Canonical form: an address, a network `a.b.c.0/24` (host bits cleared) or a
    /// lower-case domain.
    pub value: String,
    pub kind: EntryKind,
    /// The institution it is for (`None`: every institution).
    pub tenant: Option<String>,
    pub reason: String,
    pub added_by: String,
    pub added: Timestamp,
    pub expires: Option<Timestamp>,
}

/// A list name: 1–64 characters of `a-z 0-9 - _`.
pub fn valid_list_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

/// The canonical value and its kind, or why it cannot be blocked.
pub fn canonical_entry(value: &str) -> std::result::Result<(String, EntryKind), String> {
    let v = value.trim();
    if let Ok(ip) = v.parse::<IpAddr>() {
        let kind = if ip.is_ipv4() {
            EntryKind::Ipv4
        } else {
            EntryKind::Ipv6
        };
        return Ok((ip.to_string(), kind));
    }
    if let Some((addr, bits)) = v.split_once('/') {
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{v}': the network address is not an IP address"))?;
        let bits: u8 = bits
            .parse()
            .map_err(|_| format!("'{v}': the prefix length is not a number"))?;
        return match ip {
            IpAddr::V4(a) if bits <= 32 => {
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                let net = std::net::Ipv4Addr::from(u32::from(a) & mask);
                Ok((format!("{net}/{bits}"), EntryKind::Cidr4))
            }
            IpAddr::V6(a) if bits <= 128 => {
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                let net = std::net::Ipv6Addr::from(u128::from(a) & mask);
                Ok((format!("{net}/{bits}"), EntryKind::Cidr6))
            }
            _ => Err(format!(
                "'{v}': the prefix length is too long for the address"
            )),
        };
    }
    let d = v.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if d.len() <= 253 && d.contains('.') && d.split('.').all(label_ok) {
        return Ok((d, EntryKind::Domain));
    }
    Err(format!(
        "'{v}' is not an IP address, a network (CIDR) or a domain name"
    ))
}

const ENTRY_COLUMNS: &str = "list, value, kind, tenant, reason, added_by, added, expires";

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<BlockEntry> {
    Ok(BlockEntry {
        list: r.get(0)?,
        value: r.get(1)?,
        kind: EntryKind::parse(&r.get::<_, String>(2)?),
        tenant: r.get(3)?,
        reason: r.get(4)?,
        added_by: r.get(5)?,
        added: Timestamp(r.get(6)?),
        expires: r.get::<_, Option<i64>>(7)?.map(Timestamp),
    })
}

impl AlertStore {
    /// Adds (or renews) an entry; returns the entry as it was before, if any, and as it
    /// is now.
    pub fn block(
        &self,
        list: &str,
        value: &str,
        tenant: Option<&str>,
        reason: &str,
        added_by: &str,
        expires: Option<Timestamp>,
    ) -> Result<(Option<BlockEntry>, BlockEntry)> {
        if !valid_list_name(list) {
            return Err(StoreError::Invalid(format!(
                "block list name '{list}': use 1-64 characters of a-z, 0-9, '-', '_'"
            )));
        }
        let (value, kind) = canonical_entry(value).map_err(StoreError::Invalid)?;
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err(&self.path))?;
        let before = tx
            .query_row(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM blocklist_entries WHERE list = ?1 AND value = ?2"
                ),
                params![list, value],
                row_to_entry,
            )
            .optional()
            .map_err(sql_err(&self.path))?;
        if before.is_none() {
            let n: i64 = tx
                .query_row(
                    "SELECT count(*) FROM blocklist_entries WHERE list = ?1",
                    [list],
                    |r| r.get(0),
                )
                .map_err(sql_err(&self.path))?;
            if n as usize >= MAX_ENTRIES {
                return Err(StoreError::Invalid(format!(
                    "block list '{list}' already holds {MAX_ENTRIES} entries"
                )));
            }
        }
        // Renewing keeps the later expiry, and a permanent entry stays permanent.
        let expires = match (&before, expires) {
            (Some(b), Some(e)) => b.expires.map(|old| Timestamp(old.0.max(e.0))),
            (_, e) => e,
        };
        let now = Timestamp::now();
        let entry = BlockEntry {
            list: list.to_owned(),
            value,
            kind,
            tenant: tenant.map(str::to_owned),
            reason: reason.to_owned(),
            added_by: added_by.to_owned(),
            added: now,
            expires,
        };
        tx.execute(
            "INSERT OR REPLACE INTO blocklist_entries (list, value, kind, tenant, reason, added_by, added, expires) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                entry.list,
                entry.value,
                entry.kind.as_str(),
                entry.tenant,
                entry.reason,
                entry.added_by,
                entry.added.0,
                entry.expires.map(|t| t.0)
            ],
        )
        .map_err(sql_err(&self.path))?;
        tx.commit().map_err(sql_err(&self.path))?;
        Ok((before, entry))
    }

    /// Removes an entry visible to `tenant` (when given); returns it, or `None`.
    pub fn unblock(
        &self,
        list: &str,
        value: &str,
        tenant: Option<&str>,
    ) -> Result<Option<BlockEntry>> {
        let (value, _) = canonical_entry(value).map_err(StoreError::Invalid)?;
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let found = conn
            .query_row(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM blocklist_entries WHERE list = ?1 AND value = ?2"
                ),
                params![list, value],
                row_to_entry,
            )
            .optional()
            .map_err(sql_err(&self.path))?;
        // An institution removes only its own entries, not the center's.
        let Some(entry) = found.filter(|e| tenant.is_none() || e.tenant.as_deref() == tenant)
        else {
            return Ok(None);
        };
        conn.execute(
            "DELETE FROM blocklist_entries WHERE list = ?1 AND value = ?2",
            params![list, entry.value],
        )
        .map_err(sql_err(&self.path))?;
        Ok(Some(entry))
    }

    /// The live (unexpired) entries of `list` that `tenant`'s firewalls get: center-wide
    /// ones and the institution's own (`tenant` `None`: all).
    pub fn blocklist(&self, list: &str, tenant: Option<&str>) -> Result<Vec<BlockEntry>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM blocklist_entries WHERE list = ?1 \
             AND (expires IS NULL OR expires > ?2) \
             AND (?3 IS NULL OR tenant IS NULL OR tenant = ?3) ORDER BY kind, value"
        ))
        .and_then(|mut s| {
            s.query_map(params![list, Timestamp::now().0, tenant], row_to_entry)?
                .collect()
        })
        .map_err(sql_err(&self.path))
    }

    /// Every list with its count of live entries visible to `tenant` (when given).
    pub fn blocklists(&self, tenant: Option<&str>) -> Result<Vec<(String, u64)>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        conn.prepare_cached(
            "SELECT list, count(*) FROM blocklist_entries WHERE (expires IS NULL OR expires > ?1) \
             AND (?2 IS NULL OR tenant IS NULL OR tenant = ?2) GROUP BY list ORDER BY list",
        )
        .and_then(|mut s| {
            s.query_map(params![Timestamp::now().0, tenant], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect()
        })
        .map_err(sql_err(&self.path))
    }
}

/// An nftables script defining the sets `<set>_v4` and `<set>_v6` in table
/// `inet haechi` with the address entries; domains cannot be nftables set elements and
/// are counted in a comment.
pub fn nftables_script(set: &str, entries: &[BlockEntry]) -> String {
    let mut out = String::new();
    let domains = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Domain)
        .count();
    out.push_str(&format!(
        "# Haechi block list '{set}': {} entries",
        entries.len()
    ));
    if domains > 0 {
        out.push_str(&format!(
            "; {domains} domain entries are not expressible as nftables elements and are left out"
        ));
    }
    out.push_str("\ntable inet haechi {\n");
    for (suffix, ty, pick) in [
        ("v4", "ipv4_addr", EntryKind::is_v4 as fn(EntryKind) -> bool),
        ("v6", "ipv6_addr", EntryKind::is_v6),
    ] {
        let values: Vec<&str> = entries
            .iter()
            .filter(|e| pick(e.kind))
            .map(|e| e.value.as_str())
            .collect();
        out.push_str(&format!(
            "\tset {set}_{suffix} {{\n\t\ttype {ty}\n\t\tflags interval\n"
        ));
        if !values.is_empty() {
            out.push_str(&format!("\t\telements = {{ {} }}\n", values.join(", ")));
        }
        out.push_str("\t}\n");
    }
    out.push_str("}\n");
    out
}

/// A DNS response policy zone (RPZ, as BIND, Unbound, Knot and PowerDNS read it) of a
/// block list: each domain and every name under it answer NXDOMAIN (`CNAME .`), each
/// address or network is an `rpz-ip` trigger on answers. The zone's name is the
/// resolver's to choose (names are relative); the serial is the newest entry's time.
pub fn rpz_zone(list: &str, entries: &[BlockEntry]) -> String {
    let serial = entries
        .iter()
        .map(|e| e.added.0 / 1_000_000_000)
        .max()
        .unwrap_or(1)
        .clamp(1, i64::from(u32::MAX));
    let mut out = format!(
        "; Haechi block list '{list}' as a DNS response policy zone: {} entries\n$TTL 60\n@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 86400 60 )\n@ IN NS localhost.\n",
        entries.len()
    );
    let mut skipped = 0;
    for e in entries {
        match e.kind {
            EntryKind::Domain if e.value.is_ascii() => {
                out.push_str(&format!("{0} CNAME .\n*.{0} CNAME .\n", e.value));
            }
            EntryKind::Domain => skipped += 1,
            _ => match rpz_ip(&e.value) {
                Some(owner) => out.push_str(&format!("{owner}.rpz-ip CNAME .\n")),
                None => skipped += 1,
            },
        }
    }
    if skipped > 0 {
        out.push_str(&format!(
            "; {skipped} entries could not be written as triggers\n"
        ));
    }
    out
}

/// An address or network as an RPZ IP trigger's owner: the prefix length, then the
/// address backwards (IPv4 octets; IPv6 groups with `zz` for the longest run of zeros).
fn rpz_ip(value: &str) -> Option<String> {
    let (addr, len) = match value.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (value, None),
    };
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!(
                "{}.{}.{}.{}.{}",
                len.unwrap_or(32),
                o[3],
                o[2],
                o[1],
                o[0]
            ))
        }
        std::net::IpAddr::V6(v6) => {
            let groups: Vec<u16> = v6.segments().iter().rev().copied().collect();
            // The longest run of two or more zero groups becomes `zz`.
            let (mut best, mut run) = ((0usize, 0usize), (0usize, 0usize));
            for (i, g) in groups.iter().enumerate() {
                if *g == 0 {
                    run = if run.1 == 0 {
                        (i, 1)
                    } else {
                        (run.0, run.1 + 1)
                    };
                    if run.1 > best.1 {
                        best = run;
                    }
                } else {
                    run = (0, 0);
                }
            }
            let mut parts: Vec<String> = Vec::new();
            let mut i = 0;
            while i < groups.len() {
                if best.1 >= 2 && i == best.0 {
                    parts.push("zz".into());
                    i += best.1;
                } else {
                    parts.push(format!("{:x}", groups[i]));
                    i += 1;
                }
            }
            Some(format!("{}.{}", len.unwrap_or(128), parts.join(".")))
        }
    }
}

/// The SHA-256 of a domain entry as Safe Browsing hashes a host expression: `DOMAIN/`.
pub fn domain_hash(domain: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, format!("{domain}/").as_bytes());
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Safe-Browsing-style list of the domain entries: without `prefix`, the distinct first
/// 4 bytes (hex) of each entry's [`domain_hash`], sorted, one per line; with it, the full
/// hashes that start with it. A client hashes `HOST/` for its name and each parent, and
/// asks for full hashes only on a prefix hit, so the center never learns the names.
pub fn hash_list(entries: &[BlockEntry], prefix: Option<&[u8]>) -> String {
    let mut lines: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Domain)
        .map(|e| domain_hash(&e.value))
        .filter_map(|h| match prefix {
            None => Some(hex(&h[..4])),
            Some(p) => h.starts_with(p).then(|| hex(&h)),
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rpz_ip_triggers_follow_the_rpz_owner_name_format() {
        assert_eq!(rpz_ip("203.0.113.9").unwrap(), "32.9.113.0.203");
        assert_eq!(rpz_ip("10.1.0.0/16").unwrap(), "16.0.0.1.10");
        // The longest run of zero groups is `zz` (draft-vixie-dnsop-dns-rpz, 4.2).
        assert_eq!(rpz_ip("2001:db8::1").unwrap(), "128.1.zz.db8.2001");
        assert_eq!(rpz_ip("2001:db8::/32").unwrap(), "32.zz.db8.2001");
        assert!(rpz_ip("evil.example").is_none());
    }

    #[test]
    fn hash_prefixes_hide_the_names_and_full_hashes_answer_a_prefix() {
        let entry = |value: &str, kind| BlockEntry {
            list: "l".into(),
            value: value.into(),
            kind,
            tenant: None,
            reason: String::new(),
            added_by: String::new(),
            added: Timestamp(0),
            expires: None,
        };
        let entries = [
            entry("kbstra.com", EntryKind::Domain),
            entry("203.0.113.9", EntryKind::Ipv4),
        ];
        let full = hex(&domain_hash("kbstra.com"));
        // sha256("kbstra.com/"), as `printf 'kbstra.com/' | sha256sum` prints it.
        assert_eq!(
            full,
            "e2ab13faa3ea0355fc942f180fc34844e023119993f64a82c64f929050200dd0"
        );
        assert_eq!(hash_list(&entries, None), format!("{}\n", &full[..8]));
        let prefix: Vec<u8> = domain_hash("kbstra.com")[..4].to_vec();
        assert_eq!(hash_list(&entries, Some(&prefix)), format!("{full}\n"));
        assert_eq!(hash_list(&entries, Some(&[0, 0, 0, 0])), "");
    }

    #[test]
    fn values_are_canonical_and_nonsense_is_refused() {
        assert_eq!(
            canonical_entry("203.0.113.9").unwrap(),
            ("203.0.113.9".into(), EntryKind::Ipv4)
        );
        assert_eq!(
            canonical_entry("10.1.2.3/16").unwrap(),
            ("10.1.0.0/16".into(), EntryKind::Cidr4)
        );
        assert_eq!(canonical_entry("2001:DB8::1").unwrap().0, "2001:db8::1");
        assert_eq!(
            canonical_entry("Evil.Example.COM.").unwrap(),
            ("evil.example.com".into(), EntryKind::Domain)
        );
        for bad in [
            "",
            "not a domain",
            "1.2.3.4/40",
            "-x.com",
            "x/y",
            "localhost",
        ] {
            assert!(canonical_entry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entries_renew_expire_and_are_scoped_to_institutions() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        let future = Timestamp(Timestamp::now().0 + 3_600_000_000_000);
        store
            .block(
                "edge",
                "203.0.113.9",
                None,
                "scanner",
                "user:kim",
                Some(future),
            )
            .unwrap();
        let (before, after) = store
            .block("edge", "203.0.113.9", None, "again", "user:kim", None)
            .unwrap();
        assert!(before.is_some());
        assert_eq!(
            after.expires, None,
            "a renewal without expiry makes it permanent"
        );
        store
            .block(
                "edge",
                "10.0.0.0/8",
                Some("seoul"),
                "lateral",
                "user:kim",
                None,
            )
            .unwrap();
        store
            .block(
                "edge",
                "old.example",
                None,
                "gone",
                "user:kim",
                Some(Timestamp(1)),
            )
            .unwrap();
        let all = store.blocklist("edge", None).unwrap();
        assert_eq!(all.len(), 2, "the expired entry is not served: {all:#?}");
        assert_eq!(
            store.blocklist("edge", Some("busan")).unwrap().len(),
            1,
            "Seoul's entry is Seoul's"
        );
        assert_eq!(store.blocklist("edge", Some("seoul")).unwrap().len(), 2);
        assert!(
            store
                .unblock("edge", "203.0.113.9", Some("seoul"))
                .unwrap()
                .is_none(),
            "not Seoul's to remove"
        );
        assert!(
            store
                .unblock("edge", "203.0.113.9", None)
                .unwrap()
                .is_some()
        );
        assert_eq!(store.blocklists(None).unwrap(), [("edge".to_string(), 1)]);
        assert!(
            store
                .block("Bad Name", "1.2.3.4", None, "", "x", None)
                .is_err()
        );
    }

    #[test]
    fn the_nftables_script_holds_addresses_and_counts_domains() {
        let e = |value: &str| {
            let (value, kind) = canonical_entry(value).unwrap();
            BlockEntry {
                list: "edge".into(),
                value,
                kind,
                tenant: None,
                reason: String::new(),
                added_by: String::new(),
                added: Timestamp(0),
                expires: None,
            }
        };
        let script = nftables_script(
            "edge",
            &[
                e("203.0.113.9"),
                e("10.0.0.0/8"),
                e("2001:db8::/32"),
                e("bad.example"),
            ],
        );
        assert!(script.contains("set edge_v4 {"));
        assert!(script.contains("elements = { 203.0.113.9, 10.0.0.0/8 }"));
        assert!(script.contains("elements = { 2001:db8::/32 }"));
        assert!(script.contains("1 domain entries"));
    }
}
