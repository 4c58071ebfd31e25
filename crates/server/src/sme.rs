//! The SME self-assessment portal: a public page (no account) where a small company
//! answers Haechi's questionnaire ([`haechi_vuln::sme`]), uploads its SBOMs or lockfiles,
//! and gets a report it can print or save as PDF. Off unless `[sme] enabled = true`.
//!
//! * `GET /sme` — the questionnaire and the upload form (`sme.js`, `sme.css` from the
//!   console's embedded files with its icon, same strict Content-Security-Policy).
//! * `POST /sme/assess` — a JSON body `{"company", "contact", "exposure", "answers":
//!   {question: "yes"|"partly"|"no"|"dont-know"}, "files": [{"name", "content"}],
//!   "monitor": bool}`; answers `201 {"report": "/sme/report/ID", "overall": N}`.
//!   Rate-limited per client address (`429` with `Retry-After`), limited in body size,
//!   file count and file size; files are parsed (never executed) in a bounded worker
//!   pool with a time limit (`503` when every worker is busy).
//! * `GET /sme/report/{id}[?format=json]` — the report, print-ready HTML (or JSON).
//!
//! Nothing uploaded is written anywhere: the files live in memory for the time of the
//! assessment; the rendered report is kept in memory for `report_ttl_secs` (its id is
//! 256 random bits, the only key to it) and then forgotten. A company that opts in to
//! monitoring (`monitor: true` with a contact) has its inventory stored under the
//! `[sme] tenant` institution, system = company name, owner = contact, so that new
//! advisories reach it like any institution's; that storage is audited.

use crate::{AppState, error};
use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use haechi_access::AuditEntry;
use haechi_vuln::AdvisoryDb;
use haechi_vuln::inventory::Inventory;
use haechi_vuln::matcher::Matcher;
use haechi_vuln::sme::{Answer, Assessment, QUESTIONS};
use haechi_vuln::ssvc::Exposure;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// `[sme]`: the self-assessment portal.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmeConfig {
    /// Serve the portal (off by default: it is the one page without an account).
    pub enabled: bool,
    /// The institution that holds the inventories of companies that opt in to monitoring.
    pub tenant: String,
    /// Assessments one client address may run per hour.
    pub per_client_per_hour: u32,
    /// Assessments parsed at once; more wait up to 10 s, then get 503.
    pub workers: usize,
    /// Seconds one assessment may take.
    pub timeout_secs: u64,
    /// The largest request (all files and answers together), bytes.
    pub max_request_bytes: usize,
    /// The largest single file, bytes.
    pub max_file_bytes: usize,
    /// The most files in one assessment.
    pub max_files: usize,
    /// Seconds a report stays available.
    pub report_ttl_secs: u64,
    /// The most reports kept at once (the oldest go first).
    pub max_reports: usize,
}

impl Default for SmeConfig {
    fn default() -> Self {
        SmeConfig {
            enabled: false,
            tenant: "sme".into(),
            per_client_per_hour: 10,
            workers: 2,
            timeout_secs: 30,
            max_request_bytes: 8 * 1024 * 1024,
            max_file_bytes: 4 * 1024 * 1024,
            max_files: 10,
            report_ttl_secs: 3600,
            max_reports: 1000,
        }
    }
}

impl SmeConfig {
    /// Refuses settings that would switch a limit off.
    pub fn validate(&self) -> Result<(), String> {
        if !crate::valid_tenant(&self.tenant) {
            return Err(format!("sme.tenant '{}' is not a valid id", self.tenant));
        }
        let positive = [
            ("per_client_per_hour", self.per_client_per_hour as u64),
            ("workers", self.workers as u64),
            ("timeout_secs", self.timeout_secs),
            ("max_request_bytes", self.max_request_bytes as u64),
            ("max_file_bytes", self.max_file_bytes as u64),
            ("max_files", self.max_files as u64),
            ("report_ttl_secs", self.report_ttl_secs),
            ("max_reports", self.max_reports as u64),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(format!("sme.{name} must be at least 1"));
            }
        }
        if self.max_file_bytes > 64 * 1024 * 1024 || self.max_request_bytes > 256 * 1024 * 1024 {
            return Err("sme: files are limited to 64 MiB and requests to 256 MiB".into());
        }
        Ok(())
    }
}

