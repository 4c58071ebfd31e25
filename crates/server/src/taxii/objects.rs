//! The collection endpoints: objects, manifest, one object, its versions, delete, and
//! adding objects (TAXII 2.1 sections 5.3–5.9).

use super::access::{Reader, Refusal};
use super::{STIX_MEDIA_TYPE, Taxii, accepted_hub, blocking, hub, taxii_error, taxii_json};
use crate::AppState;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use haechi_access::AuditEntry;
use haechi_event::Timestamp;
use haechi_intel::store::{Collection, Filter, Page, Stored, Versions};
use haechi_intel::{Limits, parse_envelope};
use serde_json::{Value, json};

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The collection `id`, if the caller may see it (read or write); 404 otherwise, so that
/// a partner learns nothing of collections not granted to it.
pub(super) async fn visible_collection(
    state: &AppState,
    reader: &Reader,
    id: &str,
) -> Result<Collection, Response> {
    let taxii = hub(state).map_err(IntoResponse::into_response)?.clone();
    let wanted = id.to_owned();
    let found = blocking(move || {
        Ok(taxii
            .store
            .collections()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|c| c.id == wanted))
    })
    .await?;
    match found {
        Some(c) if reader.can_read(&c.id) || reader.can_write(&c.id) => Ok(c),
        _ => Err(taxii_error(
            StatusCode::NOT_FOUND,
            format!("no collection '{id}' (or it is not shared with you)"),
        )),
    }
}

/// A collection the caller may read; 403 when it may only write.
async fn readable(state: &AppState, reader: &Reader, id: &str) -> Result<Collection, Response> {
    let c = visible_collection(state, reader, id).await?;
    if !reader.can_read(&c.id) {
        return Err(taxii_error(
            StatusCode::FORBIDDEN,
            format!("you may add to collection '{id}' but not read it"),
        ));
    }
    Ok(c)
}

/// The query parameters an endpoint takes.
#[derive(Clone, Copy)]
struct Allowed {
    ids_and_types: bool,
    versions: bool,
    paging: bool,
    /// Without `match[version]`: every version (deletion), not the newest.
    all_versions_by_default: bool,
}

const LISTING: Allowed = Allowed {
    ids_and_types: true,
    versions: true,
    paging: true,
    all_versions_by_default: false,
};
const ONE_OBJECT: Allowed = Allowed {
    ids_and_types: false,
    versions: true,
    paging: true,
    all_versions_by_default: false,
};
const VERSION_LIST: Allowed = Allowed {
    ids_and_types: false,
    versions: false,
    paging: true,
    all_versions_by_default: false,
};
const DELETION: Allowed = Allowed {
    ids_and_types: false,
    versions: true,
    paging: false,
    all_versions_by_default: true,
};

/// A listing's filter from the query string, or a 400 naming the bad parameter.
/// `match[spec_version]` is honoured by answering nothing when it excludes 2.1 (the only
/// version stored): `None`.
fn filter_from(
    params: Params,
    allowed: Allowed,
    taxii: &Taxii,
    reader: &Reader,
) -> Result<Option<Filter>, Refusal> {
    let bad = |m: String| Refusal::new(StatusCode::BAD_REQUEST, m);
    let Query(pairs) = params.map_err(|e| bad(format!("the query string: {e}")))?;
    let mut filter = Filter {
        limit: taxii.config.default_page,
        audience: reader.audience(),
        versions: if allowed.all_versions_by_default {
            Versions::All
        } else {
            Versions::Last
        },
        ..Filter::default()
    };
    let mut spec_ok = true;
    let mut versions: Vec<String> = Vec::new();
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (key, value) in pairs {
        match key.as_str() {
            "added_after" if allowed.paging => {
                let t = haechi_event::parse_rfc3339(&value)
                    .ok_or_else(|| bad(format!("added_after '{value}' is not a timestamp")))?;
                filter.added_after = Some(t.nanos());
            }
            "limit" if allowed.paging => {
                let n: usize = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(format!("limit '{value}' is not a positive number")))?;
                filter.limit = n.min(taxii.config.max_page);
            }
            "next" if allowed.paging => {
                if value.is_empty()
                    || value.len() > 18
                    || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad(format!(
                        "next '{value}' is not a page token of this server"
                    )));
                }
                filter.next = Some(value);
            }
            "match[id]" if allowed.ids_and_types => filter.ids.extend(list(&value)),
            "match[type]" if allowed.ids_and_types => filter.types.extend(list(&value)),
            "match[version]" if allowed.versions => {
                versions.extend(list(&value));
            }
            "match[spec_version]" => spec_ok = list(&value).iter().any(|v| v == "2.1"),
            other => {
                return Err(bad(format!(
                    "this endpoint does not take the parameter '{other}'"
                )));
            }
        }
    }
    if filter.ids.len() + filter.types.len() + versions.len() > 1000 {
        return Err(bad(
            "at most 1000 ids, types and versions may be matched at once".into(),
        ));
    }
    if !versions.is_empty() {
        filter.versions = versions_from(&versions).map_err(bad)?;
    }
    Ok(spec_ok.then_some(filter))
}

