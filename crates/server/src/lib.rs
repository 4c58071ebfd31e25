//! # The HTTP interface
//!
//! [`router`] builds the axum application that `haechi serve` listens with. Every
//! route is listed in [`ROUTES`] and described in the OpenAPI document
//! (`GET /api/openapi.json`, [`openapi`]); every route but that document and
//! `/healthz` needs credentials ([`auth`]).
//!
//! * `POST /api/ingest?tenant=ID[&format=F]` — an NDJSON body (or any line format named
//!   by `format`), optionally gzip-compressed (`Content-Encoding: gzip`). The answer
//!   comes once the events are durably stored:
//!   `200 {"events":…, "dead_letter":…, "duplicates":…}`. A token bound to an
//!   institution ingests only for it; viewers may not ingest.
//! * `GET /healthz` — liveness, unauthenticated (for load balancers), so it tells nothing else.
//! * `GET /readyz` — readiness, unauthenticated: whether the pipeline takes batches, the
//!   event store answers and the alert store answers (each `ok`, `down` or `off`), no figures.
//! * `GET /metrics` — Prometheus text format, for center-wide callers.
//! * `/api/auth/*` — [`auth`]; `/api/alerts*` — [`alerts`]; `/api/risk*` — [`risk`];
//!   `/api/incidents*`, `/api/campaigns` — [`incidents`] (timeline and report: [`report`]; sharing with the hub: [`publish`]; pinned events: [`evidence`]); `/api/blocklists*` — [`blocklists`];
//!   `/api/playbooks*`, `/api/playbook-runs*` — [`playbooks`]; `/api/events`, `/api/tenants` — [`events`]; `/api/users*`, `/api/tokens*`,
//!   `/api/audit` — [`admin`]; `/api/alerts/stream` — [`live`]; `/api/board` — [`board`].
//! * `GET /` and `/console/…` — the web console ([`console`]).
//! * `/sme…` — the SME self-assessment portal ([`sme`]), public when enabled.
//! * `/taxii2/…` — the TAXII 2.1 sharing hub ([`taxii`]), with its own media type,
//!   error resources and HTTP basic authentication for partner organisations.

pub mod admin;
pub mod alerts;
mod audit;
pub mod auth;
pub mod blocklists;
pub mod board;
pub mod cluster;
pub mod console;
pub mod domains;
pub mod drills;
pub mod events;
pub mod evidence;
pub mod incidents;
pub mod listen;
pub mod live;
pub mod openapi;
pub mod playbooks;
pub mod publish;
pub mod report;
pub mod risk;
pub mod sme;
pub mod taxii;
pub mod vuln;

pub use auth::{ApiToken, Caller};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use haechi_access::{AccessStore, Denied};
use haechi_event::Timestamp;
use haechi_ingest::Format;
use haechi_ingest::listen::Delivery;
use haechi_ingest::metrics::Metrics;
use haechi_store::EventStore;
use serde_json::json;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct AppState {
    pub submit: mpsc::Sender<Delivery>,
    /// Each institution's share of the pipeline queue (`pipeline.max_queued_per_source`, in records).
    pub fair: Arc<haechi_ingest::fair::FairShare>,
    pub metrics: Arc<Metrics>,
    pub store: Arc<dyn EventStore>,
    /// Tokens of the configuration file.
    pub tokens: Arc<Vec<ApiToken>>,
    /// Users, tokens, sessions and the audit log.
    pub access: Arc<AccessStore>,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// Whether cookies carry `Secure` (the listener speaks TLS).
    pub secure_cookies: bool,
    /// The institutions of the configuration (more appear as their data arrives).
    pub tenants: Arc<Vec<String>>,
    /// The largest request body, compressed or not, and after decompression (bytes).
    pub max_body_bytes: usize,
    /// The largest number of lines in one request.
    pub max_lines: usize,
    /// How long a client has to send a request's body (`http.body_timeout_secs`).
    pub body_timeout: Duration,
    /// Where alerts are (`None` when detection is off).
    pub alerts: Option<Arc<haechi_store::state::AlertStore>>,
    /// Reloads the rules (`None` when detection is off).
    pub reload: Option<Arc<alerts::ReloadFn>>,
    /// The playbooks (`None` when detection is off).
    pub responder: Option<Arc<haechi_respond::Responder>>,
    /// Stored alerts as they come, for the console (`None` when detection is off).
    pub live: Option<live::LiveFeed>,
    /// The TAXII 2.1 sharing hub (`None`: no intel store).
    pub taxii: Option<taxii::Taxii>,
    /// The scale-out site's status (`None`: no `[cluster]`).
    pub cluster: Option<std::sync::Arc<cluster::StatusFn>>,
    /// The vulnerability center (`None`: not in this process).
    pub vuln: Option<vuln::VulnApi>,
    /// Domain Watch (`None`: off in this process).
    pub domains: Option<domains::DomainsApi>,
    /// The SME self-assessment portal (`None`: off).
    pub sme: Option<Arc<sme::SmePortal>>,
    /// The data directory, where drills are kept (`None`: not kept, as in benchmarks).
    pub data_dir: Option<std::path::PathBuf>,
}

