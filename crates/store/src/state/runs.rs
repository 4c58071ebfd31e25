//! Playbook runs: which playbook ran (or waits to run) for which alert, what it
//! planned, what came of each action, and who approved or rejected it. One run per
//! playbook and alert: a merged alert growing does not run a playbook again.

use super::{AlertStore, sql_err};
use crate::Result;
use haechi_event::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

pub(super) const MIGRATE_TO_5: &str = "
CREATE TABLE IF NOT EXISTS playbook_runs (
    id         INTEGER PRIMARY KEY,
    playbook   TEXT    NOT NULL,
    alert      INTEGER NOT NULL,
    tenant     TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    plan       TEXT    NOT NULL,
    outcomes   TEXT,
    created    INTEGER NOT NULL,
    decided_by TEXT,
    finished   INTEGER,
    UNIQUE (playbook, alert)
);
CREATE INDEX IF NOT EXISTS playbook_runs_status ON playbook_runs (status, id);
CREATE INDEX IF NOT EXISTS playbook_runs_tenant ON playbook_runs (tenant, id);
CREATE INDEX IF NOT EXISTS incident_alerts_by_alert ON incident_alerts (alert, incident);
CREATE INDEX IF NOT EXISTS alerts_tenant_state ON alerts (tenant, state);
";

/// Run states: `pending` (waits for approval), `running`, `done`, `failed` (an action
/// failed, or the plan could not be made), `rejected`.
pub const RUN_STATES: [&str; 5] = ["pending", "running", "done", "failed", "rejected"];

/// A playbook run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub playbook: String,
    pub alert: i64,
    pub tenant: String,
    pub status: String,
    /// The planned actions (JSON written by the playbook engine), or the reason no plan
    /// could be made.
    pub plan: serde_json::Value,
    pub outcomes: Option<serde_json::Value>,
    pub created: Timestamp,
    pub decided_by: Option<String>,
    pub finished: Option<Timestamp>,
}

fn row_to_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(Run {
        id: r.get(0)?,
        playbook: r.get(1)?,
        alert: r.get(2)?,
        tenant: r.get(3)?,
        status: r.get(4)?,
        plan: json(r.get(5)?).unwrap_or(serde_json::Value::Null),
        outcomes: json(r.get(6)?),
        created: Timestamp(r.get(7)?),
        decided_by: r.get(8)?,
        finished: r.get::<_, Option<i64>>(9)?.map(Timestamp),
    })
}

const RUN_COLUMNS: &str =
    "id, playbook, alert, tenant, status, plan, outcomes, created, decided_by, finished";

impl AlertStore {
    /// Records a new run; `None` when this playbook already ran for this alert.
    pub fn create_run(
        &self,
        playbook: &str,
        alert: i64,
        tenant: &str,
        status: &str,
        plan: &serde_json::Value,
    ) -> Result<Option<i64>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let n = conn
            .execute(
                "INSERT OR IGNORE INTO playbook_runs (playbook, alert, tenant, status, plan, created) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![playbook, alert, tenant, status, plan.to_string(), Timestamp::now().0],
            )
            .map_err(sql_err(&self.path))?;
        Ok((n == 1).then(|| conn.last_insert_rowid()))
    }

    /// Moves a run from `from` to `to` if it is still in `from` (so two approvers
    /// cannot both run it); returns whether it moved.
    pub fn transition_run(
        &self,
        id: i64,
        from: &str,
        to: &str,
        decided_by: Option<&str>,
    ) -> Result<bool> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let n = conn
            .execute(
                "UPDATE playbook_runs SET status = ?3, decided_by = coalesce(?4, decided_by) WHERE id = ?1 AND status = ?2",
                params![id, from, to, decided_by],
            )
            .map_err(sql_err(&self.path))?;
        Ok(n == 1)
    }

    /// Ends a run with what came of its actions.
    pub fn finish_run(&self, id: i64, status: &str, outcomes: &serde_json::Value) -> Result<()> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "UPDATE playbook_runs SET status = ?2, outcomes = ?3, finished = ?4 WHERE id = ?1",
            params![id, status, outcomes.to_string(), Timestamp::now().0],
        )
        .map_err(sql_err(&self.path))?;
        Ok(())
    }

    /// One run, if `tenant` (when given) may see it.
    pub fn run(&self, id: i64, tenant: Option<&str>) -> Result<Option<Run>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let run = conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM playbook_runs WHERE id = ?1"),
                [id],
                row_to_run,
            )
            .optional()
            .map_err(sql_err(&self.path))?;
        Ok(run.filter(|r| tenant.is_none_or(|t| t == r.tenant)))
    }

    /// Runs, newest first, of one institution and/or in one state.
    pub fn runs(
        &self,
        tenant: Option<&str>,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Run>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM playbook_runs WHERE (?1 IS NULL OR tenant = ?1) \
             AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![tenant, status, limit.min(super::MAX_LIST) as i64],
                row_to_run,
            )?
            .collect()
        })
        .map_err(sql_err(&self.path))
    }

    /// The incident an alert belongs to, if any.
    pub fn incident_of_alert(&self, alert: i64) -> Result<Option<i64>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row(
            "SELECT incident FROM incident_alerts WHERE alert = ?1 ORDER BY incident DESC LIMIT 1",
            [alert],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn one_run_per_playbook_and_alert_and_one_approval_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        let plan = serde_json::json!([{"action": "block"}]);
        let id = store
            .create_run("p", 7, "seoul", "pending", &plan)
            .unwrap()
            .unwrap();
        assert_eq!(
            store.create_run("p", 7, "seoul", "pending", &plan).unwrap(),
            None
        );
        assert!(
            store
                .transition_run(id, "pending", "running", Some("user:kim"))
                .unwrap()
        );
        assert!(
            !store
                .transition_run(id, "pending", "running", Some("user:lee"))
                .unwrap()
        );
        store
            .finish_run(id, "done", &serde_json::json!([{"ok": true}]))
            .unwrap();
        let run = store.run(id, Some("seoul")).unwrap().unwrap();
        assert_eq!(
            (run.status.as_str(), run.decided_by.as_deref()),
            ("done", Some("user:kim"))
        );
        assert!(store.run(id, Some("busan")).unwrap().is_none());
        assert_eq!(store.runs(None, Some("done"), 10).unwrap().len(), 1);
    }
}
