//! Administration (administrators only): users, API tokens and the audit log.
//!
//! * `GET /api/users`, `POST /api/users` `{"name","role","tenant","password"}`,
//!   `POST /api/users/{name}/disable|enable`;
//! * `GET /api/tokens`, `POST /api/tokens` `{"name","role","tenant","expires_days"}` —
//!   the answer holds the secret, the only time it is shown;
//!   `POST /api/tokens/{name}/revoke`;
//! * `GET /api/audit?after=SEQ&limit=` — audit records oldest first, and whether the
//!   chain verifies.
//!
//! Each change is audited in the same transaction that makes it.

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_access::{AccessError, Role, TokenSpec, UserSpec};
use serde_json::json;

/// The most audit records one request returns.
pub const MAX_AUDIT: usize = 5000;
/// The longest a token made through the API may live.
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// Maps an access error to its answer: a refused input is the client's fault.
fn access_error(e: AccessError) -> Response {
    let status = match e {
        AccessError::Invalid(_) => StatusCode::BAD_REQUEST,
        AccessError::NotFound(_) => StatusCode::NOT_FOUND,
        AccessError::Exists(_) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, e.to_string())
}

/// Runs an access-store call, answering its refusals with the right status.
async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AccessError> + Send + 'static,
) -> Result<T, Response> {
    match blocking(move || Ok::<_, String>(f())).await? {
        Ok(v) => Ok(v),
        Err(e) => Err(access_error(e)),
    }
}

fn role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("role '{s}': use admin, center, institution or viewer"))
}

pub async fn users(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(d) = caller.require_admin() {
        return denied(d);
    }
    let access = state.access.clone();
    match run(move || access.users()).await {
        Ok(u) => Json(json!({ "users": u })).into_response(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: String,
    #[serde(default)]
    tenant: Option<String>,
    password: String,
}

pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewUser>,
) -> Response {
    if let Err(d) = caller.require_admin() {
        return denied(d);
    }
    let role = match role(&body.role) {
        Ok(haechi_access::Role::Partner) => {
            return error(
                StatusCode::BAD_REQUEST,
                "partners are created with `haechi intel partner add ORG`, which also grants their collections",
            );
        }
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let spec = UserSpec {
        name: body.name,
        role,
        tenant: body.tenant,
        password: body.password,
    };
    let (access, actor) = (state.access.clone(), caller.actor());
    match run(move || access.add_user(&spec, &actor)).await {
        Ok(u) => (StatusCode::CREATED, Json(u)).into_response(),
        Err(r) => r,
    }
}

async fn set_disabled(state: AppState, caller: Caller, name: String, disabled: bool) -> Response {
    if let Err(d) = caller.require_admin() {
        return denied(d);
    }
    if disabled && name == caller.name && caller.session.is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "an administrator cannot disable their own account",
        );
    }
    let (access, actor) = (state.access.clone(), caller.actor());
    match run(move || access.set_disabled(&name, disabled, &actor)).await {
        Ok(u) => Json(u).into_response(),
        Err(r) => r,
    }
}

pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Response {
    set_disabled(state, caller, name, true).await
}

pub async fn enable_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Response {
    set_disabled(state, caller, name, false).await
}

pub async fn tokens(State(state): State<AppState>, caller: Caller) -> Response {
    if let Err(d) = caller.require_admin() {
        return denied(d);
    }
    let access = state.access.clone();
    match run(move || access.tokens()).await {
        Ok(t) => Json(json!({ "tokens": t })).into_response(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    role: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    expires_days: Option<u32>,
}

pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewToken>,
) -> Response {
    if let Err(d) = caller.require_admin() {
        return denied(d);
    }
    let role = match role(&body.role) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    if body
        .expires_days
        .is_some_and(|d| d == 0 || d > MAX_TOKEN_DAYS)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("expires_days: 1 to {MAX_TOKEN_DAYS}"),
        );
    }
    let spec = TokenSpec {
        name: body.name,
        role,
        tenant: body.tenant,
        expires: body
            .expires_days
            .map(|d| haechi_access::now_secs() + i64::from(d) * 86_400),
    };
    let (access, actor) = (state.access.clone(), caller.actor());
    match run(move || access.create_token(&spec, &actor)).await {
        Ok(t) => (
            StatusCode::CREATED,
            Json(json!({ "token": t.secret, "info": t.info })),
        )
            .into_response(),
        Err(r) => r,
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Response {
    if let Err(d) = caller.require_admin() {
        return denied(d);
    }
    let (access, actor) = (state.access.clone(), caller.actor());
    match run(move || access.revoke_token(&name, &actor)).await {
        Ok(t) => Json(t).into_response(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    after: Option<i64>,
    limit: Option<usize>,
}

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<AuditParams>,
) -> Response {
    if let Err(d) = caller.require_admin() {
        return denied(d);
    }
    let limit = params.limit.unwrap_or(100);
    if limit > MAX_AUDIT {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit {limit} is above the maximum of {MAX_AUDIT}"),
        );
    }
    let access = state.access.clone();
    let after = params.after.unwrap_or(0);
    match run(move || Ok((access.audit_records(after, limit)?, access.verify_audit()?))).await {
        Ok((records, chain)) => Json(json!({ "records": records, "chain": chain })).into_response(),
        Err(r) => r,
    }
}
