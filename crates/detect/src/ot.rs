//! The OT behaviour model: what each industrial conversation of a facility normally does,
//! learned from a baseline window, and the alerts for what breaks it.
//!
//! Control networks are repetitive: the same HMI polls the same PLCs with the same
//! function codes over the same register ranges, all day. An [`Allowlist`] records, per
//! tenant and (client, server, protocol) **pair**, the function names seen, the operations
//! (`ics.operation`, set by the collector) and, per function, the
//! range of addresses touched. It is plain JSON that an engineer can read, review and
//! edit (`haechi ot learn` writes it, `[ot] allowlist` loads it), and learning can be run
//! again at any time.
//!
//! [`Allowlist::check`] turns an ICS event that breaks the baseline into an alert of origin
//! `model` (rule id `ot:<finding>`), with the ATT&CK for ICS technique:
//!
//! | finding | when | technique |
//! |---|---|---|
//! | `ot:new-talker` | a pair never seen talks to a server | T0886 Remote Services |
//! | `ot:new-write` | a pair that only read writes or controls | T0855 Unauthorized Command Message |
//! | `ot:new-function` | a pair uses a function it never used (not a read) | T0855 |
//! | `ot:write-out-of-range` | a write outside the addresses learned for that function | T0836 Modify Parameter |
//!
//! Operations that are alarming in themselves (program download, firmware, mode change,
//! restart) are the rule pack's job (`rules/ot`), so that a facility's first day is not
//! blind; the model adds what only a baseline can tell.

use haechi_event::{Alert, AlertSource, Event, Level, ecs};
use std::collections::{BTreeMap, BTreeSet};

/// One conversation's learned behaviour.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairProfile {
    /// Function names seen, as `ics.function.name` gives them.
    pub functions: BTreeSet<String>,
    /// Operations seen (`read`, `write`, …).
    pub operations: BTreeSet<String>,
    /// Per function, the lowest and highest address touched (`[first, last]`).
    #[serde(default)]
    pub address_ranges: BTreeMap<String, [i64; 2]>,
    /// Records learned from.
    pub records: u64,
}

/// The learned baseline of every tenant: tenant → `client>server/protocol` → profile.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Allowlist {
    /// What the baseline was learned from, for the reviewer.
    #[serde(default)]
    pub learned_from: String,
    pub tenants: BTreeMap<String, BTreeMap<String, PairProfile>>,
}

/// The fields of an ICS event the model reads.
struct IcsFacts<'e> {
    client: String,
    server: String,
    protocol: &'e str,
    function: Option<&'e str>,
    operation: &'e str,
    address: Option<i64>,
}

fn facts(event: &Event) -> Option<IcsFacts<'_>> {
    let protocol = event.get_str("ics.protocol")?;
    let client = event
        .get("id.orig_h")
        .or_else(|| event.get("client.ip"))
        .or_else(|| event.get(ecs::SOURCE_IP))?
        .as_text()
        .into_owned();
    let server = event
        .get("id.resp_h")
        .or_else(|| event.get("server.ip"))
        .or_else(|| event.get(ecs::DESTINATION_IP))?
        .as_text()
        .into_owned();
    Some(IcsFacts {
        client,
        server,
        protocol,
        function: event.get_str("ics.function.name"),
        operation: event.get_str("ics.operation").unwrap_or("other"),
        address: event
            .get("ics.address")
            .and_then(|v| v.as_f64())
            .map(|a| a as i64),
    })
}

fn pair_key(f: &IcsFacts<'_>) -> String {
    format!("{}>{}/{}", f.client, f.server, f.protocol)
}

fn writes(operation: &str) -> bool {
    matches!(operation, "write" | "control")
}

