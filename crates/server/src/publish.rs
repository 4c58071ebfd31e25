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
//! The report names no institution, and internal addresses (private, loopback, …) are never
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
use haechi_intel::Tlp;
use serde_json::json;

/// The statuses of a confirmed incident.
pub const CONFIRMED: &[&str] = &["containment", "eradication", "recovery", "closed"];

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
    let (detail, _) = match with_tasks(alerts.clone(), id, caller.tenant.clone()).await {
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
    let wanted = body.collection.clone();
    match crate::blocking(move || Ok::<_, String>(hub.collection(&wanted))).await {
        Ok(Ok(_)) => {}
        Ok(Err(haechi_intel::store::StoreError::NoCollection(c))) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no collection '{c}' in the hub (GET /api/intel/collections lists them)"),
            );
        }
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(r) => return r,
    }
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "incident.publish",
        &format!("incident:{id}"),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let hub = taxii.store.clone();
    let actor = caller.actor();
    let collection_name = body.collection.clone();
    let published = crate::blocking(move || {
        haechi_respond::publish::publish_incident(&alerts, &hub, id, &collection_name, tlp, &actor)
    })
    .await;
    let answer = match published {
        Ok(p) => json!(p),
        Err(r) => return r,
    };
    let entry = AuditEntry::new(caller.actor(), "incident.publish", format!("incident:{id}"))
        .after(answer.clone());
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(answer).into_response()
}

/// The hub's collections with their object counts (center-wide callers).
pub async fn collections(State(state): State<AppState>, caller: Caller) -> Response {
    if caller.tenant.is_some() || caller.role == haechi_access::Role::Partner {
        return denied(haechi_access::Denied(format!(
            "{} may not list the hub's collections: it needs a center-wide user",
            caller.actor()
        )));
    }
    let Some(taxii) = state.taxii.clone() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server has no sharing hub",
        );
    };
    let listed = crate::blocking(move || {
        let mut list = Vec::new();
        for c in taxii.store.collections()? {
            let objects = taxii.store.count(&c.id)?;
            list.push(json!({"id": c.id, "name": c.name, "title": c.title, "objects": objects}));
        }
        Ok::<_, haechi_intel::store::StoreError>(list)
    })
    .await;
    match listed {
        Ok(list) => Json(json!({ "collections": list })).into_response(),
        Err(r) => r,
    }
}
