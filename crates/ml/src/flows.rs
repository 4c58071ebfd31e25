//! Network-flow attack classifier: NSL-KDD and UNSW-NB15 loaders, the `nslkdd` / `unsw` /
//! `live` feature schemas, the [`FlowRecord`] computed from Haechi's own flow events, and
//! [`FlowModel`] (gradient-boosted trees, model file kind `"flows"`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::MlError;
use crate::gbdt::{Gbdt, GbdtConfig, SplitMix64, softmax_in_place};
use crate::metrics::{Metrics, roc_auc};
use crate::model::{check_kind, encode_model, frame_model, read_model_file, sigmoid};
use crate::sha256::{Sha256, to_hex};

/// NSL-KDD 20 % training subset (development data), relative to this crate.
pub const NSL_KDD_TRAIN_20: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/ids/nsl_kdd_KDDTrain+_20Percent.txt"
);

/// Half of the published UNSW-NB15 partition (development data), relative to this crate.
pub const UNSW_PART_A_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/ids/unsw_nb15_part_a.csv"
);

/// Default input size limit of the flow loaders: 512 MiB.
pub const FLOW_FILE_LIMIT: u64 = 512 << 20;

/// Class names of the binary task: `[negative, positive]`.
pub const FLOW_BINARY_CLASSES: [&str; 2] = ["normal", "attack"];

/// The 41 NSL-KDD features, in file order (`label` and `difficulty` follow them).
pub const NSL_KDD_FEATURES: [&str; 41] = [
    "duration",
    "protocol_type",
    "service",
    "flag",
    "src_bytes",
    "dst_bytes",
    "land",
    "wrong_fragment",
    "urgent",
    "hot",
    "num_failed_logins",
    "logged_in",
    "num_compromised",
    "root_shell",
    "su_attempted",
    "num_root",
    "num_file_creations",
    "num_shells",
    "num_access_files",
    "num_outbound_cmds",
    "is_host_login",
    "is_guest_login",
    "count",
    "srv_count",
    "serror_rate",
    "srv_serror_rate",
    "rerror_rate",
    "srv_rerror_rate",
    "same_srv_rate",
    "diff_srv_rate",
    "srv_diff_host_rate",
    "dst_host_count",
    "dst_host_srv_count",
    "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate",
    "dst_host_srv_serror_rate",
    "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
];

/// The 42 UNSW-NB15 features (every published column but `id`, `attack_cat`, `label`).
pub const UNSW_FEATURES: [&str; 42] = [
    "dur",
    "proto",
    "service",
    "state",
    "spkts",
    "dpkts",
    "sbytes",
    "dbytes",
    "rate",
    "sttl",
    "dttl",
    "sload",
    "dload",
    "sloss",
    "dloss",
    "sinpkt",
    "dinpkt",
    "sjit",
    "djit",
    "swin",
    "stcpb",
    "dtcpb",
    "dwin",
    "tcprtt",
    "synack",
    "ackdat",
    "smean",
    "dmean",
    "trans_depth",
    "response_body_len",
    "ct_srv_src",
    "ct_state_ttl",
    "ct_dst_ltm",
    "ct_src_dport_ltm",
    "ct_dst_sport_ltm",
    "ct_dst_src_ltm",
    "is_ftp_login",
    "ct_ftp_cmd",
    "ct_flw_http_mthd",
    "ct_src_ltm",
    "ct_srv_dst",
    "is_sm_ips_ports",
];

/// The `live` features, computable from a [`FlowRecord`].
pub const LIVE_FEATURES: [&str; N_LIVE] = [
    "dur", "proto", "service", "state", "spkts", "dpkts", "sbytes", "dbytes", "rate", "sload",
    "dload", "smean", "dmean",
];
const N_LIVE: usize = 13;
/// Largest feature count of any schema (stack buffers).
const MAX_FEATURES: usize = 42;
/// Largest class count a flow model may have (stack buffers).
const MAX_CLASSES: usize = 32;

/// NSL-KDD attack name → category (DoS, Probe, R2L, U2R), including the names that only occur
/// in the official test set KDDTest+.
pub fn nsl_kdd_category(label: &str) -> Option<&'static str> {
    Some(match label {
        "normal" => "normal",
        "back" | "land" | "neptune" | "pod" | "smurf" | "teardrop" | "apache2" | "mailbomb"
        | "processtable" | "udpstorm" => "DoS",
        "ipsweep" | "nmap" | "portsweep" | "satan" | "mscan" | "saint" => "Probe",
        "ftp_write" | "guess_passwd" | "imap" | "multihop" | "phf" | "spy" | "warezclient"
        | "warezmaster" | "httptunnel" | "named" | "sendmail" | "snmpgetattack" | "snmpguess"
        | "worm" | "xlock" | "xsnoop" => "R2L",
        "buffer_overflow" | "loadmodule" | "perl" | "rootkit" | "ps" | "sqlattack" | "xterm" => {
            "U2R"
        }
        _ => return None,
    })
}

/// Which published format a flow file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowFormat {
    /// NSL-KDD `.txt`/`.csv`: 43 comma-separated fields, no header.
    NslKdd,
    /// UNSW-NB15 CSV with a header row.
    Unsw,
}

/// Recognises the format from a file's first line (a UTF-8 BOM and a trailing CR are
/// ignored): a header naming `attack_cat` or starting with `id,dur` / `dur,` is UNSW-NB15;
/// 43 comma-separated fields whose second is a protocol name is NSL-KDD.
pub fn detect_flow_format(first_line: &[u8]) -> Option<FlowFormat> {
    let l = first_line
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(first_line);
    let l = l.strip_suffix(b"\n").unwrap_or(l);
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    let lower = String::from_utf8_lossy(l).to_ascii_lowercase();
    let fields: Vec<&str> = lower.split(',').map(str::trim).collect();
    if fields.contains(&"attack_cat") || fields.first() == Some(&"dur") || fields[..] == ["id"] {
        return Some(FlowFormat::Unsw);
    }
    if fields.len() >= 2 && fields[0] == "id" && fields[1] == "dur" {
        return Some(FlowFormat::Unsw);
    }
    if fields.len() == 43 && matches!(fields[1], "tcp" | "udp" | "icmp") {
        return Some(FlowFormat::NslKdd);
    }
    None
}

