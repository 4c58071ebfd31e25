//! Event search and the list of institutions.
//!
//! * `GET /api/events?q=QUERY&tenant=&from=&to=&limit=&histogram=SECS` — events matching
//!   the store's query language, newest first, with the exact total; `histogram` adds
//!   the matches counted per bucket of that many seconds. The tenant filter is part of
//!   the store query: a caller bound to an institution cannot reach another's events,
//!   whatever the query says.
//! * `GET /api/tenants` — the institutions the caller may see: configured ones and those
//!   with stored events or alerts, with their event, alert and open-alert counts.

use crate::{AppState, Caller, blocking, denied, error};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haechi_event::event_to_json;
use haechi_store::SearchRequest;
use serde_json::json;
use std::collections::BTreeMap;

/// The most events one search returns.
pub const MAX_EVENTS: usize = 1000;
/// The most institutions `/api/tenants` lists.
pub const MAX_TENANTS: usize = 10_000;
/// The most histogram buckets one search returns.
pub const MAX_BUCKETS: u64 = 2000;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    #[serde(default)]
    q: String,
    tenant: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
    histogram: Option<u64>,
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<EventParams>,
) -> Response {
    let tenant = match caller.read_scope(params.tenant.as_deref()) {
        Ok(t) => t,
        Err(d) => return denied(d),
    };
    let query = match haechi_query::parse(&params.q) {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("q: {e}")),
    };
    let time = |name: &str, v: &Option<String>| {
        v.as_deref()
            .map(|t| {
                haechi_query::parse_time(t).ok_or_else(|| {
                    format!(
                        "{name} '{t}' is not a time (use RFC 3339, a date, now-1h or epoch seconds)"
                    )
                })
            })
            .transpose()
    };
    let mut request = SearchRequest::new(query);
    request.tenants = tenant.map(|t| vec![t]);
    request.limit = params.limit.unwrap_or(100);
    if request.limit > MAX_EVENTS {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "limit {} is above the maximum of {MAX_EVENTS}",
                request.limit
            ),
        );
    }
    match (time("from", &params.from), time("to", &params.to)) {
        (Ok(f), Ok(t)) => (request.from, request.to) = (f, t),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, e),
    }
    if let Some(interval) = params.histogram {
        let span = match (request.from, request.to) {
            (Some(f), Some(t)) => (t.0 - f.0).max(0) as u64 / 1_000_000_000,
            _ => 0,
        };
        if interval == 0 || (span > 0 && span / interval > MAX_BUCKETS) {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "histogram: a bucket of {interval} s gives too many buckets (at most {MAX_BUCKETS})"
                ),
            );
        }
    }
    let store = state.store.clone();
    let answer = blocking(move || {
        let found = store.search(&request)?;
        let buckets = match params.histogram {
            Some(interval) => Some(store.histogram(&request, interval)?),
            None => None,
        };
        Ok::<_, haechi_store::StoreError>((found, buckets))
    })
    .await;
    match answer {
        Ok((found, buckets)) => {
            let events: Vec<_> = found.events.iter().map(event_to_json).collect();
            let refs: Vec<_> = found
                .events
                .iter()
                .map(crate::evidence::event_ref)
                .collect();
            let mut body = json!({ "total": found.total, "events": events, "refs": refs });
            if let Some(b) = buckets {
                let b: Vec<_> = b
                    .iter()
                    .take(MAX_BUCKETS as usize)
                    .map(|b| json!({"start": b.start.to_rfc3339(), "count": b.count}))
                    .collect();
                body["histogram"] = json!(b);
            }
            Json(body).into_response()
        }
        Err(r) => r,
    }
}

pub async fn tenants(State(state): State<AppState>, caller: Caller) -> Response {
    let blank = |t: &str| json!({"id": t, "events": 0, "alerts": 0, "open_alerts": 0});
    let mut known: BTreeMap<String, serde_json::Value> = state
        .tenants
        .iter()
        .filter(|t| caller.sees(t))
        .map(|t| (t.clone(), blank(t)))
        .collect();
    let own = caller.tenant.clone();
    let mut request = SearchRequest::new(haechi_query::Query::All);
    request.tenants = own.clone().map(|t| vec![t]);
    let store = state.store.clone();
    match blocking(move || {
        store.count_by(&request, haechi_event::ecs::ORGANIZATION_ID, MAX_TENANTS)
    })
    .await
    {
        Ok(counts) => {
            for (t, n) in counts {
                known.entry(t.clone()).or_insert_with(|| blank(&t))["events"] = json!(n);
            }
        }
        Err(r) => return r,
    }
    if let Some(alerts) = state.alerts.clone() {
        match blocking(move || alerts.tenant_counts(own.as_deref())).await {
            Ok(counts) => {
                for (t, all, open) in counts {
                    let entry = known.entry(t.clone()).or_insert_with(|| blank(&t));
                    entry["alerts"] = json!(all);
                    entry["open_alerts"] = json!(open);
                }
            }
            Err(r) => return r,
        }
    }
    Json(json!({ "tenants": known.into_values().collect::<Vec<_>>() })).into_response()
}
