//! The risk API (what the console's charts read):
//!
//! * `GET /api/risk?tenant=` — the latest status of every institution (index, trend,
//!   anomaly, forecast, incident probability and what drove it), highest probability
//!   first, as `haechi serve` last computed it.
//! * `GET /api/risk/series?tenant=&since=` — the index per five-minute bucket since
//!   `since` (RFC 3339; default: the last 24 hours), oldest first.
//!
//! A caller bound to an institution sees only that institution and is refused another's.

use crate::{AppState, Caller, denied, error};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_event::Timestamp;
use serde_json::{Value, json};

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RiskParams {
    tenant: Option<String>,
    since: Option<String>,
}

pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RiskParams>,
) -> Response {
    let Some(store) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there is no risk index",
        );
    };
    if params.since.is_some() {
        return error(StatusCode::BAD_REQUEST, "since applies to /api/risk/series");
    }
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
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
    caller: Caller,
    Query(params): Query<RiskParams>,
) -> Response {
    let Some(store) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: there is no risk index",
        );
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
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