/// Reads the first line of `path` and recognises its format ([`detect_flow_format`]).
pub fn sniff_flow_format(path: impl AsRef<Path>) -> Result<FlowFormat, MlError> {
    use std::io::Read;
    let path = path.as_ref();
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(64 << 10).read_to_end(&mut buf))
        .map_err(|source| MlError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let line = buf.split(|&c| c == b'\n').next().unwrap_or_default();
    detect_flow_format(line).ok_or_else(|| MlError::BadRow {
        row: 1,
        reason: format!(
            "{}:1: neither an NSL-KDD row (43 fields) nor a UNSW-NB15 header",
            path.display()
        ),
    })
}

/// One feature column of a [`FlowDataset`].
#[derive(Clone, Debug, PartialEq)]
pub enum FlowColumn {
    Numeric(Vec<f64>),
    Categorical(Vec<String>),
}

impl FlowColumn {
    fn pick(&self, idx: &[usize]) -> FlowColumn {
        match self {
            FlowColumn::Numeric(v) => FlowColumn::Numeric(idx.iter().map(|&i| v[i]).collect()),
            FlowColumn::Categorical(v) => {
                FlowColumn::Categorical(idx.iter().map(|&i| v[i].clone()).collect())
            }
        }
    }
}

/// Labeled flows from one file, column-major, columns in the order of
/// [`FlowDataset::feature_names`].
#[derive(Clone, Debug, PartialEq)]
pub struct FlowDataset {
    pub format: FlowFormat,
    pub columns: Vec<FlowColumn>,
    /// Binary label: anything but normal traffic is an attack.
    pub attack: Vec<bool>,
    /// Category: NSL-KDD `normal`, `DoS`, `Probe`, `R2L`, `U2R` (`unknown` for an attack name
    /// missing from the map); UNSW-NB15 `attack_cat` (`Normal`, `Generic`, `Exploits`, …).
    pub category: Vec<String>,
}

impl FlowDataset {
    pub fn len(&self) -> usize {
        self.attack.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attack.is_empty()
    }

    /// Column names of the format ([`NSL_KDD_FEATURES`] or [`UNSW_FEATURES`]).
    pub fn feature_names(&self) -> &'static [&'static str] {
        match self.format {
            FlowFormat::NslKdd => &NSL_KDD_FEATURES,
            FlowFormat::Unsw => &UNSW_FEATURES,
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&FlowColumn> {
        let i = self.feature_names().iter().position(|n| *n == name)?;
        self.columns.get(i)
    }

    /// The rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> FlowDataset {
        FlowDataset {
            format: self.format,
            columns: self.columns.iter().map(|c| c.pick(idx)).collect(),
            attack: idx.iter().map(|&i| self.attack[i]).collect(),
            category: idx.iter().map(|&i| self.category[i].clone()).collect(),
        }
    }

    /// SHA-256 (hex) of the rows in order, each as its fields (numbers in Rust's shortest
    /// round-trip form) joined by `,`, then `,<0|1>,<category>\n`.
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        let mut line = String::new();
        for r in 0..self.len() {
            line.clear();
            for c in &self.columns {
                match c {
                    FlowColumn::Numeric(v) => write!(line, "{},", v[r]).expect("string write"),
                    FlowColumn::Categorical(v) => {
                        line.push_str(&v[r]);
                        line.push(',');
                    }
                }
            }
            let _ = writeln!(line, "{},{}", u8::from(self.attack[r]), self.category[r]);
            h.update(line.as_bytes());
        }
        to_hex(&h.finalize())
    }
}

fn row_err(file: &str, line: u64, reason: impl std::fmt::Display) -> MlError {
    MlError::BadRow {
        row: line,
        reason: format!("{file}:{line}: {reason}"),
    }
}

