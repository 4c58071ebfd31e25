//! Alerts: what detection makes of events.
//!
//! An [`Alert`] says which rule or indicator fired, for which tenant and entity, when
//! (first and last event), how often, and which events it stands on ([`EventRef`]s that
//! `haechi search 'event.id:…'` finds). It carries the rule's attribution (the DRL 1.1
//! licence of SigmaHQ rules requires id, title and author in every output) or the
//! indicator's source, confidence and description. The state store merges identical
//! alerts (same tenant, rule and entity) that arrive within a window into one with a
//! count, so an alert is a record of a situation, not of one event.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSource {
    /// A Sigma detection rule.
    Sigma,
    /// A Sigma correlation rule (several events over a timespan).
    Correlation,
    /// A threat-intel indicator seen in an event.
    Indicator,
    /// One of Haechi's models scored the event above its threshold.
    Model,
    /// The security equipment reported a detection of its own (an IPS signature, an
    /// anti-virus finding, a WAF block), mapped to Haechi's levels.
    Device,
    /// A vulnerability found in an institution's inventory (KEV-listed, or on an
    /// internet-facing system).
    Vuln,
    /// A domain name that imitates an institution's protected name, or that UTS #39 or
    /// the DGA/phishing model calls suspicious (Domain Watch).
    Domain,
}

impl AlertSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSource::Sigma => "sigma",
            AlertSource::Correlation => "correlation",
            AlertSource::Indicator => "indicator",
            AlertSource::Model => "model",
            AlertSource::Device => "device",
            AlertSource::Vuln => "vuln",
            AlertSource::Domain => "domain",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sigma" => AlertSource::Sigma,
            "correlation" => AlertSource::Correlation,
            "indicator" => AlertSource::Indicator,
            "model" => AlertSource::Model,
            "device" => AlertSource::Device,
            "vuln" => AlertSource::Vuln,
            "domain" => AlertSource::Domain,
            _ => return None,
        })
    }
}

/// Sigma's severity levels, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// Parses a level name; Sigma rules without a level (or with an unknown one) rank
    /// lowest, as `informational`.
    pub fn parse_or_lowest(s: Option<&str>) -> Level {
        s.and_then(Level::parse).unwrap_or(Level::Informational)
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// Where an alert stands in an officer's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Not looked at yet.
    #[default]
    New,
    /// Someone is on it.
    Acknowledged,
    /// Done, with a disposition. A recurrence opens a new alert.
    Closed,
}

impl AlertState {
    pub const ALL: [AlertState; 3] = [
        AlertState::New,
        AlertState::Acknowledged,
        AlertState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::New => "new",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        AlertState::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What a closed alert turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    TruePositive,
    FalsePositive,
    /// Real activity, but allowed (an administrator's scan, a test).
    Benign,
}

impl Disposition {
    pub const ALL: [Disposition; 3] = [
        Disposition::TruePositive,
        Disposition::FalsePositive,
        Disposition::Benign,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::TruePositive => "true_positive",
            Disposition::FalsePositive => "false_positive",
            Disposition::Benign => "benign",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Disposition::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The triage of an alert: its state, who has it, and how it was closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    pub state: AlertState,
    pub assignee: Option<String>,
    pub disposition: Option<Disposition>,
}

/// A pointer to an event an alert stands on: its time and its `event.id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    pub timestamp: Timestamp,
    pub id: String,
}

/// At most this many event references are kept per alert (the count keeps growing).
pub const MAX_EVENT_REFS: usize = 20;

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Assigned by the state store; 0 before it is stored.
    #[serde(default)]
    pub id: i64,
    pub tenant: String,
    pub source: AlertSource,
    /// The Sigma rule id, or `indicator:<kind>:<value>` for an indicator hit.
    pub rule_id: String,
    pub rule_title: String,
    pub level: Level,
    pub author: Option<String>,
    pub status: Option<String>,
    pub references: Vec<String>,
    /// ATT&CK and other tags of the rule.
    pub tags: Vec<String>,
    /// What the alert is about, as `field=value` (`host.name=ws1`, `source.ip=…`); merging
    /// is per (tenant, rule, entity).
    pub entity: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// How many detections were merged into this alert.
    pub count: u64,
    pub events: Vec<EventRef>,
    /// Source-specific facts: matched fields, indicator source/confidence/description,
    /// correlation group and value.
    pub details: serde_json::Map<String, serde_json::Value>,
    /// When the state store last wrote this alert (set when read back from it).
    #[serde(default)]
    pub stored: Timestamp,
    /// Set by officers in the console or the API; new alerts start `new`.
    #[serde(default)]
    pub triage: Triage,
}

