//! # The control officers' console
//!
//! A single-page application written in plain JavaScript, CSS and HTML, embedded in the
//! binary with `include_bytes!`: control centers are often air-gapped, so nothing is
//! loaded from elsewhere (no CDN, no web fonts, charts drawn as SVG by `app.js`) and
//! building the binary needs no JavaScript tool chain. The server serves these files at
//! `/console/`; the page talks to the authenticated JSON API only.

/// One embedded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// Every file of the console, by its name under `/console/`.
const ASSETS: &[(&str, Asset)] = &[
    (
        "index.html",
        Asset {
            content_type: "text/html; charset=utf-8",
            body: include_bytes!("../assets/index.html"),
        },
    ),
    (
        "app.js",
        Asset {
            content_type: "text/javascript; charset=utf-8",
            body: include_bytes!("../assets/app.js"),
        },
    ),
    (
        "charts.js",
        Asset {
            content_type: "text/javascript; charset=utf-8",
            body: include_bytes!("../assets/charts.js"),
        },
    ),
    (
        "app.css",
        Asset {
            content_type: "text/css; charset=utf-8",
            body: include_bytes!("../assets/app.css"),
        },
    ),
    (
        "sme.js",
        Asset {
            content_type: "text/javascript; charset=utf-8",
            body: include_bytes!("../assets/sme.js"),
        },
    ),
    (
        "sme.css",
        Asset {
            content_type: "text/css; charset=utf-8",
            body: include_bytes!("../assets/sme.css"),
        },
    ),
    (
        "favicon.svg",
        Asset {
            content_type: "image/svg+xml",
            body: include_bytes!("../assets/favicon.svg"),
        },
    ),
];

/// The file served at `/console/NAME` (`""` is the page itself).
pub fn asset(name: &str) -> Option<Asset> {
    let name = if name.is_empty() { "index.html" } else { name };
    ASSETS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

/// The Content-Security-Policy of the console: its own files only, no inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_the_page_names_is_embedded() {
        let page = std::str::from_utf8(asset("").unwrap().body).unwrap();
        for name in ["app.js", "charts.js", "app.css", "favicon.svg"] {
            assert!(page.contains(name), "index.html does not load {name}");
            assert!(asset(name).is_some(), "{name} is not embedded");
        }
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("missing.js").is_none());
    }

    #[test]
    fn nothing_is_loaded_from_another_origin() {
        for (name, a) in ASSETS {
            let text = String::from_utf8_lossy(a.body);
            for scheme in ["http://", "https://", "//cdn"] {
                // SVG's XML namespace is a name, not something fetched.
                let fetched = text
                    .match_indices(scheme)
                    .any(|(i, _)| !text[i..].starts_with("http://www.w3.org/"));
                assert!(!fetched, "{name} refers to {scheme}…");
            }
        }
    }
}
