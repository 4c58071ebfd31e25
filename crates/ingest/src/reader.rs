//! Reading records into batches: files (plain, gzip, zstd, EVTX) for `haechi ingest`, and the
//! record lists that network sources hand over, with the same limits and dead letters.

use crate::dedup::SharedDeduplicator;
use crate::{Format, ParseContext, RecordParser, new_parser, parsers};
use haechi_event::{Batch, DeadLetter, Event, Value, ecs};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Limits on what a client controls.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest record accepted; longer ones are dead-lettered, not cut.
    pub max_record_bytes: usize,
    /// Events per batch handed to the sink.
    pub batch_size: usize,
    /// The largest JSON document file read whole (a CloudTrail delivery file, a JSON
    /// array of records), after decompression; a larger one is refused.
    pub max_document_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 1 << 20,
            batch_size: 4096,
            max_document_bytes: 512 << 20,
        }
    }
}

/// What reading produced, per format.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ReadStats {
    pub events: u64,
    pub dead_letters: u64,
    pub duplicates: u64,
    /// Events per format that parsed them (for `auto`, the format picked per record).
    pub by_format: BTreeMap<String, u64>,
    pub bytes: u64,
}

impl ReadStats {
    pub fn add(&mut self, other: &ReadStats) {
        self.events += other.events;
        self.dead_letters += other.dead_letters;
        self.duplicates += other.duplicates;
        self.bytes += other.bytes;
        for (k, v) in &other.by_format {
            *self.by_format.entry(k.clone()).or_default() += v;
        }
    }
}

/// Turns records into events, one stream at a time (a file, a connection, a request).
pub struct RecordStream<'a> {
    parser: Box<dyn RecordParser>,
    format: Format,
    ctx: &'a ParseContext,
    source: String,
    dedup: Option<&'a SharedDeduplicator>,
    keep_original: bool,
    limits: Limits,
    batch: Batch,
    /// What the parser made of the current record (reused, not reallocated per record).
    results: Vec<Result<Event, crate::ParseError>>,
    pub stats: ReadStats,
}

impl<'a> RecordStream<'a> {
    /// A stream of records in `format` from `source` (a file path or a peer, for dead letters).
    pub fn new(
        format: Format,
        ctx: &'a ParseContext,
        source: String,
        dedup: Option<&'a SharedDeduplicator>,
        limits: Limits,
    ) -> Self {
        RecordStream {
            parser: new_parser(format),
            format,
            ctx,
            source,
            dedup,
            keep_original: true,
            limits,
            batch: Batch::with_capacity(limits.batch_size.min(65536)),
            results: Vec::with_capacity(1),
            stats: ReadStats::default(),
        }
    }

    /// Whether to keep each line as `event.original` (on by default for line formats
    /// whose message is not the whole line; JSON formats keep all fields anyway).
    pub fn keep_original(mut self, keep: bool) -> Self {
        self.keep_original = keep;
        self
    }

    /// Parses one record; `number` (1-based) names it in dead letters.
    pub fn push(&mut self, record: &[u8], number: u64) {
        self.stats.bytes += record.len() as u64;
        let record = trim_line_end(record);
        if record.is_empty() {
            return;
        }
        if record.len() > self.limits.max_record_bytes {
            let reason = format!(
                "record of {} bytes exceeds the limit of {} bytes",
                record.len(),
                self.limits.max_record_bytes
            );
            self.dead_letter(number, self.format.name(), reason, record);
            return;
        }
        let text = String::from_utf8_lossy(record);
        let mut results = std::mem::take(&mut self.results);
        self.parser
            .parse_many(&text, self.ctx, &mut |r| results.push(r));
        let format = self.parser.format();
        // Only records that carry an event count as duplicates: header lines (Zeek's
        // `#fields`) repeat across files and must still be parsed.
        if results.iter().any(Result::is_ok)
            && let Some(d) = self.dedup
            && d.is_duplicate(&self.ctx.tenant, record)
        {
            self.stats.duplicates += 1;
            results.clear();
            self.results = results;
            return;
        }
        let single = results.len() == 1;
        for result in results.drain(..) {
            match result {
                Ok(mut event) => {
                    if single
                        && self.keep_original
                        && keeps_original(format)
                        && event.get(ecs::EVENT_ORIGINAL).is_none()
                    {
                        event.push(ecs::EVENT_ORIGINAL, Value::Str(text.to_string()));
                    }
                    self.accept(event, format);
                }
                // A record of many events names the refused one; the record is kept whole.
                Err(e) => self.dead_letter(number, format.name(), e.0, record),
            }
        }
        self.results = results;
    }

    fn accept(&mut self, event: Event, format: Format) {
        self.stats.events += 1;
        *self
            .stats
            .by_format
            .entry(format.name().to_owned())
            .or_default() += 1;
        self.batch.events.push(event);
    }