impl Alert {
    /// The time an alert is ordered and merged by: its last event.
    pub fn time(&self) -> Timestamp {
        self.last_seen
    }
}

/// The value of `alert` that could identify the same attacker at another institution,
/// lower-cased, first found of:
///
/// * indicator alerts: `details.indicator` (the indicator in canonical form — an IP, a
///   domain, a URL, a hash — the same at every tenant);
/// * device alerts: `details.attacker` (the side the equipment named as the attacker);
/// * `details.matched["source.ip"]` (the fields a Sigma rule matched on);
/// * a correlation's `group-by` value for `source.ip`;
/// * the entity, if it is `source.ip=…`;
/// * domain-model alerts: `details.name` (the scored domain name).
///
/// Private addresses are *not* dropped here; the risk index (`ignore_private_attackers`)
/// and the incident grouping decide what to do with them.
pub fn attacker_of(alert: &Alert) -> Option<String> {
    let d = &alert.details;
    let clean = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s != "-").then(|| s.to_lowercase())
    };
    if alert.source == AlertSource::Indicator
        && let Some(v) = d.get("indicator").and_then(|v| v.as_str()).and_then(clean)
    {
        return Some(v);
    }
    if alert.source == AlertSource::Device
        && let Some(v) = d.get("attacker").and_then(|v| v.as_str()).and_then(clean)
    {
        return Some(v);
    }
    if let Some(v) = d
        .get("matched")
        .and_then(|m| m.get("source.ip"))
        .and_then(|v| v.as_str())
        .and_then(clean)
    {
        return Some(v);
    }
    if let Some(group) = d
        .get("correlation")
        .and_then(|c| c.get("group"))
        .and_then(|g| g.as_array())
    {
        // CorrelationFacts.group serializes as [[field, value], …].
        for pair in group {
            if let Some([f, v]) = pair.as_array().map(|a| a.as_slice())
                && f.as_str() == Some("source.ip")
                && let Some(v) = v.as_str().and_then(clean)
            {
                return Some(v);
            }
        }
    }
    if let Some(v) = alert.entity.strip_prefix("source.ip=").and_then(clean) {
        return Some(v);
    }
    if alert.source == AlertSource::Model
        && let Some(v) = d.get("name").and_then(|v| v.as_str()).and_then(clean)
    {
        return Some(v);
    }
    None
}

/// Whether `value` is an IP address that does not identify one machine across
/// institutions: private (RFC 1918, fc00::/7), loopback, link-local, unspecified,
/// CGNAT (100.64.0.0/10) or broadcast. Documentation ranges (TEST-NET) are kept: lab
/// samples use them for attackers.
pub fn is_local_address(value: &str) -> bool {
    match value.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            let o = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        Ok(IpAddr::V6(a)) => {
            let s = a.segments();
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_local_address(&v4.to_string());
            }
            a.is_loopback()
                || a.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_parse() {
        assert!(Level::Critical > Level::High && Level::Low > Level::Informational);
        assert_eq!(Level::parse("medium"), Some(Level::Medium));
        assert_eq!(Level::parse("severe"), None);
        assert_eq!(Level::parse_or_lowest(None), Level::Informational);
        assert_eq!(
            serde_json::to_string(&Level::High).unwrap(),
            "\"high\"",
            "levels serialize as Sigma writes them"
        );
    }
}
