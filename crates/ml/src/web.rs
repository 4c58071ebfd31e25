//! The web-attack model: HTTP parameter values (or request strings) → probability of an attack
//! (SQLi, XSS, path traversal, command injection). Same machinery as the domain model: hashed
//! character n-grams plus dense token features, the shared Adagrad logistic-regression trainer,
//! the shared model file format (kind `"web"`) and [`Metrics`].

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::MlError;
use crate::features::FeatureConfig;
use crate::metrics::Metrics;
use crate::model::{
    TrainConfig, add_contribution, check_kind, encode_model, fit_logistic, frame_model,
    read_model_file, same_weights, sigmoid, top_contributions, weights_from, write_model_file,
};
use crate::sha256::{Sha256, to_hex};

/// Longest payload (bytes, after percent-decoding) the features look at; longer input is
/// truncated for scoring, and refused by the CSV loader.
pub const MAX_PAYLOAD: usize = 4096;

/// Class names of web [`Metrics`]: `[negative, positive]`.
pub const WEB_CLASSES: [&str; 2] = ["normal", "attack"];

/// One labeled HTTP parameter value / request string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSample {
    pub payload: String,
    /// `true` = attack (CSV label `anom`), `false` = normal (`norm`).
    pub is_attack: bool,
    /// The `attack_type` column if present (`norm`, `sqli`, `xss`, `path-traversal`, `cmdi`).
    pub attack_type: Option<String>,
}

/// Token features: `(name, pattern)`, matched on the decoded, lower-cased text; the feature
/// value is `ln(1 + occurrences)`.
const TOKENS: [(&str, &[u8]); 52] = [
    ("tok:'", b"'"),
    ("tok:\"", b"\""),
    ("tok:<", b"<"),
    ("tok:>", b">"),
    ("tok:../", b"../"),
    ("tok:..\\", b"..\\"),
    ("tok:;", b";"),
    ("tok:|", b"|"),
    ("tok:&&", b"&&"),
    ("tok:--", b"--"),
    ("tok:/*", b"/*"),
    ("tok:#", b"#"),
    ("tok:(", b"("),
    ("tok:)", b")"),
    ("tok:=", b"="),
    ("tok:`", b"`"),
    ("tok:$(", b"$("),
    ("tok:${", b"${"),
    ("tok:%", b"%"),
    ("tok:\\x", b"\\x"),
    ("tok:0x", b"0x"),
    ("tok:nul", b"\0"),
    ("kw:select", b"select"),
    ("kw:union", b"union"),
    ("kw:insert", b"insert"),
    ("kw:drop", b"drop"),
    ("kw:from", b"from"),
    ("kw:where", b"where"),
    ("kw: or ", b" or "),
    ("kw: and ", b" and "),
    ("kw:sleep(", b"sleep("),
    ("kw:benchmark(", b"benchmark("),
    ("kw:waitfor", b"waitfor"),
    ("kw:concat", b"concat"),
    ("kw:char(", b"char("),
    ("kw:null", b"null"),
    ("kw:order by", b"order by"),
    ("kw:information_schema", b"information_schema"),
    ("kw:script", b"script"),
    ("kw:javascript:", b"javascript:"),
    ("kw:onerror", b"onerror"),
    ("kw:onload", b"onload"),
    ("kw:onmouseover", b"onmouseover"),
    ("kw:alert(", b"alert("),
    ("kw:<img", b"<img"),
    ("kw:<svg", b"<svg"),
    ("kw:iframe", b"iframe"),
    ("kw:document.", b"document."),
    ("kw:etc/passwd", b"etc/passwd"),
    ("kw:win.ini", b"win.ini"),
    ("kw:/bin/", b"/bin/"),
    ("kw:cmd", b"cmd"),
];

/// Names of the dense web features (token counts, then shape features), in weight order after
/// the hashed n-gram space.
pub const WEB_FEATURE_NAMES: [&str; N_WEB] = {
    let mut out = [""; N_WEB];
    let mut i = 0;
    while i < TOKENS.len() {
        out[i] = TOKENS[i].0;
        i += 1;
    }
    out[TOKENS.len()] = "ln_len/8";
    out[TOKENS.len() + 1] = "special_ratio";
    out[TOKENS.len() + 2] = "digit_ratio";
    out[TOKENS.len() + 3] = "space_ratio";
    out[TOKENS.len() + 4] = "was_percent_encoded";
    out
};
const N_WEB: usize = TOKENS.len() + 5;