/// Every route: method, path (axum syntax), and whether it needs credentials. The
/// OpenAPI document and the tests that try every endpoint without credentials are
/// checked against this list.
pub const ROUTES: &[(&str, &str, bool)] = &[
    ("POST", "/api/ingest", true),
    ("GET", "/healthz", false),
    ("GET", "/readyz", false),
    ("GET", "/", false),
    ("GET", "/console/", false),
    ("GET", "/console/{file}", false),
    ("GET", "/metrics", true),
    ("GET", "/api/openapi.json", false),
    ("POST", "/api/auth/login", false),
    ("POST", "/api/auth/logout", true),
    ("GET", "/api/auth/me", true),
    ("GET", "/api/alerts", true),
    ("GET", "/api/cluster", true),
    ("GET", "/api/retro-hunts", true),
    ("GET", "/api/drills", true),
    ("POST", "/api/drills", true),
    ("GET", "/api/drills/{id}", true),
    ("GET", "/api/alerts/stream", true),
    ("GET", "/api/alerts/{id}", true),
    ("POST", "/api/alerts/triage", true),
    ("POST", "/api/rules/reload", true),
    ("GET", "/api/incidents", true),
    ("GET", "/api/incidents/{id}", true),
    ("POST", "/api/incidents/{id}", true),
    ("POST", "/api/incidents/{id}/tasks", true),
    ("POST", "/api/incidents/{id}/tasks/{task}", true),
    ("GET", "/api/incidents/{id}/timeline", true),
    ("GET", "/api/incidents/{id}/report", true),
    ("POST", "/api/incidents/{id}/publish", true),
    ("GET", "/api/intel/collections", true),
    ("POST", "/api/incidents/{id}/evidence", true),
    (
        "POST",
        "/api/incidents/{id}/evidence/{evidence}/remove",
        true,
    ),
    ("GET", "/api/campaigns", true),
    ("GET", "/api/blocklists", true),
    ("GET", "/api/blocklists/{name}", true),
    ("POST", "/api/blocklists/{name}", true),
    ("POST", "/api/blocklists/{name}/remove", true),
    ("GET", "/api/playbooks", true),
    ("POST", "/api/playbooks/reload", true),
    ("POST", "/api/playbooks/{name}/dry-run", true),
    ("GET", "/api/playbook-runs", true),
    ("GET", "/api/playbook-runs/{id}", true),
    ("POST", "/api/playbook-runs/{id}/approve", true),
    ("POST", "/api/playbook-runs/{id}/reject", true),
    ("GET", "/api/risk", true),
    ("GET", "/api/risk/series", true),
    ("GET", "/api/events", true),
    ("GET", "/api/tenants", true),
    ("GET", "/api/board", true),
    ("GET", "/api/users", true),
    ("POST", "/api/users", true),
    ("POST", "/api/users/{name}/disable", true),
    ("POST", "/api/users/{name}/enable", true),
    ("GET", "/api/tokens", true),
    ("POST", "/api/tokens", true),
    ("POST", "/api/tokens/{name}/revoke", true),
    ("GET", "/api/audit", true),
    ("GET", "/api/vuln/sboms", true),
    ("POST", "/api/vuln/sboms", true),
    ("POST", "/api/vuln/sboms/{id}/remove", true),
    ("GET", "/api/vuln/findings", true),
    ("GET", "/api/vuln/web", true),
    ("GET", "/api/domains/protected", true),
    ("POST", "/api/domains/protected", true),
    ("POST", "/api/domains/protected/remove", true),
    ("POST", "/api/domains/names", true),
    ("GET", "/sme", false),
    ("GET", "/sme/{file}", false),
    ("POST", "/sme/assess", false),
    ("GET", "/sme/report/{id}", false),
];