/// The portal's state.
pub struct SmePortal {
    config: SmeConfig,
    db: Arc<AdvisoryDb>,
    /// Assessments per client address in the last hour.
    recent: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    workers: Arc<Semaphore>,
    reports: Mutex<Reports>,
    /// The compiled advisories, rebuilt when older than a minute.
    matcher: Mutex<Option<(Instant, Arc<Matcher>)>>,
}

#[derive(Default)]
struct Reports {
    by_id: HashMap<String, (Instant, Arc<Assessment>)>,
    order: VecDeque<String>,
}

impl SmePortal {
    pub fn new(config: SmeConfig, db: Arc<AdvisoryDb>) -> Arc<SmePortal> {
        Arc::new(SmePortal {
            workers: Arc::new(Semaphore::new(config.workers)),
            config,
            db,
            recent: Mutex::default(),
            reports: Mutex::default(),
            matcher: Mutex::default(),
        })
    }

    /// Counts one assessment for `client`; `Err(seconds to wait)` past the hourly limit.
    fn admit(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let hour = Duration::from_secs(3600);
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        // Forget idle clients now and then so the map stays small.
        if recent.len() > 10_000 {
            recent.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < hour));
        }
        let q = recent.entry(client).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= hour) {
            q.pop_front();
        }
        if q.len() >= self.config.per_client_per_hour as usize {
            let oldest = *q.front().expect("the limit is at least 1");
            return Err((hour - now.duration_since(oldest)).as_secs().max(1));
        }
        q.push_back(now);
        Ok(())
    }

    fn keep(&self, report: Assessment) -> String {
        let id = haechi_access::secret::random_token("");
        let now = Instant::now();
        let ttl = Duration::from_secs(self.config.report_ttl_secs);
        let mut r = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(old) = r.order.front() {
            let expired = r
                .by_id
                .get(old)
                .is_none_or(|(t, _)| now.duration_since(*t) >= ttl);
            if expired || r.order.len() >= self.config.max_reports {
                let old = r.order.pop_front().expect("front exists");
                r.by_id.remove(&old);
            } else {
                break;
            }
        }
        r.by_id.insert(id.clone(), (now, Arc::new(report)));
        r.order.push_back(id.clone());
        id
    }

    fn report(&self, id: &str) -> Option<Arc<Assessment>> {
        let ttl = Duration::from_secs(self.config.report_ttl_secs);
        let r = self.reports.lock().unwrap_or_else(|e| e.into_inner());
        r.by_id
            .get(id)
            .filter(|(t, _)| t.elapsed() < ttl)
            .map(|(_, a)| a.clone())
    }

    fn matcher(&self) -> Result<Arc<Matcher>, String> {
        let mut m = self.matcher.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, matcher)) = m.as_ref()
            && at.elapsed() < Duration::from_secs(60)
        {
            return Ok(matcher.clone());
        }
        let fresh = Arc::new(Matcher::new(self.db.snapshot().map_err(|e| e.to_string())?));
        *m = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    }
}

/// The portal's routes, with their own body limit.
pub fn routes(state: &AppState) -> axum::Router<AppState> {
    let limit = state
        .sme
        .as_ref()
        .map(|p| p.config.max_request_bytes)
        .unwrap_or(1024);
    axum::Router::new()
        .route("/sme", get(form))
        .route("/sme/{file}", get(file))
        .route("/sme/assess", post(assess))
        .route("/sme/report/{id}", get(report))
        .layer(axum::middleware::map_response(crate::json_rejections))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
}

fn off() -> Response {
    error(StatusCode::NOT_FOUND, "the self-assessment portal is off")
}