/// A decoded, lower-cased payload wrapped in `^…$`, on the stack.
struct Decoded {
    buf: [u8; MAX_PAYLOAD + 2],
    len: usize,
    was_encoded: bool,
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Decoded {
    /// Percent-decodes once (`%XX` → byte, `+` → space; malformed escapes are kept as they
    /// are), lower-cases ASCII, truncates to [`MAX_PAYLOAD`] bytes.
    fn new(text: &str) -> Decoded {
        let s = text.as_bytes();
        let mut buf = [0u8; MAX_PAYLOAD + 2];
        buf[0] = b'^';
        let (mut i, mut n, mut was_encoded) = (0, 0, false);
        while i < s.len() && n < MAX_PAYLOAD {
            let mut c = s[i];
            i += 1;
            if c == b'%'
                && let (Some(&a), Some(&b)) = (s.get(i), s.get(i + 1))
                && let (Some(h), Some(l)) = (hex(a), hex(b))
            {
                c = h << 4 | l;
                i += 2;
                was_encoded = true;
            } else if c == b'+' {
                c = b' ';
            }
            buf[1 + n] = c.to_ascii_lowercase();
            n += 1;
        }
        buf[1 + n] = b'$';
        Decoded {
            buf,
            len: n,
            was_encoded,
        }
    }
    fn marked(&self) -> &[u8] {
        &self.buf[..self.len + 2]
    }
    fn text(&self) -> &[u8] {
        &self.buf[1..1 + self.len]
    }
}

fn count(hay: &[u8], needle: &[u8]) -> u32 {
    if needle.len() == 1 {
        return hay.iter().filter(|&&c| c == needle[0]).count() as u32;
    }
    if hay.len() < needle.len() {
        return 0;
    }
    let (first, rest) = (needle[0], &needle[1..]);
    let mut n = 0;
    for i in 0..=hay.len() - needle.len() {
        if hay[i] == first && &hay[i + 1..i + needle.len()] == rest {
            n += 1;
        }
    }
    n
}

fn dense(d: &Decoded, out: &mut [f32; N_WEB]) {
    let t = d.text();
    for (o, (_, pat)) in out.iter_mut().zip(TOKENS.iter()) {
        *o = (count(t, pat) as f32).ln_1p();
    }
    let n = t.len().max(1) as f32;
    let special = t
        .iter()
        .filter(|c| !c.is_ascii_alphanumeric() && **c != b' ')
        .count();
    let k = TOKENS.len();
    out[k] = (t.len() as f32).ln_1p() / 8.0;
    out[k + 1] = special as f32 / n;
    out[k + 2] = t.iter().filter(|c| c.is_ascii_digit()).count() as f32 / n;
    out[k + 3] = t.iter().filter(|&&c| c == b' ').count() as f32 / n;
    out[k + 4] = if d.was_encoded { 1.0 } else { 0.0 };
}

enum WebKind<'a> {
    NGram(&'a [u8]),
    Dense(usize),
    Bias,
}

fn web_dim(fc: &FeatureConfig) -> usize {
    fc.hash_size() + N_WEB + 1
}

fn for_each_web_feature(fc: &FeatureConfig, text: &str, mut f: impl FnMut(usize, f32, WebKind)) {
    let d = Decoded::new(text);
    let mask = (fc.hash_size() - 1) as u64;
    let m = d.marked();
    let (lo, hi) = (fc.min_ngram as usize, fc.max_ngram as usize);
    for start in 0..m.len() {
        // Distinct FNV offset from the domain model, so the two spaces are not aliased.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ 0x7765_6200;
        for (k, &c) in m[start..m.len().min(start + hi)].iter().enumerate() {
            h = (h ^ c as u64).wrapping_mul(0x0000_0100_0000_01b3);
            let n = k + 1;
            if n >= lo {
                let g = (h ^ n as u64).wrapping_mul(0x0000_0100_0000_01b3);
                f(
                    ((g ^ (g >> 29)) & mask) as usize,
                    1.0,
                    WebKind::NGram(&m[start..start + n]),
                );
            }
        }
    }
    let mut x = [0.0f32; N_WEB];
    dense(&d, &mut x);
    let base = fc.hash_size();
    for (i, &v) in x.iter().enumerate() {
        if v != 0.0 {
            f(base + i, v, WebKind::Dense(i));
        }
    }
    f(base + N_WEB, 1.0, WebKind::Bias);
}

/// Metadata of a web model (the JSON header of the model file, `kind` = `"web"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebModelMeta {
    /// Always `"web"`.
    pub kind: String,
    pub train: TrainConfig,
    pub n_train: u64,
    pub n_train_attack: u64,
    /// SHA-256 (hex) of the training samples in order, each as `"<0|1>,<payload>\n"`.
    pub training_data_sha256: String,
    pub source: Option<String>,
    pub validation_metrics: Option<Metrics>,
    pub baseline_metrics: Option<Metrics>,
}

