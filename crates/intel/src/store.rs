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

use crate::build::new_uuid;
use crate::objects::{BundleReport, Limits, StixObject, parse_bundle};
use crate::tlp::{Tlp, may_share};
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
CREATE INDEX IF NOT EXISTS objects_kind ON objects (type, added);
CREATE TABLE IF NOT EXISTS partners (
    name    TEXT    PRIMARY KEY,
    tlp_max TEXT    NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
    partner    TEXT    NOT NULL REFERENCES partners(name) ON DELETE CASCADE,
    collection TEXT    NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    can_read   INTEGER NOT NULL,
    can_write  INTEGER NOT NULL,
    PRIMARY KEY (partner, collection)
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS statuses (
    id      TEXT    PRIMARY KEY,
    owner   TEXT    NOT NULL,
    created INTEGER NOT NULL,
    json    TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS statuses_owner ON statuses (owner, created);
";

/// Columns added after the first release of the store, with their definition.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // Who stored the version (`partner:NAME`, `user:NAME`, `cli`): a partner always sees
    // what it shared itself, whatever its TLP.
    ("objects", "added_by", "TEXT"),
];

/// The most objects one page holds.
pub const MAX_PAGE: usize = 10_000;
/// How long a TAXII status resource is kept.
pub const STATUS_RETENTION_DAYS: i64 = 7;
/// The most status resources one poster keeps.
pub const STATUS_MAX_PER_OWNER: i64 = 10_000;

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
    /// Objects added at or before this time (nanoseconds).
    pub added_until: Option<i64>,
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub versions: Versions,
    pub limit: usize,
    /// The `next` of the previous page.
    pub next: Option<String>,
    /// Whom the listing is for (`None`: the hub's owner, who sees every TLP level).
    pub audience: Option<Audience>,
}

/// Someone outside the hub reading a collection: the TLP levels they may receive
/// ([`may_share`] against their maximum), and what they shared themselves, which they
/// always see again.
#[derive(Debug, Clone, PartialEq)]
pub struct Audience {
    pub tlp_max: Tlp,
    /// The `added_by` of their own objects.
    pub own: Option<String>,
}

impl Audience {
    /// The stored TLP values (unmarked counts as [`Tlp::UNMARKED_DEFAULT`]) this audience
    /// may receive.
    fn levels(&self) -> Vec<&'static str> {
        Tlp::ALL
            .into_iter()
            .filter(|t| may_share(*t, self.tlp_max))
            .map(Tlp::as_str)
            .collect()
    }
}

/// A partner organisation's entitlements: its TLP maximum and, per collection, whether it
/// may read and write.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Partner {
    pub name: String,
    pub tlp_max: Tlp,
    pub grants: Vec<Grant>,
}

/// One collection granted to a partner.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Grant {
    pub collection: Collection,
    pub read: bool,
    pub write: bool,
}

impl Partner {
    /// The grant on a collection (by id), if any.
    pub fn grant(&self, collection_id: &str) -> Option<&Grant> {
        self.grants
            .iter()
            .find(|g| g.collection.id == collection_id)
    }
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
    /// Who stored it (`None`: before this was recorded).
    pub added_by: Option<String>,
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
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(sql)?;
        conn.execute_batch("PRAGMA foreign_keys=ON;").map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        add_missing_columns(&conn).map_err(sql)?;
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
    pub fn add_bundle(
        &self,
        collection: &str,
        bytes: &[u8],
        limits: Limits,
        added_by: &str,
    ) -> Result<AddReport> {
        let c = self.collection(collection)?;
        let BundleReport {
            accepted, rejected, ..
        } = parse_bundle(bytes, limits)?;
        let mut report = self.add_objects(&c.id, &accepted, added_by)?;
        report.rejected = rejected;
        Ok(report)
    }

