//! The state store: alerts and the risk index of each institution (and, next, incidents,
//! users and the audit trail) in one
//! SQLite database (`state.db` in WAL mode) beside the event store.
//!
//! SQLite because state is small, relational and read by many (console, API, CLI) while
//! one process writes; WAL mode lets readers run beside the writer, and a committed
//! transaction survives a crash of the process.
//!
//! [`AlertStore::record`] merges an alert into an earlier one of the same tenant, rule
//! and entity when their event times lie within the merge window of each other: the
//! count grows, first/last seen widen, and the event references are appended (at most
//! [`MAX_EVENT_REFS`]). A flood of one detection stays one alert.

use crate::{Result, StoreError};
use haechi_event::alert::MAX_EVENT_REFS;
use haechi_event::{
    Alert, AlertSource, AlertState, Disposition, EventRef, Level, Timestamp, Triage,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub mod blocklists;
pub mod board;
pub mod evidence;
pub mod incidents;
pub mod retro;
pub mod runs;
pub mod tasks;
pub use blocklists::{BlockEntry, EntryKind};
pub use incidents::{
    Campaign, Grouping, Incident, IncidentChange, IncidentDetail, IncidentFilter, Note,
};
pub use runs::Run;

/// The schema version this code writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 8;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    rule_id     TEXT    NOT NULL,
    rule_title  TEXT    NOT NULL,
    level       INTEGER NOT NULL,
    entity      TEXT    NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    attribution TEXT    NOT NULL,
    events      TEXT    NOT NULL,
    details     TEXT    NOT NULL,
    updated     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_merge ON alerts (tenant, rule_id, entity, last_seen);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (last_seen);
CREATE INDEX IF NOT EXISTS alerts_tenant_time ON alerts (tenant, last_seen);
CREATE TABLE IF NOT EXISTS risk_series (
    tenant      TEXT    NOT NULL,
    start       INTEGER NOT NULL,
    risk        REAL    NOT NULL,
    anomaly     REAL    NOT NULL,
    detail      TEXT    NOT NULL,
    PRIMARY KEY (tenant, start)
);
CREATE TABLE IF NOT EXISTS risk_status (
    tenant      TEXT    PRIMARY KEY,
    computed    INTEGER NOT NULL,
    status      TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS applied_batches (
    id          TEXT    PRIMARY KEY,
    at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS applied_batches_at ON applied_batches (at);
";

/// Each schema version after the first and the statements that reach it from the one
/// before, in order. `AlertStore::open` applies those above the database's version, each
/// in one transaction; a database from any earlier Haechi therefore opens (tested from
/// every version in `migrations_from_every_earlier_version_keep_the_data`).
const MIGRATIONS: [(i64, &str); 7] = [
    (2, MIGRATE_TO_2),
    (3, incidents::MIGRATE_TO_3),
    (4, blocklists::MIGRATE_TO_4),
    (5, runs::MIGRATE_TO_5),
    (6, tasks::MIGRATE_TO_6),
    (7, evidence::MIGRATE_TO_7),
    (8, retro::MIGRATE_TO_8),
];

/// How long the ids of recorded bus batches are kept (a redelivery comes within
/// minutes; a week covers a worker that was down for days).
const APPLIED_BATCH_KEEP_NANOS: i64 = 7 * 86_400 * 1_000_000_000;

/// Version 2: alerts have a triage state, an assignee and a disposition.
const MIGRATE_TO_2: &str = "
ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'new';
ALTER TABLE alerts ADD COLUMN assignee TEXT;
ALTER TABLE alerts ADD COLUMN disposition TEXT;
CREATE INDEX IF NOT EXISTS alerts_state_time ON alerts (state, last_seen);
";

/// The columns [`row_to_alert`] reads, in its order.
const ALERT_COLUMNS: &str = "id, tenant, source, rule_id, rule_title, level, entity, first_seen, \
    last_seen, count, attribution, events, details, updated, state, assignee, disposition";

/// One bucket of an institution's risk index, as kept for the console's charts.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskPoint {
    pub tenant: String,
    /// Start of the bucket.
    pub start: Timestamp,
    /// The index, 0–100.
    pub risk: f64,
    /// Robust z-score of the index against the institution's baseline.
    pub anomaly: f64,
    /// The components of the index (JSON object, written by the risk crate).
    pub detail: String,
}

/// The latest risk status of an institution (JSON written by the risk crate).
#[derive(Debug, Clone, PartialEq)]
pub struct RiskStatusRow {
    pub tenant: String,
    pub computed: Timestamp,
    pub status: String,
}

/// What [`AlertStore::record`] did with a batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecordStats {
    pub inserted: u64,
    pub merged: u64,
}

/// Which alerts to list. The default lists the newest 100 of every tenant.
#[derive(Debug, Clone)]
pub struct AlertFilter {
    /// Restrict to one tenant (an institution's user always has this set).
    pub tenant: Option<String>,
    pub min_level: Level,
    pub source: Option<AlertSource>,
    pub rule_id: Option<String>,
    /// Alerts whose last event is at or after this time.
    pub since: Option<Timestamp>,
    /// Alerts whose last event is before this time.
    pub until: Option<Timestamp>,
    pub state: Option<AlertState>,
    /// Alerts about this entity (`source.ip=203.0.113.9`), or whose entity value is this.
    pub entity: Option<String>,
    /// Alerts whose rule carries this tag (`attack.initial_access`).
    pub tag: Option<String>,
    pub assignee: Option<String>,
    /// Paging: alerts listed after this one (the last of the previous page).
    pub after_id: Option<i64>,
    pub limit: usize,
}

impl Default for AlertFilter {
    fn default() -> Self {
        AlertFilter {
            tenant: None,
            min_level: Level::Informational,
            source: None,
            rule_id: None,
            since: None,
            until: None,
            state: None,
            entity: None,
            tag: None,
            assignee: None,
            after_id: None,
            limit: 100,
        }
    }
}

/// A triage change; what is `None` stays as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageChange {
    pub state: Option<AlertState>,
    /// `Some(None)` takes the alert away from whoever had it.
    pub assignee: Option<Option<String>>,
    pub disposition: Option<Disposition>,
}

