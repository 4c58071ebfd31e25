//! Matching events: which fields are looked up as what ([`FIELDS`], [`ENDPOINT_FIELDS`]),
//! and what a match reports ([`Hit`]).
//!
//! [`Matcher::match_event`] walks an event's fields once. Each field name is looked up in
//! a small open-addressing table built from [`FIELDS`] (a few nanoseconds; names not in the
//! table cost nothing more); a field of interest is looked up in the set as its
//! [`FieldRole`] says, element by element for lists. Nothing allocates unless something
//! matches: values are normalised into stack buffers and hashes parsed into arrays.
//!
//! One hit per indicator and observed value: an address or host name that appears in
//! several fields (`related.ip` repeats `source.ip`, `url.domain` the URL's host) is looked
//! up once, and the hit names the field that comes first in the event.

use crate::kind::IndicatorKind;
use crate::meta::IndicatorMeta;
use crate::normalize;
use crate::set::{IndicatorId, IndicatorSet};
use haechi_event::{Event, Value, ecs};
use std::fmt::Display;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};

/// What an event field holds, and so how it is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRole {
    /// IP addresses (`Value::Ip`, or strings that parse as one; lists of them): listed
    /// addresses and ranges.
    Ip,
    /// Host names: listed domains at or above the name (an IP address in the field is
    /// looked up as one).
    Domain,
    /// URLs: listed URLs, and the URL's host as a domain or IP address.
    Url,
    /// E-mail addresses.
    Email,
    /// A hex digest (MD5, SHA-1 or SHA-256, told apart by length).
    Hash,
    /// Sysmon's `Hashes` list, `MD5=…,SHA256=…,IMPHASH=…`: the MD5, SHA1 and SHA256 entries
    /// (IMPHASH is a hash of the import table, not of the file, and is not looked up).
    SysmonHashes,
}

/// One field the matcher looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub role: FieldRole,
}

const fn field(name: &'static str, role: FieldRole) -> FieldSpec {
    FieldSpec { name, role }
}

/// **The fields every event is checked in**, by role. Extend it here (or pass another list
/// to [`Matcher::with_fields`]); a name appears once.
pub const FIELDS: &[FieldSpec] = &[
    // Addresses.
    field(ecs::SOURCE_IP, FieldRole::Ip),
    field(ecs::DESTINATION_IP, FieldRole::Ip),
    field(ecs::CLIENT_IP, FieldRole::Ip),
    field(ecs::SERVER_IP, FieldRole::Ip),
    field(ecs::HOST_IP, FieldRole::Ip),
    field(ecs::RELATED_IP, FieldRole::Ip),
    field(ecs::SOURCE_NAT_IP, FieldRole::Ip),
    field(ecs::DESTINATION_NAT_IP, FieldRole::Ip),
    field(ecs::DNS_RESOLVED_IP, FieldRole::Ip),
    // Names.
    field(ecs::DNS_QUESTION_NAME, FieldRole::Domain),
    field(ecs::URL_DOMAIN, FieldRole::Domain),
    field(ecs::DESTINATION_DOMAIN, FieldRole::Domain),
    field(ecs::SOURCE_DOMAIN, FieldRole::Domain),
    field("server.domain", FieldRole::Domain),
    field("client.domain", FieldRole::Domain),
    field(ecs::TLS_CLIENT_SERVER_NAME, FieldRole::Domain),
    // URLs (and their hosts).
    field(ecs::URL_ORIGINAL, FieldRole::Url),
    field("url.full", FieldRole::Url),
    // E-mail addresses.
    field(ecs::EMAIL_FROM_ADDRESS, FieldRole::Email),
    field(ecs::EMAIL_TO_ADDRESS, FieldRole::Email),
    field("email.cc.address", FieldRole::Email),
    field("email.bcc.address", FieldRole::Email),
    field("email.reply_to.address", FieldRole::Email),
    field("email.sender.address", FieldRole::Email),
    field("user.email", FieldRole::Email),
    field("source.user.email", FieldRole::Email),
    // File and process hashes.
    field(ecs::FILE_HASH_MD5, FieldRole::Hash),
    field(ecs::FILE_HASH_SHA1, FieldRole::Hash),
    field(ecs::FILE_HASH_SHA256, FieldRole::Hash),
    field("process.hash.md5", FieldRole::Hash),
    field("process.hash.sha1", FieldRole::Hash),
    field("process.hash.sha256", FieldRole::Hash),
    field("process.parent.hash.md5", FieldRole::Hash),
    field("process.parent.hash.sha1", FieldRole::Hash),
    field("process.parent.hash.sha256", FieldRole::Hash),
    // Sysmon's combined hash list, under the names Haechi's EVTX parser, a bare Sysmon
    // export and Winlogbeat give it.
    field("Event.EventData.Hashes", FieldRole::SysmonHashes),
    field("Hashes", FieldRole::SysmonHashes),
    field("winlog.event_data.Hashes", FieldRole::SysmonHashes),
];

