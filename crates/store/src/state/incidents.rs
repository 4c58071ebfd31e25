//! Incidents: related alerts grouped automatically, and campaigns across institutions.
//!
//! When an alert is recorded, its **keys** are the entity it is about
//! (`entity:host.name=ws1`) and, when it names one, the attacker
//! (`attacker:203.0.113.9`, [`haechi_event::alert::attacker_of`]; private and local
//! addresses are not attackers across institutions). The alert joins the open
//! incident of its institution that shares a key and saw activity within the grouping
//! window; otherwise an alert at or above the minimum level opens a new incident.
//! Lower alerts only join incidents, they never open one: a flood of informational
//! detections does not become a flood of incidents.
//!
//! When the attacker of an incident is also the attacker of open incidents at other
//! institutions within the window, those incidents become one **campaign**. A campaign
//! is what the center sees across institutions; an institution's analyst sees their
//! own incident only.

use super::{AlertStore, sql_err};
use crate::Result;
use haechi_event::alert::{attacker_of, is_local_address};
use haechi_event::{Alert, Level, Timestamp};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

/// Version 3 of the state schema: incidents, their keys, alerts and notes; campaigns.
pub(super) const MIGRATE_TO_3: &str = "
CREATE TABLE IF NOT EXISTS incidents (
    id         INTEGER PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'new',
    level      INTEGER NOT NULL,
    owner      TEXT,
    campaign   INTEGER,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    alerts     INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_time ON incidents (last_seen);
CREATE INDEX IF NOT EXISTS incidents_tenant_time ON incidents (tenant, last_seen);
CREATE INDEX IF NOT EXISTS incidents_campaign ON incidents (campaign);
CREATE TABLE IF NOT EXISTS incident_keys (
    key      TEXT    NOT NULL,
    incident INTEGER NOT NULL,
    PRIMARY KEY (key, incident)
);
CREATE INDEX IF NOT EXISTS incident_keys_incident ON incident_keys (incident);
CREATE TABLE IF NOT EXISTS incident_alerts (
    incident INTEGER NOT NULL,
    alert    INTEGER NOT NULL,
    PRIMARY KEY (incident, alert)
);
CREATE INDEX IF NOT EXISTS incident_alerts_alert ON incident_alerts (alert);
CREATE TABLE IF NOT EXISTS incident_notes (
    id       INTEGER PRIMARY KEY,
    incident INTEGER NOT NULL,
    author   TEXT    NOT NULL,
    time     INTEGER NOT NULL,
    text     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_notes_incident ON incident_notes (incident);
CREATE TABLE IF NOT EXISTS campaigns (
    id         INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    created    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS campaigns_key ON campaigns (key, last_seen);
";

/// How alerts are grouped into incidents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grouping {
    /// Alerts whose activity lies within this many nanoseconds of an incident's join it.
    pub window_nanos: i64,
    /// The lowest level that opens an incident.
    pub min_level: Level,
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            window_nanos: 3600 * 1_000_000_000,
            min_level: Level::Medium,
        }
    }
}

/// The response workflow of an incident, in order.
pub const STATUSES: [&str; 6] = [
    "new",
    "triage",
    "containment",
    "eradication",
    "recovery",
    "closed",
];

/// An incident as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: i64,
    pub tenant: String,
    pub title: String,
    pub status: String,
    pub level: Level,
    pub owner: Option<String>,
    /// The campaign it belongs to (shown to center-wide callers only).
    pub campaign: Option<i64>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// How many alerts it groups.
    pub alerts: u64,
    /// What groups them: `entity:…` and `attacker:…` keys.
    pub keys: Vec<String>,
    pub updated: Timestamp,
}

/// A note on an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub id: i64,
    pub author: String,
    pub time: Timestamp,
    pub text: String,
}

/// An incident with its alerts (newest first) and notes.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub alerts: Vec<Alert>,
    pub notes: Vec<Note>,
}

/// A campaign: incidents of several institutions with one attacker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: i64,
    /// `attacker:…`.
    pub key: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub tenants: Vec<String>,
    pub incidents: Vec<i64>,
}

/// Which incidents to list (newest activity first).
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub tenant: Option<String>,
    pub status: Option<String>,
    /// Incidents that are not closed.
    pub open: bool,
    pub campaign: Option<i64>,
    /// Paging: incidents listed after this one.
    pub after_id: Option<i64>,
    pub limit: usize,
}