impl TriageChange {
    fn apply(&self, t: &mut Triage) {
        if let Some(s) = self.state {
            t.state = s;
            if s != AlertState::Closed {
                t.disposition = None;
            }
        }
        if let Some(a) = &self.assignee {
            t.assignee = a.clone();
        }
        if let Some(d) = self.disposition {
            t.disposition = Some(d);
        }
    }
}

/// The most alerts one listing returns.
pub const MAX_LIST: usize = 10_000;

/// Alerts in SQLite.
pub struct AlertStore {
    /// The connection that writes (the pipeline's).
    conn: Mutex<Connection>,
    /// A second connection for listings, so that API and console reads never wait
    /// behind the pipeline's writes or hold them up (WAL mode lets them run together).
    reader: Mutex<Connection>,
    merge_window_nanos: i64,
    /// How recorded alerts are grouped into incidents.
    grouping: Grouping,
    path: PathBuf,
}

/// The rule attribution kept beside an alert (one JSON column: it is read, not queried).
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Attribution {
    author: Option<String>,
    status: Option<String>,
    references: Vec<String>,
    tags: Vec<String>,
}

/// How far apart the detections of one device storm may be and still grow one alert,
/// whatever `detect.merge_window_secs` says (ten minutes, its default).
const STORM_MERGE_WINDOW_NANOS: i64 = 600_000_000_000;

