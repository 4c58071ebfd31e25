//! The MDN HTTP Observatory's twelve tests and its score (algorithm version 6), written
//! for Haechi from the Observatory's published behaviour: Content-Security-Policy,
//! cookies, CORS, redirection, Referrer-Policy, HSTS, Subresource Integrity,
//! X-Content-Type-Options, X-Frame-Options, and the three cross-origin policies. Each
//! test gives one of the Observatory's result names with its score modifier; the score
//! is 100 plus the modifiers, the positive ones only when the negative ones leave at
//! least 90, graded A+ to F. Checked against the Observatory's own captured responses of
//! two real sites (B 75 and A+ 110).
//!
//! Deviations, all documented: no HSTS preload list ships with Haechi, so no host is
//! "preloaded"; CSP sources are sorted by code point (the Observatory uses ICU's English
//! collation, which differs only in rare punctuation cases); registrable domains come
//! from the `psl` crate's list with its private section (the Observatory uses the ICANN
//! section only).

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One HTTP response as the tests see it.
#[derive(Clone, Debug, Default)]
pub struct Response {
    /// Header names in lower case; repeated headers as separate entries.
    pub headers: Vec<(String, String)>,
    pub status: u16,
    /// TLS verification succeeded (always true over plain HTTP).
    pub verified: bool,
    pub body: String,
    /// `<meta http-equiv>` content by header name (lower case).
    pub http_equiv: BTreeMap<String, Vec<String>>,
}

impl Response {
    /// Every value of a header, repeated headers joined with `", "` (as Node joins them),
    /// except `set-cookie` (kept apart) and `content-type` (the first only).
    pub fn values(&self, name: &str) -> Vec<String> {
        let all: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        if all.is_empty() {
            return Vec::new();
        }
        match name {
            "set-cookie" => all.into_iter().map(str::to_owned).collect(),
            "content-type" => vec![all[0].to_owned()],
            _ => vec![all.join(", ")],
        }
    }

    fn first(&self, name: &str) -> Option<String> {
        self.values(name).into_iter().next()
    }

    /// The first value if it is not empty.
    fn first_nonempty(&self, name: &str) -> Option<String> {
        self.first(name).filter(|v| !v.is_empty())
    }
}

/// Everything one scan gathered.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    pub hostname: String,
    /// The scan started at an https URL (the primary session).
    pub session_https: bool,
    /// The primary response: the https session's final response, else the http one's.
    pub auto: Option<Response>,
    pub http: Option<Response>,
    pub https: Option<Response>,
    /// The CORS preflight's answer (2xx only).
    pub cors: Option<Response>,
    /// The http session's redirect chain: every URL requested, the final one included.
    pub http_redirects: Vec<String>,
}

/// One test's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct TestResult {
    pub test: &'static str,
    pub result: &'static str,
    pub modifier: i32,
    pub pass: bool,
}

/// The score.
#[derive(Clone, Debug, Serialize)]
pub struct Grade {
    pub score: i32,
    pub grade: &'static str,
    pub passed: usize,
    pub failed: usize,
    pub tests: Vec<TestResult>,
}

/// The score modifier of a result.
pub fn modifier(result: &str) -> i32 {
    match result {
        "csp-implemented-with-no-unsafe-default-src-none" => 10,
        "csp-implemented-with-no-unsafe" => 5,
        "csp-implemented-with-insecure-scheme-in-passive-content-only"
        | "csp-implemented-with-unsafe-eval" => -10,
        "csp-implemented-with-unsafe-inline" | "csp-implemented-with-insecure-scheme" => -20,
        "csp-header-invalid"
        | "csp-not-implemented"
        | "csp-not-implemented-but-reporting-enabled" => -25,
        "cookies-secure-with-httponly-sessions-and-samesite" => 5,
        "cookies-without-secure-flag-but-protected-by-hsts" => -5,
        "cookies-session-without-secure-flag-but-protected-by-hsts" => -10,
        "cookies-without-secure-flag"
        | "cookies-samesite-flag-invalid"
        | "cookies-anticsrf-without-samesite-flag" => -20,
        "cookies-session-without-httponly-flag" => -30,
        "cookies-session-without-secure-flag" => -40,
        "cross-origin-resource-sharing-implemented-with-universal-access" => -50,
        "redirection-off-host-from-http" => -5,
        "redirection-not-to-https-on-initial-redirection" => -10,
        "redirection-not-to-https" | "redirection-missing" | "redirection-invalid-cert" => -20,
        "referrer-policy-private" => 5,
        "referrer-policy-unsafe" | "referrer-policy-header-invalid" => -5,
        "hsts-preloaded" => 5,
        "hsts-implemented-max-age-less-than-six-months" => -10,
        "hsts-not-implemented"
        | "hsts-header-invalid"
        | "hsts-not-implemented-no-https"
        | "hsts-invalid-cert" => -20,
        "sri-implemented-and-all-scripts-loaded-securely"
        | "sri-implemented-and-external-scripts-loaded-securely" => 5,
        "sri-not-implemented-but-external-scripts-loaded-securely" => -5,
        "sri-implemented-but-external-scripts-not-loaded-securely" => -20,
        "sri-not-implemented-and-external-scripts-not-loaded-securely" => -50,
        "x-content-type-options-not-implemented" | "x-content-type-options-header-invalid" => -5,
        "x-frame-options-implemented-via-csp" | "x-frame-options-sameorigin-or-deny" => 5,
        "x-frame-options-not-implemented" | "x-frame-options-header-invalid" => -20,
        "corp-implemented-with-same-origin" | "corp-implemented-with-same-site" => 10,
        "coep-implemented-with-require-corp" | "coep-implemented-with-credentialless" => 10,
        "coop-implemented-with-same-origin"
        | "coop-implemented-with-same-origin-allow-popups"
        | "coop-implemented-with-noopener-allow-popups" => 10,
        "corp-header-invalid" | "coep-header-invalid" | "coop-header-invalid" => -5,
        "html-not-parseable" => -20,
        _ => 0,
    }
}

