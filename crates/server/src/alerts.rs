//! The alert API:
//!
//! * `GET /api/alerts?tenant=&min_level=&source=&rule_id=&state=&entity=&tag=&assignee=&since=&until=&after=&limit=`
//!   — alerts, newest first; `after` (the id of the last alert of a page) gives the
//!   next page. A caller bound to an institution sees only that institution's alerts
//!   and is refused another's.
//! * `GET /api/alerts/{id}` — one alert, with `incident`: the id of the incident it
//!   belongs to, or null (404 when it belongs to another institution).
//! * `POST /api/alerts/triage` — `{"ids": [..], "action": "acknowledge"|"assign"|"close"|"reopen",
//!   "assignee": "kim", "disposition": "true_positive"|"false_positive"|"benign"}`:
//!   changes every listed alert the caller may change, audits each change with its
//!   before and after, and answers which changed.
//! * `POST /api/rules/reload` — reload the Sigma rules and exceptions (center analysts
//!   and administrators); the answer says how many rules loaded.

use crate::{AppState, Caller, blocking, denied, error, rfc3339_param};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_event::{AlertSource, AlertState, Disposition, Level};
use haechi_store::state::{AlertFilter, MAX_LIST, TriageChange};
use serde_json::json;

/// Reloads rules; answers what loaded, or why nothing changed.
pub type ReloadFn = dyn Fn() -> Result<serde_json::Value, String> + Send + Sync;

/// The most alerts one triage request changes.
pub const MAX_TRIAGE: usize = 1000;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    tenant: Option<String>,
    min_level: Option<String>,
    source: Option<String>,
    rule_id: Option<String>,
    state: Option<String>,
    entity: Option<String>,
    tag: Option<String>,
    assignee: Option<String>,
    since: Option<String>,
    until: Option<String>,
    after: Option<i64>,
    limit: Option<usize>,
}

fn detection_off() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "detection is off: start `haechi serve` with --rules (or `detect.rules`)",
    )
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AlertParams>,
) -> Response {
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    let filter = match filter(params, tenant) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match blocking(move || store.list(&filter)).await {
        Ok(alerts) => Json(json!({ "alerts": alerts })).into_response(),
        Err(r) => r,
    }
}

fn filter(params: AlertParams, tenant: Option<String>) -> Result<AlertFilter, String> {
    let min_level = match params.min_level.as_deref() {
        None => Level::Informational,
        Some(l) => Level::parse(l).ok_or_else(|| {
            format!("min_level '{l}': use informational, low, medium, high or critical")
        })?,
    };
    let source = params
        .source
        .as_deref()
        .map(|s| {
            AlertSource::parse(s).ok_or_else(|| {
                format!(
                    "source '{s}': use sigma, correlation, indicator, model, device, vuln or domain"
                )
            })
        })
        .transpose()?;
    let state = params
        .state
        .as_deref()
        .map(|s| {
            AlertState::parse(s)
                .ok_or_else(|| format!("state '{s}': use new, acknowledged or closed"))
        })
        .transpose()?;
    let limit = params.limit.unwrap_or(100);
    if limit > MAX_LIST {
        return Err(format!("limit {limit} is above the maximum of {MAX_LIST}"));
    }
    Ok(AlertFilter {
        tenant,
        min_level,
        source,
        rule_id: params.rule_id,
        since: rfc3339_param("since", params.since.as_deref())?,
        until: rfc3339_param("until", params.until.as_deref())?,
        state,
        entity: params.entity,
        tag: params.tag,
        assignee: params.assignee,
        after_id: params.after,
        limit,
    })
}

