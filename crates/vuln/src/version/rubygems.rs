//! RubyGems' `Gem::Version`: `-` means `.pre.`, segments are runs of digits or of
//! letters, a letter segment makes a pre-release (it orders before any number), and
//! trailing zeros of the numeric and of the pre-release part do not count.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Num(u128),
    Str(String),
}

#[derive(Clone, Debug)]
pub struct GemVersion {
    canonical: Vec<Segment>,
}

impl GemVersion {
    /// Accepts what `Gem::Version.correct?` accepts:
    /// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`.
    pub fn parse(text: &str) -> Result<GemVersion, String> {
        if !correct(text) {
            return Err("not digits, then dot-separated letters and digits".into());
        }
        let replaced = text.replace('-', ".pre.");
        let mut segments = Vec::new();
        let mut rest = replaced.as_str();
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphanumeric()) {
            rest = &rest[start..];
            let digits = rest.starts_with(|c: char| c.is_ascii_digit());
            let end = rest
                .find(|c: char| {
                    !(if digits {
                        c.is_ascii_digit()
                    } else {
                        c.is_ascii_alphabetic()
                    })
                })
                .unwrap_or(rest.len());
            let token = &rest[..end];
            segments.push(if digits {
                Segment::Num(
                    token
                        .parse()
                        .map_err(|_| format!("segment '{token}' is too large"))?,
                )
            } else {
                Segment::Str(token.to_owned())
            });
            rest = &rest[end..];
        }
        Ok(GemVersion {
            canonical: canonical(segments),
        })
    }
}

fn correct(text: &str) -> bool {
    let (release, pre) = match text.split_once('-') {
        Some((r, p)) => (r, Some(p)),
        None => (text, None),
    };
    let mut parts = release.split('.');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|p| {
        p.split('.')
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

/// Splits at the first letter segment and drops trailing zeros of both halves.
fn canonical(segments: Vec<Segment>) -> Vec<Segment> {
    let split = segments
        .iter()
        .position(|s| matches!(s, Segment::Str(_)))
        .unwrap_or(segments.len());
    let (numeric, string) = segments.split_at(split);
    let trim = |part: &[Segment]| {
        let mut v = part.to_vec();
        while v.last() == Some(&Segment::Num(0)) {
            v.pop();
        }
        v
    };
    let mut out = trim(numeric);
    out.extend(trim(string));
    out
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Num(0);
        let (a, b) = (&self.canonical, &other.canonical);
        for i in 0..a.len().max(b.len()) {
            let l = a.get(i).unwrap_or(&zero);
            let r = b.get(i).unwrap_or(&zero);
            let order = match (l, r) {
                (Segment::Num(x), Segment::Num(y)) => x.cmp(y),
                (Segment::Str(x), Segment::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
                (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
                (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
            };
            if order.is_ne() {
                return order;
            }
        }
        Ordering::Equal
    }
}
impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for GemVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ord(a: &str, b: &str) -> Ordering {
        GemVersion::parse(a)
            .unwrap()
            .cmp(&GemVersion::parse(b).unwrap())
    }

    #[test]
    fn gem_version_orderings() {
        assert_eq!(ord("1.0.a", "1.0"), Ordering::Less);
        assert_eq!(ord("1.0.0", "1"), Ordering::Equal);
        assert_eq!(ord("1.0-rc1", "1.0.pre.rc1"), Ordering::Equal);
        assert_eq!(ord("1.9.3", "1.10"), Ordering::Less);
        assert_eq!(ord("5.2.4.3", "5.2.4.b"), Ordering::Greater);
        assert!(GemVersion::parse("v1.0").is_err());
        assert!(GemVersion::parse("1..0").is_err());
    }
}
