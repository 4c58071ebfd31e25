//! Feature extraction from a domain name alone: hashed character n-grams of the registrable
//! part (with `^`/`$` boundary markers), the hashed public suffix, and a few dense lexical
//! features. Everything works on a stack buffer: no allocation per name.

use serde::{Deserialize, Serialize};

/// Longest name we look at (DNS limit); longer inputs are truncated.
pub const MAX_NAME: usize = 253;

/// Feature-space configuration, stored in the model file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// The hashed n-gram/suffix space has `2^hash_bits` buckets (10..=24).
    pub hash_bits: u8,
    /// Smallest character n-gram.
    pub min_ngram: u8,
    /// Largest character n-gram (at most 8).
    pub max_ngram: u8,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            hash_bits: 18,
            min_ngram: 2,
            max_ngram: 4,
        }
    }
}

/// Names of the dense lexical features, in weight order after the hashed space.
pub const LEXICAL_NAMES: [&str; 17] = [
    "len/16",
    "digit_ratio",
    "vowel_ratio",
    "consonant_ratio",
    "hyphen_ratio",
    "entropy/4",
    "max_consonant_run/8",
    "max_digit_run/8",
    "extra_labels",
    "char_class_switch_ratio",
    "len<=5",
    "len6-8",
    "len9-11",
    "len12-14",
    "len15-18",
    "len19-24",
    "len>=25",
];
pub(crate) const N_LEX: usize = LEXICAL_NAMES.len();

impl FeatureConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(10..=24).contains(&self.hash_bits) {
            return Err(format!("hash_bits {} outside 10..=24", self.hash_bits));
        }
        if self.min_ngram == 0 || self.min_ngram > self.max_ngram || self.max_ngram > 8 {
            return Err(format!(
                "n-gram range {}..={} invalid (need 1 <= min <= max <= 8)",
                self.min_ngram, self.max_ngram
            ));
        }
        Ok(())
    }
    pub(crate) fn hash_size(&self) -> usize {
        1usize << self.hash_bits
    }
    /// Total number of weights: hashed space + lexical features + bias.
    pub(crate) fn dim(&self) -> usize {
        self.hash_size() + N_LEX + 1
    }
    pub(crate) fn bias_index(&self) -> usize {
        self.hash_size() + N_LEX
    }
}

