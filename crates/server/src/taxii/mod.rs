//! # The TAXII 2.1 server
//!
//! Haechi's sharing hub speaks OASIS TAXII 2.1 over the collections of the intel store
//! ([`haechi_intel::store::IntelStore`]), on the same listener as the REST API:
//!
//! | path | what |
//! |---|---|
//! | `GET /taxii2/` | discovery: the one API root |
//! | `GET /taxii2/hub/` | the API root: versions, `max_content_length` |
//! | `GET /taxii2/hub/status/{id}/` | the status of an earlier POST (its poster only) |
//! | `GET /taxii2/hub/collections/` | the collections the caller may read or write |
//! | `GET /taxii2/hub/collections/{id}/` | one collection |
//! | `GET /taxii2/hub/collections/{id}/objects/` | an envelope; `added_after`, `limit`, `next`, `match[id\|type\|version\|spec_version]` |
//! | `POST /taxii2/hub/collections/{id}/objects/` | an envelope in, a status resource out (202) |
//! | `GET /taxii2/hub/collections/{id}/manifest/` | the manifest of the same listing |
//! | `GET /taxii2/hub/collections/{id}/objects/{object}/` | one object's versions (`match[version]`) |
//! | `DELETE /taxii2/hub/collections/{id}/objects/{object}/` | delete it (or `match[version]`) |
//! | `GET /taxii2/hub/collections/{id}/objects/{object}/versions/` | its version list |
//!
//! **Media types.** Requests must accept `application/taxii+json;version=2.1` (406
//! otherwise) and POST it (415 otherwise); every answer, errors included, is that type,
//! errors as TAXII error resources. Listings carry `X-TAXII-Date-Added-First` and `-Last`.
//!
//! **Who may do what** ([`access`]). Partners authenticate with HTTP basic (the
//! credentials `haechi intel partner add` printed); people and tokens of the control center
//! with HTTP basic or `Authorization: Bearer`. A partner sees only the collections granted
//! to it, reads objects up to its TLP maximum — RED never — plus what it shared itself, and
//! deletes only what it shared. Every write is audited.

pub mod access;
mod objects;

use crate::AppState;
use access::{Reader, Refusal};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use haechi_intel::store::IntelStore;
use serde_json::{Value, json};
use std::sync::Arc;

/// The TAXII 2.1 media type.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type (of the objects, in manifests).
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// The discovery path.
pub const DISCOVERY: &str = "/taxii2/";
/// The one API root.
pub const API_ROOT: &str = "/taxii2/hub/";

/// Every TAXII route (method, path in axum syntax); each needs credentials.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/taxii2/"),
    ("GET", "/taxii2/hub/"),
    ("GET", "/taxii2/hub/status/{status}/"),
    ("GET", "/taxii2/hub/collections/"),
    ("GET", "/taxii2/hub/collections/{collection}/"),
    ("GET", "/taxii2/hub/collections/{collection}/manifest/"),
    ("GET", "/taxii2/hub/collections/{collection}/objects/"),
    ("POST", "/taxii2/hub/collections/{collection}/objects/"),
    (
        "GET",
        "/taxii2/hub/collections/{collection}/objects/{object}/",
    ),
    (
        "DELETE",
        "/taxii2/hub/collections/{collection}/objects/{object}/",
    ),
    (
        "GET",
        "/taxii2/hub/collections/{collection}/objects/{object}/versions/",
    ),
];

/// The `[intel.taxii]` settings.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaxiiConfig {
    /// The discovery title.
    pub title: String,
    pub description: String,
    /// Whom partners contact about the hub.
    pub contact: String,
    /// The largest POST body (bytes), announced in the API root as `max_content_length`.
    pub max_content_length: usize,
    /// Objects per page when the client gives no `limit`.
    pub default_page: usize,
    /// The most objects per page, whatever the client asks.
    pub max_page: usize,
    /// The most object versions one partner may have stored (over all collections).
    pub max_objects_per_partner: u64,
}

impl Default for TaxiiConfig {
    fn default() -> Self {
        TaxiiConfig {
            title: "Haechi sharing hub".into(),
            description:
                "STIX 2.1 threat intelligence shared by the control center and its partners".into(),
            contact: String::new(),
            max_content_length: 16 << 20,
            default_page: 1000,
            max_page: haechi_intel::store::MAX_PAGE,
            max_objects_per_partner: 1_000_000,
        }
    }
}

impl TaxiiConfig {
    /// Refuses settings the server cannot honour.
    pub fn check(&self) -> Result<(), String> {
        let max = haechi_intel::store::MAX_PAGE;
        if !(1..=max).contains(&self.max_page) {
            return Err(format!("max_page: 1 to {max}"));
        }
        if !(1..=self.max_page).contains(&self.default_page) {
            return Err(format!("default_page: 1 to max_page ({})", self.max_page));
        }
        // The envelope reader's own limit is 64 MiB.
        if !(1024..=64 << 20).contains(&self.max_content_length) {
            return Err("max_content_length: 1 KiB to 64 MiB".into());
        }
        if self.max_objects_per_partner == 0 {
            return Err("max_objects_per_partner: at least 1".into());
        }
        Ok(())
    }
}

/// What the TAXII handlers need besides the application state.
#[derive(Clone)]
pub struct Taxii {
    pub store: Arc<IntelStore>,
    pub config: Arc<TaxiiConfig>,
    /// Recently checked basic credentials.
    pub(crate) credentials: Arc<access::CredentialCache>,
}

impl Taxii {
    pub fn new(store: Arc<IntelStore>, config: TaxiiConfig) -> Taxii {
        Taxii {
            store,
            config: Arc::new(config),
            credentials: Arc::new(access::CredentialCache::default()),
        }
    }
}