fn parse_num(s: &str) -> Option<f64> {
    let v: f64 = s.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// Loads an NSL-KDD file (`KDDTrain+.txt`, `KDDTest+.txt`, …), refusing files above
/// [`FLOW_FILE_LIMIT`]. Errors name `file:line`.
pub fn load_nsl_kdd(path: impl AsRef<Path>) -> Result<FlowDataset, MlError> {
    let path = path.as_ref();
    let data = read_file_limited(path)?;
    read_nsl_kdd(&data, &path.display().to_string())
}

/// Parses NSL-KDD text (43 comma-separated fields per line, no header, LF or CRLF); `file`
/// names the input in errors. Blank lines are skipped.
pub fn read_nsl_kdd(data: &[u8], file: &str) -> Result<FlowDataset, MlError> {
    let text = std::str::from_utf8(data).map_err(|e| {
        let line = data[..e.valid_up_to()]
            .iter()
            .filter(|&&c| c == b'\n')
            .count() as u64
            + 1;
        row_err(file, line, "not UTF-8")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut columns: Vec<FlowColumn> = NSL_KDD_FEATURES
        .iter()
        .enumerate()
        .map(|(i, _)| {
            if (1..=3).contains(&i) {
                FlowColumn::Categorical(Vec::new())
            } else {
                FlowColumn::Numeric(Vec::new())
            }
        })
        .collect();
    let (mut attack, mut category) = (Vec::new(), Vec::new());
    for (ln, line) in text.split('\n').enumerate() {
        let ln = ln as u64 + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 43 {
            return Err(row_err(
                file,
                ln,
                format!("expected 43 fields, found {}", fields.len()),
            ));
        }
        for (i, col) in columns.iter_mut().enumerate() {
            let f = fields[i].trim();
            match col {
                FlowColumn::Categorical(v) => {
                    if f.is_empty() {
                        return Err(row_err(file, ln, format!("empty {}", NSL_KDD_FEATURES[i])));
                    }
                    v.push(f.to_string());
                }
                FlowColumn::Numeric(v) => v.push(parse_num(f).ok_or_else(|| {
                    row_err(
                        file,
                        ln,
                        format!("{} is not a number: {f:?}", NSL_KDD_FEATURES[i]),
                    )
                })?),
            }
        }
        let label = fields[41].trim();
        if label.is_empty() {
            return Err(row_err(file, ln, "empty label"));
        }
        if parse_num(fields[42]).is_none() {
            return Err(row_err(file, ln, "difficulty is not a number"));
        }
        attack.push(label != "normal");
        category.push(nsl_kdd_category(label).unwrap_or("unknown").to_string());
    }
    if attack.is_empty() {
        return Err(MlError::Empty);
    }
    Ok(FlowDataset {
        format: FlowFormat::NslKdd,
        columns,
        attack,
        category,
    })
}

/// Loads a UNSW-NB15 CSV (header row; columns found by name), refusing files above
/// [`FLOW_FILE_LIMIT`]. Errors name `file:line`.
pub fn load_unsw(path: impl AsRef<Path>) -> Result<FlowDataset, MlError> {
    let path = path.as_ref();
    let data = read_file_limited(path)?;
    read_unsw(&data, &path.display().to_string())
}

/// Normalizes a UNSW-NB15 `attack_cat`: trimmed, `Backdoors` → `Backdoor`, empty → `Normal`.
pub fn unsw_category(raw: &str) -> &str {
    match raw.trim() {
        "" => "Normal",
        "Backdoors" => "Backdoor",
        s => s,
    }
}

/// Parses UNSW-NB15 CSV bytes: a header with every name of [`UNSW_FEATURES`] plus `label`
/// (0/1) and `attack_cat`; `id` and unknown columns are ignored; a UTF-8 BOM is tolerated.
pub fn read_unsw(data: &[u8], file: &str) -> Result<FlowDataset, MlError> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let (mut rdr, headers) = crate::data::csv_with_headers(data)?;
    let col = |name: &'static str| {
        crate::data::column(&headers, name).ok_or(MlError::MissingColumn(name))
    };
    let idx: Vec<usize> = UNSW_FEATURES
        .iter()
        .map(|&n| col(n))
        .collect::<Result<_, _>>()?;
    let (lcol, ccol) = (col("label")?, col("attack_cat")?);
    let categorical = |n: &str| matches!(n, "proto" | "service" | "state");
    let mut columns: Vec<FlowColumn> = UNSW_FEATURES
        .iter()
        .map(|&n| {
            if categorical(n) {
                FlowColumn::Categorical(Vec::new())
            } else {
                FlowColumn::Numeric(Vec::new())
            }
        })
        .collect();
    let (mut attack, mut category) = (Vec::new(), Vec::new());
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("expected {expected_len} fields, found {len}"),
                    _ => e.to_string(),
                };
                return Err(row_err(file, line, reason));
            }
        }
        let ln = rec.position().map_or(0, |p| p.line());
        let field = |i: usize| {
            std::str::from_utf8(rec.get(i).unwrap_or_default())
                .map(str::trim)
                .map_err(|_| row_err(file, ln, "not UTF-8"))
        };
        for (k, col) in columns.iter_mut().enumerate() {
            let f = field(idx[k])?;
            match col {
                FlowColumn::Categorical(v) => v.push(f.to_string()),
                FlowColumn::Numeric(v) => v.push(parse_num(f).ok_or_else(|| {
                    row_err(
                        file,
                        ln,
                        format!("{} is not a number: {f:?}", UNSW_FEATURES[k]),
                    )
                })?),
            }
        }
        let is_attack = match field(lcol)? {
            "1" => true,
            "0" => false,
            other => {
                return Err(row_err(
                    file,
                    ln,
                    format!("label must be 0 or 1: {other:?}"),
                ));
            }
        };
        let cat = unsw_category(field(ccol)?);
        if is_attack == (cat == "Normal") {
            return Err(row_err(
                file,
                ln,
                format!(
                    "label {} contradicts attack_cat {cat:?}",
                    u8::from(is_attack)
                ),
            ));
        }
        attack.push(is_attack);
        category.push(cat.to_string());
    }
    if attack.is_empty() {
        return Err(MlError::Empty);
    }
    Ok(FlowDataset {
        format: FlowFormat::Unsw,
        columns,
        attack,
        category,
    })
}

/// Loads either format, recognised by the first line ([`detect_flow_format`]).
pub fn load_flows(path: impl AsRef<Path>) -> Result<FlowDataset, MlError> {
    let path = path.as_ref();
    match sniff_flow_format(path)? {
        FlowFormat::NslKdd => load_nsl_kdd(path),
        FlowFormat::Unsw => load_unsw(path),
    }
}

fn read_file_limited(path: &Path) -> Result<Vec<u8>, MlError> {
    crate::data::open_csv(path, |f, limit| {
        crate::data::read_limited(f, limit.max(FLOW_FILE_LIMIT), "flow file")
    })
}

/// Stratified (by [`FlowDataset::category`]) seeded split: in each class, a Fisher–Yates
/// shuffle (splitmix64 from `seed`) puts `round(n · percent / 100)` rows in validation. Rows
/// keep their file order on both sides. Returns `(train, validation)`.
pub fn split_flows(data: &FlowDataset, percent: u32, seed: u64) -> (FlowDataset, FlowDataset) {
    let (t, v) = stratified_indices(&data.category, percent, seed);
    (data.subset(&t), data.subset(&v))
}

fn stratified_indices(classes: &[String], percent: u32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut names: Vec<&str> = classes.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut rng = SplitMix64(seed);
    let mut is_val = vec![false; classes.len()];
    for name in names {
        let mut idx: Vec<usize> = (0..classes.len()).filter(|&i| classes[i] == name).collect();
        for i in (1..idx.len()).rev() {
            let j = rng.below(i + 1);
            idx.swap(i, j);
        }
        let k = ((idx.len() as u64 * percent.min(100) as u64 + 50) / 100) as usize;
        for &i in &idx[..k] {
            is_val[i] = true;
        }
    }
    (0..classes.len()).partition(|&i| !is_val[i])
}

/// Which columns a model reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlowSchema {
    /// The 41 NSL-KDD features.
    #[serde(rename = "nslkdd")]
    NslKdd,
    /// The 42 UNSW-NB15 features.
    #[serde(rename = "unsw")]
    Unsw,
    /// [`LIVE_FEATURES`], from a UNSW-NB15 row (training) or a [`FlowRecord`] (live).
    #[serde(rename = "live")]
    Live,
}