/// What a feature is, for explanations.
pub(crate) enum Kind<'a> {
    NGram(&'a [u8]),
    Suffix(&'a [u8]),
    Lexical(usize),
    Bias,
}

/// A normalized name: `buf[0] = '^'`, the registrable body, `'$'`, then (elsewhere in `buf`)
/// the suffix bytes.
pub(crate) struct Normalized {
    buf: [u8; MAX_NAME + 2],
    body_len: usize,
    suffix: (usize, usize),
}

const TWO_LEVEL_SLD: [&[u8]; 10] = [
    b"co", b"com", b"net", b"org", b"gov", b"edu", b"ac", b"or", b"ne", b"go",
];

impl Normalized {
    /// Lower-case (ASCII), trim whitespace and a trailing dot, drop a leading `www.`, split off
    /// the public suffix (last label, or two labels for `co.uk`-style ccTLD suffixes).
    pub(crate) fn new(name: &str) -> Normalized {
        let mut s = name.trim().as_bytes();
        while let [rest @ .., b'.'] = s {
            s = rest;
        }
        if s.len() > 4 && s[..4].eq_ignore_ascii_case(b"www.") {
            s = &s[4..];
        }
        let s = &s[..s.len().min(MAX_NAME)];
        let mut buf = [0u8; MAX_NAME + 2];
        buf[0] = b'^';
        for (d, c) in buf[1..].iter_mut().zip(s) {
            *d = c.to_ascii_lowercase();
        }
        let n = s.len();
        let name = &buf[1..1 + n];
        let (body_len, suffix) = match name.iter().rposition(|&c| c == b'.') {
            None => (n, (1 + n, 1 + n)),
            Some(last) => {
                let tld_len = n - last - 1;
                let mut cut = last;
                if tld_len == 2
                    && let Some(prev) = name[..last].iter().rposition(|&c| c == b'.')
                    && TWO_LEVEL_SLD.contains(&&name[prev + 1..last])
                {
                    cut = prev;
                }
                (cut, (1 + cut + 1, 1 + n))
            }
        };
        buf[1 + body_len] = b'$';
        Normalized {
            buf,
            body_len,
            suffix,
        }
    }

    /// `^body$`
    pub(crate) fn marked_body(&self) -> &[u8] {
        &self.buf[..self.body_len + 2]
    }
    pub(crate) fn body(&self) -> &[u8] {
        &self.buf[1..1 + self.body_len]
    }
    pub(crate) fn suffix(&self) -> &[u8] {
        &self.buf[self.suffix.0..self.suffix.1]
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ b as u64).wrapping_mul(FNV_PRIME)
}

#[inline]
fn bucket(h: u64, mask: u64) -> usize {
    ((h ^ (h >> 29)) & mask) as usize
}

/// Shannon entropy (bits per character) of the body, dots excluded.
pub(crate) fn entropy(body: &[u8]) -> f32 {
    let mut counts = [0u16; 256];
    let mut n = 0u32;
    for &c in body {
        if c != b'.' {
            counts[c as usize] += 1;
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    let nf = n as f32;
    let mut e = 0.0f32;
    // Visit each distinct character once (O(len), not O(alphabet)).
    for &c in body {
        let k = counts[c as usize];
        if k > 0 && c != b'.' {
            let p = k as f32 / nf;
            e -= p * p.log2();
            counts[c as usize] = 0;
        }
    }
    e
}

/// Fills the dense lexical features of a body.
pub(crate) fn lexical(body: &[u8], out: &mut [f32; N_LEX]) {
    let (mut chars, mut digits, mut vowels, mut consonants, mut hyphens, mut labels) =
        (0u32, 0u32, 0u32, 0u32, 0u32, 1u32);
    let (mut cons_run, mut max_cons_run, mut digit_run, mut max_digit_run) = (0u32, 0, 0u32, 0);
    let (mut switches, mut prev_class) = (0u32, 0u8);
    for &c in body {
        if c == b'.' {
            labels += 1;
            cons_run = 0;
            digit_run = 0;
            prev_class = 0;
            continue;
        }
        chars += 1;
        let class = if c.is_ascii_digit() {
            digits += 1;
            digit_run += 1;
            max_digit_run = max_digit_run.max(digit_run);
            cons_run = 0;
            1
        } else if matches!(c, b'a' | b'e' | b'i' | b'o' | b'u') {
            vowels += 1;
            cons_run = 0;
            digit_run = 0;
            2
        } else if c.is_ascii_lowercase() {
            consonants += 1;
            cons_run += 1;
            max_cons_run = max_cons_run.max(cons_run);
            digit_run = 0;
            2
        } else {
            if c == b'-' {
                hyphens += 1;
            }
            cons_run = 0;
            digit_run = 0;
            3
        };
        if prev_class != 0 && class != prev_class {
            switches += 1;
        }
        prev_class = class;
    }
    let n = chars.max(1) as f32;
    out.fill(0.0);
    out[0] = chars as f32 / 16.0;
    out[1] = digits as f32 / n;
    out[2] = vowels as f32 / n;
    out[3] = consonants as f32 / n;
    out[4] = hyphens as f32 / n;
    out[5] = entropy(body) / 4.0;
    out[6] = max_cons_run as f32 / 8.0;
    out[7] = max_digit_run as f32 / 8.0;
    out[8] = (labels - 1) as f32;
    out[9] = switches as f32 / n;
    let b = match chars {
        0..=5 => 0,
        6..=8 => 1,
        9..=11 => 2,
        12..=14 => 3,
        15..=18 => 4,
        19..=24 => 5,
        _ => 6,
    };
    out[10 + b] = 1.0;
}

/// Calls `f(index, value, kind)` for every active feature of `name` (including the bias).
/// An n-gram occurring twice is emitted twice.
#[inline]
pub(crate) fn for_each_feature(
    cfg: &FeatureConfig,
    name: &str,
    mut f: impl FnMut(usize, f32, Kind<'_>),
) {
    let norm = Normalized::new(name);
    let mask = (cfg.hash_size() - 1) as u64;
    let text = norm.marked_body();
    let (lo, hi) = (cfg.min_ngram as usize, cfg.max_ngram as usize);
    // One pass per start position: the FNV state of the prefix is shared by the n-grams that
    // start there; the n-gram length is mixed in last so `ab` and `abc` hash independently.
    for start in 0..text.len() {
        let mut h = FNV_OFFSET;
        for (k, &c) in text[start..text.len().min(start + hi)].iter().enumerate() {
            h = fnv_step(h, c);
            let n = k + 1;
            if n >= lo {
                f(
                    bucket(fnv_step(h, n as u8), mask),
                    1.0,
                    Kind::NGram(&text[start..start + n]),
                );
            }
        }
    }
    let suffix = norm.suffix();
    let mut h = fnv_step(FNV_OFFSET, 0xff);
    for &c in suffix {
        h = fnv_step(h, c);
    }
    f(bucket(h, mask), 1.0, Kind::Suffix(suffix));
    let mut lex = [0.0f32; N_LEX];
    lexical(norm.body(), &mut lex);
    let base = cfg.hash_size();
    for (i, &v) in lex.iter().enumerate() {
        if v != 0.0 {
            f(base + i, v, Kind::Lexical(i));
        }
    }
    f(cfg.bias_index(), 1.0, Kind::Bias);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        let n = Normalized::new("WWW.Example.COM.");
        assert_eq!(n.marked_body(), b"^example$");
        assert_eq!(n.suffix(), b"com");
        let n = Normalized::new("news.bbc.co.uk");
        assert_eq!(n.body(), b"news.bbc");
        assert_eq!(n.suffix(), b"co.uk");
        let n = Normalized::new("localhost");
        assert_eq!(n.body(), b"localhost");
        assert_eq!(n.suffix(), b"");
        let n = Normalized::new("");
        assert_eq!(n.marked_body(), b"^$");
        let long = "a".repeat(400);
        assert_eq!(Normalized::new(&long).body().len(), MAX_NAME);
    }

    #[test]
    fn lexical_values() {
        let mut out = [0.0; N_LEX];
        lexical(b"ab1-xyz", &mut out);
        assert_eq!(out[0], 7.0 / 16.0);
        assert!((out[1] - 1.0 / 7.0).abs() < 1e-6);
        assert!((out[2] - 1.0 / 7.0).abs() < 1e-6);
        assert_eq!(out[6], 3.0 / 8.0); // "xyz"
        assert_eq!(out[11], 1.0); // length bucket 6-8
        assert!((entropy(b"aaaa") - 0.0).abs() < 1e-6);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-6);
    }
}
