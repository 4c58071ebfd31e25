//! Labeled domain samples: CSV loading, plain host-name lists, and a deterministic
//! train/validation split.
//!
//! Two file layouts hold labeled names ([`load_domain_file`] tells them apart by the first
//! line):
//!
//! * a **CSV** whose header has the columns `domain` and `label` (1 = malicious, 0 = legit),
//!   optionally `family` (e.g. the DGA family; without it rows are family `dga` or `legit`);
//! * anything else is a **host-name list**, one name per line, every name labeled
//!   **malicious** (family `phishing`: OpenPhish-style feeds): blank lines and `#` comments
//!   are skipped, names are trimmed, lower-cased, stripped of a trailing dot and de-duplicated.

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
    read_domain_csv_set(reader, limit).map(|s| s.samples)
}

/// Labeled names with the family of each (for per-family evaluation); `families[i]` belongs
/// to `samples[i]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainSet {
    pub samples: Vec<Sample>,
    pub families: Vec<String>,
}

impl DomainSet {
    pub fn len(&self) -> usize {
        self.samples.len()
    }
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
    /// Appends `other`, skipping names (normalized: case, trailing dot, `www.`) already present
    /// — the first file that names a host decides its label. Returns how many were skipped.
    pub fn extend_dedup(&mut self, other: DomainSet) -> usize {
        let key = |d: &str| {
            let n = Normalized::new(d);
            let mut k = n.body().to_vec();
            k.push(b'.');
            k.extend_from_slice(n.suffix());
            k
        };
        let mut seen: std::collections::HashSet<Vec<u8>> =
            self.samples.iter().map(|s| key(&s.domain)).collect();
        let mut skipped = 0;
        for (s, f) in other.samples.into_iter().zip(other.families) {
            if seen.insert(key(&s.domain)) {
                self.samples.push(s);
                self.families.push(f);
            } else {
                skipped += 1;
            }
        }
        skipped
    }
    /// The train/validation split of [`split_train_validation`], families kept aligned.
    pub fn split(&self, validation_percent: u32) -> (DomainSet, DomainSet) {
        let (mut train, mut valid) = (DomainSet::default(), DomainSet::default());
        for (s, f) in self.samples.iter().zip(&self.families) {
            let side = if is_validation(&s.domain, validation_percent) {
                &mut valid
            } else {
                &mut train
            };
            side.samples.push(s.clone());
            side.families.push(f.clone());
        }
        (train, valid)
    }
}

/// Like [`read_domain_csv`], keeping the `family` column (if any; else `dga`/`legit`).
pub fn read_domain_csv_set(reader: impl Read, limit: u64) -> Result<DomainSet, MlError> {
    let data = read_limited(reader, limit, "domain CSV")?;
    let (mut rdr, headers) = csv_with_headers(&data)?;
    let col = |name: &'static str| column(&headers, name).ok_or(MlError::MissingColumn(name));
    let (dcol, lcol) = (col("domain")?, col("label")?);
    let fcol = column(&headers, "family");
    let mut out = Vec::new();
    let mut families = Vec::new();
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
        let family = fcol
            .and_then(|c| rec.get(c))
            .map(|f| String::from_utf8_lossy(f.trim_ascii()).to_ascii_lowercase())
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| if is_dga { "dga" } else { "legit" }.to_string());
        families.push(family);
        out.push(Sample {
            domain: domain.to_string(),
            is_dga,
        });
    }
    if out.is_empty() {
        return Err(MlError::Empty);
    }
    Ok(DomainSet {
        samples: out,
        families,
    })
}

/// The family of the names of a host-name list.
pub const HOSTLIST_FAMILY: &str = "phishing";

/// Reads a plain host-name list (one name per line; blank lines and lines starting with `#`
/// skipped; trimmed, lower-cased, trailing dots dropped, duplicates removed, first occurrence
/// kept), every name labeled `malicious`, family `family`. Fails on a line that is no host
/// name (over 253 bytes, not UTF-8, whitespace, `/`, `:`, `@` or `,` inside) with its line
/// number, and on a list with no names.
pub fn read_hostname_list(
    reader: impl Read,
    limit: u64,
    malicious: bool,
    family: &str,
) -> Result<DomainSet, MlError> {
    let data = read_limited(reader, limit, "host-name list")?;
    let mut seen = std::collections::HashSet::new();
    let mut set = DomainSet::default();
    for (i, line) in data.split(|&c| c == b'\n').enumerate() {
        let row = i as u64 + 1;
        let bad = |reason: String| MlError::BadRow { row, reason };
        let mut name = line.trim_ascii();
        if name.is_empty() || name[0] == b'#' {
            continue;
        }
        while let [rest @ .., b'.'] = name {
            name = rest;
        }
        if name.is_empty() {
            return Err(bad("empty host name".into()));
        }
        if name.len() > MAX_NAME {
            return Err(bad(format!(
                "host name is {} bytes, longer than {MAX_NAME}",
                name.len()
            )));
        }
        let name = std::str::from_utf8(name).map_err(|_| bad("host name is not UTF-8".into()))?;
        if let Some(c) = name
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | ':' | '@' | ','))
        {
            return Err(bad(format!(
                "host name {name:?} contains invalid character {c:?}"
            )));
        }
        let name = name.to_lowercase();
        if seen.insert(name.clone()) {
            set.samples.push(Sample {
                domain: name,
                is_dga: malicious,
            });
            set.families.push(family.to_string());
        }
    }
    if set.is_empty() {
        return Err(MlError::Empty);
    }
    Ok(set)
}

/// True if the first line of `data` is a CSV header with the columns `domain` and `label`.
pub fn is_domain_csv(data: &[u8]) -> bool {
    let first = data.split(|&c| c == b'\n').next().unwrap_or_default();
    let first = first
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(first);
    let has = |name: &[u8]| {
        first
            .split(|&c| c == b',')
            .any(|h| h.trim_ascii().eq_ignore_ascii_case(name))
    };
    has(b"domain") && has(b"label")
}

/// Loads labeled names from `path`: a domain CSV if its first line is a header with
/// `domain` and `label` columns ([`read_domain_csv_set`]), otherwise a host-name list of
/// **malicious** names, family [`HOSTLIST_FAMILY`] ([`read_hostname_list`]). Size limit
/// [`DEFAULT_CSV_LIMIT`].
pub fn load_domain_file(path: impl AsRef<Path>) -> Result<DomainSet, MlError> {
    open_csv(path.as_ref(), |file, limit| {
        let data = read_limited(file, limit, "domain data")?;
        if is_domain_csv(&data) {
            read_domain_csv_set(data.as_slice(), limit)
        } else {
            read_hostname_list(data.as_slice(), limit, true, HOSTLIST_FAMILY)
        }
    })
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
