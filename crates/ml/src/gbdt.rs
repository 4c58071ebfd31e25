//! Gradient-boosted decision trees: histogram-based training (≤ 255 quantile bins per feature
//! plus one bin for missing values), binary logistic and multiclass softmax losses, flat node
//! arrays for allocation-free inference, and Saabas path attributions.
//!
//! Training is deterministic: binning, row subsampling and split search depend only on the
//! data, the [`GbdtConfig`] and its seed. Per-feature histograms are built in parallel (rayon),
//! but every histogram is filled by one thread in row order and the best split is chosen by a
//! sequential scan in feature order, so the thread count never changes a single bit.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::MlError;
use crate::model::sigmoid;

/// Boosting hyper-parameters (stored in the model file).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GbdtConfig {
    /// Boosting rounds (a multiclass model grows one tree per class per round).
    pub rounds: u32,
    /// Shrinkage applied to every leaf value.
    pub learning_rate: f32,
    /// Maximum tree depth (a depth-1 tree is a stump). At most 16.
    pub max_depth: u32,
    /// Minimum sum of hessians in each child of a split.
    pub min_child_weight: f32,
    /// L2 penalty on leaf values (`w = -G / (H + lambda)`).
    pub lambda: f32,
    /// Minimum loss reduction for a split to be kept.
    pub min_split_gain: f32,
    /// Fraction of rows drawn (Bernoulli, seeded) for each round, in `(0, 1]`.
    pub subsample: f32,
    /// Non-missing bins per feature, 2..=255.
    pub max_bins: u32,
    /// Seed of the splitmix64 PRNG (row subsampling, bin sampling above 200,000 rows).
    pub seed: u64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        GbdtConfig {
            rounds: 60,
            learning_rate: 0.3,
            max_depth: 6,
            min_child_weight: 1.0,
            lambda: 1.0,
            min_split_gain: 0.0,
            subsample: 0.8,
            max_bins: 255,
            seed: 0x4841_4543_4849,
        }
    }
}

impl GbdtConfig {
    /// Checks the ranges documented on the fields.
    pub fn validate(&self) -> Result<(), String> {
        if self.rounds == 0 || self.rounds > 100_000 {
            return Err(format!("rounds {} outside 1..=100000", self.rounds));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 10.0) {
            return Err(format!(
                "learning_rate {} outside (0, 10]",
                self.learning_rate
            ));
        }
        if self.max_depth == 0 || self.max_depth > 16 {
            return Err(format!("max_depth {} outside 1..=16", self.max_depth));
        }
        if !(self.min_child_weight >= 0.0 && self.lambda >= 0.0 && self.min_split_gain >= 0.0) {
            return Err("min_child_weight, lambda and min_split_gain must be >= 0".into());
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(format!("subsample {} outside (0, 1]", self.subsample));
        }
        if !(2..=255).contains(&self.max_bins) {
            return Err(format!("max_bins {} outside 2..=255", self.max_bins));
        }
        Ok(())
    }
}

/// splitmix64 (same generator as the logistic models' shuffler).
/// splitmix64: tiny, well-mixed, seedable PRNG (shuffles, subsampling, splits) shared by
/// every model of the crate.
pub(crate) struct SplitMix64(pub(crate) u64);
impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (Lemire's multiply-shift; bias negligible for n ≪ 2^64).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }
    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Node `feature` value marking a leaf.
const LEAF: u32 = u32::MAX;
/// Bit of `feature` set when missing values go left.
const DEFAULT_LEFT: u32 = 1 << 31;
/// Bin of missing (NaN) values.
const MISSING: u8 = 255;
/// Rows above which bin boundaries are computed on a seeded sample.
const BIN_SAMPLE: usize = 200_000;

/// One node of the flat tree array. Internal: `x[feature] < threshold` goes to `left`, else
/// `right`; NaN goes left iff the [`DEFAULT_LEFT`] bit is set. `value` is the node's expected
/// output (the leaf value it would have had), used for attributions; for leaves it is the output.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Node {
    feature: u32,
    threshold: f32,
    left: u32,
    right: u32,
    value: f32,
}

/// A trained ensemble. Tree `t` adds to output `t % n_outputs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gbdt {
    n_features: usize,
    n_outputs: usize,
    base: Vec<f32>,
    roots: Vec<u32>,
    nodes: Vec<Node>,
}

