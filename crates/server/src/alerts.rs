//! The alert API:
//!
//! * `GET /api/alerts?tenant=&min_level=&source=&rule_id=&since=&limit=` — alerts, newest
//!   first. A token bound to an institution sees only that institution's alerts, whatever
//!   it asks for.
//! * `GET /api/alerts/{id}` — one alert (404 when it belongs to another institution).
//! * `POST /api/rules/reload` — reload the Sigma rules and exceptions (center-wide tokens
//!   only); the answer says how many rules loaded.

use crate::{AppState, authenticate, error};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use haechi_event::{AlertSource, Level};
use haechi_store::state::{AlertFilter, MAX_LIST};
use serde_json::json;

/// Reloads rules; answers what loaded, or why nothing changed.
pub type ReloadFn = dyn Fn() -> Result<serde_json::Value, String> + Send + Sync;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertParams {
    tenant: Option<String>,
    min_level: Option<String>,
    source: Option<String>,
    rule_id: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<AlertParams>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = authenticate(&state, &headers) else {
        return error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
    };
    let Some(store) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: start `haechi serve` with --rules (or `detect.rules`)",
        );
    };
    if let (Some(bound), Some(asked)) = (&token.tenant, &params.tenant)
        && bound != asked
    {
        return error(
            StatusCode::FORBIDDEN,
            format!("this token may not read the alerts of tenant '{asked}'"),
        );
    }
    let filter = match filter(params, token.tenant.clone()) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match tokio::task::spawn_blocking(move || store.list(&filter)).await {
        Ok(Ok(alerts)) => Json(json!({ "alerts": alerts })).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn filter(params: AlertParams, bound: Option<String>) -> Result<AlertFilter, String> {
    let min_level = match params.min_level.as_deref() {
        None => Level::Informational,
        Some(l) => Level::parse(l).ok_or_else(|| {
            format!("min_level '{l}': use informational, low, medium, high or critical")
        })?,
    };
    let source =
        match params.source.as_deref() {
            None => None,
            Some(s) => Some(AlertSource::parse(s).ok_or_else(|| {
                format!("source '{s}': use sigma, correlation, indicator or model")
            })?),
        };
    let since = match params.since.as_deref() {
        None => None,
        Some(s) => Some(
            haechi_event::parse_rfc3339(s)
                .ok_or_else(|| format!("since '{s}' is not an RFC 3339 time"))?,
        ),
    };
    let limit = params.limit.unwrap_or(100);
    if limit > MAX_LIST {
        return Err(format!("limit {limit} is above the maximum of {MAX_LIST}"));
    }
    Ok(AlertFilter {
        tenant: bound.or(params.tenant),
        min_level,
        source,
        rule_id: params.rule_id,
        since,
        limit,
    })
}

pub async fn one(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = authenticate(&state, &headers) else {
        return error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
    };
    let Some(store) = state.alerts.clone() else {
        return error(StatusCode::NOT_FOUND, "detection is off");
    };
    let tenant = token.tenant.clone();
    match tokio::task::spawn_blocking(move || store.get(id, tenant.as_deref())).await {
        Ok(Ok(Some(alert))) => Json(alert).into_response(),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, format!("no alert {id}")),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub async fn reload(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        None => return error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token"),
        Some(t) if t.tenant.is_some() => {
            return error(
                StatusCode::FORBIDDEN,
                "rules are center-wide: reloading needs a center-wide token",
            );
        }
        Some(_) => {}
    }
    let Some(reload) = state.reload.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there are no rules to reload",
        );
    };
    match tokio::task::spawn_blocking(move || reload()).await {
        Ok(Ok(report)) => Json(report).into_response(),
        Ok(Err(e)) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("rules not reloaded, the running rules stay: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
