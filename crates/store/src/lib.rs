//! # The event store
//!
//! An [`EventStore`] keeps events durably and answers the query language of
//! [`haechi_query`]: searches newest-first, top-N counts by field, and histograms over
//! time. It is the interface every backend implements; [`embedded::EmbeddedStore`] is the
//! one `haechi serve` uses with no configuration (a data directory, no server), and
//! [`clickhouse::ClickHouseStore`] implements the same trait on a ClickHouse server by
//! compiling [`haechi_query::Query`] to SQL (`[store] backend = "clickhouse"`).
//!
//! The embedded store is a write-ahead log ([`wal`]) in front of time-partitioned
//! tantivy indexes (one per UTC day, [`embedded`]). [`EventStore::append`] returns once
//! the batch is in the log and on disk (`fsync`), so an acknowledged event survives a
//! crash; [`EventStore::commit`] makes appended events searchable and lets the log be
//! trimmed. Retention drops whole partitions by age and by total size.
//!
//! Dead letters (records that could not be parsed) are kept beside the events in
//! [`deadletter`], one NDJSON file per day, so that nothing is lost.
//!
//! Alerts, and next the rest of the control center's state, live in the [`state`]
//! store: SQLite beside the events.

pub mod clickhouse;
pub mod deadletter;
pub mod embedded;
pub mod state;
pub mod wal;

use haechi_event::{DeadLetter, Event, Timestamp};
use haechi_query::Query;

/// Errors of the store. Every message names the file or partition involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("index error in {partition}: {message}")]
    Index { partition: String, message: String },
    #[error("write-ahead log {path} is corrupt at byte {offset}: {reason}")]
    CorruptLog {
        path: String,
        offset: u64,
        reason: String,
    },
    #[error("the event store's server at {url} failed: {message}")]
    Server { url: String, message: String },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(
        "the store in {0} is in use by another Haechi process (serve or ingest); searching works beside it, \
         but a second writer must wait for it to finish, or send events to the running server (POST /api/ingest)"
    )]
    Locked(String),
    #[error("this store was opened read-only (for searching); it cannot {0}")]
    ReadOnly(&'static str),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Which backend keeps the events (`[store] backend`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded store in the data directory: no server (the default).
    #[default]
    Embedded,
    /// A ClickHouse server (`[store.clickhouse]`).
    ClickHouse,
}

/// What to search for.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub to: Option<Timestamp>,
    /// Only these institutions (`None`: all). Enforced by the store, not by callers.
    pub tenants: Option<Vec<String>>,
    /// At most this many events, newest first.
    pub limit: usize,
}

impl SearchRequest {
    pub fn new(query: Query) -> Self {
        SearchRequest {
            query,
            from: None,
            to: None,
            tenants: None,
            limit: 100,
        }
    }
}

/// The answer to a search.
#[derive(Debug, Clone, Default)]
pub struct SearchResult {
    /// Matching events, newest first, at most `limit`.
    pub events: Vec<Event>,
    /// How many events matched in all (exact).
    pub total: u64,
}

/// One bucket of a histogram.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistogramBucket {
    pub start: Timestamp,
    pub count: u64,
}

/// Sizes and counts for `/metrics` and `haechi status`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StoreStats {
    /// Events searchable now.
    pub events: u64,
    /// Bytes on disk: partitions, log and dead letters.
    pub bytes: u64,
    pub partitions: usize,
    /// Events appended but not yet committed (in the log only).
    pub pending: u64,
    pub dead_letters: u64,
}

/// The interface of every event store backend.
pub trait EventStore: Send + Sync {
    /// Stores a batch durably. When this returns `Ok`, the events survive a crash.
    fn append(&self, events: &[Event]) -> Result<()>;
    /// Stores a batch for a bulk load that calls [`EventStore::commit`] before it reports
    /// anything as stored (`haechi ingest`): a backend may skip its log, so the events are
    /// durable only after the commit. Default: the same as `append`.
    fn append_bulk(&self, events: &[Event]) -> Result<()> {
        self.append(events)
    }
    /// [`EventStore::append`], returning the batch's write-ahead log sequence when the
    /// backend keeps a log (the embedded store): with [`EventStore::redo_inherited_log`],
    /// the key by which what follows a stored batch (its alerts) is done once.
    fn append_logged(&self, events: &[Event]) -> Result<Option<u64>> {
        self.append(events).map(|()| None)
    }
    /// Hands every batch of the write-ahead log an earlier process left (it stopped,
    /// perhaps crashed, before committing them) to `redo`, with its sequence, then lets a
    /// later commit drop them. Until a process calls this, commits keep those batches in
    /// the log, so a crash's unfinished after-effects (alerts not yet recorded) can be
    /// redone by the process that can do them (`haechi serve`) even when another process
    /// (`haechi search`) opened the store first. Returns how many batches were handed
    /// over; default: none (a backend without a log).
    fn redo_inherited_log(&self, redo: &mut dyn FnMut(u64, Vec<Event>)) -> Result<usize> {
        let _ = redo;
        Ok(0)
    }
    /// Whether the store can take and answer requests now (`/readyz`): the embedded store
    /// unless a log sync failed, a ClickHouse server that answers. Default: yes.
    fn ready(&self) -> Result<()> {
        Ok(())
    }
    /// Stores dead letters durably.
    fn append_dead_letters(&self, letters: &[DeadLetter]) -> Result<()>;
    /// Every dead letter kept, oldest first.
    fn dead_letters(&self) -> Result<Vec<DeadLetter>>;
    /// Makes everything appended so far searchable.
    fn commit(&self) -> Result<()>;
    /// Events matching the request, newest first.
    fn search(&self, request: &SearchRequest) -> Result<SearchResult>;
    /// The `top` most frequent values of `field` among matching events, with counts.
    fn count_by(
        &self,
        request: &SearchRequest,
        field: &str,
        top: usize,
    ) -> Result<Vec<(String, u64)>>;
    /// Matching events counted per time bucket of `interval_secs`.
    fn histogram(
        &self,
        request: &SearchRequest,
        interval_secs: u64,
    ) -> Result<Vec<HistogramBucket>>;
    fn stats(&self) -> StoreStats;

    /// Which of `ids` (`event.id` values of events stamped between `from` and `to`,
    /// inclusive) the store already holds. The scale-out store writer asks before it
    /// stores a batch delivered again. Default: searches of at most 500 ids each, over
    /// all times (a backend may use the range to read less).
    fn stored_event_ids(
        &self,
        ids: &[&str],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<std::collections::HashSet<String>> {
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let query = Query::Or(
                chunk
                    .iter()
                    .map(|id| Query::Field {
                        field: "event.id".into(),
                        predicate: haechi_query::Predicate::Phrase((*id).into()),
                    })
                    .collect(),
            );
            // The range is not passed on: on the embedded store, a search bounded to the
            // redelivered batch's times made later commits of a running `serve` invisible
            // (seen in the tower test; not yet understood — see the issue 15 note).
            let _ = (from, to);
            let mut request = SearchRequest::new(query);
            request.limit = chunk.len() * 2;
            for e in self.search(&request)?.events {
                if let Some(id) = e.get_str("event.id") {
                    found.insert(id.to_owned());
                }
            }
        }
        Ok(found)
    }
}
