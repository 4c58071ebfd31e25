//! The ClickHouse backend: the same [`EventStore`] on a ClickHouse server, for sites
//! whose events outgrow one machine's embedded store.
//!
//! Events go in with the official `clickhouse` crate as RowBinary (validation off, which
//! is what a 18.16 server understands), one `INSERT` per batch; the query language is
//! compiled to a `WHERE` condition by [`compile`], exact or post-filtered exactly like the
//! embedded store. Every statement carries the institution filter of the request.
//! Rows are visible as soon as the insert returns, so [`EventStore::commit`] has nothing
//! to do; an acknowledged insert is in the server's data parts (it survives a crash of
//! either process; ClickHouse does not `fsync` each insert, see docs/storage.md).
//!
//! The store's methods are synchronous, as the trait is; the client is asynchronous, so
//! the store runs it on a small runtime of its own and waits for the answer. That works
//! from any thread, including tokio's blocking pool.

pub mod compile;
pub mod row;
pub mod statements;

use crate::{
    EventStore, HistogramBucket, Result, SearchRequest, SearchResult, StoreError, StoreStats,
};
use compile::lit;
use haechi_event::{DeadLetter, Event, Timestamp};
use row::{EventRow, StoredRow};
use statements::Dialect;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// The most candidates a post-filtered (inexact) query examines, as in the embedded store.
const MAX_SCAN: usize = 5_000_000;

/// How long one statement may take before the store gives up on it.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the ClickHouse server is (`[store.clickhouse]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClickHouseConfig {
    /// The server's HTTP interface.
    pub url: String,
    /// The database Haechi's tables live in (created when missing).
    pub database: String,
    pub user: String,
    /// The password, inline. Prefer `password_file`.
    pub password: Option<String>,
    /// A file whose first line is the password (kept out of the configuration file).
    pub password_file: Option<PathBuf>,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        ClickHouseConfig {
            url: "http://127.0.0.1:8123".into(),
            database: "haechi".into(),
            user: "default".into(),
            password: None,
            password_file: None,
        }
    }
}

impl ClickHouseConfig {
    fn password(&self) -> Result<Option<String>> {
        match &self.password_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(crate::io_err(path))?;
                Ok(Some(text.lines().next().unwrap_or("").to_owned()))
            }
            None => Ok(self.password.clone()),
        }
    }
}