/// Headers of every portal page: the console's policy, no framing, no caching.
fn page(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    let mut r = (StatusCode::OK, body.into()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(haechi_console::CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn form(State(state): State<AppState>) -> Response {
    if state.sme.is_none() {
        return off();
    }
    page("text/html; charset=utf-8", render_form())
}

async fn file(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    if state.sme.is_none() {
        return off();
    }
    match name.as_str() {
        "sme.js" | "sme.css" | "favicon.svg" => match haechi_console::asset(&name) {
            Some(a) => page(a.content_type, a.body),
            None => off(),
        },
        _ => error(StatusCode::NOT_FOUND, "no such file"),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Submission {
    company: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    exposure: Option<String>,
    #[serde(default)]
    answers: BTreeMap<String, Answer>,
    #[serde(default)]
    files: Vec<Upload>,
    #[serde(default)]
    monitor: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Upload {
    name: String,
    content: String,
}

/// The client's address: the connection's peer (a reverse proxy in front makes every
/// client the proxy; run the portal's listener directly, or limit at the proxy).
fn client_of(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn bad(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn invalid(message: impl Into<String>) -> Failure {
    (StatusCode::BAD_REQUEST, message.into())
}

/// Checks a submission's fields and sizes; the files' text is checked by their readers.
fn check(sub: &Submission, config: &SmeConfig) -> Result<Exposure, Failure> {
    let company = sub.company.trim();
    if company.is_empty() || company.chars().count() > 100 || company.chars().any(char::is_control)
    {
        return Err(invalid("company: 1-100 characters, no control characters"));
    }
    if sub.contact.chars().count() > 200 || sub.contact.chars().any(char::is_control) {
        return Err(invalid(
            "contact: at most 200 characters, no control characters",
        ));
    }
    if sub.monitor && !sub.contact.contains('@') {
        return Err(invalid(
            "monitor: give a contact e-mail address to be told about new vulnerabilities",
        ));
    }
    haechi_vuln::sme::check_answers(&sub.answers).map_err(invalid)?;
    if sub.files.len() > config.max_files {
        return Err(invalid(format!(
            "files: at most {} per assessment",
            config.max_files
        )));
    }
    for f in &sub.files {
        if f.name.is_empty() || f.name.len() > 200 || f.name.contains(['/', '\\']) {
            return Err(invalid("files: each name is 1-200 characters, no folders"));
        }
        if f.content.len() > config.max_file_bytes {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "{}: over the limit of {} bytes per file",
                    f.name, config.max_file_bytes
                ),
            ));
        }
    }
    match sub.exposure.as_deref() {
        None => Ok(Exposure::InternetFacing),
        Some(e) => Exposure::parse(e)
            .ok_or_else(|| invalid("exposure: internet-facing, internal or unknown")),
    }
}

async fn assess(State(state): State<AppState>, request: Request) -> Response {
    let Some(portal) = state.sme.clone() else {
        return off();
    };
    let client = client_of(&request);
    if let Err(wait) = portal.admit(client, Instant::now()) {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "at most {} assessments per hour from one address; try again in {wait} s",
                portal.config.per_client_per_hour
            ),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return r;
    }
    let body =
        match axum::body::to_bytes(request.into_body(), portal.config.max_request_bytes).await {
            Ok(b) => b,
            Err(_) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the request is over {} bytes",
                        portal.config.max_request_bytes
                    ),
                );
            }
        };
    let sub: Submission = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return bad(format!("the request is not a valid submission: {e}")),
    };
    drop(body);
    let exposure = match check(&sub, &portal.config) {
        Ok(e) => e,
        Err((status, m)) => return error(status, m),
    };
    let permit = match tokio::time::timeout(
        Duration::from_secs(10),
        portal.workers.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(p)) => p,
        _ => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "every assessment worker is busy; try again in a minute",
            );
        }
    };
    let worker_portal = portal.clone();
    let job = tokio::task::spawn_blocking(move || {
        // The permit is held until the parse ends, even if the answer timed out.
        let _permit = permit;
        run_assessment(&worker_portal, sub, exposure)
    });
    let outcome =
        match tokio::time::timeout(Duration::from_secs(portal.config.timeout_secs), job).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            Err(_) => {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the assessment took over {} s; send fewer or smaller files",
                        portal.config.timeout_secs
                    ),
                );
            }
        };
    let (assessment, monitored) = match outcome {
        Ok(v) => v,
        Err((status, m)) => return error(status, m),
    };
    if let Some(entry) = monitored {
        let access = state.access.clone();
        if let Err(r) = crate::blocking(move || access.audit(&entry)).await {
            return r;
        }
    }
    let overall = assessment.overall;
    let id = portal.keep(assessment);
    (
        StatusCode::CREATED,
        Json(json!({ "report": format!("/sme/report/{id}"), "overall": overall })),
    )
        .into_response()
}