/// Quantile bin boundaries of one feature: value `v` falls in bin `#{c in cuts : c <= v}`.
fn bin_cuts(col: &[f32], max_bins: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let mut v: Vec<f32> = if col.len() > BIN_SAMPLE {
        (0..BIN_SAMPLE).map(|_| col[rng.below(col.len())]).collect()
    } else {
        col.to_vec()
    };
    v.retain(|x| !x.is_nan());
    for x in &mut v {
        *x += 0.0; // -0.0 → +0.0
    }
    v.sort_by(f32::total_cmp);
    v.dedup();
    if v.len() <= max_bins {
        return v.get(1..).map(<[f32]>::to_vec).unwrap_or_default();
    }
    // Too many distinct values: cut at quantiles of the distinct values weighted by count.
    let mut all: Vec<f32> = if col.len() > BIN_SAMPLE {
        let mut r = SplitMix64(rng.0 ^ 0x5eed);
        (0..BIN_SAMPLE).map(|_| col[r.below(col.len())]).collect()
    } else {
        col.to_vec()
    };
    all.retain(|x| !x.is_nan());
    for x in &mut all {
        *x += 0.0;
    }
    all.sort_by(f32::total_cmp);
    let n = all.len();
    let mut cuts: Vec<f32> = Vec::with_capacity(max_bins);
    for i in 1..max_bins {
        let c = all[i * n / max_bins];
        if c > all[0] && cuts.last().is_none_or(|&l| c > l) {
            cuts.push(c);
        }
    }
    cuts
}

#[inline]
fn bin_of(cuts: &[f32], x: f32) -> u8 {
    if x.is_nan() {
        MISSING
    } else {
        cuts.partition_point(|&c| c <= x) as u8
    }
}

/// Hessian-weighted leaf value `-G / (H + lambda)`.
#[inline]
fn leaf_weight(g: f64, h: f64, lambda: f64) -> f64 {
    if h + lambda <= 0.0 {
        0.0
    } else {
        -g / (h + lambda)
    }
}

#[inline]
fn score_of(g: f64, h: f64, lambda: f64) -> f64 {
    if h + lambda <= 0.0 {
        0.0
    } else {
        g * g / (h + lambda)
    }
}

type Hist = Vec<[f64; 2]>;

struct Split {
    gain: f64,
    feature: usize,
    /// Bins `< bin` go left.
    bin: usize,
    default_left: bool,
}

