//! `GET /api/openapi.json`: the OpenAPI 3 description of every route in
//! [`crate::ROUTES`], written by hand beside the handlers (`openapi.json`) and checked
//! against the route list by a test, so that it cannot drift from the router.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document, embedded in the binary.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_exactly_the_routes_of_the_router() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.0.3");
        let mut documented: Vec<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (m.to_uppercase(), path.clone()))
            })
            .collect();
        let mut routed: Vec<(String, String)> = crate::ROUTES
            .iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        documented.sort();
        routed.sort();
        assert_eq!(documented, routed);
        // The unauthenticated routes say so (`security: []`), the others do not.
        for (method, path, auth) in crate::ROUTES {
            let op = &doc["paths"][path][method.to_lowercase()];
            assert_eq!(
                op["security"] != serde_json::json!([]),
                *auth,
                "{method} {path}"
            );
            if *auth {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path} documents 401"
                );
            }
        }
    }
}
