//! `GET /api/cluster` — the scale-out site as NATS JetStream sees it: the streams and
//! their consumers (pending, unacknowledged, redelivered), and at a center every control
//! tower's link state, backlog and institutions. Center-wide callers only: it names
//! every institution of every tower.

use crate::{AppState, Caller, denied, error};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::pin::Pin;

/// Reads the site's status (given by the binary, which owns the NATS connection).
pub type StatusFn = dyn Fn() -> Pin<Box<dyn Future<Output = Result<serde_json::Value, String>> + Send>>
    + Send
    + Sync;

pub async fn status(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(d) = caller.require_center() {
        return denied(d);
    }
    let Some(read) = state.cluster.clone() else {
        return error(
            StatusCode::NOT_FOUND,
            "this server runs alone: configure [cluster] to run it in a scale-out site",
        );
    };
    match read().await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("NATS does not answer: {e}"),
        ),
    }
}
