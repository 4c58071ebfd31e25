//! `haechi bench --stages state`: the state store under a control center's load —
//! 100,000 alerts of 20 institutions recorded with incident grouping (about 10,000
//! incidents), then the listings the console pages make, each timed as the median of
//! 20 runs (what the API handlers call, without HTTP).

use super::bench::BenchArgs;
use haechi_event::{Alert, AlertSource, AlertState, EventRef, Level, Timestamp};
use haechi_store::state::{AlertFilter, AlertStore, IncidentFilter};
use std::time::{Duration, Instant};

const ALERTS: usize = 100_000;
const TENANTS: usize = 20;
const HOSTS_PER_TENANT: usize = 50;

/// A deterministic synthetic alert: one alert a second, ten alerts per incident, one in
/// 101 carries one of three public attackers (campaigns across institutions), levels
/// vary.
fn alert(i: usize) -> Alert {
    let tenant = format!("inst-{:02}", i % TENANTS);
    // Ten alerts of an institution in a row on one host (one incident), the next ten on
    // the next host; a host comes back after the grouping window (a new incident).
    let host = (i / (TENANTS * 10)) % HOSTS_PER_TENANT;
    let mut details = serde_json::Map::new();
    if i.is_multiple_of(101) {
        details.insert(
            "matched".into(),
            serde_json::json!({"source.ip": format!("198.51.100.{}", (i / 101) % 3)}),
        );
    }
    let t = Timestamp(1_790_000_000_000_000_000 + i as i64 * 1_000_000_000);
    Alert {
        id: 0,
        tenant,
        source: AlertSource::Sigma,
        rule_id: format!("rule-{}", i % 50),
        rule_title: format!("Synthetic rule {}", i % 50),
        level: Level::ALL[2 + i % 3],
        author: None,
        status: None,
        references: vec![],
        tags: vec![format!("attack.t{}", 1000 + i % 30)],
        entity: format!("host.name=h{host}"),
        first_seen: t,
        last_seen: t,
        count: 1,
        events: vec![EventRef {
            timestamp: t,
            id: format!("e{i}"),
        }],
        details,
        stored: Timestamp(0),
        triage: Default::default(),
    }
}

/// The median of 20 runs of `f` in milliseconds, and what the last run answered.
pub(crate) fn median_ms(mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut times = Vec::with_capacity(20);
    let mut n = 0;
    for _ in 0..20 {
        let started = Instant::now();
        n = std::hint::black_box(f());
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], n)
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(0))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    for chunk in (0..ALERTS).collect::<Vec<_>>().chunks(1000) {
        let batch: Vec<Alert> = chunk.iter().map(|&i| alert(i)).collect();
        store.record(&batch).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let secs = started.elapsed().as_secs_f64();
    let incidents = store
        .incidents(&IncidentFilter {
            limit: usize::MAX,
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .len();
    let campaigns = store
        .campaigns(Timestamp(0), 10_000)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .len();
    let report = |what: &str, value: f64, unit: &str, note: String| {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"bench": "state", "what": what, "value": value, "unit": unit, "note": note})
            );
        } else {
            println!("state {what:<44} {value:>10.2} {unit:<10} {note}");
        }
    };
    report(
        "record with grouping",
        ALERTS as f64 / secs,
        "alerts/s",
        format!(
            "{ALERTS} alerts, {TENANTS} institutions → {incidents} incidents, {campaigns} campaigns"
        ),
    );
    let e = |x: haechi_store::StoreError| x.to_string();
    let list = |f: AlertFilter| {
        store
            .list(&f)
            .map(|v| v.len())
            .unwrap_or_else(|x| panic!("{}", e(x)))
    };
    let last = store
        .list(&AlertFilter {
            limit: 500,
            ..Default::default()
        })
        .map_err(|x| anyhow::anyhow!(e(x)))?;
    let after = last.last().map(|a| a.id);
    // The board's window ends with the newest alert.
    let end = alert(ALERTS - 1).last_seen;
    let day_before = |t: Timestamp| Timestamp(t.0 - 86_400 * 1_000_000_000);
    type Case<'a> = (&'a str, Box<dyn Fn() -> usize + 'a>);
    let cases: Vec<Case> = vec![
        (
            "alerts: first page (100, all institutions)",
            Box::new(|| list(AlertFilter::default())),
        ),
        (
            "alerts: page after 500 (keyset)",
            Box::new(move || {
                list(AlertFilter {
                    after_id: after,
                    ..Default::default()
                })
            }),
        ),
        (
            "alerts: one institution, state new",
            Box::new(|| {
                list(AlertFilter {
                    tenant: Some("inst-07".into()),
                    state: Some(AlertState::New),
                    ..Default::default()
                })
            }),
        ),
        (
            "alerts: by entity value",
            Box::new(|| {
                list(AlertFilter {
                    entity: Some("h42".into()),
                    ..Default::default()
                })
            }),
        ),
        (
            "alerts: by tag",
            Box::new(|| {
                list(AlertFilter {
                    tag: Some("attack.t1007".into()),
                    ..Default::default()
                })
            }),
        ),
        (
            "alerts: high and above",
            Box::new(|| {
                list(AlertFilter {
                    min_level: Level::High,
                    ..Default::default()
                })
            }),
        ),
        (
            "incidents: first page (100)",
            Box::new(|| {
                store
                    .incidents(&IncidentFilter {
                        limit: 100,
                        ..Default::default()
                    })
                    .map(|v| v.len())
                    .unwrap_or(0)
            }),
        ),
        (
            "incidents: one institution, open",
            Box::new(|| {
                store
                    .incidents(&IncidentFilter {
                        tenant: Some("inst-03".into()),
                        open: true,
                        limit: 100,
                        ..Default::default()
                    })
                    .map(|v| v.len())
                    .unwrap_or(0)
            }),
        ),
        (
            "incident detail (alerts and notes)",
            Box::new(|| {
                store
                    .incident(1, None)
                    .ok()
                    .flatten()
                    .map(|d| d.alerts.len())
                    .unwrap_or(0)
            }),
        ),
        (
            "tenants with counts",
            Box::new(|| store.tenant_counts(None).map(|v| v.len()).unwrap_or(0)),
        ),
        (
            "campaigns",
            Box::new(|| {
                store
                    .campaigns(Timestamp(0), 100)
                    .map(|v| v.len())
                    .unwrap_or(0)
            }),
        ),
        (
            "situation board: 24 h, all institutions",
            Box::new(|| {
                store
                    .board(None, day_before(end), end, 1800)
                    .map(|b| b.alerts as usize)
                    .unwrap_or(0)
            }),
        ),
        (
            "situation board: 24 h, one institution",
            Box::new(|| {
                store
                    .board(Some("inst-07"), day_before(end), end, 1800)
                    .map(|b| b.alerts as usize)
                    .unwrap_or(0)
            }),
        ),
    ];
    for (what, f) in cases {
        let (ms, n) = median_ms(f);
        report(what, ms, "ms median", format!("{n} rows"));
    }
    Ok(())
}
