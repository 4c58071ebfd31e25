//! Passive inspection of a web page as fetched (the fetching is the caller's): the
//! security headers the MDN HTTP Observatory looks at (HSTS, CSP, framing,
//! `X-Content-Type-Options`, `Referrer-Policy`, cookie flags), what the server discloses
//! about its software, and the JavaScript libraries its `<script src>` load, matched to
//! their vulnerabilities with Retire.js's data. Nothing is sent beyond the page's own
//! request; nothing of the page is executed.

use crate::retire::RetireRepo;
use serde::Serialize;

/// A fetched page.
pub struct Page {
    pub url: String,
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One check's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub check: &'static str,
    /// `pass`, `fail` or `info`.
    pub result: &'static str,
    pub detail: String,
}

fn check(check: &'static str, ok: bool, detail: String) -> Check {
    Check {
        check,
        result: if ok { "pass" } else { "fail" },
        detail,
    }
}

/// Six months, the least HSTS age the Observatory accepts.
const HSTS_MIN_AGE: u64 = 15_552_000;

/// The header checks of a page.
pub fn check_headers(page: &Page) -> Vec<Check> {
    let https = page.url.starts_with("https://");
    let mut out = Vec::new();
    // HSTS: only meaningful (and only honoured) over HTTPS.
    let hsts_age = page.header("strict-transport-security").and_then(|v| {
        v.split(';')
            .find_map(|d| d.trim().strip_prefix("max-age="))
            .and_then(|a| a.trim_matches('"').parse::<u64>().ok())
    });
    out.push(match (https, hsts_age) {
        (false, _) => check(
            "strict-transport-security",
            false,
            "the page is served over plain HTTP".into(),
        ),
        (true, None) => check(
            "strict-transport-security",
            false,
            "no Strict-Transport-Security header".into(),
        ),
        (true, Some(a)) => check(
            "strict-transport-security",
            a >= HSTS_MIN_AGE,
            format!("max-age={a} (at least {HSTS_MIN_AGE} wanted)"),
        ),
    });
    let csp = page.header("content-security-policy");
    out.push(match csp {
        None => check(
            "content-security-policy",
            false,
            "no Content-Security-Policy header".into(),
        ),
        Some(v) => {
            let script = v
                .split(';')
                .map(str::trim)
                .find(|d| d.starts_with("script-src"))
                .or_else(|| {
                    v.split(';')
                        .map(str::trim)
                        .find(|d| d.starts_with("default-src"))
                });
            let unsafe_inline = script
                .is_some_and(|d| d.contains("'unsafe-inline'") || d.contains("'unsafe-eval'"));
            check(
                "content-security-policy",
                script.is_some() && !unsafe_inline,
                if unsafe_inline {
                    "scripts allow 'unsafe-inline' or 'unsafe-eval'".into()
                } else if script.is_none() {
                    "no script-src or default-src directive".into()
                } else {
                    v.chars().take(200).collect()
                },
            )
        }
    });
    let frame_ancestors = csp.is_some_and(|v| v.contains("frame-ancestors"));
    let xfo = page.header("x-frame-options").map(str::to_ascii_uppercase);
    out.push(check(
        "x-frame-options",
        frame_ancestors || matches!(xfo.as_deref(), Some("DENY" | "SAMEORIGIN")),
        match (&xfo, frame_ancestors) {
            (_, true) => "CSP frame-ancestors".into(),
            (Some(x), _) => format!("X-Frame-Options: {x}"),
            (None, false) => "the page may be framed by any site (clickjacking)".into(),
        },
    ));
    let xcto = page.header("x-content-type-options");
    out.push(check(
        "x-content-type-options",
        xcto.is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff")),
        xcto.map_or("no X-Content-Type-Options header".into(), |v| {
            format!("X-Content-Type-Options: {v}")
        }),
    ));
    let referrer = page.header("referrer-policy");
    let private = [
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ];
    out.push(check(
        "referrer-policy",
        referrer.is_some_and(|v| {
            v.split(',')
                .any(|p| private.contains(&p.trim().to_ascii_lowercase().as_str()))
        }),
        referrer.map_or("no Referrer-Policy header".into(), |v| {
            format!("Referrer-Policy: {v}")
        }),
    ));
    for cookie in page.all("set-cookie") {
        let name = cookie.split('=').next().unwrap_or("").trim().to_owned();
        let attrs = cookie.to_ascii_lowercase();
        let missing: Vec<&str> = [
            (
                attrs.contains("; secure") || attrs.contains(";secure"),
                "Secure",
            ),
            (attrs.contains("httponly"), "HttpOnly"),
            (attrs.contains("samesite"), "SameSite"),
        ]
        .iter()
        .filter(|(present, _)| !present)
        .map(|(_, n)| *n)
        .collect();
        out.push(check(
            "cookies",
            missing.is_empty() && https,
            if missing.is_empty() {
                format!("cookie {name}: Secure, HttpOnly, SameSite")
            } else {
                format!("cookie {name} lacks {}", missing.join(", "))
            },
        ));
    }
    for name in ["server", "x-powered-by", "x-aspnet-version"] {
        if let Some(v) = page.header(name)
            && v.chars().any(|c| c.is_ascii_digit())
        {
            out.push(Check {
                check: "software-disclosure",
                result: "info",
                detail: format!("{name}: {v}"),
            });
        }
    }
    out
}

