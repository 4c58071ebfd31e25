//! The embedded store: a write-ahead log in front of one tantivy index per UTC day.
//!
//! Directory layout under the store root:
//!
//! ```text
//! wal/wal-<seq>.log        appended batches not yet committed to the indexes
//! events/<YYYY-MM-DD>/     one tantivy index per day (its commit payload records the
//!                          last log sequence it contains, so replay is exactly-once)
//! deadletter/<day>.ndjson  records that could not be parsed, with the reason
//! ```
//!
//! Why tantivy: it gives an inverted index (a search for one IP among 10 M events reads
//! one posting list), columnar fast fields (newest-first order, ranges, counts,
//! histograms) and a compressed document store in one well-kept pure-Rust crate; its
//! index files are immutable segments, which makes day partitions cheap to drop for
//! retention. It has no write-ahead log of its own, hence [`crate::wal`].

mod compile;
pub mod schema;
pub mod snapshot;

use crate::deadletter::{DeadLetterLog, dir_size};
use crate::wal::Wal;
use crate::{
    EventStore, HistogramBucket, Result, SearchRequest, SearchResult, StoreError, StoreStats,
    io_err,
};
use compile::{Compiled, compile, date_term, time_range};
use haechi_event::{DeadLetter, Event, Timestamp, event_from_json, write_event_json};
use schema::Fields;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query as TQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{
    DateTime, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

/// How the embedded store behaves; every key is also a configuration key (`[store]`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Which backend keeps the events: `embedded` (default) or `clickhouse`.
    pub backend: crate::Backend,
    /// The ClickHouse server, for `backend = "clickhouse"` (`[store.clickhouse]`).
    pub clickhouse: crate::clickhouse::ClickHouseConfig,
    /// Drop day partitions older than this many days (none: keep forever).
    pub retention_days: Option<u32>,
    /// Drop the oldest day partitions while the store is larger than this (bytes).
    pub max_bytes: Option<u64>,
    /// Indexing memory per open partition writer, in bytes (tantivy needs ≥ 15 MB per thread).
    pub writer_memory_bytes: usize,
    /// Indexing threads per partition writer.
    pub writer_threads: usize,
    /// Partition writers kept open at once (older ones are committed and closed).
    pub max_open_writers: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: crate::Backend::Embedded,
            clickhouse: Default::default(),
            retention_days: None,
            max_bytes: None,
            writer_memory_bytes: 128 << 20,
            writer_threads: std::thread::available_parallelism()
                .map(|n| n.get().min(4))
                .unwrap_or(1),
            max_open_writers: 4,
        }
    }
}

/// The most candidates a post-filtered (inexact) query examines per partition.
const MAX_SCAN: usize = 5_000_000;

/// One day's index.
struct Partition {
    day: String,
    start: Timestamp,
    index: Index,
    reader: IndexReader,
}

struct OpenWriter {
    day: String,
    writer: IndexWriter,
    /// The highest log sequence added to this writer since its last commit.
    dirty_seq: Option<u64>,
}

struct WriteState {
    wal: Wal,
    /// Open writers, least recently used first.
    writers: Vec<OpenWriter>,
}

/// The embedded event store (see the module documentation).
pub struct EmbeddedStore {
    root: PathBuf,
    config: StoreConfig,
    fields: Fields,
    /// `None` when opened read-only.
    write: Option<Mutex<WriteState>>,
    /// The exclusive lock on `LOCK`, held while open for writing.
    _lock: Option<std::fs::File>,
    partitions: RwLock<BTreeMap<String, Arc<Partition>>>,
    dead_letters: DeadLetterLog,
    pending: AtomicU64,
    dead_letter_count: AtomicU64,
    /// The highest write-ahead log record known to be on disk (group commit).
    synced_seq: Mutex<u64>,
    /// Set when syncing the log failed: the kernel may have dropped the written pages,
    /// so no later append may be acknowledged until the store is reopened.
    log_failed: std::sync::atomic::AtomicBool,
}