    fn dead_letter(&mut self, number: u64, format: &str, reason: String, record: &[u8]) {
        self.stats.dead_letters += 1;
        let source = if number > 0 {
            format!("{}:{number}", self.source)
        } else {
            self.source.clone()
        };
        self.batch.dead_letters.push(DeadLetter::new(
            &self.ctx.tenant,
            source,
            format,
            reason,
            record,
        ));
    }

    /// True when the current batch is full and should be handed on.
    pub fn batch_full(&self) -> bool {
        self.batch.len() >= self.limits.batch_size
    }

    /// Takes the batch gathered so far.
    pub fn take_batch(&mut self) -> Batch {
        std::mem::replace(
            &mut self.batch,
            Batch::with_capacity(self.limits.batch_size.min(65536)),
        )
    }
}

/// Formats whose `message` is not the whole record, so the record is kept beside it.
fn keeps_original(format: Format) -> bool {
    matches!(
        format,
        Format::Syslog | Format::Cef | Format::Leef | Format::Kv | Format::Clf
    )
}

fn trim_line_end(record: &[u8]) -> &[u8] {
    let mut end = record.len();
    while end > 0 && matches!(record[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &record[..end]
}

/// Errors reading a file as a whole (not a record): it cannot be opened or is not in
/// the format it claims.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid {format} file: {reason}")]
    Format {
        path: String,
        format: &'static str,
        reason: String,
    },
    #[error("stopped: {0}")]
    Sink(String),
}

/// Reads a whole file and hands batches to `sink`. Gzip and zstd files are decompressed; EVTX
/// files (recognised by their magic bytes, or `--format evtx`) are read record by record.
/// `sink` returning `Err` stops reading (e.g. the store failed).
pub fn read_file(
    path: &Path,
    format: Format,
    ctx: &ParseContext,
    dedup: Option<&SharedDeduplicator>,
    limits: Limits,
    keep_original: bool,
    sink: &mut dyn FnMut(Batch) -> Result<(), String>,
) -> Result<ReadStats, ReadError> {
    let io = |source| ReadError::Io {
        path: path.display().to_string(),
        source,
    };
    let (mut reader, is_evtx) = open_records(path).map_err(io)?;
    if format == Format::Evtx || (format == Format::Auto && is_evtx) {
        return read_evtx(path, ctx, dedup, limits, sink);
    }
    let mut stream = RecordStream::new(format, ctx, path.display().to_string(), dedup, limits)
        .keep_original(keep_original);
    if is_json_document(reader.fill_buf().map_err(io)?) {
        return read_json_document(path, reader, &mut stream, sink);
    }
    read_lines(reader, &mut stream, sink).map_err(|e| match e {
        LineError::Io(source) => ReadError::Io {
            path: path.display().to_string(),
            source,
        },
        LineError::Sink(s) => ReadError::Sink(s),
    })?;
    Ok(stream.stats)
}

/// A file opened for reading records: decompressed by its magic bytes (gzip, zstd), with
/// whether it is an EVTX file (which is read by [`read_file`], not as text).
pub fn open_records(path: &Path) -> std::io::Result<(BufReader<Box<dyn Read + Send>>, bool)> {
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 8];
    let n = read_prefix(&mut file, &mut magic)?;
    let is_evtx = crate::detect::is_evtx_file(&magic[..n]);
    let file = std::fs::File::open(path)?;
    let reader: Box<dyn Read + Send> = if magic[..n].starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else if magic[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::new(file)?)
    } else {
        Box::new(file)
    };
    Ok((BufReader::with_capacity(1 << 20, reader), is_evtx))
}

/// Whether a reader (of [`open_records`]) holds one JSON document rather than lines.
pub fn starts_json_document(reader: &mut impl BufRead) -> std::io::Result<bool> {
    Ok(is_json_document(reader.fill_buf()?))
}

/// The records of a JSON document (bounded by `limit` bytes): the elements of an array,
/// the `Records` (CloudTrail) or `records` (Azure storage exports) of an object, or the
/// object itself.
pub fn json_document_records(reader: impl Read, limit: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut text = String::new();
    let read = reader
        .take(limit as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if read > limit {
        return Err(too_large(limit));
    }
    Ok(document_records(&text, &["Records", "records"])?
        .iter()
        .map(|r| r.get().as_bytes().to_vec())
        .collect())
}

fn too_large(limit: usize) -> String {
    format!(
        "larger than the limit of {limit} bytes (pipeline.max_document_bytes); split it into JSON lines"
    )
}

/// The records of a JSON document's text: the elements of an array, the array under the
/// first of `envelopes` the object has (CloudTrail's `Records`), or the object itself.
fn document_records<'a>(
    text: &'a str,
    envelopes: &[&str],
) -> Result<Vec<&'a serde_json::value::RawValue>, String> {
    use serde_json::value::RawValue;
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    let object: std::collections::HashMap<std::borrow::Cow<'a, str>, &'a RawValue> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    let envelope = envelopes
        .iter()
        .find_map(|k| object.get(*k))
        .filter(|v| v.get().trim_start().starts_with('['));
    match envelope {
        Some(list) => serde_json::from_str(list.get()).map_err(|e| e.to_string()),
        None => Ok(vec![serde_json::from_str(text).map_err(|e| e.to_string())?]),
    }
}

