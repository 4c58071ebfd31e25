//! # The HTTP interface
//!
//! [`router`] builds the axum application that `haechi serve` listens with:
//!
//! * `POST /api/ingest?tenant=ID[&format=F]` — an NDJSON body (or any line format named
//!   by `format`), optionally gzip-compressed (`Content-Encoding: gzip`), authenticated by
//!   `Authorization: Bearer TOKEN`. The answer comes once the events are durably stored:
//!   `200 {"events":…, "dead_letter":…, "duplicates":…}`.
//! * `GET /healthz` — liveness, unauthenticated (for load balancers), so it tells nothing else.
//! * `GET /metrics` — Prometheus text format, authenticated like the API.
//! * `GET /api/alerts`, `GET /api/alerts/{id}`, `POST /api/rules/reload` — see [`alerts`].
//!
//! Tokens come from the configuration; a token may be bound to one tenant, and then it
//! can only ingest for that tenant.

pub mod alerts;
pub mod risk;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use haechi_event::Timestamp;
use haechi_ingest::Format;
use haechi_ingest::listen::Delivery;
use haechi_ingest::metrics::Metrics;
use haechi_store::EventStore;
use serde_json::json;
use std::io::Read;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// A bearer token and the tenant it is restricted to (`None`: any tenant).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    pub token: String,
    #[serde(default)]
    pub tenant: Option<String>,
}

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct AppState {
    pub submit: mpsc::Sender<Delivery>,
    pub metrics: Arc<Metrics>,
    pub store: Arc<dyn EventStore>,
    pub tokens: Arc<Vec<ApiToken>>,
    /// The largest request body, compressed or not, and after decompression (bytes).
    pub max_body_bytes: usize,
    /// The largest number of lines in one request.
    pub max_lines: usize,
    /// Where alerts are (`None` when detection is off).
    pub alerts: Option<Arc<haechi_store::state::AlertStore>>,
    /// Reloads the rules (`None` when detection is off).
    pub reload: Option<Arc<alerts::ReloadFn>>,
}

/// The HTTP application.
pub fn router(state: AppState) -> Router {
    let body_limit = state.max_body_bytes;
    Router::new()
        .route("/api/ingest", post(ingest))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/alerts", get(alerts::list))
        .route("/api/alerts/{id}", get(alerts::one))
        .route("/api/rules/reload", post(alerts::reload))
        .route("/api/risk", get(risk::status))
        .route("/api/risk/series", get(risk::series))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

#[derive(serde::Deserialize)]
struct IngestParams {
    tenant: Option<String>,
    format: Option<String>,
}

/// An error answer: a status and a JSON body `{"error": "..."}`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// The token presented, if it is one of ours (compared in constant time).
fn authenticate<'a>(state: &'a AppState, headers: &HeaderMap) -> Option<&'a ApiToken> {
    let presented = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    state
        .tokens
        .iter()
        .find(|t| constant_time_eq(t.token.as_bytes(), presented.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A tenant id: 1–64 characters of `a-z 0-9 - _ .`.
pub fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 64
        && t.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
}

async fn ingest(
    State(state): State<AppState>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = authenticate(&state, &headers) else {
        return error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
    };
    let Some(tenant) = params.tenant.or_else(|| token.tenant.clone()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "say which institution the events belong to: ?tenant=ID",
        );
    };
    if !valid_tenant(&tenant) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("tenant '{tenant}' is not a valid id (a-z, 0-9, '-', '_', '.', at most 64)"),
        );
    }
    if token.tenant.as_ref().is_some_and(|t| *t != tenant) {
        return error(
            StatusCode::FORBIDDEN,
            format!("this token may not ingest for tenant '{tenant}'"),
        );
    }
    let format = match params.format.as_deref().unwrap_or("json").parse::<Format>() {
        Ok(Format::Evtx) => {
            return error(
                StatusCode::BAD_REQUEST,
                "EVTX is a file format: use `haechi ingest` or send the records as JSON",
            );
        }
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let body = if gzip {
        match gunzip_limited(&body, state.max_body_bytes) {
            Ok(b) => b,
            Err((status, e)) => return error(status, e),
        }
    } else {
        body.to_vec()
    };
    let records: Vec<Vec<u8>> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .map(<[u8]>::to_vec)
        .collect();
    if records.len() > state.max_lines {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} lines in one request; the limit is {}",
                records.len(),
                state.max_lines
            ),
        );
    }
    let (ack, done) = oneshot::channel();
    let delivery = Delivery {
        listener: Arc::from("http"),
        peer: None,
        tenant: Some(Arc::from(tenant.as_str())),
        format,
        records,
        received: Timestamp::now(),
        ack: Some(ack),
    };
    // Waiting for room in the queue is the back-pressure on HTTP senders.
    if state.submit.send(delivery).await.is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the pipeline is shutting down; retry later",
        );
    }
    match done.await {
        Ok(Ok(stats)) => {
            Json(json!({ "events": stats.events, "dead_letter": stats.dead_letters, "duplicates": stats.duplicates, "by_format": stats.by_format }))
                .into_response()
        }
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, format!("events not stored: {e}")),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "the pipeline stopped before storing the events; retry"),
    }
}

/// Decompresses gzip, refusing output larger than `limit` (a gzip bomb is a small body):
/// 400 for a body that is not gzip, 413 for one that inflates past the limit.
fn gunzip_limited(body: &[u8], limit: usize) -> Result<Vec<u8>, (StatusCode, String)> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not valid gzip: {e}"),
        )
    })?;
    if out.len() > limit {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body decompresses to more than {limit} bytes"),
        ));
    }
    Ok(out)
}

/// Liveness only: no figures, since it answers without authentication.
async fn healthz(State(state): State<AppState>) -> Response {
    if state.submit.is_closed() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the pipeline has stopped");
    }
    Json(json!({ "status": "ok" })).into_response()
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        None => return error(StatusCode::UNAUTHORIZED, "missing or unknown bearer token"),
        // The figures cover every institution: a token bound to one may not read them.
        Some(t) if t.tenant.is_some() => {
            return error(
                StatusCode::FORBIDDEN,
                "this token is bound to one institution; /metrics needs a center-wide token",
            );
        }
        Some(_) => {}
    }
    let store = state.store.clone();
    let stats = tokio::task::spawn_blocking(move || store.stats())
        .await
        .unwrap_or_default();
    state.metrics.store_events.set(stats.events as i64);
    state.metrics.store_bytes.set(stats.bytes as i64);
    state.metrics.store_pending.set(stats.pending as i64);
    state
        .metrics
        .queue_depth
        .set((state.submit.max_capacity() - state.submit.capacity()) as i64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
