//! NuGet.Versioning: `Major.Minor[.Patch[.Revision]]`, SemVer 2.0 pre-release labels
//! compared case-insensitively, metadata ignored, a missing part counts as zero.

use std::cmp::Ordering;

#[derive(Clone, Debug)]
pub struct NuGetVersion {
    numbers: [u64; 4],
    pre: Vec<String>,
}

impl NuGetVersion {
    pub fn parse(text: &str) -> Result<NuGetVersion, String> {
        let text = text.split_once('+').map_or(text, |(core, _)| core);
        let (core, pre) = match text.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (text, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return Err("one to four numeric parts expected".into());
        }
        let mut numbers = [0u64; 4];
        for (i, p) in parts.iter().enumerate() {
            numbers[i] = p.parse().map_err(|_| format!("'{p}' is not a number"))?;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) => {
                let labels: Vec<String> = p.split('.').map(str::to_ascii_lowercase).collect();
                if labels.iter().any(|l| {
                    l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }) {
                    return Err(format!("invalid pre-release '{p}'"));
                }
                labels
            }
        };
        Ok(NuGetVersion { numbers, pre })
    }
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let o = cmp_label(a, b);
                        if o.is_ne() {
                            return o;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            }
        })
    }
}
impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for NuGetVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nuget_orderings() {
        let p = |s| NuGetVersion::parse(s).unwrap();
        assert_eq!(p("1.0").cmp(&p("1.0.0.0")), Ordering::Equal);
        assert_eq!(p("1.0.0-Beta").cmp(&p("1.0.0-beta")), Ordering::Equal);
        assert_eq!(p("1.0.0-beta.2").cmp(&p("1.0.0-beta.10")), Ordering::Less);
        assert_eq!(p("1.0.0.1").cmp(&p("1.0.0")), Ordering::Greater);
        assert_eq!(p("1.0.0+meta").cmp(&p("1.0.0")), Ordering::Equal);
    }
}
