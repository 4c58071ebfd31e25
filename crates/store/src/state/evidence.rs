//! Evidence pinned to an incident: stored events an analyst chose ("this is the login
//! that mattered"), each kept as a copy taken from the event store when it was pinned,
//! with who pinned it, when, and why.
//!
//! A copy rather than a pointer: events carry no id unless an alert stood on them, and
//! the event store's retention may delete the original long before the incident's report
//! is needed. The server makes the copy itself from the event store (the client names
//! the event by its reference, never sends its content), so pinned evidence cannot be
//! forged. Only events of the incident's own institution can be pinned.

use super::{AlertStore, sql_err};
use crate::{Result, StoreError};
use haechi_event::Timestamp;
use rusqlite::params;
use serde::Serialize;

pub(super) const MIGRATE_TO_7: &str = "
CREATE TABLE IF NOT EXISTS incident_evidence (
    id         INTEGER PRIMARY KEY,
    incident   INTEGER NOT NULL,
    event_ref  TEXT    NOT NULL,
    event_time INTEGER NOT NULL,
    tenant     TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    note       TEXT    NOT NULL,
    pinned_by  TEXT    NOT NULL,
    pinned     INTEGER NOT NULL,
    UNIQUE (incident, event_ref)
);
CREATE INDEX IF NOT EXISTS incident_evidence_incident ON incident_evidence (incident, id);
";

/// The most events one incident pins.
pub const MAX_EVIDENCE: usize = 1000;
/// The largest event copy kept (bytes of JSON).
pub const MAX_EVIDENCE_BYTES: usize = 256 << 10;
/// The longest note.
pub const MAX_NOTE_CHARS: usize = 2000;

/// One pinned event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub id: i64,
    pub incident: i64,
    /// The event's reference (as `GET /api/events` and the timeline give it).
    pub event_ref: String,
    pub event_time: Timestamp,
    pub tenant: String,
    /// The event as it was stored when pinned.
    pub event: serde_json::Value,
    pub note: String,
    pub pinned_by: String,
    pub pinned: Timestamp,
}

/// An event to pin: the copy taken from the event store.
#[derive(Debug, Clone)]
pub struct EventCopy {
    pub event_ref: String,
    pub time: Timestamp,
    pub tenant: String,
    pub json: serde_json::Value,
}

const COLUMNS: &str = "id, incident, event_ref, event_time, tenant, event, note, pinned_by, pinned";

fn row_to_evidence(r: &rusqlite::Row<'_>) -> rusqlite::Result<Evidence> {
    Ok(Evidence {
        id: r.get(0)?,
        incident: r.get(1)?,
        event_ref: r.get(2)?,
        event_time: Timestamp(r.get(3)?),
        tenant: r.get(4)?,
        event: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
        note: r.get(6)?,
        pinned_by: r.get(7)?,
        pinned: Timestamp(r.get(8)?),
    })
}

