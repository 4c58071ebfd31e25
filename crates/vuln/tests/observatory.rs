//! Haechi's Observatory scoring against the MDN HTTP Observatory's own captured responses
//! of two real sites (its scanner test fixtures, in `shared/data/web_inspection`): the
//! Observatory grades observatory.mozilla.org A+ with 110 and 12 tests passed, and
//! mozilla.org B with 75, 10 passed; every test's result must be the Observatory's.

use haechi_vuln::observatory::{self, Response, Scan};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/web_inspection/mdn_observatory/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the shared fixture {} is missing: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn response(v: &Value) -> Option<Response> {
    let o = v.as_object()?;
    let headers = o["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let http_equiv: BTreeMap<String, Vec<String>> = o
        .get("httpEquiv")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let list = v
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap().to_owned())
                        .collect();
                    (k.clone(), list)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Response {
        headers,
        status: o["status"].as_u64().unwrap() as u16,
        verified: o["verified"].as_bool().unwrap_or(true),
        body: o
            .get("data")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        http_equiv,
    })
}

fn scan(f: &Value) -> Scan {
    let r = &f["responses"];
    let mut auto = response(&r["auto"]);
    // The SRI test reads the page of `resources.path`.
    if let (Some(a), Some(body)) = (auto.as_mut(), f["resources"]["path"].as_str()) {
        a.body = body.to_owned();
    }
    Scan {
        hostname: f["site"]["hostname"].as_str().unwrap().to_owned(),
        session_https: f["session"]["url"].as_str().unwrap().starts_with("https:"),
        auto,
        http: response(&r["http"]),
        https: response(&r["https"]),
        cors: response(&r["cors"]),
        http_redirects: r["httpRedirects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["url"].as_str().unwrap().to_owned())
            .collect(),
    }
}

fn results(g: &observatory::Grade) -> BTreeMap<&'static str, &'static str> {
    g.tests.iter().map(|t| (t.test, t.result)).collect()
}

#[test]
fn observatory_mozilla_org_is_a_plus_110() {
    let g = observatory::grade(&scan(&fixture("observatory-mozilla-org.json")));
    let r = results(&g);
    assert_eq!(
        r["content-security-policy"],
        "csp-implemented-with-unsafe-inline-in-style-src-only"
    );
    assert_eq!(
        r["subresource-integrity"],
        "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
    );
    assert_eq!(r["x-frame-options"], "x-frame-options-sameorigin-or-deny");
    assert_eq!(r["referrer-policy"], "referrer-policy-private");
    assert_eq!(r["redirection"], "redirection-to-https");
    assert_eq!(
        r["strict-transport-security"],
        "hsts-implemented-max-age-at-least-six-months"
    );
    assert_eq!(
        (g.score, g.grade, g.passed, g.failed),
        (110, "A+", 12, 0),
        "{r:?}"
    );
}

#[test]
fn mozilla_org_is_b_75() {
    let g = observatory::grade(&scan(&fixture("mozilla-org.json")));
    let r = results(&g);
    assert_eq!(
        r["content-security-policy"],
        "csp-implemented-with-unsafe-inline"
    );
    assert_eq!(
        r["subresource-integrity"],
        "sri-not-implemented-but-external-scripts-loaded-securely"
    );
    assert_eq!(r["x-frame-options"], "x-frame-options-implemented-via-csp");
    assert_eq!(
        r["cross-origin-opener-policy"],
        "coop-implemented-with-same-origin"
    );
    assert_eq!(r["cookies"], "cookies-not-found");
    assert_eq!(
        r["cross-origin-resource-sharing"],
        "cross-origin-resource-sharing-not-implemented"
    );
    // −25 leaves 75, under 90: the +20 of extra credit is dropped.
    assert_eq!(
        (g.score, g.grade, g.passed, g.failed),
        (75, "B", 10, 2),
        "{r:?}"
    );
}