/// Shared state of one tree's growth.
struct Grower<'a> {
    bins: &'a [Vec<u8>],
    cuts: &'a [Vec<f32>],
    grad: &'a [f32],
    hess: &'a [f32],
    cfg: &'a GbdtConfig,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    fn histogram(&self, rows: &[u32]) -> Hist {
        let mut hist = vec![[0.0f64; 2]; self.bins.len() * 256];
        hist.par_chunks_mut(256)
            .zip(self.bins.par_iter())
            .for_each(|(h, col)| {
                for &r in rows {
                    let r = r as usize;
                    let b = &mut h[col[r] as usize];
                    b[0] += self.grad[r] as f64;
                    b[1] += self.hess[r] as f64;
                }
            });
        hist
    }

    fn best_split(&self, hist: &Hist, g: f64, h: f64) -> Option<Split> {
        let lambda = self.cfg.lambda as f64;
        let mcw = self.cfg.min_child_weight as f64;
        let parent = score_of(g, h, lambda);
        let mut best: Option<Split> = None;
        for (f, cuts) in self.cuts.iter().enumerate() {
            let hf = &hist[f * 256..(f + 1) * 256];
            let [mg, mh] = hf[MISSING as usize];
            let has_missing = mh > 0.0 || mg != 0.0;
            let (mut lg, mut lh) = (0.0f64, 0.0f64);
            for s in 1..=cuts.len() {
                lg += hf[s - 1][0];
                lh += hf[s - 1][1];
                let (rg, rh) = (g - mg - lg, h - mh - lh);
                let options: &[bool] = if has_missing {
                    &[false, true]
                } else {
                    &[false]
                };
                for &miss_left in options {
                    let (a_g, a_h, b_g, b_h) = if miss_left {
                        (lg + mg, lh + mh, rg, rh)
                    } else {
                        (lg, lh, rg + mg, rh + mh)
                    };
                    if a_h < mcw || b_h < mcw || a_h <= 0.0 || b_h <= 0.0 {
                        continue;
                    }
                    let gain =
                        0.5 * (score_of(a_g, a_h, lambda) + score_of(b_g, b_h, lambda) - parent);
                    if gain > self.cfg.min_split_gain as f64
                        && best.as_ref().is_none_or(|b| gain > b.gain)
                    {
                        // Without missing training values, NaN follows the heavier side.
                        let default_left = if has_missing { miss_left } else { lh >= rh };
                        best = Some(Split {
                            gain,
                            feature: f,
                            bin: s,
                            default_left,
                        });
                    }
                }
            }
        }
        best
    }

    /// Grows the subtree of node `at` over `rows` (reordered in place).
    fn grow(&mut self, at: usize, rows: &mut [u32], hist: Hist, g: f64, h: f64, depth: u32) {
        let lr = self.cfg.learning_rate as f64;
        let lambda = self.cfg.lambda as f64;
        self.nodes[at] = Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: (lr * leaf_weight(g, h, lambda)) as f32,
        };
        if depth >= self.cfg.max_depth || rows.len() < 2 {
            return;
        }
        let Some(split) = self.best_split(&hist, g, h) else {
            return;
        };
        let col = &self.bins[split.feature];
        let goes_left = |r: u32| {
            let b = col[r as usize];
            if b == MISSING {
                split.default_left
            } else {
                (b as usize) < split.bin
            }
        };
        // Stable in-place partition (left rows first, original order kept on both sides).
        let mut left: Vec<u32> = Vec::with_capacity(rows.len());
        let mut right: Vec<u32> = Vec::with_capacity(rows.len());
        for &r in rows.iter() {
            if goes_left(r) {
                left.push(r)
            } else {
                right.push(r)
            }
        }
        let nl = left.len();
        rows[..nl].copy_from_slice(&left);
        rows[nl..].copy_from_slice(&right);
        drop((left, right));
        let (lrows, rrows) = rows.split_at_mut(nl);
        // Histogram subtraction: build the smaller child, derive the larger.
        let (small_is_left, small) = if lrows.len() <= rrows.len() {
            (true, &*lrows)
        } else {
            (false, &*rrows)
        };
        let small_hist = self.histogram(small);
        let mut big_hist = hist;
        for (b, s) in big_hist.iter_mut().zip(&small_hist) {
            b[0] -= s[0];
            b[1] -= s[1];
        }
        let (lhist, rhist) = if small_is_left {
            (small_hist, big_hist)
        } else {
            (big_hist, small_hist)
        };
        let sum = |hs: &Hist| {
            hs[..256]
                .iter()
                .fold((0.0f64, 0.0f64), |a, b| (a.0 + b[0], a.1 + b[1]))
        };
        let (lg, lh) = sum(&lhist);
        let (rg, rh) = sum(&rhist);
        let li = self.nodes.len();
        let blank = Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: 0.0,
        };
        self.nodes.push(blank);
        self.nodes.push(blank);
        let n = &mut self.nodes[at];
        n.feature = split.feature as u32 | if split.default_left { DEFAULT_LEFT } else { 0 };
        n.threshold = self.cuts[split.feature][split.bin - 1];
        n.left = li as u32;
        n.right = li as u32 + 1;
        self.grow(li, lrows, lhist, lg, lh, depth + 1);
        self.grow(li + 1, rrows, rhist, rg, rh, depth + 1);
    }
}