    /// Stores validated objects in one transaction, recording who added them
    /// (`added_by`: `partner:NAME`, `user:NAME`, `cli`).
    pub fn add_objects(
        &self,
        collection_id: &str,
        objects: &[StixObject],
        added_by: &str,
    ) -> Result<AddReport> {
        let mut report = AddReport::default();
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = self.last_added.lock().unwrap_or_else(|e| e.into_inner());
        // IMMEDIATE: the write lock first, then the newest `date_added` of every process
        // (a CLI import beside the server), so that `date_added` stays strictly increasing
        // across processes and `added_after` paging never skips a row.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(self.sql())?;
        let stored_last: i64 = tx
            .query_row("SELECT coalesce(max(added), 0) FROM objects", [], |r| {
                r.get(0)
            })
            .map_err(self.sql())?;
        *last = (*last).max(stored_last);
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO objects (collection, id, type, version, version_ns, added, revoked, tlp, json, added_by) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
                        added_by,
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
            "SELECT seq, id, type, version, added, revoked, tlp, json, added_by FROM objects o WHERE collection = ?1 AND seq > ?2",
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
        if let Some(t) = filter.added_until {
            bind(&mut sql, " AND added <= {}".into(), vec![t.into()]);
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
        if let Some(audience) = &filter.audience {
            let unmarked = Tlp::UNMARKED_DEFAULT.as_str();
            bind(
                &mut sql,
                format!(" AND (coalesce(tlp, '{unmarked}') IN ({{}})"),
                audience
                    .levels()
                    .into_iter()
                    .map(|l| l.to_owned().into())
                    .collect(),
            );
            match &audience.own {
                Some(own) => bind(
                    &mut sql,
                    " OR added_by = {})".into(),
                    vec![own.clone().into()],
                ),
                None => sql.push(')'),
            }
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
                        added_by: r.get(8)?,
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
    /// With `only_added_by`, only the versions that this source added go (a partner may
    /// take back what it shared, never what others did).
    pub fn delete(
        &self,
        collection_id: &str,
        id: &str,
        version: Option<&str>,
        only_added_by: Option<&str>,
    ) -> Result<usize> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let n = conn
            .execute(
                "DELETE FROM objects WHERE collection = ?1 AND id = ?2 \
                 AND (?3 IS NULL OR version = ?3) AND (?4 IS NULL OR added_by = ?4)",
                params![collection_id, id, version, only_added_by],
            )
            .map_err(self.sql())?;
        Ok(n)
    }

    /// What changes whenever indicators are added or deleted (by this process or
    /// another one): the last `date_added` of an indicator and the number of indicator
    /// versions. (Sightings and reports coming and going do not change the matcher.)
    pub fn fingerprint(&self) -> Result<(i64, i64)> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row(
            "SELECT coalesce(max(added), 0), count(*) FROM objects WHERE type = 'indicator'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(self.sql())
    }

    /// The last `date_added` of an object of type `object_type` (0: none), by this
    /// process or another one.
    pub fn last_added_of(&self, object_type: &str) -> Result<i64> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row(
            "SELECT coalesce(max(added), 0) FROM objects WHERE type = ?1",
            [object_type],
            |r| r.get(0),
        )
        .map_err(self.sql())
    }

    /// A number kept in the store (`None`: never set).
    pub fn meta(&self, key: &str) -> Result<Option<i64>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.sql())
    }

    pub fn set_meta(&self, key: &str, value: i64) -> Result<()> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )
        .map_err(self.sql())?;
        Ok(())
    }

    /// Everything a listing matches, page after page (`filter.limit` and `next` are set
    /// here).
    pub fn all_objects(&self, collection_id: &str, mut filter: Filter) -> Result<Vec<Stored>> {
        filter.limit = MAX_PAGE;
        filter.next = None;
        let mut all = Vec::new();
        loop {
            let page = self.objects(collection_id, &filter)?;
            all.extend(page.objects);
            match page.next {
                Some(next) => filter.next = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// The newest version of every indicator of a collection added in (`added_after`,
    /// `added_until`] (nanoseconds; `None`: unbounded), as one STIX bundle, for the
    /// indicator matcher.
    pub fn indicator_bundle(
        &self,
        collection_id: &str,
        added_after: Option<i64>,
        added_until: Option<i64>,
    ) -> Result<Vec<u8>> {
        let filter = Filter {
            added_after,
            added_until,
            types: vec!["indicator".into()],
            ..Filter::default()
        };
        let objects: Vec<serde_json::Value> = self
            .all_objects(collection_id, filter)?
            .into_iter()
            .map(|o| o.json)
            .collect();
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": format!("bundle--{}", new_uuid()),
            "objects": objects,
        });
        Ok(bundle.to_string().into_bytes())
    }

    // ---- partners ----

    /// Creates a partner, or replaces its entitlements: its TLP maximum and the
    /// collections (names or ids) it may read and write. A collection named in both
    /// lists is granted both.
    pub fn set_partner(
        &self,
        name: &str,
        tlp_max: Tlp,
        read: &[String],
        write: &[String],
    ) -> Result<Partner> {
        let mut grants: Vec<Grant> = Vec::new();
        for (list, is_write) in [(read, false), (write, true)] {
            for wanted in list {
                let collection = self.collection(wanted)?;
                match grants.iter_mut().find(|g| g.collection.id == collection.id) {
                    Some(g) if is_write => g.write = true,
                    Some(g) => g.read = true,
                    None => grants.push(Grant {
                        collection,
                        read: !is_write,
                        write: is_write,
                    }),
                }
            }
        }
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(self.sql())?;
        tx.execute(
            "INSERT INTO partners (name, tlp_max, created) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET tlp_max = excluded.tlp_max",
            params![name, tlp_max.as_str(), now_ns()],
        )
        .map_err(self.sql())?;
        tx.execute("DELETE FROM grants WHERE partner = ?1", [name])
            .map_err(self.sql())?;
        for g in &grants {
            tx.execute(
                "INSERT INTO grants (partner, collection, can_read, can_write) VALUES (?1, ?2, ?3, ?4)",
                params![name, g.collection.id, g.read, g.write],
            )
            .map_err(self.sql())?;
        }
        tx.commit().map_err(self.sql())?;
        Ok(Partner {
            name: name.to_owned(),
            tlp_max,
            grants,
        })
    }

    /// A partner's entitlements (`None`: no such partner).
    pub fn partner(&self, name: &str) -> Result<Option<Partner>> {
        Ok(self.partners()?.into_iter().find(|p| p.name == name))
    }

    /// Every partner, by name.
    pub fn partners(&self) -> Result<Vec<Partner>> {
        let collections = self.collections()?;
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare_cached(
                "SELECT p.name, p.tlp_max, g.collection, g.can_read, g.can_write \
                 FROM partners p LEFT JOIN grants g ON g.partner = p.name ORDER BY p.name",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<bool>>(3)?.unwrap_or(false),
                    r.get::<_, Option<bool>>(4)?.unwrap_or(false),
                ))
            })
            .map_err(self.sql())?;
        let mut partners: Vec<Partner> = Vec::new();
        for row in rows {
            let (name, tlp, collection, read, write) = row.map_err(self.sql())?;
            if partners.last().is_none_or(|p| p.name != name) {
                partners.push(Partner {
                    name: name.clone(),
                    // Only this code writes the column; the safest reading of anything
                    // else is "nothing beyond CLEAR".
                    tlp_max: Tlp::parse(&tlp).unwrap_or(Tlp::Clear),
                    grants: Vec::new(),
                });
            }
            let partner = partners.last_mut().expect("pushed above");
            if let Some(c) = collection.and_then(|id| collections.iter().find(|c| c.id == id)) {
                partner.grants.push(Grant {
                    collection: c.clone(),
                    read,
                    write,
                });
            }
        }
        for p in &mut partners {
            p.grants
                .sort_by(|a, b| a.collection.name.cmp(&b.collection.name));
        }
        Ok(partners)
    }

    /// Removes a partner's entitlements (answers whether it existed).
    pub fn remove_partner(&self, name: &str) -> Result<bool> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let n = conn
            .execute("DELETE FROM partners WHERE name = ?1", [name])
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    // ---- TAXII status resources ----

    /// Keeps the status resource of a POST, readable by its `owner` only, for
    /// [`STATUS_RETENTION_DAYS`]; an owner keeps at most [`STATUS_MAX_PER_OWNER`] (the
    /// oldest go first).
    pub fn save_status(&self, id: &str, owner: &str, status: &serde_json::Value) -> Result<()> {
        let now = now_ns();
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO statuses (id, owner, created, json) VALUES (?1, ?2, ?3, ?4)",
            params![id, owner, now, status.to_string()],
        )
        .map_err(self.sql())?;
        conn.execute(
            "DELETE FROM statuses WHERE created < ?1 OR id IN (SELECT id FROM statuses \
             WHERE owner = ?2 ORDER BY created DESC LIMIT -1 OFFSET ?3)",
            params![
                now - STATUS_RETENTION_DAYS * 86_400 * 1_000_000_000,
                owner,
                STATUS_MAX_PER_OWNER
            ],
        )
        .map_err(self.sql())?;
        Ok(())
    }

    /// How many object versions `added_by` has stored in all collections.
    pub fn count_added_by(&self, added_by: &str) -> Result<u64> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.query_row(
            "SELECT count(*) FROM objects WHERE added_by = ?1",
            [added_by],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as u64)
        .map_err(self.sql())
    }

    /// Which of `ids` a collection holds versions of that another source added (a
    /// partner may not supersede them).
    pub fn ids_held_by_others(
        &self,
        collection_id: &str,
        ids: &[&str],
        added_by: &str,
    ) -> Result<std::collections::HashSet<String>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn
            .prepare_cached(
                "SELECT 1 FROM objects WHERE collection = ?1 AND id = ?2 \
                 AND coalesce(added_by, '') <> ?3 LIMIT 1",
            )
            .map_err(self.sql())?;
        let mut held = std::collections::HashSet::new();
        for id in ids {
            if stmt
                .exists(params![collection_id, id, added_by])
                .map_err(self.sql())?
            {
                held.insert((*id).to_owned());
            }
        }
        Ok(held)
    }

    /// A status resource, if it exists and belongs to `owner`.
    pub fn status(&self, id: &str, owner: &str) -> Result<Option<serde_json::Value>> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let json: Option<String> = conn
            .query_row(
                "SELECT json FROM statuses WHERE id = ?1 AND owner = ?2",
                params![id, owner],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
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

/// Adds the [`ADDED_COLUMNS`] a store made by an older Haechi lacks.
fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    for (table, column, definition) in ADDED_COLUMNS {
        let present: bool = conn.query_row(
            &format!("SELECT count(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
            [column],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !present {
            conn.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition}"
            ))?;
        }
    }
    conn.execute_batch("CREATE INDEX IF NOT EXISTS objects_source ON objects (added_by)")?;
    Ok(())
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
                "cli",
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
                "cli",
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
                .delete(&c.id, A, Some("2026-01-01T00:00:00Z"), None)
                .unwrap(),
            1
        );
        assert_eq!(store.count(&c.id).unwrap(), 2);
        assert!(matches!(
            store.add_bundle("nope", b"{}", Limits::default(), "cli"),
            Err(StoreError::NoCollection(_))
        ));
    }

    fn marked(id: &str, tlp: Tlp) -> serde_json::Value {
        let mut o = indicator(id, "2026-01-01T00:00:00.000Z", false);
        o["object_marking_refs"] = serde_json::json!([tlp.marking_id()]);
        o
    }

    #[test]
    fn a_partner_receives_only_what_its_tlp_allows_and_its_own_objects() {
        let dir = tempfile::tempdir().unwrap();
        let store = IntelStore::open(&dir.path().join("intel.db")).unwrap();
        let c = store.add_collection("shared", "", "").unwrap();
        let ids: Vec<String> = (0..5)
            .map(|i| format!("indicator--{i}e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"))
            .collect();
        let objects: Vec<_> = Tlp::ALL
            .iter()
            .zip(&ids)
            .map(|(t, id)| marked(id, *t))
            .collect();
        store
            .add_bundle("shared", &bundle(objects), Limits::default(), "cli")
            .unwrap();
        let unmarked = "indicator--9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        let from_partner = "indicator--ae2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        store
            .add_bundle(
                "shared",
                &bundle(vec![indicator(unmarked, "2026-01-01T00:00:00.000Z", false)]),
                Limits::default(),
                "cli",
            )
            .unwrap();
        store
            .add_bundle(
                "shared",
                &bundle(vec![marked(from_partner, Tlp::Red)]),
                Limits::default(),
                "user:acme",
            )
            .unwrap();
        let seen = |audience: Option<Audience>| -> Vec<String> {
            store
                .objects(
                    &c.id,
                    &Filter {
                        limit: 100,
                        audience,
                        ..Default::default()
                    },
                )
                .unwrap()
                .objects
                .into_iter()
                .map(|o| o.id)
                .collect()
        };
        assert_eq!(seen(None).len(), 7, "the owner sees every level");
        let green = seen(Some(Audience {
            tlp_max: Tlp::Green,
            own: Some("user:acme".into()),
        }));
        assert_eq!(
            green,
            vec![ids[0].clone(), ids[1].clone(), from_partner.into()]
        );
        let amber = seen(Some(Audience {
            tlp_max: Tlp::Amber,
            own: None,
        }));
        assert_eq!(
            amber,
            vec![
                ids[0].clone(),
                ids[1].clone(),
                ids[2].clone(),
                unmarked.into()
            ],
            "unmarked objects count as AMBER"
        );
        let red = seen(Some(Audience {
            tlp_max: Tlp::Red,
            own: None,
        }));
        assert!(!red.contains(&ids[4]), "RED never leaves the owner");
        assert!(red.contains(&ids[3]));
        // A partner deletes only what it added.
        assert_eq!(
            store
                .delete(&c.id, &ids[0], None, Some("user:acme"))
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .delete(&c.id, from_partner, None, Some("user:acme"))
                .unwrap(),
            1
        );
    }

    #[test]
    fn partners_keep_their_grants() {
        let dir = tempfile::tempdir().unwrap();
        let store = IntelStore::open(&dir.path().join("intel.db")).unwrap();
        let shared = store.add_collection("shared", "", "").unwrap();
        let inbox = store.add_collection("inbox", "", "").unwrap();
        let p = store
            .set_partner(
                "acme",
                Tlp::Amber,
                &["shared".into(), "inbox".into()],
                std::slice::from_ref(&inbox.id),
            )
            .unwrap();
        assert_eq!(p.grants.len(), 2);
        let back = store.partner("acme").unwrap().unwrap();
        assert_eq!(back.tlp_max, Tlp::Amber);
        let g = back.grant(&inbox.id).unwrap();
        assert!(g.read && g.write);
        let g = back.grant(&shared.id).unwrap();
        assert!(g.read && !g.write);
        assert!(matches!(
            store.set_partner("acme", Tlp::Green, &["nope".into()], &[]),
            Err(StoreError::NoCollection(_))
        ));
        store.set_partner("acme", Tlp::Green, &[], &[]).unwrap();
        assert!(store.partner("acme").unwrap().unwrap().grants.is_empty());
        assert!(store.remove_partner("acme").unwrap());
        assert!(store.partner("acme").unwrap().is_none());
        store
            .save_status("s1", "user:acme", &serde_json::json!({"id": "s1"}))
            .unwrap();
        assert!(store.status("s1", "partner:other").unwrap().is_none());
        assert_eq!(
            store.status("s1", "user:acme").unwrap().unwrap()["id"],
            "s1"
        );
    }
}
