//! An incident's timeline and its exportable report:
//!
//! * `GET /api/incidents/{id}/timeline?before_mins=60&after_mins=60&limit=500` — the
//!   stored events of the incident's institution that involve its entities or attackers
//!   (`haechi_store::state::incidents::evidence_query`), from `before_mins` before its
//!   first alert to `after_mins` after its last, oldest first. At most `limit` (≤ 2,000)
//!   events, the latest ones when more match; `total` counts them all.
//! * `GET /api/incidents/{id}/report?format=json|html` — the incident, its alerts, notes,
//!   tasks and timeline as one self-contained document: JSON for other tools, or an HTML page
//!   with no script and no outside resource, for the record. Both name who exported it
//!   and when.
//!
//! Another institution's incident is 404, as everywhere.

use crate::{AppState, Caller, blocking, error};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use haechi_event::{Timestamp, event_to_json};
use haechi_store::SearchRequest;
use haechi_store::state::incidents::evidence_query;
use serde_json::{Value, json};

/// The most events a timeline holds.
pub const MAX_TIMELINE: usize = 2_000;
/// The longest margin around an incident (minutes): one week.
pub const MAX_MARGIN_MINS: i64 = 7 * 24 * 60;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TimelineParams {
    before_mins: Option<i64>,
    after_mins: Option<i64>,
    limit: Option<usize>,
    format: Option<String>,
}

/// The incident (as the caller may see it) with its alerts, notes and timeline.
async fn gather(
    state: &AppState,
    caller: &Caller,
    id: i64,
    params: &TimelineParams,
) -> Result<Value, Response> {
    let Some(store) = state.alerts.clone() else {
        return Err(error(
            StatusCode::NOT_FOUND,
            "detection is off: there are no incidents",
        ));
    };
    let (before, after) = (
        params.before_mins.unwrap_or(60),
        params.after_mins.unwrap_or(60),
    );
    if !(0..=MAX_MARGIN_MINS).contains(&before) || !(0..=MAX_MARGIN_MINS).contains(&after) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("before_mins and after_mins: 0 to {MAX_MARGIN_MINS}"),
        ));
    }
    let limit = params.limit.unwrap_or(500);
    if limit == 0 || limit > MAX_TIMELINE {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("limit: 1 to {MAX_TIMELINE}"),
        ));
    }
    let Some((detail, tasks)) =
        crate::incidents::with_tasks(store, id, caller.tenant.clone()).await?
    else {
        return Err(error(StatusCode::NOT_FOUND, format!("no incident {id}")));
    };
    let incident = &detail.incident;
    let minute = 60_000_000_000i64;
    let (total, events, refs) = match evidence_query(&incident.keys) {
        Some(query) => {
            let mut request = SearchRequest::new(query);
            // The store query carries the institution: the timeline never leaves it.
            request.tenants = Some(vec![incident.tenant.clone()]);
            request.from = Some(Timestamp(incident.first_seen.0 - before * minute));
            request.to = Some(Timestamp(incident.last_seen.0 + after * minute + 1));
            request.limit = limit;
            let events = state.store.clone();
            let found = blocking(move || events.search(&request)).await?;
            let mut list: Vec<Value> = found.events.iter().map(event_to_json).collect();
            let mut refs: Vec<String> = found
                .events
                .iter()
                .map(crate::evidence::event_ref)
                .collect();
            list.reverse();
            refs.reverse();
            (found.total, list, refs)
        }
        None => (0, Vec::new(), Vec::new()),
    };
    let store = state.alerts.clone().expect("checked above");
    let evidence = blocking(move || store.evidence(id)).await?;
    Ok(json!({
        "incident": crate::incidents::visible(caller, detail.incident.clone()),
        "alerts": detail.alerts,
        "notes": detail.notes,
        "tasks": tasks,
        "evidence": evidence,
        "timeline": {"total": total, "before_mins": before, "after_mins": after, "events": events, "refs": refs},
    }))
}

pub async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(params): Query<TimelineParams>,
) -> Response {
    match gather(&state, &caller, id, &params).await {
        Ok(v) => axum::Json(v["timeline"].clone()).into_response(),
        Err(r) => r,
    }
}

pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(params): Query<TimelineParams>,
) -> Response {
    let html = match params.format.as_deref().unwrap_or("json") {
        "json" => false,
        "html" => true,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("format '{other}': use json or html"),
            );
        }
    };
    let mut v = match gather(&state, &caller, id, &params).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    v["exported"] = json!({"by": caller.actor(), "at": Timestamp::now().to_rfc3339(), "by_haechi": env!("CARGO_PKG_VERSION")});
    let disposition = format!(
        "attachment; filename=\"incident-{id}.{}\"",
        if html { "html" } else { "json" }
    );
    if !html {
        return ([(header::CONTENT_DISPOSITION, disposition)], axum::Json(v)).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            // The report holds attacker-controlled text: no script may ever run in it.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'".to_owned(),
            ),
        ],
        render_html(&v),
    )
        .into_response()
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// One line telling what an event is: its message, or its most telling fields.
fn summary(event: &Value) -> String {
    if let Some(m) = event.get("message").and_then(Value::as_str) {
        return m.chars().take(300).collect();
    }
    const FIELDS: [&str; 8] = [
        "event.code",
        "event.action",
        "source.ip",
        "destination.ip",
        "user.name",
        "host.name",
        "url.original",
        "dns.question.name",
    ];
    let parts: Vec<String> = FIELDS
        .iter()
        .filter_map(|f| event.get(*f).map(|v| format!("{f}={}", text(v))))
        .collect();
    parts.join("  ")
}

