//! The STIX object store: collections of STIX 2.1 objects, every version kept, as the
//! TAXII 2.1 server will serve them (`<data_dir>/state/intel.db`, SQLite in WAL mode).
//!
//! * **Validated on the way in**: [`IntelStore::add_bundle`] reads a bundle with
//!   [`parse_bundle`]; every invalid object is reported with its reasons and the valid
//!   ones are stored.
//! * **Versioned by `modified`** (or `created`, for objects without `modified`), as TAXII
//!   does: a new `modified` is a new version, the same one again is a duplicate and is
//!   counted, not stored twice. A revocation is a version with `revoked: true`.
//! * **`date_added`** is strictly increasing within a store, so `added_after` paging never
//!   skips or repeats an object; [`Page::next`] continues a listing.
//! * Objects keep their full JSON as received, plus the TLP level read from their
//!   markings, for the server to enforce.

use crate::objects::{BundleReport, Limits, StixObject, parse_bundle};
use crate::tlp::Tlp;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS collections (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    created     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS objects (
    seq         INTEGER PRIMARY KEY,
    collection  TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    version_ns  INTEGER NOT NULL,
    added       INTEGER NOT NULL,
    revoked     INTEGER NOT NULL,
    tlp         TEXT,
    json        TEXT    NOT NULL,
    UNIQUE (collection, id, version)
);
CREATE INDEX IF NOT EXISTS objects_added ON objects (collection, added);
CREATE INDEX IF NOT EXISTS objects_type ON objects (collection, type, added);
CREATE INDEX IF NOT EXISTS objects_versions ON objects (collection, id, version_ns);
";

/// The most objects one page holds.
pub const MAX_PAGE: usize = 10_000;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {message}")]
    Sql { path: String, message: String },
    #[error("no collection '{0}'")]
    NoCollection(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Bundle(#[from] crate::objects::BundleError),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A collection.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Collection {
    /// A UUID, as TAXII wants collection ids.
    pub id: String,
    /// The short name people use (`haechi intel collection add NAME`).
    pub name: String,
    pub title: String,
    pub description: String,
}

/// What one bundle did to a collection.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct AddReport {
    /// New objects or new versions stored.
    pub stored: usize,
    /// Versions the collection already had.
    pub duplicates: usize,
    /// Object id (when it has one) and why it was refused.
    pub rejected: Vec<(Option<String>, String)>,
    /// The `date_added` of the first and last object stored (nanoseconds).
    pub first_added: Option<i64>,
    pub last_added: Option<i64>,
}

/// Which versions of each object a listing returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Versions {
    /// The newest version of each object (TAXII's default).
    #[default]
    Last,
    First,
    All,
    /// These versions (RFC 3339, as in the objects).
    These(Vec<String>),
}

/// A listing's filters (TAXII's `added_after`, `match[…]`, `limit`, `next`).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Objects added strictly after this time (nanoseconds).
    pub added_after: Option<i64>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub versions: Versions,
    pub limit: usize,
    /// The `next` of the previous page.
    pub next: Option<String>,
}

/// One stored object version.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub object_type: String,
    pub version: String,
    pub date_added: i64,
    pub revoked: bool,
    pub tlp: Option<Tlp>,
    pub json: serde_json::Value,
}

/// A page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub objects: Vec<Stored>,
    /// Continue with this as [`Filter::next`] (`None`: this was the last page).
    pub next: Option<String>,
}

/// The store.
pub struct IntelStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// The last `date_added` handed out (to keep them strictly increasing).
    last_added: Mutex<i64>,
}