/// `match[version]`: `last`, `first`, `all`, or a list of versions.
fn versions_from(values: &[String]) -> Result<Versions, String> {
    let keywords = ["last", "first", "all"];
    match values {
        [] => Ok(Versions::Last),
        [one] if one == "last" => Ok(Versions::Last),
        [one] if one == "first" => Ok(Versions::First),
        _ if values.iter().any(|v| v == "all") => Ok(Versions::All),
        _ if values.iter().any(|v| keywords.contains(&v.as_str())) => Err(format!(
            "match[version] '{}': combine first and last as 'all', or list versions",
            values.join(",")
        )),
        _ => {
            let mut versions = Vec::new();
            for v in values {
                let t = haechi_event::parse_rfc3339(v)
                    .ok_or_else(|| format!("match[version] '{v}' is not a timestamp"))?;
                versions.push(t.to_rfc3339());
            }
            Ok(Versions::These(versions))
        }
    }
}

/// Runs a listing in the store.
async fn listing(taxii: &Taxii, collection: &str, filter: Filter) -> Result<Page, Response> {
    let taxii = taxii.clone();
    let collection = collection.to_owned();
    blocking(move || {
        taxii
            .store
            .objects(&collection, &filter)
            .map_err(|e| e.to_string())
    })
    .await
}

/// An object's version as TAXII names it: its `modified`, else `created`, as the object
/// writes it; else (cyber observables) its `date_added`.
fn version_of(o: &Stored) -> String {
    if o.version.is_empty() {
        return Timestamp(o.date_added).to_rfc3339();
    }
    ["modified", "created"]
        .iter()
        .find_map(|k| o.json.get(k).and_then(Value::as_str))
        .map_or_else(|| o.version.clone(), str::to_owned)
}

/// A listing answer: the body plus the `X-TAXII-Date-Added-First/-Last` headers.
fn page_response(page: &Page, body: Value) -> Response {
    let mut r = taxii_json(StatusCode::OK, &body);
    let added = |o: &Stored| HeaderValue::from_str(&Timestamp(o.date_added).to_rfc3339()).ok();
    if let (Some(first), Some(last)) = (
        page.objects.first().and_then(added),
        page.objects.last().and_then(added),
    ) {
        r.headers_mut().insert("x-taxii-date-added-first", first);
        r.headers_mut().insert("x-taxii-date-added-last", last);
    }
    r
}

/// `{"more", "next"?, key: [...]?}` (an empty listing has no list, as the specification
/// shows).
fn paged(page: &Page, key: &str, items: Vec<Value>) -> Value {
    let mut body = json!({ "more": page.next.is_some() });
    if let Some(next) = &page.next {
        body["next"] = json!(next);
    }
    if !items.is_empty() {
        body[key] = Value::Array(items);
    }
    body
}

