//! Look-alikes of protected names. The protected registrable labels are indexed once —
//! their single-deletion variants (a SymSpell index: a candidate within one edit of a
//! protected label shares a deletion variant with it), their UTS #39 skeletons, their
//! Korean-layout renderings, and an Aho-Corasick automaton for labels inside longer
//! names — so that each scanned name costs a few hash lookups, whatever the number of
//! protected names.
//!
//! Kinds: `typosquat` (one insertion, deletion, substitution or transposition; repetition
//! and omission are insertions and deletions), `keyboard` (a substitution by a
//! neighbouring QWERTY key, or the label typed with the Korean layout on or off),
//! `bitsquat` (a substitution by a character one bit away), `homoglyph` (the same UTS #39
//! skeleton, other characters), `combosquat` (the protected label with words around it,
//! or as a label of someone else's domain), `tld-swap` (the protected label under another
//! public suffix, Korean second-level swaps such as `go.kr` ↔ `or.kr` included).
//!
//! Short labels (4 characters or fewer: `kisa`, `ibk`, `sb`) match thousands of real
//! names within one edit, so they get no edit-distance kinds: only homoglyphs, Korean
//! layout renderings, combosquats where the label stands between separators (`ibk-login`,
//! not `ibkmall`), and swaps among Korean suffixes (`ibk.or.kr`, not `ibk.com`).

use crate::keyboard;
use crate::name::Name;
use aho_corasick::AhoCorasick;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Labels this long or shorter get no edit-distance kinds.
pub const SHORT_LABEL: usize = 4;
/// Labels up to this long collide with ordinary words within one edit (`epost` → `post`,
/// `nowon` → `noon`): their edit-distance findings score lower unless the name is Korean.
pub const MEDIUM_LABEL: usize = 6;
/// The score from which a finding is an alert (and `haechi domains scan` prints it).
pub const ALERT_SCORE: f32 = 0.7;

/// Whether a public suffix is Korean (`kr`, `go.kr`, `seoul.kr`, …).
fn korean(suffix: &str) -> bool {
    suffix == "kr" || suffix.ends_with(".kr")
}

/// A protected name of an institution.
#[derive(Clone, Debug, Serialize)]
pub struct Protected {
    pub tenant: String,
    pub name: Name,
}

/// One look-alike.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub domain: String,
    /// The name as written in Unicode, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unicode: Option<String>,
    pub kind: &'static str,
    /// The protected name it imitates.
    pub target: String,
    pub tenant: String,
    /// 0 to 1: how close and how deceptive.
    pub score: f32,
    /// What was changed, in words.
    pub evidence: String,
}

/// The index over the protected names.
pub struct Index {
    protected: Vec<Protected>,
    /// Registrable domains owned by some institution: never look-alikes.
    owned: HashSet<String>,
    /// Deletion variants (the label itself included) of long labels → protected entries.
    deletes: FastMap<String, Vec<usize>>,
    /// UTS #39 skeletons of the labels (lower-cased) → protected entries.
    skeletons: FastMap<String, Vec<usize>>,
    /// Korean-layout renderings (ASCII, punycode for Hangul) → protected entries.
    layouts: FastMap<String, Vec<(usize, &'static str)>>,
    /// Exact labels → protected entries.
    labels: FastMap<String, Vec<usize>>,
    automaton: AhoCorasick,
    /// Automaton pattern → protected entries.
    patterns: Vec<Vec<usize>>,
}

fn deletions(label: &str) -> Vec<String> {
    let chars: Vec<char> = label.chars().collect();
    let mut out = Vec::with_capacity(chars.len() + 1);
    out.push(label.to_owned());
    for i in 0..chars.len() {
        let mut s = String::with_capacity(label.len());
        s.extend(chars[..i].iter());
        s.extend(chars[i + 1..].iter());
        out.push(s);
    }
    out
}

/// The UTS #39 skeleton, lower-cased (the protected labels are lower case).
pub fn skeleton(label: &str) -> String {
    if label.is_ascii() {
        // Most names: UTS #39's prototypes of the ASCII characters, computed once.
        let table = ascii_prototypes();
        let mut out = String::with_capacity(label.len() + 4);
        for b in label.bytes() {
            out.push_str(&table[b as usize]);
        }
        return out;
    }
    unicode_security::skeleton(label)
        .collect::<String>()
        .to_lowercase()
}

/// The lower-cased skeleton of each ASCII character (a skeleton maps characters one by one).
fn ascii_prototypes() -> &'static [String; 128] {
    static TABLE: std::sync::OnceLock<[String; 128]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|b| {
            let c = char::from(b as u8);
            unicode_security::skeleton(&c.to_string())
                .collect::<String>()
                .to_lowercase()
        })
    })
}

