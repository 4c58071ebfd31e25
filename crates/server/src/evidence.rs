//! Pinning stored events to an incident as evidence.
//!
//! * `POST /api/incidents/{id}/evidence` — `{"ref", "time", "note"}`: the event with that
//!   reference at that time (as `GET /api/events` and the incident timeline list them,
//!   `refs` beside `events`) is copied from the event store into the incident's evidence.
//!   Only events of the incident's institution; the server takes the copy itself, so
//!   evidence cannot be forged. 201 with the evidence; 404 when no such event exists;
//!   400 when it is pinned already or over a limit. Audited as `incident.evidence.pin`.
//! * `POST /api/incidents/{id}/evidence/{evidence}/remove` — unpins it; audited as
//!   `incident.evidence.unpin`.
//!
//! The incident (`GET /api/incidents/{id}`) and its report list the evidence.

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_event::{Event, Timestamp, event_to_json};
use haechi_store::SearchRequest;
use haechi_store::state::evidence::EventCopy;
use serde_json::json;

/// The most events read to find one by its reference (events sharing one nanosecond).
const MAX_SAME_INSTANT: usize = 1000;

/// An event's reference: the first 32 hex digits of the SHA-256 of its institution and
/// its JSON. Stable for a stored event, different for any other.
pub fn event_ref(event: &Event) -> String {
    let text = format!("{}\n{}", event.tenant, event_to_json(event));
    haechi_access::secret::sha256_hex(text.as_bytes())[..32].to_owned()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinBody {
    #[serde(rename = "ref")]
    event_ref: String,
    time: String,
    #[serde(default)]
    note: String,
}

pub async fn pin(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<PinBody>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(alerts) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there are no incidents",
        );
    };
    if body.event_ref.len() != 32 || !body.event_ref.bytes().all(|b| b.is_ascii_hexdigit()) {
        return error(
            StatusCode::BAD_REQUEST,
            "ref: the 32 hex digits an event listing gives",
        );
    }
    let Some(time) = haechi_event::parse_rfc3339(&body.time) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("time '{}' is not an RFC 3339 time", body.time),
        );
    };
    let store = alerts.clone();
    let tenant = caller.tenant.clone();
    let incident = match blocking(move || store.incident(id, tenant.as_deref())).await {
        Ok(Some(d)) => d.incident,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(r) => return r,
    };
    if let Err(d) = caller.require_write_to(&incident.tenant) {
        return denied(d);
    }
    // The event, from the incident's institution only, at exactly that time.
    let mut request = SearchRequest::new(haechi_query::Query::All);
    request.from = Some(time);
    request.to = Some(Timestamp(time.0 + 1));
    request.tenants = Some(vec![incident.tenant.clone()]);
    request.limit = MAX_SAME_INSTANT;
    let events = state.store.clone();
    let found = match blocking(move || events.search(&request)).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(event) = found.events.iter().find(|e| event_ref(e) == body.event_ref) else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no stored event of institution '{}' with that reference at {}",
                incident.tenant, body.time
            ),
        );
    };
    let copy = EventCopy {
        event_ref: body.event_ref.clone(),
        time: event.timestamp,
        tenant: event.tenant.to_string(),
        json: event_to_json(event),
    };
    let (tenant, actor, note) = (caller.tenant.clone(), caller.actor(), body.note.clone());
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "incident.evidence.pin",
        &format!("incident:{id}"),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let pinned = blocking(move || {
        Ok::<_, haechi_store::StoreError>(alerts.pin_evidence(
            id,
            tenant.as_deref(),
            &actor,
            copy,
            &note,
        ))
    })
    .await;
    let evidence = match pinned {
        Ok(Ok(Some(e))) => e,
        Ok(Ok(None)) => return error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Ok(Err(haechi_store::StoreError::Invalid(why))) => {
            return error(StatusCode::BAD_REQUEST, why);
        }
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(r) => return r,
    };
    let entry = AuditEntry::new(caller.actor(), "incident.evidence.pin", format!("incident:{id}"))
        .after(json!({"evidence": evidence.id, "event_ref": evidence.event_ref, "event_time": evidence.event_time, "note": evidence.note}));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    (StatusCode::CREATED, Json(evidence)).into_response()
}

pub async fn unpin(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, evidence)): Path<(i64, i64)>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(alerts) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there are no incidents",
        );
    };
    let tenant = caller.tenant.clone();
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "incident.evidence.unpin",
        &format!("incident:{id}"),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let removed =
        match blocking(move || alerts.unpin_evidence(id, evidence, tenant.as_deref())).await {
            Ok(Some(e)) => e,
            Ok(None) => {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("no evidence {evidence} of incident {id}"),
                );
            }
            Err(r) => return r,
        };
    let entry = AuditEntry::new(
        caller.actor(),
        "incident.evidence.unpin",
        format!("incident:{id}"),
    )
    .before(json!({"evidence": removed.id, "event_ref": removed.event_ref, "note": removed.note}));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(json!({"removed": removed.id})).into_response()
}