/// **The (address, port) field pairs** checked against IP:port indicators. A hit names the
/// address field and shows `ip:port` as the matched value.
pub const ENDPOINT_FIELDS: &[(&str, &str)] = &[
    (ecs::DESTINATION_IP, ecs::DESTINATION_PORT),
    (ecs::SOURCE_IP, ecs::SOURCE_PORT),
    ("client.ip", "client.port"),
    ("server.ip", "server.port"),
    (ecs::DESTINATION_NAT_IP, ecs::DESTINATION_NAT_PORT),
    (ecs::SOURCE_NAT_IP, ecs::SOURCE_NAT_PORT),
];

/// The most endpoint pairs a matcher takes (they live in a fixed array per event).
pub const MAX_ENDPOINTS: usize = 8;

/// One indicator seen in one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The indicator, within the set that matched.
    pub id: IndicatorId,
    pub kind: IndicatorKind,
    /// The indicator's value in canonical form (`evil.com`, `10.0.0.0/8`,
    /// `http://evil.com/x`, lowercase hex).
    pub indicator: String,
    /// The event field it was seen in.
    pub field: &'static str,
    /// The value compared: the field's value, the URL's host, or one digest of a Sysmon
    /// `Hashes` list (for an endpoint, `ip:port`).
    pub matched: String,
    /// Source, confidence, description and references, shared with the set.
    pub meta: Arc<IndicatorMeta>,
}

impl Hit {
    pub(crate) fn new(
        set: &IndicatorSet,
        id: IndicatorId,
        field: &'static str,
        matched: String,
    ) -> Hit {
        Hit {
            id,
            kind: id.kind(),
            indicator: set.value_text(id),
            field,
            matched,
            meta: Arc::clone(set.meta(id)),
        }
    }

    /// The feed the indicator came from.
    pub fn source(&self) -> &str {
        &self.meta.source
    }

    pub fn confidence(&self) -> Option<u8> {
        self.meta.confidence
    }

    pub fn description(&self) -> Option<&str> {
        self.meta.description.as_deref()
    }

    /// `indicator:<kind>:<value>`, the rule id [`haechi_event::Alert`] uses for indicator
    /// hits.
    pub fn rule_id(&self) -> String {
        format!("indicator:{}:{}", self.kind, self.indicator)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    name: &'static str,
    role: Option<FieldRole>,
    /// (pair index, whether this is the port of the pair).
    endpoint: Option<(u8, bool)>,
}

/// Matches events against a set through a field table. Cheap to share; holds no set, so
/// one matcher serves every set that is swapped in.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Open addressing: 0 is empty, else an index into `entries` plus one.
    slots: Box<[u16]>,
    entries: Vec<Entry>,
    endpoint_count: usize,
}

static DEFAULT_MATCHER: LazyLock<Matcher> = LazyLock::new(Matcher::new);

impl Default for Matcher {
    fn default() -> Self {
        Matcher::new()
    }
}

impl Matcher {
    /// A matcher for [`FIELDS`] and [`ENDPOINT_FIELDS`].
    pub fn new() -> Self {
        Matcher::with_fields(FIELDS, ENDPOINT_FIELDS)
    }

    /// A matcher for other field lists.
    ///
    /// # Panics
    /// With more than [`MAX_ENDPOINTS`] endpoint pairs, or a field listed twice in
    /// `fields`.
    pub fn with_fields(fields: &[FieldSpec], endpoints: &[(&'static str, &'static str)]) -> Self {
        assert!(
            endpoints.len() <= MAX_ENDPOINTS,
            "at most {MAX_ENDPOINTS} endpoint field pairs"
        );
        let mut entries: Vec<Entry> = Vec::new();
        for spec in fields {
            assert!(
                entries.iter().all(|e| e.name != spec.name),
                "field {} listed twice",
                spec.name
            );
            entries.push(Entry {
                name: spec.name,
                role: Some(spec.role),
                endpoint: None,
            });
        }
        for (pair, &(ip, port)) in endpoints.iter().enumerate() {
            for (name, is_port) in [(ip, false), (port, true)] {
                let slot = Some((pair as u8, is_port));
                match entries.iter_mut().find(|e| e.name == name) {
                    Some(entry) => entry.endpoint = slot,
                    None => entries.push(Entry {
                        name,
                        role: None,
                        endpoint: slot,
                    }),
                }
            }
        }
        let size = (entries.len() * 4).next_power_of_two().max(64);
        let mut slots = vec![0u16; size].into_boxed_slice();
        for (i, entry) in entries.iter().enumerate() {
            let mut s = name_hash(entry.name.as_bytes()) & (size - 1);
            while slots[s] != 0 {
                s = (s + 1) & (size - 1);
            }
            slots[s] = (i + 1) as u16;
        }
        Matcher {
            slots,
            entries,
            endpoint_count: endpoints.len(),
        }
    }

