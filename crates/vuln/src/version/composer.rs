//! Packagist versions as Composer orders them: `VersionParser::normalize` (a `v` prefix
//! dropped, four numeric parts, stability suffixes `alpha|beta|RC|patch` with their
//! short forms, `-dev`), then PHP's `version_compare` on the normalised strings.
//! Branch names (`dev-main`) have no order and are refused.

use std::cmp::Ordering;

#[derive(Clone, Debug)]
pub struct ComposerVersion {
    normalized: String,
}

impl ComposerVersion {
    pub fn parse(text: &str) -> Result<ComposerVersion, String> {
        normalize(text).map(|normalized| ComposerVersion { normalized })
    }
}

const MODIFIER: &str =
    r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*)?)?([.-]?dev)?";

struct Patterns {
    classical: regex::Regex,
    date: regex::Regex,
    branch: regex::Regex,
    dev_suffix: regex::Regex,
}

/// Composer's own patterns (VersionParser), compiled once.
fn patterns() -> &'static Patterns {
    static P: std::sync::OnceLock<Patterns> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let re = |p: String| regex::Regex::new(&p).expect("Composer's patterns compile");
        Patterns {
            classical: re(format!(
                r"(?i)^v?(\d{{1,5}})(\.\d+)?(\.\d+)?(\.\d+)?{MODIFIER}$"
            )),
            date: re(format!(
                r"(?i)^v?(\d{{4}}(?:[.:-]?\d{{2}}){{1,6}}(?:[.:-]?\d{{1,3}}){{0,2}}){MODIFIER}$"
            )),
            branch: re(r"(?i)^v?(\d+)(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?(\.(?:\d+|[x*]))?$".into()),
            dev_suffix: re(r"(?i)^(.*?)[.-]?dev$".into()),
        }
    })
}

/// `VersionParser::normalize`, step by step as Composer does it.
fn normalize(text: &str) -> Result<String, String> {
    let mut v = text.trim();
    if let Some((before, after)) = v.split_once(" as ")
        && !before.trim().contains([',', ' '])
        && !after.trim().contains([',', ' '])
    {
        v = before.trim();
    }
    let lower = v.to_ascii_lowercase();
    for flag in ["@stable", "@rc", "@beta", "@alpha", "@dev"] {
        if lower.ends_with(flag) {
            v = &v[..v.len() - flag.len()];
            break;
        }
    }
    if matches!(v, "master" | "trunk" | "default") || v.to_ascii_lowercase().starts_with("dev-") {
        return Err("a branch, not a release".into());
    }
    if let Some((core, meta)) = v.split_once('+')
        && !core.is_empty()
        && !core.contains([',', ' ', '\t'])
        && !meta.is_empty()
        && !meta.contains(char::is_whitespace)
    {
        v = core;
    }
    let p = patterns();
    let (mut version, caps, index) = if let Some(c) = p.classical.captures(v) {
        let part = |i: usize| c.get(i).map_or(".0", |m| m.as_str()).to_owned();
        (format!("{}{}{}{}", &c[1], part(2), part(3), part(4)), c, 5)
    } else if let Some(c) = p.date.captures(v) {
        let digits: String = c[1]
            .chars()
            .map(|ch| if ch.is_ascii_digit() { ch } else { '.' })
            .collect();
        (digits, c, 2)
    } else {
        return normalize_dev_branch(v);
    };
    if let Some(stability) = caps
        .get(index)
        .map(|m| m.as_str())
        .filter(|s| !s.is_empty())
    {
        // Composer compares this one case-sensitively.
        if stability == "stable" {
            return Ok(version);
        }
        version.push('-');
        version.push_str(expand_stability(stability));
        if let Some(n) = caps.get(index + 1) {
            version.push_str(n.as_str().trim_start_matches(['.', '-']));
        }
    }
    if caps.get(index + 2).is_some_and(|m| !m.as_str().is_empty()) {
        version.push_str("-dev");
    }
    Ok(version)
}

fn expand_stability(s: &str) -> &'static str {
    match s.to_ascii_lowercase().as_str() {
        "a" | "alpha" => "alpha",
        "b" | "beta" => "beta",
        "p" | "pl" | "patch" => "patch",
        "rc" => "RC",
        _ => "stable",
    }
}