type Failure = (StatusCode, String);

/// Reads the files, scores the answers and, when asked, stores the inventory for
/// monitoring (the audit entry is returned for the caller to write).
fn run_assessment(
    portal: &SmePortal,
    sub: Submission,
    exposure: Exposure,
) -> Result<(Assessment, Option<AuditEntry>), Failure> {
    let mut inventories: Vec<Inventory> = Vec::with_capacity(sub.files.len());
    for f in &sub.files {
        let inv =
            haechi_vuln::inventory::read_text(&f.name, &f.name, &f.content).map_err(|reason| {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{}: {reason}", f.name),
                )
            })?;
        inventories.push(inv);
    }
    drop(sub.files);
    let matcher = portal
        .matcher()
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let company = sub.company.trim().to_owned();
    let assessment =
        haechi_vuln::sme::assess(&matcher, &company, &sub.answers, &inventories, exposure);
    let mut audit = None;
    if sub.monitor && !inventories.is_empty() {
        let tenant = &portal.config.tenant;
        let mut ids = Vec::new();
        for inv in &inventories {
            let stored = haechi_vuln::assets::store_and_match(
                &portal.db,
                &matcher,
                tenant,
                &company,
                exposure,
                &sub.contact,
                inv,
            )
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            ids.push(stored.id);
        }
        audit = Some(
            AuditEntry::new("sme-portal", "sme.monitor", format!("tenant:{tenant}")).after(
                json!({"company": company, "contact": sub.contact, "sboms": ids,
                       "files": inventories.iter().map(|i| &i.source).collect::<Vec<_>>()}),
            ),
        );
    }
    Ok((assessment, audit))
}

#[derive(serde::Deserialize)]
struct ReportParams {
    format: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<ReportParams>,
) -> Response {
    let Some(portal) = state.sme.clone() else {
        return off();
    };
    let Some(a) = portal.report(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            "no such report (reports are kept for a limited time)",
        );
    };
    match params.format.as_deref().unwrap_or("html") {
        "html" => page("text/html; charset=utf-8", render_report(&a)),
        "json" => {
            let mut r = Json(&*a).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        other => bad(format!("format '{other}': use html or json")),
    }
}

use crate::report::esc;

fn head(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"icon\" href=\"/sme/favicon.svg\">\
         <link rel=\"stylesheet\" href=\"/sme/sme.css\"></head><body>\n",
        esc(title)
    )
}

/// The questionnaire page, built from the catalog so the two never disagree.
pub fn render_form() -> String {
    let mut h = head("Security self-assessment for small companies");
    h.push_str(
        "<header><h1>Security self-assessment</h1><p>For small and medium companies: \
         answer 24 questions, add the SBOMs or lockfiles of your applications if you have them, \
         and get a report with your score per area, your software's known vulnerabilities and \
         what to do next. Your files are read, never run, and forgotten after the report \
         unless you ask to be monitored.</p></header>\n<form id=\"sme\" novalidate>\n\
         <fieldset><legend>Your company</legend>\
         <label>Company name <input name=\"company\" id=\"company\" required maxlength=\"100\"></label>\
         <label>Contact e-mail <input name=\"contact\" id=\"contact\" type=\"email\" maxlength=\"200\"></label>\
         <label>Are these applications reachable from the internet? <select id=\"exposure\">\
         <option value=\"internet-facing\">Yes, or I am not sure</option>\
         <option value=\"internal\">No, internal only</option></select></label></fieldset>\n",
    );
    for area in haechi_vuln::sme::Area::ALL {
        h.push_str(&format!(
            "<fieldset class=\"area\"><legend>{}</legend>\n",
            esc(area.title())
        ));
        for q in QUESTIONS.iter().filter(|q| q.area == area) {
            h.push_str(&format!(
                "<div class=\"question\" data-question=\"{id}\"><p>{text} \
                 <span class=\"ref\">ISMS-P {isms} · CIS {cis}</span></p>",
                id = q.id,
                text = esc(q.text),
                isms = q.isms,
                cis = q.cis
            ));
            for (value, label) in [
                ("yes", "Yes"),
                ("partly", "Partly"),
                ("no", "No"),
                ("dont-know", "Don't know"),
            ] {
                h.push_str(&format!(
                    "<label class=\"choice\"><input type=\"radio\" name=\"{id}\" value=\"{value}\"> {label}</label>",
                    id = q.id
                ));
            }
            h.push_str("</div>\n");
        }
        h.push_str("</fieldset>\n");
    }
    h.push_str(
        "<fieldset><legend>Your software (optional)</legend>\
         <p>CycloneDX or SPDX SBOMs, or lockfiles: Cargo.lock, package-lock.json, yarn.lock, \
         pnpm-lock.yaml, poetry.lock, Pipfile.lock, requirements.txt, go.mod, go.sum, \
         composer.lock, Gemfile.lock, pom.xml.</p>\
         <input type=\"file\" id=\"files\" multiple>\
         <label class=\"choice\"><input type=\"checkbox\" id=\"monitor\"> Keep my inventory and \
         tell my contact address when a new vulnerability affects it</label></fieldset>\n\
         <p><button type=\"submit\" id=\"submit\">Get my report</button></p>\
         <p id=\"status\" role=\"status\"></p>\n</form>\n\
         <script src=\"/sme/sme.js\"></script>\n</body></html>\n",
    );
    h
}