/// The HTTP application.
pub fn router(state: AppState) -> Router {
    let body_limit = state.max_body_bytes;
    Router::new()
        .route("/api/ingest", post(ingest))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/", get(console::home))
        .route("/console/", get(console::page))
        .route("/console/{file}", get(console::file))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/alerts", get(alerts::list))
        .route("/api/alerts/stream", get(live::stream))
        .route("/api/alerts/{id}", get(alerts::one))
        .route("/api/alerts/triage", post(alerts::triage))
        .route("/api/rules/reload", post(alerts::reload))
        .route("/api/incidents", get(incidents::list))
        .route(
            "/api/incidents/{id}",
            get(incidents::one).post(incidents::update),
        )
        .route("/api/incidents/{id}/tasks", post(incidents::add_task))
        .route(
            "/api/incidents/{id}/tasks/{task}",
            post(incidents::set_task),
        )
        .route("/api/incidents/{id}/timeline", get(report::timeline))
        .route("/api/incidents/{id}/report", get(report::report))
        .route("/api/incidents/{id}/publish", post(publish::publish))
        .route("/api/intel/collections", get(publish::collections))
        .route("/api/incidents/{id}/evidence", post(evidence::pin))
        .route(
            "/api/incidents/{id}/evidence/{evidence}/remove",
            post(evidence::unpin),
        )
        .route("/api/campaigns", get(incidents::campaigns))
        .route("/api/blocklists", get(blocklists::lists))
        .route(
            "/api/blocklists/{name}",
            get(blocklists::get_list).post(blocklists::add),
        )
        .route("/api/blocklists/{name}/remove", post(blocklists::remove))
        .route("/api/playbooks", get(playbooks::list))
        .route("/api/playbooks/reload", post(playbooks::reload))
        .route("/api/playbooks/{name}/dry-run", post(playbooks::dry_run))
        .route("/api/playbook-runs", get(playbooks::runs))
        .route("/api/playbook-runs/{id}", get(playbooks::run))
        .route("/api/playbook-runs/{id}/approve", post(playbooks::approve))
        .route("/api/playbook-runs/{id}/reject", post(playbooks::reject))
        .route("/api/risk", get(risk::status))
        .route("/api/risk/series", get(risk::series))
        .route("/api/events", get(events::search))
        .route("/api/tenants", get(events::tenants))
        .route("/api/board", get(board::board))
        .route("/api/retro-hunts", get(board::retro_hunts))
        .route("/api/drills", get(drills::list).post(drills::record))
        .route("/api/drills/{id}", get(drills::report))
        .route("/api/cluster", get(cluster::status))
        .route("/api/users", get(admin::users).post(admin::add_user))
        .route("/api/users/{name}/disable", post(admin::disable_user))
        .route("/api/users/{name}/enable", post(admin::enable_user))
        .route("/api/tokens", get(admin::tokens).post(admin::create_token))
        .route("/api/tokens/{name}/revoke", post(admin::revoke_token))
        .route("/api/audit", get(admin::audit))
        .route("/api/vuln/sboms", get(vuln::sboms).post(vuln::upload))
        .route("/api/vuln/sboms/{id}/remove", post(vuln::remove))
        .route("/api/vuln/findings", get(vuln::findings))
        .route("/api/vuln/web", get(vuln::web))
        .route(
            "/api/domains/protected",
            get(domains::protected).post(domains::protect),
        )
        .route("/api/domains/protected/remove", post(domains::unprotect))
        .route("/api/domains/names", post(domains::names))
        .layer(axum::middleware::map_response(json_rejections))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        // After the REST limit: TAXII bodies are limited by max_content_length.
        .merge(taxii::routes())
        // The public self-assessment portal has its own limits.
        .merge(sme::routes(&state))
        .layer(axum::middleware::from_fn_with_state(
            state.body_timeout,
            listen::body_deadline,
        ))
        .layer(axum::middleware::map_response_with_state(
            state.secure_cookies,
            security_headers,
        ))
        .with_state(state)
}

