//! The TAXII 2.1 client: Haechi polls partner servers' collections and pushes its own.
//!
//! A [`RemoteConfig`] (`[[intel.remotes]]`) names one collection of a partner's TAXII 2.1
//! server by its URL (`…/collections/{id}/`), the credentials (HTTP basic, the password
//! read from an environment variable, never from the file), the local collection that
//! receives what is polled (`into`), and optionally a local collection whose new objects
//! are pushed (`push_from`) up to a TLP maximum (`tlp_max`).
//!
//! * [`pull`] reads the remote collection incrementally: `added_after` the last
//!   `X-TAXII-Date-Added-Last` it saw (a watermark kept in the intel store) less
//!   [`PULL_OVERLAP_NS`], so that objects sharing the watermark's timestamp but not yet
//!   read are not skipped (`added_after` is exclusive; what is read twice is a duplicate
//!   the store drops), following `more`/`next` page by page. Every object is validated
//!   like any other; the valid ones are stored with `added_by = taxii:<name>`, the
//!   invalid ones counted with reasons.
//! * [`push`] sends the objects added to `push_from` since the last push, in envelopes of
//!   [`PUSH_BATCH`], leaving out what came from that same remote (no echo) and what its
//!   TLP maximum does not allow (RED never leaves); the status resources are checked,
//!   and the watermark stops before the first object the remote refused, so that it is
//!   sent again next time (at most [`PUSH_ATTEMPTS`] times, then it is given up and
//!   reported).
//!
//! The intel store is SQLite: its calls run on blocking threads, never on the runtime.
//!
//! Every answer is read within [`MAX_RESPONSE_BYTES`]; a remote that answers something
//! else than TAXII 2.1 JSON is an error naming what it sent.

use crate::objects::{Limits, parse_envelope};
use crate::store::{Audience, Filter, IntelStore, Versions};
use crate::tlp::{Tlp, may_share};
use std::sync::Arc;
use std::time::Duration;

/// The TAXII 2.1 media type.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The largest answer read from a remote.
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;
/// Objects per pushed envelope.
pub const PUSH_BATCH: usize = 500;
/// How far before the pull watermark a pull starts again (1 ms: servers keep
/// milliseconds or finer).
pub const PULL_OVERLAP_NS: i64 = 1_000_000;
/// How often an object the remote refuses is pushed before it is given up.
pub const PUSH_ATTEMPTS: i64 = 3;
/// Objects per page asked of a remote.
pub const PULL_PAGE: usize = 1000;

/// One partner collection (`[[intel.remotes]]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    /// A short name (1-64 characters of a-z 0-9 - _): objects pulled carry
    /// `added_by = taxii:<name>`.
    pub name: String,
    /// The collection's URL, ending in `/collections/{id}/`.
    pub url: String,
    #[serde(default)]
    pub username: Option<String>,
    /// The environment variable that holds the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// The local collection that receives what is pulled (none: no pull).
    #[serde(default)]
    pub into: Option<String>,
    /// The local collection whose new objects are pushed (none: no push).
    #[serde(default)]
    pub push_from: Option<String>,
    /// The most restrictive TLP pushed (default green; RED is never pushed).
    #[serde(default = "default_tlp")]
    pub tlp_max: String,
    /// Seconds between two syncs while `haechi serve` runs.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Seconds one request may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_tlp() -> String {
    "green".into()
}
fn default_interval() -> u64 {
    300
}
fn default_timeout() -> u64 {
    30
}

