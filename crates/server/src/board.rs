//! The situation board (what the console's wall screen reads):
//!
//! * `GET /api/board?tenant=&hours=24&bucket_secs=` — over the last `hours` (1–720):
//!   alerts over time per level, top attackers and targets, the ATT&CK tactic heat map
//!   per institution, each institution's alert counts, and, for center-wide callers,
//!   the ingest health of every source (events, dead letters, duplicates, last arrival).
//!   A caller bound to an institution gets that institution's figures only, and no
//!   ingest health (sources are shared by institutions). Center-wide callers also get
//!   the latest retro-hunt passes (`retro_hunts`), each saying whether it was truncated.
//! * `GET /api/retro-hunts?limit=` — the retro-hunt passes, newest first (center-wide
//!   callers): new indicators, events matched and checked, alerts, truncated.

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_event::Timestamp;
use serde_json::json;

/// The longest window the board covers (30 days).
pub const MAX_HOURS: u64 = 720;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BoardParams {
    tenant: Option<String>,
    hours: Option<u64>,
    bucket_secs: Option<u64>,
}

pub async fn board(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BoardParams>,
) -> Response {
    let Some(store) = state.alerts.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "detection is off: start `haechi serve` with --rules (or `detect.rules`)",
        );
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    let hours = params.hours.unwrap_or(24);
    if !(1..=MAX_HOURS).contains(&hours) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("hours {hours}: use 1 to {MAX_HOURS}"),
        );
    }
    // About 48 bars whatever the window, unless the caller asks for a bucket size.
    let bucket_secs = params.bucket_secs.unwrap_or((hours * 3600 / 48).max(60));
    if bucket_secs < 10 || hours * 3600 / bucket_secs > 2_000 {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "bucket_secs {bucket_secs}: at least 10, and at most 2000 buckets in the window"
            ),
        );
    }
    let until = Timestamp::now();
    let since = Timestamp(until.0 - (hours as i64) * 3_600_000_000_000);
    let scope = tenant.clone();
    let board =
        match blocking(move || store.board(scope.as_deref(), since, until, bucket_secs)).await {
            Ok(b) => b,
            Err(r) => return r,
        };
    let ingest = caller.tenant.is_none().then(|| state.metrics.health());
    let retro_hunts = if caller.tenant.is_none() {
        let alerts = state.alerts.clone();
        match blocking(move || alerts.map_or(Ok(Vec::new()), |a| a.retro_hunts(5))).await {
            Ok(r) => Some(r),
            Err(r) => return r,
        }
    } else {
        None
    };
    Json(json!({ "board": board, "ingest": ingest, "retro_hunts": retro_hunts })).into_response()
}

/// The most retro-hunt passes one listing returns.
pub const MAX_RETRO_HUNTS: usize = 1000;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RetroParams {
    limit: Option<usize>,
}

/// The retro-hunt passes, newest first (center-wide callers: the hub is the center's).
pub async fn retro_hunts(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<RetroParams>,
) -> Response {
    if let Some(t) = &caller.tenant {
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "{} is bound to institution '{t}'; retro-hunts cover every institution",
                caller.actor()
            ),
        );
    }
    let Some(store) = state.alerts.clone() else {
        return error(StatusCode::NOT_FOUND, "detection is off: no retro-hunts");
    };
    let limit = params.limit.unwrap_or(50);
    if !(1..=MAX_RETRO_HUNTS).contains(&limit) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit {limit}: use 1 to {MAX_RETRO_HUNTS}"),
        );
    }
    match blocking(move || store.retro_hunts(limit)).await {
        Ok(r) => Json(json!({ "retro_hunts": r })).into_response(),
        Err(r) => r,
    }
}