/// Headers every answer carries unless its handler set its own (the console's pages set a
/// CSP for their scripts): no MIME sniffing, no framing, no referrer, a CSP that lets a
/// JSON answer run nothing, and HSTS when the listener speaks TLS (Wapiti found the
/// redirect of `/` without them).
async fn security_headers(State(tls): State<bool>, mut response: Response) -> Response {
    let h = response.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[derive(serde::Deserialize)]
struct IngestParams {
    tenant: Option<String>,
    format: Option<String>,
    /// The drill these records replay (`haechi drill run --server`).
    drill: Option<String>,
}

/// axum answers malformed paths, queries and bodies itself, in plain text (and 422 for a
/// body that does not fit its type). The REST API answers every error as
/// `{"error": "..."}` with 400 for bad input: this turns those answers into that shape
/// (found by Schemathesis: they contradicted the OpenAPI document).
pub(crate) async fn json_rejections(response: Response) -> Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !plain || !response.status().is_client_error() {
        return response;
    }
    let status = match response.status() {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        other => other,
    };
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    error(status, String::from_utf8_lossy(&bytes).into_owned())
}

/// An error answer: a status and a JSON body `{"error": "..."}`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A refusal of the access rules: 403 with the reason.
pub(crate) fn denied(d: Denied) -> Response {
    error(StatusCode::FORBIDDEN, d.0)
}

/// A query parameter that is an RFC 3339 time, if given.
pub(crate) fn rfc3339_param(name: &str, value: Option<&str>) -> Result<Option<Timestamp>, String> {
    value
        .map(|s| {
            haechi_event::parse_rfc3339(s)
                .ok_or_else(|| format!("{name} '{s}' is not an RFC 3339 time"))
        })
        .transpose()
}

/// Runs blocking store work off the async threads; a failure becomes a 500 answer.
pub(crate) async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, Response>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// A tenant id: 1–64 characters of `a-z 0-9 - _ .`.
pub use haechi_event::valid_tenant;

async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(tenant) = params.tenant.or_else(|| caller.tenant.clone()) else {
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
    if !caller.sees(&tenant) {
        return error(
            StatusCode::FORBIDDEN,
            format!("{} may not ingest for tenant '{tenant}'", caller.actor()),
        );
    }
    if let Some(d) = &params.drill
        && !haechi_drill::record::valid_id(d)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("drill '{d}' is not a drill id (drill-…)"),
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
    // Waiting for this institution's share, then for room in the queue, is the
    // back-pressure on HTTP senders: one that floods waits for itself alone.
    let slot = match state.fair.try_acquire(&tenant, records.len()) {
        Ok(slot) => slot,
        Err(_) => {
            state
                .metrics
                .share_waits
                .get_or_create(&haechi_ingest::metrics::Metrics::source("http"))
                .inc();
            state.fair.acquire(&tenant, records.len()).await
        }
    };
    let (ack, done) = oneshot::channel();
    let delivery = Delivery {
        listener: Arc::from("http"),
        peer: None,
        tenant: Some(Arc::from(tenant.as_str())),
        format,
        records,
        received: Timestamp::now(),
        ack: Some(ack),
        slot,
        drill: params.drill.as_deref().map(Arc::from),
    };
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

/// How long a readiness check waits for a store.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Readiness: 200 when the pipeline takes batches (its queue is open and not full), the
/// event store answers and, with detection, the alert store answers; 503 naming what is
/// down otherwise. No figures or reasons: it answers without authentication.
async fn readyz(State(state): State<AppState>) -> Response {
    let pipeline = !state.submit.is_closed() && state.submit.capacity() > 0;
    let store = state.store.clone();
    let store_ok = answers(move || store.ready().is_ok()).await;
    let alerts_ok = match state.alerts.clone() {
        Some(alerts) => Some(answers(move || alerts.ready().is_ok()).await),
        None => None,
    };
    let word = |ok: bool| if ok { "ok" } else { "down" };
    let ready = pipeline && store_ok && alerts_ok.unwrap_or(true);
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": {
            "pipeline": word(pipeline),
            "store": word(store_ok),
            "alerts": alerts_ok.map_or("off", word),
        },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Runs a blocking check; false when it fails or takes longer than [`READY_TIMEOUT`].
async fn answers(check: impl FnOnce() -> bool + Send + 'static) -> bool {
    matches!(
        tokio::time::timeout(READY_TIMEOUT, tokio::task::spawn_blocking(check)).await,
        Ok(Ok(true))
    )
}

async fn metrics(State(state): State<AppState>, caller: Caller) -> Response {
    // The figures cover every institution: a caller bound to one may not read them.
    if caller.tenant.is_some() {
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "{} is bound to one institution; /metrics needs a center-wide token",
                caller.actor()
            ),
        );
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