impl RemoteConfig {
    /// Refuses what cannot work, naming the key.
    pub fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if !name_ok {
            return Err(format!(
                "intel.remotes name '{}': 1-64 characters of a-z, 0-9, '-', '_'",
                self.name
            ));
        }
        let n = &self.name;
        if !(self.url.starts_with("http://") || self.url.starts_with("https://"))
            || !self.url.contains("/collections/")
            || !self.url.ends_with('/')
        {
            return Err(format!(
                "intel.remotes {n}: url must be the collection's http(s) URL ending in /collections/ID/"
            ));
        }
        if self.into.is_none() && self.push_from.is_none() {
            return Err(format!(
                "intel.remotes {n}: set into (pull) or push_from (push), or both"
            ));
        }
        match Tlp::parse(&self.tlp_max) {
            Some(Tlp::Red) | None => {
                return Err(format!(
                    "intel.remotes {n}: tlp_max '{}': clear, green, amber or amber+strict",
                    self.tlp_max
                ));
            }
            Some(_) => {}
        }
        if self.password_env.is_some() && self.username.is_none() {
            return Err(format!("intel.remotes {n}: password_env needs username"));
        }
        if self.username.is_some() && self.url.starts_with("http://") && !loopback(&self.url) {
            return Err(format!(
                "intel.remotes {n}: credentials are sent over https only (http is accepted for 127.0.0.1, ::1 and localhost)"
            ));
        }
        if !(1..=86_400).contains(&self.interval_secs) || !(1..=600).contains(&self.timeout_secs) {
            return Err(format!(
                "intel.remotes {n}: interval_secs 1 to 86400, timeout_secs 1 to 600"
            ));
        }
        Ok(())
    }

    /// What the objects pulled from this remote are marked as added by.
    pub fn source(&self) -> String {
        format!("taxii:{}", self.name)
    }
}

/// Whether an http URL names this machine.
fn loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    matches!(host, "127.0.0.1" | "::1" | "localhost")
}

/// What one pull did.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct PullReport {
    pub pages: usize,
    pub received: usize,
    pub stored: usize,
    pub duplicates: usize,
    /// Objects refused by validation.
    pub refused: usize,
    /// The reasons of the first 100 of them.
    pub rejected: Vec<String>,
}

/// What one push did.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct PushReport {
    pub sent: usize,
    pub accepted: usize,
    pub failed: Vec<String>,
    /// Left out because of their TLP.
    pub withheld: usize,
    /// Left out because they came from this remote.
    pub echoes: usize,
}

/// A connection to one remote collection.
pub struct Remote {
    pub config: RemoteConfig,
    http: reqwest::Client,
    password: Option<String>,
}

fn store_err(e: crate::store::StoreError) -> String {
    e.to_string()
}

/// Runs a store call on a blocking thread.
async fn db<T: Send + 'static>(
    store: &Arc<IntelStore>,
    f: impl FnOnce(&IntelStore) -> crate::store::Result<T> + Send + 'static,
) -> Result<T, String> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| e.to_string())?
        .map_err(store_err)
}

impl Remote {
    /// Checks the configuration and reads the password from its variable.
    pub fn new(config: RemoteConfig) -> Result<Remote, String> {
        config.check()?;
        let password = match &config.password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                format!(
                    "intel.remotes {}: the environment variable {var} (password_env) is not set",
                    config.name
                )
            })?),
            None => None,
        };
        // One TLS provider for the whole binary (ring); installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .user_agent(concat!("haechi/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the TAXII client: {e}"))?;
        Ok(Remote {
            config,
            http,
            password,
        })
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let r = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, MEDIA_TYPE);
        match &self.config.username {
            Some(user) => r.basic_auth(user, self.password.as_deref()),
            None => r,
        }
    }

    /// Sends a request; the answer's status, `X-TAXII-Date-Added-Last` and JSON body.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Option<String>, serde_json::Value), String> {
        let name = &self.config.name;
        let mut response = request
            .send()
            .await
            .map_err(|e| format!("remote {name}: {e}"))?;
        let status = response.status().as_u16();
        // A page of one object may carry only the -First header (medallion does).
        let last = ["x-taxii-date-added-last", "x-taxii-date-added-first"]
            .iter()
            .find_map(|h| response.headers().get(*h))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("remote {name}: {e}"))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(format!(
                    "remote {name}: the answer is over {MAX_RESPONSE_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        if !content_type
            .replace(' ', "")
            .starts_with("application/taxii+json")
        {
            return Err(format!(
                "remote {name}: HTTP {status} with Content-Type '{content_type}', not TAXII 2.1 JSON"
            ));
        }
        let json = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| format!("remote {name}: the answer is not JSON: {e}"))?
        };
        if !(200..300).contains(&status) {
            let why = json
                .get("description")
                .or_else(|| json.get("title"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            return Err(format!("remote {name}: HTTP {status}: {why}"));
        }
        Ok((status, last, json))
    }
}