impl FlowSchema {
    /// `"nslkdd"`, `"unsw"` or `"live"`.
    pub fn name(self) -> &'static str {
        match self {
            FlowSchema::NslKdd => "nslkdd",
            FlowSchema::Unsw => "unsw",
            FlowSchema::Live => "live",
        }
    }

    /// Parses [`FlowSchema::name`].
    pub fn from_name(s: &str) -> Option<FlowSchema> {
        match s {
            "nslkdd" => Some(FlowSchema::NslKdd),
            "unsw" => Some(FlowSchema::Unsw),
            "live" => Some(FlowSchema::Live),
            _ => None,
        }
    }

    pub fn feature_names(self) -> &'static [&'static str] {
        match self {
            FlowSchema::NslKdd => &NSL_KDD_FEATURES,
            FlowSchema::Unsw => &UNSW_FEATURES,
            FlowSchema::Live => &LIVE_FEATURES,
        }
    }

    /// The categorical features (encoded as codes learned from the training data).
    pub fn categorical(self) -> &'static [&'static str] {
        match self {
            FlowSchema::NslKdd => &["protocol_type", "service", "flag"],
            FlowSchema::Unsw | FlowSchema::Live => &["proto", "service", "state"],
        }
    }

    /// The file format this schema is trained from.
    pub fn format(self) -> FlowFormat {
        match self {
            FlowSchema::NslKdd => FlowFormat::NslKdd,
            FlowSchema::Unsw | FlowSchema::Live => FlowFormat::Unsw,
        }
    }
}

/// What a model predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowTask {
    /// Normal vs attack.
    Binary,
    /// [`FlowDataset::category`] (5 NSL-KDD classes, 10 UNSW-NB15 classes).
    Category,
}

/// One flow as Haechi sees it (Suricata EVE `flow`, Zeek `conn`), for the `live` schema.
/// Borrowed strings, so building one and scoring it does not allocate. `transport`, `service`
/// and `state` should be in the UNSW-NB15 vocabulary — see [`zeek_conn_state_to_unsw`],
/// [`suricata_state_to_unsw`] and [`service_to_unsw`]; they are matched case-insensitively, and
/// values never seen in training count as "other". Missing numbers are NaN to the trees.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FlowRecord<'a> {
    pub duration_secs: Option<f64>,
    /// `tcp`, `udp`, `icmp`, … (lower-case IANA-ish names as in UNSW-NB15 `proto`).
    pub transport: Option<&'a str>,
    /// Application protocol in UNSW-NB15 terms; `None` means `-` (none recognised).
    pub service: Option<&'a str>,
    /// UNSW-NB15 (Argus) state: `FIN`, `CON`, `INT`, `REQ`, `RST`, `CLO`, `ACC`, …
    pub state: Option<&'a str>,
    pub src_packets: Option<u64>,
    pub dst_packets: Option<u64>,
    pub src_bytes: Option<u64>,
    pub dst_bytes: Option<u64>,
}

impl FlowRecord<'_> {
    /// The numeric `live` features `[dur, spkts, dpkts, sbytes, dbytes, rate, sload, dload,
    /// smean, dmean]`, NaN where an input is missing. `rate = (spkts + dpkts - 1) / dur` as in
    /// UNSW-NB15, `sload = sbytes · 8 / dur` (bits/s; the published UNSW-NB15 column is about
    /// `(spkts - 1) / spkts` of that), `smean = sbytes / spkts`; rates are 0 when `dur` is 0 and
    /// means are 0 without packets.
    pub fn numeric(&self) -> [f64; 10] {
        let nan = f64::NAN;
        let dur = self.duration_secs.filter(|d| d.is_finite() && *d >= 0.0);
        let f = |v: Option<u64>| v.map_or(nan, |x| x as f64);
        let (sp, dp, sb, db) = (
            f(self.src_packets),
            f(self.dst_packets),
            f(self.src_bytes),
            f(self.dst_bytes),
        );
        let per_sec = |x: f64| match dur {
            None => nan,
            Some(d) if d > 0.0 => x / d,
            Some(_) => {
                if x.is_nan() {
                    nan
                } else {
                    0.0
                }
            }
        };
        let mean = |b: f64, p: f64| {
            if b.is_nan() || p.is_nan() {
                nan
            } else if p > 0.0 {
                b / p
            } else {
                0.0
            }
        };
        [
            dur.unwrap_or(nan),
            sp,
            dp,
            sb,
            db,
            per_sec((sp + dp - 1.0).max(0.0)),
            per_sec(sb * 8.0),
            per_sec(db * 8.0),
            mean(sb, sp),
            mean(db, dp),
        ]
    }
}

/// Zeek `conn_state` → UNSW-NB15 (Argus) state, an approximation: for TCP, `SF`/`S2`/`S3`/
/// `SHR` → `FIN` (closed normally or half-closed), `S1`/`OTH` → `CON` (established or
/// mid-stream), `S0`/`SH` → `REQ` (no answer), `REJ`/`RSTO`/`RSTR`/`RSTOS0`/`RSTRH` → `RST`;
/// for other transports, `S0`/`SH`/`OTH` with no answer → `INT`, else `CON`. Unknown → `-`.
/// Note: the UNSW-NB15 development data has no `RST` rows, so the model reads `RST` as "other".
pub fn zeek_conn_state_to_unsw(conn_state: &str, transport: &str) -> &'static str {
    let tcp = transport.eq_ignore_ascii_case("tcp");
    match (conn_state, tcp) {
        ("SF" | "S2" | "S3" | "SHR", true) => "FIN",
        ("S1" | "OTH", true) => "CON",
        ("S0" | "SH", true) => "REQ",
        ("REJ" | "RSTO" | "RSTR" | "RSTOS0" | "RSTRH", true) => "RST",
        ("S0" | "SH", false) => "INT",
        ("SF" | "S1" | "S2" | "S3" | "SHR" | "OTH" | "REJ", false) => "CON",
        _ => "-",
    }
}

/// Suricata EVE `flow.state` (`new`, `established`, `closed`, `bypassed`) → UNSW-NB15 state,
/// an approximation. TCP: `closed` → `FIN`, `established`/`bypassed` → `CON`, `new` → `REQ`
/// (`CON` if the responder sent packets). Other transports: `INT` when the responder sent
/// nothing, else `CON`. Unknown → `-`. Suricata's TCP RST flag is not used.
pub fn suricata_state_to_unsw(
    flow_state: &str,
    transport: &str,
    responder_sent_packets: bool,
) -> &'static str {
    let tcp = transport.eq_ignore_ascii_case("tcp");
    match (flow_state, tcp) {
        ("closed", true) => "FIN",
        ("established" | "bypassed", true) => "CON",
        ("new", true) => {
            if responder_sent_packets {
                "CON"
            } else {
                "REQ"
            }
        }
        ("new" | "established" | "closed" | "bypassed", false) => {
            if responder_sent_packets {
                "CON"
            } else {
                "INT"
            }
        }
        _ => "-",
    }
}

