//! Authentication of every API call, and the login endpoints.
//!
//! A request is authenticated by, in this order:
//! 1. `Authorization: Bearer TOKEN` — a token from the configuration (`http.tokens`,
//!    compared in constant time) or one created with `haechi token create` (looked up by
//!    its SHA-256; expired and revoked tokens are refused with that reason);
//! 2. the `haechi_session` cookie a login set. A change (any method but GET/HEAD) made
//!    with a cookie must also carry the session's CSRF token in `X-CSRF-Token`: a page
//!    of another site can make the browser send the cookie, never read the token.
//!
//! Handlers take a [`Caller`] argument; without valid credentials the request is
//! answered 401 before the handler runs.
//!
//! * `POST /api/auth/login` — `{"username","password"}` → the session cookie (HttpOnly,
//!   SameSite=Strict, Secure under TLS) and `{"user","role","tenant","csrf","expires"}`;
//!   401 for a wrong name or password (not told apart), 429 with `Retry-After` while a
//!   user is locked out after five failures, 403 for a disabled account.
//! * `POST /api/auth/logout` — ends the session.
//! * `GET /api/auth/me` — who the caller is (and, for a session, its CSRF token, so a
//!   reloaded page can go on making changes).

use crate::{AppState, error};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haechi_access::secret::constant_time_eq;
use haechi_access::{LoginOutcome, Principal, PrincipalKind, Role, TokenLookup};
use serde_json::json;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "haechi_session";
/// The header a cookie-authenticated change carries.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The session id when the caller came with a cookie.
    pub session: Option<String>,
    pub csrf: Option<String>,
}

impl std::ops::Deref for Caller {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

/// A token of the configuration file (or `<data_dir>/api-token`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiToken {
    pub token: String,
    /// The institution it is bound to (`None`: any).
    #[serde(default)]
    pub tenant: Option<String>,
    /// Its name in the audit log (default `config`).
    #[serde(default)]
    pub name: Option<String>,
    /// Default: `admin` without a tenant, `institution` with one.
    #[serde(default)]
    pub role: Option<Role>,
}

impl ApiToken {
    pub fn principal(&self) -> Principal {
        Principal {
            kind: PrincipalKind::ConfigToken,
            name: self.name.clone().unwrap_or_else(|| "config".into()),
            role: self.role.unwrap_or(if self.tenant.is_some() {
                Role::Institution
            } else {
                Role::Admin
            }),
            tenant: self.tenant.clone(),
        }
    }
}

fn unauthorized(message: impl Into<String>) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"haechi\""),
    );
    r
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    /// The REST API's callers; partner organisations are refused here whatever their
    /// credentials: they use the TAXII server only.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = api_caller(parts, state).await?;
        if let Err(denied) = caller.refuse_partner() {
            return Err(error(StatusCode::FORBIDDEN, denied.0));
        }
        Ok(caller)
    }
}

async fn api_caller(parts: &Parts, state: &AppState) -> Result<Caller, Response> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
        return bearer(state, presented.to_owned()).await;
    }
    if let Some(id) = cookie(&parts.headers, SESSION_COOKIE).filter(|v| v.len() <= 128) {
        let id = id.to_owned();
        let access = state.access.clone();
        let lookup = id.clone();
        let info = tokio::task::spawn_blocking(move || access.session(&lookup))
            .await
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .ok_or_else(|| unauthorized("the session has expired or was ended: log in again"))?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), info.csrf.as_bytes()) {
                return Err(error(
                    StatusCode::FORBIDDEN,
                    "a change made with a session cookie needs the X-CSRF-Token header (the csrf value of the login answer)",
                ));
            }
        }
        return Ok(Caller {
            principal: info.principal,
            session: Some(id),
            csrf: Some(info.csrf),
        });
    }
    Err(unauthorized(
        "missing credentials: log in (POST /api/auth/login) or send a bearer token (Authorization: Bearer TOKEN)",
    ))
}

/// Authenticates a bearer token (configuration tokens first, then the access database).
pub async fn bearer(state: &AppState, presented: String) -> Result<Caller, Response> {
    let caller = |principal| Caller {
        principal,
        session: None,
        csrf: None,
    };
    if let Some(t) = state
        .tokens
        .iter()
        .find(|t| constant_time_eq(t.token.as_bytes(), presented.as_bytes()))
    {
        return Ok(caller(t.principal()));
    }
    let access = state.access.clone();
    let lookup = tokio::task::spawn_blocking(move || access.token(&presented))
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match lookup {
        TokenLookup::Valid(p) => Ok(caller(p)),
        TokenLookup::Expired(name) => Err(unauthorized(format!("token '{name}' has expired"))),
        TokenLookup::Revoked(name) => Err(unauthorized(format!("token '{name}' was revoked"))),
        TokenLookup::Unknown => Err(unauthorized("unknown bearer token")),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

/// The largest login body accepted (bytes).
pub const MAX_LOGIN_BODY: usize = 4096;

pub async fn login(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    if body.len() > MAX_LOGIN_BODY {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a login body is at most {MAX_LOGIN_BODY} bytes"),
        );
    }
    let body: LoginBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("send JSON {{\"username\": \"…\", \"password\": \"…\"}}: {e}"),
            );
        }
    };
    let access = state.access.clone();
    let ttl = state.session_ttl;
    let outcome =
        tokio::task::spawn_blocking(move || access.login(&body.username, &body.password, ttl))
            .await;
    match outcome {
        Ok(Ok(LoginOutcome::Ok(session))) => {
            let mut cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                session.id,
                ttl.as_secs()
            );
            if state.secure_cookies {
                cookie.push_str("; Secure");
            }
            let mut r = Json(json!({
                "user": session.principal.name,
                "role": session.principal.role,
                "tenant": session.principal.tenant,
                "csrf": session.csrf,
                "expires": session.expires,
            }))
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(Ok(LoginOutcome::Invalid)) => unauthorized("wrong user name or password"),
        Ok(Ok(LoginOutcome::Locked(until))) => {
            let wait = (until - haechi_access::now_secs()).max(1);
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed logins: this user is locked for {wait} more seconds"),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Ok(Ok(LoginOutcome::Disabled)) => error(StatusCode::FORBIDDEN, "this account is disabled"),
        Ok(Ok(LoginOutcome::Refused(why))) => error(StatusCode::FORBIDDEN, why),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub async fn logout(State(state): State<AppState>, caller: Caller) -> Response {
    let Some(id) = caller.session.clone() else {
        return error(
            StatusCode::BAD_REQUEST,
            "logout ends a session; this request came with a token",
        );
    };
    let access = state.access.clone();
    let actor = caller.actor();
    match tokio::task::spawn_blocking(move || access.logout(&id, &actor)).await {
        Ok(Ok(())) => {
            let mut r = Json(json!({ "logged_out": true })).into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "haechi_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
                ),
            );
            r
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub async fn me(caller: Caller) -> Response {
    Json(json!({
        "user": caller.name,
        "kind": caller.kind,
        "role": caller.role,
        "tenant": caller.tenant,
        "csrf": caller.csrf,
    }))
    .into_response()
}