pub async fn one(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Response {
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    let tenant = caller.tenant.clone();
    let found = blocking(move || {
        let alert = store.get(id, tenant.as_deref())?;
        let incident = match &alert {
            Some(_) => store.incident_of_alert(id)?,
            None => None,
        };
        Ok::<_, haechi_store::StoreError>(alert.map(|a| (a, incident)))
    });
    match found.await {
        Ok(Some((alert, incident))) => {
            let mut body = json!(alert);
            body["incident"] = json!(incident);
            Json(body).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no alert {id}")),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    ids: Vec<i64>,
    action: String,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    disposition: Option<String>,
}

/// The change a triage request asks for, or why it is malformed.
fn triage_change(body: &TriageBody, caller: &Caller) -> Result<TriageChange, String> {
    let disposition = body
        .disposition
        .as_deref()
        .map(|d| {
            Disposition::parse(d).ok_or_else(|| {
                format!("disposition '{d}': use true_positive, false_positive or benign")
            })
        })
        .transpose()?;
    if let Some(a) = &body.assignee
        && !haechi_access::valid_name(a)
    {
        return Err(format!("assignee '{a}' is not a valid user name"));
    }
    Ok(match body.action.as_str() {
        "acknowledge" => TriageChange {
            state: Some(AlertState::Acknowledged),
            assignee: Some(Some(
                body.assignee.clone().unwrap_or_else(|| caller.name.clone()),
            )),
            disposition: None,
        },
        "assign" => TriageChange {
            assignee: Some(body.assignee.clone()),
            ..Default::default()
        },
        "close" => {
            TriageChange {
                state: Some(AlertState::Closed),
                assignee: body.assignee.clone().map(Some),
                disposition: Some(disposition.ok_or(
                    "closing needs a disposition: true_positive, false_positive or benign",
                )?),
            }
        }
        "reopen" => TriageChange {
            state: Some(AlertState::New),
            ..Default::default()
        },
        other => {
            return Err(format!(
                "action '{other}': use acknowledge, assign, close or reopen"
            ));
        }
    })
}

pub async fn triage(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<TriageBody>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(store) = state.alerts.clone() else {
        return detection_off();
    };
    if body.ids.is_empty() || body.ids.len() > MAX_TRIAGE {
        return error(
            StatusCode::BAD_REQUEST,
            format!("ids: name 1 to {MAX_TRIAGE} alerts"),
        );
    }
    let change = match triage_change(&body, &caller) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let tenant = caller.tenant.clone();
    let ids = body.ids.clone();
    let target = format!("alerts:{:?}", body.ids);
    let action = format!("alert.{}", body.action);
    let intent = match crate::audit::Intent::begin(&state, &caller.actor(), &action, &target).await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let changed = match blocking(move || store.triage(&ids, tenant.as_deref(), &change)).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let actor = caller.actor();
    let entries: Vec<AuditEntry> = changed
        .iter()
        .map(|(before, after)| {
            AuditEntry::new(&actor, &action, format!("alert:{}", before.id))
                .before(json!({"tenant": before.tenant, "triage": before.triage}))
                .after(json!({"tenant": after.tenant, "triage": after.triage}))
        })
        .collect();
    if let Err(r) = intent.record_all(entries).await {
        return r;
    }
    let ids: Vec<i64> = changed.iter().map(|(b, _)| b.id).collect();
    Json(json!({ "changed": ids, "unchanged": body.ids.len() - ids.len() })).into_response()
}

pub async fn reload(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(d) = caller.require_center() {
        return denied(d);
    }
    let Some(reload) = state.reload.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there are no rules to reload",
        );
    };
    let actor = caller.actor();
    let intent = match crate::audit::Intent::begin(&state, &actor, "rules.reload", "rules").await {
        Ok(i) => i,
        Err(r) => return r,
    };
    match tokio::task::spawn_blocking(move || reload()).await {
        Ok(Ok(report)) => {
            let entry = AuditEntry::new(actor, "rules.reload", "rules").after(report.clone());
            if let Err(r) = intent.record(entry).await {
                return r;
            }
            Json(report).into_response()
        }
        Ok(Err(e)) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("rules not reloaded, the running rules stay: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