impl Gbdt {
    /// Trains on column-major features (`columns[f][row]`, NaN = missing) and class indices
    /// `labels` in `0..n_classes`. Two classes give one logistic tree per round; more give a
    /// softmax model with one tree per class per round. Panics on an invalid config, ragged
    /// columns, no rows, or a label out of range.
    pub fn train(columns: &[Vec<f32>], labels: &[u32], n_classes: usize, cfg: &GbdtConfig) -> Gbdt {
        if let Err(e) = cfg.validate() {
            panic!("invalid GBDT config: {e}");
        }
        let n = labels.len();
        assert!(n > 0, "no training rows");
        assert!(n_classes >= 2, "need at least two classes");
        assert!(
            columns.iter().all(|c| c.len() == n),
            "ragged feature columns"
        );
        assert!(
            labels.iter().all(|&l| (l as usize) < n_classes),
            "label out of range"
        );
        let mut rng = SplitMix64(cfg.seed);
        let cuts: Vec<Vec<f32>> = columns
            .iter()
            .map(|c| bin_cuts(c, cfg.max_bins as usize, &mut rng))
            .collect();
        let bins: Vec<Vec<u8>> = columns
            .par_iter()
            .zip(cuts.par_iter())
            .map(|(c, k)| c.iter().map(|&x| bin_of(k, x)).collect())
            .collect();
        let k = if n_classes == 2 { 1 } else { n_classes };
        // Base score: log-odds (binary) or log-prior (softmax) of the training labels.
        let mut counts = vec![0usize; n_classes];
        for &l in labels {
            counts[l as usize] += 1;
        }
        let prior = |c: usize| (counts[c] as f64 + 0.5) / (n as f64 + 0.5 * n_classes as f64);
        let base: Vec<f32> = if k == 1 {
            vec![(prior(1) / prior(0)).ln() as f32]
        } else {
            (0..k).map(|c| prior(c).ln() as f32).collect()
        };
        let mut model = Gbdt {
            n_features: columns.len(),
            n_outputs: k,
            base,
            roots: Vec::new(),
            nodes: Vec::new(),
        };
        // margins[r * k + c]
        let mut margins: Vec<f32> = (0..n).flat_map(|_| model.base.clone()).collect();
        let mut grad = vec![0.0f32; n * k];
        let mut hess = vec![0.0f32; n * k];
        let mut row = vec![0.0f32; columns.len()];
        let mut gk = vec![0.0f32; n];
        let mut hk = vec![0.0f32; n];
        for _ in 0..cfg.rounds {
            // Gradients of the log loss at the current margins.
            for r in 0..n {
                let m = &margins[r * k..(r + 1) * k];
                let y = labels[r] as usize;
                if k == 1 {
                    let p = sigmoid(m[0]);
                    grad[r] = p - if y == 1 { 1.0 } else { 0.0 };
                    hess[r] = (p * (1.0 - p)).max(1e-6);
                } else {
                    let mx = m.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                    let mut z = 0.0f32;
                    for &v in m {
                        z += (v - mx).exp();
                    }
                    for c in 0..k {
                        let p = (m[c] - mx).exp() / z;
                        grad[r * k + c] = p - if y == c { 1.0 } else { 0.0 };
                        hess[r * k + c] = (2.0 * p * (1.0 - p)).max(1e-6);
                    }
                }
            }
            let mut rows: Vec<u32> = if cfg.subsample >= 1.0 {
                (0..n as u32).collect()
            } else {
                (0..n as u32)
                    .filter(|_| rng.unit() < cfg.subsample as f64)
                    .collect()
            };
            if rows.is_empty() {
                rows.push(rng.below(n) as u32);
            }
            let sample = rows.clone();
            for c in 0..k {
                for r in 0..n {
                    gk[r] = grad[r * k + c];
                    hk[r] = hess[r * k + c];
                }
                rows.copy_from_slice(&sample);
                let mut grower = Grower {
                    bins: &bins,
                    cuts: &cuts,
                    grad: &gk,
                    hess: &hk,
                    cfg,
                    nodes: vec![Node {
                        feature: LEAF,
                        threshold: 0.0,
                        left: 0,
                        right: 0,
                        value: 0.0,
                    }],
                };
                let hist = grower.histogram(&rows);
                let (g, h) = hist[..256]
                    .iter()
                    .fold((0.0f64, 0.0f64), |a, b| (a.0 + b[0], a.1 + b[1]));
                grower.grow(0, &mut rows, hist, g, h, 0);
                let offset = model.nodes.len() as u32;
                model.roots.push(offset);
                model.nodes.extend(grower.nodes.into_iter().map(|mut nd| {
                    if nd.feature != LEAF {
                        nd.left += offset;
                        nd.right += offset;
                    }
                    nd
                }));
                let root = offset as usize;
                for r in 0..n {
                    for (f, col) in columns.iter().enumerate() {
                        row[f] = col[r];
                    }
                    margins[r * k + c] += model.leaf(root, &row).value;
                }
            }
        }
        model
    }

    #[inline]
    fn leaf(&self, root: usize, x: &[f32]) -> &Node {
        let mut i = root;
        loop {
            let nd = &self.nodes[i];
            if nd.feature == LEAF {
                return nd;
            }
            let v = x[(nd.feature & !DEFAULT_LEFT) as usize];
            // NaN compares false: it goes left only with the default-left flag.
            let left = v < nd.threshold || (nd.feature & DEFAULT_LEFT != 0 && v.is_nan());
            i = if left { nd.left } else { nd.right } as usize;
        }
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// 1 for a binary model, the class count for softmax.
    pub fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.roots.len()
    }

