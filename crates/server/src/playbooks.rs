//! Playbooks and their runs:
//!
//! * `GET /api/playbooks` — the loaded playbooks (and, for center-wide callers, the
//!   files that did not load, with the reason).
//! * `POST /api/playbooks/reload` — read the playbook directory again (center).
//! * `POST /api/playbooks/{id}/dry-run` — `{"alert": ID}`: what the playbook would do
//!   for that alert, without doing it.
//! * `GET /api/playbook-runs?status=&tenant=&limit=` — runs, newest first (an
//!   institution's caller sees its own institution's).
//! * `GET /api/playbook-runs/{id}`.
//! * `POST /api/playbook-runs/{id}/approve` and `/reject` — decide a pending run (center
//!   analysts and administrators: an action may block for every institution). Audited.

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_store::state::MAX_LIST;
use serde_json::json;

fn off() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "automated response is off: start `haechi serve` with --rules and set `respond.playbooks`",
    )
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Response {
    let Some(responder) = state.responder.clone() else {
        return off();
    };
    let mut body = json!({ "playbooks": *responder.playbooks() });
    if caller.tenant.is_none() {
        body["errors"] = json!(responder.load_errors());
    }
    Json(body).into_response()
}

pub async fn reload(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(d) = caller.require_center() {
        return denied(d);
    }
    let Some(responder) = state.responder.clone() else {
        return off();
    };
    let intent =
        match crate::audit::Intent::begin(&state, &caller.actor(), "playbooks.reload", "playbooks")
            .await
        {
            Ok(i) => i,
            Err(r) => return r,
        };
    let report = match blocking(move || responder.reload().map_err(|e| e.to_string())).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let entry = haechi_access::AuditEntry::new(caller.actor(), "playbooks.reload", "playbooks")
        .after(json!(report));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(report).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    alert: i64,
}

pub async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<DryRun>,
) -> Response {
    let (Some(responder), Some(store)) = (state.responder.clone(), state.alerts.clone()) else {
        return off();
    };
    let Some(playbook) = responder.playbooks().iter().find(|p| p.id == id).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("no playbook '{id}'"));
    };
    let tenant = caller.tenant.clone();
    let alert = match blocking(move || store.get(body.alert, tenant.as_deref())).await {
        Ok(Some(a)) => a,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no alert {}", body.alert)),
        Err(r) => return r,
    };
    let matches = playbook.trigger.matches(&alert);
    match haechi_respond::plan(&playbook, &alert) {
        Ok(actions) => Json(json!({
            "playbook": playbook.id,
            "alert": alert.id,
            "trigger_matches": matches,
            "mode": playbook.mode,
            "actions": actions,
        }))
        .into_response(),
        Err(why) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("playbook '{id}' cannot run for alert {}: {why}", alert.id),
        ),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RunParams {
    status: Option<String>,
    tenant: Option<String>,
    limit: Option<usize>,
}

pub async fn runs(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RunParams>,
) -> Response {
    let Some(store) = state.alerts.clone() else {
        return off();
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    let limit = params.limit.unwrap_or(100).min(MAX_LIST);
    let status = params.status;
    match blocking(move || store.runs(tenant.as_deref(), status.as_deref(), limit)).await {
        Ok(runs) => Json(json!({ "runs": runs })).into_response(),
        Err(r) => r,
    }
}

pub async fn run(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Response {
    let Some(store) = state.alerts.clone() else {
        return off();
    };
    let tenant = caller.tenant.clone();
    match blocking(move || store.run(id, tenant.as_deref())).await {
        Ok(Some(run)) => Json(run).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no playbook run {id}")),
        Err(r) => r,
    }
}

pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Response {
    if let Err(d) = caller.require_center() {
        return denied(d);
    }
    let Some(responder) = state.responder.clone() else {
        return off();
    };
    match responder.approve(id, &caller.actor()).await {
        Ok(run) => Json(run).into_response(),
        Err(e) => error(StatusCode::CONFLICT, e),
    }
}

pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Response {
    if let Err(d) = caller.require_center() {
        return denied(d);
    }
    let Some(responder) = state.responder.clone() else {
        return off();
    };
    let actor = caller.actor();
    match tokio::task::spawn_blocking(move || responder.reject(id, &actor)).await {
        Ok(Ok(run)) => Json(run).into_response(),
        Ok(Err(e)) => error(StatusCode::CONFLICT, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
