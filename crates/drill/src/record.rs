//! What a drill keeps, in `DATA_DIR/drills/<id>.json`: the recordings it replayed (with
//! their technique and when their first event went in) and every alert it raised with the
//! time it was raised, in seconds since the drill started.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub dataset: String,
    pub title: String,
    pub technique: String,
    pub events: usize,
    /// When its first event was injected (seconds since the drill started, wall time).
    pub first_event_s: f64,
    /// When its last event had been through detection.
    pub last_event_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DrillAlert {
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    pub tags: Vec<String>,
    pub entity: String,
    /// When detection raised it (seconds since the drill started).
    pub raised_s: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DrillRecord {
    pub id: String,
    pub name: String,
    pub tenant: String,
    pub speed: f64,
    /// RFC 3339.
    pub started: String,
    pub runs: Vec<RunRecord>,
    pub alerts: Vec<DrillAlert>,
    pub rules_loaded: usize,
}

/// Where a data directory keeps its drills.
pub fn dir_in(data_dir: &Path) -> PathBuf {
    data_dir.join("drills")
}

/// A drill id: `drill-` and 1–64 characters of `a-z 0-9 -`.
pub fn valid_id(id: &str) -> bool {
    id.starts_with("drill-")
        && id.len() <= 70
        && id[6..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The label every event of a drill carries (its value: the drill id).
pub const DRILL_LABEL: &str = "labels.drill";

/// Marks an alert as raised by drill `id`: the tag `drill` (playbooks leave such alerts
/// alone unless told otherwise), the id in `details.drill`, and an entity of its own so
/// that a drill's alerts never merge into real ones.
pub fn mark_alert(alert: &mut haechi_event::Alert, id: &str) {
    if alert.tags.iter().any(|t| t == "drill") {
        return;
    }
    alert.tags.push("drill".into());
    alert.entity = format!("drill:{id}/{}", alert.entity);
    alert
        .details
        .insert("drill".into(), serde_json::Value::String(id.to_owned()));
}

/// The drill of a batch of events (one delivery is of one drill or none): the label of
/// its first event.
pub fn drill_of(events: &[haechi_event::Event]) -> Option<&str> {
    events.first().and_then(|e| e.get_str(DRILL_LABEL))
}

impl DrillRecord {
    pub fn save(&self, data_dir: &Path) -> Result<PathBuf, String> {
        let dir = dir_in(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("{}.json", self.id));
        let fresh = path.with_extension("json.new");
        let text = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(&fresh, text).map_err(|e| format!("{}: {e}", fresh.display()))?;
        std::fs::rename(&fresh, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }

    pub fn load(data_dir: &Path, id: &str) -> Result<DrillRecord, String> {
        if !valid_id(id) {
            return Err(format!("'{id}' is not a drill id (drill-…)"));
        }
        let path = dir_in(data_dir).join(format!("{id}.json"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("no drill {id} ({}: {e})", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}
