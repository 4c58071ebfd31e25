//! Retro-hunts as they ran: when indicators arrive in the sharing hub, stored events are
//! searched for them, and each pass is kept here with what it read. A pass whose
//! candidate queries matched more events than it reads hunted the newest only
//! (`truncated`); the console says so, since missing alerts do not.

use super::{AlertStore, sql_err};
use crate::Result;
use haechi_event::Timestamp;
use rusqlite::params;
use serde::Serialize;

pub(super) const MIGRATE_TO_8: &str = "
CREATE TABLE IF NOT EXISTS retro_hunts (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    new_indicators INTEGER NOT NULL,
    events_checked INTEGER NOT NULL,
    alerts         INTEGER NOT NULL,
    matched        INTEGER NOT NULL,
    truncated      INTEGER NOT NULL,
    seconds        REAL    NOT NULL
);
";

/// The passes kept (older ones are dropped).
pub const MAX_RETRO_HUNTS: i64 = 1000;

/// One retro-hunt pass.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RetroHunt {
    pub id: i64,
    /// When it ran (RFC 3339).
    pub at: String,
    pub new_indicators: u64,
    /// Events read and checked.
    pub events_checked: u64,
    pub alerts: u64,
    /// Events the candidate queries matched (more than read when truncated).
    pub matched: u64,
    /// Whether some matched events were not read (the newest were hunted).
    pub truncated: bool,
    pub seconds: f64,
}

/// What a pass did, to record.
#[derive(Debug, Clone, Copy, Default)]
pub struct RetroHuntRun {
    pub new_indicators: u64,
    pub events_checked: u64,
    pub alerts: u64,
    pub matched: u64,
    pub truncated: bool,
    pub seconds: f64,
}

impl AlertStore {
    /// Records a retro-hunt pass (and drops the oldest past [`MAX_RETRO_HUNTS`]).
    pub fn record_retro_hunt(&self, run: &RetroHuntRun) -> Result<i64> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err(&self.path))?;
        tx.execute(
            "INSERT INTO retro_hunts (at, new_indicators, events_checked, alerts, matched, truncated, seconds)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                Timestamp::now().0,
                run.new_indicators as i64,
                run.events_checked as i64,
                run.alerts as i64,
                run.matched as i64,
                run.truncated,
                run.seconds
            ],
        )
        .map_err(sql_err(&self.path))?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "DELETE FROM retro_hunts WHERE id <= ?1",
            [id - MAX_RETRO_HUNTS],
        )
        .map_err(sql_err(&self.path))?;
        tx.commit().map_err(sql_err(&self.path))?;
        Ok(id)
    }

    /// The latest passes, newest first.
    pub fn retro_hunts(&self, limit: usize) -> Result<Vec<RetroHunt>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut st = conn
            .prepare(
                "SELECT id, at, new_indicators, events_checked, alerts, matched, truncated, seconds
                 FROM retro_hunts ORDER BY id DESC LIMIT ?1",
            )
            .map_err(sql_err(&self.path))?;
        st.query_map([limit as i64], |r| {
            Ok(RetroHunt {
                id: r.get(0)?,
                at: Timestamp(r.get(1)?).to_rfc3339(),
                new_indicators: r.get::<_, i64>(2)? as u64,
                events_checked: r.get::<_, i64>(3)? as u64,
                alerts: r.get::<_, i64>(4)? as u64,
                matched: r.get::<_, i64>(5)? as u64,
                truncated: r.get(6)?,
                seconds: r.get(7)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(sql_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_are_kept_newest_first_with_their_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let store = AlertStore::open(
            &dir.path().join("state.db"),
            std::time::Duration::from_secs(60),
        )
        .unwrap();
        let full = RetroHuntRun {
            new_indicators: 2,
            events_checked: 40,
            alerts: 3,
            matched: 40,
            ..Default::default()
        };
        let cut = RetroHuntRun {
            matched: 900,
            events_checked: 100,
            truncated: true,
            ..full
        };
        store.record_retro_hunt(&full).unwrap();
        store.record_retro_hunt(&cut).unwrap();
        let passes = store.retro_hunts(10).unwrap();
        assert_eq!(passes.len(), 2);
        assert!(passes[0].truncated && passes[0].matched == 900);
        assert!(!passes[1].truncated);
    }
}