impl Allowlist {
    /// Learns from `events` (adds to what is already there).
    pub fn learn<'a>(&mut self, events: impl IntoIterator<Item = &'a Event>) {
        for event in events {
            let Some(f) = facts(event) else { continue };
            let profile = self
                .tenants
                .entry(event.tenant.to_string())
                .or_default()
                .entry(pair_key(&f))
                .or_default();
            profile.records += 1;
            profile.operations.insert(f.operation.to_owned());
            if let Some(function) = f.function {
                profile.functions.insert(function.to_owned());
                if let Some(a) = f.address {
                    let range = profile
                        .address_ranges
                        .entry(function.to_owned())
                        .or_insert([a, a]);
                    range[0] = range[0].min(a);
                    range[1] = range[1].max(a);
                }
            }
        }
    }

    /// Pairs learned, over all tenants.
    pub fn pairs(&self) -> usize {
        self.tenants.values().map(BTreeMap::len).sum()
    }

    /// The alert for an ICS event that breaks its tenant's baseline, if it does. Tenants
    /// without a baseline are not judged (nothing was learned for them).
    pub fn check(&self, event: &Event, event_id: &str) -> Option<Alert> {
        let f = facts(event)?;
        let pairs = self.tenants.get(&*event.tenant)?;
        let key = pair_key(&f);
        let finding = match pairs.get(&key) {
            None => Finding::NewTalker,
            Some(p) => {
                let only_read = !p.operations.iter().any(|o| writes(o));
                match f.function {
                    _ if writes(f.operation) && only_read => Finding::NewWrite,
                    Some(func) if !p.functions.contains(func) && f.operation != "read" => {
                        Finding::NewFunction
                    }
                    Some(func) if writes(f.operation) => {
                        let range = p.address_ranges.get(func)?;
                        let a = f.address?;
                        if a < range[0] || a > range[1] {
                            Finding::OutOfRange
                        } else {
                            return None;
                        }
                    }
                    _ => return None,
                }
            }
        };
        Some(finding.alert(&f, &key, event, event_id))
    }
}

#[derive(Debug, Clone, Copy)]
enum Finding {
    NewTalker,
    NewWrite,
    NewFunction,
    OutOfRange,
}

impl Finding {
    fn alert(self, f: &IcsFacts<'_>, pair: &str, event: &Event, event_id: &str) -> Alert {
        let (id, title, technique, level) = match self {
            Finding::NewTalker => (
                "ot:new-talker",
                format!(
                    "OT: {} talks {} to {} for the first time",
                    f.client, f.protocol, f.server
                ),
                "t0886",
                if writes(f.operation) {
                    Level::High
                } else {
                    Level::Medium
                },
            ),
            Finding::NewWrite => (
                "ot:new-write",
                format!(
                    "OT: {} writes to {} over {}, which it only read before",
                    f.client, f.server, f.protocol
                ),
                "t0855",
                Level::High,
            ),
            Finding::NewFunction => (
                "ot:new-function",
                format!(
                    "OT: {} uses {} on {} for the first time",
                    f.client,
                    f.function.unwrap_or("?"),
                    f.server
                ),
                "t0855",
                Level::Medium,
            ),
            Finding::OutOfRange => (
                "ot:write-out-of-range",
                format!(
                    "OT: {} writes {} at address {} on {}, outside the learned range",
                    f.client,
                    f.function.unwrap_or("?"),
                    f.address.unwrap_or_default(),
                    f.server
                ),
                "t0836",
                Level::High,
            ),
        };
        let mut details = serde_json::Map::new();
        details.insert("pair".into(), pair.into());
        details.insert("protocol".into(), f.protocol.into());
        details.insert("operation".into(), f.operation.into());
        if let Some(func) = f.function {
            details.insert("function".into(), func.into());
        }
        if let Some(a) = f.address {
            details.insert("address".into(), a.into());
        }
        details.insert("client".into(), f.client.clone().into());
        details.insert("server".into(), f.server.clone().into());
        Alert {
            source: AlertSource::Model,
            rule_id: id.to_owned(),
            rule_title: title,
            level,
            author: Some("Haechi OT behaviour model".into()),
            references: vec![format!(
                "https://attack.mitre.org/techniques/{}/",
                technique.to_uppercase()
            )],
            tags: vec![format!("attack.{technique}"), format!("ics.{}", f.protocol)],
            entity: format!("source.ip={}", f.client.to_lowercase()),
            details,
            ..crate::alert::alert_on(event, event_id)
        }
    }
}