/// Zeek `service` (first of a comma list) or Suricata `app_proto` → UNSW-NB15 service name
/// (`http`, `dns`, `ssl`, `ftp`, `ftp-data`, `smtp`, `pop3`, `ssh`, `snmp`, `irc`, `radius`,
/// `dhcp`), `-` for anything else. `tls` → `ssl`, `ftp_data` → `ftp-data`, `http2` → `http`.
pub fn service_to_unsw(name: &str) -> &'static str {
    let first = name.split(',').next().unwrap_or("").trim();
    let mut buf = [0u8; 16];
    if first.len() > buf.len() {
        return "-";
    }
    buf[..first.len()].copy_from_slice(first.as_bytes());
    buf[..first.len()].make_ascii_lowercase();
    match &buf[..first.len()] {
        b"http" | b"http2" => "http",
        b"dns" => "dns",
        b"ssl" | b"tls" => "ssl",
        b"ftp" => "ftp",
        b"ftp-data" | b"ftp_data" => "ftp-data",
        b"smtp" => "smtp",
        b"pop3" => "pop3",
        b"ssh" => "ssh",
        b"snmp" => "snmp",
        b"irc" => "irc",
        b"radius" => "radius",
        b"dhcp" => "dhcp",
        _ => "-",
    }
}

/// Vocabulary of one categorical feature: code = index in `values` (most frequent first),
/// `values.len()` = other / never seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryVocab {
    pub feature: String,
    pub values: Vec<String>,
}

/// Training configuration of a [`FlowModel`] (stored in the model file).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowTrainConfig {
    pub schema: FlowSchema,
    pub task: FlowTask,
    pub gbdt: GbdtConfig,
    /// A categorical value needs this many training rows to get its own code.
    pub min_category_count: u32,
    /// At most this many codes per categorical feature (1..=254), most frequent first.
    pub max_categories: u32,
    /// Binary task: percent of the training rows held out to fit Platt scaling (0 = none).
    /// The scaling is kept only if it lowers the Brier score on the held-out slice in a
    /// two-fold cross-fit.
    pub calibration_percent: u32,
}

impl FlowTrainConfig {
    /// Defaults for `schema` and `task` (see the crate docs for the measured figures).
    pub fn new(schema: FlowSchema, task: FlowTask) -> FlowTrainConfig {
        FlowTrainConfig {
            schema,
            task,
            gbdt: GbdtConfig::default(),
            min_category_count: 3,
            max_categories: 254,
            calibration_percent: 0,
        }
    }

    /// The one-split decision-stump baseline for the same schema and task: one boosting round
    /// of depth 1 with learning rate 1 (one stump per class for the category task).
    pub fn stump_baseline(&self) -> FlowTrainConfig {
        FlowTrainConfig {
            gbdt: GbdtConfig {
                rounds: 1,
                learning_rate: 1.0,
                max_depth: 1,
                subsample: 1.0,
                ..self.gbdt
            },
            calibration_percent: 0,
            ..*self
        }
    }
}

/// Metadata of a flow model (the JSON header of the model file, `kind` = `"flows"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowModelMeta {
    /// Always `"flows"`.
    pub kind: String,
    pub schema: FlowSchema,
    pub task: FlowTask,
    pub feature_names: Vec<String>,
    /// Binary: `["normal", "attack"]`; category: the normal class first, then the others
    /// in byte order.
    pub class_names: Vec<String>,
    pub categories: Vec<CategoryVocab>,
    pub train: FlowTrainConfig,
    /// Rows the trees were fitted on (without the calibration slice).
    pub n_train: u64,
    /// Training rows per class, in `class_names` order.
    pub class_counts: Vec<u64>,
    /// SHA-256 of all training rows passed to `train` ([`FlowDataset::sha256`]).
    pub training_data_sha256: String,
    pub source: Option<String>,
    /// Platt scaling of the binary log-odds `m`: `p = sigmoid(a · m + b)`, as `[a, b]`.
    pub platt: Option<[f32; 2]>,
    /// Brier score on the calibration slice, `[raw, Platt]` (two-fold cross-fit), if fitted.
    pub calibration_brier: Option<[f64; 2]>,
    pub validation_metrics: Option<Metrics>,
    pub baseline_metrics: Option<Metrics>,
}

/// Network-flow attack classifier. See the crate docs ("The flow model").
#[derive(Clone, Debug)]
pub struct FlowModel {
    meta: FlowModelMeta,
    gbdt: Gbdt,
    /// Per feature: lower-cased value → code, for categorical features.
    lookup: Vec<Option<HashMap<String, u32>>>,
}

impl PartialEq for FlowModel {
    fn eq(&self, other: &Self) -> bool {
        self.meta == other.meta && self.gbdt.bits_eq(&other.gbdt)
    }
}

fn build_lookup(schema: FlowSchema, cats: &[CategoryVocab]) -> Vec<Option<HashMap<String, u32>>> {
    schema
        .feature_names()
        .iter()
        .map(|name| {
            cats.iter().find(|c| c.feature == *name).map(|c| {
                let mut m = HashMap::new();
                for (i, v) in c.values.iter().enumerate() {
                    m.entry(v.to_ascii_lowercase()).or_insert(i as u32);
                }
                m
            })
        })
        .collect()
}

/// Code of `value` in `map` (case-insensitive; other = `map.len()`), without allocating.
fn code_of(map: &HashMap<String, u32>, value: &str) -> f32 {
    let mut buf = [0u8; 64];
    let b = value.trim().as_bytes();
    let other = map.len() as f32;
    if b.len() > buf.len() {
        return other;
    }
    buf[..b.len()].copy_from_slice(b);
    buf[..b.len()].make_ascii_lowercase();
    match std::str::from_utf8(&buf[..b.len()]) {
        Ok(s) => map.get(s).map_or(other, |&c| c as f32),
        Err(_) => other,
    }
}

/// Learns the vocabularies of `schema`'s categorical features from `data`.
fn learn_vocab(data: &FlowDataset, cfg: &FlowTrainConfig) -> Vec<CategoryVocab> {
    cfg.schema
        .categorical()
        .iter()
        .map(|&name| {
            let Some(FlowColumn::Categorical(vals)) = data.column(name) else {
                panic!("training data has no categorical column {name}");
            };
            let mut counts: HashMap<String, u64> = HashMap::new();
            for v in vals {
                *counts.entry(v.trim().to_ascii_lowercase()).or_default() += 1;
            }
            let mut v: Vec<(String, u64)> = counts
                .into_iter()
                .filter(|(_, c)| *c >= cfg.min_category_count.max(1) as u64)
                .collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(cfg.max_categories.clamp(1, 254) as usize);
            CategoryVocab {
                feature: name.to_string(),
                values: v.into_iter().map(|(s, _)| s).collect(),
            }
        })
        .collect()
}

