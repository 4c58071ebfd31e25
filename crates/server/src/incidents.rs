//! The incident API:
//!
//! * `GET /api/incidents?tenant=&status=&open=true&campaign=&after=&limit=` — incidents,
//!   latest activity first; an institution's caller sees its own only, and the
//!   `campaign` field is shown to center-wide callers only.
//! * `GET /api/incidents/{id}` — one incident with its alerts, notes and tasks (404 for another
//!   institution's).
//! * `POST /api/incidents/{id}` — `{"status","owner","title","note"}`: moves it through
//!   the workflow (new → triage → containment → eradication → recovery → closed),
//!   assigns it, renames it, adds a note. Audited with before and after.
//! * `POST /api/incidents/{id}/tasks` — `{"text"}` adds a task;
//!   `POST /api/incidents/{id}/tasks/{task}` — `{"done": true|false}` ticks it off or
//!   opens it again. Both audited.
//! * `GET /api/campaigns?since=` — one attacker at several institutions (center-wide
//!   callers only).

use crate::{AppState, Caller, blocking, denied, error, rfc3339_param};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_store::state::incidents::STATUSES;
use haechi_store::state::tasks::Task;
use haechi_store::state::{Incident, IncidentChange, IncidentDetail, IncidentFilter, MAX_LIST};
use serde_json::{Value, json};

/// The longest note or title accepted (bytes).
pub const MAX_TEXT: usize = 16 * 1024;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IncidentParams {
    tenant: Option<String>,
    status: Option<String>,
    open: Option<bool>,
    campaign: Option<i64>,
    after: Option<i64>,
    limit: Option<usize>,
}

fn detection_off() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "detection is off: there are no incidents (start `haechi serve` with --rules)",
    )
}

/// An incident as this caller may see it: an institution's caller does not learn that
/// its incident is part of a campaign spanning others.
pub(crate) fn visible(caller: &Caller, incident: Incident) -> Value {
    let mut v = json!(incident);
    if caller.tenant.is_some() {
        v["campaign"] = Value::Null;
    }
    v
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<IncidentParams>,
) -> Response {
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    if params.campaign.is_some() && caller.tenant.is_some() {
        return error(
            StatusCode::FORBIDDEN,
            "campaigns span institutions: center-wide callers only",
        );
    }
    let limit = params.limit.unwrap_or(100);
    if limit > MAX_LIST {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit {limit} is above the maximum of {MAX_LIST}"),
        );
    }
    let filter = IncidentFilter {
        tenant,
        status: params.status,
        open: params.open.unwrap_or(false),
        campaign: params.campaign,
        after_id: params.after,
        limit,
    };
    match blocking(move || store.incidents(&filter)).await {
        Ok(list) => {
            let list: Vec<Value> = list.into_iter().map(|i| visible(&caller, i)).collect();
            Json(json!({ "incidents": list })).into_response()
        }
        Err(r) => r,
    }
}

/// An incident the caller may see, with its tasks (`None`: no such incident for them).
pub(crate) async fn with_tasks(
    store: std::sync::Arc<haechi_store::state::AlertStore>,
    id: i64,
    tenant: Option<String>,
) -> Result<Option<(IncidentDetail, Vec<Task>)>, Response> {
    blocking(move || {
        let Some(detail) = store.incident(id, tenant.as_deref())? else {
            return Ok(None);
        };
        let tasks = store.tasks(id)?;
        Ok::<_, haechi_store::StoreError>(Some((detail, tasks)))
    })
    .await
}

