//! The situation board's figures: what the console's wall screen shows, computed in one
//! pass over the alerts of a time window — alerts over time by level, top attackers and
//! targets, the ATT&CK tactic heat map per institution, and each institution's counts.

use super::{ALERT_COLUMNS, AlertStore, row_to_alert, sql_err};
use crate::Result;
use haechi_event::alert::attacker_of;
use haechi_event::{Alert, AlertState, Level, Timestamp};
use rusqlite::params;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The newest alerts of the window the board reads at most; `Board::capped` says when
/// older ones were left out.
pub const BOARD_MAX_ALERTS: usize = 50_000;

/// ATT&CK enterprise tactics, in kill-chain order (the Sigma tag names).
pub const TACTICS: [&str; 14] = [
    "reconnaissance",
    "resource_development",
    "initial_access",
    "execution",
    "persistence",
    "privilege_escalation",
    "defense_evasion",
    "credential_access",
    "discovery",
    "lateral_movement",
    "collection",
    "command_and_control",
    "exfiltration",
    "impact",
];

/// How many entries the top lists keep.
const TOP: usize = 10;

/// Alerts of one time bucket, per level (informational … critical).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub start: Timestamp,
    pub levels: [u64; 5],
}

/// A value of a top list: an attacker or a target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Top {
    pub value: String,
    pub alerts: u64,
    /// The highest level among its alerts.
    pub level: Level,
    pub tenants: Vec<String>,
}

/// Alerts of one institution carrying one tactic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TacticCell {
    pub tenant: String,
    pub tactic: &'static str,
    pub alerts: u64,
}

/// One institution's alerts in the window.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TenantLine {
    pub tenant: String,
    pub alerts: u64,
    /// Not closed.
    pub open: u64,
    /// High or critical.
    pub severe: u64,
}

/// The situation board for a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub since: Timestamp,
    pub until: Timestamp,
    pub bucket_secs: u64,
    /// Alerts read (at most [`BOARD_MAX_ALERTS`]).
    pub alerts: u64,
    /// Whether older alerts of the window were left out.
    pub capped: bool,
    pub series: Vec<Bucket>,
    pub attackers: Vec<Top>,
    pub targets: Vec<Top>,
    pub tactics: Vec<TacticCell>,
    pub tenants: Vec<TenantLine>,
}

impl AlertStore {
    /// The board for alerts last seen in `[since, until]`, of one tenant or all.
    pub fn board(
        &self,
        tenant: Option<&str>,
        since: Timestamp,
        until: Timestamp,
        bucket_secs: u64,
    ) -> Result<Board> {
        let alerts = self.window(tenant, since, until)?;
        Ok(summarize(&alerts, since, until, bucket_secs.max(1)))
    }

    fn window(
        &self,
        tenant: Option<&str>,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<Alert>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        // Two statements rather than `?1 IS NULL OR tenant = ?1`, which keeps SQLite from
        // using the (tenant, last_seen) index.
        let scope = if tenant.is_some() {
            "tenant = ?1"
        } else {
            "?1 IS NULL"
        };
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE {scope} \
                 AND last_seen >= ?2 AND last_seen <= ?3 ORDER BY last_seen DESC LIMIT ?4"
            ))
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(
                params![tenant, since.0, until.0, BOARD_MAX_ALERTS as i64 + 1],
                row_to_alert,
            )
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }
}