/// Whether a file that starts with `head` is one JSON document rather than JSON lines:
/// a JSON array (`[` then `{`, `[`, `"` or `]`), or an object that does not close on its first line (pretty-printed)
/// or is a CloudTrail delivery object (`{"Records":`, often larger than a record may be).
fn is_json_document(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else { return false };
    let text = &text[start..];
    match text[0] {
        // `[{…}, …]`, not a bracketed line such as Apache's `[Sun Dec 04 …] [error]`.
        b'[' => text[1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'[' | b']' | b'"')),
        b'{' => {
            let first_line = text.split(|b| *b == b'\n').next().unwrap_or(text);
            let rest: Vec<u8> = first_line[1..]
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            rest.is_empty() || rest.starts_with(b"\"Records\"")
        }
        _ => false,
    }
}

/// Reads a whole JSON document (bounded by `max_document_bytes`) and hands each record
/// to the stream: the elements of an array, the `Records` of a CloudTrail delivery
/// object, or the object itself. Element `n` (1-based) names a record in dead letters.
fn read_json_document(
    path: &Path,
    reader: impl Read,
    stream: &mut RecordStream,
    sink: &mut dyn FnMut(Batch) -> Result<(), String>,
) -> Result<ReadStats, ReadError> {
    let shown = path.display().to_string();
    let limit = stream.limits.max_document_bytes;
    let mut text = String::new();
    let read = reader
        .take(limit as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|source| ReadError::Io {
            path: shown.clone(),
            source,
        })?;
    let format_error = |reason: String| ReadError::Format {
        path: shown.clone(),
        format: "JSON document",
        reason,
    };
    if read > limit {
        return Err(format_error(too_large(limit)));
    }
    let records = document_records(&text, &["Records"]).map_err(format_error)?;
    for (i, record) in records.iter().enumerate() {
        stream.push(record.get().as_bytes(), i as u64 + 1);
        if stream.batch_full() {
            sink(stream.take_batch()).map_err(ReadError::Sink)?;
        }
    }
    let last = stream.take_batch();
    if !last.is_empty() {
        sink(last).map_err(ReadError::Sink)?;
    }
    Ok(stream.stats.clone())
}