    /// The table entry of a field name.
    #[inline]
    fn entry(&self, name: &str) -> Option<&Entry> {
        let mask = self.slots.len() - 1;
        let mut s = name_hash(name.as_bytes()) & mask;
        loop {
            let slot = self.slots[s];
            if slot == 0 {
                return None;
            }
            let entry = &self.entries[usize::from(slot) - 1];
            if entry.name == name {
                return Some(entry);
            }
            s = (s + 1) & mask;
        }
    }

    /// Replaces the contents of `hits` with every indicator of `set` seen in `event`.
    /// Allocates only for hits: keep one `hits` buffer per worker and reuse it.
    pub fn match_event(&self, set: &IndicatorSet, event: &Event, hits: &mut Vec<Hit>) {
        hits.clear();
        let mut endpoints: [(Option<&Value>, Option<&Value>); MAX_ENDPOINTS] =
            [(None, None); MAX_ENDPOINTS];
        let mut matching = EventMatch::new(set, hits);
        for (name, value) in &event.fields {
            let Some(entry) = self.entry(name) else {
                continue;
            };
            if let Some((pair, is_port)) = entry.endpoint {
                let (ip, port) = &mut endpoints[usize::from(pair)];
                let cell = if is_port { port } else { ip };
                cell.get_or_insert(value);
            }
            if let Some(role) = entry.role {
                matching.value(role, entry.name, value);
            }
        }
        if set.has_ip_ports() {
            for (pair, (ip, port)) in endpoints.iter().take(self.endpoint_count).enumerate() {
                let ip = ip.and_then(scalar_ip);
                let port = port.and_then(scalar_port);
                if let (Some(ip), Some(port)) = (ip, port) {
                    let field = self.endpoint_field(pair);
                    set.find_ip_port(ip, port, &mut |id| {
                        push_hit(matching.hits, set, id, field, &SocketAddr::new(ip, port))
                    });
                }
            }
        }
    }

    /// The address field of endpoint pair `pair`.
    fn endpoint_field(&self, pair: usize) -> &'static str {
        self.entries
            .iter()
            .find(|e| e.endpoint == Some((pair as u8, false)))
            .map_or("", |e| e.name)
    }
}

impl IndicatorSet {
    /// [`Matcher::match_event`] with the default field table.
    pub fn match_event(&self, event: &Event, hits: &mut Vec<Hit>) {
        DEFAULT_MATCHER.match_event(self, event, hits)
    }
}