/// A fast hasher for the index's short keys (FNV-1a; the keys come from the protected
/// list and the scanned names, and a collision only costs a comparison).
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

fn punycode_label(unicode: &str) -> Option<String> {
    idna::domain_to_ascii(unicode)
        .ok()
        .filter(|a| !a.is_empty() && !a.contains('.'))
}

impl Index {
    pub fn new(protected: Vec<Protected>) -> Index {
        let mut deletes: FastMap<String, Vec<usize>> = FastMap::default();
        let mut skeletons: FastMap<String, Vec<usize>> = FastMap::default();
        let mut layouts: FastMap<String, Vec<(usize, &'static str)>> = FastMap::default();
        let mut labels: FastMap<String, Vec<usize>> = FastMap::default();
        let mut pattern_of: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<Vec<usize>> = Vec::new();
        let mut pattern_text: Vec<String> = Vec::new();
        for (i, p) in protected.iter().enumerate() {
            let label = &p.name.label;
            labels.entry(label.clone()).or_default().push(i);
            skeletons
                .entry(skeleton(&p.name.label_unicode))
                .or_default()
                .push(i);
            if label.chars().count() > SHORT_LABEL {
                for d in deletions(label) {
                    deletes.entry(d).or_default().push(i);
                }
            }
            // Typed with the Korean mode on (a Latin label), or off (a Hangul label).
            if let Some(hangul) = keyboard::typed_in_korean(label)
                && let Some(ascii) = punycode_label(&hangul)
            {
                layouts
                    .entry(ascii)
                    .or_default()
                    .push((i, "typed with the Korean (Dubeolsik) layout on"));
            }
            if let Some(latin) = keyboard::typed_in_latin(&p.name.label_unicode) {
                layouts
                    .entry(latin)
                    .or_default()
                    .push((i, "typed with the Korean layout off"));
            }
            if label.len() >= 3 {
                let n = *pattern_of.entry(label.clone()).or_insert_with(|| {
                    patterns.push(Vec::new());
                    pattern_text.push(label.clone());
                    patterns.len() - 1
                });
                patterns[n].push(i);
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&pattern_text)
            .expect("protected labels build an automaton");
        Index {
            owned: protected
                .iter()
                .map(|p| p.name.registrable.clone())
                .collect(),
            protected,
            deletes,
            skeletons,
            layouts,
            labels,
            automaton,
            patterns,
        }
    }

    pub fn protected(&self) -> &[Protected] {
        &self.protected
    }

    /// Every look-alike `name` is of a protected name (one finding per target and kind).
    pub fn check(&self, name: &Name) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        if self.owned.contains(&name.registrable) {
            return out;
        }
        let mut push = |i: usize, kind: &'static str, score: f32, evidence: String| {
            let p = &self.protected[i];
            if out
                .iter()
                .any(|f| f.tenant == p.tenant && f.target == p.name.registrable && f.kind == kind)
            {
                return;
            }
            out.push(Finding {
                domain: name.ascii.clone(),
                unicode: (name.unicode != name.ascii).then(|| name.unicode.clone()),
                kind,
                target: p.name.registrable.clone(),
                tenant: p.tenant.clone(),
                score,
                evidence,
            });
        };
        let label = name.label.as_str();
        // The same label elsewhere.
        if let Some(list) = self.labels.get(label) {
            for &i in list {
                let p = &self.protected[i].name;
                // A Korean second-level swap (`go.kr` ↔ `or.kr`) is the deceptive one; the
                // same word under a foreign suffix is most often someone else's name.
                let both_korean = korean(&p.suffix) && korean(&name.suffix);
                if label.chars().count() > SHORT_LABEL || both_korean {
                    let score = if both_korean { 0.9 } else { 0.6 };
                    push(
                        i,
                        "tld-swap",
                        score,
                        format!("{} instead of {}", name.suffix, p.suffix),
                    );
                }
            }
        }
        // One edit away (long labels only).
        if label.chars().count() + 1 > SHORT_LABEL {
            let mut candidates: Vec<usize> = Vec::new();
            if let Some(list) = self.deletes.get(label) {
                candidates.extend(list);
            }
            // Each single deletion, built in one buffer.
            let mut buf = String::with_capacity(label.len());
            for (i, c) in label.char_indices() {
                buf.clear();
                buf.push_str(&label[..i]);
                buf.push_str(&label[i + c.len_utf8()..]);
                if let Some(list) = self.deletes.get(buf.as_str()) {
                    candidates.extend(list);
                }
            }
            candidates.sort_unstable();
            candidates.dedup();
            for i in candidates {
                let target = self.protected[i].name.label.as_str();
                if target == label {
                    continue;
                }
                if let Some((kind, evidence)) = one_edit(target, label) {
                    let mut score = match kind {
                        "keyboard" | "bitsquat" => 0.85,
                        _ => 0.8,
                    };
                    // Swapped letters seldom make another word; the other edits of a
                    // short label often do.
                    let swapped = evidence.contains("swapped");
                    if target.chars().count() <= MEDIUM_LABEL && !korean(&name.suffix) && !swapped {
                        score -= 0.25;
                    }
                    push(i, kind, score, evidence);
                }
            }
        }
        // Homoglyphs: the same skeleton, other characters.
        let sk = skeleton(&name.label_unicode);
        if let Some(list) = self.skeletons.get(&sk) {
            for &i in list {
                if self.protected[i].name.label_unicode != name.label_unicode {
                    push(
                        i,
                        "homoglyph",
                        0.95,
                        format!(
                            "'{}' looks like '{}' (UTS #39 skeleton '{sk}')",
                            name.label_unicode, self.protected[i].name.label_unicode
                        ),
                    );
                }
            }
        }
        if let Some(list) = self.layouts.get(label) {
            for &(i, how) in list {
                push(
                    i,
                    "keyboard",
                    0.9,
                    format!(
                        "'{}' is '{}' {how}",
                        name.label_unicode, self.protected[i].name.label_unicode
                    ),
                );
            }
        }
        // Combosquats: the protected label inside a longer label, or as a label of
        // another registrable domain.
        for m in self.automaton.find_iter(label) {
            if m.start() == 0 && m.end() == label.len() {
                continue;
            }
            let bounded = (m.start() == 0 || label.as_bytes()[m.start() - 1] == b'-')
                && (m.end() == label.len() || label.as_bytes()[m.end()] == b'-');
            for &i in &self.patterns[m.pattern().as_usize()] {
                let p = &self.protected[i].name;
                let len = p.label.chars().count();
                // A short label is a common syllable: only with its Korean context
                // (`gov-kr-…`, `ibk-co-kr`) or under a Korean suffix.
                let context = korean(&name.suffix) || korean_context(label, &p.suffix);
                if len <= SHORT_LABEL && !(bounded && context) {
                    continue;
                }
                let score = match (bounded, context) {
                    (true, true) => 0.85,
                    (true, false) => 0.75,
                    (false, true) => 0.7,
                    (false, false) => 0.5,
                };
                if bounded || len >= MEDIUM_LABEL {
                    push(
                        i,
                        "combosquat",
                        score,
                        format!("'{}' inside '{label}'", p.label),
                    );
                }
            }
        }
        for sub in name.subdomain.split('.').filter(|s| !s.is_empty()) {
            if let Some(list) = self.labels.get(sub) {
                for &i in list {
                    if self.protected[i].name.label.chars().count() > SHORT_LABEL {
                        push(
                            i,
                            "combosquat",
                            0.7,
                            format!("'{sub}' as a subdomain of {}", name.registrable),
                        );
                    }
                }
            }
        }
        out
    }
}

