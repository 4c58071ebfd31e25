//! # Detection
//!
//! Haechi detects attacks the way the security community writes detections: Sigma. The
//! well-kept `rsigma` crates (parser and evaluator, MIT) implement the specification;
//! this crate adds what a control center needs around them.
//!
//! * [`rules`] loads rule files and directories as they are published (the SigmaHQ set
//!   loads whole), one file at a time so that every failure names its file and reason, and
//!   keeps each rule's attribution (id, title, author, level, status, references, ATT&CK
//!   tags: the DRL 1.1 licence of SigmaHQ rules requires it in every output);
//!   [`rewrite`] adjusts the few constructs rsigma 0.23 evaluates differently from the
//!   specification.
//!
//! * [`sigma_event`] shows Haechi's events to rsigma under the field names rules use;
//!   [`logsource`] says which Sigma logsources an event belongs to (Windows channels and
//!   event ids to `service` and `category`).
//! * [`hunt::Detector`] evaluates the compiled rules on events, detection on every
//!   thread at once and correlation rules (`event_count`, `value_count`, `temporal`,
//!   `temporal_ordered`) in arrival order behind one lock.
//! * [`alert`] turns detections into [`haechi_event::Alert`]s (entity, event references,
//!   attribution) and holds the per-tenant [`alert::Exceptions`].
//! * [`device`] turns the equipment's own detections (IPS signatures, anti-virus
//!   findings, WAF blocks, Zeek notices, CEF/LEEF severities) into alerts of origin
//!   `device`, with a severity table, ATT&CK techniques and a ceiling against storms.
//! * [`ot::Allowlist`] is the OT behaviour model: each facility's industrial conversations
//!   learned from a baseline, and alerts for new talkers, new writes and writes outside
//!   the learned ranges.
//! * [`stream::StreamDetector`] runs on every batch the collector accepts, with rules
//!   and exceptions that reload without a restart.

pub mod alert;
pub mod device;
pub mod hunt;
pub mod logsource;
pub mod ot;
pub mod retro;
pub mod rewrite;
pub mod rules;
pub mod sigma_event;
pub mod stream;
