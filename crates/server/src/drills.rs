//! Drills run into this server (`haechi drill run --server URL`):
//!
//! * `POST /api/ingest?tenant=&format=&drill=ID` — the drill's recorded events go through
//!   the real ingest path; every event gets `labels.drill`, every alert it raises the tag
//!   `drill` and an entity of its own (playbooks leave drill alerts alone unless their
//!   trigger says `drills: true`).
//! * `POST /api/drills` — the drill's record (its runs and the alerts it raised, as the
//!   command saw them) kept in `DATA_DIR/drills/ID.json`, where `haechi drill report`
//!   reads it; a caller may record drills of the institutions it may write to; a drill
//!   kept is never replaced (409); audited.
//! * `GET /api/drills?tenant=` — the drills kept, newest first, with their scores.
//! * `GET /api/drills/{id}` — one drill's report (per technique: detected or not, by which
//!   rules, time to detect), with how its alerts were grouped and the officers' reaction
//!   times ([`enrich`]).

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::{AccessStore, AuditEntry};
use haechi_drill::DrillRecord;
use haechi_drill::officers::{Acted, DrillIncident};
use haechi_store::state::{AlertFilter, AlertStore};
use serde_json::json;

/// The most drills one listing reads.
const MAX_LISTED: usize = 500;

fn off() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "drills are not kept by this process (no data directory)",
    )
}

pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Json(record): Json<DrillRecord>,
) -> Response {
    let Some(dir) = state.data_dir.clone() else {
        return off();
    };
    if !haechi_drill::record::valid_id(&record.id) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("'{}' is not a drill id (drill-…)", record.id),
        );
    }
    if !crate::valid_tenant(&record.tenant) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("tenant '{}' is not a valid id", record.tenant),
        );
    }
    if let Err(why) = check_record(&record) {
        return error(StatusCode::BAD_REQUEST, why);
    }
    if let Err(d) = caller.require_write_to(&record.tenant) {
        return denied(d);
    }
    // Ids are not secret: a drill kept is never replaced (by another institution least of all).
    let (check_dir, check_id) = (dir.clone(), record.id.clone());
    let exists = tokio::task::spawn_blocking(move || {
        haechi_drill::record::dir_in(&check_dir)
            .join(format!("{check_id}.json"))
            .exists()
    })
    .await
    .unwrap_or(true);
    if exists {
        return error(
            StatusCode::CONFLICT,
            format!("drill {} is already kept", record.id),
        );
    }
    let target = format!("drill:{}", record.id);
    let intent =
        match crate::audit::Intent::begin(&state, &caller.actor(), "drill.record", &target).await {
            Ok(i) => i,
            Err(r) => return r,
        };
    let summary = json!({
        "tenant": record.tenant, "name": record.name, "runs": record.runs.len(),
        "alerts": record.alerts.len(),
    });
    let saved = {
        let record = record.clone();
        blocking(move || record.save(&dir)).await
    };
    if let Err(r) = saved {
        return r;
    }
    let entry = AuditEntry::new(caller.actor(), "drill.record", &target).after(summary);
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    (
        StatusCode::CREATED,
        Json(json!({"id": record.id, "report": haechi_drill::report(&record)})),
    )
        .into_response()
}

/// The most runs and alerts one drill record may hold.
const MAX_RUNS: usize = 10_000;
const MAX_ALERTS: usize = 100_000;

/// What a kept record must be for its report to be computed (found by Schemathesis: a
/// record with an empty start was kept, and its report failed).
fn check_record(r: &DrillRecord) -> Result<(), String> {
    if haechi_event::parse_rfc3339(&r.started).is_none() {
        return Err(format!("started '{}' is not an RFC 3339 time", r.started));
    }
    if !(0.1..=100_000.0).contains(&r.speed) {
        return Err("speed: 0.1 to 100000 times the recorded pace".into());
    }
    if r.name.chars().count() > 500 {
        return Err("name: at most 500 characters".into());
    }
    if r.runs.len() > MAX_RUNS || r.alerts.len() > MAX_ALERTS {
        return Err(format!(
            "at most {MAX_RUNS} runs and {MAX_ALERTS} alerts in one drill"
        ));
    }
    let finite = r
        .runs
        .iter()
        .flat_map(|x| [x.first_event_s, x.last_event_s])
        .chain(r.alerts.iter().map(|a| a.raised_s))
        .all(f64::is_finite);
    if !finite {
        return Err("times must be numbers of seconds".into());
    }
    Ok(())
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    tenant: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Response {
    let Some(dir) = state.data_dir.clone() else {
        return off();
    };
    if let Some(t) = &params.tenant
        && !caller.sees(t)
    {
        return error(
            StatusCode::FORBIDDEN,
            format!("{} may not see tenant '{t}'", caller.actor()),
        );
    }
    let records = match blocking(move || load_all(&dir)).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let drills: Vec<serde_json::Value> = records
        .iter()
        .filter(|r| caller.sees(&r.tenant))
        .filter(|r| params.tenant.as_deref().is_none_or(|t| t == r.tenant))
        .map(|r| {
            let report = haechi_drill::report(r);
            json!({
                "id": r.id, "name": r.name, "tenant": r.tenant, "started": r.started,
                "speed": r.speed, "techniques": report.techniques.len(),
                "detected": report.detected,
                "median_time_to_detect_s": report.median_time_to_detect_s,
            })
        })
        .collect();
    Json(json!({ "drills": drills })).into_response()
}

/// Every drill kept, newest first (at most [`MAX_LISTED`]); unreadable files are skipped.
fn load_all(data_dir: &std::path::Path) -> Result<Vec<DrillRecord>, String> {
    let dir = haechi_drill::record::dir_in(data_dir);
    let mut ids: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_owned)
            })
            .filter(|id| haechi_drill::record::valid_id(id))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    // Ids begin with their start time: the newest sort last.
    ids.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ids
        .iter()
        .take(MAX_LISTED)
        .filter_map(|id| DrillRecord::load(data_dir, id).ok())
        .collect())
}

pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let Some(dir) = state.data_dir.clone() else {
        return off();
    };
    if !haechi_drill::record::valid_id(&id) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("'{id}' is not a drill id (drill-…)"),
        );
    }
    let record = match blocking(move || DrillRecord::load(&dir, &id)).await {
        Ok(r) => r,
        Err(_) => return error(StatusCode::NOT_FOUND, "no such drill"),
    };
    // Another institution's drill is answered as absent, not as forbidden.
    if !caller.sees(&record.tenant) {
        return error(StatusCode::NOT_FOUND, "no such drill");
    }
    let mut report = haechi_drill::report(&record);
    if let Some(alerts) = state.alerts.clone() {
        let access = state.access.clone();
        match blocking(move || {
            enrich(&mut report, &alerts, &access, &record)?;
            Ok::<_, String>(report)
        })
        .await
        {
            Ok(r) => report = r,
            Err(r) => return r,
        }
    }
    Json(json!(report)).into_response()
}

/// Adds to a drill's report what happened after detection: how its alerts were grouped
/// (the triage fold) and how fast people acted on them (per officer): its alerts and their
/// incidents from the state store, the triage and incident changes from the audit log
/// since it started (the whole log is read page by page: a report is asked for rarely).
pub fn enrich(
    report: &mut haechi_drill::Report,
    alerts: &AlertStore,
    access: &AccessStore,
    record: &DrillRecord,
) -> Result<(), String> {
    // A record without a readable start (written by hand) gets the report alone.
    let Some(started) = haechi_event::parse_rfc3339(&record.started) else {
        return Ok(());
    };
    let e = |e: haechi_store::StoreError| e.to_string();
    let mine: Vec<(i64, i64)> = alerts
        .list(&AlertFilter {
            tenant: Some(record.tenant.clone()),
            tag: Some(haechi_respond::playbook::DRILL_TAG.into()),
            limit: haechi_store::state::MAX_LIST,
            ..Default::default()
        })
        .map_err(e)?
        .into_iter()
        .filter(|a| a.details.get("drill").and_then(|d| d.as_str()) == Some(record.id.as_str()))
        .map(|a| (a.id, a.stored.0 / 1_000_000))
        .collect();
    let mut by_incident: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for (id, _) in &mine {
        if let Some(incident) = alerts.incident_of_alert(*id).map_err(e)? {
            by_incident.entry(incident).or_default().push(*id);
        }
    }
    let incidents: Vec<DrillIncident> = by_incident
        .into_iter()
        .map(|(id, alert_ids)| DrillIncident { id, alert_ids })
        .collect();
    let grouped: usize = incidents.iter().map(|i| i.alert_ids.len()).sum();
    report.triage = Some(haechi_drill::TriageFold {
        alerts: mine.len(),
        incidents: incidents.len(),
        ungrouped: mine.len() - grouped,
        alerts_per_incident: (!incidents.is_empty())
            .then(|| grouped as f64 / incidents.len() as f64),
    });
    let since_ms = started.0 / 1_000_000;
    let mut acted = Vec::new();
    let mut after = 0;
    loop {
        let page = access
            .audit_records(after, 1000)
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        acted.extend(
            page.into_iter()
                .filter(|r| r.time_ms >= since_ms)
                .filter(|r| r.action.starts_with("alert.") || r.action == "incident.update")
                .map(|r| Acted {
                    status: r
                        .after
                        .as_ref()
                        .and_then(|a| a["status"].as_str())
                        .map(str::to_owned),
                    time_ms: r.time_ms,
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                }),
        );
    }
    report.officers = haechi_drill::officers::officer_times(&mine, &incidents, &acted);
    Ok(())
}