fn now_ns() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl IntelStore {
    /// Where the store lives in a data directory.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join("state").join("intel.db")
    }

    pub fn open(path: &Path) -> Result<IntelStore> {
        let sql = |e: rusqlite::Error| StoreError::Sql {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Invalid(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        let last: i64 = conn
            .query_row("SELECT coalesce(max(added), 0) FROM objects", [], |r| {
                r.get(0)
            })
            .map_err(sql)?;
        Ok(IntelStore {
            conn: Mutex::new(conn),
            path: path.to_owned(),
            last_added: Mutex::new(last),
        })
    }

    fn sql(&self) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |e| StoreError::Sql {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Creates a collection (`name`: 1–64 characters of `a-z 0-9 - _`).
    pub fn add_collection(&self, name: &str, title: &str, description: &str) -> Result<Collection> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
        {
            return Err(StoreError::Invalid(format!(
                "collection name '{name}': 1-64 characters of a-z, 0-9, '-', '_'"
            )));
        }
        let c = Collection {
            id: new_uuid(),
            name: name.to_owned(),
            title: if title.is_empty() {
                name.to_owned()
            } else {
                title.to_owned()
            },
            description: description.to_owned(),
        };
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let inserted = conn
            .execute(
                "INSERT OR IGNORE INTO collections (id, name, title, description, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![c.id, c.name, c.title, c.description, now_ns()],
            )
            .map_err(self.sql())?;
        if inserted == 0 {
            return Err(StoreError::Invalid(format!(
                "collection '{name}' exists already"
            )));
        }
        Ok(c)
    }

    pub fn collections(&self) -> Result<Vec<Collection>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare("SELECT id, name, title, description FROM collections ORDER BY name")
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Collection {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    title: r.get(2)?,
                    description: r.get(3)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(self.sql())
    }

    /// The collection with this name or id.
    pub fn collection(&self, name_or_id: &str) -> Result<Collection> {
        self.collections()?
            .into_iter()
            .find(|c| c.name == name_or_id || c.id == name_or_id)
            .ok_or_else(|| StoreError::NoCollection(name_or_id.to_owned()))
    }

    /// Validates and stores a bundle (or one bare object) in a collection.
    pub fn add_bundle(&self, collection: &str, bytes: &[u8], limits: Limits) -> Result<AddReport> {
        let c = self.collection(collection)?;
        let BundleReport {
            accepted, rejected, ..
        } = parse_bundle(bytes, limits)?;
        let mut report = self.add_objects(&c.id, &accepted)?;
        report.rejected = rejected;
        Ok(report)
    }

    /// Stores validated objects in one transaction.
    pub fn add_objects(&self, collection_id: &str, objects: &[StixObject]) -> Result<AddReport> {
        let mut report = AddReport::default();
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = self.last_added.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction().map_err(self.sql())?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO objects (collection, id, type, version, version_ns, added, revoked, tlp, json) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(self.sql())?;
            for o in objects {
                let (version, version_ns) = match o.modified.or(o.created) {
                    Some(t) => (rfc3339(t), t.timestamp_nanos_opt().unwrap_or(0)),
                    // Cyber observables have no versions: one per id.
                    None => (String::new(), 0),
                };
                let added = (*last + 1).max(now_ns());
                let n = insert
                    .execute(params![
                        collection_id,
                        o.id,
                        o.object_type,
                        version,
                        version_ns,
                        added,
                        o.revoked,
                        o.tlp().map(|t| t.as_str()),
                        o.json.to_string(),
                    ])
                    .map_err(self.sql())?;
                if n == 0 {
                    report.duplicates += 1;
                } else {
                    *last = added;
                    report.stored += 1;
                    report.first_added.get_or_insert(added);
                    report.last_added = Some(added);
                }
            }
        }
        tx.commit().map_err(self.sql())?;
        Ok(report)
    }

    /// A page of a collection's objects, oldest `date_added` first.
    pub fn objects(&self, collection_id: &str, filter: &Filter) -> Result<Page> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let after_seq: i64 = match &filter.next {
            Some(n) => n
                .parse()
                .map_err(|_| StoreError::Invalid(format!("next '{n}' is not a page token")))?,
            None => 0,
        };
        let mut sql = String::from(
            "SELECT seq, id, type, version, added, revoked, tlp, json FROM objects o WHERE collection = ?1 AND seq > ?2",
        );
        let mut args: Vec<rusqlite::types::Value> =
            vec![collection_id.to_owned().into(), after_seq.into()];
        let mut bind = |sql: &mut String, clause: String, values: Vec<rusqlite::types::Value>| {
            let mut marks = Vec::new();
            for v in values {
                args.push(v);
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&clause.replace("{}", &marks.join(", ")));
        };
        if let Some(t) = filter.added_after {
            bind(&mut sql, " AND added > {}".into(), vec![t.into()]);
        }
        if !filter.ids.is_empty() {
            bind(
                &mut sql,
                " AND id IN ({})".into(),
                filter.ids.iter().map(|s| s.clone().into()).collect(),
            );
        }
        if !filter.types.is_empty() {
            bind(
                &mut sql,
                " AND type IN ({})".into(),
                filter.types.iter().map(|s| s.clone().into()).collect(),
            );
        }
        match &filter.versions {
            Versions::All => {}
            Versions::Last => sql.push_str(
                " AND version_ns = (SELECT max(version_ns) FROM objects v WHERE v.collection = o.collection AND v.id = o.id)",
            ),
            Versions::First => sql.push_str(
                " AND version_ns = (SELECT min(version_ns) FROM objects v WHERE v.collection = o.collection AND v.id = o.id)",
            ),
            Versions::These(list) => bind(
                &mut sql,
                " AND version IN ({})".into(),
                list.iter().map(|s| s.clone().into()).collect(),
            ),
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT {}", limit + 1));
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare_cached(&sql).map_err(self.sql())?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    Stored {
                        id: r.get(1)?,
                        object_type: r.get(2)?,
                        version: r.get(3)?,
                        date_added: r.get(4)?,
                        revoked: r.get(5)?,
                        tlp: r.get::<_, Option<String>>(6)?.and_then(|t| Tlp::parse(&t)),
                        json: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                    },
                ))
            })
            .map_err(self.sql())?;
        let mut list: Vec<(i64, Stored)> = rows
            .collect::<std::result::Result<_, _>>()
            .map_err(self.sql())?;
        let more = list.len() > limit;
        list.truncate(limit);
        let next = more
            .then(|| list.last().map(|(seq, _)| seq.to_string()))
            .flatten();
        Ok(Page {
            objects: list.into_iter().map(|(_, s)| s).collect(),
            next,
        })
    }

    /// Every version of one object, oldest first.
    pub fn versions(&self, collection_id: &str, id: &str) -> Result<Vec<String>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare_cached(
                "SELECT version FROM objects WHERE collection = ?1 AND id = ?2 ORDER BY version_ns",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map(params![collection_id, id], |r| r.get(0))
            .map_err(self.sql())?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(self.sql())
    }

    /// Deletes an object (every version, or the one named); answers how many went.
    pub fn delete(&self, collection_id: &str, id: &str, version: Option<&str>) -> Result<usize> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let n = match version {
            Some(v) => conn.execute(
                "DELETE FROM objects WHERE collection = ?1 AND id = ?2 AND version = ?3",
                params![collection_id, id, v],
            ),
            None => conn.execute(
                "DELETE FROM objects WHERE collection = ?1 AND id = ?2",
                params![collection_id, id],
            ),
        }
        .map_err(self.sql())?;
        Ok(n)
    }

    /// How many object versions a collection holds.
    pub fn count(&self, collection_id: &str) -> Result<u64> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row(
            "SELECT count(*) FROM objects WHERE collection = ?1",
            params![collection_id],
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map(|n| n.unwrap_or(0) as u64)
        .map_err(self.sql())
    }
}