/// `1.0.x-dev` and the like: a numeric branch, which orders as its highest version.
fn normalize_dev_branch(v: &str) -> Result<String, String> {
    let p = patterns();
    let name = p
        .dev_suffix
        .captures(v)
        .map(|c| c.get(1).map_or("", |m| m.as_str()).to_owned())
        .ok_or_else(|| "not a version Composer can normalise".to_owned())?;
    let c = p
        .branch
        .captures(&name)
        .ok_or_else(|| "a branch, not a release".to_owned())?;
    let mut out = String::new();
    for i in 1..=4 {
        let part = c.get(i).map_or(".x", |m| m.as_str());
        out.push_str(&part.replace(['*', 'X'], "x"));
    }
    Ok(out.replace('x', "9999999") + "-dev")
}

/// PHP's `version_compare` on canonicalised strings.
fn php_version_compare(a: &str, b: &str) -> Ordering {
    let pa = canonical_parts(a);
    let pb = canonical_parts(b);
    for i in 0..pa.len().max(pb.len()) {
        let order = match (pa.get(i), pb.get(i)) {
            (Some(x), Some(y)) => cmp_part(x, y),
            (Some(x), None) => {
                if is_number(x) {
                    Ordering::Greater
                } else {
                    cmp_part(x, "#")
                }
            }
            (None, Some(y)) => {
                if is_number(y) {
                    Ordering::Less
                } else {
                    cmp_part("#", y)
                }
            }
            (None, None) => Ordering::Equal,
        };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

fn is_number(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
}

fn cmp_part(x: &str, y: &str) -> Ordering {
    match (is_number(x), is_number(y)) {
        (true, true) => {
            let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (true, false) => special_form("#").cmp(&special_form(y)),
        (false, true) => special_form(x).cmp(&special_form("#")),
        (false, false) => special_form(x).cmp(&special_form(y)),
    }
}

/// PHP's special forms: `dev < alpha = a < beta = b < RC = rc < # (a number) < pl = p`;
/// anything else orders first. A form matches when it is a prefix of the part.
fn special_form(p: &str) -> i8 {
    const FORMS: [(&str, i8); 9] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
    ];
    for (name, order) in FORMS {
        if p.starts_with(name) {
            return order;
        }
    }
    if p.starts_with('p') {
        return 5;
    }
    -6
}

/// PHP's `php_canonicalize_version`: `-`, `_`, `+` and any other non-alphanumeric
/// character become one `.`, and a `.` goes between a digit and a non-digit.
fn canonical_parts(v: &str) -> Vec<String> {
    let bytes = v.as_bytes();
    let Some(&first) = bytes.first() else {
        return Vec::new();
    };
    let is_dig = |c: u8| c.is_ascii_digit();
    let is_ndig = |c: u8| !c.is_ascii_digit() && c != b'.';
    let mut s: Vec<u8> = vec![first];
    let mut lp = first;
    for &c in &bytes[1..] {
        let last = *s.last().expect("not empty");
        if matches!(c, b'-' | b'_' | b'+') {
            if last != b'.' {
                s.push(b'.');
            }
        } else if (is_ndig(lp) && is_dig(c)) || (is_dig(lp) && is_ndig(c)) {
            if last != b'.' {
                s.push(b'.');
            }
            s.push(c);
        } else if !c.is_ascii_alphanumeric() {
            if last != b'.' {
                s.push(b'.');
            }
        } else {
            s.push(c);
        }
        lp = c;
    }
    String::from_utf8_lossy(&s)
        .split('.')
        .map(str::to_owned)
        .collect()
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        php_version_compare(&self.normalized, &other.normalized)
    }
}
impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for ComposerVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composer_normalises_like_version_parser() {
        let n = |v: &str| normalize(v).unwrap();
        assert_eq!(n("v2.0"), "2.0.0.0");
        assert_eq!(n("1.0.0-beta2"), "1.0.0.0-beta2");
        assert_eq!(n("1.0.0b2"), "1.0.0.0-beta2");
        assert_eq!(n("1.0.0-rc1"), "1.0.0.0-RC1");
        assert_eq!(n("1.0.0-pl1"), "1.0.0.0-patch1");
        assert_eq!(n("1.2.3-stable"), "1.2.3.0");
        assert!(normalize("dev-master").is_err());
    }

    #[test]
    fn composer_orders_stabilities() {
        let ord = |a: &str, b: &str| {
            ComposerVersion::parse(a)
                .unwrap()
                .cmp(&ComposerVersion::parse(b).unwrap())
        };
        assert_eq!(ord("1.0.0-alpha", "1.0.0-beta"), Ordering::Less);
        assert_eq!(ord("1.0.0-RC1", "1.0.0"), Ordering::Less);
        assert_eq!(ord("1.0.0-patch1", "1.0.0"), Ordering::Greater);
        assert_eq!(ord("1.0", "1.0.0.0"), Ordering::Equal);
        assert_eq!(ord("2.0.20", "2.0.3"), Ordering::Greater);
    }
}