impl EmbeddedStore {
    /// Opens (or creates) the store under `root` for writing and replays the write-ahead
    /// log. Only one process may hold a store open for writing (`LOCK`).
    pub fn open(root: &Path, config: StoreConfig) -> Result<EmbeddedStore> {
        let events_dir = root.join("events");
        std::fs::create_dir_all(&events_dir).map_err(io_err(&events_dir))?;
        let lock = take_lock(root)?;
        let fields = Fields::new();
        let partitions = open_partitions(&events_dir, &fields, false)?;
        let (mut wal, records) = Wal::open(&root.join("wal"))?;
        let committed = partitions
            .iter()
            .filter_map(|(day, p)| partition_seq(day, p).ok())
            .max()
            .unwrap_or(0);
        wal.advance_to(committed + 1)?;
        let dead_letters = DeadLetterLog::open(&root.join("deadletter"))?;
        let dead_letter_count = AtomicU64::new(dead_letters.count());
        let store = EmbeddedStore {
            root: root.to_owned(),
            config,
            fields,
            write: Some(Mutex::new(WriteState {
                wal,
                writers: Vec::new(),
            })),
            _lock: Some(lock),
            partitions: RwLock::new(partitions),
            dead_letters,
            pending: AtomicU64::new(0),
            dead_letter_count,
            synced_seq: Mutex::new(0),
            log_failed: std::sync::atomic::AtomicBool::new(false),
        };
        store.replay(records)?;
        Ok(store)
    }

