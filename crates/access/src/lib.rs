//! # Who may do what
//!
//! Haechi's access control, in one SQLite database (`<data_dir>/state/access.db`, WAL
//! mode) that the server and the command line share:
//!
//! * **users** log in with a password ([`password`]: Argon2id) and get a **session**
//!   (a random id in an HttpOnly cookie, with a CSRF token for changes);
//! * machines use **API tokens** — random, shown once, stored as SHA-256 hashes,
//!   revocable, with an optional expiry ([`secret`]);
//! * every caller resolves to a [`Principal`]: a [`Role`] and, for an institution's
//!   people and machines, the one tenant they may see. Handlers ask the principal,
//!   never the page, what it may read or change ([`role`]);
//! * every change a person or token makes goes to the append-only **audit log**, each
//!   record hash-chained to the one before it so that an edit or a deletion in the
//!   middle breaks the chain ([`audit`], `haechi audit verify`).

pub mod audit;
pub mod password;
pub mod role;
pub mod secret;
mod store;

pub use audit::{AuditEntry, AuditRecord, ChainReport};
pub use role::{Denied, Principal, PrincipalKind, Role};
pub use store::{
    AccessStore, AuthOutcome, LOCK_AFTER, LOCKOUT, LoginOutcome, NewToken, Session, SessionInfo,
    TokenInfo, TokenLookup, TokenSpec, UserInfo, UserSpec, valid_name,
};

/// What can go wrong in access control.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("access database {path}: {source}")]
    Sql {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = AccessError> = std::result::Result<T, E>;

/// Seconds since the Unix epoch (the time unit of the access database).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