/// What every read endpoint does first: media type, hub, a readable collection, and
/// the filter.
async fn prepare(
    state: &AppState,
    reader: &Reader,
    headers: &HeaderMap,
    collection: &str,
    params: Params,
    allowed: Allowed,
) -> Result<(Taxii, Collection, Option<Filter>), Response> {
    let taxii = accepted_hub(state, headers).map_err(IntoResponse::into_response)?;
    let c = readable(state, reader, collection).await?;
    let filter =
        filter_from(params, allowed, &taxii, reader).map_err(IntoResponse::into_response)?;
    Ok((taxii, c, filter))
}

/// The page a read endpoint answers with, after `adjust` narrowed the filter (`None`:
/// `match[spec_version]` excludes 2.1, the only version stored). With `object`, an
/// empty page is a 404 naming it.
#[allow(clippy::too_many_arguments)]
async fn read_page(
    state: &AppState,
    reader: &Reader,
    headers: &HeaderMap,
    collection: &str,
    params: Params,
    allowed: Allowed,
    object: Option<&str>,
    adjust: impl FnOnce(&mut Filter),
) -> Result<Option<Page>, Response> {
    let (taxii, c, filter) = prepare(state, reader, headers, collection, params, allowed).await?;
    let Some(mut filter) = filter else {
        return Ok(None);
    };
    adjust(&mut filter);
    let page = listing(&taxii, &c.id, filter).await?;
    match object {
        Some(id) if page.objects.is_empty() => Err(taxii_error(
            StatusCode::NOT_FOUND,
            format!("no object '{id}' in this collection (or not shared with you)"),
        )),
        _ => Ok(Some(page)),
    }
}

