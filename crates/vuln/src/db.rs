//! The advisory database in a data directory (`state/vuln.db`, SQLite): advisories in
//! OSV form keyed by id (a newer `modified` replaces an older copy), the CISA KEV
//! catalog, SSVC inputs from Vulnrichment, and EPSS scores.

use crate::advisory::Advisory;
use crate::{Result, VulnError};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    modified TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kev (
    cve TEXT PRIMARY KEY,
    date_added TEXT NOT NULL,
    due_date TEXT NOT NULL,
    ransomware TEXT NOT NULL,
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ssvc_inputs (
    cve TEXT PRIMARY KEY,
    exploitation TEXT,
    automatable TEXT,
    technical_impact TEXT
);
CREATE TABLE IF NOT EXISTS retire (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cpe_ranges (
    cve TEXT NOT NULL,
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cpe_ranges_by_cve ON cpe_ranges (cve);
CREATE TABLE IF NOT EXISTS epss (
    cve TEXT PRIMARY KEY,
    score REAL NOT NULL,
    percentile REAL NOT NULL
);
";

/// A KEV catalog entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KevEntry {
    pub cve: String,
    pub date_added: String,
    pub due_date: String,
    pub ransomware: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
}

/// An EPSS score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Epss {
    pub score: f64,
    pub percentile: f64,
}

/// What storing an advisory did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    Added,
    Updated,
    Unchanged,
}

pub struct AdvisoryDb {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// Everything the matcher needs, read at once.
#[derive(Default)]
pub struct Snapshot {
    pub advisories: Vec<Advisory>,
    pub kev: HashMap<String, KevEntry>,
    pub ssvc: HashMap<String, crate::ssvc::KnownInputs>,
    pub epss: HashMap<String, Epss>,
    /// The NVD's vulnerable CPE ranges (for components without a purl).
    pub cpe: Vec<crate::cpe::CpeRange>,
}

impl AdvisoryDb {
    /// Where the database lives in a data directory.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("state").join("vuln.db")
    }

    pub fn open(path: &Path) -> Result<AdvisoryDb> {
        let err = |e: rusqlite::Error| VulnError::Db {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| VulnError::Db {
                path: path.display().to_string(),
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(err)?;
        conn.execute_batch("PRAGMA foreign_keys=ON;").map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.execute_batch(crate::assets::SCHEMA).map_err(err)?;
        conn.execute_batch(crate::sites::SCHEMA).map_err(err)?;
        Ok(AdvisoryDb {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    pub(crate) fn err(&self) -> impl Fn(rusqlite::Error) -> VulnError + '_ {
        move |e| VulnError::Db {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in one transaction (an import is all or nothing per call).
    pub fn transaction<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(self.err())?;
        let out = f(&Tx {
            tx: &tx,
            path: &self.path,
        })?;
        tx.commit().map_err(self.err())?;
        Ok(out)
    }

    /// Counts of what is stored: advisories (not withdrawn), withdrawn, KEV, SSVC, EPSS.
    pub fn counts(&self) -> Result<HashMap<&'static str, i64>> {
        let conn = self.conn();
        let mut out = HashMap::new();
        for (key, sql) in [
            (
                "advisories",
                "SELECT count(*) FROM advisories WHERE withdrawn = 0",
            ),
            (
                "withdrawn",
                "SELECT count(*) FROM advisories WHERE withdrawn = 1",
            ),
            ("kev", "SELECT count(*) FROM kev"),
            ("ssvc", "SELECT count(*) FROM ssvc_inputs"),
            ("epss", "SELECT count(*) FROM epss"),
        ] {
            let n: i64 = conn.query_row(sql, [], |r| r.get(0)).map_err(self.err())?;
            out.insert(key, n);
        }
        Ok(out)
    }

    /// Retire.js's repository, if one was imported.
    pub fn retire(&self) -> Result<Option<crate::retire::RetireRepo>> {
        let doc: Option<String> = self
            .conn()
            .query_row("SELECT doc FROM retire WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(self.err())?;
        doc.map(|d| crate::retire::RetireRepo::parse(&d).map_err(VulnError::Invalid))
            .transpose()
    }

    /// One advisory by id.
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>> {
        let conn = self.conn();
        let doc: Option<String> = conn
            .query_row("SELECT doc FROM advisories WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.err())?;
        doc.map(|d| self.decode(id, &d)).transpose()
    }

    fn decode(&self, id: &str, doc: &str) -> Result<Advisory> {
        serde_json::from_str(doc).map_err(|e| VulnError::Db {
            path: self.path.display().to_string(),
            message: format!("advisory {id} is stored damaged: {e}"),
        })
    }

    /// Reads every advisory that is not withdrawn, and the KEV, SSVC and EPSS tables.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let conn = self.conn();
        let mut advisories = Vec::new();
        let mut stmt = conn
            .prepare("SELECT id, doc FROM advisories WHERE withdrawn = 0 ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.err())?;
        for row in rows {
            let (id, doc) = row.map_err(self.err())?;
            advisories.push(self.decode(&id, &doc)?);
        }
        let mut kev = HashMap::new();
        let mut stmt = conn
            .prepare("SELECT cve, date_added, due_date, ransomware, vendor, product, name FROM kev")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(KevEntry {
                    cve: r.get(0)?,
                    date_added: r.get(1)?,
                    due_date: r.get(2)?,
                    ransomware: r.get(3)?,
                    vendor: r.get(4)?,
                    product: r.get(5)?,
                    name: r.get(6)?,
                })
            })
            .map_err(self.err())?;
        for row in rows {
            let k = row.map_err(self.err())?;
            kev.insert(k.cve.clone(), k);
        }
        let mut ssvc = HashMap::new();
        let mut stmt = conn
            .prepare("SELECT cve, exploitation, automatable, technical_impact FROM ssvc_inputs")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    crate::ssvc::KnownInputs {
                        exploitation: r.get(1)?,
                        automatable: r.get(2)?,
                        technical_impact: r.get(3)?,
                    },
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (cve, k) = row.map_err(self.err())?;
            ssvc.insert(cve, k);
        }
        let mut epss = HashMap::new();
        let mut stmt = conn
            .prepare("SELECT cve, score, percentile FROM epss")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Epss {
                        score: r.get(1)?,
                        percentile: r.get(2)?,
                    },
                ))
            })
            .map_err(self.err())?;
        for row in rows {
            let (cve, e) = row.map_err(self.err())?;
            epss.insert(cve, e);
        }
        let mut cpe = Vec::new();
        let mut stmt = conn
            .prepare("SELECT doc FROM cpe_ranges")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.err())?;
        for row in rows {
            let doc = row.map_err(self.err())?;
            cpe.push(serde_json::from_str(&doc).map_err(|e| VulnError::Db {
                path: self.path.display().to_string(),
                message: format!("a stored CPE range does not read: {e}"),
            })?);
        }
        Ok(Snapshot {
            advisories,
            kev,
            ssvc,
            epss,
            cpe,
        })
    }
}

