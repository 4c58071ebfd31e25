//! A labelled recording: `<dataset>/<id>.yaml` (OTRF metadata: `id`, `title`,
//! `attack_mappings[].technique` and `sub-technique`) and the recorded events, one JSON
//! object per line, in the other `.json` file(s) of the folder. Event times come from
//! `@timestamp` (RFC 3339), else `TimeCreated` (`YYYY-MM-DD hh:mm:ss[.fff]`, UTC, as the
//! OTRF lab wrote it); lines without a readable time keep their place in the order.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The largest recording read (the staged ones are under 5 MB).
pub const MAX_RECORDING_BYTES: u64 = 256 << 20;

/// One recording, its events sorted by time.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub path: PathBuf,
    pub id: String,
    pub title: String,
    /// The ATT&CK technique (`T1053.005`), sub-technique included when there is one.
    pub technique: String,
    /// (seconds since the first event, the JSON line).
    pub events: Vec<(f64, serde_json::Map<String, serde_json::Value>)>,
    /// Lines that are not JSON objects.
    pub unreadable: usize,
}

#[derive(Deserialize)]
struct Metadata {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    attack_mappings: Vec<Mapping>,
}

#[derive(Deserialize)]
struct Mapping {
    technique: String,
    #[serde(rename = "sub-technique", default)]
    sub_technique: Option<serde_yaml_value::Sub>,
}

/// The sub-technique is written as a string (`"005"`) or a number (`5`).
mod serde_yaml_value {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    pub enum Sub {
        Text(String),
        Number(u32),
    }
}

/// The time of an event, in seconds since the epoch.
pub fn event_time(e: &serde_json::Map<String, serde_json::Value>) -> Option<f64> {
    if let Some(t) = e
        .get("@timestamp")
        .and_then(|v| v.as_str())
        .and_then(haechi_event::parse_rfc3339)
    {
        return Some(t.0 as f64 / 1e9);
    }
    let local = e.get("TimeCreated").and_then(|v| v.as_str())?;
    let naive = chrono::NaiveDateTime::parse_from_str(local.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    Some(naive.and_utc().timestamp_nanos_opt()? as f64 / 1e9)
}

impl Dataset {
    /// Reads the recording in folder `dir`.
    pub fn load(dir: &Path) -> Result<Dataset, String> {
        let mut yaml = None;
        let mut jsons = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("yaml" | "yml") => yaml = Some(path),
                Some("json") => jsons.push(path),
                _ => {}
            }
        }
        let yaml = yaml.ok_or_else(|| {
            format!("{}: no metadata YAML (a drill dataset is a folder like those in shared/data/drills)", dir.display())
        })?;
        let meta: Metadata = yaml_serde::from_str(
            &std::fs::read_to_string(&yaml).map_err(|e| format!("{}: {e}", yaml.display()))?,
        )
        .map_err(|e| format!("{}: not dataset metadata: {e}", yaml.display()))?;
        let mapping = meta.attack_mappings.first().ok_or_else(|| {
            format!(
                "{}: no attack_mappings: which technique is it?",
                yaml.display()
            )
        })?;
        let technique = match &mapping.sub_technique {
            Some(serde_yaml_value::Sub::Text(s)) if !s.trim().is_empty() => {
                format!("{}.{:0>3}", mapping.technique.trim(), s.trim())
            }
            Some(serde_yaml_value::Sub::Number(n)) => {
                format!("{}.{n:03}", mapping.technique.trim())
            }
            _ => mapping.technique.trim().to_owned(),
        };
        if jsons.is_empty() {
            return Err(format!("{}: no recorded events (.json)", dir.display()));
        }
        jsons.sort();
        let mut timed = Vec::new();
        let mut unreadable = 0;
        for path in &jsons {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if size > MAX_RECORDING_BYTES {
                return Err(format!(
                    "{}: larger than a recording ({size} bytes)",
                    path.display()
                ));
            }
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(serde_json::Value::Object(map)) => timed.push((event_time(&map), map)),
                    _ => unreadable += 1,
                }
            }
        }
        // Sorted by time; events without one stay after the one before them.
        let mut last = f64::MIN;
        let mut keyed: Vec<(f64, usize, serde_json::Map<String, serde_json::Value>)> = timed
            .into_iter()
            .enumerate()
            .map(|(i, (t, m))| {
                let t = t.unwrap_or(last);
                last = t;
                (t, i, m)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let first = keyed.first().map_or(0.0, |k| k.0);
        Ok(Dataset {
            path: dir.to_owned(),
            id: meta.id,
            title: meta.title,
            technique,
            events: keyed.into_iter().map(|(t, _, m)| (t - first, m)).collect(),
            unreadable,
        })
    }

    /// How long the recording lasts (seconds).
    pub fn span(&self) -> f64 {
        self.events.last().map_or(0.0, |e| e.0)
    }
}

/// The line of an event re-based to `at` (seconds since the epoch): `@timestamp` set,
/// `TimeCreated` dropped. (The runner marks the parsed event with the drill.)
pub fn rebased_line(event: &serde_json::Map<String, serde_json::Value>, at: f64) -> String {
    let mut e = event.clone();
    let nanos = (at * 1e9) as i64;
    e.insert(
        "@timestamp".into(),
        serde_json::Value::String(haechi_event::Timestamp(nanos).to_rfc3339()),
    );
    e.remove("TimeCreated");
    serde_json::Value::Object(e).to_string()
}