    /// Total node count.
    pub fn n_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Raw margins (log-odds for binary, softmax logits otherwise) into `out[..n_outputs]`.
    /// `x` must hold [`Gbdt::n_features`] values (NaN = missing). Allocation-free.
    pub fn margins(&self, x: &[f32], out: &mut [f32]) {
        let k = self.n_outputs;
        out[..k].copy_from_slice(&self.base);
        for (t, &root) in self.roots.iter().enumerate() {
            out[t % k] += self.leaf(root as usize, x).value;
        }
    }

    /// Margin of output 0 (the log-odds of a binary model). Allocation-free.
    pub fn margin(&self, x: &[f32]) -> f32 {
        let mut z = self.base[0];
        let k = self.n_outputs;
        for &root in self.roots.iter().step_by(k) {
            z += self.leaf(root as usize, x).value;
        }
        z
    }

    /// Class probabilities into `out[..classes]` (2 for binary: `[1 - p, p]`). Allocation-free
    /// for up to 64 outputs.
    pub fn predict_proba(&self, x: &[f32], out: &mut [f32]) {
        if self.n_outputs == 1 {
            let p = sigmoid(self.margin(x));
            out[0] = 1.0 - p;
            out[1] = p;
        } else {
            let k = self.n_outputs;
            self.margins(x, out);
            softmax_in_place(&mut out[..k]);
        }
    }

    /// Saabas path attributions of output `output`: `out[f]` receives, for every split on
    /// feature `f` along the decision path, the change of the node's expected value, and
    /// `out[n_features]` the base score plus the roots' expected values, so `out` sums to the
    /// margin. `out` must hold `n_features + 1` values.
    pub fn contributions(&self, x: &[f32], output: usize, out: &mut [f32]) {
        out[..=self.n_features].fill(0.0);
        out[self.n_features] = self.base[output];
        for &root in self.roots.iter().skip(output).step_by(self.n_outputs) {
            let mut i = root as usize;
            out[self.n_features] += self.nodes[i].value;
            loop {
                let nd = &self.nodes[i];
                if nd.feature == LEAF {
                    break;
                }
                let f = (nd.feature & !DEFAULT_LEFT) as usize;
                let v = x[f];
                let left = if v.is_nan() {
                    nd.feature & DEFAULT_LEFT != 0
                } else {
                    v < nd.threshold
                };
                let next = if left { nd.left } else { nd.right } as usize;
                out[f] += self.nodes[next].value - nd.value;
                i = next;
            }
        }
    }

    /// Serialized as u32 words: `n_outputs, n_features, n_trees, n_nodes`, the base scores
    /// (f32 bits), the roots, then 5 words per node (feature|flag, threshold bits, left, right,
    /// value bits).
    pub(crate) fn to_words(&self) -> Vec<u32> {
        let mut w =
            Vec::with_capacity(4 + self.base.len() + self.roots.len() + self.nodes.len() * 5);
        w.push(self.n_outputs as u32);
        w.push(self.n_features as u32);
        w.push(self.roots.len() as u32);
        w.push(self.nodes.len() as u32);
        w.extend(self.base.iter().map(|b| b.to_bits()));
        w.extend(&self.roots);
        for nd in &self.nodes {
            w.extend([
                nd.feature,
                nd.threshold.to_bits(),
                nd.left,
                nd.right,
                nd.value.to_bits(),
            ]);
        }
        w
    }