fn result(test: &'static str, result: &'static str, pass: bool) -> TestResult {
    TestResult {
        test,
        result,
        modifier: modifier(result),
        pass,
    }
}

/// Runs the twelve tests and scores them.
pub fn grade(scan: &Scan) -> Grade {
    let hsts = strict_transport_security(scan);
    let (csp, csp_data) = content_security_policy(scan);
    let tests = vec![
        csp,
        cookies(scan, hsts.pass),
        cors(scan),
        redirection(scan),
        referrer_policy(scan),
        hsts,
        subresource_integrity(scan),
        x_content_type_options(scan),
        x_frame_options(scan, csp_data.as_ref()),
        cross_origin_resource_policy(scan),
        cross_origin_opener_policy(scan),
        cross_origin_embedder_policy(scan),
    ];
    let full: i32 = 100 + tests.iter().map(|t| t.modifier).sum::<i32>();
    let base: i32 = 100 + tests.iter().map(|t| t.modifier.min(0)).sum::<i32>();
    let score = if base >= 90 { full } else { base }.max(0);
    let passed = tests.iter().filter(|t| t.pass).count();
    Grade {
        score,
        grade: letter(score),
        passed,
        failed: tests.len() - passed,
        tests,
    }
}

/// The grade chart.
pub fn letter(score: i32) -> &'static str {
    match (score - score.rem_euclid(5)).min(100) {
        100 => "A+",
        90 | 95 => "A",
        85 => "A-",
        80 => "B+",
        70 | 75 => "B",
        65 => "B-",
        60 => "C+",
        50 | 55 => "C",
        45 => "C-",
        40 => "D+",
        30 | 35 => "D",
        25 => "D-",
        _ => "F",
    }
}

// ---- Content-Security-Policy -------------------------------------------------------------

const BROAD: &[&str] = &[
    "ftp:",
    "http:",
    "https:",
    "*",
    "http://*",
    "http://*.*",
    "https://*",
    "https://*.*",
];

fn broad_plus(s: &str) -> bool {
    BROAD.contains(&s) || s == "'unsafe-inline'" || s == "data:"
}