/// The TAXII routes, to merge into the application's router. A POST body is read up to
/// the API root's `max_content_length` by the handler itself, so that an oversized one
/// gets a TAXII error resource.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/hub/", get(api_root))
        .route("/taxii2/hub/status/{status}/", get(status))
        .route("/taxii2/hub/collections/", get(collections))
        .route("/taxii2/hub/collections/{collection}/", get(collection))
        .route(
            "/taxii2/hub/collections/{collection}/manifest/",
            get(objects::manifest),
        )
        .route(
            "/taxii2/hub/collections/{collection}/objects/",
            get(objects::list).post(objects::add),
        )
        .route(
            "/taxii2/hub/collections/{collection}/objects/{object}/",
            get(objects::one).delete(objects::delete),
        )
        .route(
            "/taxii2/hub/collections/{collection}/objects/{object}/versions/",
            get(objects::versions),
        )
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// A TAXII error resource with the TAXII media type.
pub(crate) fn taxii_error(status: StatusCode, description: impl Into<String>) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = json!({
        "title": title,
        "description": description.into(),
        "http_status": status.as_u16().to_string(),
    });
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    r
}

/// A TAXII resource with the TAXII media type.
pub(crate) fn taxii_json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    r
}

/// Refuses a request that does not accept TAXII 2.1 (406).
pub(crate) fn check_accept(headers: &HeaderMap) -> Result<(), Refusal> {
    let accepted = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(is_taxii_21);
    if accepted {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            format!("this is a TAXII 2.1 server: send Accept: {MEDIA_TYPE}"),
        ))
    }
}

/// Whether a media type is TAXII JSON of version 2.1 (or of no stated version).
pub(crate) fn is_taxii_21(media_type: &str) -> bool {
    let compact: String = media_type
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let mut parts = compact.split(';');
    if parts.next() != Some("application/taxii+json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some(("version", v)) => v == "2.1",
        _ => true,
    })
}

/// Runs blocking store work off the async threads; a failure is a TAXII 500.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(taxii_error(StatusCode::INTERNAL_SERVER_ERROR, e)),
        Err(e) => Err(taxii_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
    }
}

/// What every endpoint checks first: the request accepts TAXII 2.1, and this server has a
/// hub.
pub(crate) fn accepted_hub(state: &AppState, headers: &HeaderMap) -> Result<Taxii, Refusal> {
    check_accept(headers)?;
    hub(state).cloned()
}

/// The hub, or 404 when this server has no intel store.
pub(crate) fn hub(state: &AppState) -> Result<&Taxii, Refusal> {
    state.taxii.as_ref().ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_FOUND,
            "this server has no sharing hub (no intel store)",
        )
    })
}

async fn discovery(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    let _ = reader;
    let taxii = match accepted_hub(&state, &headers) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let mut body = json!({
        "title": taxii.config.title,
        "description": taxii.config.description,
        "default": API_ROOT,
        "api_roots": [API_ROOT],
    });
    if !taxii.config.contact.is_empty() {
        body["contact"] = json!(taxii.config.contact);
    }
    taxii_json(StatusCode::OK, &body)
}

async fn api_root(State(state): State<AppState>, reader: Reader, headers: HeaderMap) -> Response {
    let _ = reader;
    let taxii = match accepted_hub(&state, &headers) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    taxii_json(
        StatusCode::OK,
        &json!({
            "title": taxii.config.title,
            "description": taxii.config.description,
            "versions": [MEDIA_TYPE],
            "max_content_length": taxii.config.max_content_length,
        }),
    )
}

async fn status(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let taxii = match accepted_hub(&state, &headers) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let owner = reader.principal.actor();
    match blocking(move || taxii.store.status(&id, &owner).map_err(|e| e.to_string())).await {
        Ok(Some(status)) => taxii_json(StatusCode::OK, &status),
        Ok(None) => taxii_error(StatusCode::NOT_FOUND, "no such status resource of yours"),
        Err(r) => r,
    }
}

/// A collection resource as the caller sees it.
fn collection_resource(reader: &Reader, c: &haechi_intel::store::Collection) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "alias": c.name,
        "can_read": reader.can_read(&c.id),
        "can_write": reader.can_write(&c.id),
        "media_types": [STIX_MEDIA_TYPE],
    })
}

async fn collections(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
) -> Response {
    let taxii = match accepted_hub(&state, &headers) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let all = match blocking(move || taxii.store.collections().map_err(|e| e.to_string())).await {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let visible: Vec<Value> = all
        .iter()
        .filter(|c| reader.can_read(&c.id) || reader.can_write(&c.id))
        .map(|c| collection_resource(&reader, c))
        .collect();
    if visible.is_empty() {
        return taxii_json(StatusCode::OK, &json!({}));
    }
    taxii_json(StatusCode::OK, &json!({ "collections": visible }))
}

async fn collection(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = check_accept(&headers) {
        return r.into_response();
    }
    match objects::visible_collection(&state, &reader, &id).await {
        Ok(c) => taxii_json(StatusCode::OK, &collection_resource(&reader, &c)),
        Err(r) => r,
    }
}

impl IntoResponse for access::Refusal {
    fn into_response(self) -> Response {
        let mut r = taxii_error(self.status, self.message);
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"haechi-taxii\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxii_media_types_are_recognised() {
        assert!(is_taxii_21("application/taxii+json;version=2.1"));
        assert!(is_taxii_21("application/taxii+json; version=2.1"));
        assert!(is_taxii_21("application/taxii+json"));
        assert!(!is_taxii_21("application/taxii+json;version=2.0"));
        assert!(!is_taxii_21("application/json"));
        assert!(!is_taxii_21("*/*"));
    }
}