fn read_prefix(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let got = file.read(&mut buf[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n)
}

enum LineError {
    Io(std::io::Error),
    Sink(String),
}

/// Splits a byte stream into lines, enforcing the record limit without ever holding
/// more than the limit in memory for one line.
fn read_lines(
    mut reader: impl BufRead,
    stream: &mut RecordStream,
    sink: &mut dyn FnMut(Batch) -> Result<(), String>,
) -> Result<(), LineError> {
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        line.clear();
        let mut overflow = 0usize;
        let mut newline_len = 0usize;
        loop {
            let buf = reader.fill_buf().map_err(LineError::Io)?;
            if buf.is_empty() {
                break;
            }
            let (chunk, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            let room = (stream.limits.max_record_bytes + 2).saturating_sub(line.len());
            if chunk.len() <= room {
                line.extend_from_slice(chunk);
            } else {
                line.extend_from_slice(&chunk[..room]);
                overflow += chunk.len() - room;
            }
            let used = chunk.len();
            reader.consume(used);
            if done {
                newline_len = 1;
                break;
            }
        }
        if line.is_empty() && overflow == 0 {
            break;
        }
        number += 1;
        if overflow > 0 {
            // The size of the record itself, without its line end.
            let total = line.len() + overflow - newline_len;
            stream.stats.bytes += total as u64;
            let reason = format!(
                "record of {total} bytes exceeds the limit of {} bytes",
                stream.limits.max_record_bytes
            );
            let format = stream.format.name();
            stream.dead_letter(number, format, reason, &line);
        } else {
            stream.push(&line, number);
        }
        if stream.batch_full() {
            sink(stream.take_batch()).map_err(LineError::Sink)?;
        }
    }
    let last = stream.take_batch();
    if !last.is_empty() {
        sink(last).map_err(LineError::Sink)?;
    }
    Ok(())
}

/// Reads an EVTX file; each record becomes an event or a dead letter.
fn read_evtx(
    path: &Path,
    ctx: &ParseContext,
    dedup: Option<&SharedDeduplicator>,
    limits: Limits,
    sink: &mut dyn FnMut(Batch) -> Result<(), String>,
) -> Result<ReadStats, ReadError> {
    let mut stats = ReadStats {
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        ..Default::default()
    };
    let mut batch = Batch::with_capacity(limits.batch_size);
    let mut sink_error: Option<String> = None;
    let source = path.display().to_string();
    let mut number = 0u64;
    let mut on_record = |record: Result<Event, crate::ParseError>| {
        number += 1;
        if sink_error.is_some() {
            return;
        }
        match record {
            Ok(event) => {
                if let Some(d) = dedup {
                    let key = format!(
                        "{}|{}|{}|{}",
                        event
                            .get(ecs::WINLOG_COMPUTER_NAME)
                            .map(|v| v.as_text().into_owned())
                            .unwrap_or_default(),
                        event
                            .get(ecs::WINLOG_CHANNEL)
                            .map(|v| v.as_text().into_owned())
                            .unwrap_or_default(),
                        event
                            .get(ecs::WINLOG_RECORD_ID)
                            .map(|v| v.as_text().into_owned())
                            .unwrap_or_default(),
                        event.timestamp.0
                    );
                    if d.is_duplicate(&ctx.tenant, key.as_bytes()) {
                        stats.duplicates += 1;
                        return;
                    }
                }
                stats.events += 1;
                *stats.by_format.entry("evtx".into()).or_default() += 1;
                batch.events.push(event);
            }
            Err(e) => {
                stats.dead_letters += 1;
                batch.dead_letters.push(DeadLetter::new(
                    &ctx.tenant,
                    format!("{source}#{number}"),
                    "evtx",
                    e.0,
                    b"",
                ));
            }
        }
        if batch.len() >= limits.batch_size
            && let Err(e) = sink(std::mem::replace(
                &mut batch,
                Batch::with_capacity(limits.batch_size),
            ))
        {
            sink_error = Some(e);
        }
    };
    parsers::evtx::parse_evtx_file(path, ctx, &mut on_record).map_err(|e| ReadError::Format {
        path: source.clone(),
        format: "evtx",
        reason: e.0,
    })?;
    if let Some(e) = sink_error {
        return Err(ReadError::Sink(e));
    }
    if !batch.is_empty() {
        sink(batch).map_err(ReadError::Sink)?;
    }
    Ok(stats)
}

/// Parses the records of one network delivery (a syslog frame list, an HTTP body) into a
/// batch. `source` names the listener and peer for dead letters.
pub fn parse_records<'r>(
    records: impl IntoIterator<Item = &'r [u8]>,
    format: Format,
    ctx: &ParseContext,
    source: String,
    dedup: Option<&SharedDeduplicator>,
    limits: Limits,
    keep_original: bool,
) -> (Batch, ReadStats) {
    let mut stream = RecordStream::new(
        format,
        ctx,
        source,
        dedup,
        Limits {
            batch_size: usize::MAX,
            ..limits
        },
    )
    .keep_original(keep_original);
    for (i, r) in records.into_iter().enumerate() {
        stream.push(r, i as u64 + 1);
    }
    let batch = stream.take_batch();
    (batch, stream.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_lines_are_dead_lettered_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let long = "a".repeat(5000);
        std::fs::write(&path, format!("short line\n{long}\nanother\n")).unwrap();
        let ctx = ParseContext::new("t");
        let mut batches = Vec::new();
        let stats = read_file(
            &path,
            Format::Raw,
            &ctx,
            None,
            Limits {
                max_record_bytes: 1000,
                batch_size: 10,
                ..Limits::default()
            },
            true,
            &mut |b| {
                batches.push(b);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(stats.events, 2);
        assert_eq!(stats.dead_letters, 1);
        let dl = &batches.iter().flat_map(|b| &b.dead_letters).next().unwrap();
        assert!(
            dl.reason.contains("5000 bytes exceeds the limit of 1000"),
            "{}",
            dl.reason
        );
        assert!(dl.source.ends_with(":2"), "names the line: {}", dl.source);
    }

    #[test]
    fn gzip_files_are_read_transparently_and_duplicates_dropped() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(b"one\ntwo\none\n").unwrap();
        gz.finish().unwrap();
        let ctx = ParseContext::new("t");
        let dedup = SharedDeduplicator::new(100);
        let stats = read_file(
            &path,
            Format::Raw,
            &ctx,
            Some(&dedup),
            Limits::default(),
            true,
            &mut |_| Ok(()),
        )
        .unwrap();
        assert_eq!((stats.events, stats.duplicates), (2, 1));
    }
}