/// Fetches a feed or bundle from an http(s) URL: the body, at most `max_bytes`, or why
/// not (the HTTP status, a timeout, too large).
pub async fn fetch(url: &str, max_bytes: u64, timeout: Duration) -> Result<Vec<u8>, String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("{url}: only http and https URLs are fetched"));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("haechi/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let mut response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if (body.len() + chunk.len()) as u64 > max_bytes {
            return Err(format!("{url}: over {max_bytes} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// [`fetch`] from synchronous code, on a thread of its own (safe inside or outside an
/// async runtime).
pub fn fetch_blocking(url: &str, max_bytes: u64, timeout: Duration) -> Result<Vec<u8>, String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(fetch(&url, max_bytes, timeout))
    })
    .join()
    .map_err(|_| "the fetching thread panicked".to_owned())?
}

/// The intel-store key of a remote's pull watermark (`date_added`, nanoseconds).
fn pull_key(name: &str) -> String {
    format!("remote:{name}:pulled_until")
}

/// The intel-store key of a remote's push watermark (local `date_added`).
fn push_key(name: &str) -> String {
    format!("remote:{name}:pushed_until")
}

/// Pulls what the remote collection added since the last pull into `into`.
pub async fn pull(remote: &Remote, store: &Arc<IntelStore>) -> Result<PullReport, String> {
    let Some(into) = remote.config.into.clone() else {
        return Ok(PullReport::default());
    };
    let collection = db(store, move |s| s.collection(&into)).await?;
    let key = pull_key(&remote.config.name);
    let since = {
        let key = key.clone();
        db(store, move |s| s.meta(&key)).await?
    };
    let mut report = PullReport::default();
    let mut next: Option<String> = None;
    let mut newest = since;
    loop {
        let mut query: Vec<(&str, String)> = vec![("limit", PULL_PAGE.to_string())];
        if let Some(t) = since {
            query.push(("added_after", timestamp(t - PULL_OVERLAP_NS)));
        }
        if let Some(n) = &next {
            query.push(("next", n.clone()));
        }
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        let url = format!("{}objects/?{}", remote.config.url, query.join("&"));
        let (_, last, envelope) = remote
            .send(remote.request(reqwest::Method::GET, &url))
            .await?;
        report.pages += 1;
        let bytes = serde_json::to_vec(&envelope).map_err(|e| e.to_string())?;
        let parsed = parse_envelope(&bytes, Limits::default()).map_err(|e| e.to_string())?;
        report.received += parsed.accepted.len() + parsed.rejected.len();
        // Reasons of the first 100 refusals are kept; all are counted.
        report.refused += parsed.rejected.len();
        for (_, why) in parsed.rejected {
            if report.rejected.len() < 100 {
                report.rejected.push(why);
            }
        }
        let (id, source, accepted) = (
            collection.id.clone(),
            remote.config.source(),
            parsed.accepted,
        );
        let added = db(store, move |s| s.add_objects(&id, &accepted, &source)).await?;
        report.stored += added.stored;
        report.duplicates += added.duplicates;
        if let Some(t) = last.as_deref().and_then(parse_timestamp) {
            newest = Some(newest.map_or(t, |n: i64| n.max(t)));
        }
        let more = envelope.get("more").and_then(|m| m.as_bool()) == Some(true);
        next = envelope
            .get("next")
            .and_then(|n| n.as_str())
            .map(str::to_owned);
        if !more || next.is_none() || report.pages >= 10_000 {
            break;
        }
    }
    if let Some(t) = newest {
        db(store, move |s| s.set_meta(&key, t)).await?;
    }
    Ok(report)
}

