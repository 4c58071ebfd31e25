//! The domain model: L2-regularized logistic regression over hashed features, trained with
//! Adagrad SGD in a seeded, single-threaded (hence bit-reproducible) order.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::DomainSet;
use crate::data::Sample;
use crate::error::MlError;
use crate::features::{FeatureConfig, Kind, Normalized, dense_name, entropy, for_each_feature};
use crate::gbdt::SplitMix64;
use crate::metrics::Metrics;
use crate::sha256::{Sha256, sha256, to_hex};

/// Training hyper-parameters (stored in the model file).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    /// Seed of the shuffling PRNG (splitmix64).
    pub seed: u64,
    pub epochs: u32,
    /// Adagrad base learning rate.
    pub learning_rate: f32,
    /// L2 penalty, applied lazily to the weights active in each update (not to the bias).
    pub l2: f32,
    /// Domain model only: the `host` feature set (subdomain n-grams and host features, see
    /// [`crate::HOST_FEATURE_NAMES`]) instead of the `registrable` one. `false` in
    /// [`TrainConfig::default`] and in model files written before it existed (the key is then
    /// absent); `true` in [`DomainModel::default_config`]. Ignored by the web model.
    #[serde(default, skip_serializing_if = "is_false")]
    pub host_features: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            features: FeatureConfig::default(),
            seed: 0x4841_4543_4849,
            epochs: 6,
            learning_rate: 0.1,
            l2: 1e-6,
            host_features: false,
        }
    }
}

/// Model metadata (the JSON header of the model file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Always `"domains"` for this model.
    pub kind: String,
    pub train: TrainConfig,
    pub n_train: u64,
    pub n_train_dga: u64,
    /// SHA-256 (hex) of the training samples in training-input order, each as
    /// `"<domain>,<0|1>\n"` — identifies exactly what the weights were fitted on.
    pub training_data_sha256: String,
    /// Free-form provenance (e.g. the source file's SHA-256); set by the caller.
    pub source: Option<String>,
    pub validation_metrics: Option<Metrics>,
    pub baseline_metrics: Option<Metrics>,
    /// Share flagged per family on the validation side (see [`evaluate_families`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_families: Option<Vec<FamilyRate>>,
}

/// How one family of names fares: how many there are and how many score at or above 0.5
/// (recall for a malicious family, false-positive rate for a benign one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyRate {
    pub family: String,
    /// Whether the family is labeled malicious.
    pub malicious: bool,
    pub n: u64,
    /// Names scored at or above 0.5.
    pub flagged: u64,
}

impl FamilyRate {
    /// `flagged / n`.
    pub fn share(&self) -> f64 {
        self.flagged as f64 / (self.n.max(1)) as f64
    }
    /// Share of the family classified correctly at 0.5.
    pub fn correct(&self) -> f64 {
        if self.malicious {
            self.share()
        } else {
            1.0 - self.share()
        }
    }
}

/// Per-family rates of `model` on `set` at threshold 0.5, families sorted by name (a family
/// with both labels is reported once per label).
pub fn evaluate_families(model: &DomainModel, set: &DomainSet) -> Vec<FamilyRate> {
    let mut map: std::collections::BTreeMap<(&str, bool), (u64, u64)> = Default::default();
    for (s, fam) in set.samples.iter().zip(&set.families) {
        let e = map.entry((fam.as_str(), s.is_dga)).or_default();
        e.0 += 1;
        if model.score(&s.domain) >= 0.5 {
            e.1 += 1;
        }
    }
    map.into_iter()
        .map(|((family, malicious), (n, flagged))| FamilyRate {
            family: family.to_string(),
            malicious,
            n,
            flagged,
        })
        .collect()
}

/// Malicious-domain (DGA) classifier. See the crate docs.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainModel {
    meta: ModelMeta,
    weights: Vec<f32>,
}

#[inline]
pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z.clamp(-40.0, 40.0)).exp())
}

/// SHA-256 over the canonical text of `samples` (see [`ModelMeta::training_data_sha256`]).
fn samples_sha256(samples: &[Sample]) -> String {
    let mut h = Sha256::new();
    for s in samples {
        h.update(s.domain.as_bytes());
        h.update(if s.is_dga { b",1\n" } else { b",0\n" });
    }
    to_hex(&h.finalize())
}