    /// Opens the store for searching only, beside a process that writes it (a running
    /// `haechi serve`). It sees what that process has committed; nothing is replayed.
    pub fn open_read_only(root: &Path) -> Result<EmbeddedStore> {
        let events_dir = root.join("events");
        if !events_dir.is_dir() {
            return Err(StoreError::Invalid(format!(
                "there is no event store in {} (ingest or serve creates one)",
                root.display()
            )));
        }
        let fields = Fields::new();
        let partitions = open_partitions(&events_dir, &fields, true)?;
        let dead_letters = DeadLetterLog::open(&root.join("deadletter"))?;
        let dead_letter_count = AtomicU64::new(dead_letters.count());
        Ok(EmbeddedStore {
            root: root.to_owned(),
            config: StoreConfig::default(),
            fields,
            write: None,
            _lock: None,
            partitions: RwLock::new(partitions),
            dead_letters,
            pending: AtomicU64::new(0),
            dead_letter_count,
            synced_seq: Mutex::new(0),
            log_failed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every dead letter kept.
    /// Re-adds logged events that their partition has not committed yet.
    fn replay(&self, records: Vec<crate::wal::WalRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut committed: HashMap<String, u64> = HashMap::new();
        let mut replayed = 0u64;
        let mut state = self.lock_write("replay")?;
        for record in records {
            for line in record
                .payload
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
            {
                let json: serde_json::Value =
                    serde_json::from_slice(line).map_err(|e| StoreError::CorruptLog {
                        path: "wal".into(),
                        offset: record.seq,
                        reason: format!("record {} holds an unreadable event: {e}", record.seq),
                    })?;
                let Some(event) = event_from_json(&json) else {
                    continue;
                };
                let day = day_of(event.timestamp);
                let done = match committed.get(&day) {
                    Some(s) => *s,
                    None => {
                        let s = self.committed_seq(&day)?;
                        committed.insert(day.clone(), s);
                        s
                    }
                };
                if record.seq > done {
                    let doc = self.fields.document(&event, line);
                    self.writer_for(&mut state, &day)?.add(doc, record.seq)?;
                    replayed += 1;
                }
            }
        }
        tracing::info!(replayed, "replayed events from the write-ahead log");
        self.commit_locked(&mut state)
    }

    /// The last log sequence a partition has committed (0 when it has none).
    fn committed_seq(&self, day: &str) -> Result<u64> {
        let partitions = self.partitions.read().unwrap_or_else(|e| e.into_inner());
        match partitions.get(day) {
            Some(p) => partition_seq(day, p),
            None => Ok(0),
        }
    }

    fn lock_write(&self, what: &'static str) -> Result<std::sync::MutexGuard<'_, WriteState>> {
        let write = self.write.as_ref().ok_or(StoreError::ReadOnly(what))?;
        Ok(write.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The open writer of a day, opening (and, past the limit, closing another) as needed.
    fn writer_for<'a>(&self, state: &'a mut WriteState, day: &str) -> Result<&'a mut OpenWriter> {
        if let Some(pos) = state.writers.iter().position(|w| w.day == day) {
            let w = state.writers.remove(pos);
            state.writers.push(w);
        } else {
            if state.writers.len() >= self.config.max_open_writers.max(1) {
                let mut oldest = state.writers.remove(0);
                self.commit_writer(&mut oldest)?;
            }
            let partition = self.partition(day)?;
            let memory =
                self.config.writer_memory_bytes.max(15 << 20) * self.config.writer_threads.max(1);
            let writer = partition
                .index
                .writer_with_num_threads(self.config.writer_threads.max(1), memory)
                .map_err(|e| index_err(day, e))?;
            state.writers.push(OpenWriter {
                day: day.to_owned(),
                writer,
                dirty_seq: None,
            });
        }
        let last = state.writers.len() - 1;
        Ok(&mut state.writers[last])
    }

    /// The partition of a day, created if it does not exist.
    fn partition(&self, day: &str) -> Result<Arc<Partition>> {
        if let Some(p) = self
            .partitions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(day)
        {
            return Ok(p.clone());
        }
        let p = Arc::new(open_partition(
            &self.root.join("events"),
            day,
            &self.fields,
        )?);
        self.partitions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(day.to_owned(), p.clone());
        Ok(p)
    }

    fn commit_writer(&self, w: &mut OpenWriter) -> Result<()> {
        let Some(seq) = w.dirty_seq else {
            return Ok(());
        };
        let mut prepared = w
            .writer
            .prepare_commit()
            .map_err(|e| index_err(&w.day, e))?;
        prepared.set_payload(&format!("wal_seq={seq}"));
        prepared.commit().map_err(|e| index_err(&w.day, e))?;
        w.dirty_seq = None;
        if let Some(p) = self
            .partitions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&w.day)
        {
            p.reader.reload().map_err(|e| index_err(&w.day, e))?;
        }
        Ok(())
    }

    fn commit_locked(&self, state: &mut WriteState) -> Result<()> {
        if state.writers.iter().all(|w| w.dirty_seq.is_none())
            && self.pending.load(Ordering::Relaxed) == 0
        {
            // Nothing new: only age can have pushed a partition out (size cannot grow).
            if self.config.retention_days.is_some() {
                let config_without_size = StoreConfig {
                    max_bytes: None,
                    ..self.config.clone()
                };
                return self.apply_retention_with(state, &config_without_size);
            }
            return Ok(());
        }
        for w in state.writers.iter_mut() {
            self.commit_writer(w)?;
        }
        state.wal.truncate_committed()?;
        self.pending.store(0, Ordering::Relaxed);
        self.apply_retention(state)
    }

    /// Drops partitions past the age limit, then the oldest while over the size limit.
    fn apply_retention(&self, state: &mut WriteState) -> Result<()> {
        self.apply_retention_with(state, &self.config)
    }

    fn apply_retention_with(&self, state: &mut WriteState, config: &StoreConfig) -> Result<()> {
        let mut doomed: Vec<String> = Vec::new();
        let days: Vec<String> = self
            .partitions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        if let Some(keep) = config.retention_days {
            let cutoff = Timestamp(Timestamp::now().0 - keep as i64 * 86_400_000_000_000);
            let cutoff_day = day_of(cutoff);
            doomed.extend(days.iter().filter(|d| **d < cutoff_day).cloned());
        }
        if let Some(max) = config.max_bytes {
            let mut sizes: Vec<(String, u64)> = days
                .iter()
                .filter(|d| !doomed.contains(d))
                .map(|d| (d.clone(), dir_size(&self.root.join("events").join(d))))
                .collect();
            let mut total: u64 = sizes.iter().map(|(_, s)| s).sum();
            // Keep the newest partition whatever its size: it is being written.
            while total > max && sizes.len() > 1 {
                let (day, size) = sizes.remove(0);
                total -= size;
                doomed.push(day);
            }
        }
        for day in doomed {
            state.writers.retain(|w| w.day != day);
            self.partitions
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&day);
            let dir = self.root.join("events").join(&day);
            std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
            tracing::info!(partition = %day, "retention dropped a partition");
        }
        Ok(())
    }

    /// Partitions that may hold events in `[from, to)`, newest first.
    fn partitions_for(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Vec<Arc<Partition>> {
        let partitions = self.partitions.read().unwrap_or_else(|e| e.into_inner());
        partitions
            .values()
            .rev()
            .filter(|p| {
                let end = Timestamp(p.start.0 + 86_400_000_000_000);
                from.is_none_or(|f| end > f) && to.is_none_or(|t| p.start <= t)
            })
            .cloned()
            .collect()
    }

    /// The compiled request: the query, the time window and the tenant filter together.
    fn compile_request(
        &self,
        request: &SearchRequest,
    ) -> Result<(Compiled, Option<Timestamp>, Option<Timestamp>)> {
        let compiled = compile(&self.fields, &request.query)
            .map_err(|e| StoreError::Invalid(format!("query cannot run: {e}")))?;
        let (qlo, qhi) = request.query.time_bounds();
        let from = max_opt(request.from, qlo);
        let to = min_opt(request.to, qhi);
        let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = vec![(Occur::Must, compiled.query)];
        if request.from.is_some() || request.to.is_some() {
            let lo = request.from.map_or(Bound::Unbounded, |t| {
                Bound::Included(date_term(self.fields.ts, t))
            });
            let hi = request.to.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(date_term(self.fields.ts, t))
            });
            clauses.push((Occur::Must, time_range(&self.fields, lo, hi)));
        }
        if let Some(tenants) = &request.tenants {
            let any_tenant: Vec<(Occur, Box<dyn TQuery>)> = tenants
                .iter()
                .map(|t| {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(
                            Term::from_field_text(self.fields.org, t),
                            IndexRecordOption::Basic,
                        )) as Box<dyn TQuery>,
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any_tenant))));
        }
        Ok((
            Compiled {
                query: Box::new(BooleanQuery::new(clauses)),
                exact: compiled.exact,
            },
            from,
            to,
        ))
    }

    fn load_event(
        &self,
        searcher: &tantivy::Searcher,
        addr: tantivy::DocAddress,
        day: &str,
    ) -> Result<Event> {
        let doc: TantivyDocument = searcher.doc(addr).map_err(|e| index_err(day, e))?;
        let bytes = doc
            .get_first(self.fields.doc)
            .and_then(|v| v.as_bytes())
            .ok_or_else(|| StoreError::Index {
                partition: day.to_owned(),
                message: format!("document {addr:?} has no stored event"),
            })?;
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| index_err(day, e))?;
        event_from_json(&json).ok_or_else(|| StoreError::Index {
            partition: day.to_owned(),
            message: "stored event lacks @timestamp".into(),
        })
    }

    /// Matching events of one partition, newest first, post-filtered when inexact.
    /// Calls `visit` for each until it returns false. Returns the number matched.
    fn scan_partition(
        &self,
        p: &Partition,
        compiled: &Compiled,
        request: &SearchRequest,
        mut visit: impl FnMut(Event) -> bool,
    ) -> Result<u64> {
        let searcher = p.reader.searcher();
        let candidates = searcher
            .search(&compiled.query, &Count)
            .map_err(|e| index_err(&p.day, e))?;
        if candidates == 0 {
            return Ok(0);
        }
        let top = TopDocs::with_limit(candidates.min(MAX_SCAN))
            .order_by_fast_field::<DateTime>("ts", Order::Desc);
        let hits = searcher
            .search(&compiled.query, &top)
            .map_err(|e| index_err(&p.day, e))?;
        let mut matched = 0u64;
        let mut wanted = true;
        for (_, addr) in hits {
            let event = self.load_event(&searcher, addr, &p.day)?;
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

impl EmbeddedStore {
    /// Appends a batch; returns its log sequence when it was logged.
    fn append_batch(&self, events: &[Event], logged: bool) -> Result<Option<u64>> {
        if events.is_empty() {
            return Ok(None);
        }
        let mut lines: Vec<Vec<u8>> = Vec::with_capacity(events.len());
        let mut payload = Vec::with_capacity(events.len() * 512);
        for e in events {
            let mut line = Vec::with_capacity(512);
            write_event_json(e, &mut line);
            payload.extend_from_slice(&line);
            payload.push(b'\n');
            lines.push(line);
        }
        let docs: Vec<(String, TantivyDocument)> = events
            .iter()
            .zip(&lines)
            .map(|(e, line)| (day_of(e.timestamp), self.fields.document(e, line)))
            .collect();
        if logged {
            self.check_log()?;
        }
        let mut state = self.lock_write("append")?;
        // Unlogged documents carry the last logged sequence: replay never re-adds them.
        let (seq, segment) = if logged {
            let (seq, segment) = state.wal.write(&payload)?;
            (seq, Some(segment))
        } else {
            (state.wal.next_seq().saturating_sub(1), None)
        };
        for (day, doc) in docs {
            self.writer_for(&mut state, &day)?.add(doc, seq)?;
        }
        drop(state);
        self.pending
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        match segment {
            Some(segment) => self.sync_log(seq, &segment).map(|()| Some(seq)),
            None => Ok(None),
        }
    }

    /// Returns once log record `seq` is on disk. One appender syncs while the others
    /// wait; a sync covers every record written before it started (group commit). A
    /// segment replaced meanwhile held only records already committed to the indexes.
    fn sync_log(&self, seq: u64, segment: &crate::wal::Segment) -> Result<()> {
        let mut synced = self.synced_seq.lock().unwrap_or_else(|e| e.into_inner());
        self.check_log()?;
        if *synced >= seq {
            return Ok(());
        }
        match segment.sync() {
            Ok(upto) => {
                *synced = (*synced).max(upto);
                Ok(())
            }
            Err(e) => {
                self.log_failed.store(true, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// Refuses appends once a log sync has failed.
    fn check_log(&self) -> Result<()> {
        if self.log_failed.load(Ordering::SeqCst) {
            return Err(StoreError::Invalid(
                "syncing the write-ahead log failed earlier (disk full or failing?); \
                 no event is acknowledged until Haechi is restarted on a healthy disk"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The last log sequence a partition's committed metadata records (0 when none).
fn partition_seq(day: &str, p: &Partition) -> Result<u64> {
    let metas = p.index.load_metas().map_err(|e| index_err(day, e))?;
    Ok(metas
        .payload
        .as_deref()
        .and_then(|s| s.strip_prefix("wal_seq="))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

/// Adds documents to a writer, remembering the log sequence they came from.
impl OpenWriter {
    fn add(&mut self, doc: TantivyDocument, seq: u64) -> Result<()> {
        self.writer
            .add_document(doc)
            .map_err(|e| index_err(&self.day, e))?;
        self.dirty_seq = Some(self.dirty_seq.map_or(seq, |s| s.max(seq)));
        Ok(())
    }
}

impl EventStore for EmbeddedStore {
    fn append(&self, events: &[Event]) -> Result<()> {
        self.append_batch(events, true).map(|_| ())
    }

    fn append_logged(&self, events: &[Event]) -> Result<Option<u64>> {
        self.append_batch(events, true)
    }

    fn ready(&self) -> Result<()> {
        self.check_log()
    }

    /// Skips the write-ahead log (about 15 % of the cost of a load): what was appended is
    /// durable once `commit` returns, which is when `haechi ingest` reports it stored.
    fn append_bulk(&self, events: &[Event]) -> Result<()> {
        self.append_batch(events, false).map(|_| ())
    }

    fn redo_inherited_log(&self, redo: &mut dyn FnMut(u64, Vec<Event>)) -> Result<usize> {
        let inherited = self.lock_write("redo the log")?.wal.inherited().to_vec();
        let mut records = 0;
        for segment in &inherited {
            for record in crate::wal::read_records(segment)? {
                let events = record
                    .payload
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .filter_map(|l| serde_json::from_slice(l).ok())
                    .filter_map(|json: serde_json::Value| event_from_json(&json))
                    .collect();
                redo(record.seq, events);
                records += 1;
            }
        }
        self.lock_write("redo the log")?.wal.release_inherited();
        Ok(records)
    }

    fn append_dead_letters(&self, letters: &[DeadLetter]) -> Result<()> {
        if self.write.is_none() {
            return Err(StoreError::ReadOnly("append dead letters"));
        }
        self.dead_letters.append(letters)?;
        self.dead_letter_count
            .fetch_add(letters.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        self.dead_letters.read_all()
    }

    fn commit(&self) -> Result<()> {
        let mut state = self.lock_write("commit")?;
        self.commit_locked(&mut state)
    }

    fn search(&self, request: &SearchRequest) -> Result<SearchResult> {
        let (compiled, from, to) = self.compile_request(request)?;
        let mut result = SearchResult::default();
        for p in self.partitions_for(from, to) {
            let remaining = request.limit.saturating_sub(result.events.len());
            if compiled.exact {
                let searcher = p.reader.searcher();
                result.total += searcher
                    .search(&compiled.query, &Count)
                    .map_err(|e| index_err(&p.day, e))? as u64;
                if remaining > 0 {
                    let top = TopDocs::with_limit(remaining)
                        .order_by_fast_field::<DateTime>("ts", Order::Desc);
                    for (_, addr) in searcher
                        .search(&compiled.query, &top)
                        .map_err(|e| index_err(&p.day, e))?
                    {
                        result
                            .events
                            .push(self.load_event(&searcher, addr, &p.day)?);
                    }
                }
            } else {
                let events = &mut result.events;
                result.total += self.scan_partition(&p, &compiled, request, |e| {
                    if events.len() < request.limit {
                        events.push(e);
                    }
                    events.len() < request.limit
                })?;
            }
        }
        Ok(result)
    }

    fn count_by(
        &self,
        request: &SearchRequest,
        field: &str,
        top: usize,
    ) -> Result<Vec<(String, u64)>> {
        let (compiled, from, to) = self.compile_request(request)?;
        let mut counts: HashMap<String, u64> = HashMap::new();
        for p in self.partitions_for(from, to) {
            if compiled.exact {
                aggregate_terms(&p, &compiled, field, top, &mut counts)?;
            } else {
                self.scan_partition(&p, &compiled, request, |e| {
                    for v in field_texts(&e, field) {
                        *counts.entry(v).or_default() += 1;
                    }
                    true
                })?;
            }
        }
        let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        sorted.truncate(top);
        Ok(sorted)
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
        let (compiled, from, to) = self.compile_request(request)?;
        let width = interval_secs as i64 * 1_000_000_000;
        let mut buckets: BTreeMap<i64, u64> = BTreeMap::new();
        for p in self.partitions_for(from, to) {
            if compiled.exact {
                let searcher = p.reader.searcher();
                let partial = searcher
                    .search(&compiled.query, &TimeBuckets { width })
                    .map_err(|e| index_err(&p.day, e))?;
                for (k, n) in partial {
                    *buckets.entry(k).or_default() += n;
                }
            } else {
                self.scan_partition(&p, &compiled, request, |e| {
                    *buckets
                        .entry(e.timestamp.0.div_euclid(width) * width)
                        .or_default() += 1;
                    true
                })?;
            }
        }
        Ok(fill_gaps(buckets, width))
    }

    fn stats(&self) -> StoreStats {
        let partitions: Vec<Arc<Partition>> = self
            .partitions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        StoreStats {
            events: partitions
                .iter()
                .map(|p| p.reader.searcher().num_docs())
                .sum(),
            bytes: dir_size(&self.root),
            partitions: partitions.len(),
            pending: self.pending.load(Ordering::Relaxed),
            dead_letters: self.dead_letter_count.load(Ordering::Relaxed),
        }
    }
}

/// Counts matching documents per time bucket straight from the `ts` fast column: exact
/// for any number of matches, with memory proportional to the number of buckets.
struct TimeBuckets {
    width: i64,
}

struct TimeBucketsSegment {
    ts: tantivy::columnar::Column<DateTime>,
    width: i64,
    counts: HashMap<i64, u64>,
}

impl tantivy::collector::Collector for TimeBuckets {
    type Fruit = HashMap<i64, u64>;
    type Child = TimeBucketsSegment;

    fn for_segment(
        &self,
        _ord: tantivy::SegmentOrdinal,
        segment: &tantivy::SegmentReader,
    ) -> tantivy::Result<TimeBucketsSegment> {
        Ok(TimeBucketsSegment {
            ts: segment.fast_fields().date("ts")?,
            width: self.width,
            counts: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<HashMap<i64, u64>>) -> tantivy::Result<HashMap<i64, u64>> {
        let mut all = HashMap::new();
        for f in fruits {
            for (k, n) in f {
                *all.entry(k).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl tantivy::collector::SegmentCollector for TimeBucketsSegment {
    type Fruit = HashMap<i64, u64>;

    fn collect(&mut self, doc: tantivy::DocId, _score: tantivy::Score) {
        if let Some(t) = self.ts.first(doc) {
            *self
                .counts
                .entry(t.into_timestamp_nanos().div_euclid(self.width) * self.width)
                .or_default() += 1;
        }
    }

    fn harvest(self) -> HashMap<i64, u64> {
        self.counts
    }
}

/// Top terms of `field` in one partition, added to `counts`, from the fast columns
/// (strings in `facet`, numbers in `num`; `organization.id` in `org`).
fn aggregate_terms(
    p: &Partition,
    compiled: &Compiled,
    field: &str,
    top: usize,
    counts: &mut HashMap<String, u64>,
) -> Result<()> {
    use tantivy::aggregation::agg_req::Aggregations;
    use tantivy::aggregation::agg_result::AggregationResults;
    use tantivy::aggregation::{AggContextParams, AggregationCollector};
    let columns: Vec<String> = if field == haechi_event::ecs::ORGANIZATION_ID {
        vec!["org".into()]
    } else {
        vec![format!("facet.{field}"), format!("num.{field}")]
    };
    let searcher = p.reader.searcher();
    for column in columns {
        let request = serde_json::json!({ "top": { "terms": { "field": column, "size": top.max(10) * 4, "min_doc_count": 1 } } });
        let aggs: Aggregations =
            serde_json::from_value(request).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let context = AggContextParams::new(Default::default(), p.index.tokenizers().clone());
        let collector = AggregationCollector::from_aggs(aggs, context);
        let result: AggregationResults = searcher
            .search(&compiled.query, &collector)
            .map_err(|e| index_err(&p.day, e))?;
        let json = serde_json::to_value(result).map_err(|e| StoreError::Invalid(e.to_string()))?;
        for bucket in json["top"]["buckets"].as_array().into_iter().flatten() {
            let key = match &bucket["key"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => match n.as_f64() {
                    Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => format!("{}", x as i64),
                    _ => n.to_string(),
                },
                other => other.to_string(),
            };
            *counts.entry(key).or_default() += bucket["doc_count"].as_u64().unwrap_or(0);
        }
    }
    Ok(())
}

/// The values of a field as text, for counting.
pub(crate) fn field_texts(event: &Event, field: &str) -> Vec<String> {
    if field == haechi_event::ecs::ORGANIZATION_ID {
        return vec![event.tenant.to_string()];
    }
    event
        .fields
        .iter()
        .filter(|(n, _)| n == field)
        .flat_map(|(_, v)| {
            v.scalars()
                .map(|s| s.as_text().into_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Histogram buckets from first to last, with empty buckets in between.
pub(crate) fn fill_gaps(buckets: BTreeMap<i64, u64>, width: i64) -> Vec<HistogramBucket> {
    let (Some(first), Some(last)) = (
        buckets.keys().next().copied(),
        buckets.keys().next_back().copied(),
    ) else {
        return Vec::new();
    };
    if (last - first) / width > 100_000 {
        return buckets
            .into_iter()
            .map(|(k, count)| HistogramBucket {
                start: Timestamp(k),
                count,
            })
            .collect();
    }
    let mut out = Vec::new();
    let mut t = first;
    while t <= last {
        out.push(HistogramBucket {
            start: Timestamp(t),
            count: buckets.get(&t).copied().unwrap_or(0),
        });
        t += width;
    }
    out
}

/// Takes the exclusive write lock of a store (released when the process ends, even by
/// `kill -9`, since it is an advisory file lock held by the open file).
fn take_lock(root: &Path) -> Result<std::fs::File> {
    let path = root.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(StoreError::Locked(root.display().to_string()))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
    }
}

/// The day partitions under `events/`; read-only skips days not committed yet.
fn open_partitions(
    events_dir: &Path,
    fields: &Fields,
    read_only: bool,
) -> Result<BTreeMap<String, Arc<Partition>>> {
    let mut partitions = BTreeMap::new();
    for entry in std::fs::read_dir(events_dir).map_err(io_err(events_dir))? {
        let entry = entry.map_err(io_err(events_dir))?;
        let Some(day) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if day_start(&day).is_none() || (read_only && !entry.path().join("meta.json").exists()) {
            continue;
        }
        partitions.insert(
            day.clone(),
            Arc::new(open_partition(events_dir, &day, fields)?),
        );
    }
    Ok(partitions)
}

fn open_partition(events_dir: &Path, day: &str, fields: &Fields) -> Result<Partition> {
    let dir = events_dir.join(day);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let mmap = MmapDirectory::open(&dir).map_err(|e| index_err(day, e))?;
    let index =
        Index::open_or_create(mmap, fields.schema.clone()).map_err(|e| index_err(day, e))?;
    Fields::register_tokenizers(index.tokenizers());
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|e| index_err(day, e))?;
    let start =
        day_start(day).ok_or_else(|| StoreError::Invalid(format!("bad partition name {day}")))?;
    Ok(Partition {
        day: day.to_owned(),
        start,
        index,
        reader,
    })
}

/// The partition (UTC day) of a time.
fn day_of(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d").to_string()
}

fn day_start(day: &str) -> Option<Timestamp> {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(Timestamp::from_datetime(&d.and_hms_opt(0, 0, 0)?.and_utc()))
}

fn index_err(partition: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Index {
        partition: partition.to_owned(),
        message: e.to_string(),
    }
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}
