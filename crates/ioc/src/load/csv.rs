//! CSV feeds with a column mapping (abuse.ch Feodo Tracker and URLhaus exports,
//! C2IntelFeeds, ThreatFox, OpenCTI/MISP CSV exports…).
//!
//! Parsing is the `csv` crate's (quoted fields, embedded separators and quotes, rows of
//! different lengths); lines starting with `#` are comments. With `header = true` the
//! first row names the columns and columns can be given by name (case-insensitive); else
//! by 0-based index. Per row: the value from `value_column`; its kind from `type_column`,
//! else the feed's `kind`, else detected; confidence, description, first-seen and
//! reference from their optional columns, falling back to the feed's defaults.

use super::{Column, FeedLoad, parse_confidence};
use crate::kind::{IndicatorKind, IndicatorValue};
use crate::report::{LoadError, Location, SkipReason};

/// The mapping with every column resolved to an index.
struct Columns {
    value: usize,
    kind: Option<usize>,
    description: Option<usize>,
    confidence: Option<usize>,
    first_seen: Option<usize>,
    reference: Option<usize>,
}

pub(crate) fn load(load: &mut FeedLoad<'_>, bytes: &[u8]) -> Result<(), LoadError> {
    let feed = load.feed;
    let max_line = load.limits().max_line_bytes;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .delimiter(feed.delimiter as u8)
        .from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes));
    let mut record = ::csv::ByteRecord::new();
    let mut header: Option<Vec<String>> = None;
    let mut columns: Option<Columns> = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(LoadError::Csv(e.to_string())),
        }
        let line = record.position().map_or(0, |p| p.line());
        let len = record.as_slice().len() + record.len().saturating_sub(1);
        if len > max_line {
            return Err(LoadError::LineTooLong {
                line,
                len,
                max: max_line,
            });
        }
        // A blank row (the csv crate yields one for a final comment line without a newline).
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        if feed.header && header.is_none() {
            header = Some(
                record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                    .collect(),
            );
            continue;
        }
        let columns = match &columns {
            Some(c) => c,
            None => columns.insert(resolve(feed, header.as_deref())?),
        };
        load.report.entries += 1;
        read_row(load, columns, &record, line)?;
    }
    Ok(())
}

/// Resolves the configured columns against the header.
fn resolve(feed: &super::FeedConfig, header: Option<&[String]>) -> Result<Columns, LoadError> {
    let find = |column: &Option<Column>| -> Result<Option<usize>, LoadError> {
        match column {
            None => Ok(None),
            Some(Column::Index(i)) => Ok(Some(*i)),
            Some(Column::Name(name)) => {
                let Some(header) = header else {
                    return Err(LoadError::Config {
                        feed: feed.name.clone(),
                        detail: format!("column {name:?} is named, but header = false"),
                    });
                };
                header
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(name.trim()))
                    .map(Some)
                    .ok_or_else(|| LoadError::NoSuchColumn {
                        name: name.clone(),
                        header: header.join(","),
                    })
            }
        }
    };
    Ok(Columns {
        value: find(&feed.value_column)?.unwrap_or(0),
        kind: find(&feed.type_column)?,
        description: find(&feed.description_column)?,
        confidence: find(&feed.confidence_column)?,
        first_seen: find(&feed.first_seen_column)?,
        reference: find(&feed.reference_column)?,
    })
}

fn read_row(
    load: &mut FeedLoad<'_>,
    columns: &Columns,
    record: &::csv::ByteRecord,
    line: u64,
) -> Result<(), LoadError> {
    let location = Location::Line(line);
    let whole = || {
        let fields: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
        fields.join(&load.feed.delimiter.to_string())
    };
    let field = |i: usize| -> Result<Option<&str>, SkipReason> {
        match record.get(i) {
            None => Ok(None),
            Some(bytes) => std::str::from_utf8(bytes)
                .map(|s| Some(s.trim()))
                .map_err(|_| SkipReason::NotUtf8),
        }
    };
    let row = (|| -> Result<(IndicatorValue, crate::meta::IndicatorMeta), SkipReason> {
        let text = field(columns.value)?.ok_or(SkipReason::MissingColumn(columns.value))?;
        let value = match columns.kind.map(field).transpose()?.flatten() {
            Some(type_name) => {
                let kind = IndicatorKind::from_type_name(type_name)
                    .ok_or_else(|| SkipReason::UnknownType(type_name.to_owned()))?;
                load.ip_port(IndicatorValue::parse(kind, text)?)?
            }
            None => load.read_value(text)?,
        };
        let optional = |column: Option<usize>| -> Result<Option<&str>, SkipReason> {
            Ok(column
                .map(field)
                .transpose()?
                .flatten()
                .filter(|s| !s.is_empty()))
        };
        let mut meta = load.meta(optional(columns.description)?);
        if let Some(c) = optional(columns.confidence)? {
            meta.confidence =
                Some(parse_confidence(c).ok_or_else(|| SkipReason::BadConfidence(c.to_owned()))?);
        }
        meta.first_seen = optional(columns.first_seen)?.map(Into::into);
        meta.object_id = optional(columns.reference)?.map(Into::into);
        Ok((value, meta))
    })();
    match row {
        Ok((value, meta)) => {
            let meta = load.meta_id(meta);
            load.accept(&value, meta)
        }
        Err(reason) => {
            load.skip(location, &whole(), reason);
            Ok(())
        }
    }
}