/// The `src` of every `<script>` of the page, made absolute against the page's URL.
pub fn script_urls(page: &Page) -> Vec<String> {
    let lower = page.body.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<script") {
        let start = from + i;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &page.body[start..end];
        let tag_lower = &lower[start..end];
        if let Some(s) = tag_lower.find("src=") {
            let rest = &tag[s + 4..];
            let src = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest.split([' ', '>']).next().unwrap_or(""),
            };
            if !src.is_empty() {
                out.push(absolute(&page.url, src));
            }
        }
        from = end;
    }
    out
}

fn absolute(base: &str, src: &str) -> String {
    if src.starts_with("http://") || src.starts_with("https://") {
        return src.to_owned();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let origin_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    if let Some(rest) = src.strip_prefix("//") {
        return format!("{}{rest}", &base[..scheme_end]);
    }
    if src.starts_with('/') {
        return format!("{}{src}", &base[..origin_end]);
    }
    let dir_end = base
        .rfind('/')
        .filter(|&i| i >= origin_end)
        .map_or(base.len(), |i| i + 1);
    let dir = if dir_end > base.len() {
        base.to_owned()
    } else {
        base[..dir_end].to_owned()
    };
    if dir.ends_with('/') {
        format!("{dir}{src}")
    } else {
        format!("{dir}/{src}")
    }
}

/// A JavaScript library a page loads, with its known vulnerabilities.
#[derive(Clone, Debug, Serialize)]
pub struct ScriptFinding {
    pub url: String,
    pub library: String,
    pub version: String,
    pub vulnerabilities: Vec<crate::retire::RetireVuln>,
}

/// The libraries the page's scripts are, by URL, with their vulnerabilities.
pub fn script_findings(page: &Page, repo: &RetireRepo) -> Vec<ScriptFinding> {
    let mut out = Vec::new();
    for url in script_urls(page) {
        for d in repo.detect_url(&url) {
            out.push(ScriptFinding {
                vulnerabilities: repo
                    .vulnerabilities(&d.library, &d.version)
                    .into_iter()
                    .cloned()
                    .collect(),
                url: url.clone(),
                library: d.library,
                version: d.version,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_sources_are_made_absolute() {
        let page = Page {
            url: "http://127.0.0.1:8080/app/index.html".into(),
            status: 200,
            headers: vec![],
            body: r#"<SCRIPT src="/js/a.js"></script><script type=module src='b.js'></script><script>inline()</script><script src=//cdn.example/c.js></script>"#.into(),
        };
        assert_eq!(
            script_urls(&page),
            [
                "http://127.0.0.1:8080/js/a.js",
                "http://127.0.0.1:8080/app/b.js",
                "http://cdn.example/c.js"
            ]
        );
    }
}