/// Feature vector of row `r` of `data` into `out` (schema order).
fn row_features(
    schema: FlowSchema,
    lookup: &[Option<HashMap<String, u32>>],
    data: &FlowDataset,
    r: usize,
    out: &mut [f32],
) {
    match schema {
        FlowSchema::NslKdd | FlowSchema::Unsw => {
            for (j, col) in data.columns.iter().enumerate() {
                out[j] = match col {
                    FlowColumn::Numeric(v) => v[r] as f32,
                    FlowColumn::Categorical(v) => match &lookup[j] {
                        Some(m) => code_of(m, &v[r]),
                        None => f32::NAN,
                    },
                };
            }
        }
        FlowSchema::Live => {
            let num = |name: &str| match data.column(name) {
                Some(FlowColumn::Numeric(v)) => v[r],
                _ => f64::NAN,
            };
            let cat = |name: &str| match data.column(name) {
                Some(FlowColumn::Categorical(v)) => Some(v[r].as_str()),
                _ => None,
            };
            let count = |name: &str| {
                let x = num(name);
                (x.is_finite() && x >= 0.0).then_some(x as u64)
            };
            let rec = FlowRecord {
                duration_secs: Some(num("dur")).filter(|d| d.is_finite()),
                transport: cat("proto"),
                service: cat("service"),
                state: cat("state"),
                src_packets: count("spkts"),
                dst_packets: count("dpkts"),
                src_bytes: count("sbytes"),
                dst_bytes: count("dbytes"),
            };
            record_features(lookup, &rec, out);
        }
    }
}

/// `live` feature vector of `rec` into `out[..N_LIVE]`.
fn record_features(lookup: &[Option<HashMap<String, u32>>], rec: &FlowRecord, out: &mut [f32]) {
    let n = rec.numeric();
    let cat = |j: usize, v: Option<&str>| match (&lookup[j], v) {
        (Some(m), Some(s)) => code_of(m, s),
        _ => f32::NAN,
    };
    out[0] = n[0] as f32;
    out[1] = cat(1, rec.transport);
    out[2] = cat(2, Some(rec.service.unwrap_or("-")));
    out[3] = cat(3, rec.state);
    for k in 1..10 {
        out[3 + k] = n[k] as f32;
    }
}

/// Class names for `task` from the training categories: binary → normal/attack; category →
/// the normal class first, then the others in byte order.
fn class_names(data: &FlowDataset, task: FlowTask) -> Vec<String> {
    match task {
        FlowTask::Binary => FLOW_BINARY_CLASSES.iter().map(|s| s.to_string()).collect(),
        FlowTask::Category => {
            let mut v: Vec<&str> = data.category.iter().map(String::as_str).collect();
            v.sort_unstable_by(|a, b| {
                let na = a.eq_ignore_ascii_case("normal");
                let nb = b.eq_ignore_ascii_case("normal");
                nb.cmp(&na).then_with(|| a.cmp(b))
            });
            v.dedup();
            v.into_iter().map(str::to_string).collect()
        }
    }
}

/// Fits `p = sigmoid(a·m + b)` to margins `m` and labels by Newton's method on the log loss
/// (with a tiny ridge so separable data stays finite).
fn fit_platt(m: &[f32], y: &[bool]) -> [f32; 2] {
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..50 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) =
            (1e-3 * (a - 1.0), 1e-3 * b, 1e-3, 0.0, 1e-3);
        for (&mi, &yi) in m.iter().zip(y) {
            let mi = mi as f64;
            let p = 1.0 / (1.0 + (-(a * mi + b)).exp());
            let e = p - if yi { 1.0 } else { 0.0 };
            let w = (p * (1.0 - p)).max(1e-12);
            ga += e * mi;
            gb += e;
            haa += w * mi * mi;
            hab += w * mi;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-9 {
            break;
        }
    }
    [a as f32, b as f32]
}

fn brier(m: &[f32], y: &[bool], platt: Option<[f32; 2]>) -> f64 {
    let s: f64 = m
        .iter()
        .zip(y)
        .map(|(&mi, &yi)| {
            let z = platt.map_or(mi, |[a, b]| a * mi + b);
            let p = sigmoid(z) as f64;
            let t = if yi { 1.0 } else { 0.0 };
            (p - t) * (p - t)
        })
        .sum();
    s / m.len().max(1) as f64
}