#[derive(Debug, ::clickhouse::Row, serde::Serialize, serde::Deserialize)]
struct DeadLetterRow {
    received: i64,
    org: String,
    day: u16,
    source: String,
    format: String,
    reason: String,
    record: String,
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct Count {
    value: String,
    count: u64,
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct Bucket {
    start: i64,
    count: u64,
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct PartsRow {
    bytes: u64,
    partitions: u64,
}

/// Events in a ClickHouse database.
pub struct ClickHouseStore {
    client: ::clickhouse::Client,
    url: String,
    database: String,
    version: String,
    dialect: Dialect,
    runtime: Option<tokio::runtime::Runtime>,
    /// `store.retention_days`, applied by `commit` at most once an hour.
    retention_days: Option<u32>,
    retention_checked: std::sync::Mutex<Option<std::time::Instant>>,
}

impl ClickHouseStore {
    /// Connects, checks the server answers, and creates the database and tables when
    /// missing.
    pub fn open(config: &ClickHouseConfig) -> Result<ClickHouseStore> {
        Self::open_with_retention(config, None)
    }

    /// [`ClickHouseStore::open`], dropping day partitions older than `retention_days`
    /// (checked by [`EventStore::commit`] at most once an hour).
    pub fn open_with_retention(
        config: &ClickHouseConfig,
        retention_days: Option<u32>,
    ) -> Result<ClickHouseStore> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("clickhouse")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Invalid(format!("cannot start the ClickHouse client: {e}")))?;
        let mut client = ::clickhouse::Client::default()
            .with_url(&config.url)
            .with_user(&config.user)
            // RowBinary without the column-type header: the only form 18.16 reads.
            .with_validation(false);
        if let Some(p) = config.password()? {
            client = client.with_password(p);
        }
        let mut store = ClickHouseStore {
            client,
            url: config.url.clone(),
            database: config.database.clone(),
            version: String::new(),
            dialect: Dialect::default(),
            runtime: Some(runtime),
            retention_days,
            retention_checked: std::sync::Mutex::new(None),
        };
        if !valid_identifier(&config.database) {
            return Err(StoreError::Invalid(format!(
                "store.clickhouse.database {:?}: use letters, digits and _ only",
                config.database
            )));
        }
        store.version = store
            .fetch_all::<VersionRow>("SELECT version() AS version".into())?
            .into_iter()
            .next()
            .map(|r| r.version)
            .unwrap_or_default();
        store.dialect = Dialect::for_version(&store.version);
        for statement in statements::schema(&config.database) {
            store.execute(statement)?;
        }
        if let Some(days) = retention_days {
            for statement in statements::retention_ttl(store.dialect, &config.database, days) {
                store.execute(statement)?;
            }
        }
        store.client = store.client.clone().with_database(&config.database);
        Ok(store)
    }

    /// The server's version, as it reports it.
    pub fn server_version(&self) -> &str {
        &self.version
    }

    /// Drops the day partitions of events and dead letters older than `days` days
    /// (retention is a partition drop: cheap, and what 18.16 offers instead of TTL).
    pub fn drop_older_than(&self, days: u32) -> Result<usize> {
        let today = haechi_event::Timestamp::now()
            .0
            .div_euclid(86_400_000_000_000);
        let cutoff = today - i64::from(days);
        let mut dropped = 0;
        for table in ["events", "dead_letters"] {
            let parts =
                self.fetch_all::<PartitionRow>(statements::partitions(&self.database, table))?;
            for p in parts {
                let Some(day) = day_number(&p.partition) else {
                    continue;
                };
                if day < cutoff {
                    self.execute(statements::drop_partition(
                        &self.database,
                        table,
                        &p.partition,
                    ))?;
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }

    /// Merges the tables' parts now (the server does it in the background anyway);
    /// the bench calls it before it reads the bytes on disk.
    pub fn optimize(&self) -> Result<()> {
        for table in ["events", "dead_letters"] {
            self.execute(format!("OPTIMIZE TABLE {}.{table} FINAL", self.database))?;
        }
        Ok(())
    }

    /// Events stored, and how many distinct `event.id`s they carry (the scale-out bench
    /// counts duplicates with it).
    pub fn id_counts(&self) -> Result<(u64, u64)> {
        let row = self.fetch_all::<IdCounts>(statements::ID_COUNTS.into())?;
        Ok(row.first().map_or((0, 0), |r| (r.events, r.ids)))
    }

    /// Drops the store's database with everything in it (the bench cleans up with it).
    pub fn drop_database(&self) -> Result<()> {
        self.execute(format!("DROP DATABASE IF EXISTS {}", self.database))
    }

    /// Runs `fut` on the store's runtime and waits for it.
    fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = std::result::Result<T, ::clickhouse::error::Error>> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| StoreError::Invalid("the ClickHouse store is closed".into()))?;
        runtime.spawn(async move {
            let outcome = tokio::time::timeout(STATEMENT_TIMEOUT, fut).await;
            let _ = tx.send(outcome);
        });
        match rx.recv() {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(self.server_err(e.to_string())),
            Ok(Err(_)) => Err(self.server_err(format!(
                "no answer within {} s",
                STATEMENT_TIMEOUT.as_secs()
            ))),
            Err(_) => Err(self.server_err("the request was dropped".into())),
        }
    }

    fn server_err(&self, message: String) -> StoreError {
        StoreError::Server {
            url: self.url.clone(),
            message,
        }
    }

    fn execute(&self, sql: String) -> Result<()> {
        let client = self.client.clone();
        self.run(async move { client.query_raw(&sql).execute().await })
    }

    fn fetch_all<T>(&self, sql: String) -> Result<Vec<T>>
    where
        T: ::clickhouse::RowOwned + ::clickhouse::RowRead + Send + 'static,
    {
        let client = self.client.clone();
        self.run(async move { client.query_raw(&sql).fetch_all::<T>().await })
    }

    fn insert<T>(&self, table: &'static str, rows: Vec<T>) -> Result<()>
    where
        T: ::clickhouse::RowOwned + ::clickhouse::RowWrite + Send + Sync + 'static,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let client = self.client.clone();
        self.run(async move {
            let mut insert = client.insert::<T>(table).await?;
            for r in &rows {
                insert.write(r).await?;
            }
            insert.end().await
        })
    }

    /// Matching events newest first, post-filtered; calls `visit` until it returns false.
    /// Returns how many matched.
    fn scan(&self, request: &SearchRequest, mut visit: impl FnMut(Event) -> bool) -> Result<u64> {
        let (clause, _) = statements::where_clause(request);
        let rows = self.fetch_all::<StoredRow>(statements::select_events(&clause, MAX_SCAN))?;
        let mut matched = 0;
        let mut wanted = true;
        for row in rows {
            let event = row.into_event();
            if request.query.matches(&event) {
                matched += 1;
                if wanted {
                    wanted = visit(event);
                }
            }
        }
        Ok(matched)
    }
}

impl Drop for ClickHouseStore {
    fn drop(&mut self) {
        // A runtime may not be dropped inside another one's context; this may.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct Value {
    value: String,
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct IdCounts {
    events: u64,
    ids: u64,
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct VersionRow {
    version: String,
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct PartitionRow {
    partition: String,
}

#[derive(Debug, ::clickhouse::Row, serde::Deserialize)]
struct CountRow {
    count: u64,
}

fn valid_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Days since 1970-01-01 of a `Date` partition (`2024-05-01` or `20240501`).
fn day_number(partition: &str) -> Option<i64> {
    let digits: String = partition.chars().filter(|c| c.is_ascii_digit()).collect();
    let date = chrono::NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()?;
    Some(
        date.signed_duration_since(chrono::NaiveDate::default())
            .num_days(),
    )
}

impl EventStore for ClickHouseStore {
    fn append(&self, events: &[Event]) -> Result<()> {
        self.insert("events", events.iter().map(EventRow::from_event).collect())
    }

    fn ready(&self) -> Result<()> {
        self.execute("SELECT 1".into())
    }

    fn append_dead_letters(&self, letters: &[DeadLetter]) -> Result<()> {
        self.insert(
            "dead_letters",
            letters
                .iter()
                .map(|d| DeadLetterRow {
                    received: d.received.0,
                    org: d.tenant.clone(),
                    day: d.received.0.div_euclid(86_400_000_000_000).clamp(0, 65_535) as u16,
                    source: d.source.clone(),
                    format: d.format.clone(),
                    reason: d.reason.clone(),
                    record: d.record.clone(),
                })
                .collect(),
        )
    }

    /// Inserted rows are visible at once; this only applies retention (hourly).
    fn commit(&self) -> Result<()> {
        let Some(days) = self.retention_days else {
            return Ok(());
        };
        {
            let mut checked = self
                .retention_checked
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if checked.is_some_and(|t| t.elapsed() < Duration::from_secs(3600)) {
                return Ok(());
            }
            *checked = Some(std::time::Instant::now());
        }
        let dropped = self.drop_older_than(days)?;
        if dropped > 0 {
            tracing::info!(
                partitions = dropped,
                days,
                "retention dropped old day partitions"
            );
        }
        Ok(())
    }

    fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        Ok(self
            .fetch_all::<DeadLetterRow>(
                "SELECT received, org, day, source, format, reason, record FROM dead_letters \
                 ORDER BY received"
                    .into(),
            )?
            .into_iter()
            .map(|r| DeadLetter {
                received: haechi_event::Timestamp(r.received),
                tenant: r.org,
                source: r.source,
                format: r.format,
                reason: r.reason,
                record: r.record,
            })
            .collect())
    }

    fn search(&self, request: &SearchRequest) -> Result<SearchResult> {
        let (clause, exact) = statements::where_clause(request);
        let mut result = SearchResult::default();
        if !exact {
            let events = &mut result.events;
            result.total = self.scan(request, |e| {
                if events.len() < request.limit {
                    events.push(e);
                }
                events.len() < request.limit
            })?;
            return Ok(result);
        }
        result.total = self
            .fetch_all::<CountRow>(statements::count(&clause))?
            .first()
            .map_or(0, |r| r.count);
        if request.limit > 0 && result.total > 0 {
            result.events = self
                .fetch_all::<StoredRow>(statements::select_events(&clause, request.limit))?
                .into_iter()
                .map(StoredRow::into_event)
                .collect();
        }
        Ok(result)
    }

    fn count_by(
        &self,
        request: &SearchRequest,
        field: &str,
        top: usize,
    ) -> Result<Vec<(String, u64)>> {
        let (clause, exact) = statements::where_clause(request);
        if !exact {
            let mut counts: HashMap<String, u64> = HashMap::new();
            self.scan(request, |e| {
                for v in crate::embedded::field_texts(&e, field) {
                    *counts.entry(v).or_default() += 1;
                }
                true
            })?;
            let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            sorted.truncate(top);
            return Ok(sorted);
        }
        let sql = statements::count_by(&clause, field, top);
        Ok(self
            .fetch_all::<Count>(sql)?
            .into_iter()
            .map(|c| (c.value, c.count))
            .collect())
    }

    fn histogram(
        &self,
        request: &SearchRequest,
        interval_secs: u64,
    ) -> Result<Vec<HistogramBucket>> {
        if interval_secs == 0 {
            return Err(StoreError::Invalid(
                "histogram interval must be at least one second".into(),
            ));
        }
        let width = interval_secs as i64 * 1_000_000_000;
        let (clause, exact) = statements::where_clause(request);
        let mut buckets: BTreeMap<i64, u64> = BTreeMap::new();
        if exact {
            for b in self.fetch_all::<Bucket>(statements::histogram(&clause, width))? {
                *buckets
                    .entry(b.start.div_euclid(width) * width)
                    .or_default() += b.count;
            }
        } else {
            self.scan(request, |e| {
                *buckets
                    .entry(e.timestamp.0.div_euclid(width) * width)
                    .or_default() += 1;
                true
            })?;
        }
        Ok(crate::embedded::fill_gaps(buckets, width))
    }

    /// One query over the time range (the sort key's second column), with every id as
    /// a literal: the generic search ORs 500 array lookups per row and took 13 s per
    /// chunk on 18.16.
    fn stored_event_ids(
        &self,
        ids: &[&str],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<std::collections::HashSet<String>> {
        let mut found = std::collections::HashSet::new();
        for chunk in ids.chunks(5_000) {
            let rows = self.fetch_all::<Value>(statements::stored_event_ids(chunk, from, to))?;
            found.extend(rows.into_iter().map(|r| r.value));
        }
        Ok(found)
    }

    fn stats(&self) -> StoreStats {
        let parts = self.fetch_all::<PartsRow>(format!(
            "SELECT sum(bytes_on_disk) AS bytes, uniqExact(partition) AS partitions \
             FROM system.parts WHERE database = {} AND active AND table IN ('events', 'dead_letters')",
            lit(&self.database)
        ));
        let count = |table: &str| {
            self.fetch_all::<CountRow>(format!("SELECT count() AS count FROM {table}"))
                .ok()
                .and_then(|r| r.first().map(|c| c.count))
                .unwrap_or(0)
        };
        let (events, dead_letters) = (count("events"), count("dead_letters"));
        match parts {
            Ok(p) => {
                let p = p.into_iter().next();
                StoreStats {
                    events,
                    bytes: p.as_ref().map_or(0, |p| p.bytes),
                    partitions: p.map_or(0, |p| p.partitions as usize),
                    pending: 0,
                    dead_letters,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "ClickHouse statistics not available");
                StoreStats {
                    events,
                    dead_letters,
                    ..Default::default()
                }
            }
        }
    }
}