/// Web-attack classifier. See the crate docs.
#[derive(Clone, Debug, PartialEq)]
pub struct WebModel {
    meta: WebModelMeta,
    weights: Vec<f32>,
}

impl WebModel {
    /// The recommended configuration: character 1–4-grams into 2^18 buckets, 6 epochs.
    pub fn default_config() -> TrainConfig {
        TrainConfig {
            features: FeatureConfig {
                hash_bits: 18,
                min_ngram: 1,
                max_ngram: 4,
            },
            ..TrainConfig::default()
        }
    }

    /// Trains on `samples`; deterministic like [`crate::DomainModel::train`]. Panics if
    /// `cfg.features` is invalid.
    pub fn train(samples: &[WebSample], cfg: &TrainConfig) -> WebModel {
        if let Err(e) = cfg.features.validate() {
            panic!("invalid feature config: {e}");
        }
        let fc = cfg.features;
        let mut idx: Vec<u32> = Vec::new();
        let mut val: Vec<f32> = Vec::new();
        let mut off: Vec<usize> = Vec::with_capacity(samples.len() + 1);
        off.push(0);
        for s in samples {
            for_each_web_feature(&fc, &s.payload, |i, v, _| {
                idx.push(i as u32);
                val.push(v);
            });
            off.push(idx.len());
        }
        let dim = web_dim(&fc);
        let w = fit_logistic(&idx, &val, &off, dim, dim - 1, cfg, |r| {
            samples[r].is_attack
        });
        let mut h = Sha256::new();
        for s in samples {
            h.update(if s.is_attack { b"1," } else { b"0," });
            h.update(s.payload.as_bytes());
            h.update(b"\n");
        }
        WebModel {
            meta: WebModelMeta {
                kind: "web".into(),
                train: *cfg,
                n_train: samples.len() as u64,
                n_train_attack: samples.iter().filter(|s| s.is_attack).count() as u64,
                training_data_sha256: to_hex(&h.finalize()),
                source: None,
                validation_metrics: None,
                baseline_metrics: None,
            },
            weights: w,
        }
    }

    /// Probability (0..1) that `payload` is an attack. Allocation-free.
    pub fn score(&self, payload: &str) -> f32 {
        let w = &self.weights;
        let mut z = 0.0f32;
        for_each_web_feature(&self.meta.train.features, payload, |i, v, _| z += w[i] * v);
        sigmoid(z)
    }

    /// Scores a query string (`a=1&b=x`, a leading `?` is ignored) as the maximum of
    /// [`WebModel::score`] over its parameter *values* — the model was trained on values only,
    /// so `=`/`&` of the query syntax would otherwise read as attack characters. A part without
    /// `=` is scored whole; an empty query scores as the empty string.
    pub fn score_query(&self, query: &str) -> f32 {
        let q = query.strip_prefix('?').unwrap_or(query);
        q.split('&')
            .map(|part| self.score(part.split_once('=').map_or(part, |(_, v)| v)))
            .fold(f32::NEG_INFINITY, f32::max)
    }