fn nonce_or_hash(s: &str) -> bool {
    ["'sha256-", "'sha384-", "'sha512-", "'nonce-"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// A parsed policy: directive → sources, and whether a report directive was repeated.
#[derive(Debug, Default)]
struct Policy {
    directives: BTreeMap<String, BTreeSet<String>>,
    duplicate_reports: bool,
}

impl Policy {
    fn size(&self) -> usize {
        self.directives.len() + usize::from(self.duplicate_reports)
    }
}

#[derive(Clone, Debug)]
struct Token {
    value: String,
    policy: usize,
    keep: bool,
}

/// Whether source path `a` covers `b` (piece by piece, percent-decoded).
fn path_match(a: &str, b: &str) -> Result<bool, ()> {
    if a.is_empty() || (a == "/" && b.is_empty()) {
        return Ok(true);
    }
    let exact = !a.ends_with('/');
    let mut pa: Vec<&str> = a.split('/').collect();
    let pb: Vec<&str> = b.split('/').collect();
    if pa.len() > pb.len() || (exact && pa.len() != pb.len()) {
        return Ok(false);
    }
    if !exact {
        pa.pop();
    }
    for (x, y) in pa.iter().zip(&pb) {
        if percent_decode(x)? != percent_decode(y)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or(())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// Parses policies the Observatory's way: the first policy's sources, narrowed by the
/// later ones. `Err` for an invalid policy.
fn parse_policies(list: &[String]) -> Result<Policy, ()> {
    let cleaned: Vec<String> = list
        .iter()
        .map(|p| p.replace(['\r', '\n'], "").trim().to_owned())
        .collect();
    if cleaned.is_empty() {
        return Ok(Policy::default());
    }
    if cleaned.iter().any(|p| p.chars().count() < 6) {
        return Err(());
    }
    let mut stored: BTreeMap<String, Vec<Token>> = BTreeMap::new();
    let mut duplicate_reports = false;
    for (p, policy) in cleaned.iter().enumerate() {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for piece in policy.split(';') {
            let mut words = piece.split_whitespace();
            let Some(first) = words.next() else {
                continue;
            };
            let name = first.to_lowercase();
            if !seen.insert(name.clone()) {
                if name == "report-uri" || name == "report-to" {
                    duplicate_reports = true;
                } else {
                    return Err(());
                }
            }
            let mut new: Vec<Token> = words
                .map(|w| Token {
                    value: w.trim().to_lowercase(),
                    policy: p,
                    keep: p == 0,
                })
                .collect();
            if new.is_empty() && name.ends_with("-src") {
                new.push(Token {
                    value: "'none'".into(),
                    policy: p,
                    keep: p == 0,
                });
            }
            let mut candidates: Vec<Token> = if p == 0 {
                new
            } else {
                let mut c = stored.get(&name).cloned().unwrap_or_default();
                c.extend(new);
                c
            };
            candidates.sort_by(|a, b| a.value.cmp(&b.value));
            for i in 1..candidates.len() {
                let (prev, cur) = (candidates[i - 1].clone(), &mut candidates[i]);
                if prev.policy == cur.policy {
                    if cur.value.starts_with(&prev.value) {
                        cur.keep = false;
                    }
                } else if path_match(&prev.value, &cur.value)? {
                    cur.keep = true;
                }
            }
            let mut kept: Vec<Token> = candidates.into_iter().filter(|t| t.keep).collect();
            if p == 0 && cleaned.len() > 1 {
                for t in &mut kept {
                    t.keep = false;
                }
            }
            stored.insert(name, kept);
        }
    }
    let directives = stored
        .into_iter()
        .map(|(name, tokens)| {
            let set: BTreeSet<String> = tokens.into_iter().map(|t| t.value).collect();
            let set = if set.is_empty() {
                BTreeSet::from(["'none'".to_owned()])
            } else {
                set
            };
            (name, set)
        })
        .collect();
    Ok(Policy {
        directives,
        duplicate_reports,
    })
}

/// The CSP test, and the directives it ended with (for the X-Frame-Options test).
fn content_security_policy(
    scan: &Scan,
) -> (TestResult, Option<BTreeMap<String, BTreeSet<String>>>) {
    const T: &str = "content-security-policy";
    let Some(auto) = &scan.auto else {
        return (result(T, "csp-not-implemented", false), None);
    };
    let split = |values: &[String]| -> Vec<String> {
        values
            .iter()
            .flat_map(|v| v.split(',').map(|p| p.trim().to_owned()))
            .collect()
    };
    let header = split(&auto.values("content-security-policy"));
    let meta = split(
        auto.http_equiv
            .get("content-security-policy")
            .map(Vec::as_slice)
            .unwrap_or(&[]),
    );
    let all: Vec<String> = header.iter().chain(&meta).cloned().collect();
    let Ok(mut csp) = parse_policies(&all) else {
        return (result(T, "csp-header-invalid", false), None);
    };
    let header_only = parse_policies(&header).unwrap_or_default();
    let mut meta_only = parse_policies(&meta).unwrap_or_default();
    for d in ["frame-ancestors", "report-uri", "sandbox"] {
        meta_only.directives.remove(d);
    }
    if header_only.size() + meta_only.size() == 0 {
        let reporting = auto
            .first("content-security-policy-report-only")
            .is_some_and(|v| !v.is_empty());
        let r = if reporting {
            "csp-not-implemented-but-reporting-enabled"
        } else {
            "csp-not-implemented"
        };
        return (result(T, r, false), None);
    }
    let d = &mut csp.directives;
    // The effective sets are the stored directives themselves: edits show everywhere.
    let key = |d: &BTreeMap<String, BTreeSet<String>>, name: &str| -> Option<String> {
        if d.contains_key(name) {
            Some(name.to_owned())
        } else if d.contains_key("default-src") {
            Some("default-src".to_owned())
        } else {
            None
        }
    };
    let script_key = key(d, "script-src");
    let style_key = key(d, "style-src");
    let object_key = key(d, "object-src");
    for k in [&script_key, &style_key].into_iter().flatten() {
        let set = d.get_mut(k).expect("key exists");
        if set.iter().any(|s| nonce_or_hash(s)) {
            set.remove("'unsafe-inline'");
        }
    }
    let mut invalid = false;
    if let Some(k) = &script_key {
        let set = d.get_mut(k).expect("key exists");
        let dynamic = set.contains("'strict-dynamic'");
        if dynamic && set.iter().any(|s| nonce_or_hash(s)) {
            set.retain(|s| {
                !(["ftp:", "http:", "https:", "*"]
                    .iter()
                    .any(|p| s.starts_with(p))
                    || s == "'self'"
                    || s == "'unsafe-inline'")
            });
        } else if dynamic {
            invalid = true;
        }
    }
    let star = BTreeSet::from(["*".to_owned()]);
    let get = |k: &Option<String>| -> BTreeSet<String> {
        k.as_ref()
            .and_then(|k| d.get(k))
            .cloned()
            .unwrap_or_else(|| star.clone())
    };
    let (script, style, object) = (get(&script_key), get(&style_key), get(&object_key));
    let mut active: Vec<&String> = d
        .iter()
        .filter(|(n, _)| !matches!(n.as_str(), "img-src" | "media-src" | "script-src"))
        .flat_map(|(_, s)| s)
        .collect();
    active.extend(script.iter());
    let mut passive: Vec<&String> = Vec::new();
    for p in ["img-src", "media-src"] {
        if let Some(s) = d.get(p).or_else(|| d.get("default-src")) {
            passive.extend(s);
        }
    }
    let insecure = |s: &&String| s.starts_with("http:") || s.starts_with("ftp:");
    let outcome = if invalid {
        "csp-header-invalid"
    } else if script.iter().any(|s| broad_plus(s))
        || object.iter().any(|s| BROAD.contains(&s.as_str()))
    {
        "csp-implemented-with-unsafe-inline"
    } else if scan.session_https && active.iter().any(insecure) {
        "csp-implemented-with-insecure-scheme"
    } else if script.contains("'unsafe-eval'") || style.contains("'unsafe-eval'") {
        "csp-implemented-with-unsafe-eval"
    } else if scan.session_https && passive.iter().any(insecure) {
        "csp-implemented-with-insecure-scheme-in-passive-content-only"
    } else if style.iter().any(|s| broad_plus(s)) {
        "csp-implemented-with-unsafe-inline-in-style-src-only"
    } else if d
        .get("default-src")
        .is_some_and(|s| s.len() == 1 && s.contains("'none'"))
    {
        "csp-implemented-with-no-unsafe-default-src-none"
    } else {
        "csp-implemented-with-no-unsafe"
    };
    let pass = matches!(
        outcome,
        "csp-implemented-with-no-unsafe"
            | "csp-implemented-with-no-unsafe-default-src-none"
            | "csp-implemented-with-unsafe-inline-in-style-src-only"
            | "csp-implemented-with-insecure-scheme-in-passive-content-only"
    );
    let outcome = if pass && csp.duplicate_reports {
        "csp-implemented-but-duplicate-directives"
    } else {
        outcome
    };
    let data = if outcome == "csp-header-invalid" {
        None
    } else {
        Some(csp.directives)
    };
    (result(T, outcome, pass), data)
}

// ---- cookies ------------------------------------------------------------------------------

const COOKIE_ORDER: &[&str] = &[
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
];

/// Keeps the worse of the current and the new result, by `order`.
fn worse(current: &mut Option<&'static str>, new: &'static str, order: &[&str]) {
    let pos = |r: &str| order.iter().position(|o| *o == r).map_or(-1, |p| p as i64);
    if current.is_none_or(|c| pos(new) > pos(c)) {
        *current = Some(new);
    }
}

/// A cookie the response sets (RFC 6265 attributes; an unknown SameSite is none).
#[derive(Debug)]
struct Cookie {
    name: String,
    secure: bool,
    http_only: bool,
    same_site: Option<String>,
}

fn parse_cookie(header: &str) -> Option<Cookie> {
    let mut parts = header.split(';');
    let (name, _) = parts.next()?.split_once('=')?;
    let name = name.trim().to_owned();
    let mut c = Cookie {
        name,
        secure: false,
        http_only: false,
        same_site: None,
    };
    for attr in parts {
        let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
        match k.trim().to_ascii_lowercase().as_str() {
            "secure" => c.secure = true,
            "httponly" => c.http_only = true,
            "samesite" => {
                let v = v.trim().to_ascii_lowercase();
                if matches!(v.as_str(), "strict" | "lax" | "none") {
                    c.same_site = Some(v);
                }
            }
            _ => {}
        }
    }
    Some(c)
}

fn cookies(scan: &Scan, hsts: bool) -> TestResult {
    const T: &str = "cookies";
    let set_cookie = scan
        .auto
        .as_ref()
        .map(|a| a.values("set-cookie"))
        .unwrap_or_default();
    let mut r: Option<&'static str> = None;
    for header in &set_cookie {
        for part in header.split(';') {
            let mut kv = part.trim().split('=');
            let key = kv.next().unwrap_or("").trim().to_lowercase();
            let value = kv.next();
            if key == "samesite"
                && value.is_none_or(|v| {
                    !matches!(v.trim().to_lowercase().as_str(), "lax" | "strict" | "none")
                })
            {
                worse(&mut r, "cookies-samesite-flag-invalid", COOKIE_ORDER);
            }
        }
    }
    let jar: Vec<Cookie> = set_cookie
        .iter()
        .filter_map(|h| parse_cookie(h))
        .filter(|c| !c.name.is_empty() && c.name != "heroku-session-affinity")
        .collect();
    if jar.is_empty() {
        return result(T, "cookies-not-found", true);
    }
    let mut missing_same_site = false;
    for c in &jar {
        let lower = c.name.to_lowercase();
        let session = lower.contains("login") || lower.contains("sess");
        let anticsrf = lower.contains("csrf");
        if !c.secure && c.same_site.as_deref() == Some("none") {
            worse(&mut r, "cookies-samesite-flag-invalid", COOKIE_ORDER);
        }
        if !c.secure {
            worse(
                &mut r,
                if hsts {
                    "cookies-without-secure-flag-but-protected-by-hsts"
                } else {
                    "cookies-without-secure-flag"
                },
                COOKIE_ORDER,
            );
        }
        if anticsrf && c.same_site.is_none() {
            worse(
                &mut r,
                "cookies-anticsrf-without-samesite-flag",
                COOKIE_ORDER,
            );
        }
        if session && !c.secure {
            worse(
                &mut r,
                if hsts {
                    "cookies-session-without-secure-flag-but-protected-by-hsts"
                } else {
                    "cookies-session-without-secure-flag"
                },
                COOKIE_ORDER,
            );
        }
        if session && !c.http_only {
            worse(
                &mut r,
                "cookies-session-without-httponly-flag",
                COOKIE_ORDER,
            );
        }
        missing_same_site |= c.same_site.is_none();
    }
    let outcome = r.unwrap_or(if missing_same_site {
        "cookies-secure-with-httponly-sessions"
    } else {
        "cookies-secure-with-httponly-sessions-and-samesite"
    });
    result(
        T,
        outcome,
        matches!(
            outcome,
            "cookies-secure-with-httponly-sessions"
                | "cookies-secure-with-httponly-sessions-and-samesite"
        ),
    )
}

// ---- the other headers ----------------------------------------------------------------------

fn cors(scan: &Scan) -> TestResult {
    const T: &str = "cross-origin-resource-sharing";
    let acao = scan
        .cors
        .as_ref()
        .and_then(|c| c.first_nonempty("access-control-allow-origin"));
    let outcome = match acao {
        None => "cross-origin-resource-sharing-not-implemented",
        Some(v) => {
            let v: String = v
                .chars()
                .take(256)
                .collect::<String>()
                .trim()
                .to_lowercase();
            if v == "*" {
                "cross-origin-resource-sharing-implemented-with-public-access"
            } else if v == PREFLIGHT_ORIGIN
                && scan
                    .cors
                    .as_ref()
                    .and_then(|c| c.first("access-control-allow-credentials"))
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("true"))
            {
                "cross-origin-resource-sharing-implemented-with-universal-access"
            } else {
                "cross-origin-resource-sharing-implemented-with-restricted-access"
            }
        }
    };
    result(
        T,
        outcome,
        outcome != "cross-origin-resource-sharing-implemented-with-universal-access",
    )
}

/// The Origin the preflight sends: a site that echoes it with credentials allowed lets
/// any origin read it.
pub const PREFLIGHT_ORIGIN: &str = "https://http-observatory.security.mozilla.org";

fn scheme_host(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    (scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
}

fn redirection(scan: &Scan) -> TestResult {
    const T: &str = "redirection";
    let outcome = match &scan.http {
        None => "redirection-not-needed-no-http",
        Some(h) if !h.verified => "redirection-invalid-cert",
        Some(_) => {
            let route = &scan.http_redirects;
            // No preload list: only an empty route counts as "all preloaded".
            if route.is_empty() {
                "redirection-all-redirects-preloaded"
            } else if route.len() == 1 {
                "redirection-missing"
            } else if scheme_host(route.last().expect("non-empty")).0 != "https" {
                "redirection-not-to-https"
            } else if scheme_host(&route[1]).0 == "http" {
                "redirection-not-to-https-on-initial-redirection"
            } else {
                let (s0, h0) = scheme_host(&route[0]);
                let (s1, h1) = scheme_host(&route[1]);
                if s0 == "http" && s1 == "https" && h0 != h1 {
                    "redirection-off-host-from-http"
                } else {
                    "redirection-to-https"
                }
            }
        }
    };
    result(
        T,
        outcome,
        matches!(
            outcome,
            "redirection-not-needed-no-http"
                | "redirection-all-redirects-preloaded"
                | "redirection-to-https"
        ),
    )
}

fn referrer_policy(scan: &Scan) -> TestResult {
    const T: &str = "referrer-policy";
    const GOOD: &[&str] = &[
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ];
    const BAD: &[&str] = &[
        "origin",
        "origin-when-cross-origin",
        "unsafe-url",
        "no-referrer-when-downgrade",
    ];
    let (header, meta) = match &scan.auto {
        Some(a) => (
            a.values("referrer-policy"),
            a.http_equiv
                .get("referrer-policy")
                .cloned()
                .unwrap_or_default(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    if header.is_empty() && meta.is_empty() {
        return result(T, "referrer-policy-not-implemented", true);
    }
    let joined = header
        .iter()
        .chain(&meta)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let policy = joined
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .rfind(|t| GOOD.contains(&t.as_str()) || BAD.contains(&t.as_str()))
        .unwrap_or_default();
    let outcome = if GOOD.contains(&policy.as_str()) {
        "referrer-policy-private"
    } else if BAD.contains(&policy.as_str()) {
        "referrer-policy-unsafe"
    } else {
        "referrer-policy-header-invalid"
    };
    result(T, outcome, outcome == "referrer-policy-private")
}

/// JavaScript's `parseInt`: leading spaces and a sign, then digits; `None` for NaN.
fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let v: i64 = n.get(..18).unwrap_or(&n).parse().ok()?;
    Some(if neg { -v } else { v })
}

fn strict_transport_security(scan: &Scan) -> TestResult {
    const T: &str = "strict-transport-security";
    let outcome = match &scan.https {
        None => "hsts-not-implemented-no-https",
        Some(h) if !h.verified => "hsts-invalid-cert",
        Some(h) => match h.first("strict-transport-security") {
            None => "hsts-not-implemented",
            Some(v) => {
                let v: String = v.chars().take(1024).collect();
                if v.contains(',') {
                    "hsts-header-invalid"
                } else {
                    // `Some(None)`: a max-age that is not a number (counted as long enough).
                    let mut max_age: Option<Option<i64>> = None;
                    for p in v.split(';') {
                        let p = p.trim().to_lowercase();
                        if let Some(n) = p.strip_prefix("max-age=") {
                            max_age = Some(parse_int(n));
                        }
                    }
                    match max_age {
                        None => "hsts-header-invalid",
                        Some(Some(n)) if n < 15_552_000 => {
                            "hsts-implemented-max-age-less-than-six-months"
                        }
                        Some(_) => "hsts-implemented-max-age-at-least-six-months",
                    }
                }
            }
        },
    };
    result(
        T,
        outcome,
        outcome == "hsts-implemented-max-age-at-least-six-months",
    )
}

fn x_content_type_options(scan: &Scan) -> TestResult {
    const T: &str = "x-content-type-options";
    let outcome = match scan
        .auto
        .as_ref()
        .and_then(|a| a.first_nonempty("x-content-type-options"))
    {
        None => "x-content-type-options-not-implemented",
        Some(v)
            if v.chars()
                .take(256)
                .collect::<String>()
                .trim()
                .eq_ignore_ascii_case("nosniff") =>
        {
            "x-content-type-options-nosniff"
        }
        Some(_) => "x-content-type-options-header-invalid",
    };
    result(T, outcome, outcome == "x-content-type-options-nosniff")
}

fn x_frame_options(scan: &Scan, csp: Option<&BTreeMap<String, BTreeSet<String>>>) -> TestResult {
    const T: &str = "x-frame-options";
    let mut outcome = match scan
        .auto
        .as_ref()
        .and_then(|a| a.first_nonempty("x-frame-options"))
    {
        None => "x-frame-options-not-implemented",
        Some(v) => {
            let v = v
                .chars()
                .take(1024)
                .collect::<String>()
                .trim()
                .to_lowercase();
            if v == "deny" || v == "sameorigin" {
                "x-frame-options-sameorigin-or-deny"
            } else if v.starts_with("allow-from") {
                "x-frame-options-allow-from-origin"
            } else {
                "x-frame-options-header-invalid"
            }
        }
    };
    if csp.is_some_and(|d| d.contains_key("frame-ancestors")) {
        outcome = "x-frame-options-implemented-via-csp";
    }
    result(
        T,
        outcome,
        matches!(
            outcome,
            "x-frame-options-implemented-via-csp"
                | "x-frame-options-sameorigin-or-deny"
                | "x-frame-options-allow-from-origin"
        ),
    )
}

fn cross_origin_resource_policy(scan: &Scan) -> TestResult {
    const T: &str = "cross-origin-resource-policy";
    let value = scan
        .auto
        .as_ref()
        .and_then(|a| a.first_nonempty("cross-origin-resource-policy"))
        .map(|v| {
            v.chars()
                .take(256)
                .collect::<String>()
                .trim()
                .to_lowercase()
        });
    let outcome = match value.as_deref() {
        None => "corp-not-implemented",
        Some("same-site") => "corp-implemented-with-same-site",
        Some("same-origin") => "corp-implemented-with-same-origin",
        Some("cross-origin") => "corp-implemented-with-cross-origin",
        Some(_) => "corp-header-invalid",
    };
    result(T, outcome, outcome != "corp-header-invalid")
}

/// An RFC 8941 Item whose bare item is a Token (parameters allowed and ignored).
fn structured_token(v: &str) -> Option<&str> {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let first = v.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '*') {
        return None;
    }
    let end = v
        .char_indices()
        .find(|(_, c)| !(tchar(*c) || *c == ':' || *c == '/'))
        .map_or(v.len(), |(i, _)| i);
    let (token, mut rest) = v.split_at(end);
    // Parameters: *( ";" *SP key [ "=" bare-item ] ).
    while !rest.is_empty() {
        rest = rest.strip_prefix(';')?.trim_start_matches(' ');
        let key_end = rest
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.*".contains(*c)))
            .map_or(rest.len(), |(i, _)| i);
        if key_end == 0 || !rest.starts_with(|c: char| c.is_ascii_lowercase() || c == '*') {
            return None;
        }
        rest = &rest[key_end..];
        if let Some(r) = rest.strip_prefix('=') {
            rest = skip_bare_item(r)?;
        }
    }
    Some(token)
}

fn skip_bare_item(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in r.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => return Some(&r[i + 1..]),
                _ => {}
            }
        }
        return None;
    }
    let end = s
        .char_indices()
        .find(|(_, c)| *c == ';')
        .map_or(s.len(), |(i, _)| i);
    let item = &s[..end];
    if item.is_empty() || item.contains(|c: char| c == ',' || c.is_whitespace()) {
        return None;
    }
    Some(&s[end..])
}

fn policy_header(scan: &Scan, name: &str) -> Result<Option<String>, ()> {
    let Some(a) = &scan.auto else {
        return Ok(None);
    };
    let values: Vec<&String> = a
        .headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect();
    if values.len() > 1 {
        return Err(());
    }
    Ok(values
        .first()
        .filter(|v| !v.is_empty())
        .map(|v| v.to_string()))
}

fn cross_origin_opener_policy(scan: &Scan) -> TestResult {
    const T: &str = "cross-origin-opener-policy";
    let outcome = match policy_header(scan, "cross-origin-opener-policy") {
        Err(()) => "coop-header-invalid",
        Ok(None) => "coop-not-implemented",
        Ok(Some(v)) => {
            let v: String = v.chars().take(1024).collect();
            match structured_token(v.trim()) {
                Some("same-origin") => "coop-implemented-with-same-origin",
                Some("same-origin-allow-popups") => {
                    "coop-implemented-with-same-origin-allow-popups"
                }
                Some("noopener-allow-popups") => "coop-implemented-with-noopener-allow-popups",
                Some("unsafe-none") => "coop-implemented-with-unsafe-none",
                _ => "coop-header-invalid",
            }
        }
    };
    result(T, outcome, outcome != "coop-header-invalid")
}

fn cross_origin_embedder_policy(scan: &Scan) -> TestResult {
    const T: &str = "cross-origin-embedder-policy";
    let outcome = match policy_header(scan, "cross-origin-embedder-policy") {
        Err(()) => "coep-header-invalid",
        Ok(None) => "coep-not-implemented",
        Ok(Some(v)) => {
            let v: String = v.chars().take(1024).collect();
            match structured_token(v.trim()) {
                Some("require-corp") => "coep-implemented-with-require-corp",
                Some("credentialless") => "coep-implemented-with-credentialless",
                Some("unsafe-none") => "coep-implemented-with-unsafe-none",
                _ => "coep-header-invalid",
            }
        }
    };
    result(T, outcome, outcome != "coep-header-invalid")
}

// ---- Subresource Integrity ---------------------------------------------------------------------

const SRI_ORDER: &[&str] = &[
    "sri-implemented-and-all-scripts-loaded-securely",
    "sri-implemented-and-external-scripts-loaded-securely",
    "sri-implemented-but-external-scripts-not-loaded-securely",
    "sri-not-implemented-but-external-scripts-loaded-securely",
    "sri-not-implemented-and-external-scripts-not-loaded-securely",
    "sri-not-implemented-response-not-html",
];

/// The registrable domain of a host by the Public Suffix List (`None` for addresses and
/// single labels).
fn registrable(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return None;
    }
    psl::domain_str(host).map(str::to_owned)
}

fn subresource_integrity(scan: &Scan) -> TestResult {
    const T: &str = "subresource-integrity";
    let Some(auto) = &scan.auto else {
        return result(T, "sri-not-implemented-but-no-scripts-loaded", false);
    };
    let mime = auto
        .first("content-type")
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
        .unwrap_or_default();
    if !mime.is_empty() && mime != "text/html" && mime != "application/xhtml+xml" {
        return result(T, "sri-not-implemented-response-not-html", true);
    }
    let scripts = html_tags(&auto.body, "script");
    let enforce = scan.http.is_none()
        || (scan.http_redirects.len() > 1
            && scan.http_redirects[1..]
                .iter()
                .all(|u| scheme_host(u).0 == "https"));
    let site = registrable(&scan.hostname.to_ascii_lowercase());
    let mut r: Option<&'static str> = None;
    let mut foreign = false;
    for attrs in &scripts {
        let Some(src) = attrs.get("src").filter(|s| !s.is_empty()) else {
            continue;
        };
        let integrity = attrs.get("integrity").is_some_and(|i| !i.is_empty());
        let protocol_relative =
            src.starts_with("//") && !src[2..].starts_with('/') && src.len() > 2;
        let full = src.starts_with("http://") || src.starts_with("https://");
        let same = if protocol_relative {
            registrable(&scheme_host(&format!("https:{src}")).1) == site
        } else if full {
            registrable(&scheme_host(src).1) == site
        } else {
            true
        };
        let relative = !protocol_relative && !full;
        let secure_origin = relative || same;
        let secure_scheme = (full && src.starts_with("https://"))
            || (relative && scan.session_https)
            || (protocol_relative && enforce);
        if !secure_origin {
            foreign = true;
            match (integrity, secure_scheme) {
                (true, false) => worse(
                    &mut r,
                    "sri-implemented-but-external-scripts-not-loaded-securely",
                    SRI_ORDER,
                ),
                (false, true) => worse(
                    &mut r,
                    "sri-not-implemented-but-external-scripts-loaded-securely",
                    SRI_ORDER,
                ),
                (false, false) => worse(
                    &mut r,
                    "sri-not-implemented-and-external-scripts-not-loaded-securely",
                    SRI_ORDER,
                ),
                (true, true) => {}
            }
        } else if integrity && secure_scheme && r.is_none() {
            r = Some("sri-implemented-and-all-scripts-loaded-securely");
        }
    }
    let outcome = if scripts.is_empty() {
        "sri-not-implemented-but-no-scripts-loaded"
    } else {
        r.unwrap_or(if foreign {
            "sri-implemented-and-external-scripts-loaded-securely"
        } else {
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
        })
    };
    result(
        T,
        outcome,
        matches!(
            outcome,
            "sri-implemented-and-all-scripts-loaded-securely"
                | "sri-implemented-and-external-scripts-loaded-securely"
                | "sri-not-implemented-response-not-html"
                | "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
                | "sri-not-implemented-but-no-scripts-loaded"
        ),
    )
}

// ---- HTML ----------------------------------------------------------------------------------

/// The attributes of every start tag named `wanted`, anywhere in the document, as a
/// streaming parser sees them: nothing inside comments or inside the raw text of
/// `<script>`, `<style>`, `<textarea>` and `<title>`; names lowercased, entities decoded,
/// the first of a repeated attribute kept.
pub fn html_tags(html: &str, wanted: &str) -> Vec<BTreeMap<String, String>> {
    let bytes = html.as_bytes();
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off;
        if html[start..].starts_with("<!--") {
            i = lower[start + 4..]
                .find("-->")
                .map_or(html.len(), |e| start + 4 + e + 3);
            continue;
        }
        let name_start = start + 1;
        let name_end = html[name_start..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .map_or(html.len(), |e| name_start + e);
        let name = &lower[name_start..name_end];
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            i = start + 1;
            continue;
        }
        let (attrs, tag_end) = attributes(html, bytes, name_end);
        if name == wanted {
            out.push(attrs);
        }
        i = tag_end;
        if matches!(name, "script" | "style" | "textarea" | "title") {
            let close = format!("</{name}");
            i = lower[i..].find(&close).map_or(html.len(), |e| i + e);
        }
    }
    out
}