/// A random (version 4) UUID, from the operating system's generator.
fn new_uuid() -> String {
    let mut b = [0u8; 16];
    // /dev/urandom on every Unix this runs on; a failure leaves the time-based bytes.
    let t = now_ns().to_le_bytes();
    b[..8].copy_from_slice(&t);
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator(id: &str, modified: &str, revoked: bool) -> serde_json::Value {
        serde_json::json!({
            "type": "indicator", "spec_version": "2.1", "id": id,
            "created": "2026-01-01T00:00:00.000Z", "modified": modified,
            "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z", "revoked": revoked,
        })
    }

    fn bundle(objects: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects,
        }))
        .unwrap()
    }

    const A: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
    const B: &str = "indicator--1e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

    #[test]
    fn versions_duplicates_rejections_and_paging() {
        let dir = tempfile::tempdir().unwrap();
        let store = IntelStore::open(&dir.path().join("intel.db")).unwrap();
        let c = store.add_collection("shared", "Shared", "").unwrap();
        assert!(store.add_collection("shared", "", "").is_err());
        assert!(store.add_collection("Bad Name", "", "").is_err());
        let mut broken = indicator(B, "2026-01-01T00:00:00.000Z", false);
        broken.as_object_mut().unwrap().remove("pattern");
        let r = store
            .add_bundle(
                "shared",
                &bundle(vec![
                    indicator(A, "2026-01-01T00:00:00.000Z", false),
                    broken,
                ]),
                Limits::default(),
            )
            .unwrap();
        assert_eq!((r.stored, r.duplicates, r.rejected.len()), (1, 0, 1));
        assert!(r.rejected[0].1.contains("pattern"), "{:?}", r.rejected);
        // The same version again is a duplicate; a newer one and a revocation are versions.
        let r = store
            .add_bundle(
                "shared",
                &bundle(vec![
                    indicator(A, "2026-01-01T00:00:00.000Z", false),
                    indicator(A, "2026-02-01T00:00:00.000Z", false),
                    indicator(A, "2026-03-01T00:00:00.000Z", true),
                ]),
                Limits::default(),
            )
            .unwrap();
        assert_eq!((r.stored, r.duplicates), (2, 1));
        assert_eq!(store.versions(&c.id, A).unwrap().len(), 3);
        let last = store
            .objects(
                &c.id,
                &Filter {
                    limit: 10,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(last.objects.len(), 1);
        assert!(
            last.objects[0].revoked,
            "the newest version is the revocation"
        );
        let all = store
            .objects(
                &c.id,
                &Filter {
                    limit: 2,
                    versions: Versions::All,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(all.objects.len(), 2);
        let rest = store
            .objects(
                &c.id,
                &Filter {
                    limit: 2,
                    versions: Versions::All,
                    next: all.next.clone(),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!((rest.objects.len(), rest.next.clone()), (1, None));
        // added_after: only what came later.
        let after = all.objects[0].date_added;
        let later = store
            .objects(
                &c.id,
                &Filter {
                    added_after: Some(after),
                    versions: Versions::All,
                    limit: 10,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(later.objects.len(), 2);
        assert!(later.objects.iter().all(|o| o.date_added > after));
        assert_eq!(
            store
                .delete(&c.id, A, Some("2026-01-01T00:00:00Z"))
                .unwrap(),
            1
        );
        assert_eq!(store.count(&c.id).unwrap(), 2);
        assert!(matches!(
            store.add_bundle("nope", b"{}", Limits::default()),
            Err(StoreError::NoCollection(_))
        ));
    }
}
