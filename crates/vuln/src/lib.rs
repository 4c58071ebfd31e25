//! Vulnerability management: what the institutions run (SBOMs and lockfiles, read into
//! an [`inventory::Inventory`]), what is known to be vulnerable (advisories imported into
//! an [`db::AdvisoryDb`]), and the findings where the two meet ([`matcher`]), each with
//! its evidence and an SSVC decision ([`ssvc`]).
//!
//! Version ordering is per ecosystem ([`version`]): a component is only called
//! vulnerable when the ecosystem's own rules put its version inside an advisory's range.

pub mod advisory;
pub mod alerts;
pub mod assets;
pub mod convert;
pub mod cpe;
pub mod db;
pub mod ecosystem;
pub mod export;
pub mod fix;
pub mod import;
pub mod inventory;
pub mod isms;
pub mod matcher;
pub mod observatory;
pub mod retire;
pub mod sites;
pub mod sme;
pub mod ssvc;
pub mod tls;
pub mod version;
pub mod vex;
pub mod watch;
pub mod web;

pub use advisory::Advisory;
pub use db::AdvisoryDb;
pub use ecosystem::Ecosystem;
pub use inventory::{Component, Inventory};
pub use matcher::{Finding, Matcher, ScanSummary};

/// Errors of this crate, each naming what failed and where.
#[derive(Debug, thiserror::Error)]
pub enum VulnError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("advisory database {path}: {message}")]
    Db { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, VulnError>;
