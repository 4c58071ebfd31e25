//! # Drills
//!
//! A drill replays labelled attack recordings into an institution through the real
//! parsing and detection path, re-based to now, at a chosen speed, and scores what the
//! center saw. [`dataset`] reads a recording (an OTRF Security-Datasets run: a metadata
//! YAML with its ATT&CK technique and the recorded events as JSON lines) and re-bases it;
//! [`record`] is what a drill keeps (every alert it raised, when) and [`report`] scores
//! it per technique: detected or not, by which rules, and the time from the run's first
//! event to the first alert tagged with its technique (or the technique's parent);
//! [`officers`] adds how fast people acted on it, from the audit log.

pub mod dataset;
pub mod officers;
pub mod record;
pub mod report;

pub use dataset::Dataset;
pub use record::{DRILL_LABEL, DrillAlert, DrillRecord, RunRecord, drill_of, mark_alert};
pub use report::{Report, TechniqueScore, TriageFold, report};
