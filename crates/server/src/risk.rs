//! The risk API (what the console's charts read):
//!
//! * `GET /api/risk?tenant=` — the latest status of every institution (index, trend,
//!   anomaly, forecast, incident probability and what drove it), highest probability
//!   first, as `haechi serve` last computed it.
//! * `GET /api/risk/series?tenant=&since=` — the index per five-minute bucket since
//!   `since` (RFC 3339; default: the last 24 hours), oldest first.
//!
//! A token bound to an institution sees only that institution, whatever it asks for.

use crate::{AppState, authenticate, error};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use haechi_event::Timestamp;
use serde_json::{Value, json};

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RiskParams {
    tenant: Option<String>,
    since: Option<String>,
}

/// The tenant a request may read: the token's own, or the one asked for (all when
/// neither is set). `Err` (the refusal) when a bound token asks for another institution.
fn scope(bound: &Option<String>, asked: &Option<String>) -> Result<Option<String>, String> {
    match (bound, asked) {
        (Some(b), Some(a)) if b != a => {
            Err(format!("this token may not read the risk of tenant '{a}'"))
        }
        (Some(b), _) => Ok(Some(b.clone())),
        (None, a) => Ok(a.clone()),
    }
}

pub async fn status(
    State(state): State<AppState>,
    Query(params): Query<RiskParams>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = authenticate(&state, &headers) else {
        return error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
    };
    let Some(store) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there is no risk index",
        );
    };
    if params.since.is_some() {
        return error(StatusCode::BAD_REQUEST, "since applies to /api/risk/series");
    }
    let tenant = match scope(&token.tenant, &params.tenant) {
        Ok(t) => t,
        Err(refusal) => return error(StatusCode::FORBIDDEN, refusal),
    };
    match tokio::task::spawn_blocking(move || store.risk_status(tenant.as_deref())).await {
        Ok(Ok(rows)) => {
            let mut list: Vec<Value> = rows
                .into_iter()
                .filter_map(|r| serde_json::from_str(&r.status).ok())
                .collect();
            list.sort_by(|a, b| {
                let p = |v: &Value| v["incident_probability"].as_f64().unwrap_or(0.0);
                p(b).total_cmp(&p(a))
            });
            Json(json!({ "institutions": list })).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub async fn series(
    State(state): State<AppState>,
    Query(params): Query<RiskParams>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = authenticate(&state, &headers) else {
        return error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
    };
    let Some(store) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there is no risk index",
        );
    };
    let tenant = match scope(&token.tenant, &params.tenant) {
        Ok(t) => t,
        Err(refusal) => return error(StatusCode::FORBIDDEN, refusal),
    };
    let since = match params.since.as_deref() {
        Some(s) => match haechi_event::parse_rfc3339(s) {
            Some(t) => t,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("since '{s}' is not an RFC 3339 time"),
                );
            }
        },
        None => Timestamp(Timestamp::now().0 - 86_400 * 1_000_000_000),
    };
    match tokio::task::spawn_blocking(move || store.risk_series(tenant.as_deref(), since)).await {
        Ok(Ok(points)) => {
            let points: Vec<Value> = points
                .into_iter()
                .map(|p| {
                    json!({
                        "tenant": p.tenant,
                        "start": p.start.to_rfc3339(),
                        "index": p.risk,
                        "anomaly": p.anomaly,
                        "components": serde_json::from_str::<Value>(&p.detail).unwrap_or(Value::Null),
                    })
                })
                .collect();
            Json(json!({ "series": points })).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