impl AlertStore {
    /// The evidence of an incident, in the order it was pinned.
    pub fn evidence(&self, incident: i64) -> Result<Vec<Evidence>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM incident_evidence WHERE incident = ?1 ORDER BY id"
            ))
            .map_err(sql_err(&self.path))?;
        let rows = stmt
            .query_map(params![incident], row_to_evidence)
            .map_err(sql_err(&self.path))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql_err(&self.path))
    }

    /// Pins an event to an incident the caller may see (`None`: no such incident for
    /// them). The event must be of the incident's institution, not pinned already, and
    /// within the limits.
    pub fn pin_evidence(
        &self,
        incident: i64,
        tenant: Option<&str>,
        actor: &str,
        event: EventCopy,
        note: &str,
    ) -> Result<Option<Evidence>> {
        let Some(detail) = self.incident(incident, tenant)? else {
            return Ok(None);
        };
        if event.tenant != detail.incident.tenant {
            return Err(StoreError::Invalid(format!(
                "the event is of institution '{}', the incident of '{}': only the incident's own events are evidence",
                event.tenant, detail.incident.tenant
            )));
        }
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(StoreError::Invalid(format!(
                "a note is at most {MAX_NOTE_CHARS} characters"
            )));
        }
        let text = event.json.to_string();
        if text.len() > MAX_EVIDENCE_BYTES {
            return Err(StoreError::Invalid(format!(
                "the event is {} bytes; evidence copies are at most {MAX_EVIDENCE_BYTES}",
                text.len()
            )));
        }
        let pinned = self.evidence(incident)?;
        if pinned.len() >= MAX_EVIDENCE {
            return Err(StoreError::Invalid(format!(
                "incident {incident} already has {MAX_EVIDENCE} pinned events"
            )));
        }
        if pinned.iter().any(|e| e.event_ref == event.event_ref) {
            return Err(StoreError::Invalid(format!(
                "that event is pinned to incident {incident} already"
            )));
        }
        let now = Timestamp::now();
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO incident_evidence (incident, event_ref, event_time, tenant, event, note, pinned_by, pinned) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![incident, event.event_ref, event.time.0, event.tenant, text, note, actor, now.0],
        )
        .map_err(sql_err(&self.path))?;
        Ok(Some(Evidence {
            id: conn.last_insert_rowid(),
            incident,
            event_ref: event.event_ref,
            event_time: event.time,
            tenant: event.tenant,
            event: event.json,
            note: note.to_owned(),
            pinned_by: actor.to_owned(),
            pinned: now,
        }))
    }

    /// Removes a pinned event; answers what was removed (`None`: nothing of an incident
    /// the caller may see).
    pub fn unpin_evidence(
        &self,
        incident: i64,
        evidence: i64,
        tenant: Option<&str>,
    ) -> Result<Option<Evidence>> {
        if self.incident(incident, tenant)?.is_none() {
            return Ok(None);
        }
        let Some(found) = self
            .evidence(incident)?
            .into_iter()
            .find(|e| e.id == evidence)
        else {
            return Ok(None);
        };
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "DELETE FROM incident_evidence WHERE id = ?1 AND incident = ?2",
            params![evidence, incident],
        )
        .map_err(sql_err(&self.path))?;
        Ok(Some(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests_support::alert;
    use std::time::Duration;

    fn copy(tenant: &str, r: &str) -> EventCopy {
        EventCopy {
            event_ref: r.into(),
            time: Timestamp(1_700_000_000_000_000_000),
            tenant: tenant.into(),
            json: serde_json::json!({"source.ip": "203.0.113.66", "event.action": "login"}),
        }
    }

    #[test]
    fn events_of_the_incidents_institution_are_pinned_once_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(60)).unwrap();
        store
            .record(&[alert(
                "seoul",
                "203.0.113.66",
                100,
                haechi_event::Level::High,
                &[],
            )])
            .unwrap();
        // The first incident of a fresh store.
        let incident = 1;
        assert!(store.incident(incident, None).unwrap().is_some());
        let pinned = store
            .pin_evidence(
                incident,
                None,
                "user:kim",
                copy("seoul", "r1"),
                "the root login",
            )
            .unwrap()
            .unwrap();
        assert_eq!(store.evidence(incident).unwrap(), vec![pinned.clone()]);
        assert!(
            store
                .pin_evidence(incident, None, "user:kim", copy("seoul", "r1"), "")
                .is_err(),
            "pinned once"
        );
        let other = store.pin_evidence(incident, None, "user:kim", copy("busan", "r2"), "");
        assert!(other.unwrap_err().to_string().contains("busan"));
        assert!(
            store
                .pin_evidence(incident, Some("busan"), "user:lee", copy("seoul", "r3"), "")
                .unwrap()
                .is_none(),
            "another institution's analyst does not see the incident"
        );
        assert!(
            store
                .unpin_evidence(incident, pinned.id, Some("busan"))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store.unpin_evidence(incident, pinned.id, None).unwrap(),
            Some(pinned)
        );
        assert!(store.evidence(incident).unwrap().is_empty());
    }
}