impl AlertStore {
    /// Opens (creating if needed) `path` for writing; identical alerts within
    /// `merge_window` of each other are merged.
    pub fn open(path: &Path, merge_window: Duration) -> Result<AlertStore> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(crate::io_err(dir))?;
        }
        let conn = Connection::open(path).map_err(sql_err(path))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(sql_err(path))?;
        // Recording alerts runs the same few dozen statements for every alert: keep them
        // compiled (a storm of equipment alerts otherwise spends its time in SQL parsing).
        conn.set_prepared_statement_cache_capacity(64);
        // FULL: a committed transaction survives a power cut, not only a crash (with
        // NORMAL the last commits can roll back while the event log, released once its
        // alerts were recorded, and the audit log, FULL, keep theirs). Alerts are
        // recorded a batch per transaction, so the fsyncs stay few.
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(sql_err(path))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql_err(path))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Invalid(format!(
                "{} has schema version {version}, newer than this Haechi understands ({SCHEMA_VERSION}); upgrade Haechi",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA).map_err(sql_err(path))?;
        for (to, migration) in MIGRATIONS {
            if version < to {
                conn.execute_batch(&format!(
                    "BEGIN IMMEDIATE; {migration} PRAGMA user_version={to}; COMMIT;"
                ))
                .map_err(sql_err(path))?;
            }
        }
        let reader = read_connection(path)?;
        Ok(AlertStore {
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            merge_window_nanos: i64::try_from(merge_window.as_nanos()).unwrap_or(i64::MAX),
            grouping: Grouping::default(),
            path: path.to_owned(),
        })
    }

    /// Sets how recorded alerts are grouped into incidents (default: one hour, medium).
    pub fn with_grouping(mut self, grouping: Grouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// Opens an existing database for reading beside a running writer.
    pub fn open_read_only(path: &Path) -> Result<AlertStore> {
        if !path.exists() {
            return Err(StoreError::Invalid(format!(
                "no alerts yet: {} does not exist (alerts appear once `haechi serve` or `haechi ingest` runs with rules)",
                path.display()
            )));
        }
        let conn = read_connection(path)?;
        let reader = read_connection(path)?;
        Ok(AlertStore {
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            merge_window_nanos: 0,
            grouping: Grouping::default(),
            path: path.to_owned(),
        })
    }

    /// Stores a batch of alerts in one transaction, merging each into an earlier
    /// identical alert within the window. Returns the ids in the order of `alerts`.
    pub fn record(&self, alerts: &[Alert]) -> Result<(RecordStats, Vec<i64>)> {
        Ok(self.record_once(None, alerts)?.unwrap_or_default())
    }

    /// [`AlertStore::record`] for the alerts of one batch of the scale-out bus, at most
    /// once: the batch's id is kept in the same transaction, so a batch delivered again
    /// (its worker died before acknowledging) records nothing and returns `None`.
    pub fn record_batch(
        &self,
        batch_id: &str,
        alerts: &[Alert],
    ) -> Result<Option<(RecordStats, Vec<i64>)>> {
        self.record_once(Some(batch_id), alerts)
    }

    fn record_once(
        &self,
        batch_id: Option<&str>,
        alerts: &[Alert],
    ) -> Result<Option<(RecordStats, Vec<i64>)>> {
        let mut stats = RecordStats::default();
        let mut ids = Vec::with_capacity(alerts.len());
        if alerts.is_empty() {
            return Ok(Some((stats, ids)));
        }
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err(&self.path))?;
        if let Some(batch) = batch_id {
            let now = Timestamp::now().0;
            let fresh = tx
                .execute(
                    "INSERT OR IGNORE INTO applied_batches (id, at) VALUES (?1, ?2)",
                    rusqlite::params![batch, now],
                )
                .map_err(sql_err(&self.path))?;
            if fresh == 0 {
                return Ok(None);
            }
            tx.execute(
                "DELETE FROM applied_batches WHERE at < ?1",
                [now - APPLIED_BATCH_KEEP_NANOS],
            )
            .map_err(sql_err(&self.path))?;
        }
        for alert in alerts {
            let id = match self.find_mergeable(&tx, alert)? {
                Some(existing) => {
                    self.merge_into(&tx, existing, alert)?;
                    stats.merged += 1;
                    existing
                }
                None => {
                    let id = self.insert(&tx, alert)?;
                    stats.inserted += 1;
                    id
                }
            };
            incidents::group(&tx, &self.grouping, alert, id).map_err(sql_err(&self.path))?;
            ids.push(id);
        }
        tx.commit().map_err(sql_err(&self.path))?;
        Ok(Some((stats, ids)))
    }

    fn find_mergeable(&self, tx: &rusqlite::Transaction<'_>, alert: &Alert) -> Result<Option<i64>> {
        // A storm alert (a device over its rate ceiling) exists to be one growing alert per
        // device and signature: it merges even when other alerts may not.
        let storm = alert.details.get("storm").and_then(|v| v.as_bool()) == Some(true);
        let w = if storm {
            self.merge_window_nanos.max(STORM_MERGE_WINDOW_NANOS)
        } else {
            self.merge_window_nanos
        };
        if w == 0 {
            return Ok(None);
        }
        tx.prepare_cached("SELECT id FROM alerts WHERE tenant = ?1 AND rule_id = ?2 AND entity = ?3 \
             AND last_seen >= ?4 AND first_seen <= ?5 AND state != 'closed' ORDER BY last_seen DESC LIMIT 1").map_err(sql_err(&self.path))?.query_row(
            params![
                alert.tenant,
                alert.rule_id,
                alert.entity,
                alert.first_seen.0.saturating_sub(w),
                alert.last_seen.0.saturating_add(w),
            ],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(&self.path))
    }

    fn merge_into(&self, tx: &rusqlite::Transaction<'_>, id: i64, alert: &Alert) -> Result<()> {
        let (first, last, count, events): (i64, i64, i64, String) = tx
            .prepare_cached("SELECT first_seen, last_seen, count, events FROM alerts WHERE id = ?1")
            .map_err(sql_err(&self.path))?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(sql_err(&self.path))?;
        let mut refs: Vec<EventRef> = serde_json::from_str(&events).unwrap_or_default();
        for e in &alert.events {
            if refs.len() >= MAX_EVENT_REFS {
                break;
            }
            if !refs.contains(e) {
                refs.push(e.clone());
            }
        }
        tx.prepare_cached("UPDATE alerts SET first_seen = ?2, last_seen = ?3, count = ?4, events = ?5, updated = ?6 WHERE id = ?1").map_err(sql_err(&self.path))?.execute(
            params![
                id,
                first.min(alert.first_seen.0),
                last.max(alert.last_seen.0),
                count.saturating_add(i64::try_from(alert.count).unwrap_or(i64::MAX)),
                json(&refs),
                Timestamp::now().0,
            ],
        )
        .map_err(sql_err(&self.path))?;
        Ok(())
    }

    fn insert(&self, tx: &rusqlite::Transaction<'_>, alert: &Alert) -> Result<i64> {
        let attribution = Attribution {
            author: alert.author.clone(),
            status: alert.status.clone(),
            references: alert.references.clone(),
            tags: alert.tags.clone(),
        };
        let events = &alert.events[..alert.events.len().min(MAX_EVENT_REFS)];
        tx.prepare_cached(
            "INSERT INTO alerts (tenant, source, rule_id, rule_title, level, entity, first_seen, \
             last_seen, count, attribution, events, details, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .map_err(sql_err(&self.path))?
        .execute(params![
            alert.tenant,
            alert.source.as_str(),
            alert.rule_id,
            alert.rule_title,
            alert.level as i64,
            alert.entity,
            alert.first_seen.0,
            alert.last_seen.0,
            i64::try_from(alert.count).unwrap_or(i64::MAX),
            json(&attribution),
            json(&events),
            json(&alert.details),
            Timestamp::now().0,
        ])
        .map_err(sql_err(&self.path))?;
        Ok(tx.last_insert_rowid())
    }

    /// Alerts matching `filter`, newest last event first.
    pub fn list(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
        let mut sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE level >= ?1");
        let mut args: Vec<rusqlite::types::Value> = vec![(filter.min_level as i64).into()];
        let mut bind = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(t) = &filter.tenant {
            bind(&mut sql, "tenant =", t.clone().into());
        }
        if let Some(s) = filter.source {
            bind(&mut sql, "source =", s.as_str().to_owned().into());
        }
        if let Some(r) = &filter.rule_id {
            bind(&mut sql, "rule_id =", r.clone().into());
        }
        if let Some(since) = filter.since {
            bind(&mut sql, "last_seen >=", since.0.into());
        }
        if let Some(until) = filter.until {
            bind(&mut sql, "last_seen <", until.0.into());
        }
        if let Some(state) = filter.state {
            bind(&mut sql, "state =", state.as_str().to_owned().into());
        }
        if let Some(a) = &filter.assignee {
            bind(&mut sql, "assignee =", a.clone().into());
        }
        if let Some(e) = &filter.entity {
            // `field=value` names one entity; a bare value matches it under any field.
            if e.contains('=') {
                bind(&mut sql, "entity =", e.clone().into());
            } else {
                bind(
                    &mut sql,
                    "substr(entity, instr(entity, '=') + 1) =",
                    e.clone().into(),
                );
            }
        }
        if let Some(tag) = &filter.tag {
            bind(&mut sql, "instr(attribution, ", json(tag).into());
            sql.push_str(") > 0");
        }
        if let Some(after) = filter.after_id {
            // Keyset paging in the listing's order (last_seen DESC, id DESC).
            bind(
                &mut sql,
                "(last_seen, id) < (SELECT last_seen, id FROM alerts WHERE id =",
                after.into(),
            );
            sql.push(')');
        }
        sql.push_str(&format!(
            " ORDER BY last_seen DESC, id DESC LIMIT {}",
            filter.limit.min(MAX_LIST)
        ));
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare(&sql).map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), row_to_alert)
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }

    /// Alerts created after alert `id`, oldest first (for following new alerts live).
    pub fn after(&self, id: i64, limit: usize) -> Result<Vec<Alert>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(params![id, limit.min(MAX_LIST) as i64], row_to_alert)
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }

    /// One alert by id, if it exists and belongs to `tenant` (when given).
    pub fn get(&self, id: i64, tenant: Option<&str>) -> Result<Option<Alert>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let alert = conn
            .query_row(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"),
                [id],
                row_to_alert,
            )
            .optional()
            .map_err(sql_err(&self.path))?;
        Ok(alert.filter(|a| tenant.is_none_or(|t| t == a.tenant)))
    }

    /// Calls `f` with every alert whose last event is at or after `since`, oldest first,
    /// without holding them all in memory (the risk index reads weeks of alerts).
    pub fn for_each_since(&self, since: Timestamp, mut f: impl FnMut(Alert)) -> Result<u64> {
        // Its own connection: a scan of weeks must not hold up the API's listings.
        let conn = read_connection(&self.path)?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE last_seen >= ?1 ORDER BY last_seen, id"
            ))
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map([since.0], row_to_alert)
            .map_err(sql_err(&self.path))?;
        let mut n = 0;
        for row in rows {
            f(row.map_err(sql_err(&self.path))?);
            n += 1;
        }
        Ok(n)
    }

    /// Replaces what is stored of the risk index from `from` on (every institution) with
    /// `points`, and the latest statuses with `statuses`, in one transaction: a bucket
    /// that fell back to 0, or an institution with no alerts left in the window, does
    /// not keep a stale value.
    pub fn replace_risk(
        &self,
        from: Timestamp,
        points: &[RiskPoint],
        statuses: &[RiskStatusRow],
    ) -> Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err(&self.path))?;
        tx.execute("DELETE FROM risk_series WHERE start >= ?1", [from.0])
            .map_err(sql_err(&self.path))?;
        tx.execute("DELETE FROM risk_status", [])
            .map_err(sql_err(&self.path))?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO risk_series (tenant, start, risk, anomaly, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(sql_err(&self.path))?;
            for p in points {
                put.execute(params![p.tenant, p.start.0, p.risk, p.anomaly, p.detail])
                    .map_err(sql_err(&self.path))?;
            }
            let mut status = tx
                .prepare_cached(
                    "INSERT INTO risk_status (tenant, computed, status) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql_err(&self.path))?;
            for s in statuses {
                status
                    .execute(params![s.tenant, s.computed.0, s.status])
                    .map_err(sql_err(&self.path))?;
            }
        }
        tx.commit().map_err(sql_err(&self.path))
    }

    /// Risk buckets at or after `since`, per tenant (or one tenant), oldest first; at most
    /// [`MAX_LIST`] × 10 points.
    pub fn risk_series(&self, tenant: Option<&str>, since: Timestamp) -> Result<Vec<RiskPoint>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare(
                "SELECT tenant, start, risk, anomaly, detail FROM risk_series \
                 WHERE start >= ?1 AND (?2 IS NULL OR tenant = ?2) ORDER BY tenant, start LIMIT ?3",
            )
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(params![since.0, tenant, (MAX_LIST * 10) as i64], |r| {
                Ok(RiskPoint {
                    tenant: r.get(0)?,
                    start: Timestamp(r.get(1)?),
                    risk: r.get(2)?,
                    anomaly: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }

    /// The latest risk status of every institution (or one).
    pub fn risk_status(&self, tenant: Option<&str>) -> Result<Vec<RiskStatusRow>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare(
                "SELECT tenant, computed, status FROM risk_status WHERE (?1 IS NULL OR tenant = ?1) ORDER BY tenant",
            )
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(params![tenant], |r| {
                Ok(RiskStatusRow {
                    tenant: r.get(0)?,
                    computed: Timestamp(r.get(1)?),
                    status: r.get(2)?,
                })
            })
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }

    /// Applies one triage change to the alerts `ids` that `tenant` (when given) may
    /// see, in one transaction. Returns each changed alert before and after, for the
    /// audit log; ids that do not exist or belong to another institution are skipped.
    pub fn triage(
        &self,
        ids: &[i64],
        tenant: Option<&str>,
        change: &TriageChange,
    ) -> Result<Vec<(Alert, Alert)>> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err(&self.path))?;
        let mut changed = Vec::new();
        for &id in ids {
            let before = tx
                .query_row(
                    &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"),
                    [id],
                    row_to_alert,
                )
                .optional()
                .map_err(sql_err(&self.path))?;
            let Some(before) = before.filter(|a| tenant.is_none_or(|t| t == a.tenant)) else {
                continue;
            };
            let mut after = before.clone();
            change.apply(&mut after.triage);
            if after.triage == before.triage {
                continue;
            }
            tx.execute(
                "UPDATE alerts SET state = ?2, assignee = ?3, disposition = ?4 WHERE id = ?1",
                params![
                    id,
                    after.triage.state.as_str(),
                    after.triage.assignee,
                    after.triage.disposition.map(Disposition::as_str)
                ],
            )
            .map_err(sql_err(&self.path))?;
            changed.push((before, after));
        }
        tx.commit().map_err(sql_err(&self.path))?;
        Ok(changed)
    }

    /// Every institution that has alerts, with its count of alerts and of open ones
    /// (not closed), or only `tenant`.
    pub fn tenant_counts(&self, tenant: Option<&str>) -> Result<Vec<(String, u64, u64)>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare(
                "SELECT tenant, count(*), sum(state != 'closed') FROM alerts \
                 WHERE (?1 IS NULL OR tenant = ?1) GROUP BY tenant ORDER BY tenant",
            )
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(params![tenant], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }

    /// Adds tags to an alert (those it has stay; duplicates are dropped); answers the
    /// tags before and after, or `None` when there is no such alert.
    pub fn add_tags(&self, id: i64, tags: &[String]) -> Result<Option<(Vec<String>, Vec<String>)>> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err(&self.path))?;
        let Some(text) = tx
            .query_row(
                "SELECT attribution FROM alerts WHERE id = ?1",
                params![id],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(sql_err(&self.path))?
        else {
            return Ok(None);
        };
        let mut attribution: Attribution = serde_json::from_str(&text).unwrap_or_default();
        let before = attribution.tags.clone();
        for t in tags {
            if !attribution.tags.contains(t) {
                attribution.tags.push(t.clone());
            }
        }
        tx.execute(
            "UPDATE alerts SET attribution = ?1, updated = ?2 WHERE id = ?3",
            params![json(&attribution), Timestamp::now().0, id],
        )
        .map_err(sql_err(&self.path))?;
        tx.commit().map_err(sql_err(&self.path))?;
        Ok(Some((before, attribution.tags)))
    }

    /// How many incidents are stored (all tenants).
    pub fn incident_count(&self) -> Result<u64> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row("SELECT count(*) FROM incidents", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(sql_err(&self.path))
    }

    /// Whether the database answers (`/readyz`).
    pub fn ready(&self) -> Result<()> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|_| ())
        .map_err(sql_err(&self.path))
    }

    /// How many alerts are stored (all tenants).
    pub fn count(&self) -> Result<u64> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row("SELECT count(*) FROM alerts", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(sql_err(&self.path))
    }
}