/// Pushes what `push_from` received since the last push.
pub async fn push(remote: &Remote, store: &Arc<IntelStore>) -> Result<PushReport, String> {
    let Some(from) = remote.config.push_from.clone() else {
        return Ok(PushReport::default());
    };
    let collection = db(store, move |s| s.collection(&from)).await?;
    let key = push_key(&remote.config.name);
    let since = {
        let key = key.clone();
        db(store, move |s| s.meta(&key)).await?
    };
    let tlp_max = Tlp::parse(&remote.config.tlp_max).unwrap_or(Tlp::Green);
    let mut report = PushReport::default();
    let mut filter = Filter {
        added_after: since,
        versions: Versions::All,
        limit: PUSH_BATCH,
        // Read everything, then decide (to count what is withheld).
        audience: None::<Audience>,
        ..Filter::default()
    };
    let mut pushed_until = since;
    // The earliest `date_added` among objects the remote refused and that are to be
    // tried again: the watermark stays before it.
    let mut retry_from: Option<i64> = None;
    loop {
        let (id, f) = (collection.id.clone(), filter.clone());
        let page = db(store, move |s| s.objects(&id, &f)).await?;
        let added: std::collections::HashMap<String, i64> = page
            .objects
            .iter()
            .map(|o| (o.id.clone(), o.date_added))
            .collect();
        let mut envelope = Vec::new();
        for o in &page.objects {
            pushed_until = Some(pushed_until.map_or(o.date_added, |t| t.max(o.date_added)));
            if o.added_by.as_deref() == Some(remote.config.source().as_str()) {
                report.echoes += 1;
            } else if !may_share(o.tlp.unwrap_or(Tlp::UNMARKED_DEFAULT), tlp_max) {
                report.withheld += 1;
            } else {
                envelope.push(o.json.clone());
            }
        }
        if !envelope.is_empty() {
            report.sent += envelope.len();
            let url = format!("{}objects/", remote.config.url);
            let body = serde_json::json!({ "objects": envelope });
            let (_, _, status) = remote
                .send(
                    remote
                        .request(reqwest::Method::POST, &url)
                        .header(reqwest::header::CONTENT_TYPE, MEDIA_TYPE)
                        .body(body.to_string()),
                )
                .await?;
            report.accepted += status
                .get("success_count")
                .and_then(|n| n.as_u64())
                .unwrap_or(0) as usize;
            if let Some(failures) = status.get("failures").and_then(|f| f.as_array()) {
                for f in failures {
                    let id = f.get("id").and_then(|v| v.as_str()).unwrap_or("?");
                    let message = f
                        .get("message")
                        .and_then(|v| v.as_str())
                        .unwrap_or("refused");
                    let attempts = refused_again(store, &remote.config.name, id).await?;
                    let retried = attempts < PUSH_ATTEMPTS;
                    if let (true, Some(t)) = (retried, added.get(id)) {
                        retry_from = Some(retry_from.map_or(*t, |r| r.min(*t)));
                    }
                    report.failed.push(if retried {
                        format!("{id}: {message} (sent again next time; attempt {attempts} of {PUSH_ATTEMPTS})")
                    } else {
                        format!("{id}: {message} (given up after {PUSH_ATTEMPTS} attempts)")
                    });
                }
            }
        }
        match page.next {
            Some(n) => filter.next = Some(n),
            None => break,
        }
    }
    // Not past a refused object that is to be sent again.
    let until = match (pushed_until, retry_from) {
        (Some(p), Some(r)) => Some(p.min(r - 1)),
        (p, _) => p,
    };
    if let Some(t) = until.filter(|t| Some(*t) != since) {
        db(store, move |s| s.set_meta(&key, t)).await?;
    }
    Ok(report)
}

/// Counts one more refusal of object `id` by remote `name`; returns the count so far.
async fn refused_again(store: &Arc<IntelStore>, name: &str, id: &str) -> Result<i64, String> {
    let key = format!("remote:{name}:refused:{id}");
    db(store, move |s| {
        let n = s.meta(&key)?.unwrap_or(0) + 1;
        s.set_meta(&key, n)?;
        Ok(n)
    })
    .await
}

/// A query-string value: everything but RFC 3986's unreserved characters escaped.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// RFC 3339 with nanoseconds, as `added_after` wants it.
fn timestamp(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn parse_timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> RemoteConfig {
        RemoteConfig {
            name: "kisa".into(),
            url: url.into(),
            username: None,
            password_env: None,
            into: Some("partner".into()),
            push_from: None,
            tlp_max: "green".into(),
            interval_secs: 300,
            timeout_secs: 30,
        }
    }

    #[test]
    fn configurations_are_checked() {
        assert!(
            config("https://taxii.example/api1/collections/x/")
                .check()
                .is_ok()
        );
        assert!(config("https://taxii.example/api1/").check().is_err());
        assert!(
            config("ftp://taxii.example/api1/collections/x/")
                .check()
                .is_err()
        );
        let mut red = config("https://taxii.example/api1/collections/x/");
        red.tlp_max = "red".into();
        assert!(red.check().unwrap_err().contains("tlp_max"));
        let mut nothing = config("https://taxii.example/api1/collections/x/");
        nothing.into = None;
        assert!(nothing.check().is_err());
        assert_eq!(
            parse_timestamp(&timestamp(1_700_000_000_123_456_789)),
            Some(1_700_000_000_123_456_789)
        );
    }
}