pub async fn one(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Response {
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    match with_tasks(store, id, caller.tenant.clone()).await {
        Ok(Some((detail, tasks))) => {
            let mut v = visible(&caller, detail.incident);
            v["alert_list"] = json!(detail.alerts);
            v["notes"] = json!(detail.notes);
            v["tasks"] = json!(tasks);
            let alerts = state.alerts.clone().expect("checked above");
            match blocking(move || alerts.evidence(id)).await {
                Ok(evidence) => v["evidence"] = json!(evidence),
                Err(r) => return r,
            }
            Json(v).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentUpdate {
    #[serde(default)]
    status: Option<String>,
    /// `""` removes the owner.
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<IncidentUpdate>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    for text in [&body.title, &body.note].into_iter().flatten() {
        if text.len() > MAX_TEXT || text.trim().is_empty() {
            return error(
                StatusCode::BAD_REQUEST,
                format!("a title or note is 1 to {MAX_TEXT} bytes"),
            );
        }
    }
    if let Some(st) = &body.status
        && !STATUSES.contains(&st.as_str())
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("status '{st}': use one of {}", STATUSES.join(", ")),
        );
    }
    if let Some(o) = body.owner.as_deref().filter(|o| !o.is_empty())
        && !haechi_access::valid_name(o)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("owner '{o}' is not a valid user name"),
        );
    }
    let change = IncidentChange {
        status: body.status.clone(),
        owner: body.owner.clone().map(|o| (!o.is_empty()).then_some(o)),
        title: body.title.clone(),
    };
    let tenant = caller.tenant.clone();
    let (author, note) = (caller.actor(), body.note.clone());
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "incident.update",
        &format!("incident:{id}"),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let result = blocking(move || {
        let changed = store.update_incident(id, tenant.as_deref(), &change)?;
        let added = match (&changed, note) {
            (Some(_), Some(text)) => store.add_note(id, tenant.as_deref(), &author, &text)?,
            _ => None,
        };
        Ok::<_, haechi_store::StoreError>((changed, added))
    })
    .await;
    let (before, after, note) = match result {
        Ok((Some((b, a)), note)) => (b, a, note),
        Ok((None, _)) => return error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(r) => {
            return r;
        }
    };
    let mut entry = AuditEntry::new(caller.actor(), "incident.update", format!("incident:{id}"))
        .before(json!({"tenant": before.tenant, "status": before.status, "owner": before.owner, "title": before.title}))
        .after(json!({"tenant": after.tenant, "status": after.status, "owner": after.owner, "title": after.title}));
    if let (Some(n), Some(a)) = (&note, entry.after.as_mut()) {
        a["note"] = json!(n.text);
    }
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    let mut v = visible(&caller, after);
    v["note"] = json!(note);
    Json(v).into_response()
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CampaignParams {
    since: Option<String>,
    limit: Option<usize>,
}

pub async fn campaigns(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<CampaignParams>,
) -> Response {
    if caller.tenant.is_some() {
        return error(
            StatusCode::FORBIDDEN,
            "campaigns span institutions: center-wide callers only",
        );
    }
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    let since = match rfc3339_param("since", params.since.as_deref()) {
        Ok(t) => t.unwrap_or(haechi_event::Timestamp(0)),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let limit = params.limit.unwrap_or(100).min(MAX_LIST);
    match blocking(move || store.campaigns(since, limit)).await {
        Ok(list) => Json(json!({ "campaigns": list })).into_response(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    text: String,
}

pub async fn add_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(body): Json<NewTask>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    if body.text.trim().is_empty() || body.text.len() > MAX_TEXT {
        return error(
            StatusCode::BAD_REQUEST,
            format!("a task is 1 to {MAX_TEXT} bytes"),
        );
    }
    let (tenant, author) = (caller.tenant.clone(), caller.actor());
    let text = body.text.clone();
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "incident.task.add",
        &format!("incident:{id}"),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let task = match blocking(move || store.add_task(id, tenant.as_deref(), &author, &text)).await {
        Ok(Some(t)) => t,
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no incident {id}")),
        Err(r) => return r,
    };
    let entry = AuditEntry::new(
        caller.actor(),
        "incident.task.add",
        format!("incident:{id}"),
    )
    .after(json!({"task": task.id, "text": task.text}));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(task).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskState {
    done: bool,
}

pub async fn set_task(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, task)): Path<(i64, i64)>,
    Json(body): Json<TaskState>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    let (tenant, actor) = (caller.tenant.clone(), caller.actor());
    let done = body.done;
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        if done {
            "incident.task.done"
        } else {
            "incident.task.reopen"
        },
        &format!("incident:{id}"),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let changed = match blocking(move || {
        store.set_task_done(id, task, tenant.as_deref(), &actor, done)
    })
    .await
    {
        Ok(Some(c)) => c,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no task {task} of incident {id}"),
            );
        }
        Err(r) => return r,
    };
    let (before, after) = changed;
    let action = if done {
        "incident.task.done"
    } else {
        "incident.task.reopen"
    };
    let entry = AuditEntry::new(caller.actor(), action, format!("incident:{id}"))
        .before(json!({"task": before.id, "done_by": before.done_by}))
        .after(json!({"task": after.id, "done_by": after.done_by}));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(after).into_response()
}