/// Shared trainer: per-sample Adagrad SGD on the log loss with lazy L2 (not on `bias`), over
/// pre-extracted sparse rows (`off[r]..off[r + 1]` indexes `idx`/`val`), in a seeded
/// Fisher–Yates order per epoch. Single-threaded, hence bit-reproducible.
pub(crate) fn fit_logistic(
    idx: &[u32],
    val: &[f32],
    off: &[usize],
    dim: usize,
    bias: usize,
    cfg: &TrainConfig,
    label: impl Fn(usize) -> bool,
) -> Vec<f32> {
    let n = off.len() - 1;
    let mut w = vec![0.0f32; dim];
    let mut g2 = vec![0.0f32; dim];
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut rng = SplitMix64(cfg.seed);
    for _ in 0..cfg.epochs {
        for i in (1..order.len()).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        for &r in &order {
            let r = r as usize;
            let (a, b) = (off[r], off[r + 1]);
            let (ri, rv) = (&idx[a..b], &val[a..b]);
            let mut z = 0.0f32;
            for (&i, &v) in ri.iter().zip(rv) {
                z += w[i as usize] * v;
            }
            let err = sigmoid(z) - if label(r) { 1.0 } else { 0.0 };
            for (&i, &v) in ri.iter().zip(rv) {
                let i = i as usize;
                let reg = if i == bias { 0.0 } else { cfg.l2 * w[i] };
                let g = err * v + reg;
                g2[i] += g * g;
                w[i] -= cfg.learning_rate * g / (g2[i].sqrt() + 1e-7);
            }
        }
    }
    w
}

/// Frames a model file (see [`DomainModel::to_bytes`]); shared by every model kind.
pub(crate) fn encode_model(header: &[u8], weights: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + header.len() + weights.len() * 4 + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(header);
    out.extend_from_slice(&(weights.len() as u32).to_le_bytes());
    for w in weights {
        out.extend_from_slice(&w.to_le_bytes());
    }
    let digest = sha256(&out);
    out.extend_from_slice(&digest);
    out
}

/// Just the `kind` of a model header, to name the kind before the full metadata is parsed.
#[derive(Deserialize)]
pub(crate) struct KindOnly {
    pub(crate) kind: String,
}

/// Checks magic, checksum, version and header length; returns (JSON header, weight count,
/// weight bytes).
pub(crate) fn frame_model(bytes: &[u8]) -> Result<(&[u8], usize, &[u8]), MlError> {
    let bad = |m: String| MlError::BadModel(m);
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(bad("not a Haechi model file (magic mismatch)".into()));
    }
    if bytes.len() < 8 + 4 + 4 + 4 + 32 {
        return Err(bad("file truncated".into()));
    }
    let (body, digest) = bytes.split_at(bytes.len() - 32);
    if sha256(body) != digest {
        return Err(bad("checksum mismatch: file is corrupt or truncated".into()));
    }
    let u32_at = |p: usize| u32::from_le_bytes(body[p..p + 4].try_into().expect("4 bytes"));
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version}, this build reads {FORMAT_VERSION}"
        )));
    }
    let hlen = u32_at(12) as usize;
    let wstart = 16usize
        .checked_add(hlen)
        .filter(|&e| e + 4 <= body.len())
        .ok_or_else(|| bad("header length exceeds file".into()))?;
    let n = u32_at(wstart) as usize;
    Ok((&body[16..wstart], n, &body[wstart + 4..]))
}

/// Decodes `n` little-endian f32 weights, which must be exactly `dim` and finite.
pub(crate) fn weights_from(n: usize, wbytes: &[u8], dim: usize) -> Result<Vec<f32>, MlError> {
    let bad = |m: String| MlError::BadModel(m);
    if n != dim {
        return Err(bad(format!("{n} weights, feature config needs {}", dim)));
    }
    if wbytes.len() != n * 4 {
        return Err(bad(format!(
            "{} weight bytes, expected {}",
            wbytes.len(),
            n * 4
        )));
    }
    let weights: Vec<f32> = wbytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    if weights.iter().any(|w| !w.is_finite()) {
        return Err(bad("non-finite weight".into()));
    }
    Ok(weights)
}

/// Reads a model file, refusing files above [`MAX_MODEL_BYTES`].
pub(crate) fn read_model_file(path: &Path) -> Result<Vec<u8>, MlError> {
    use std::io::Read;
    let io = |source| MlError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_MODEL_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_MODEL_BYTES {
        return Err(MlError::TooLarge {
            what: path.display().to_string(),
            limit: MAX_MODEL_BYTES,
        });
    }
    Ok(bytes)
}