fn render_html(v: &Value) -> String {
    let i = &v["incident"];
    let mut h = String::with_capacity(16 * 1024);
    let row = |h: &mut String, k: &str, val: &str| {
        h.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            esc(k),
            esc(val)
        ));
    };
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>Incident {} — {}</title>",
        esc(&text(&i["id"])),
        esc(&text(&i["title"]))
    ));
    h.push_str("<style>body{font-family:system-ui,sans-serif;margin:2em;color:#111}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:13px}th{background:#f2f2f2}td.mono{font-family:monospace;word-break:break-all}h1{font-size:22px}h2{font-size:17px;margin-top:1.5em}.muted{color:#666}</style></head><body>\n");
    h.push_str(&format!(
        "<h1>Incident #{}: {}</h1>\n",
        esc(&text(&i["id"])),
        esc(&text(&i["title"]))
    ));
    h.push_str(&format!(
        "<p class=\"muted\">Exported by {} at {} from Haechi {}.</p>\n<table>\n",
        esc(&text(&v["exported"]["by"])),
        esc(&text(&v["exported"]["at"])),
        esc(&text(&v["exported"]["by_haechi"]))
    ));
    for (k, f) in [
        ("Institution", "tenant"),
        ("Status", "status"),
        ("Severity", "level"),
        ("Owner", "owner"),
        ("First seen", "first_seen"),
        ("Last seen", "last_seen"),
        ("Grouped by", "keys"),
        ("Campaign", "campaign"),
    ] {
        row(&mut h, k, &text(&i[f]));
    }
    h.push_str("</table>\n<h2>Alerts</h2>\n<table><tr><th>Last seen</th><th>Severity</th><th>Rule</th><th>Entity</th><th>Count</th><th>Triage</th></tr>\n");
    for a in v["alerts"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&text(&a["last_seen"])), esc(&text(&a["level"])), esc(&text(&a["rule_title"])),
            esc(&text(&a["entity"])), esc(&text(&a["count"])),
            esc(&format!("{} {}", text(&a["triage"]["state"]), text(&a["triage"]["disposition"])))
        ));
    }
    h.push_str(
        "</table>\n<h2>Notes</h2>\n<table><tr><th>Time</th><th>Author</th><th>Note</th></tr>\n",
    );
    for n in v["notes"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&text(&n["time"])),
            esc(&text(&n["author"])),
            esc(&text(&n["text"]))
        ));
    }
    h.push_str(
        "</table>\n<h2>Tasks</h2>\n<table><tr><th>Task</th><th>Added by</th><th>Done</th></tr>\n",
    );
    for t in v["tasks"].as_array().into_iter().flatten() {
        let done = match t["done_by"].as_str() {
            Some(by) => format!("{by}, {}", text(&t["done_at"])),
            None => "open".to_owned(),
        };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&text(&t["text"])),
            esc(&text(&t["author"])),
            esc(&done)
        ));
    }
    h.push_str(
        "</table>\n<h2>Evidence</h2>\n<table><tr><th>Event time</th><th>Event</th><th>Why</th><th>Pinned by</th></tr>\n",
    );
    for e in v["evidence"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}, {}</td></tr>\n",
            esc(&text(&e["event_time"])),
            esc(&summary(&e["event"])),
            esc(&text(&e["note"])),
            esc(&text(&e["pinned_by"])),
            esc(&text(&e["pinned"]))
        ));
    }
    let t = &v["timeline"];
    h.push_str(&format!(
        "</table>\n<h2>Timeline</h2>\n<p class=\"muted\">{} events of the involved entities from {} minutes before to {} minutes after the incident{}.</p>\n<table><tr><th>Time</th><th>Event</th></tr>\n",
        esc(&text(&t["total"])), esc(&text(&t["before_mins"])), esc(&text(&t["after_mins"])),
        if t["total"].as_u64().unwrap_or(0) > t["events"].as_array().map_or(0, |e| e.len()) as u64 { " (the latest shown)" } else { "" }
    ));
    for e in t["events"].as_array().into_iter().flatten() {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"mono\">{}</td></tr>\n",
            esc(&text(&e["@timestamp"])),
            esc(&summary(e))
        ));
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_report_escapes_what_attackers_control() {
        let v = json!({
            "incident": {"id": 7, "title": "<script>alert(1)</script>", "tenant": "seoul", "keys": ["entity:user.name=\"x\""]},
            "alerts": [{"rule_title": "a & b", "entity": "<img src=x onerror=y>", "triage": {"state": "new"}}],
            "notes": [{"text": "it's </td> fine"}],
            "timeline": {"total": 1, "before_mins": 60, "after_mins": 60, "events": [{"@timestamp": "t", "message": "<b>hi</b>"}]},
            "exported": {"by": "user:kim", "at": "now", "by_haechi": "0.1.0"},
        });
        let html = render_html(&v);
        for raw in ["<script>", "<img", "<b>hi", "</td> fine"] {
            assert!(!html.contains(raw), "{raw} is not escaped");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("it&#39;s &lt;/td&gt; fine"));
        assert!(html.contains("Exported by user:kim"));
    }
}