impl FlowModel {
    /// Trains on `data` (all of it is training data; keep a validation side apart with
    /// [`split_flows`]). Deterministic: same rows, config and seed give a bit-identical model.
    /// Panics if `data.format` does not match `cfg.schema` (check with
    /// [`FlowSchema::format`]), on an invalid [`GbdtConfig`], or on more than 32 classes.
    pub fn train(data: &FlowDataset, cfg: &FlowTrainConfig) -> FlowModel {
        assert_eq!(
            data.format,
            cfg.schema.format(),
            "schema {} needs {:?} data",
            cfg.schema.name(),
            cfg.schema.format()
        );
        assert!(!data.is_empty(), "no training rows");
        let categories = learn_vocab(data, cfg);
        let lookup = build_lookup(cfg.schema, &categories);
        let classes = class_names(data, cfg.task);
        assert!(
            classes.len() <= MAX_CLASSES,
            "more than {MAX_CLASSES} classes"
        );
        let labels: Vec<u32> = (0..data.len())
            .map(|r| match cfg.task {
                FlowTask::Binary => u32::from(data.attack[r]),
                FlowTask::Category => classes
                    .iter()
                    .position(|c| *c == data.category[r])
                    .expect("class") as u32,
            })
            .collect();
        let nf = cfg.schema.feature_names().len();
        // Calibration slice (binary only), stratified like the validation split.
        let (fit_rows, cal_rows): (Vec<usize>, Vec<usize>) =
            if cfg.task == FlowTask::Binary && cfg.calibration_percent > 0 {
                stratified_indices(
                    &data.category,
                    cfg.calibration_percent,
                    cfg.gbdt.seed ^ 0xca1,
                )
            } else {
                ((0..data.len()).collect(), Vec::new())
            };
        let mut x = vec![0.0f32; nf];
        let mut columns: Vec<Vec<f32>> = vec![Vec::with_capacity(fit_rows.len()); nf];
        for &r in &fit_rows {
            row_features(cfg.schema, &lookup, data, r, &mut x);
            for (c, &v) in columns.iter_mut().zip(&x) {
                c.push(v);
            }
        }
        let fit_labels: Vec<u32> = fit_rows.iter().map(|&r| labels[r]).collect();
        let gbdt = Gbdt::train(&columns, &fit_labels, classes.len(), &cfg.gbdt);
        drop(columns);
        let (mut platt, mut calibration_brier) = (None, None);
        if !cal_rows.is_empty() {
            let m: Vec<f32> = cal_rows
                .iter()
                .map(|&r| {
                    row_features(cfg.schema, &lookup, data, r, &mut x);
                    gbdt.margin(&x)
                })
                .collect();
            let y: Vec<bool> = cal_rows.iter().map(|&r| data.attack[r]).collect();
            // Two-fold cross-fit (even / odd rows, since files are often sorted by class):
            // fit on one fold, score the other.
            let fold = |odd: usize| -> (Vec<f32>, Vec<bool>) {
                (0..m.len())
                    .filter(|i| i % 2 == odd)
                    .map(|i| (m[i], y[i]))
                    .unzip()
            };
            let ((ma, ya), (mb, yb)) = (fold(0), fold(1));
            let raw = brier(&m, &y, None);
            let cross = (brier(&mb, &yb, Some(fit_platt(&ma, &ya))) * mb.len() as f64
                + brier(&ma, &ya, Some(fit_platt(&mb, &yb))) * ma.len() as f64)
                / m.len() as f64;
            calibration_brier = Some([raw, cross]);
            if !mb.is_empty() && cross < raw {
                platt = Some(fit_platt(&m, &y));
            }
        }
        let mut class_counts = vec![0u64; classes.len()];
        for &r in &fit_rows {
            class_counts[labels[r] as usize] += 1;
        }
        FlowModel {
            meta: FlowModelMeta {
                kind: "flows".into(),
                schema: cfg.schema,
                task: cfg.task,
                feature_names: cfg
                    .schema
                    .feature_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                class_names: classes,
                categories,
                train: *cfg,
                n_train: fit_rows.len() as u64,
                class_counts,
                training_data_sha256: data.sha256(),
                source: None,
                platt,
                calibration_brier,
                validation_metrics: None,
                baseline_metrics: None,
            },
            gbdt,
            lookup,
        }
    }

    /// The decision-stump baseline ([`FlowTrainConfig::stump_baseline`]) on the same data.
    pub fn train_baseline(data: &FlowDataset, cfg: &FlowTrainConfig) -> FlowModel {
        FlowModel::train(data, &cfg.stump_baseline())
    }

    pub fn meta(&self) -> &FlowModelMeta {
        &self.meta
    }

    /// For attaching validation/baseline metrics and provenance before saving.
    pub fn meta_mut(&mut self) -> &mut FlowModelMeta {
        &mut self.meta
    }

    pub fn schema(&self) -> FlowSchema {
        self.meta.schema
    }

    /// The trees.
    pub fn gbdt(&self) -> &Gbdt {
        &self.gbdt
    }

    pub fn n_features(&self) -> usize {
        self.meta.feature_names.len()
    }

    pub fn class_names(&self) -> &[String] {
        &self.meta.class_names
    }

    /// Writes the feature vector of row `row` of `data` into `out` (at least
    /// [`FlowModel::n_features`] long). `data` must be in the schema's format.
    pub fn features(&self, data: &FlowDataset, row: usize, out: &mut [f32]) {
        assert_eq!(data.format, self.meta.schema.format(), "data format");
        row_features(self.meta.schema, &self.lookup, data, row, out);
    }

    /// Writes the `live` feature vector of `rec` into `out`; false (and nothing written) if
    /// this model's schema is not `live`.
    pub fn record_features(&self, rec: &FlowRecord, out: &mut [f32]) -> bool {
        if self.meta.schema != FlowSchema::Live {
            return false;
        }
        record_features(&self.lookup, rec, out);
        true
    }

    /// Probability of attack for feature vector `x`: the (Platt-scaled) sigmoid of the binary
    /// model, or `1 - P(normal)` of the category model. Allocation-free.
    pub fn score(&self, x: &[f32]) -> f32 {
        if self.meta.task == FlowTask::Binary {
            let m = self.gbdt.margin(x);
            sigmoid(self.meta.platt.map_or(m, |[a, b]| a * m + b))
        } else {
            let mut p = [0.0f32; MAX_CLASSES];
            self.predict_proba(x, &mut p);
            1.0 - p[0]
        }
    }

    /// [`FlowModel::score`] of row `row` of `data`. Allocation-free.
    pub fn score_row(&self, data: &FlowDataset, row: usize) -> f32 {
        let mut x = [0.0f32; MAX_FEATURES];
        self.features(data, row, &mut x);
        self.score(&x)
    }

    /// Probability of attack of a live flow; `None` if this model's schema is not `live`.
    /// Allocation-free.
    pub fn score_record(&self, rec: &FlowRecord) -> Option<f32> {
        let mut x = [0.0f32; N_LIVE];
        self.record_features(rec, &mut x).then(|| self.score(&x))
    }

    /// Class probabilities (in [`FlowModel::class_names`] order) into `out`. Allocation-free.
    pub fn predict_proba(&self, x: &[f32], out: &mut [f32]) {
        if self.meta.task == FlowTask::Binary {
            let p = self.score(x);
            out[0] = 1.0 - p;
            out[1] = p;
        } else {
            let k = self.meta.class_names.len();
            self.gbdt.margins(x, &mut out[..k]);
            softmax_in_place(&mut out[..k]);
        }
    }

    /// Index (into [`FlowModel::class_names`]) of the most probable class (binary: attack iff
    /// P ≥ 0.5). Allocation-free.
    pub fn predict_class(&self, x: &[f32]) -> usize {
        let mut p = [0.0f32; MAX_CLASSES];
        let k = self.meta.class_names.len();
        self.predict_proba(x, &mut p);
        if self.meta.task == FlowTask::Binary {
            return usize::from(p[1] >= 0.5);
        }
        (0..k).fold(0, |best, c| if p[c] > p[best] { c } else { best })
    }

