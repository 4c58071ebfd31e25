//! Block lists for firewalls to pull, and for people and playbooks to fill:
//!
//! * `GET /api/blocklists` — every list with its count of live entries.
//! * `GET /api/blocklists/NAME.txt` — the live entries, one per line (what firewalls
//!   such as pfSense URL tables, FortiGate threat feeds or Palo Alto EDLs read);
//!   `GET /api/blocklists/NAME.json` — the entries with reason, origin and expiry;
//!   `GET /api/blocklists/NAME.rpz` — a DNS Response Policy Zone for resolvers (BIND,
//!   Unbound, Knot, PowerDNS): each domain and its subdomains answer NXDOMAIN, addresses
//!   and networks become `rpz-ip` triggers; `GET /api/blocklists/NAME.sha256` — a
//!   Safe-Browsing-style list of the first 4 bytes (hex) of SHA-256 over `DOMAIN/` of
//!   each domain, so that an institution can check names without revealing them; with
//!   `?prefix=HEX` the full hashes that start with it.
//!   A caller bound to an institution gets the center-wide entries and its own.
//! * `POST /api/blocklists/NAME` — `{"value","reason","expires_secs","tenant"}` adds or
//!   renews an entry (an institution's caller adds for itself only); audited.
//! * `POST /api/blocklists/NAME/remove` — `{"value"}`; audited.

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_event::Timestamp;
use haechi_store::StoreError;
use serde_json::json;

/// The longest expiry an entry may be given (a year); longer means permanent.
pub const MAX_EXPIRES_SECS: u64 = 366 * 86_400;
/// The longest reason (bytes).
pub const MAX_REASON: usize = 1024;

fn no_state() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "detection is off: block lists live in the state store (start `haechi serve` with --rules)",
    )
}

/// A store refusal of the input is the client's fault.
fn store_error(e: StoreError) -> Response {
    match e {
        StoreError::Invalid(m) => error(StatusCode::BAD_REQUEST, m),
        other => error(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

pub async fn lists(State(state): State<AppState>, caller: Caller) -> Response {
    let Some(store) = state.alerts.clone() else {
        return no_state();
    };
    let tenant = caller.tenant.clone();
    match blocking(move || store.blocklists(tenant.as_deref())).await {
        Ok(l) => {
            let l: Vec<_> = l
                .into_iter()
                .map(|(name, entries)| json!({"name": name, "entries": entries}))
                .collect();
            Json(json!({ "blocklists": l })).into_response()
        }
        Err(r) => r,
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    prefix: Option<String>,
}

/// A hash prefix asked for: 4 to 32 bytes of hex.
fn parse_prefix(hex: &str) -> Option<Vec<u8>> {
    if !(8..=64).contains(&hex.len()) || !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

pub async fn get_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    Query(prefix): Query<ListQuery>,
) -> Response {
    let Some(store) = state.alerts.clone() else {
        return no_state();
    };
    let Some((name, format)) = [".txt", ".json", ".rpz", ".sha256"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext).map(|n| (n.to_owned(), *ext)))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "ask for {file}.txt (one entry per line), {file}.json, {file}.rpz (a response policy zone) or {file}.sha256 (hash prefixes)"
            ),
        );
    };
    let prefix = match (format, prefix.prefix) {
        (".sha256", Some(p)) => match parse_prefix(&p) {
            Some(p) => Some(p),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("prefix '{p}': 4 to 32 bytes of hex (8 to 64 characters)"),
                );
            }
        },
        (_, Some(_)) => {
            return error(StatusCode::BAD_REQUEST, "prefix goes with NAME.sha256");
        }
        (_, None) => None,
    };
    let tenant = caller.tenant.clone();
    let list = name.clone();
    let entries = match blocking(move || store.blocklist(&list, tenant.as_deref())).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    match format {
        ".json" => return Json(json!({ "name": name, "entries": entries })).into_response(),
        ".rpz" => {
            return (
                [(header::CONTENT_TYPE, "text/dns; charset=utf-8")],
                haechi_store::state::blocklists::rpz_zone(&name, &entries),
            )
                .into_response();
        }
        ".sha256" => {
            let text = haechi_store::state::blocklists::hash_list(&entries, prefix.as_deref());
            return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
        }
        _ => {}
    }
    let mut text = String::with_capacity(entries.len() * 16);
    for e in &entries {
        text.push_str(&e.value);
        text.push('\n');
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddEntry {
    value: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires_secs: Option<u64>,
    #[serde(default)]
    tenant: Option<String>,
}

pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<AddEntry>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(store) = state.alerts.clone() else {
        return no_state();
    };
    // An institution's caller blocks for itself; the center for all or for one.
    let tenant = match caller.read_scope(body.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    if body.reason.len() > MAX_REASON {
        return error(
            StatusCode::BAD_REQUEST,
            format!("reason: at most {MAX_REASON} bytes"),
        );
    }
    if body
        .expires_secs
        .is_some_and(|s| s == 0 || s > MAX_EXPIRES_SECS)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("expires_secs: 1 to {MAX_EXPIRES_SECS} (leave it out for a permanent entry)"),
        );
    }
    let expires = body
        .expires_secs
        .map(|s| Timestamp(Timestamp::now().0 + s as i64 * 1_000_000_000));
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "blocklist.add",
        &format!("blocklist:{name}:{}", body.value),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let actor = caller.actor();
    let (list, who) = (name.clone(), actor.clone());
    let result = tokio::task::spawn_blocking(move || {
        store.block(
            &list,
            &body.value,
            tenant.as_deref(),
            &body.reason,
            &who,
            expires,
        )
    })
    .await;
    let (before, after) = match result {
        Ok(Ok(pair)) => pair,
        Ok(Err(e)) => return store_error(e),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let entry = AuditEntry::new(
        actor,
        "blocklist.add",
        format!("blocklist:{name}:{}", after.value),
    )
    .before(json!(before))
    .after(json!(after));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    (StatusCode::CREATED, Json(after)).into_response()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveEntry {
    value: String,
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<RemoveEntry>,
) -> Response {
    if let Err(d) = caller.require_write() {
        return denied(d);
    }
    let Some(store) = state.alerts.clone() else {
        return no_state();
    };
    let tenant = caller.tenant.clone();
    let list = name.clone();
    let intent = match crate::audit::Intent::begin(
        &state,
        &caller.actor(),
        "blocklist.remove",
        &format!("blocklist:{name}:{}", body.value),
    )
    .await
    {
        Ok(i) => i,
        Err(r) => return r,
    };
    let result =
        tokio::task::spawn_blocking(move || store.unblock(&list, &body.value, tenant.as_deref()))
            .await;
    let removed = match result {
        Ok(Ok(Some(e))) => e,
        Ok(Ok(None)) => {
            return error(
                StatusCode::NOT_FOUND,
                format!("no such entry in block list '{name}' for this caller"),
            );
        }
        Ok(Err(e)) => return store_error(e),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let entry = AuditEntry::new(
        caller.actor(),
        "blocklist.remove",
        format!("blocklist:{name}:{}", removed.value),
    )
    .before(json!(removed));
    if let Err(r) = intent.record(entry).await {
        return r;
    }
    Json(json!({ "removed": removed })).into_response()
}