/// The board's figures from the window's alerts (newest first, possibly one over the cap).
fn summarize(alerts: &[Alert], since: Timestamp, until: Timestamp, bucket_secs: u64) -> Board {
    let capped = alerts.len() > BOARD_MAX_ALERTS;
    let alerts = &alerts[..alerts.len().min(BOARD_MAX_ALERTS)];
    let bucket = (bucket_secs as i64).saturating_mul(1_000_000_000);
    let buckets = ((until.0 - since.0).max(0) / bucket + 1) as usize;
    let mut series: Vec<Bucket> = (0..buckets.min(10_000))
        .map(|i| Bucket {
            start: Timestamp(since.0 + i as i64 * bucket),
            levels: [0; 5],
        })
        .collect();
    let mut attackers: HashMap<String, Top> = HashMap::new();
    let mut targets: HashMap<String, Top> = HashMap::new();
    let mut tactics: BTreeMap<(String, usize), u64> = BTreeMap::new();
    let mut tenants: BTreeMap<String, TenantLine> = BTreeMap::new();
    for a in alerts {
        let i = ((a.last_seen.0 - since.0).max(0) / bucket) as usize;
        if let Some(b) = series.get_mut(i) {
            b.levels[a.level as usize] += a.count.max(1);
        }
        if let Some(attacker) = attacker_of(a) {
            count_top(&mut attackers, attacker, a);
        }
        if !a.entity.is_empty() {
            count_top(&mut targets, a.entity.clone(), a);
        }
        for tag in &a.tags {
            if let Some(t) = tag.strip_prefix("attack.")
                && let Some(k) = TACTICS.iter().position(|x| *x == t)
            {
                *tactics.entry((a.tenant.clone(), k)).or_default() += 1;
            }
        }
        let line = tenants
            .entry(a.tenant.clone())
            .or_insert_with(|| TenantLine {
                tenant: a.tenant.clone(),
                ..Default::default()
            });
        line.alerts += 1;
        line.open += u64::from(a.triage.state != AlertState::Closed);
        line.severe += u64::from(a.level >= Level::High);
    }
    Board {
        since,
        until,
        bucket_secs,
        alerts: alerts.len() as u64,
        capped,
        series,
        attackers: top(attackers),
        targets: top(targets),
        tactics: tactics
            .into_iter()
            .map(|((tenant, k), alerts)| TacticCell {
                tenant,
                tactic: TACTICS[k],
                alerts,
            })
            .collect(),
        tenants: tenants.into_values().collect(),
    }
}

fn count_top(map: &mut HashMap<String, Top>, value: String, alert: &Alert) {
    let entry = map.entry(value).or_insert_with_key(|v| Top {
        value: v.clone(),
        alerts: 0,
        level: alert.level,
        tenants: Vec::new(),
    });
    entry.alerts += 1;
    entry.level = entry.level.max(alert.level);
    if !entry.tenants.contains(&alert.tenant) {
        entry.tenants.push(alert.tenant.clone());
    }
}

/// The [`TOP`] values with the most alerts (ties by value, so the order is stable).
fn top(map: HashMap<String, Top>) -> Vec<Top> {
    let mut v: Vec<Top> = map.into_values().collect();
    v.sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.value.cmp(&b.value)));
    v.truncate(TOP);
    for t in &mut v {
        t.tenants.sort();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::alert;
    use super::*;

    #[test]
    fn the_board_counts_levels_per_bucket_attackers_and_tactics_per_institution() {
        let dir = tempfile::tempdir().unwrap();
        let store = AlertStore::open(&dir.path().join("s.db"), std::time::Duration::ZERO).unwrap();
        store
            .record(&[
                alert(
                    "seoul",
                    "203.0.113.7",
                    10,
                    Level::High,
                    &["attack.initial_access", "attack.t1190"],
                ),
                alert(
                    "busan",
                    "203.0.113.7",
                    70,
                    Level::Critical,
                    &["attack.initial_access"],
                ),
                alert(
                    "busan",
                    "198.51.100.1",
                    75,
                    Level::Low,
                    &["attack.discovery"],
                ),
                alert("busan", "198.51.100.1", 5000, Level::Low, &[]), // outside the window
            ])
            .unwrap();
        let b = store
            .board(None, Timestamp(0), Timestamp(119 * 1_000_000_000), 60)
            .unwrap();
        assert_eq!(b.alerts, 3);
        assert_eq!(b.series.len(), 2);
        assert_eq!(b.series[0].levels, [0, 0, 0, 1, 0]);
        assert_eq!(b.series[1].levels, [0, 1, 0, 0, 1]);
        assert_eq!(b.attackers[0].value, "203.0.113.7");
        assert_eq!(b.attackers[0].alerts, 2);
        assert_eq!(b.attackers[0].level, Level::Critical);
        assert_eq!(b.attackers[0].tenants, ["busan", "seoul"]);
        let cells: Vec<(&str, &str, u64)> = b
            .tactics
            .iter()
            .map(|c| (c.tenant.as_str(), c.tactic, c.alerts))
            .collect();
        assert_eq!(
            cells,
            [
                ("busan", "initial_access", 1),
                ("busan", "discovery", 1),
                ("seoul", "initial_access", 1)
            ]
        );
        assert_eq!(b.tenants[0].tenant, "busan");
        assert_eq!((b.tenants[0].alerts, b.tenants[0].severe), (2, 1));
        // One institution's board knows nothing of the other.
        let seoul = store
            .board(
                Some("seoul"),
                Timestamp(0),
                Timestamp(119 * 1_000_000_000),
                60,
            )
            .unwrap();
        assert_eq!(seoul.attackers[0].tenants, ["seoul"]);
        assert_eq!(seoul.tenants.len(), 1);
    }
}