    /// Inverse of [`Gbdt::to_words`], checking every index so inference cannot go out of
    /// bounds or loop (children must come after their parent, within the same tree).
    pub(crate) fn from_words(w: &[u32]) -> Result<Gbdt, MlError> {
        let bad = |m: &str| MlError::BadModel(format!("trees: {m}"));
        if w.len() < 4 {
            return Err(bad("truncated"));
        }
        let (k, nf, nt, nn) = (w[0] as usize, w[1] as usize, w[2] as usize, w[3] as usize);
        if k == 0 || k > 1024 || nf == 0 || nf >= DEFAULT_LEFT as usize {
            return Err(bad("bad output or feature count"));
        }
        let need = 4usize
            .checked_add(k)
            .and_then(|x| x.checked_add(nt))
            .and_then(|x| nn.checked_mul(5).and_then(|y| x.checked_add(y)))
            .ok_or_else(|| bad("size overflow"))?;
        if w.len() != need {
            return Err(bad("word count does not match header"));
        }
        if nt % k != 0 {
            return Err(bad("tree count is not a multiple of the output count"));
        }
        let base: Vec<f32> = w[4..4 + k].iter().map(|&b| f32::from_bits(b)).collect();
        let roots: Vec<u32> = w[4 + k..4 + k + nt].to_vec();
        let nodes: Vec<Node> = w[4 + k + nt..]
            .chunks_exact(5)
            .map(|c| Node {
                feature: c[0],
                threshold: f32::from_bits(c[1]),
                left: c[2],
                right: c[3],
                value: f32::from_bits(c[4]),
            })
            .collect();
        if base.iter().any(|b| !b.is_finite()) {
            return Err(bad("non-finite base score"));
        }
        for (t, &root) in roots.iter().enumerate() {
            let end = roots.get(t + 1).map_or(nn, |&r| r as usize);
            if root as usize >= end || end > nn || (t == 0 && root != 0) {
                return Err(bad("tree roots out of order"));
            }
            for (i, nd) in nodes.iter().enumerate().take(end).skip(root as usize) {
                if !nd.value.is_finite() {
                    return Err(bad("non-finite node value"));
                }
                if nd.feature == LEAF {
                    continue;
                }
                let ok = ((nd.feature & !DEFAULT_LEFT) as usize) < nf
                    && !nd.threshold.is_nan()
                    && (nd.left as usize) > i
                    && (nd.right as usize) > i
                    && (nd.left as usize) < end
                    && (nd.right as usize) < end;
                if !ok {
                    return Err(bad("bad internal node"));
                }
            }
        }
        if nt == 0 && nn != 0 {
            return Err(bad("nodes without trees"));
        }
        Ok(Gbdt {
            n_features: nf,
            n_outputs: k,
            base,
            roots,
            nodes,
        })
    }

    /// True if both ensembles are bit-identical.
    pub fn bits_eq(&self, other: &Gbdt) -> bool {
        self.to_words() == other.to_words()
    }

    /// `(feature, threshold, default_left)` of every internal node, in storage order (tests
    /// and inspection).
    pub fn splits(&self) -> Vec<(usize, f32, bool)> {
        self.nodes
            .iter()
            .filter(|n| n.feature != LEAF)
            .map(|n| {
                (
                    (n.feature & !DEFAULT_LEFT) as usize,
                    n.threshold,
                    n.feature & DEFAULT_LEFT != 0,
                )
            })
            .collect()
    }
}