/// Answers a page: `key` holds what `item` makes of each stored version.
fn answer(
    result: Result<Option<Page>, Response>,
    key: &str,
    item: impl Fn(&Stored) -> Value,
) -> Response {
    match result {
        Ok(Some(page)) => {
            let items = page.objects.iter().map(item).collect();
            page_response(&page, paged(&page, key, items))
        }
        Ok(None) => taxii_json(StatusCode::OK, &json!({ "more": false })),
        Err(r) => r,
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(collection): Path<String>,
    params: Params,
) -> Response {
    let page = read_page(
        &state,
        &reader,
        &headers,
        &collection,
        params,
        LISTING,
        None,
        |_| {},
    )
    .await;
    answer(page, "objects", |o| o.json.clone())
}

pub(super) async fn manifest(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(collection): Path<String>,
    params: Params,
) -> Response {
    let page = read_page(
        &state,
        &reader,
        &headers,
        &collection,
        params,
        LISTING,
        None,
        |_| {},
    )
    .await;
    answer(page, "objects", |o| {
        json!({
            "id": o.id,
            "date_added": Timestamp(o.date_added).to_rfc3339(),
            "version": version_of(o),
            "media_type": STIX_MEDIA_TYPE,
        })
    })
}

pub(super) async fn one(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path((collection, object)): Path<(String, String)>,
    params: Params,
) -> Response {
    let id = object.clone();
    let page = read_page(
        &state,
        &reader,
        &headers,
        &collection,
        params,
        ONE_OBJECT,
        Some(&object),
        |f| {
            f.ids = vec![id];
        },
    )
    .await;
    answer(page, "objects", |o| o.json.clone())
}

pub(super) async fn versions(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path((collection, object)): Path<(String, String)>,
    params: Params,
) -> Response {
    let id = object.clone();
    let page = read_page(
        &state,
        &reader,
        &headers,
        &collection,
        params,
        VERSION_LIST,
        Some(&object),
        |f| {
            f.ids = vec![id];
            f.versions = Versions::All;
        },
    )
    .await;
    answer(page, "versions", |o| json!(version_of(o)))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path((collection, object)): Path<(String, String)>,
    params: Params,
) -> Response {
    let (taxii, c, filter) =
        match prepare(&state, &reader, &headers, &collection, params, DELETION).await {
            Ok(p) => p,
            Err(r) => return r,
        };
    if !reader.can_write(&c.id) {
        return taxii_error(
            StatusCode::FORBIDDEN,
            format!("you may read collection '{collection}' but not change it"),
        );
    }
    let Some(mut filter) = filter else {
        return taxii_error(StatusCode::NOT_FOUND, "no object of that spec_version");
    };
    // The versions to delete are those the caller can see; a partner's are its own.
    filter.ids = vec![object.clone()];
    filter.limit = taxii.config.max_page;
    let page = match listing(&taxii, &c.id, filter).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let versions: Vec<String> = page.objects.iter().map(|o| o.version.clone()).collect();
    let only = reader.delete_scope();
    let store = taxii.store.clone();
    let (cid, oid) = (c.id.clone(), object.clone());
    let intent = match begin(&state, &reader, "taxii.delete", &c).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let gone = match blocking(move || {
        let mut n = 0;
        for v in &versions {
            n += store
                .delete(&cid, &oid, Some(v), only.as_deref())
                .map_err(|e| e.to_string())?;
        }
        Ok(n)
    })
    .await
    {
        Ok(n) => n,
        Err(r) => return r,
    };
    if gone == 0 {
        return taxii_error(
            StatusCode::NOT_FOUND,
            format!("no object '{object}' of yours to delete in this collection"),
        );
    }
    audit(
        intent,
        &reader,
        "taxii.delete",
        &c,
        json!({"object": object, "versions_deleted": gone}),
    )
    .await;
    taxii_json(StatusCode::OK, &json!({}))
}

pub(super) async fn add(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(collection): Path<String>,
    body: Body,
) -> Response {
    let taxii = match accepted_hub(&state, &headers) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !super::is_taxii_21(content_type) {
        return taxii_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("POST an envelope as Content-Type: {}", super::MEDIA_TYPE),
        );
    }
    let c = match visible_collection(&state, &reader, &collection).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !reader.can_write(&c.id) {
        return taxii_error(
            StatusCode::FORBIDDEN,
            format!("you may read collection '{collection}' but not add to it"),
        );
    }
    let max = taxii.config.max_content_length;
    let body: Bytes = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(_) => {
            return taxii_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the envelope is over {max} bytes, this API root's max_content_length"),
            );
        }
    };
    let request_timestamp = Timestamp::now().to_rfc3339();
    let source = reader.source();
    let store = taxii.store.clone();
    let cid = c.id.clone();
    let is_partner =
        reader.partner.is_some() || reader.principal.role == haechi_access::Role::Partner;
    let quota = taxii.config.max_objects_per_partner;
    let intent = match begin(&state, &reader, "taxii.add", &c).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let stored = blocking(move || {
        let report = parse_envelope(&body, Limits::default()).map_err(|e| e.to_string());
        let mut report = match report {
            Ok(r) => r,
            Err(e) => return Ok(Err((StatusCode::BAD_REQUEST, format!("not a TAXII envelope: {e}")))),
        };
        if is_partner {
            // A partner adds versions of its own objects only: a newer version of
            // someone else's object would replace (or revoke) it for everyone.
            let ids: Vec<&str> = report.accepted.iter().map(|o| o.id.as_str()).collect();
            let held = store
                .ids_held_by_others(&cid, &ids, &source)
                .map_err(|e| e.to_string())?;
            if !held.is_empty() {
                let (mine, theirs): (Vec<_>, Vec<_>) = std::mem::take(&mut report.accepted)
                    .into_iter()
                    .partition(|o| !held.contains(&o.id));
                report.accepted = mine;
                report.rejected.extend(theirs.into_iter().map(|o| {
                    let why = format!("{}: another source shared this object; only it may version it", o.id);
                    (Some(o.id), why)
                }));
            }
            let have = store.count_added_by(&source).map_err(|e| e.to_string())?;
            if have + report.accepted.len() as u64 > quota {
                return Ok(Err((
                    StatusCode::FORBIDDEN,
                    format!("over the quota of {quota} object versions per partner ({have} stored); ask the center to raise intel.taxii.max_objects_per_partner"),
                )));
            }
        }
        let added = store
            .add_objects(&cid, &report.accepted, &source)
            .map_err(|e| e.to_string())?;
        let status = status_resource(&report, &body, request_timestamp);
        store
            .save_status(status["id"].as_str().unwrap_or_default(), &source, &status)
            .map_err(|e| e.to_string())?;
        Ok(Ok((status, added)))
    })
    .await;
    let (status, added) = match stored {
        Ok(Ok(s)) => s,
        Ok(Err((code, why))) => return taxii_error(code, why),
        Err(r) => return r,
    };
    audit(
        intent,
        &reader,
        "taxii.add",
        &c,
        json!({
            "status": status["id"],
            "stored": added.stored,
            "duplicates": added.duplicates,
            "rejected": status["failure_count"],
        }),
    )
    .await;
    taxii_json(StatusCode::ACCEPTED, &status)
}

