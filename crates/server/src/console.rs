//! The web console's files (from `haechi-console`, embedded in the binary):
//!
//! * `GET /` — redirects to `/console/`.
//! * `GET /console/` and `GET /console/FILE` — the page and its script, style and icon,
//!   without credentials (the page logs in through `/api/auth/login`; it holds no data).
//!   Served with a strict Content-Security-Policy (own files only, no inline script),
//!   `X-Frame-Options: DENY`, `nosniff` and `no-referrer`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

pub async fn home() -> Redirect {
    Redirect::to("/console/")
}

pub async fn page() -> Response {
    serve("")
}

pub async fn file(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(name: &str) -> Response {
    let Some(asset) = haechi_console::asset(name) else {
        return (StatusCode::NOT_FOUND, "no such file in the console").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (
                header::CONTENT_SECURITY_POLICY,
                haechi_console::CONTENT_SECURITY_POLICY,
            ),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // The files change with the binary; a reload after an upgrade must see them.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        asset.body,
    )
        .into_response()
}
