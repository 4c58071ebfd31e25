//! `haechi drill run --server URL`: a drill into a running server, through its API.
//!
//! The recordings are re-based to now and sent at their pace as `winlog` lines to
//! `POST /api/ingest?tenant=&format=winlog&drill=ID` (the server marks every event and
//! alert as the drill's, and its playbooks leave drill alerts alone unless told to);
//! then the alerts the drill raised are read back (`GET /api/alerts?tag=drill`), and the
//! drill's record goes to `POST /api/drills`, where the server keeps it for `haechi drill
//! report` and the console. The token is read from `HAECHI_TOKEN` (never an argument:
//! process lists are readable by other users).

use haechi_drill::dataset::{Dataset, rebased_line};
use haechi_drill::{DrillAlert, DrillRecord, RunRecord};
use haechi_event::Timestamp;
use serde_json::Value;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The most lines in one request.
const BATCH: usize = 1000;

/// A running server and how to call it.
struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Api {
    fn new(url: &str, token: String) -> anyhow::Result<Api> {
        let base = url.trim_end_matches('/').to_owned();
        anyhow::ensure!(
            base.starts_with("http://") || base.starts_with("https://"),
            "--server '{url}': give the server's address as http(s)://host:port"
        );
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Api {
            base,
            token,
            client,
            runtime,
        })
    }

    /// Sends a request; the JSON answer, or the server's error said plainly.
    fn call(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        self.runtime.block_on(async {
            let answer = request
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", self.base))?;
            let status = answer.status();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            anyhow::ensure!(
                status.is_success(),
                "{} answered {status}: {}",
                self.base,
                body["error"].as_str().unwrap_or("no reason given")
            );
            Ok(body)
        })
    }

    fn ingest(&self, tenant: &str, drill: &str, lines: &[String]) -> anyhow::Result<()> {
        let url = format!(
            "{}/api/ingest?tenant={}&format=winlog&drill={}",
            self.base,
            encode(tenant),
            encode(drill)
        );
        self.call(self.client.post(url).body(lines.join("\n")))
            .map(drop)
    }
}

/// `haechi drill run --server URL`: the drill, its id printed last.
pub fn replay(
    url: &str,
    tenant: &str,
    speed: f64,
    name: Option<String>,
    sets: &[Dataset],
) -> anyhow::Result<ExitCode> {
    let token = std::env::var("HAECHI_TOKEN").map_err(|_| {
        anyhow::anyhow!("--server needs an API token in HAECHI_TOKEN (haechi token create)")
    })?;
    let (id, _) = run(url, token, tenant, speed, name, sets)?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// Runs a drill into the server at `url` with `token`; its id and the report the server
/// answered on keeping it.
pub fn run(
    url: &str,
    token: String,
    tenant: &str,
    speed: f64,
    name: Option<String>,
    sets: &[Dataset],
) -> anyhow::Result<(String, Value)> {
    let api = Api::new(url, token)?;
    let id = super::drill::new_id();
    let started_at = Timestamp::now();
    let started = Instant::now();
    let epoch = started_at.0 as f64 / 1e9;
    let mut runs = Vec::new();
    let mut offset = 0.0f64;
    let mut lines: Vec<String> = Vec::with_capacity(BATCH);
    for set in sets {
        let mut first: Option<f64> = None;
        for (t, event) in &set.events {
            let due = offset + t / speed;
            if due > started.elapsed().as_secs_f64() || lines.len() >= BATCH {
                if !lines.is_empty() {
                    api.ingest(tenant, &id, &lines)?;
                    lines.clear();
                }
                let wait = due - started.elapsed().as_secs_f64();
                if wait > 0.0 {
                    std::thread::sleep(Duration::from_secs_f64(wait));
                }
            }
            first.get_or_insert_with(|| started.elapsed().as_secs_f64());
            lines.push(rebased_line(event, epoch + due));
        }
        if !lines.is_empty() {
            api.ingest(tenant, &id, &lines)?;
            lines.clear();
        }
        let now = started.elapsed().as_secs_f64();
        runs.push(RunRecord {
            dataset: set.id.clone(),
            title: set.title.clone(),
            technique: set.technique.clone(),
            events: set.events.len(),
            first_event_s: first.unwrap_or(now),
            last_event_s: now,
        });
        eprintln!(
            "{} {} ({}): {} events sent",
            set.id,
            set.title,
            set.technique,
            set.events.len()
        );
        offset = offset + set.span() / speed + 1.0 / speed;
    }
    // The server records a batch's alerts before it answers the ingest request.
    let alerts = drill_alerts(&api, tenant, &id, started_at)?;
    let record = DrillRecord {
        id: id.clone(),
        name: name.unwrap_or_else(|| {
            sets.iter()
                .map(|s| s.title.clone())
                .collect::<Vec<_>>()
                .join(" → ")
        }),
        tenant: tenant.to_owned(),
        speed,
        started: started_at.to_rfc3339(),
        runs,
        alerts,
        // The server's rules: not known to the command.
        rules_loaded: 0,
    };
    let kept = api.call(
        api.client
            .post(format!("{}/api/drills", api.base))
            .json(&record),
    )?;
    let report = kept["report"].clone();
    eprintln!(
        "{} alerts; {} of {} techniques detected; kept by {}",
        record.alerts.len(),
        report["detected"],
        record.runs.len(),
        api.base
    );
    Ok((id, report))
}

/// The alerts drill `id` raised, from the server, with the seconds from the drill's start
/// to their recording.
fn drill_alerts(
    api: &Api,
    tenant: &str,
    id: &str,
    started: Timestamp,
) -> anyhow::Result<Vec<DrillAlert>> {
    let since = started.to_rfc3339();
    let answer = api.call(api.client.get(format!(
        "{}/api/alerts?tenant={}&tag=drill&since={}&limit=10000",
        api.base,
        encode(tenant),
        encode(&since)
    )))?;
    let alerts = answer["alerts"].as_array().cloned().unwrap_or_default();
    Ok(alerts
        .iter()
        .filter(|a| a["details"]["drill"] == id)
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            let stored = a["stored"]
                .as_str()
                .and_then(haechi_event::parse_rfc3339)
                .unwrap_or(started);
            DrillAlert {
                rule_id: text("rule_id"),
                rule_title: text("rule_title"),
                level: text("level"),
                tags: a["tags"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                entity: text("entity"),
                raised_s: (stored.0 - started.0) as f64 / 1e9,
            }
        })
        .collect())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn encode(value: &str) -> String {
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