/// The status resource of a POST, all processed at once (`complete`): every accepted
/// object a success (a version already held is one too — the collection has it), every
/// rejected one a failure with the reasons.
fn status_resource(
    report: &haechi_intel::BundleReport,
    body: &[u8],
    request_timestamp: String,
) -> Value {
    let successes: Vec<Value> = report
        .accepted
        .iter()
        .map(|o| {
            let version = o
                .modified
                .or(o.created)
                .map(|t| Timestamp::from_datetime(&t));
            json!({"id": o.id, "version": version.map(|t| t.to_rfc3339()).unwrap_or_default()})
        })
        .collect();
    // Rejected objects are rare: read their versions from the body again only then.
    let raw: Vec<Value> = if report.rejected.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("objects").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    };
    let failures: Vec<Value> = report
        .rejected
        .iter()
        .map(|(id, message)| {
            let version = raw
                .iter()
                .find(|o| id.is_some() && o.get("id").and_then(Value::as_str) == id.as_deref())
                .and_then(|o| o.get("modified").or_else(|| o.get("created")))
                .and_then(Value::as_str)
                .unwrap_or("");
            json!({
                "id": id.clone().unwrap_or_else(|| "(no id)".into()),
                "version": version,
                "message": message,
            })
        })
        .collect();
    json!({
        "id": haechi_intel::build::new_uuid(),
        "status": "complete",
        "request_timestamp": request_timestamp,
        "total_count": successes.len() + failures.len(),
        "success_count": successes.len(),
        "successes": successes,
        "failure_count": failures.len(),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    })
}

/// The audit intent of a change to collection `c`: a change the audit log cannot take is
/// refused before anything changes.
async fn begin(
    state: &AppState,
    reader: &Reader,
    action: &str,
    c: &Collection,
) -> Result<crate::audit::Intent, Response> {
    let target = format!("collection:{}", c.name);
    crate::audit::Intent::begin(state, &reader.principal.actor(), action, &target)
        .await
        .map_err(|_| {
            taxii_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the audit log cannot be written: nothing was changed",
            )
        })
}

/// Records a change in the audit log in place of its intent; a failure to audit is
/// logged, the change stands (it is already stored, and the intent is recorded as an
/// interrupted change at the next start).
async fn audit(
    intent: crate::audit::Intent,
    reader: &Reader,
    action: &str,
    c: &Collection,
    after: Value,
) {
    let entry = AuditEntry::new(
        reader.principal.actor(),
        action,
        format!("collection:{}", c.name),
    )
    .after(after);
    if intent.record(entry).await.is_err() {
        tracing::error!(action, collection = %c.name, "the audit record of a TAXII change could not be written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_version_reads_keywords_and_timestamps() {
        let v = |s: &str| versions_from(&s.split(',').map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(v("last").unwrap(), Versions::Last);
        assert_eq!(v("first").unwrap(), Versions::First);
        assert_eq!(v("first,all").unwrap(), Versions::All);
        assert!(v("first,last").is_err());
        assert_eq!(
            v("2026-01-01T00:00:00.000Z").unwrap(),
            Versions::These(vec!["2026-01-01T00:00:00Z".into()])
        );
        assert!(v("yesterday").is_err());
    }
}