/// A cheap hash of a field name: its length, first 8 and last 8 bytes.
#[inline]
fn name_hash(name: &[u8]) -> usize {
    fn load(bytes: &[u8]) -> u64 {
        let mut word = [0u8; 8];
        word[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(word)
    }
    let n = name.len();
    let head = load(&name[..n.min(8)]);
    let tail = load(&name[n.saturating_sub(8)..]);
    let h = (head ^ tail.rotate_left(23) ^ (n as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as usize
}

/// How many distinct addresses and names of one event are remembered, so that a value
/// repeated in several fields (`related.ip`, `url.domain` beside `url.original`) is
/// looked up once. Beyond that, values are simply looked up again.
const SEEN: usize = 16;

/// Matching one event: the set, the hits so far, and the values already looked up.
struct EventMatch<'s, 'e> {
    set: &'s IndicatorSet,
    hits: &'s mut Vec<Hit>,
    ips: [Option<IpAddr>; SEEN],
    names: [&'e str; SEEN],
    ip_count: usize,
    name_count: usize,
}

impl<'s, 'e> EventMatch<'s, 'e> {
    fn new(set: &'s IndicatorSet, hits: &'s mut Vec<Hit>) -> Self {
        EventMatch {
            set,
            hits,
            ips: [None; SEEN],
            names: [""; SEEN],
            ip_count: 0,
            name_count: 0,
        }
    }

    /// A field's value, element by element for lists.
    fn value(&mut self, role: FieldRole, field: &'static str, value: &'e Value) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.value(role, field, item);
                }
            }
            Value::Ip(ip) if matches!(role, FieldRole::Ip | FieldRole::Domain | FieldRole::Url) => {
                self.ip(field, *ip, ip)
            }
            Value::Str(text) => self.text(role, field, text),
            _ => {}
        }
    }

    fn text(&mut self, role: FieldRole, field: &'static str, text: &'e str) {
        match role {
            FieldRole::Ip => {
                if let Ok(ip) = text.trim().parse::<IpAddr>() {
                    self.ip(field, ip, &text)
                }
            }
            FieldRole::Domain => match text.trim().parse::<IpAddr>() {
                Ok(ip) => self.ip(field, ip, &text),
                Err(_) => self.name(field, text, text),
            },
            FieldRole::Url => self.url(field, text),
            FieldRole::Email => {
                let (set, hits) = (self.set, &mut *self.hits);
                set.find_email(text, &mut |id| push_hit(hits, set, id, field, &text))
            }
            FieldRole::Hash => self.hash(field, text),
            FieldRole::SysmonHashes => {
                // `MD5=…,SHA256=…,IMPHASH=…`: each file digest on its own.
                for part in text.split(',') {
                    let Some((algo, hex)) = part.split_once('=') else {
                        continue;
                    };
                    let algo = algo.trim();
                    if ["MD5", "SHA1", "SHA256"]
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(algo))
                    {
                        self.hash(field, hex.trim());
                    }
                }
            }
        }
    }

    /// The URL itself, then its host as an IP address or a domain.
    fn url(&mut self, field: &'static str, text: &'e str) {
        let Some(parts) = normalize::split_url(text) else {
            return;
        };
        let (set, hits) = (self.set, &mut *self.hits);
        if set.has_urls() {
            set.find_url(&parts, &mut |id| {
                push_hit(hits, set, id, field, &text.trim())
            });
        }
        let host = parts.host;
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        match bare.parse::<IpAddr>() {
            Ok(ip) => self.ip(field, ip, &host),
            Err(_) => self.name(field, host, host),
        }
    }

    fn hash(&mut self, field: &'static str, hex: &str) {
        let (set, hits) = (self.set, &mut *self.hits);
        set.find_hash(hex, &mut |id| push_hit(hits, set, id, field, &hex));
    }

    /// Looks up an address, unless this event already had it looked up.
    fn ip(&mut self, field: &'static str, ip: IpAddr, shown: &dyn Display) {
        let ip = ip.to_canonical();
        if self.ips[..self.ip_count].contains(&Some(ip)) {
            return;
        }
        if self.ip_count < SEEN {
            self.ips[self.ip_count] = Some(ip);
            self.ip_count += 1;
        }
        let (set, hits) = (self.set, &mut *self.hits);
        set.find_ip(ip, &mut |id| push_hit(hits, set, id, field, shown));
    }

    /// Looks up a host name, unless this event already had it looked up.
    fn name(&mut self, field: &'static str, name: &'e str, shown: &str) {
        let key = name.trim().trim_end_matches('.');
        if self.names[..self.name_count]
            .iter()
            .any(|seen| seen.eq_ignore_ascii_case(key))
        {
            return;
        }
        if self.name_count < SEEN {
            self.names[self.name_count] = key;
            self.name_count += 1;
        }
        let (set, hits) = (self.set, &mut *self.hits);
        set.find_domain(name, &mut |id| push_hit(hits, set, id, field, &shown));
    }
}

fn scalar_ip(value: &Value) -> Option<IpAddr> {
    match value {
        Value::Ip(ip) => Some(*ip),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn scalar_port(value: &Value) -> Option<u16> {
    match value {
        Value::Int(i) => u16::try_from(*i).ok(),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Adds a hit unless the same indicator already matched the same value in this event.
fn push_hit(
    hits: &mut Vec<Hit>,
    set: &IndicatorSet,
    id: IndicatorId,
    field: &'static str,
    matched: &dyn Display,
) {
    let matched = to_text(matched);
    if hits.iter().any(|h| h.id == id && h.matched == matched) {
        return;
    }
    hits.push(Hit::new(set, id, field, matched));
}

/// `value` as text in one allocation (for the short values hits show; `to_string` grows
/// its buffer in steps).
pub(crate) fn to_text(value: &dyn Display) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(64);
    let _ = write!(text, "{value}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_field_is_found_and_others_are_not() {
        let matcher = Matcher::new();
        for spec in FIELDS {
            let entry = matcher.entry(spec.name).expect(spec.name);
            assert_eq!(entry.role, Some(spec.role));
        }
        for &(ip, port) in ENDPOINT_FIELDS {
            assert!(matcher.entry(ip).unwrap().endpoint.is_some());
            assert!(matcher.entry(port).unwrap().endpoint.is_some());
        }
        for other in [
            "",
            "source",
            "source.ipx",
            "message",
            "Event.EventData.Image",
        ] {
            assert!(matcher.entry(other).is_none(), "{other}");
        }
        assert_eq!(matcher.endpoint_field(0), ecs::DESTINATION_IP);
    }
}