/// A change to an incident; what is `None` stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentChange {
    pub status: Option<String>,
    /// `Some(None)` removes the owner.
    pub owner: Option<Option<String>>,
    pub title: Option<String>,
}

/// The grouping keys of an alert.
fn keys_of(alert: &Alert) -> Vec<String> {
    let mut keys = vec![format!("entity:{}", alert.entity)];
    if let Some(a) = attacker_of(alert).filter(|a| !is_local_address(a)) {
        keys.push(format!("attacker:{a}"));
    }
    keys
}

const INCIDENT_COLUMNS: &str =
    "id, tenant, title, status, level, owner, campaign, first_seen, last_seen, alerts, updated";

fn row_to_incident(r: &rusqlite::Row<'_>) -> rusqlite::Result<Incident> {
    let level: i64 = r.get(4)?;
    Ok(Incident {
        id: r.get(0)?,
        tenant: r.get(1)?,
        title: r.get(2)?,
        status: r.get(3)?,
        level: Level::ALL
            .get(usize::try_from(level).unwrap_or(0))
            .copied()
            .unwrap_or(Level::Informational),
        owner: r.get(5)?,
        campaign: r.get(6)?,
        first_seen: Timestamp(r.get(7)?),
        last_seen: Timestamp(r.get(8)?),
        alerts: r.get::<_, i64>(9)?.max(0) as u64,
        keys: Vec::new(),
        updated: Timestamp(r.get(10)?),
    })
}