    /// Top features by |contribution to the logit| (at most 15): `ngram:<text>` (`^`/`$` mark
    /// the ends of the decoded, lower-cased payload), token/shape features by their
    /// [`WEB_FEATURE_NAMES`] name, and `bias`. Positive = towards attack.
    pub fn explain(&self, payload: &str) -> Vec<(String, f32)> {
        let mut out: Vec<(String, f32)> = Vec::new();
        for_each_web_feature(&self.meta.train.features, payload, |i, v, kind| {
            let label = match kind {
                WebKind::NGram(g) => format!("ngram:{}", String::from_utf8_lossy(g)),
                WebKind::Dense(k) => WEB_FEATURE_NAMES[k].to_string(),
                WebKind::Bias => "bias".to_string(),
            };
            add_contribution(&mut out, label, self.weights[i] * v);
        });
        top_contributions(out)
    }

    /// True if both models have bit-identical weights.
    pub fn weights_eq(&self, other: &WebModel) -> bool {
        same_weights(&self.weights, &other.weights)
    }

    pub fn meta(&self) -> &WebModelMeta {
        &self.meta
    }

    pub fn meta_mut(&mut self) -> &mut WebModelMeta {
        &mut self.meta
    }

    /// Same file format as [`crate::DomainModel::to_bytes`], header kind `"web"`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.meta).expect("model metadata serializes");
        encode_model(&header, &self.weights)
    }

    /// Parses [`WebModel::to_bytes`] output; refuses other kinds (e.g. domain models).
    pub fn from_bytes(bytes: &[u8]) -> Result<WebModel, MlError> {
        let bad = |m: String| MlError::BadModel(m);
        let (header, n, wbytes) = frame_model(bytes)?;
        check_kind(header, "web")?;
        let meta: WebModelMeta =
            serde_json::from_slice(header).map_err(|e| bad(format!("metadata JSON: {e}")))?;
        meta.train.features.validate().map_err(bad)?;
        let weights = weights_from(n, wbytes, web_dim(&meta.train.features))?;
        Ok(WebModel { meta, weights })
    }

    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), MlError> {
        write_model_file(path.as_ref(), &self.to_bytes())
    }

    pub fn load(path: impl AsRef<Path>) -> Result<WebModel, MlError> {
        WebModel::from_bytes(&read_model_file(path.as_ref())?)
    }
}

/// Scores every sample and computes metrics at threshold 0.5 (classes `normal`/`attack`).
pub fn evaluate_web(model: &WebModel, samples: &[WebSample]) -> Metrics {
    let labels: Vec<bool> = samples.iter().map(|s| s.is_attack).collect();
    let scores: Vec<f32> = samples.iter().map(|s| model.score(&s.payload)).collect();
    Metrics::from_scores_named(&labels, &scores, 0.5, WEB_CLASSES)
}

/// Trivial baseline: "attack if the decoded, lower-cased payload contains any of
/// [`WebBaseline::TOKENS`]". Its score is the number of distinct tokens present.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebBaseline;

impl WebBaseline {
    pub const TOKENS: [&'static str; 16] = [
        "'",
        "\"",
        "<",
        ">",
        "../",
        "--",
        "/*",
        ";",
        "|",
        "`",
        "$(",
        "union",
        "select",
        "script",
        "onerror",
        "etc/passwd",
    ];

    /// Number of distinct baseline tokens in `payload` (attack iff ≥ 1).
    pub fn score(payload: &str) -> f32 {
        let d = Decoded::new(payload);
        Self::TOKENS
            .iter()
            .filter(|t| count(d.text(), t.as_bytes()) > 0)
            .count() as f32
    }

    pub fn is_attack(payload: &str) -> bool {
        Self::score(payload) >= 1.0
    }

    pub fn evaluate(&self, samples: &[WebSample]) -> Metrics {
        let labels: Vec<bool> = samples.iter().map(|s| s.is_attack).collect();
        let scores: Vec<f32> = samples.iter().map(|s| Self::score(&s.payload)).collect();
        Metrics::from_scores_named(&labels, &scores, 1.0, WEB_CLASSES)
    }
}

/// Path of the web development data set (HttpParamsDataset training split), relative to this
/// crate.
pub const WEB_DEV_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/web_attacks/httpparams_payload_train.csv"
);

/// Loads a web-payload CSV (header with at least `payload` and `label`; label `norm`/`anom`,
/// also `normal`/`attack` or `0`/`1`; an optional `attack_type` column is kept). Fails on the
/// first bad row with its line number; refuses input above
/// [`DEFAULT_CSV_LIMIT`](crate::DEFAULT_CSV_LIMIT).
pub fn load_web_csv(path: impl AsRef<Path>) -> Result<Vec<WebSample>, MlError> {
    crate::data::open_csv(path.as_ref(), read_web_csv)
}