/// Whether the label carries the protected suffix as whole hyphen-separated tokens
/// (`seoul-go-kr-login` for `go.kr`, `ibk-cokr` for `co.kr`).
fn korean_context(label: &str, suffix: &str) -> bool {
    let tokens: Vec<&str> = label.split('-').collect();
    let parts: Vec<&str> = suffix.split('.').collect();
    let joined = parts.concat();
    tokens.windows(parts.len()).any(|w| w == parts.as_slice()) || tokens.contains(&joined.as_str())
}

/// How `candidate` is one edit from `target`, if it is: the kind and the change.
pub fn one_edit(target: &str, candidate: &str) -> Option<(&'static str, String)> {
    let t: Vec<char> = target.chars().collect();
    let c: Vec<char> = candidate.chars().collect();
    let prefix = t.iter().zip(&c).take_while(|(a, b)| a == b).count();
    match c.len() as i64 - t.len() as i64 {
        0 => {
            let diff: Vec<usize> = (0..t.len()).filter(|&i| t[i] != c[i]).collect();
            match diff.as_slice() {
                [i] => {
                    let (a, b) = (t[*i], c[*i]);
                    if keyboard::adjacent(a, b) {
                        Some((
                            "keyboard",
                            format!(
                                "'{b}' for '{a}', its neighbour on the keyboard, at {}",
                                i + 1
                            ),
                        ))
                    } else if (a as u32 ^ b as u32).count_ones() == 1 {
                        Some((
                            "bitsquat",
                            format!("'{b}' for '{a}', one bit apart, at {}", i + 1),
                        ))
                    } else {
                        Some(("typosquat", format!("'{b}' for '{a}' at {}", i + 1)))
                    }
                }
                [i, j] if *j == i + 1 && t[*i] == c[*j] && t[*j] == c[*i] => Some((
                    "typosquat",
                    format!("'{}{}' swapped at {}", t[*i], t[*j], i + 1),
                )),
                _ => None,
            }
        }
        1 => {
            // An insertion at `prefix`: the rest must line up.
            (c[prefix + 1..] == t[prefix..]).then(|| {
                let what = if prefix > 0 && c[prefix] == c[prefix - 1]
                    || c.get(prefix + 1) == Some(&c[prefix])
                {
                    "repeated"
                } else {
                    "inserted"
                };
                (
                    "typosquat",
                    format!("'{}' {what} at {}", c[prefix], prefix + 1),
                )
            })
        }
        -1 => (t[prefix + 1..] == c[prefix..]).then(|| {
            (
                "typosquat",
                format!("'{}' left out at {}", t[prefix], prefix + 1),
            )
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::parse;

    fn index() -> Index {
        Index::new(
            [
                ("seoul_city", "seoul.go.kr"),
                ("kb", "kbstar.com"),
                ("ibk", "ibk.co.kr"),
                ("nts", "hometax.go.kr"),
                ("citi", "citibank.co.kr"),
                ("gov24", "gov.kr"),
            ]
            .iter()
            .map(|(t, d)| Protected {
                tenant: t.to_string(),
                name: parse(d).unwrap(),
            })
            .collect(),
        )
    }

    fn kinds(name: &str) -> Vec<(&'static str, String)> {
        index()
            .check(&parse(name).unwrap())
            .into_iter()
            .map(|f| (f.kind, f.target))
            .collect()
    }

    #[test]
    fn edits_are_named_by_what_slipped() {
        assert_eq!(kinds("kbstra.com"), [("typosquat", "kbstar.com".into())]);
        assert_eq!(kinds("kbsrar.com"), [("keyboard", "kbstar.com".into())]);
        assert_eq!(kinds("kbstcr.com"), [("bitsquat", "kbstar.com".into())]);
        assert_eq!(kinds("kbbstar.com"), [("typosquat", "kbstar.com".into())]);
        assert_eq!(
            kinds("hometx.go.kr"),
            [("typosquat", "hometax.go.kr".into())]
        );
        assert!(
            one_edit("kbstar", "kbbstar")
                .unwrap()
                .1
                .contains("repeated")
        );
    }

    #[test]
    fn owned_names_and_unrelated_names_are_quiet() {
        assert!(kinds("www.kbstar.com").is_empty());
        assert!(kinds("seoul.go.kr").is_empty());
        assert!(kinds("naver.com").is_empty());
        assert!(
            kinds("ibkmall.com").is_empty(),
            "short labels need separators"
        );
        assert!(
            kinds("ibc.co.kr").is_empty(),
            "short labels get no edit distance"
        );
        assert!(
            kinds("ibk.com").is_empty(),
            "short labels swap only among Korean suffixes"
        );
    }

    #[test]
    fn swaps_combos_homoglyphs_and_layouts() {
        assert_eq!(kinds("seoul.or.kr"), [("tld-swap", "seoul.go.kr".into())]);
        assert_eq!(kinds("ibk.or.kr"), [("tld-swap", "ibk.co.kr".into())]);
        assert_eq!(kinds("kbstar.net"), [("tld-swap", "kbstar.com".into())]);
        assert_eq!(
            kinds("seoul-go-kr-login.com"),
            [("combosquat", "seoul.go.kr".into())]
        );
        assert!(
            kinds("ibk-secure.com").is_empty(),
            "a short label needs its Korean context"
        );
        assert!(
            kinds("gov-krzq.com").is_empty(),
            "the context is whole tokens"
        );
        assert_eq!(
            kinds("ibk-co-kr-secure.com"),
            [("combosquat", "ibk.co.kr".into())]
        );
        assert_eq!(
            kinds("gov-kr-verify.top"),
            [("combosquat", "gov.kr".into())]
        );
        assert_eq!(
            kinds("citibankonlline.com"),
            [("combosquat", "citibank.co.kr".into())]
        );
        assert_eq!(
            kinds("hometax.wuaze.com"),
            [("combosquat", "hometax.go.kr".into())]
        );
        // Cyrillic 'ѕ' and 'о' for Latin s and o.
        assert_eq!(kinds("kbѕtar.com"), [("homoglyph", "kbstar.com".into())]);
        assert_eq!(
            kinds("login.kbstar.example.com"),
            [("combosquat", "kbstar.com".into())]
        );
        // 서울 typed with the Korean layout off.
        let hangul = Index::new(vec![Protected {
            tenant: "seoul_city".into(),
            name: parse("서울.kr").unwrap(),
        }]);
        let f = hangul.check(&parse("tjdnf.com").unwrap());
        assert_eq!(
            (f[0].kind, f[0].target.as_str()),
            ("keyboard", "xn--2i4bq6h.kr")
        );
    }
}