/// Numerically stable softmax.
pub(crate) fn softmax_in_place(v: &mut [f32]) {
    let mx = v.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut z = 0.0f32;
    for x in v.iter_mut() {
        *x = (*x - mx).exp();
        z += *x;
    }
    for x in v.iter_mut() {
        *x /= z;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> GbdtConfig {
        GbdtConfig {
            rounds: 20,
            learning_rate: 0.5,
            max_depth: 3,
            min_child_weight: 0.0,
            lambda: 0.1,
            subsample: 1.0,
            ..GbdtConfig::default()
        }
    }

    #[test]
    fn single_threshold_is_found_exactly() {
        let x: Vec<f32> = (0..40).map(|i| (i % 10) as f32).collect();
        let y: Vec<u32> = x.iter().map(|&v| (v >= 7.0) as u32).collect();
        let m = Gbdt::train(
            &[x],
            &y,
            2,
            &GbdtConfig {
                rounds: 1,
                max_depth: 1,
                ..cfg()
            },
        );
        assert_eq!(m.splits(), vec![(0, 7.0, true)]);
        assert!(m.margin(&[6.0]) < 0.0 && m.margin(&[7.0]) > 0.0);
        assert!(m.margin(&[6.999]) < 0.0);
    }

    #[test]
    fn xor_needs_depth_two() {
        // Unequal cell sizes so the first split has a (small) positive gain.
        let (mut a, mut b, mut y) = (Vec::new(), Vec::new(), Vec::new());
        for (p, q, n) in [
            (0.0, 0.0, 20),
            (0.0, 1.0, 20),
            (1.0, 0.0, 20),
            (1.0, 1.0, 30),
        ] {
            for _ in 0..n {
                a.push(p);
                b.push(q);
                y.push(u32::from(p != q));
            }
        }
        let cols = [a, b];
        let acc = |m: &Gbdt| {
            (0..y.len())
                .filter(|&r| (m.margin(&[cols[0][r], cols[1][r]]) > 0.0) == (y[r] == 1))
                .count()
        };
        let stump = Gbdt::train(
            &cols,
            &y,
            2,
            &GbdtConfig {
                max_depth: 1,
                ..cfg()
            },
        );
        assert!(
            acc(&stump) <= 70,
            "a stump cannot express XOR: {}",
            acc(&stump)
        );
        let deep = Gbdt::train(
            &cols,
            &y,
            2,
            &GbdtConfig {
                max_depth: 2,
                ..cfg()
            },
        );
        assert_eq!(acc(&deep), y.len());
    }

    #[test]
    fn softmax_sums_to_one_and_learns_three_classes() {
        let x: Vec<f32> = (0..90).map(|i| i as f32).collect();
        let y: Vec<u32> = (0..90).map(|i| (i / 30) as u32).collect();
        let m = Gbdt::train(&[x], &y, 3, &cfg());
        assert_eq!(m.n_outputs(), 3);
        assert_eq!(m.n_trees(), 60);
        for (v, want) in [(5.0, 0), (45.0, 1), (80.0, 2)] {
            let mut p = [0.0f32; 3];
            m.predict_proba(&[v], &mut p);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(best, want);
        }
    }

    #[test]
    fn thread_count_does_not_change_the_model() {
        let a: Vec<f32> = (0..3000)
            .map(|i| ((i * 7919) % 1009) as f32 / 7.0)
            .collect();
        let b: Vec<f32> = (0..3000).map(|i| ((i * 104_729) % 613) as f32).collect();
        let y: Vec<u32> = (0..3000)
            .map(|i| ((a[i] * 3.0 + b[i]) as u32) % 3)
            .collect();
        let cols = [a, b];
        let c = GbdtConfig {
            subsample: 0.8,
            ..cfg()
        };
        let train = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Gbdt::train(&cols, &y, 3, &c))
        };
        let one = train(1);
        assert!(one.bits_eq(&train(3)));
        assert!(one.n_nodes() > one.n_trees());
    }

    #[test]
    fn missing_values_follow_learned_direction() {
        // Missing values are all positive: NaN must go to the positive side.
        let mut x: Vec<f32> = (0..60).map(|i| (i % 20) as f32).collect();
        let mut y: Vec<u32> = x.iter().map(|&v| (v >= 15.0) as u32).collect();
        for _ in 0..20 {
            x.push(f32::NAN);
            y.push(1);
        }
        let m = Gbdt::train(&[x], &y, 2, &cfg());
        assert!(m.margin(&[f32::NAN]) > 0.0);
        assert!(m.margin(&[3.0]) < 0.0);
    }

    #[test]
    fn contributions_sum_to_margin_and_words_round_trip() {
        let a: Vec<f32> = (0..200).map(|i| ((i * 37) % 101) as f32).collect();
        let b: Vec<f32> = (0..200).map(|i| ((i * 11) % 7) as f32).collect();
        let y: Vec<u32> = (0..200)
            .map(|i| (a[i] + 10.0 * b[i] > 80.0) as u32)
            .collect();
        let cols = [a, b];
        let m = Gbdt::train(
            &cols,
            &y,
            2,
            &GbdtConfig {
                subsample: 0.7,
                ..cfg()
            },
        );
        let again = Gbdt::train(
            &cols,
            &y,
            2,
            &GbdtConfig {
                subsample: 0.7,
                ..cfg()
            },
        );
        assert!(m.bits_eq(&again));
        let mut c = [0.0f32; 3];
        for r in [0, 17, 150] {
            let x = [cols[0][r], cols[1][r]];
            m.contributions(&x, 0, &mut c);
            assert!((c.iter().sum::<f32>() - m.margin(&x)).abs() < 1e-4);
        }
        let back = Gbdt::from_words(&m.to_words()).unwrap();
        assert!(back.bits_eq(&m));
        let mut w = m.to_words();
        w[4 + 1] = 999_999; // the second root
        assert!(Gbdt::from_words(&w).is_err());
    }
}
