//! Sharing an incident with the sharing hub: a STIX 2.1 report of it, every object marked
//! with the chosen TLP, stored in a hub collection — by an analyst
//! (`POST /api/incidents/{id}/publish`) or by a playbook's `publish` action after a
//! person's approval.
//!
//! What is shared ([`haechi_intel::incident_objects`]): an indicator per attacker and per
//! indicator hit (internal addresses never: private, shared, loopback, link-local), an attack pattern per ATT&CK
//! technique of its alerts, a course of action for the response taken (block-list entries
//! of its attackers, tasks done), the relationships, and the report. No institution is
//! named: partners learn what happened, not to whom.

use haechi_event::{Alert, AlertSource};
use haechi_intel::store::{Collection, IntelStore};
use haechi_intel::{IncidentFacts, Tlp, incident_objects};
use haechi_store::state::tasks::Task;
use haechi_store::state::{AlertStore, IncidentDetail};

/// The TLP levels an incident may be shared at (RED never leaves the hub).
pub const SHAREABLE_TLP: &[&str] = &["clear", "green", "amber", "amber+strict"];
/// The most indicators one published incident carries.
const MAX_INDICATORS: usize = 1000;
/// Who the published objects say created them.
pub const CREATOR: &str = "Haechi control center";

/// What one publication stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub incident: i64,
    pub collection: String,
    pub collection_id: String,
    pub tlp: String,
    /// The report's STIX id.
    pub report: Option<String>,
    pub objects: usize,
    /// Values that could not be indicators, with the reason.
    pub skipped: Vec<String>,
}

/// Stores the STIX report of `incident` in the hub collection `collection` (name or id)
/// at `tlp`, as added by `actor`.
pub fn publish_incident(
    alerts: &AlertStore,
    hub: &IntelStore,
    incident: i64,
    collection: &str,
    tlp: Tlp,
    actor: &str,
) -> Result<Published, String> {
    if tlp == Tlp::Red {
        return Err(
            "TLP:RED never leaves the hub: choose clear, green, amber or amber+strict".into(),
        );
    }
    let Collection { id, name, .. } = hub.collection(collection).map_err(|e| e.to_string())?;
    let detail = alerts
        .incident(incident, None)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no incident {incident}"))?;
    let tasks = alerts.tasks(incident).map_err(|e| e.to_string())?;
    let facts = facts_of(&detail, &tasks, alerts);
    let (objects, skipped) = incident_objects(
        &facts,
        tlp,
        CREATOR,
        haechi_event::Timestamp::now().to_datetime(),
    )
    .map_err(|e| e.to_string())?;
    hub.add_objects(&id, &objects, actor)
        .map_err(|e| e.to_string())?;
    let report = objects
        .iter()
        .find(|o| o.object_type == "report")
        .map(|o| o.id.clone());
    Ok(Published {
        incident,
        collection: name,
        collection_id: id,
        tlp: tlp.as_str().to_owned(),
        report,
        objects: objects.len(),
        skipped,
    })
}

/// The incident's attackers, indicator hits, techniques and response.
fn facts_of(
    detail: &IncidentDetail,
    tasks: &[Task],
    store: &haechi_store::state::AlertStore,
) -> IncidentFacts {
    let incident = &detail.incident;
    let mut indicators: Vec<String> = incident
        .keys
        .iter()
        .filter_map(|k| k.strip_prefix("attacker:"))
        .map(str::to_owned)
        .collect();
    indicators.extend(detail.alerts.iter().filter_map(indicator_of));
    // Internal addresses (an institution's own hosts) are never published.
    indicators.retain(|v| !internal_address(v));
    indicators.sort();
    indicators.dedup();
    indicators.truncate(MAX_INDICATORS);
    let mut techniques: Vec<(String, String)> = detail
        .alerts
        .iter()
        .flat_map(|a| a.tags.iter())
        .filter_map(|t| technique(t))
        .map(|t| (t.clone(), t))
        .collect();
    techniques.sort();
    techniques.dedup();
    let mut response = blocked(store, &incident.tenant, &indicators);
    response.extend(
        tasks
            .iter()
            .filter(|t| t.done_by.is_some())
            .map(|t| format!("Task done: {}", t.text)),
    );
    IncidentFacts {
        title: incident.title.clone(),
        // No institution is named: partners learn what happened, not to whom.
        summary: format!(
            "Haechi incident {}: level {}, status {}, {} alerts from {} to {}.",
            incident.id,
            incident.level.as_str(),
            incident.status,
            incident.alerts,
            incident.first_seen,
            incident.last_seen
        ),
        indicators,
        techniques,
        response,
    }
}

/// Whether `value` is an address of an internal network: private, shared (CGN),
/// loopback, link-local, unique-local, unspecified, multicast or broadcast. (Documentation
/// ranges are public-looking test addresses and stay publishable.)
fn internal_address(value: &str) -> bool {
    let host = value
        .rsplit_once(':')
        .filter(|_| value.matches(':').count() == 1)
        .map_or(value, |(h, _)| h);
    match host.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            let o = ip.octets();
            ip.is_private()
                || ip.is_loopback()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_multicast()
                || ip.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// The indicator an indicator-hit alert is about.
fn indicator_of(alert: &Alert) -> Option<String> {
    (alert.source == AlertSource::Indicator)
        .then(|| alert.details.get("indicator")?.as_str().map(str::to_owned))
        .flatten()
}

/// `attack.t1059.001` → `T1059.001` (tactic tags such as `attack.execution` are not
/// techniques).
fn technique(tag: &str) -> Option<String> {
    let id = tag.strip_prefix("attack.")?;
    let digits = id.strip_prefix('t')?;
    let (main, sub) = digits.split_once('.').unwrap_or((digits, ""));
    let numeric = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(main, 4) && (sub.is_empty() || numeric(sub, 3))).then(|| id.to_ascii_uppercase())
}

/// Block-list entries of these values that apply to the incident's institution.
fn blocked(
    store: &haechi_store::state::AlertStore,
    tenant: &str,
    values: &[String],
) -> Vec<String> {
    let mut lines = Vec::new();
    let Ok(lists) = store.blocklists(Some(tenant)) else {
        return lines;
    };
    for (list, _) in lists {
        let Ok(entries) = store.blocklist(&list, Some(tenant)) else {
            continue;
        };
        for e in entries.iter().filter(|e| values.contains(&e.value)) {
            let until = e.expires.map(|t| format!(" until {t}")).unwrap_or_default();
            lines.push(format!(
                "{} blocked in block list {}{until}: {}",
                e.value, e.list, e.reason
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_never_published() {
        for internal in [
            "10.1.2.3",
            "192.168.0.9",
            "172.20.1.1",
            "100.64.0.1",
            "127.0.0.1",
            "fe80::1",
            "fd00::5",
            "10.0.0.1:443",
        ] {
            assert!(internal_address(internal), "{internal}");
        }
        for public in [
            "203.0.113.66",
            "198.51.100.7",
            "8.8.8.8",
            "2001:db8::1",
            "evil.example",
        ] {
            assert!(!internal_address(public), "{public}");
        }
    }

    #[test]
    fn techniques_are_read_from_attack_tags() {
        assert_eq!(technique("attack.t1059.001").as_deref(), Some("T1059.001"));
        assert_eq!(technique("attack.t1110").as_deref(), Some("T1110"));
        assert_eq!(technique("attack.execution"), None);
        assert_eq!(technique("attack.t11"), None);
        assert_eq!(technique("cve.2021.44228"), None);
    }
}