/// Refuses a model file of another kind by name (before its metadata is parsed as ours).
pub(crate) fn check_kind(header: &[u8], expected: &str) -> Result<(), MlError> {
    match serde_json::from_slice::<KindOnly>(header) {
        Ok(k) if k.kind != expected => Err(MlError::BadModel(format!(
            "model kind is {:?}, expected {expected:?}",
            k.kind
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn write_model_file(path: &Path, bytes: &[u8]) -> Result<(), MlError> {
    std::fs::write(path, bytes).map_err(|source| MlError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// True if both weight vectors are bit-identical.
pub(crate) fn same_weights(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Adds a feature's contribution to the logit under its label (n-grams hashed to the same
/// label add up).
pub(crate) fn add_contribution(out: &mut Vec<(String, f32)>, label: String, c: f32) {
    match out.iter_mut().find(|(l, _)| *l == label) {
        Some(e) => e.1 += c,
        None => out.push((label, c)),
    }
}

/// The 15 largest contributions by magnitude (ties by label).
pub(crate) fn top_contributions(mut out: Vec<(String, f32)>) -> Vec<(String, f32)> {
    out.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(&b.0)));
    out.truncate(15);
    out
}

const MAGIC: &[u8; 8] = b"HAECHIML";
const FORMAT_VERSION: u32 = 1;
/// Refuse model files above this size (2^24 weights * 4 bytes + header room).
const MAX_MODEL_BYTES: u64 = (1 << 26) + (1 << 20);

impl DomainModel {
    /// Trains on `samples`. Deterministic: the same samples (in the same order) and config give
    /// bit-identical weights. Panics if `cfg.features` is invalid (see [`FeatureConfig`]).
    pub fn train(samples: &[Sample], cfg: &TrainConfig) -> DomainModel {
        if let Err(e) = cfg.features.validate() {
            panic!("invalid feature config: {e}");
        }
        let fc = cfg.features;
        let host = cfg.host_features;
        let dim = fc.domain_dim(host);
        // Pre-extract sparse rows once; epochs then only walk flat arrays.
        let mut idx: Vec<u32> = Vec::with_capacity(samples.len() * 48);
        let mut val: Vec<f32> = Vec::with_capacity(samples.len() * 48);
        let mut off: Vec<usize> = Vec::with_capacity(samples.len() + 1);
        off.push(0);
        for s in samples {
            for_each_feature(&fc, host, &s.domain, |i, v, _| {
                idx.push(i as u32);
                val.push(v);
            });
            off.push(idx.len());
        }
        let w = fit_logistic(
            &idx,
            &val,
            &off,
            dim,
            fc.domain_bias_index(host),
            cfg,
            |r| samples[r].is_dga,
        );
        let n_train_dga = samples.iter().filter(|s| s.is_dga).count() as u64;
        DomainModel {
            meta: ModelMeta {
                kind: "domains".into(),
                train: *cfg,
                n_train: samples.len() as u64,
                n_train_dga,
                training_data_sha256: samples_sha256(samples),
                source: None,
                validation_metrics: None,
                baseline_metrics: None,
                validation_families: None,
            },
            weights: w,
        }
    }

    /// The recommended configuration: [`TrainConfig::default`] with the `host` feature set
    /// (subdomain n-grams and host features), for DGA *and* phishing-style host names.
    pub fn default_config() -> TrainConfig {
        TrainConfig {
            host_features: true,
            ..TrainConfig::default()
        }
    }

    /// Probability (0..1) that `name` is malicious (DGA-generated, or — with the `host`
    /// feature set and phishing training data — a phishing host). Allocation-free.
    pub fn score(&self, name: &str) -> f32 {
        let w = &self.weights;
        let t = &self.meta.train;
        let mut z = 0.0f32;
        for_each_feature(&t.features, t.host_features, name, |i, v, _| z += w[i] * v);
        sigmoid(z)
    }

    /// The features that pushed the score of `name`, as `(feature, contribution to the logit)`,
    /// sorted by |contribution|, at most 15. N-grams are shown as `ngram:<text>` (`^`/`$` mark
    /// the start/end of the registrable part), n-grams of the subdomain labels (host feature
    /// set) as `subgram:<text>`, the suffix as `suffix:<tld>`, lexical and host features by
    /// name, and the intercept as `bias`. Positive = towards malicious.
    pub fn explain(&self, name: &str) -> Vec<(String, f32)> {
        let mut out: Vec<(String, f32)> = Vec::new();
        let t = &self.meta.train;
        for_each_feature(&t.features, t.host_features, name, |i, v, kind| {
            let label = match kind {
                Kind::NGram(g) => format!("ngram:{}", String::from_utf8_lossy(g)),
                Kind::SubNGram(g) => format!("subgram:{}", String::from_utf8_lossy(g)),
                Kind::Suffix(s) => format!("suffix:{}", String::from_utf8_lossy(s)),
                Kind::Lexical(k) => dense_name(k).to_string(),
                Kind::Bias => "bias".to_string(),
            };
            add_contribution(&mut out, label, self.weights[i] * v);
        });
        top_contributions(out)
    }

    /// True if both models have bit-identical weights (metadata not compared).
    pub fn weights_eq(&self, other: &DomainModel) -> bool {
        same_weights(&self.weights, &other.weights)
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// For attaching validation/baseline metrics and provenance before saving.
    pub fn meta_mut(&mut self) -> &mut ModelMeta {
        &mut self.meta
    }

    /// Binary model file: `HAECHIML`, format version (u32 LE), header length (u32 LE), JSON
    /// header ([`ModelMeta`]), weight count (u32 LE), weights (f32 LE), then the SHA-256 of
    /// everything before it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.meta).expect("model metadata serializes");
        encode_model(&header, &self.weights)
    }

    /// Parses [`DomainModel::to_bytes`] output, verifying magic, version, checksum, kind and sizes.
    pub fn from_bytes(bytes: &[u8]) -> Result<DomainModel, MlError> {
        let bad = |m: String| MlError::BadModel(m);
        let (header, n, wbytes) = frame_model(bytes)?;
        check_kind(header, "domains")?;
        let meta: ModelMeta =
            serde_json::from_slice(header).map_err(|e| bad(format!("metadata JSON: {e}")))?;
        meta.train.features.validate().map_err(bad)?;
        let dim = meta.train.features.domain_dim(meta.train.host_features);
        let weights = weights_from(n, wbytes, dim)?;
        Ok(DomainModel { meta, weights })
    }

    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), MlError> {
        write_model_file(path.as_ref(), &self.to_bytes())
    }

    pub fn load(path: impl AsRef<Path>) -> Result<DomainModel, MlError> {
        DomainModel::from_bytes(&read_model_file(path.as_ref())?)
    }
}

/// Scores every sample with the model and computes metrics at threshold 0.5.
pub fn evaluate(model: &DomainModel, samples: &[Sample]) -> Metrics {
    let labels: Vec<bool> = samples.iter().map(|s| s.is_dga).collect();
    let scores: Vec<f32> = samples.iter().map(|s| model.score(&s.domain)).collect();
    Metrics::from_scores(&labels, &scores, 0.5)
}

/// Trivial baseline: "DGA if the Shannon entropy of the registrable part is at least
/// `threshold`", with the threshold chosen to maximize training accuracy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntropyBaseline {
    pub threshold: f32,
}

impl EntropyBaseline {
    /// The entropy (bits/char) the baseline thresholds.
    pub fn score(name: &str) -> f32 {
        entropy(Normalized::new(name).body())
    }

    pub fn fit(samples: &[Sample]) -> EntropyBaseline {
        let mut v: Vec<(f32, bool)> = samples
            .iter()
            .map(|s| (Self::score(&s.domain), s.is_dga))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total_pos = v.iter().filter(|x| x.1).count() as i64;
        // Threshold just above v[i-1] ⇒ predictions: first i negative, rest positive.
        let (mut best_correct, mut best_t) = (total_pos, f32::NEG_INFINITY);
        let (mut neg_below, mut pos_below) = (0i64, 0i64);
        let mut i = 0;
        while i < v.len() {
            let x = v[i].0;
            while i < v.len() && v[i].0 == x {
                if v[i].1 {
                    pos_below += 1
                } else {
                    neg_below += 1
                }
                i += 1;
            }
            let correct = neg_below + (total_pos - pos_below);
            if correct > best_correct {
                best_correct = correct;
                best_t = if i < v.len() {
                    (x + v[i].0) / 2.0
                } else {
                    f32::INFINITY
                };
            }
        }
        EntropyBaseline { threshold: best_t }
    }

    pub fn evaluate(&self, samples: &[Sample]) -> Metrics {
        let labels: Vec<bool> = samples.iter().map(|s| s.is_dga).collect();
        let scores: Vec<f32> = samples.iter().map(|s| Self::score(&s.domain)).collect();
        Metrics::from_scores(&labels, &scores, self.threshold)
    }
}
