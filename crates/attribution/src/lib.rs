//! # Attribution: which known actors an incident resembles
//!
//! [`attack`] reads MITRE ATT&CK Enterprise from its STIX 2.1 bundle: every live intrusion
//! set (group) with the techniques and software it `uses`, the techniques each software
//! `uses`, and the names of everything (revoked techniques mapped to their replacements).
//! [`rank`] scores each group against the techniques and software seen in an incident with
//! a TF-IDF cosine that gives partial credit for related techniques and for what a group's
//! software can do, and shows which evidence matched and which did not. [`eval`] measures
//! the ranking on pseudo-incidents drawn from the groups themselves.
//!
//! It is a similarity to published reporting, never a verdict: groups share tools and
//! techniques, and ATT&CK records what was reported, not all an actor does.

pub mod attack;
pub mod eval;
pub mod rank;

pub use attack::{Attack, Group};
pub use rank::{Candidate, Evidence, rank, rank_by_overlap};
