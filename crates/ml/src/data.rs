//! Labeled domain samples: CSV loading and a deterministic train/validation split.

use std::io::Read;
use std::path::Path;

use crate::error::MlError;
use crate::features::{MAX_NAME, Normalized};

/// One labeled domain name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub domain: String,
    /// `true` = DGA / malicious (CSV label 1), `false` = legitimate (label 0).
    pub is_dga: bool,
}

/// Default input size limit for [`load_domain_csv`]: 256 MiB.
pub const DEFAULT_CSV_LIMIT: u64 = 256 << 20;

/// Loads a labeled domain CSV (header with at least the columns `domain` and `label`, label
/// `0`/`1`; other columns are ignored). A URL path after the host (`youtube.com/user/x`, as
/// found in top-site lists) is cut off. Fails on the first bad row with its line number.
pub fn load_domain_csv(path: impl AsRef<Path>) -> Result<Vec<Sample>, MlError> {
    open_csv(path.as_ref(), read_domain_csv)
}

/// Like [`load_domain_csv`] but from any reader, with an explicit size limit in bytes.
pub fn read_domain_csv(reader: impl Read, limit: u64) -> Result<Vec<Sample>, MlError> {
    let data = read_limited(reader, limit, "domain CSV")?;
    let (mut rdr, headers) = csv_with_headers(&data)?;
    let col = |name: &'static str| column(&headers, name).ok_or(MlError::MissingColumn(name));
    let (dcol, lcol) = (col("domain")?, col("label")?);
    let mut out = Vec::new();
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line());
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("expected {expected_len} fields, found {len}")
                    }
                    _ => e.to_string(),
                };
                return Err(MlError::BadRow { row, reason });
            }
        }
        let row = rec.position().map_or(0, |p| p.line());
        let bad = |reason: String| MlError::BadRow { row, reason };
        let mut domain = rec.get(dcol).unwrap_or_default().trim_ascii();
        // Top-site lists contain entries like `youtube.com/user/x`: the host is the domain.
        if let Some(slash) = domain.iter().position(|&c| c == b'/') {
            domain = &domain[..slash];
        }
        let label = rec.get(lcol).unwrap_or_default().trim_ascii();
        if domain.is_empty() {
            return Err(bad("empty domain".into()));
        }
        if domain.len() > MAX_NAME {
            return Err(bad(format!(
                "domain is {} bytes, longer than {MAX_NAME}",
                domain.len()
            )));
        }
        let domain = std::str::from_utf8(domain).map_err(|_| bad("domain is not UTF-8".into()))?;
        if let Some(c) = domain
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, ':' | '@' | ','))
        {
            return Err(bad(format!(
                "domain {domain:?} contains invalid character {c:?}"
            )));
        }
        let is_dga = match label {
            b"1" => true,
            b"0" => false,
            other => {
                return Err(bad(format!(
                    "label must be 0 or 1, found {:?}",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        out.push(Sample {
            domain: domain.to_string(),
            is_dga,
        });
    }
    if out.is_empty() {
        return Err(MlError::Empty);
    }
    Ok(out)
}

/// Which side of the split a domain falls on: a salted FNV-1a hash of the *normalized* name
/// (lower-case, no trailing dot, no `www.`), so the same domain always lands on the same side.
pub fn is_validation(domain: &str, validation_percent: u32) -> bool {
    let norm = Normalized::new(domain);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ 0x5eed_5eed;
    for part in [norm.body(), b".", norm.suffix()] {
        for &c in part {
            h = (h ^ c as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 33;
    (h % 100) < validation_percent as u64
}

/// Deterministic train/validation split by domain hash (`validation_percent` of 100 buckets
/// go to validation). Order within each side is preserved.
pub fn split_train_validation(
    samples: &[Sample],
    validation_percent: u32,
) -> (Vec<Sample>, Vec<Sample>) {
    samples
        .iter()
        .cloned()
        .partition(|s| !is_validation(&s.domain, validation_percent))
}

/// Opens `path` and reads it with `read` under [`DEFAULT_CSV_LIMIT`]; I/O and size errors
/// name the file.
pub(crate) fn open_csv<T>(
    path: &Path,
    read: impl FnOnce(std::fs::File, u64) -> Result<T, MlError>,
) -> Result<T, MlError> {
    let file = std::fs::File::open(path).map_err(|source| MlError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read(file, DEFAULT_CSV_LIMIT).map_err(|e| match e {
        MlError::Io { source, .. } => MlError::Io {
            path: path.to_path_buf(),
            source,
        },
        MlError::TooLarge { limit, .. } => MlError::TooLarge {
            what: path.display().to_string(),
            limit,
        },
        other => other,
    })
}

/// All of `reader`, refused when over `limit` bytes.
pub(crate) fn read_limited(reader: impl Read, limit: u64, what: &str) -> Result<Vec<u8>, MlError> {
    let mut data = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|source| MlError::Io {
            path: "<reader>".into(),
            source,
        })?;
    if data.len() as u64 > limit {
        return Err(MlError::TooLarge {
            what: what.into(),
            limit,
        });
    }
    Ok(data)
}

/// A CSV reader over `data` and its header row.
pub(crate) fn csv_with_headers(
    data: &[u8],
) -> Result<(csv::Reader<&[u8]>, csv::ByteRecord), MlError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(data);
    let headers = rdr
        .byte_headers()
        .map_err(|e| MlError::BadRow {
            row: 1,
            reason: format!("unreadable header: {e}"),
        })?
        .clone();
    Ok((rdr, headers))
}

/// The index of the column named `name` (case-insensitive, spaces trimmed).
pub(crate) fn column(headers: &csv::ByteRecord, name: &str) -> Option<usize> {
    headers
        .iter()
        .position(|h| h.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
}
