//! An incident's tasks: what the responders still have to do ("reset jlee's password",
//! "re-image WS-017"), who added each and who ticked it off when.

use super::{AlertStore, sql_err};
use crate::Result;
use haechi_event::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

pub(super) const MIGRATE_TO_6: &str = "
CREATE TABLE IF NOT EXISTS incident_tasks (
    id       INTEGER PRIMARY KEY,
    incident INTEGER NOT NULL,
    text     TEXT    NOT NULL,
    author   TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    done_by  TEXT,
    done_at  INTEGER
);
CREATE INDEX IF NOT EXISTS incident_tasks_incident ON incident_tasks (incident, id);
";

/// The most tasks one incident holds.
pub const MAX_TASKS: usize = 500;

/// One task of an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub id: i64,
    pub incident: i64,
    pub text: String,
    pub author: String,
    pub created: Timestamp,
    /// Who ticked it off, and when (`None`: still open).
    pub done_by: Option<String>,
    pub done_at: Option<Timestamp>,
}

const TASK_COLUMNS: &str = "id, incident, text, author, created, done_by, done_at";

fn row_to_task(r: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        id: r.get(0)?,
        incident: r.get(1)?,
        text: r.get(2)?,
        author: r.get(3)?,
        created: Timestamp(r.get(4)?),
        done_by: r.get(5)?,
        done_at: r.get::<_, Option<i64>>(6)?.map(Timestamp),
    })
}

impl AlertStore {
    /// The tasks of an incident, oldest first.
    pub fn tasks(&self, incident: i64) -> Result<Vec<Task>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM incident_tasks WHERE incident = ?1 ORDER BY id"
            ))
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(params![incident], row_to_task)
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }

    /// Adds a task to an incident the caller may see (`None`: no such incident for them).
    pub fn add_task(
        &self,
        incident: i64,
        tenant: Option<&str>,
        author: &str,
        text: &str,
    ) -> Result<Option<Task>> {
        if self.incident(incident, tenant)?.is_none() {
            return Ok(None);
        }
        if self.tasks(incident)?.len() >= MAX_TASKS {
            return Err(crate::StoreError::Invalid(format!(
                "incident {incident} already has {MAX_TASKS} tasks"
            )));
        }
        let created = Timestamp::now();
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO incident_tasks (incident, text, author, created) VALUES (?1, ?2, ?3, ?4)",
            params![incident, text, author, created.0],
        )
        .map_err(sql_err(&self.path))?;
        Ok(Some(Task {
            id: conn.last_insert_rowid(),
            incident,
            text: text.to_owned(),
            author: author.to_owned(),
            created,
            done_by: None,
            done_at: None,
        }))
    }

    /// Ticks a task off (`done`) or opens it again; answers before and after (`None`:
    /// no such task of an incident the caller may see).
    pub fn set_task_done(
        &self,
        incident: i64,
        task: i64,
        tenant: Option<&str>,
        actor: &str,
        done: bool,
    ) -> Result<Option<(Task, Task)>> {
        if self.incident(incident, tenant)?.is_none() {
            return Ok(None);
        }
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let select =
            format!("SELECT {TASK_COLUMNS} FROM incident_tasks WHERE id = ?1 AND incident = ?2");
        let Some(before) = conn
            .query_row(&select, params![task, incident], row_to_task)
            .optional()
            .map_err(sql_err(&self.path))?
        else {
            return Ok(None);
        };
        let (by, at) = if done {
            (Some(actor.to_owned()), Some(Timestamp::now()))
        } else {
            (None, None)
        };
        conn.execute(
            "UPDATE incident_tasks SET done_by = ?1, done_at = ?2 WHERE id = ?3",
            params![by, at.map(|t| t.0), task],
        )
        .map_err(sql_err(&self.path))?;
        let after = Task {
            done_by: by,
            done_at: at,
            ..before.clone()
        };
        Ok(Some((before, after)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_added_ticked_off_and_kept_per_institution() {
        let dir = tempfile::tempdir().unwrap();
        let store = AlertStore::open(&dir.path().join("s.db"), std::time::Duration::ZERO).unwrap();
        // No incident yet: nothing to add to.
        assert!(store.add_task(1, None, "user:kim", "x").unwrap().is_none());
        let alert = super::super::tests_support::alert(
            "seoul",
            "203.0.113.9",
            10,
            haechi_event::Level::High,
            &[],
        );
        store.record(&[alert]).unwrap();
        let task = store
            .add_task(1, Some("seoul"), "user:kim", "reset jlee's password")
            .unwrap()
            .expect("the incident exists");
        assert!(
            store
                .add_task(1, Some("busan"), "user:x", "y")
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .set_task_done(1, task.id, Some("busan"), "user:x", true)
                .unwrap()
                .is_none(),
            "another institution cannot tick it off"
        );
        let (before, after) = store
            .set_task_done(1, task.id, None, "user:duty", true)
            .unwrap()
            .unwrap();
        assert_eq!(before.done_by, None);
        assert_eq!(after.done_by.as_deref(), Some("user:duty"));
        assert_eq!(store.tasks(1).unwrap(), vec![after]);
        let (_, reopened) = store
            .set_task_done(1, task.id, None, "user:duty", false)
            .unwrap()
            .unwrap();
        assert!(reopened.done_at.is_none());
    }
}
