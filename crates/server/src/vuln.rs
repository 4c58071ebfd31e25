//! The vulnerability center's API, per institution:
//!
//! * `GET /api/vuln/sboms?tenant=` — the stored SBOMs and lockfiles with their system,
//!   exposure and counts. A caller bound to an institution sees its own only.
//! * `POST /api/vuln/sboms?tenant=&system=&exposure=&owner=&file=` — the body is one SBOM
//!   (CycloneDX, SPDX) or lockfile, `file` its name (lockfiles are recognised by it).
//!   It is parsed in a worker thread (never executed), stored as the system's inventory,
//!   matched at once, and its new KEV or internet-facing findings become `vuln` alerts;
//!   audited. The body limit of the API applies.
//! * `POST /api/vuln/sboms/{id}/remove` — removes one with its findings; audited.
//! * `GET /api/vuln/findings?tenant=&limit=` — the findings recorded on stored SBOMs.
//! * `GET /api/vuln/web?tenant=` — each inspected web site with its latest inspection
//!   (headers, JavaScript libraries, TLS) and the checks that fail.

use crate::{AppState, Caller, blocking, denied, error, valid_tenant};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_event::{Alert, Timestamp};
use haechi_vuln::AdvisoryDb;
use haechi_vuln::matcher::Matcher;
use haechi_vuln::ssvc::Exposure;
use serde_json::json;
use std::sync::Arc;

/// Records alerts the way detection does (state store, live feed, playbooks); returns
/// how many were stored.
pub type RecordFn = dyn Fn(&[Alert]) -> Result<usize, String> + Send + Sync;

/// What the vulnerability endpoints need.
#[derive(Clone)]
pub struct VulnApi {
    pub db: Arc<AdvisoryDb>,
    /// `None` when detection is off: findings are recorded, no alert is raised.
    pub record: Option<Arc<RecordFn>>,
}

fn off() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "the vulnerability center is off in this process",
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    tenant: Option<String>,
    limit: Option<usize>,
}

pub async fn sboms(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Response {
    let Some(api) = state.vuln.clone() else {
        return off();
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    match blocking(move || api.db.sboms(tenant.as_deref())).await {
        Ok(list) => Json(json!({ "sboms": list })).into_response(),
        Err(r) => r,
    }
}

pub async fn findings(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Response {
    let Some(api) = state.vuln.clone() else {
        return off();
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    let limit = params.limit.unwrap_or(1000).clamp(1, 10_000);
    match blocking(move || api.db.findings(tenant.as_deref(), limit)).await {
        Ok(list) => Json(json!({ "findings": list })).into_response(),
        Err(r) => r,
    }
}

pub async fn web(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Response {
    let Some(api) = state.vuln.clone() else {
        return off();
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    match blocking(move || api.db.latest_inspections(tenant.as_deref())).await {
        Ok(list) => Json(json!({ "sites": list })).into_response(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    tenant: Option<String>,
    system: String,
    #[serde(default)]
    exposure: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    /// The file's name: `Cargo.lock`, `package-lock.json`, `bom.json`, …
    file: String,
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<UploadParams>,
    body: Bytes,
) -> Response {
    let Some(api) = state.vuln.clone() else {
        return off();
    };
    let tenant = match params.tenant.clone().or_else(|| caller.tenant.clone()) {
        Some(t) => t,
        None => return error(StatusCode::BAD_REQUEST, "tenant: whose system is it?"),
    };
    if !valid_tenant(&tenant) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("tenant '{tenant}' is not a valid id"),
        );
    }
    if let Err(d) = caller.require_write_to(&tenant) {
        return denied(d);
    }
    let exposure = match params.exposure.as_deref().map(Exposure::parse) {
        None => Exposure::Unknown,
        Some(Some(e)) => e,
        Some(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "exposure: internet-facing, internal or unknown",
            );
        }
    };
    if params.file.is_empty() || params.file.len() > 200 || params.file.contains(['/', '\\']) {
        return error(
            StatusCode::BAD_REQUEST,
            "file: the document's file name (1-200 characters, no folders)",
        );
    }
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return error(StatusCode::BAD_REQUEST, "the document is not UTF-8 text");
    };
    let owner = params.owner.clone().unwrap_or_default();
    let system = params.system.clone();
    let file = params.file.clone();
    let who = tenant.clone();
    let db = api.db.clone();
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "sbom.add",
        &format!("sbom:new:{}", params.system),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    // Parsing, matching and storing run on a worker thread, bounded by the body limit.
    let result = tokio::task::spawn_blocking(move || {
        let inv = haechi_vuln::inventory::read_text(&file, &file, &text).map_err(|reason| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{file}: {reason}"),
            )
        })?;
        let internal = |e: haechi_vuln::VulnError| match e {
            haechi_vuln::VulnError::Invalid(m) => (StatusCode::BAD_REQUEST, m),
            other => (StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        };
        let matcher = Matcher::new(db.snapshot().map_err(internal)?);
        let stored = haechi_vuln::assets::store_and_match(
            &db, &matcher, &who, &system, exposure, &owner, &inv,
        )
        .map_err(internal)?;
        let (id, summary, new) = (stored.id, stored.summary, stored.new);
        Ok::<_, (StatusCode, String)>((id, inv, summary, new))
    })
    .await;
    let (id, inv, summary, new) = match result {
        Ok(Ok(v)) => v,
        Ok(Err((status, m))) => return error(status, m),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let alerts = haechi_vuln::alerts::for_new_findings(&new, Timestamp::now());
    let raised = match (&api.record, alerts.is_empty()) {
        (Some(record), false) => {
            let record = record.clone();
            match blocking(move || record(&alerts)).await {
                Ok(n) => n,
                Err(r) => return r,
            }
        }
        _ => 0,
    };
    let entry = AuditEntry::new(caller.actor(), "sbom.add", format!("sbom:{id}")).after(json!({
        "tenant": tenant, "system": params.system, "exposure": exposure, "file": params.file,
        "format": inv.format, "components": inv.components.len(), "skipped": inv.skipped.len(),
    }));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    (
        StatusCode::CREATED,
        Json(json!({
            "id": id,
            "tenant": tenant,
            "system": params.system,
            "format": inv.format,
            "components": inv.components.len(),
            "skipped": inv.skipped,
            "summary": summary,
            "new_findings": new.len(),
            "alerts": raised,
        })),
    )
        .into_response()
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Response {
    let Some(api) = state.vuln.clone() else {
        return off();
    };
    let db = api.db.clone();
    let placement = match blocking(move || db.placement(id)).await {
        Ok(Some(p)) => p,
        // Another institution's SBOM is as absent as a missing one.
        Ok(None) => return error(StatusCode::NOT_FOUND, format!("no SBOM {id}")),
        Err(r) => return r,
    };
    if !caller.sees(&placement.tenant) {
        return error(StatusCode::NOT_FOUND, format!("no SBOM {id}"));
    }
    if let Err(d) = caller.require_write_to(&placement.tenant) {
        return denied(d);
    }
    let db = api.db.clone();
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "sbom.remove",
        &format!("sbom:{id}"),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    if let Err(r) = blocking(move || db.remove_sbom(id)).await {
        return r;
    }
    let entry = AuditEntry::new(caller.actor(), "sbom.remove", format!("sbom:{id}")).before(
        json!({"tenant": placement.tenant, "system": placement.system, "source": placement.source}),
    );
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(json!({ "removed": id })).into_response()
}
