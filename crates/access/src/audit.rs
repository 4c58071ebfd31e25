//! The audit log: who changed what, when, with the state before and after.
//!
//! Records are only ever appended. Each carries the SHA-256 of the one before it
//! (`prev`) and its own hash over its fields and `prev`, so editing, inserting or
//! deleting a record anywhere but at the very end breaks the chain, which
//! [`crate::AccessStore::verify_audit`] (`haechi audit verify`) finds and names. The
//! head hash it prints can be written down elsewhere: a later verification that no
//! longer reaches it shows that the end was cut off.

use crate::secret::sha256_hex;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::Value;

/// The `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// `user:NAME`, `token:NAME`, `config-token:NAME`, `cli:NAME` or `system`.
    pub actor: String,
    /// What was done: `user.add`, `token.revoke`, `alert.close`, `login.failed`, …
    pub action: String,
    /// What it was done to: `user:kim`, `alert:42`, …
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    pub fn new(actor: impl Into<String>, action: &str, target: impl Into<String>) -> Self {
        AuditEntry {
            actor: actor.into(),
            action: action.to_owned(),
            target: target.into(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, v: Value) -> Self {
        self.before = Some(v);
        self
    }

    pub fn after(mut self, v: Value) -> Self {
        self.after = Some(v);
        self
    }
}

/// A stored audit record.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub prev: String,
    pub hash: String,
}

/// What a verification of the chain found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainReport {
    pub records: u64,
    /// The hash of the last record (the genesis value for an empty log).
    pub head: String,
    /// The first record that does not fit the chain, and why.
    pub broken: Option<(i64, String)>,
}

/// The fields a record's hash covers.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: i64,
    time_ms: i64,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    prev: &'a str,
}

impl Hashed<'_> {
    /// SHA-256 over a JSON array of the fields, so that no two different records can
    /// serialise alike.
    fn hash(&self) -> String {
        let canonical = serde_json::to_string(&(
            self.seq,
            self.time_ms,
            self.actor,
            self.action,
            self.target,
            self.before,
            self.after,
            self.prev,
        ))
        .expect("a tuple of strings and numbers serialises");
        sha256_hex(canonical.as_bytes())
    }
}

/// The hash a record should carry, recomputed from its fields (as read back: `before` and
/// `after` serialised again, which gives the stored text). An exported custody log is
/// checked with it record by record.
pub fn record_hash(r: &AuditRecord) -> String {
    let before = r.before.as_ref().map(Value::to_string);
    let after = r.after.as_ref().map(Value::to_string);
    Hashed {
        seq: r.seq,
        time_ms: r.time_ms,
        actor: &r.actor,
        action: &r.action,
        target: &r.target,
        before: before.as_deref(),
        after: after.as_deref(),
        prev: &r.prev,
    }
    .hash()
}

/// Appends inside `tx`, which the caller opened with `BEGIN IMMEDIATE` so that two
/// processes never chain onto the same record.
pub(crate) fn append(tx: &Transaction, entry: &AuditEntry) -> rusqlite::Result<AuditRecord> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_owned()),
    };
    let time_ms = now_ms();
    let before = entry.before.as_ref().map(Value::to_string);
    let after = entry.after.as_ref().map(Value::to_string);
    let hash = Hashed {
        seq,
        time_ms,
        actor: &entry.actor,
        action: &entry.action,
        target: &entry.target,
        before: before.as_deref(),
        after: after.as_deref(),
        prev: &prev,
    }
    .hash();
    tx.execute(
        "INSERT INTO audit (seq, time_ms, actor, action, target, before, after, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            seq,
            time_ms,
            entry.actor,
            entry.action,
            entry.target,
            before,
            after,
            prev,
            hash
        ],
    )?;
    Ok(AuditRecord {
        seq,
        time_ms,
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        target: entry.target.clone(),
        before: entry.before.clone(),
        after: entry.after.clone(),
        prev,
        hash,
    })
}

/// Walks the whole log in order, recomputing every hash.
pub(crate) fn verify(conn: &rusqlite::Connection) -> rusqlite::Result<ChainReport> {
    let mut stmt = conn.prepare(
        "SELECT seq, time_ms, actor, action, target, before, after, prev, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut report = ChainReport {
        records: 0,
        head: GENESIS.to_owned(),
        broken: None,
    };
    let mut expected_seq = 1;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let prev: String = r.get(7)?;
        let hash: String = r.get(8)?;
        let (actor, action, target): (String, String, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
        let (before, after): (Option<String>, Option<String>) = (r.get(5)?, r.get(6)?);
        let computed = Hashed {
            seq,
            time_ms: r.get(1)?,
            actor: &actor,
            action: &action,
            target: &target,
            before: before.as_deref(),
            after: after.as_deref(),
            prev: &prev,
        }
        .hash();
        let problem = if seq != expected_seq {
            Some(format!(
                "record {expected_seq} is missing (the next is {seq})"
            ))
        } else if prev != report.head {
            Some("its `prev` is not the hash of the record before it".to_owned())
        } else if computed != hash {
            Some("its content does not match its hash (the record was edited)".to_owned())
        } else {
            None
        };
        if let Some(p) = problem {
            report.broken = Some((seq, p));
            return Ok(report);
        }
        report.records += 1;
        report.head = hash;
        expected_seq = seq + 1;
    }
    Ok(report)
}

/// Records after `after_seq`, oldest first.
pub(crate) fn list(
    conn: &rusqlite::Connection,
    after_seq: i64,
    limit: usize,
) -> rusqlite::Result<Vec<AuditRecord>> {
    let mut stmt = conn.prepare(
        "SELECT seq, time_ms, actor, action, target, before, after, prev, hash FROM audit
         WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    stmt.query_map(params![after_seq, limit as i64], |r| {
        Ok(AuditRecord {
            seq: r.get(0)?,
            time_ms: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            before: parse(r.get(5)?),
            after: parse(r.get(6)?),
            prev: r.get(7)?,
            hash: r.get(8)?,
        })
    })?
    .collect()
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