fn read_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql_err(path))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(sql_err(path))?;
    Ok(conn)
}

fn row_to_alert(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    let attribution: Attribution =
        serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default();
    let level: i64 = r.get(5)?;
    let source: String = r.get(2)?;
    Ok(Alert {
        id: r.get(0)?,
        tenant: r.get(1)?,
        source: AlertSource::parse(&source).unwrap_or(AlertSource::Sigma),
        rule_id: r.get(3)?,
        rule_title: r.get(4)?,
        level: Level::ALL
            .get(usize::try_from(level).unwrap_or(0))
            .copied()
            .unwrap_or(Level::Informational),
        author: attribution.author,
        status: attribution.status,
        references: attribution.references,
        tags: attribution.tags,
        entity: r.get(6)?,
        first_seen: Timestamp(r.get(7)?),
        last_seen: Timestamp(r.get(8)?),
        count: r.get::<_, i64>(9)?.max(0) as u64,
        events: serde_json::from_str(&r.get::<_, String>(11)?).unwrap_or_default(),
        details: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
        stored: Timestamp(r.get(13)?),
        triage: Triage {
            state: AlertState::parse(&r.get::<_, String>(14)?).unwrap_or_default(),
            assignee: r.get(15)?,
            disposition: r
                .get::<_, Option<String>>(16)?
                .and_then(|d| Disposition::parse(&d)),
        },
    })
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

fn sql_err(path: &Path) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Index {
        partition: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Alerts for the state store's unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use haechi_event::{Alert, AlertSource, EventRef, Level, Timestamp};

    pub fn alert(tenant: &str, ip: &str, secs: i64, level: Level, tags: &[&str]) -> Alert {
        Alert {
            id: 0,
            tenant: tenant.into(),
            source: AlertSource::Sigma,
            rule_id: format!("rule-{secs}"),
            rule_title: "t".into(),
            level,
            author: None,
            status: None,
            references: vec![],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            entity: format!("source.ip={ip}"),
            first_seen: Timestamp(secs * 1_000_000_000),
            last_seen: Timestamp(secs * 1_000_000_000),
            count: 1,
            events: vec![EventRef {
                timestamp: Timestamp(secs * 1_000_000_000),
                id: format!("e{secs}"),
            }],
            details: Default::default(),
            stored: Timestamp(0),
            triage: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(tenant: &str, rule: &str, entity: &str, secs: i64) -> Alert {
        let mut a = tests_support::alert(tenant, "", secs, Level::High, &["attack.t1059"]);
        a.rule_id = rule.into();
        a.rule_title = format!("title of {rule}");
        a.author = Some("someone".into());
        a.status = Some("test".into());
        a.references = vec!["https://example.org".into()];
        a.entity = entity.into();
        a
    }

    /// Alerts and officers' changes are committed to disk (WAL, synchronous FULL), so a
    /// power cut after a commit keeps it, as the event log and the audit log do.
    #[test]
    fn commits_are_synced_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        let conn = store.conn.lock().unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            (mode.as_str(), sync),
            ("wal", 2),
            "WAL with synchronous FULL (2)"
        );
    }

    /// Two processes (the server and a command) writing alerts at once: each read-then-write
    /// transaction starts as a writer (`BEGIN IMMEDIATE`), so neither fails with a busy
    /// snapshot when the other committed between its read and its write.
    #[test]
    fn two_connections_recording_at_once_both_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let window = Duration::from_secs(600);
        drop(AlertStore::open(&path, window).unwrap());
        let writers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|who| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let store = AlertStore::open(&path, window).unwrap();
                    for i in 0..150 {
                        // Same entity every other time: the merge reads before it writes.
                        let entity = format!("host.name={who}{}", i % 2);
                        store
                            .record(&[alert("seoul", "r1", &entity, 100 + i)])
                            .unwrap_or_else(|e| panic!("writer {who}, alert {i}: {e}"));
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("a writer failed");
        }
        let store = AlertStore::open(&path, window).unwrap();
        let all = store
            .list(&AlertFilter {
                limit: 1000,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(all.iter().map(|a| a.count).sum::<u64>(), 300);
    }

    /// A database as each earlier Haechi left it (the base schema and the migrations up
    /// to its version), holding an alert in the first version's columns and, from version
    /// 3, the incident grouping it: the current code opens it, migrates it to the current
    /// version, and reads, changes and adds to what it held.
    #[test]
    fn migrations_from_every_earlier_version_keep_the_data() {
        for version in 1..SCHEMA_VERSION {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("state.db");
            {
                let conn = Connection::open(&path).unwrap();
                conn.execute_batch(SCHEMA).unwrap();
                for (to, migration) in MIGRATIONS.iter().filter(|(to, _)| *to <= version) {
                    conn.execute_batch(migration)
                        .unwrap_or_else(|e| panic!("to {to}: {e}"));
                }
                conn.execute_batch(&format!("PRAGMA user_version={version}"))
                    .unwrap();
                // The first version's alert columns only, as a real SigmaHQ detection.
                conn.execute(
                    "INSERT INTO alerts (tenant, source, rule_id, rule_title, level, entity, first_seen, \
                     last_seen, count, attribution, events, details, updated) VALUES \
                     ('seoul', 'sigma', '7745c2ea-24a5-4290-b680-04359cb84b35', 'Path Traversal Exploitation Attempts', \
                     3, 'source.ip=203.0.113.5', 1000000000, 2000000000, 2, '{}', \
                     '[{\"timestamp\":\"1970-01-01T00:00:01Z\",\"id\":\"e1\"}]', '{}', 2000000000)",
                    [],
                )
                .unwrap();
                if version >= 3 {
                    conn.execute(
                        "INSERT INTO incidents (tenant, title, level, first_seen, last_seen, alerts, created, updated) \
                         VALUES ('seoul', 'Path traversal from 203.0.113.5', 3, 1000000000, 2000000000, 1, 2000000000, 2000000000)",
                        [],
                    )
                    .unwrap();
                    conn.execute(
                        "INSERT INTO incident_alerts (incident, alert) VALUES (1, 1)",
                        [],
                    )
                    .unwrap();
                }
            }
            let store = AlertStore::open(&path, Duration::from_secs(600))
                .unwrap_or_else(|e| panic!("from version {version}: {e}"));
            let found: i64 = store
                .conn
                .lock()
                .unwrap()
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(found, SCHEMA_VERSION, "from version {version}");
            let alerts = store.list(&AlertFilter::default()).unwrap();
            assert_eq!(alerts.len(), 1, "from version {version}");
            assert_eq!(alerts[0].count, 2);
            assert_eq!(
                alerts[0].triage.state,
                AlertState::New,
                "from version {version}"
            );
            let close = TriageChange {
                state: Some(AlertState::Closed),
                assignee: None,
                disposition: Some(Disposition::TruePositive),
            };
            assert_eq!(
                store.triage(&[alerts[0].id], None, &close).unwrap().len(),
                1
            );
            if version >= 3 {
                let incidents = store
                    .incidents(&incidents::IncidentFilter {
                        limit: 10,
                        ..Default::default()
                    })
                    .unwrap();
                assert_eq!(incidents.len(), 1, "from version {version}");
            }
            store
                .record(&[alert("seoul", "r2", "host.name=ws1", 3000)])
                .unwrap();
            store
                .record_retro_hunt(&retro::RetroHuntRun::default())
                .unwrap();
            assert_eq!(store.count().unwrap(), 2, "from version {version}");
        }
    }

    #[test]
    fn a_database_of_a_newer_haechi_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(&format!("PRAGMA user_version={}", SCHEMA_VERSION + 1))
            .unwrap();
        let e = AlertStore::open(&path, Duration::from_secs(60))
            .err()
            .expect("refused");
        assert!(e.to_string().contains("upgrade Haechi"), "{e}");
    }

    #[test]
    fn triage_is_scoped_to_the_tenant_and_a_closed_alert_is_not_merged_into() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        let (_, ids) = store
            .record(&[
                alert("seoul", "r1", "host.name=ws1", 100),
                alert("busan", "r1", "host.name=ws9", 100),
            ])
            .unwrap();
        let close = TriageChange {
            state: Some(AlertState::Closed),
            assignee: Some(Some("kim".into())),
            disposition: Some(Disposition::Benign),
        };
        // Seoul's analyst may not close Busan's alert: only the Seoul one changes.
        let changed = store.triage(&ids, Some("seoul"), &close).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].0.triage.state, AlertState::New);
        assert_eq!(changed[0].1.triage.disposition, Some(Disposition::Benign));
        assert_eq!(
            store.get(ids[1], None).unwrap().unwrap().triage.state,
            AlertState::New
        );
        let closed = AlertFilter {
            state: Some(AlertState::Closed),
            ..Default::default()
        };
        assert_eq!(store.list(&closed).unwrap().len(), 1);
        // The same situation again within the window: a new alert, the closed one stays.
        let (stats, again) = store
            .record(&[alert("seoul", "r1", "host.name=ws1", 160)])
            .unwrap();
        assert_eq!(stats.inserted, 1);
        assert_ne!(again[0], ids[0]);
        // Filters by entity value and by tag, and keyset paging.
        let by_entity = AlertFilter {
            entity: Some("ws9".into()),
            ..Default::default()
        };
        assert_eq!(store.list(&by_entity).unwrap()[0].id, ids[1]);
        let by_tag = AlertFilter {
            tag: Some("attack.t1059".into()),
            ..Default::default()
        };
        assert_eq!(store.list(&by_tag).unwrap().len(), 3);
        let first = store
            .list(&AlertFilter {
                limit: 1,
                ..Default::default()
            })
            .unwrap();
        let next = store
            .list(&AlertFilter {
                limit: 5,
                after_id: Some(first[0].id),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(next.len(), 2);
        assert!(next.iter().all(|a| a.id != first[0].id));
        assert_eq!(
            store.tenant_counts(None).unwrap(),
            [("busan".to_string(), 1, 1), ("seoul".to_string(), 2, 1)]
        );
    }

    #[test]
    fn storm_alerts_grow_one_alert_even_with_merging_off() {
        let dir = tempfile::tempdir().unwrap();
        let store = AlertStore::open(&dir.path().join("state.db"), Duration::ZERO).unwrap();
        let storm = |secs: i64, count: u64| {
            let mut a = alert("seoul", "device:fortigate:40138", "observer=fgt-1", secs);
            a.source = AlertSource::Device;
            a.count = count;
            a.details.insert("storm".into(), true.into());
            a
        };
        let (_, first) = store.record(&[storm(100, 400)]).unwrap();
        let (stats, second) = store.record(&[storm(130, 250)]).unwrap();
        assert_eq!(stats.merged, 1);
        assert_eq!(first, second);
        assert_eq!(store.get(first[0], None).unwrap().unwrap().count, 650);
        // Other alerts still do not merge when merging is off.
        let (_, a) = store
            .record(&[alert("seoul", "r1", "host.name=ws1", 100)])
            .unwrap();
        let (_, b) = store
            .record(&[alert("seoul", "r1", "host.name=ws1", 101)])
            .unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_version_1_database_gains_the_triage_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch("PRAGMA user_version=1").unwrap();
            conn.execute(
                "INSERT INTO alerts (tenant, source, rule_id, rule_title, level, entity, first_seen, last_seen, count, attribution, events, details, updated) \
                 VALUES ('a', 'sigma', 'r', 't', 3, 'host.name=x', 1, 1, 1, '{}', '[]', '{}', 1)",
                [],
            )
            .unwrap();
        }
        let store = AlertStore::open(&path, Duration::from_secs(600)).unwrap();
        let old = store.list(&AlertFilter::default()).unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].triage, Triage::default());
    }

    #[test]
    fn risk_buckets_replace_earlier_values_and_are_read_per_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        let point = |tenant: &str, start: i64, risk: f64| RiskPoint {
            tenant: tenant.into(),
            start: Timestamp(start),
            risk,
            anomaly: 0.0,
            detail: "{}".into(),
        };
        let status = |tenant: &str, computed: i64| RiskStatusRow {
            tenant: tenant.into(),
            computed: Timestamp(computed),
            status: format!("{{\"at\":{computed}}}"),
        };
        store
            .replace_risk(
                Timestamp(0),
                &[
                    point("a", 0, 1.0),
                    point("a", 300, 2.0),
                    point("b", 0, 9.0),
                    point("b", 300, 4.0),
                ],
                &[status("a", 1), status("b", 1)],
            )
            .unwrap();
        // Recomputed from 300 on: a's bucket changes, b's fell back to 0 (not written),
        // and b has no status any more.
        store
            .replace_risk(Timestamp(300), &[point("a", 300, 5.0)], &[status("a", 2)])
            .unwrap();
        let a = store.risk_series(Some("a"), Timestamp(0)).unwrap();
        assert_eq!(
            a.iter().map(|p| (p.start.0, p.risk)).collect::<Vec<_>>(),
            [(0, 1.0), (300, 5.0)],
            "the recomputed bucket replaces the earlier one, earlier ones stay"
        );
        let b = store.risk_series(Some("b"), Timestamp(0)).unwrap();
        assert_eq!(
            b.iter().map(|p| (p.start.0, p.risk)).collect::<Vec<_>>(),
            [(0, 9.0)],
            "a bucket that fell back to 0 loses its stale value"
        );
        assert_eq!(store.risk_series(None, Timestamp(100)).unwrap().len(), 1);
        let statuses = store.risk_status(None).unwrap();
        assert_eq!(statuses.len(), 1, "b has no status any more");
        assert_eq!(statuses[0].status, "{\"at\":2}");
        assert!(store.risk_status(Some("b")).unwrap().is_empty());
    }

    #[test]
    fn alerts_since_a_time_stream_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        store
            .record(&[
                alert("t1", "r1", "a", 5_000),
                alert("t1", "r2", "a", 100),
                alert("t2", "r1", "a", 9_000),
            ])
            .unwrap();
        let mut seen = Vec::new();
        let n = store
            .for_each_since(Timestamp(1_000 * 1_000_000_000), |a| {
                seen.push((a.tenant, a.rule_id))
            })
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            seen,
            [
                ("t1".to_string(), "r1".to_string()),
                ("t2".into(), "r1".into())
            ]
        );
    }

    #[test]
    fn a_bus_batch_delivered_again_records_its_alerts_once() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        let batch = [alert("t1", "r1", "host.name=a", 0)];
        let first = store.record_batch("center.node.1", &batch).unwrap();
        assert_eq!(first.map(|(s, _)| s.inserted), Some(1));
        assert!(
            store
                .record_batch("center.node.1", &batch)
                .unwrap()
                .is_none(),
            "the same batch again records nothing"
        );
        let again = store.record_batch("center.node.2", &batch).unwrap();
        assert_eq!(
            again.map(|(s, _)| s.merged),
            Some(1),
            "another batch merges"
        );
        let all = store.list(&AlertFilter::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].count, 2, "counted once per batch, not per delivery");
    }

    #[test]
    fn identical_alerts_within_the_window_merge_with_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        let (stats, ids) = store
            .record(&[
                alert("t1", "r1", "host.name=a", 0),
                alert("t1", "r1", "host.name=a", 300),
                alert("t1", "r1", "host.name=b", 300),
                alert("t2", "r1", "host.name=a", 300),
                alert("t1", "r2", "host.name=a", 300),
            ])
            .unwrap();
        assert_eq!(
            stats,
            RecordStats {
                inserted: 4,
                merged: 1
            }
        );
        assert_eq!(ids[0], ids[1]);
        let (stats, _) = store
            .record(&[
                alert("t1", "r1", "host.name=a", 800),
                alert("t1", "r1", "host.name=a", 5_000),
            ])
            .unwrap();
        assert_eq!(
            stats,
            RecordStats {
                inserted: 1,
                merged: 1
            },
            "within 10 minutes of the last event merges, an hour later is a new alert"
        );
        let merged = store.get(ids[0], None).unwrap().unwrap();
        assert_eq!(merged.count, 3);
        assert_eq!(merged.first_seen, Timestamp(0));
        assert_eq!(merged.last_seen, Timestamp(800 * 1_000_000_000));
        assert_eq!(
            merged
                .events
                .iter()
                .map(|e| e.id.as_str())
                .collect::<Vec<_>>(),
            ["e0", "e300", "e800"]
        );
        assert_eq!(
            merged.author.as_deref(),
            Some("someone"),
            "attribution survives storage"
        );
        assert_eq!(merged.tags, ["attack.t1059"]);
    }

    #[test]
    fn listing_filters_by_tenant_level_and_rule_and_is_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = AlertStore::open(&path, Duration::ZERO).unwrap();
        let mut low = alert("t1", "r-low", "x", 5);
        low.level = Level::Low;
        store
            .record(&[alert("t1", "r1", "x", 1), alert("t2", "r1", "x", 2), low])
            .unwrap();
        let reader = AlertStore::open_read_only(&path).unwrap();
        let t1 = reader
            .list(&AlertFilter {
                tenant: Some("t1".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            t1.iter().map(|a| a.rule_id.as_str()).collect::<Vec<_>>(),
            ["r-low", "r1"],
            "one tenant never sees another's alerts"
        );
        let high = reader
            .list(&AlertFilter {
                min_level: Level::High,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(high.len(), 2);
        assert!(reader.get(t1[1].id, Some("t2")).unwrap().is_none());
        assert_eq!(reader.count().unwrap(), 3);
    }

    #[test]
    fn reading_a_missing_database_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = AlertStore::open_read_only(&dir.path().join("state.db"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no alerts yet"), "{err}");
    }
}