/// Puts the alert stored as `id` into its incident, inside the recording transaction.
pub(super) fn group(
    tx: &Transaction<'_>,
    g: &Grouping,
    alert: &Alert,
    id: i64,
) -> rusqlite::Result<()> {
    let already: Option<i64> = tx
        .prepare_cached("SELECT incident FROM incident_alerts WHERE alert = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let keys = keys_of(alert);
    let now = Timestamp::now().0;
    let incident = match already {
        Some(i) => i,
        None => {
            let found = find_open(
                tx,
                &alert.tenant,
                &keys,
                alert.first_seen.0 - g.window_nanos,
            )?;
            let incident = match found {
                Some(i) => i,
                None if alert.level >= g.min_level => {
                    tx.prepare_cached("INSERT INTO incidents (tenant, title, level, first_seen, last_seen, alerts, created, updated) \
                         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)")?.execute(
                        params![
                            alert.tenant,
                            format!("{} on {}", alert.rule_title, alert.entity),
                            alert.level as i64,
                            alert.first_seen.0,
                            alert.last_seen.0,
                            now
                        ],
                    )?;
                    tx.last_insert_rowid()
                }
                None => return Ok(()),
            };
            tx.prepare_cached("INSERT INTO incident_alerts (incident, alert) VALUES (?1, ?2)")?
                .execute(params![incident, id])?;
            tx.prepare_cached("UPDATE incidents SET alerts = alerts + 1 WHERE id = ?1")?
                .execute([incident])?;
            incident
        }
    };
    for key in &keys {
        tx.prepare_cached("INSERT OR IGNORE INTO incident_keys (key, incident) VALUES (?1, ?2)")?
            .execute(params![key, incident])?;
    }
    tx.prepare_cached(
        "UPDATE incidents SET level = max(level, ?2), first_seen = min(first_seen, ?3), \
         last_seen = max(last_seen, ?4), updated = ?5 WHERE id = ?1",
    )?
    .execute(params![
        incident,
        alert.level as i64,
        alert.first_seen.0,
        alert.last_seen.0,
        now
    ])?;
    if let Some(attacker) = keys.iter().find(|k| k.starts_with("attacker:")) {
        join_campaign(tx, g, attacker, incident, alert)?;
    }
    Ok(())
}

/// The open incident of `tenant` sharing one of `keys` with activity since `since`.
fn find_open(
    tx: &Transaction<'_>,
    tenant: &str,
    keys: &[String],
    since: i64,
) -> rusqlite::Result<Option<i64>> {
    let mut stmt = tx.prepare_cached(
        "SELECT i.id FROM incident_keys k JOIN incidents i ON i.id = k.incident \
         WHERE k.key = ?1 AND i.tenant = ?2 AND i.status != 'closed' AND i.last_seen >= ?3 \
         ORDER BY i.last_seen DESC LIMIT 1",
    )?;
    for key in keys {
        if let Some(id) = stmt
            .query_row(params![key, tenant, since], |r| r.get(0))
            .optional()?
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Joins `incident` to a campaign when open incidents of other institutions share its
/// attacker key within the window.
fn join_campaign(
    tx: &Transaction<'_>,
    g: &Grouping,
    key: &str,
    incident: i64,
    alert: &Alert,
) -> rusqlite::Result<()> {
    let since = alert.first_seen.0 - g.window_nanos;
    let others: Vec<(i64, Option<i64>)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT i.id, i.campaign FROM incident_keys k JOIN incidents i ON i.id = k.incident \
             WHERE k.key = ?1 AND i.tenant != ?2 AND i.status != 'closed' AND i.last_seen >= ?3",
        )?;
        stmt.query_map(params![key, alert.tenant, since], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    if others.is_empty() {
        return Ok(());
    }
    let own: Option<i64> = tx
        .prepare_cached("SELECT campaign FROM incidents WHERE id = ?1")?
        .query_row([incident], |r| r.get(0))?;
    let campaign = match own.or_else(|| others.iter().find_map(|(_, c)| *c)) {
        Some(c) => c,
        None => {
            tx.prepare_cached("INSERT INTO campaigns (key, first_seen, last_seen, created) VALUES (?1, ?2, ?3, ?4)")?.execute(
                params![key, alert.first_seen.0, alert.last_seen.0, Timestamp::now().0],
            )?;
            tx.last_insert_rowid()
        }
    };
    for id in others.iter().map(|(i, _)| *i).chain([incident]) {
        tx.prepare_cached("UPDATE incidents SET campaign = ?2 WHERE id = ?1")?
            .execute(params![id, campaign])?;
    }
    tx.prepare_cached("UPDATE campaigns SET first_seen = min(first_seen, ?2), last_seen = max(last_seen, ?3) WHERE id = ?1")?.execute(
        params![campaign, alert.first_seen.0, alert.last_seen.0],
    )?;
    Ok(())
}

impl AlertStore {
    /// Incidents matching `filter`, latest activity first.
    pub fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>> {
        let mut sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE 1 = 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut bind = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql.push_str(&format!(" AND {clause} ?{}", args.len()));
        };
        if let Some(t) = &filter.tenant {
            bind(&mut sql, "tenant =", t.clone().into());
        }
        if let Some(s) = &filter.status {
            bind(&mut sql, "status =", s.clone().into());
        }
        if filter.open {
            sql.push_str(" AND status != 'closed'");
        }
        if let Some(c) = filter.campaign {
            bind(&mut sql, "campaign =", c.into());
        }
        if let Some(after) = filter.after_id {
            bind(
                &mut sql,
                "(last_seen, id) < (SELECT last_seen, id FROM incidents WHERE id =",
                after.into(),
            );
            sql.push(')');
        }
        sql.push_str(&format!(
            " ORDER BY last_seen DESC, id DESC LIMIT {}",
            filter.limit.min(super::MAX_LIST)
        ));
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare(&sql).map_err(sql_err(&self.path))?;
        let mut list = stmt
            .query_map(rusqlite::params_from_iter(args), row_to_incident)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(sql_err(&self.path))?;
        let mut keys = conn
            .prepare_cached("SELECT key FROM incident_keys WHERE incident = ?1 ORDER BY key")
            .map_err(sql_err(&self.path))?;
        for i in &mut list {
            i.keys = keys
                .query_map([i.id], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(sql_err(&self.path))?;
        }
        Ok(list)
    }

    /// One incident, if it exists and belongs to `tenant` (when given), with its alerts
    /// (newest first, at most [`super::MAX_LIST`]) and notes.
    pub fn incident(&self, id: i64, tenant: Option<&str>) -> Result<Option<IncidentDetail>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let found = conn
            .query_row(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"),
                [id],
                row_to_incident,
            )
            .optional()
            .map_err(sql_err(&self.path))?;
        let Some(mut incident) = found.filter(|i| tenant.is_none_or(|t| t == i.tenant)) else {
            return Ok(None);
        };
        incident.keys = conn
            .prepare_cached("SELECT key FROM incident_keys WHERE incident = ?1 ORDER BY key")
            .and_then(|mut s| s.query_map([id], |r| r.get(0))?.collect())
            .map_err(sql_err(&self.path))?;
        let alerts = conn
            .prepare(&format!(
                "SELECT {} FROM alerts WHERE id IN (SELECT alert FROM incident_alerts WHERE incident = ?1) \
                 ORDER BY last_seen DESC, id DESC LIMIT {}",
                super::ALERT_COLUMNS,
                super::MAX_LIST
            ))
            .and_then(|mut s| s.query_map([id], super::row_to_alert)?.collect())
            .map_err(sql_err(&self.path))?;
        let notes = conn
            .prepare(
                "SELECT id, author, time, text FROM incident_notes WHERE incident = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([id], |r| {
                    Ok(Note {
                        id: r.get(0)?,
                        author: r.get(1)?,
                        time: Timestamp(r.get(2)?),
                        text: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(sql_err(&self.path))?;
        Ok(Some(IncidentDetail {
            incident,
            alerts,
            notes,
        }))
    }

    /// Changes an incident of `tenant` (when given); returns it before and after
    /// (`None`: no such incident for this caller).
    pub fn update_incident(
        &self,
        id: i64,
        tenant: Option<&str>,
        change: &IncidentChange,
    ) -> Result<Option<(Incident, Incident)>> {
        if let Some(s) = &change.status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(crate::StoreError::Invalid(format!(
                "status '{s}': use one of {}",
                STATUSES.join(", ")
            )));
        }
        let Some(IncidentDetail {
            incident: before, ..
        }) = self.incident(id, tenant)?
        else {
            return Ok(None);
        };
        let mut after = before.clone();
        if let Some(s) = &change.status {
            after.status = s.clone();
        }
        if let Some(o) = &change.owner {
            after.owner = o.clone();
        }
        if let Some(t) = &change.title {
            after.title = t.clone();
        }
        after.updated = Timestamp::now();
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "UPDATE incidents SET status = ?2, owner = ?3, title = ?4, updated = ?5 WHERE id = ?1",
            params![id, after.status, after.owner, after.title, after.updated.0],
        )
        .map_err(sql_err(&self.path))?;
        Ok(Some((before, after)))
    }

    /// Adds a note to an incident of `tenant` (when given); `None`: no such incident.
    pub fn add_note(
        &self,
        id: i64,
        tenant: Option<&str>,
        author: &str,
        text: &str,
    ) -> Result<Option<Note>> {
        if self.incident(id, tenant)?.is_none() {
            return Ok(None);
        }
        let time = Timestamp::now();
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO incident_notes (incident, author, time, text) VALUES (?1, ?2, ?3, ?4)",
            params![id, author, time.0, text],
        )
        .map_err(sql_err(&self.path))?;
        Ok(Some(Note {
            id: conn.last_insert_rowid(),
            author: author.to_owned(),
            time,
            text: text.to_owned(),
        }))
    }

    /// Every campaign with activity since `since`, latest first.
    pub fn campaigns(&self, since: Timestamp, limit: usize) -> Result<Vec<Campaign>> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<Campaign> = conn
            .prepare("SELECT id, key, first_seen, last_seen FROM campaigns WHERE last_seen >= ?1 ORDER BY last_seen DESC LIMIT ?2")
            .and_then(|mut s| {
                s.query_map(params![since.0, limit.min(super::MAX_LIST) as i64], |r| {
                    Ok(Campaign {
                        id: r.get(0)?,
                        key: r.get(1)?,
                        first_seen: Timestamp(r.get(2)?),
                        last_seen: Timestamp(r.get(3)?),
                        tenants: Vec::new(),
                        incidents: Vec::new(),
                    })
                })?
                .collect()
            })
            .map_err(sql_err(&self.path))?;
        let mut members = conn
            .prepare_cached(
                "SELECT id, tenant FROM incidents WHERE campaign = ?1 ORDER BY tenant, id",
            )
            .map_err(sql_err(&self.path))?;
        for c in &mut list {
            let rows: Vec<(i64, String)> = members
                .query_map([c.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(sql_err(&self.path))?;
            for (id, tenant) in rows {
                c.incidents.push(id);
                if !c.tenants.contains(&tenant) {
                    c.tenants.push(tenant);
                }
            }
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haechi_event::{AlertSource, EventRef};
    use std::time::Duration;

    fn alert(tenant: &str, entity: &str, attacker: Option<&str>, level: Level, secs: i64) -> Alert {
        let mut details = serde_json::Map::new();
        if let Some(a) = attacker {
            details.insert("matched".into(), serde_json::json!({ "source.ip": a }));
        }
        Alert {
            id: 0,
            tenant: tenant.into(),
            source: AlertSource::Sigma,
            rule_id: format!("rule-{entity}-{secs}"),
            rule_title: "Suspicious thing".into(),
            level,
            author: None,
            status: None,
            references: vec![],
            tags: vec![],
            entity: entity.into(),
            first_seen: Timestamp(secs * 1_000_000_000),
            last_seen: Timestamp(secs * 1_000_000_000),
            count: 1,
            events: vec![EventRef {
                timestamp: Timestamp(secs * 1_000_000_000),
                id: format!("e{secs}"),
            }],
            details,
            stored: Timestamp(0),
            triage: Default::default(),
        }
    }

    fn open() -> (tempfile::TempDir, AlertStore) {
        let dir = tempfile::tempdir().unwrap();
        let store =
            AlertStore::open(&dir.path().join("state.db"), Duration::from_secs(600)).unwrap();
        (dir, store)
    }

    fn all(store: &AlertStore) -> Vec<Incident> {
        store
            .incidents(&IncidentFilter {
                limit: 100,
                ..Default::default()
            })
            .unwrap()
    }

    #[test]
    fn alerts_sharing_an_entity_or_attacker_within_the_window_form_one_incident() {
        let (_d, store) = open();
        store
            .record(&[alert(
                "seoul",
                "host.name=ws1",
                Some("203.0.113.9"),
                Level::High,
                1000,
            )])
            .unwrap();
        // Same attacker, another host: same incident. Same host later: same incident.
        store
            .record(&[alert(
                "seoul",
                "host.name=ws2",
                Some("203.0.113.9"),
                Level::Medium,
                1500,
            )])
            .unwrap();
        store
            .record(&[alert("seoul", "host.name=ws1", None, Level::Critical, 2000)])
            .unwrap();
        // Unrelated host: its own incident. A low alert on a third host opens none.
        store
            .record(&[alert("seoul", "host.name=db1", None, Level::High, 2100)])
            .unwrap();
        store
            .record(&[alert("seoul", "host.name=pr1", None, Level::Low, 2200)])
            .unwrap();
        // The first host again, but long after the window: a new incident.
        store
            .record(&[alert(
                "seoul",
                "host.name=ws1",
                None,
                Level::High,
                2000 + 7200,
            )])
            .unwrap();
        let list = all(&store);
        assert_eq!(list.len(), 3, "{list:#?}");
        let first = list
            .iter()
            .find(|i| i.alerts == 3)
            .expect("the grouped incident");
        assert_eq!(
            first.level,
            Level::Critical,
            "the highest level of its alerts"
        );
        assert!(first.keys.contains(&"attacker:203.0.113.9".to_owned()));
        assert_eq!(first.campaign, None, "one institution is no campaign");
        let detail = store.incident(first.id, Some("seoul")).unwrap().unwrap();
        assert_eq!(detail.alerts.len(), 3);
    }

    #[test]
    fn one_public_attacker_at_two_institutions_is_a_campaign_a_private_one_is_not() {
        let (_d, store) = open();
        store
            .record(&[alert(
                "seoul",
                "host.name=a",
                Some("198.51.100.20"),
                Level::High,
                1000,
            )])
            .unwrap();
        store
            .record(&[alert(
                "busan",
                "host.name=b",
                Some("198.51.100.20"),
                Level::High,
                1300,
            )])
            .unwrap();
        store
            .record(&[alert(
                "ulsan",
                "host.name=c",
                Some("198.51.100.20"),
                Level::Medium,
                1400,
            )])
            .unwrap();
        store
            .record(&[alert(
                "seoul",
                "host.name=x",
                Some("10.0.0.5"),
                Level::High,
                1000,
            )])
            .unwrap();
        store
            .record(&[alert(
                "busan",
                "host.name=y",
                Some("10.0.0.5"),
                Level::High,
                1000,
            )])
            .unwrap();
        let campaigns = store.campaigns(Timestamp(0), 10).unwrap();
        assert_eq!(campaigns.len(), 1, "{campaigns:#?}");
        assert_eq!(campaigns[0].key, "attacker:198.51.100.20");
        assert_eq!(campaigns[0].tenants, ["busan", "seoul", "ulsan"]);
        let members = store
            .incidents(&IncidentFilter {
                campaign: Some(campaigns[0].id),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(members.len(), 3);
        // Each institution's view holds its own incident only.
        let seoul = store
            .incidents(&IncidentFilter {
                tenant: Some("seoul".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert!(seoul.iter().all(|i| i.tenant == "seoul") && seoul.len() == 2);
        let busan_id = members.iter().find(|i| i.tenant == "busan").unwrap().id;
        assert!(store.incident(busan_id, Some("seoul")).unwrap().is_none());
    }

    #[test]
    fn status_owner_and_notes_change_only_for_the_right_institution() {
        let (_d, store) = open();
        store
            .record(&[alert("seoul", "host.name=a", None, Level::High, 1000)])
            .unwrap();
        let id = all(&store)[0].id;
        let change = IncidentChange {
            status: Some("containment".into()),
            owner: Some(Some("kim".into())),
            title: None,
        };
        assert!(
            store
                .update_incident(id, Some("busan"), &change)
                .unwrap()
                .is_none()
        );
        let (before, after) = store
            .update_incident(id, Some("seoul"), &change)
            .unwrap()
            .unwrap();
        assert_eq!(
            (before.status.as_str(), after.status.as_str()),
            ("new", "containment")
        );
        assert_eq!(after.owner.as_deref(), Some("kim"));
        let bad = IncidentChange {
            status: Some("solved".into()),
            ..Default::default()
        };
        assert!(
            store
                .update_incident(id, None, &bad)
                .unwrap_err()
                .to_string()
                .contains("eradication")
        );
        assert!(
            store
                .add_note(id, Some("busan"), "lee", "x")
                .unwrap()
                .is_none()
        );
        store
            .add_note(id, None, "kim", "isolated the host")
            .unwrap()
            .unwrap();
        let detail = store.incident(id, None).unwrap().unwrap();
        assert_eq!(detail.notes[0].text, "isolated the host");
        // A closed incident takes no new alerts: the same host opens a new one.
        store
            .update_incident(
                id,
                None,
                &IncidentChange {
                    status: Some("closed".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        store
            .record(&[alert("seoul", "host.name=a", None, Level::High, 1100)])
            .unwrap();
        assert_eq!(all(&store).len(), 2);
    }
}

/// The stored events that involve an incident: those carrying one of its entities
/// (`entity:FIELD=VALUE` as `FIELD` = `VALUE`) or its attackers (`attacker:VALUE` as
/// source, destination or related address, or as a queried, requested or TLS server
/// name). `None` when the incident has no such key.
pub fn evidence_query(keys: &[String]) -> Option<haechi_query::Query> {
    use haechi_query::{Predicate, Query};
    let term = |field: &str, value: &str| Query::Field {
        field: field.to_owned(),
        predicate: Predicate::Term(value.to_owned()),
    };
    let mut any = Vec::new();
    for key in keys {
        if let Some((field, value)) = key.strip_prefix("entity:").and_then(|e| e.split_once('=')) {
            any.push(term(field, value));
            // Entities are kept lower-case; host names are often stored upper-case.
            if value.to_uppercase() != value {
                any.push(term(field, &value.to_uppercase()));
            }
        } else if let Some(value) = key.strip_prefix("attacker:") {
            let fields: &[&str] = if value.parse::<std::net::IpAddr>().is_ok() {
                &["source.ip", "destination.ip", "related.ip"]
            } else {
                &[
                    "dns.question.name",
                    "url.domain",
                    "tls.client.server_name",
                    "destination.domain",
                ]
            };
            any.extend(fields.iter().map(|f| term(f, value)));
        }
    }
    (!any.is_empty()).then_some(Query::Or(any))
}

#[cfg(test)]
mod evidence_tests {
    use super::*;

    #[test]
    fn the_evidence_query_covers_entities_and_attackers() {
        let q = evidence_query(&[
            "entity:host.name=ws-017".into(),
            "attacker:203.0.113.66".into(),
            "attacker:evil.example".into(),
        ])
        .unwrap();
        let haechi_query::Query::Or(parts) = q else {
            panic!("an OR of terms")
        };
        let fields: Vec<String> = parts
            .iter()
            .map(|p| match p {
                haechi_query::Query::Field {
                    field,
                    predicate: haechi_query::Predicate::Term(v),
                } => format!("{field}={v}"),
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(
            fields.contains(&"host.name=WS-017".to_owned()),
            "{fields:?}"
        );
        assert!(fields.contains(&"destination.ip=203.0.113.66".to_owned()));
        assert!(fields.contains(&"dns.question.name=evil.example".to_owned()));
        assert!(evidence_query(&[]).is_none());
    }
}
