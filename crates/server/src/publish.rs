//! Sharing a confirmed incident with the hub's partners.
//!
//! * `POST /api/incidents/{id}/publish` — `{"collection": NAME, "tlp": LEVEL}` stores a
//!   STIX 2.1 report of the incident in that collection of the sharing hub, every object
//!   marked with the chosen TLP: an indicator per attacker and per indicator hit, an
//!   attack pattern per ATT&CK technique of its alerts, a course of action for the
//!   response taken (block-list entries of its attackers, tasks done), the relationships
//!   between them, and the report itself ([`haechi_intel::incident_objects`]). Partners
//!   entitled to the collection and the level receive it over TAXII.
//!
//! The report names no institution, and internal (reserved) addresses are never
//! published as indicators. Center analysts and administrators only (publishing leaves
//! the center). The incident must be confirmed — moved to containment or later — and TLP:RED is refused, since RED
//! never leaves the hub anyway. Audited as `incident.publish`.

use crate::incidents::with_tasks;
use crate::{AppState, Caller, denied, error};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_event::{Alert, AlertSource};
use haechi_intel::{IncidentFacts, Tlp, incident_objects};
use haechi_store::state::IncidentDetail;
use haechi_store::state::tasks::Task;
use serde_json::json;

/// The statuses of a confirmed incident.
pub const CONFIRMED: &[&str] = &["containment", "eradication", "recovery", "closed"];
/// The most indicators one published incident carries.
const MAX_INDICATORS: usize = 1000;
/// Who the published objects say created them.
pub const CREATOR: &str = "Haechi control center";

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    collection: String,
    tlp: String,
}

pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    if let Err(d) = caller.require_center() {
        return denied(d);
    }
    let body: PublishBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("send {{\"collection\": NAME, \"tlp\": LEVEL}}: {e}"),
            );
        }
    };
    let tlp = match Tlp::parse(&body.tlp) {
        Some(Tlp::Red) => {
            return error(
                StatusCode::BAD_REQUEST,
                "tlp red: nothing marked RED leaves the hub; choose clear, green, amber or amber+strict",
            );
        }
        Some(t) => t,
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "tlp '{}': use clear, green, amber or amber+strict",
                    body.tlp
                ),
            );
        }
    };
    let (Some(alerts), Some(taxii)) = (state.alerts.clone(), state.taxii.clone()) else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "publishing needs detection (incidents) and the sharing hub",
        );
    };
    let (detail, tasks) = match with_tasks(alerts.clone(), id, caller.tenant.clone()).await {
        Ok(Some(found)) => found,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(r) => return r,
    };
    let status = detail.incident.status.as_str();
    if !CONFIRMED.contains(&status) {
        return error(
            StatusCode::CONFLICT,
            format!(
                "incident {id} is {status}: publish a confirmed incident (move it to containment or later first)"
            ),
        );
    }
    let hub = taxii.store.clone();
    let actor = caller.actor();
    let collection_name = body.collection.clone();
    let published = crate::blocking(move || {
        let collection = hub
            .collection(&collection_name)
            .map_err(|e| e.to_string())?;
        let facts = facts_of(&detail, &tasks, &alerts);
        let (objects, skipped) = incident_objects(
            &facts,
            tlp,
            CREATOR,
            haechi_event::Timestamp::now().to_datetime(),
        )
        .map_err(|e| e.to_string())?;
        hub.add_objects(&collection.id, &objects, &actor)
            .map_err(|e| e.to_string())?;
        let report = objects
            .iter()
            .find(|o| o.object_type == "report")
            .map(|o| o.id.clone());
        Ok::<_, String>((collection, objects.len(), report, skipped))
    })
    .await;
    let (collection, count, report, skipped) = match published {
        Ok(p) => p,
        Err(r) => return r,
    };
    let answer = json!({
        "incident": id,
        "collection": collection.name,
        "collection_id": collection.id,
        "tlp": tlp.as_str(),
        "report": report,
        "objects": count,
        "skipped": skipped,
    });
    let access = state.access.clone();
    let entry = AuditEntry::new(caller.actor(), "incident.publish", format!("incident:{id}"))
        .after(answer.clone());
    if let Err(e) = crate::blocking(move || access.audit(&entry)).await {
        return e;
    }
    Json(answer).into_response()
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
    indicators.retain(|v| {
        haechi_ioc::IndicatorValue::detect(v).is_ok_and(|v| !haechi_ioc::kind::touches_reserved(&v))
    });
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
    fn techniques_are_read_from_attack_tags() {
        assert_eq!(technique("attack.t1059.001").as_deref(), Some("T1059.001"));
        assert_eq!(technique("attack.t1110").as_deref(), Some("T1110"));
        assert_eq!(technique("attack.execution"), None);
        assert_eq!(technique("attack.t11"), None);
        assert_eq!(technique("cve.2021.44228"), None);
    }
}
