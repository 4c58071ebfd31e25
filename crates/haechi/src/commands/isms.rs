//! `haechi isms`: ISMS operation support — `catalog` lists Haechi's catalog of the
//! ISMS-P criteria with the evidence Haechi keeps for each, `report` gathers that
//! evidence for one institution and one month from the stores (inventories and
//! findings, events, alerts, incidents, accounts, the audit chain) and says per
//! criterion what it shows and where a gap is.

use super::load_config;
use crate::config::Config;
use chrono::{Datelike, TimeZone, Utc};
use haechi_event::{AlertSource, AlertState, Timestamp};
use haechi_store::SearchRequest;
use haechi_store::state::{AlertFilter, AlertStore, IncidentFilter};
use haechi_vuln::isms::{CATALOG, Evidence};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct IsmsArgs {
    #[command(subcommand)]
    command: IsmsCommand,
    /// A configuration file (for `data_dir` and the event store).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where Haechi keeps its data (default: `data_dir` of the configuration, else ./haechi-data).
    #[arg(long, env = "HAECHI_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum IsmsCommand {
    /// The catalog: each ISMS-P criterion in Haechi's words, with the evidence Haechi keeps.
    Catalog {
        #[arg(long)]
        json: bool,
    },
    /// The evidence of one institution for one month, per criterion.
    Report {
        #[arg(long)]
        tenant: String,
        /// `YYYY-MM` (default: the current month, so far).
        #[arg(long)]
        month: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: IsmsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        IsmsCommand::Catalog { json } => {
            for c in CATALOG {
                if json {
                    println!("{}", serde_json::to_string(&c)?);
                } else {
                    let evidence: Vec<String> =
                        c.evidence.iter().map(|e| format!("{e:?}")).collect();
                    println!("{:<7} {:<70} {}", c.id, c.text, evidence.join(", "));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        IsmsCommand::Report {
            tenant,
            month,
            json,
        } => {
            anyhow::ensure!(
                haechi_server::valid_tenant(&tenant),
                "--tenant '{tenant}' is not a valid id"
            );
            let config = load_config(args.config.as_deref(), args.data_dir.clone())?;
            let (start, end) = month_window(month.as_deref())?;
            let report = report(&config, &tenant, start, end)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The first instant of the month and of the next (or now, for the current month).
fn month_window(
    month: Option<&str>,
) -> anyhow::Result<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
    let now = Utc::now();
    let (y, m) = match month {
        None => (now.year(), now.month()),
        Some(s) => {
            let (y, m) = s
                .split_once('-')
                .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
                .filter(|(y, m)| (2000..=2100).contains(y) && (1..=12).contains(m))
                .ok_or_else(|| anyhow::anyhow!("--month '{s}': use YYYY-MM"))?;
            (y, m)
        }
    };
    let start = Utc
        .with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("no such month"))?;
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let next = Utc
        .with_ymd_and_hms(ny, nm, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("no such month"))?;
    Ok((start, next.min(now.max(start))))
}

fn ts(t: chrono::DateTime<Utc>) -> Timestamp {
    Timestamp(t.timestamp_nanos_opt().unwrap_or(i64::MAX))
}

/// The facts of every kind of evidence, then the criteria with what they show.
fn report(
    config: &Config,
    tenant: &str,
    start: chrono::DateTime<Utc>,
    end: chrono::DateTime<Utc>,
) -> anyhow::Result<Value> {
    let mut facts: BTreeMap<&'static str, Value> = BTreeMap::new();
    let mut gaps: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let end_day = end.format("%Y-%m-%d").to_string();

    // Inventories and findings.
    let vuln = haechi_vuln::AdvisoryDb::open(&haechi_vuln::AdvisoryDb::path_in(&config.data_dir))?;
    let sboms = vuln.sboms(Some(tenant))?;
    let systems: std::collections::BTreeSet<&str> =
        sboms.iter().map(|b| b.system.as_str()).collect();
    facts.insert(
        "asset_inventory",
        json!({"inventories": sboms.len(), "systems": systems.len(), "components": sboms.iter().map(|b| b.components).sum::<i64>()}),
    );
    if sboms.is_empty() {
        gaps.entry("asset_inventory")
            .or_default()
            .push("no inventory is stored for this institution".into());
    }
    let findings = vuln.findings(Some(tenant), 1_000_000)?;
    let start_s = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let end_s = end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let in_period = findings
        .iter()
        .filter(|f| f.first_seen >= start_s && f.first_seen < end_s)
        .count();
    let mut by_ssvc: BTreeMap<String, usize> = BTreeMap::new();
    for f in &findings {
        *by_ssvc.entry(f.finding.ssvc.clone()).or_default() += 1;
    }
    // Web sites under scheduled inspection (`haechi web site`), their latest results.
    let sites = vuln.sites(Some(tenant))?;
    let latest = vuln.latest_inspections(Some(tenant))?;
    let sites_inspected = latest
        .iter()
        .filter(|i| i.at.as_str() >= start_s.as_str() && i.at.as_str() < end_s.as_str())
        .count();
    facts.insert(
        "vulnerability_inspection",
        json!({"findings_recorded_in_period": in_period, "open_findings": findings.len(), "open_by_ssvc": by_ssvc,
               "web_sites": sites.len(), "web_sites_inspected_in_period": sites_inspected,
               "web_sites_failing_checks": latest.iter().filter(|i| !i.failing.is_empty()).count()}),
    );
    let kev_past_due: Vec<String> = findings
        .iter()
        .filter(|f| {
            f.finding.kev
                && f.finding
                    .kev_due_date
                    .as_deref()
                    .is_some_and(|d| d < end_day.as_str())
        })
        .map(|f| {
            format!(
                "{} in {} {} ({})",
                f.finding.id, f.finding.package, f.finding.version, f.system
            )
        })
        .collect();
    let oldest = findings.iter().map(|f| f.first_seen.as_str()).min();
    facts.insert(
        "patch_latency",
        json!({"open_findings": findings.len(), "oldest_open_since": oldest, "kev_past_due": kev_past_due}),
    );
    if !kev_past_due.is_empty() {
        gaps.entry("patch_latency").or_default().push(format!(
            "{} KEV-listed findings are open past CISA's due date",
            kev_past_due.len()
        ));
    }

    // Events kept.
    let store = super::open_store(config)?;
    let mut req = SearchRequest::new(haechi_query::Query::All);
    req.from = Some(ts(start));
    req.to = Some(ts(end));
    req.tenants = Some(vec![tenant.to_owned()]);
    req.limit = 0;
    let events = store
        .search(&req)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .total;
    facts.insert(
        "log_retention",
        json!({"events_stored_in_period": events, "retention_days": config.store.retention_days}),
    );
    if events == 0 {
        gaps.entry("log_retention")
            .or_default()
            .push("no event of this institution was stored in the period".into());
    }

    // Alerts, their review, and incidents.
    let alerts = AlertStore::open(&config.state_db(), std::time::Duration::from_secs(600))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let list = alerts
        .list(&AlertFilter {
            tenant: Some(tenant.to_owned()),
            since: Some(ts(start)),
            until: Some(ts(end)),
            limit: 1_000_000,
            ..AlertFilter::default()
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let triaged = list
        .iter()
        .filter(|a| a.triage.state != AlertState::New)
        .count();
    facts.insert(
        "log_review",
        json!({"alerts_in_period": list.len(), "triaged": triaged, "untriaged": list.len() - triaged}),
    );
    if list.len() > triaged {
        gaps.entry("log_review").or_default().push(format!(
            "{} alerts of the period were never looked at",
            list.len() - triaged
        ));
    }
    let mut by_source: BTreeMap<&'static str, usize> = BTreeMap::new();
    for a in &list {
        *by_source.entry(a.source.as_str()).or_default() += 1;
    }
    let sources: Vec<&str> = [
        AlertSource::Sigma,
        AlertSource::Indicator,
        AlertSource::Model,
        AlertSource::Device,
        AlertSource::Vuln,
        AlertSource::Domain,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    facts.insert(
        "monitoring",
        json!({"alerts_by_source": by_source, "sources": sources}),
    );
    let incidents = alerts
        .incidents(&IncidentFilter {
            tenant: Some(tenant.to_owned()),
            limit: 100_000,
            ..IncidentFilter::default()
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let opened: Vec<_> = incidents
        .iter()
        .filter(|i| i.first_seen >= ts(start) && i.first_seen < ts(end))
        .collect();
    let closed = opened.iter().filter(|i| i.status == "closed").count();
    facts.insert(
        "incident_handling",
        json!({"incidents_opened_in_period": opened.len(), "closed": closed, "still_open": opened.len() - closed}),
    );

    // Accounts and the audit chain.
    let access =
        haechi_access::AccessStore::open(&haechi_access::AccessStore::path_in(&config.data_dir))?;
    let users: Vec<_> = access
        .users()?
        .into_iter()
        .filter(|u| u.tenant.as_deref() == Some(tenant))
        .collect();
    let tokens: Vec<_> = access
        .tokens()?
        .into_iter()
        .filter(|t| t.tenant.as_deref() == Some(tenant) && t.revoked.is_none())
        .collect();
    facts.insert(
        "access_review",
        json!({"accounts": users.len(), "disabled": users.iter().filter(|u| u.disabled).count(),
               "active_tokens": tokens.len(), "tokens_without_expiry": tokens.iter().filter(|t| t.expires.is_none()).count()}),
    );
    if tokens.iter().any(|t| t.expires.is_none()) {
        gaps.entry("access_review")
            .or_default()
            .push("an active token of this institution never expires".into());
    }
    let chain = access.verify_audit()?;
    facts.insert(
        "audit_integrity",
        json!({"records": chain.records, "intact": chain.broken.is_none(), "broken_at": chain.broken.as_ref().map(|b| b.0)}),
    );
    if let Some((seq, why)) = &chain.broken {
        gaps.entry("audit_integrity")
            .or_default()
            .push(format!("the audit chain breaks at record {seq}: {why}"));
    }

    let key = |e: Evidence| {
        serde_json::to_value(e)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let criteria: Vec<Value> = CATALOG
        .iter()
        .map(|c| {
            let keys: Vec<String> = c.evidence.iter().map(|e| key(*e)).collect();
            let found: Vec<String> = keys
                .iter()
                .flat_map(|k| gaps.get(k.as_str()).cloned().unwrap_or_default())
                .collect();
            let status = if c.evidence.is_empty() {
                "not evidenced by Haechi"
            } else if found.is_empty() {
                "evidenced"
            } else {
                "gap"
            };
            json!({"id": c.id, "text": c.text, "evidence": keys, "status": status, "gaps": found})
        })
        .collect();
    Ok(json!({
        "tenant": tenant,
        "period": {"from": start_s, "to": end_s},
        "evidence": facts,
        "criteria": criteria,
        "summary": {
            "criteria": CATALOG.len(),
            "evidenced": criteria.iter().filter(|c| c["status"] == "evidenced").count(),
            "gaps": criteria.iter().filter(|c| c["status"] == "gap").count(),
            "not_evidenced_by_haechi": criteria.iter().filter(|c| c["status"] == "not evidenced by Haechi").count(),
        },
    }))
}

fn print_report(r: &Value) {
    println!(
        "ISMS-P evidence of {} from {} to {}",
        r["tenant"].as_str().unwrap_or(""),
        r["period"]["from"].as_str().unwrap_or(""),
        r["period"]["to"].as_str().unwrap_or("")
    );
    for (k, v) in r["evidence"].as_object().into_iter().flatten() {
        println!("  {k}: {v}");
    }
    for c in r["criteria"].as_array().into_iter().flatten() {
        if c["status"] == "not evidenced by Haechi" {
            continue;
        }
        println!(
            "{:<7} {:<9} {}{}",
            c["id"].as_str().unwrap_or(""),
            c["status"].as_str().unwrap_or(""),
            c["text"].as_str().unwrap_or(""),
            c["gaps"]
                .as_array()
                .filter(|g| !g.is_empty())
                .map(|g| format!(
                    " — {}",
                    g.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
                .unwrap_or_default()
        );
    }
    println!("{}", r["summary"]);
}