/// Like [`load_web_csv`] from any reader, with an explicit size limit in bytes.
pub fn read_web_csv(reader: impl Read, limit: u64) -> Result<Vec<WebSample>, MlError> {
    let data = crate::data::read_limited(reader, limit, "web CSV")?;
    let (mut rdr, headers) = crate::data::csv_with_headers(&data)?;
    let col = |name: &str| crate::data::column(&headers, name);
    let pcol = col("payload").ok_or(MlError::MissingColumn("payload"))?;
    let lcol = col("label").ok_or(MlError::MissingColumn("label"))?;
    let tcol = col("attack_type");
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
                    } => format!("expected {expected_len} fields, found {len}"),
                    _ => e.to_string(),
                };
                return Err(MlError::BadRow { row, reason });
            }
        }
        let row = rec.position().map_or(0, |p| p.line());
        let bad = |reason: String| MlError::BadRow { row, reason };
        let payload = rec.get(pcol).unwrap_or_default();
        if payload.is_empty() {
            return Err(bad("empty payload".into()));
        }
        if payload.len() > MAX_PAYLOAD {
            return Err(bad(format!(
                "payload is {} bytes, longer than {MAX_PAYLOAD}",
                payload.len()
            )));
        }
        let payload =
            std::str::from_utf8(payload).map_err(|_| bad("payload is not UTF-8".into()))?;
        let label = rec.get(lcol).unwrap_or_default().trim_ascii();
        let is_attack = match label.to_ascii_lowercase().as_slice() {
            b"anom" | b"attack" | b"1" => true,
            b"norm" | b"normal" | b"0" => false,
            other => {
                return Err(bad(format!(
                    "label must be norm or anom, found {:?}",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        let attack_type = tcol
            .and_then(|c| rec.get(c))
            .map(|t| String::from_utf8_lossy(t.trim_ascii()).into_owned());
        out.push(WebSample {
            payload: payload.to_string(),
            is_attack,
            attack_type,
        });
    }
    if out.is_empty() {
        return Err(MlError::Empty);
    }
    Ok(out)
}

/// Which side of the split a payload falls on: a salted FNV-1a hash of the decoded,
/// lower-cased payload, so the same value (however encoded or cased) always lands on the same
/// side.
pub fn is_web_validation(payload: &str, validation_percent: u32) -> bool {
    let d = Decoded::new(payload);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ 0x0077_6562;
    for &c in d.text() {
        h = (h ^ c as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    (h % 100) < validation_percent as u64
}

/// Deterministic train/validation split by payload hash; order within each side is kept.
pub fn split_web_train_validation(
    samples: &[WebSample],
    validation_percent: u32,
) -> (Vec<WebSample>, Vec<WebSample>) {
    samples
        .iter()
        .cloned()
        .partition(|s| !is_web_validation(&s.payload, validation_percent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_is_once_and_tolerant() {
        let d = Decoded::new("%27%20OR%201=1--+x%zz%4");
        assert_eq!(d.text(), b"' or 1=1-- x%zz%4");
        assert!(d.was_encoded);
        // Once only: %2527 → %27, not '.
        assert_eq!(Decoded::new("%2527").text(), b"%27");
        assert!(!Decoded::new("id=42").was_encoded);
        assert_eq!(Decoded::new(&"a".repeat(10_000)).len, MAX_PAYLOAD);
        assert_eq!(Decoded::new("").marked(), b"^$");
    }

    #[test]
    fn token_counts() {
        let mut x = [0.0; N_WEB];
        dense(&Decoded::new("1' UNION SELECT 1,2--"), &mut x);
        let at = |n: &str| x[WEB_FEATURE_NAMES.iter().position(|k| *k == n).unwrap()];
        assert_eq!(at("tok:'"), 1f32.ln_1p());
        assert_eq!(at("kw:union"), 1f32.ln_1p());
        assert_eq!(at("tok:--"), 1f32.ln_1p());
        assert_eq!(at("kw:script"), 0.0);
        assert_eq!(WEB_FEATURE_NAMES.len(), N_WEB);
        assert!(WEB_FEATURE_NAMES.iter().all(|n| !n.is_empty()));
    }
}