/// Reads attributes from `from` to the end of the tag; returns them and where the tag ends.
fn attributes(html: &str, bytes: &[u8], mut i: usize) -> (BTreeMap<String, String>, usize) {
    let mut attrs = BTreeMap::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return (attrs, html.len());
        }
        if bytes[i] == b'>' {
            return (attrs, i + 1);
        }
        let name_start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
        {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let v_start = i + 1;
                let v_end = bytes[v_start..]
                    .iter()
                    .position(|b| *b == q)
                    .map_or(bytes.len(), |e| v_start + e);
                value = decode_entities(&html[v_start..v_end]);
                i = (v_end + 1).min(bytes.len());
            } else {
                let v_start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = decode_entities(&html[v_start..i]);
            }
        }
        if !name.is_empty() {
            attrs.entry(name).or_insert(value);
        }
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `<meta>` equivalents of headers: `http-equiv="Content-Security-Policy"` and
/// `name="referrer"`, read only from HTML responses.
pub fn http_equiv(content_type: Option<&str>, body: &str) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::from([("content-security-policy".to_owned(), Vec::new())]);
    let mime = content_type
        .map(|c| c.split(';').next().unwrap_or(""))
        .unwrap_or("");
    if !(mime == "text/html" || mime == "application/xhtml+xml") || body.is_empty() {
        return BTreeMap::new();
    }
    for meta in html_tags(body, "meta") {
        let content = meta.get("content").cloned().unwrap_or_default();
        if let (Some(equiv), Some(_)) = (meta.get("http-equiv"), meta.get("content")) {
            if equiv.trim().eq_ignore_ascii_case("content-security-policy") && !content.is_empty() {
                map.get_mut("content-security-policy")
                    .expect("present")
                    .push(content);
            }
        } else if meta
            .get("name")
            .is_some_and(|n| n.trim().eq_ignore_ascii_case("referrer"))
            && !content.is_empty()
        {
            map.insert("referrer-policy".into(), vec![content]);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            status: 200,
            verified: true,
            body: body.to_owned(),
            http_equiv: BTreeMap::new(),
        }
    }

    fn scan(headers: &[(&str, &str)], body: &str) -> Scan {
        let p = page(headers, body);
        Scan {
            hostname: "www.seoul.example".into(),
            session_https: true,
            auto: Some(p.clone()),
            http: Some(p.clone()),
            https: Some(p),
            cors: None,
            http_redirects: vec![
                "http://www.seoul.example/".into(),
                "https://www.seoul.example/".into(),
            ],
        }
    }

    fn outcome(g: &Grade, test: &str) -> &'static str {
        g.tests.iter().find(|t| t.test == test).unwrap().result
    }

    #[test]
    fn a_bare_site_scores_f_and_a_hardened_one_a_plus() {
        let bare = grade(&scan(&[("content-type", "text/html")], "<p>hi</p>"));
        assert_eq!(
            outcome(&bare, "content-security-policy"),
            "csp-not-implemented"
        );
        assert_eq!(
            outcome(&bare, "strict-transport-security"),
            "hsts-not-implemented"
        );
        assert_eq!(bare.score, 100 - 25 - 20 - 5 - 20);
        assert_eq!(bare.grade, "D");
        let hardened = grade(&scan(
            &[
                ("content-type", "text/html"),
                (
                    "content-security-policy",
                    "default-src 'none'; script-src 'self'; frame-ancestors 'none'",
                ),
                ("strict-transport-security", "max-age=63072000"),
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "no-referrer"),
                (
                    "cross-origin-opener-policy",
                    "same-origin; report-to=\"coop\"",
                ),
                ("set-cookie", "sessionid=1; Secure; HttpOnly; SameSite=Lax"),
            ],
            "<script src=\"/app.js\" integrity=\"sha384-x\"></script>",
        ));
        assert_eq!(
            outcome(&hardened, "content-security-policy"),
            "csp-implemented-with-no-unsafe-default-src-none"
        );
        assert_eq!(
            outcome(&hardened, "x-frame-options"),
            "x-frame-options-implemented-via-csp"
        );
        assert_eq!(
            outcome(&hardened, "cookies"),
            "cookies-secure-with-httponly-sessions-and-samesite"
        );
        assert_eq!(
            outcome(&hardened, "subresource-integrity"),
            "sri-implemented-and-all-scripts-loaded-securely"
        );
        assert_eq!(
            outcome(&hardened, "cross-origin-opener-policy"),
            "coop-implemented-with-same-origin"
        );
        assert_eq!(hardened.passed, 12);
        assert_eq!(hardened.score, 100 + 10 + 5 + 5 + 5 + 10 + 5);
        assert_eq!(hardened.grade, "A+");
    }

    #[test]
    fn insecure_sessions_and_external_scripts_are_penalised() {
        let g = grade(&scan(
            &[
                ("content-type", "text/html"),
                ("set-cookie", "PHPSESSID=1; path=/"),
            ],
            "<script src=\"http://cdn.other.example/lib.js\"></script><!-- <script src=\"x\"> -->",
        ));
        assert_eq!(
            outcome(&g, "cookies"),
            "cookies-session-without-secure-flag"
        );
        assert_eq!(
            outcome(&g, "subresource-integrity"),
            "sri-not-implemented-and-external-scripts-not-loaded-securely"
        );
        let g = grade(&scan(
            &[(
                "content-security-policy",
                "script-src 'self' 'strict-dynamic'",
            )],
            "",
        ));
        assert_eq!(outcome(&g, "content-security-policy"), "csp-header-invalid");
        let g = grade(&scan(
            &[(
                "content-security-policy",
                "default-src 'self'; img-src http://img.example",
            )],
            "",
        ));
        assert_eq!(
            outcome(&g, "content-security-policy"),
            "csp-implemented-with-insecure-scheme-in-passive-content-only"
        );
        assert!(g.tests[0].pass);
    }

    #[test]
    fn html_tags_skip_comments_and_raw_text() {
        let tags = html_tags(
            "<html><!-- <script src=a> --><script src='b&amp;c' SRC=x>var s = '<script src=d>';</script>\
             <SCRIPT integrity=z src=e></SCRIPT><meta http-equiv=Content-Security-Policy content=\"default-src 'none'\">",
            "script",
        );
        let srcs: Vec<&str> = tags.iter().map(|t| t["src"].as_str()).collect();
        assert_eq!(srcs, ["b&c", "e"]);
        let eq = http_equiv(
            Some("text/html; charset=utf-8"),
            "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'\"><meta name=referrer content=no-referrer>",
        );
        assert_eq!(eq["content-security-policy"], ["default-src 'none'"]);
        assert_eq!(eq["referrer-policy"], ["no-referrer"]);
    }
}
