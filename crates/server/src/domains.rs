//! Domain Watch's API:
//!
//! * `GET /api/domains/protected?tenant=` — the institutions' protected names (a caller
//!   bound to an institution sees its own), with the sizes of the universe of names.
//! * `POST /api/domains/protected` — `{"tenant","domain","deep"}` protects a registrable
//!   domain and retro-hunts the names already known; the look-alikes found are returned
//!   and raised as `domain` alerts; audited.
//! * `POST /api/domains/protected/remove` — `{"tenant","domain"}`; audited.
//! * `POST /api/domains/names` — a batch of names (one per line, certstream-style JSON
//!   lines, or a zone file; at most the API's body limit and
//!   [`haechi_domains::watch::MAX_BATCH_NAMES`] names), for center callers: every name is
//!   checked, new names are remembered, findings are raised. Names that do not read are
//!   counted by reason in the answer.
//!
//! The look-alikes themselves are alerts (`GET /api/alerts?source=domain`), and the block
//! list Domain Watch fills is served by the block list endpoints (`.txt`, `.rpz`,
//! `.sha256`).

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_domains::watch::{Checked, Watch};
use serde_json::json;
use std::sync::Arc;

/// What the findings became: alerts recorded, block list entries, STIX indicators.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Raised {
    pub alerts: usize,
    pub blocked: usize,
    pub shared: usize,
}

/// Raises findings (alerts, block list, sharing hub), the way `haechi serve` is
/// configured to (`[domains]`).
pub type RaiseFn = dyn Fn(&[Checked]) -> Result<Raised, String> + Send + Sync;

/// What the Domain Watch endpoints need.
#[derive(Clone)]
pub struct DomainsApi {
    pub watch: Arc<Watch>,
    /// `None` when detection is off in this process: findings are answered, not raised.
    pub raise: Option<Arc<RaiseFn>>,
}

fn off() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Domain Watch is off in this process ([domains] enabled = false)",
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    tenant: Option<String>,
}

pub async fn protected(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Response {
    let Some(api) = state.domains.clone() else {
        return off();
    };
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    let watch = api.watch.clone();
    match blocking(move || {
        let list = watch.protected(tenant.as_deref())?;
        let (universe, seen) = watch.sizes();
        Ok::<_, String>((list, universe, seen))
    })
    .await
    {
        Ok((list, universe, seen)) => {
            let list: Vec<_> = list
                .iter()
                .map(|p| {
                    json!({"tenant": p.tenant, "domain": p.name.registrable,
                           "unicode": p.name.unicode})
                })
                .collect();
            Json(json!({"protected": list, "universe_names": universe, "seen_names": seen}))
                .into_response()
        }
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectBody {
    tenant: Option<String>,
    domain: String,
    #[serde(default)]
    deep: bool,
}

/// The institution a change is for: the caller's own, or the one it names (center).
fn target_tenant(caller: &Caller, asked: Option<String>) -> Result<String, Box<Response>> {
    let tenant = asked
        .or_else(|| caller.tenant.clone())
        .ok_or_else(|| Box::new(error(StatusCode::BAD_REQUEST, "tenant: whose name is it?")))?;
    if !crate::valid_tenant(&tenant) {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            format!("tenant '{tenant}' is not a valid id"),
        )));
    }
    caller
        .require_write_to(&tenant)
        .map_err(|d| Box::new(denied(d)))?;
    Ok(tenant)
}

pub async fn protect(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<ProtectBody>,
) -> Response {
    let Some(api) = state.domains.clone() else {
        return off();
    };
    let tenant = match target_tenant(&caller, body.tenant) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    if let Err(e) = haechi_domains::parse(&body.domain) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("domain '{}': {e}", body.domain),
        );
    }
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "domain.protect",
        &format!("domain:{}", body.domain),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let (watch, who, domain, deep) = (api.watch.clone(), tenant.clone(), body.domain, body.deep);
    let p = match blocking(move || watch.protect(&who, &domain, deep)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let found: Vec<Checked> = p
        .found
        .iter()
        .map(|f| Checked {
            finding: f.clone(),
            new: false,
            first_seen: 0,
        })
        .collect();
    let raised = match raise(&api, found).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let entry = AuditEntry::new(
        caller.actor(),
        "domain.protect",
        format!("domain:{}", p.domain),
    )
    .after(json!({"tenant": tenant, "domain": p.domain, "look_alikes": p.found.len()}));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    (
        if p.added {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(json!({
            "tenant": p.tenant, "domain": p.domain, "added": p.added,
            "look_alikes": p.found, "searched_names": p.searched_names,
            "seconds": p.seconds, "raised": raised,
        })),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveBody {
    tenant: Option<String>,
    domain: String,
}

pub async fn unprotect(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RemoveBody>,
) -> Response {
    let Some(api) = state.domains.clone() else {
        return off();
    };
    let tenant = match target_tenant(&caller, body.tenant) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    if let Err(e) = haechi_domains::parse(&body.domain) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("domain '{}': {e}", body.domain),
        );
    }
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "domain.unprotect",
        &format!("domain:{}", body.domain),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let (watch, who, domain) = (api.watch.clone(), tenant.clone(), body.domain.clone());
    match blocking(move || watch.unprotect(&who, &domain)).await {
        Ok(true) => {}
        Ok(false) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("{tenant} does not protect {}", body.domain),
            );
        }
        Err(r) => return r,
    }
    let entry = AuditEntry::new(
        caller.actor(),
        "domain.unprotect",
        format!("domain:{}", body.domain),
    )
    .before(json!({"tenant": tenant, "domain": body.domain}));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(json!({"removed": body.domain, "tenant": tenant})).into_response()
}

/// Raises findings on a worker thread (when this process raises them).
async fn raise(api: &DomainsApi, found: Vec<Checked>) -> Result<Raised, Response> {
    match (&api.raise, found.is_empty()) {
        (Some(raise), false) => {
            let raise = raise.clone();
            blocking(move || raise(&found)).await
        }
        _ => Ok(Raised::default()),
    }
}

pub async fn names(State(state): State<AppState>, caller: Caller, body: Bytes) -> Response {
    let Some(api) = state.domains.clone() else {
        return off();
    };
    if let Err(d) = caller.require_center() {
        return denied(d);
    }
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return error(StatusCode::BAD_REQUEST, "the names are not UTF-8 text");
    };
    let watch = api.watch.clone();
    let report = match blocking(move || {
        let format = haechi_domains::input::recognise(&text);
        let entries = haechi_domains::input::names(&text, format);
        if entries.len() > haechi_domains::watch::MAX_BATCH_NAMES {
            return Ok(Err(format!(
                "{} entries: send at most {} per request",
                entries.len(),
                haechi_domains::watch::MAX_BATCH_NAMES
            )));
        }
        watch
            .check_names(
                entries.into_iter().map(|(_, e)| e),
                haechi_event::Timestamp::now().0 / 1_000_000_000,
            )
            .map(Ok)
    })
    .await
    {
        Ok(Ok(r)) => r,
        Ok(Err(too_many)) => return error(StatusCode::PAYLOAD_TOO_LARGE, too_many),
        Err(r) => return r,
    };
    let raised = match raise(&api, report.findings.clone()).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    Json(json!({
        "names": report.names, "new_names": report.new_names, "not_read": report.not_read,
        "findings": report.findings, "raised": raised,
    }))
    .into_response()
}