fn score_class(score: u32) -> &'static str {
    match score {
        80.. => "good",
        50..=79 => "fair",
        _ => "poor",
    }
}

/// The report: print-ready (the stylesheet has print rules; the browser's "Save as PDF"
/// gives the PDF).
pub fn render_report(a: &Assessment) -> String {
    let mut h = head(&format!("Security self-assessment: {}", a.company));
    h.push_str(&format!(
        "<header><h1>Security self-assessment</h1><p class=\"company\">{}</p>\
         <p class=\"overall {}\">Overall score <strong id=\"overall\">{}</strong> / 100</p>\
         <p class=\"noprint\"><button id=\"print\" type=\"button\">Print or save as PDF</button></p></header>\n",
        esc(&a.company),
        score_class(a.overall),
        a.overall
    ));
    if a.unanswered > 0 {
        h.push_str(&format!(
            "<p class=\"note\">{} question(s) were not answered and count as \"don't know\".</p>\n",
            a.unanswered
        ));
    }
    h.push_str("<section><h2>Score per area</h2><table id=\"areas\"><tr><th>Area</th><th>Score</th><th></th></tr>\n");
    for s in &a.areas {
        h.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td class=\"num\">{}</td><td><span class=\"bar\"><span class=\"fill w{}\"></span></span>{}</td></tr>\n",
            score_class(s.score),
            esc(s.title),
            s.score,
            s.score / 10 * 10,
            s.capped
                .as_deref()
                .map(|c| format!(" <span class=\"capped\">capped: {}</span>", esc(c)))
                .unwrap_or_default()
        ));
    }
    h.push_str("</table></section>\n<section><h2>What to do next</h2><ol id=\"steps\">\n");
    for s in &a.steps {
        h.push_str(&format!(
            "<li><span class=\"area-tag\">{}</span> {} <span class=\"ref\">ISMS-P {} · CIS {}</span></li>\n",
            esc(s.area.title()),
            esc(&s.advice),
            s.isms,
            s.cis
        ));
    }
    if a.steps.is_empty() {
        h.push_str("<li>Nothing: keep doing what you do, and assess again in a year.</li>\n");
    }
    h.push_str("</ol></section>\n<section><h2>Your software's known vulnerabilities</h2>\n");
    if a.files.is_empty() {
        h.push_str("<p>No files were given: add your SBOMs or lockfiles next time to have them checked.</p>\n");
    } else {
        h.push_str("<table id=\"files\"><tr><th>File</th><th>Format</th><th>Components</th><th>Not checked</th></tr>\n");
        for f in &a.files {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                esc(&f.name),
                esc(&f.format),
                f.components,
                f.skipped.len()
            ));
        }
        h.push_str(&format!(
            "</table>\n<p>{} finding(s) in {} component(s).</p>\n",
            a.findings.len(),
            a.summary.components_matched
        ));
        if !a.findings.is_empty() {
            h.push_str("<table id=\"findings\"><tr><th>Package</th><th>Version</th><th>Advisory</th><th>Priority</th><th>Fixed in</th></tr>\n");
            for f in &a.findings {
                let priority = if f.kev {
                    format!(
                        "<span class=\"kev\">known exploited</span> {}",
                        esc(&f.ssvc)
                    )
                } else {
                    esc(&f.ssvc)
                };
                let id = f
                    .aliases
                    .iter()
                    .find(|a| a.starts_with("CVE-"))
                    .map(|c| format!("{} ({})", esc(&f.id), esc(c)))
                    .unwrap_or_else(|| esc(&f.id));
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td></tr>\n",
                    esc(&f.package),
                    esc(&f.version),
                    id,
                    esc(&f.summary),
                    priority,
                    esc(&f.fixed.join(", "))
                ));
            }
            h.push_str("</table>\n");
        }
    }
    if !a.plans.is_empty() {
        h.push_str("<h2>Patch plan</h2><table id=\"plans\"><tr><th>Package</th><th>From</th><th>To</th><th>How</th></tr>\n");
        for p in &a.plans {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code>{}</td></tr>\n",
                esc(&p.package),
                esc(&p.current),
                esc(p.target.as_deref().unwrap_or("no fixed version known")),
                esc(p.command.as_deref().unwrap_or("")),
                p.note
                    .as_deref()
                    .map(|n| format!("<br><small>{}</small>", esc(n)))
                    .unwrap_or_default()
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str(
        "</section>\n<footer><p>Made by Haechi's self-assessment. The questions follow KISA's \
         ISMS-P protection criteria and the CIS Controls v8 Implementation Group 1; the score \
         is a guide for where to start, not a certification.</p></footer>\n\
         <script src=\"/sme/sme.js\"></script>\n</body></html>\n",
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portal(per_hour: u32) -> Arc<SmePortal> {
        let dir = std::env::temp_dir().join(format!("haechi-sme-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = AdvisoryDb::open(&dir.join(format!("v{per_hour}.db"))).unwrap();
        SmePortal::new(
            SmeConfig {
                per_client_per_hour: per_hour,
                max_reports: 2,
                ..SmeConfig::default()
            },
            Arc::new(db),
        )
    }

    #[test]
    fn a_client_past_its_hourly_limit_waits_and_others_do_not() {
        let p = portal(2);
        let (a, b) = (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        );
        let t0 = Instant::now();
        assert!(p.admit(a, t0).is_ok());
        assert!(p.admit(a, t0 + Duration::from_secs(10)).is_ok());
        let wait = p.admit(a, t0 + Duration::from_secs(20)).unwrap_err();
        assert!((3570..=3580).contains(&wait), "{wait}");
        assert!(p.admit(b, t0 + Duration::from_secs(20)).is_ok());
        assert!(p.admit(a, t0 + Duration::from_secs(3601)).is_ok());
    }

    #[test]
    fn reports_past_the_limit_are_forgotten_oldest_first() {
        let p = portal(3);
        let matcher = Matcher::new(haechi_vuln::db::Snapshot::default());
        let make = |name: &str| {
            haechi_vuln::sme::assess(&matcher, name, &BTreeMap::new(), &[], Exposure::Unknown)
        };
        let first = p.keep(make("one"));
        let second = p.keep(make("two"));
        let third = p.keep(make("three"));
        assert!(p.report(&first).is_none());
        assert_eq!(p.report(&second).unwrap().company, "two");
        assert_eq!(p.report(&third).unwrap().company, "three");
        assert_eq!(third.len(), 64, "256 random bits");
    }

    #[test]
    fn the_report_escapes_what_the_company_typed() {
        let matcher = Matcher::new(haechi_vuln::db::Snapshot::default());
        let a = haechi_vuln::sme::assess(
            &matcher,
            "<script>alert(1)</script>",
            &BTreeMap::new(),
            &[],
            Exposure::Unknown,
        );
        let html = render_report(&a);
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // Nothing answered: every question is a step, the heaviest first.
        assert_eq!(a.steps.len(), 24);
        assert_eq!(a.overall, 0);
    }
}