    /// Saabas path attributions for `x` as `(feature name, contribution)`, the `top` largest
    /// by magnitude, plus `bias` (base score and root values) if it is among them. Binary:
    /// contributions to the attack log-odds before Platt scaling; category: to the logit of
    /// the predicted class. Positive = towards attack (binary) / towards that class.
    pub fn explain(&self, x: &[f32], top: usize) -> Vec<(String, f32)> {
        let output = if self.meta.task == FlowTask::Binary {
            0
        } else {
            self.predict_class(x)
        };
        let nf = self.n_features();
        let mut c = vec![0.0f32; nf + 1];
        self.gbdt.contributions(x, output, &mut c);
        let mut out: Vec<(String, f32)> = c
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(i, &v)| {
                let name = if i == nf {
                    "bias".to_string()
                } else {
                    self.meta.feature_names[i].clone()
                };
                (name, v)
            })
            .collect();
        out.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
        out.truncate(top);
        out
    }

    /// [`FlowModel::explain`] for a live flow; `None` if the schema is not `live`.
    pub fn explain_record(&self, rec: &FlowRecord, top: usize) -> Option<Vec<(String, f32)>> {
        let mut x = [0.0f32; N_LIVE];
        self.record_features(rec, &mut x)
            .then(|| self.explain(&x, top))
    }

    /// True if the trees are bit-identical (metadata not compared).
    pub fn trees_eq(&self, other: &FlowModel) -> bool {
        self.gbdt.bits_eq(&other.gbdt)
    }

    /// Same frame as the other models (`HAECHIML`, version, JSON header [`FlowModelMeta`],
    /// word count, words, SHA-256); the words are [`Gbdt`]'s node arrays.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.meta).expect("model metadata serializes");
        let words: Vec<f32> = self
            .gbdt
            .to_words()
            .into_iter()
            .map(f32::from_bits)
            .collect();
        encode_model(&header, &words)
    }

    /// Parses [`FlowModel::to_bytes`] output; refuses other kinds, corrupt files and trees that
    /// do not match the header's schema and classes.
    pub fn from_bytes(bytes: &[u8]) -> Result<FlowModel, MlError> {
        let bad = |m: String| MlError::BadModel(m);
        let (header, n, wbytes) = frame_model(bytes)?;
        check_kind(header, "flows")?;
        let meta: FlowModelMeta =
            serde_json::from_slice(header).map_err(|e| bad(format!("metadata JSON: {e}")))?;
        if meta.kind != "flows" {
            return Err(bad(format!(
                "model kind is {:?}, expected \"flows\"",
                meta.kind
            )));
        }
        if wbytes.len() != n.saturating_mul(4) {
            return Err(bad(format!(
                "{} word bytes, expected {}",
                wbytes.len(),
                n * 4
            )));
        }
        let words: Vec<u32> = wbytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let gbdt = Gbdt::from_words(&words)?;
        let names = meta.schema.feature_names();
        if meta.feature_names.len() != names.len()
            || meta.feature_names.iter().zip(names).any(|(a, b)| a != b)
            || gbdt.n_features() != names.len()
        {
            return Err(bad("feature names do not match the schema".into()));
        }
        let k = meta.class_names.len();
        let outputs_ok = match meta.task {
            FlowTask::Binary => k == 2 && gbdt.n_outputs() == 1,
            FlowTask::Category => (2..=MAX_CLASSES).contains(&k) && gbdt.n_outputs() == k,
        };
        if !outputs_ok {
            return Err(bad("class count does not match the trees".into()));
        }
        if meta.platt.is_some_and(|p| p.iter().any(|v| !v.is_finite())) {
            return Err(bad("non-finite Platt parameters".into()));
        }
        let lookup = build_lookup(meta.schema, &meta.categories);
        Ok(FlowModel { meta, gbdt, lookup })
    }

    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), MlError> {
        crate::model::write_model_file(path.as_ref(), &self.to_bytes())
    }

    pub fn load(path: impl AsRef<Path>) -> Result<FlowModel, MlError> {
        FlowModel::from_bytes(&read_model_file(path.as_ref())?)
    }
}

/// Scores every row of `data` and computes metrics on it. Binary task: classes
/// `normal`/`attack`, threshold 0.5, AUC of P(attack). Category task: argmax, per-class
/// P/R/F1 and the full confusion matrix in [`Metrics::confusion_matrix`], `confusion` and AUC
/// for normal-vs-attack with P(attack) = 1 − P(normal class); rows whose category the model
/// does not know are skipped. Both set the Brier score ([`Metrics::brier`]; multiclass: sum
/// over classes, averaged over rows).
pub fn evaluate_flows(model: &FlowModel, data: &FlowDataset) -> Metrics {
    let nf = model.n_features();
    let mut x = vec![0.0f32; nf];
    let classes = model.class_names();
    let k = classes.len();
    let mut p = vec![0.0f32; k];
    match model.meta.task {
        FlowTask::Binary => {
            let scores: Vec<f32> = (0..data.len()).map(|r| model.score_row(data, r)).collect();
            let mut m = Metrics::from_scores_named(&data.attack, &scores, 0.5, FLOW_BINARY_CLASSES);
            let b: f64 = scores
                .iter()
                .zip(&data.attack)
                .map(|(&s, &a)| (s as f64 - if a { 1.0 } else { 0.0 }).powi(2))
                .sum();
            m.brier = Some(b / data.len().max(1) as f64);
            m
        }
        FlowTask::Category => {
            let (mut truth, mut pred, mut attack, mut pattack) = (vec![], vec![], vec![], vec![]);
            let mut b = 0.0f64;
            for r in 0..data.len() {
                let Some(t) = classes.iter().position(|c| *c == data.category[r]) else {
                    continue;
                };
                model.features(data, r, &mut x);
                model.predict_proba(&x, &mut p);
                let best = (0..k).fold(0, |best, c| if p[c] > p[best] { c } else { best });
                for (c, &pc) in p.iter().enumerate() {
                    let y = if c == t { 1.0 } else { 0.0 };
                    b += (pc as f64 - y).powi(2);
                }
                truth.push(t);
                pred.push(best);
                attack.push(data.attack[r]);
                pattack.push(1.0 - p[0]);
            }
            let names: Vec<&str> = classes.iter().map(String::as_str).collect();
            let mut m = Metrics::from_multiclass(&truth, &pred, &names);
            m.auc = roc_auc(&attack, &pattack);
            m.brier = Some(b / truth.len().max(1) as f64);
            m
        }
    }
}