/// Writes inside one import transaction.
pub struct Tx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    path: &'a Path,
}

impl Tx<'_> {
    pub(crate) fn raw(&self) -> &rusqlite::Transaction<'_> {
        self.tx
    }

    pub(crate) fn error(&self) -> impl Fn(rusqlite::Error) -> VulnError + '_ {
        self.err()
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> VulnError + '_ {
        move |e| VulnError::Db {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Stores an advisory unless the stored copy is as new and the same.
    pub fn upsert_advisory(&self, source: &str, a: &Advisory) -> Result<Upsert> {
        let doc = serde_json::to_string(a).map_err(|e| VulnError::Invalid(e.to_string()))?;
        let existing: Option<(String, String)> = self
            .tx
            .query_row(
                "SELECT modified, doc FROM advisories WHERE id = ?1",
                [&a.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.err())?;
        let outcome = match &existing {
            None => Upsert::Added,
            Some((_, old_doc)) if *old_doc == doc => return Ok(Upsert::Unchanged),
            Some((old_modified, _)) if old_modified.as_str() > a.modified.as_str() => {
                return Ok(Upsert::Unchanged);
            }
            Some(_) => Upsert::Updated,
        };
        self.tx
            .execute(
                "INSERT OR REPLACE INTO advisories (id, source, modified, withdrawn, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![a.id, source, a.modified, a.withdrawn.is_some() as i64, doc],
            )
            .map_err(self.err())?;
        Ok(outcome)
    }

    pub fn upsert_kev(&self, k: &KevEntry) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO kev (cve, date_added, due_date, ransomware, vendor, product, name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![k.cve, k.date_added, k.due_date, k.ransomware, k.vendor, k.product, k.name],
            )
            .map_err(self.err())?;
        Ok(())
    }

    pub fn upsert_ssvc(&self, cve: &str, k: &crate::ssvc::KnownInputs) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO ssvc_inputs (cve, exploitation, automatable, technical_impact)
                 VALUES (?1, ?2, ?3, ?4)",
                params![cve, k.exploitation, k.automatable, k.technical_impact],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Replaces the CPE ranges of the CVEs in `ranges` (a CVE's record replaces its
    /// earlier one whole).
    pub fn replace_cpe(&self, ranges: &[crate::cpe::CpeRange]) -> Result<()> {
        let mut cves: Vec<&str> = ranges.iter().map(|r| r.cve.as_str()).collect();
        cves.sort_unstable();
        cves.dedup();
        for cve in cves {
            self.tx
                .execute("DELETE FROM cpe_ranges WHERE cve = ?1", [cve])
                .map_err(self.err())?;
        }
        for r in ranges {
            self.tx
                .execute(
                    "INSERT INTO cpe_ranges (cve, vendor, product, doc) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        r.cve,
                        r.vendor,
                        r.product,
                        serde_json::to_string(r).expect("ranges serialise")
                    ],
                )
                .map_err(self.err())?;
        }
        Ok(())
    }

    /// Stores Retire.js's repository, replacing the one before.
    pub fn set_retire(&self, doc: &str) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO retire (id, doc) VALUES (1, ?1)",
                [doc],
            )
            .map_err(self.err())?;
        Ok(())
    }

    pub fn upsert_epss(&self, cve: &str, e: Epss) -> Result<()> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?1, ?2, ?3)",
                params![cve, e.score, e.percentile],
            )
            .map_err(self.err())?;
        Ok(())
    }
}
