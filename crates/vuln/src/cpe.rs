//! CPE matching, the fallback for components that have no package URL: the NVD's CVE
//! records (API 2.0 responses and the legacy 1.1 feeds) give, per CVE, the CPE criteria
//! and version ranges of vulnerable products; a component whose SBOM entry carries a CPE
//! (and no purl) is matched against them by vendor and product and a version order that
//! is only a guess (dotted numbers, then text). Those findings are marked low-confidence:
//! CPE vendor and product names are assigned loosely, and the version order of the
//! product is unknown — the source of the false positives Dependency-Track and Wazuh
//! are known for. A component with a purl is never matched this way.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One vulnerable CPE range of a CVE.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpeRange {
    pub cve: String,
    /// `a` application, `o` operating system, `h` hardware.
    pub part: String,
    pub vendor: String,
    pub product: String,
    /// The criteria's own version (`*`: any, with the bounds below).
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_including: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_excluding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_including: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_excluding: Option<String>,
    /// The criteria as written.
    pub criteria: String,
    #[serde(default)]
    pub summary: String,
}

/// A parsed CPE name: part, vendor, product, version (the rest is not used).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cpe {
    pub part: String,
    pub vendor: String,
    pub product: String,
    pub version: String,
}

/// Splits on unescaped `:`, undoing `\` escapes.
fn fields(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ':' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parses a CPE 2.3 formatted string (`cpe:2.3:a:apache:log4j:2.14.1:*:…`) or a CPE 2.2
/// URI (`cpe:/a:apache:log4j:2.14.1`).
pub fn parse(s: &str) -> Option<Cpe> {
    let (part, vendor, product, version) = if let Some(rest) = s.strip_prefix("cpe:2.3:") {
        let f = fields(rest);
        if f.len() < 4 {
            return None;
        }
        (f[0].clone(), f[1].clone(), f[2].clone(), f[3].clone())
    } else if let Some(rest) = s.strip_prefix("cpe:/") {
        let f: Vec<&str> = rest.split(':').collect();
        if f.len() < 3 {
            return None;
        }
        let version = f.get(3).copied().unwrap_or("*");
        (
            f[0].to_owned(),
            f[1].to_owned(),
            f[2].to_owned(),
            version.to_owned(),
        )
    } else {
        return None;
    };
    if !matches!(part.as_str(), "a" | "o" | "h") || vendor.is_empty() || product.is_empty() {
        return None;
    }
    let lower = |s: String| s.to_ascii_lowercase();
    Some(Cpe {
        part,
        vendor: lower(vendor),
        product: lower(product),
        version: if version.is_empty() {
            "*".into()
        } else {
            version
        },
    })
}

/// The guessed version order: dotted and dashed parts, numbers numerically, text
/// lexically, a number part after a text part, missing zero parts equal (`1.2` = `1.2.0`).
/// It is right for most products and wrong for some, which is why CPE findings are
/// low-confidence.
pub fn compare(a: &str, b: &str) -> Ordering {
    let split = |s: &str| -> Vec<String> {
        let mut parts = Vec::new();
        let mut cur = String::new();
        let mut digit = None;
        for c in s.chars() {
            if matches!(c, '.' | '-' | '_' | '+') {
                if !cur.is_empty() {
                    parts.push(std::mem::take(&mut cur));
                }
                digit = None;
                continue;
            }
            let d = c.is_ascii_digit();
            if digit.is_some_and(|x| x != d) && !cur.is_empty() {
                parts.push(std::mem::take(&mut cur));
            }
            digit = Some(d);
            cur.push(c.to_ascii_lowercase());
        }
        if !cur.is_empty() {
            parts.push(cur);
        }
        parts
    };
    let (pa, pb) = (split(a), split(b));
    for i in 0..pa.len().max(pb.len()) {
        let (x, y) = (pa.get(i), pb.get(i));
        let o = match (x, y) {
            (Some(x), Some(y)) => match (x.parse::<u64>(), y.parse::<u64>()) {
                (Ok(m), Ok(n)) => m.cmp(&n),
                (Ok(_), Err(_)) => Ordering::Greater,
                (Err(_), Ok(_)) => Ordering::Less,
                _ => x.cmp(y),
            },
            // `1.2` and `1.2.0` are the same; `1.2` before `1.2.1`.
            (Some(x), None) => {
                if x.chars().all(|c| c == '0') {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (None, Some(y)) => {
                if y.chars().all(|c| c == '0') {
                    Ordering::Equal
                } else {
                    Ordering::Less
                }
            }
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl CpeRange {
    /// Whether the component's CPE falls in this range.
    pub fn matches(&self, c: &Cpe) -> bool {
        if c.part != self.part || c.vendor != self.vendor || c.product != self.product {
            return false;
        }
        if matches!(c.version.as_str(), "*" | "-" | "") {
            return false; // a component of unknown version is not called vulnerable
        }
        if !matches!(self.version.as_str(), "*" | "-") {
            return compare(&c.version, &self.version) == Ordering::Equal;
        }
        // `*` without bounds: every version (the NVD's meaning).
        let v = c.version.as_str();
        self.start_including
            .as_deref()
            .is_none_or(|s| compare(v, s) != Ordering::Less)
            && self
                .start_excluding
                .as_deref()
                .is_none_or(|s| compare(v, s) == Ordering::Greater)
            && self
                .end_including
                .as_deref()
                .is_none_or(|e| compare(v, e) != Ordering::Greater)
            && self
                .end_excluding
                .as_deref()
                .is_none_or(|e| compare(v, e) == Ordering::Less)
    }
}

/// The vulnerable CPE ranges of an NVD document (an API 2.0 response or a 1.1 feed), or
/// `None` when it is neither.
pub fn from_nvd(doc: &serde_json::Value) -> Option<Result<Vec<CpeRange>, String>> {
    let (items, legacy) = if let Some(v) = doc.get("vulnerabilities").and_then(|v| v.as_array())
        && v.iter().all(|x| x.get("cve").is_some())
        && !v.is_empty()
    {
        (v, false)
    } else if let Some(v) = doc.get("CVE_Items").and_then(|v| v.as_array()) {
        (v, true)
    } else {
        return None;
    };
    let mut out = Vec::new();
    for item in items {
        let (id, summary, nodes): (Option<&str>, String, Vec<&serde_json::Value>) = if legacy {
            let id = item
                .pointer("/cve/CVE_data_meta/ID")
                .and_then(|v| v.as_str());
            let summary = item
                .pointer("/cve/description/description_data/0/value")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            let nodes = item
                .pointer("/configurations/nodes")
                .and_then(|v| v.as_array())
                .map(|n| n.iter().collect())
                .unwrap_or_default();
            (id, summary, nodes)
        } else {
            let cve = &item["cve"];
            let id = cve.get("id").and_then(|v| v.as_str());
            let summary = cve
                .get("descriptions")
                .and_then(|d| d.as_array())
                .and_then(|d| d.iter().find(|x| x["lang"] == "en"))
                .and_then(|x| x["value"].as_str())
                .unwrap_or_default()
                .to_owned();
            let nodes = cve
                .get("configurations")
                .and_then(|c| c.as_array())
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c.get("nodes").and_then(|n| n.as_array()))
                        .flatten()
                        .collect()
                })
                .unwrap_or_default();
            (id, summary, nodes)
        };
        let Some(id) = id.filter(|i| i.starts_with("CVE-")) else {
            return Some(Err(format!(
                "an NVD item without a CVE id: {:.200}",
                item.to_string()
            )));
        };
        let mut stack = nodes;
        while let Some(node) = stack.pop() {
            if node.get("negate").and_then(|n| n.as_bool()) == Some(true) {
                continue;
            }
            if let Some(children) = node.get("children").and_then(|c| c.as_array()) {
                stack.extend(children);
            }
            let matches = node
                .get(if legacy { "cpe_match" } else { "cpeMatch" })
                .and_then(|m| m.as_array())
                .map(|m| m.iter().collect::<Vec<_>>())
                .unwrap_or_default();
            for m in matches {
                if m.get("vulnerable").and_then(|v| v.as_bool()) != Some(true) {
                    continue;
                }
                let criteria = m
                    .get(if legacy { "cpe23Uri" } else { "criteria" })
                    .and_then(|c| c.as_str())
                    .unwrap_or_default();
                let Some(cpe) = parse(criteria) else {
                    continue;
                };
                let bound = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_owned);
                out.push(CpeRange {
                    cve: id.to_owned(),
                    part: cpe.part,
                    vendor: cpe.vendor,
                    product: cpe.product,
                    version: cpe.version,
                    start_including: bound("versionStartIncluding"),
                    start_excluding: bound("versionStartExcluding"),
                    end_including: bound("versionEndIncluding"),
                    end_excluding: bound("versionEndExcluding"),
                    criteria: criteria.to_owned(),
                    summary: summary.chars().take(500).collect(),
                });
            }
        }
    }
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cpe_forms_parse_with_escapes() {
        let c = parse("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*").unwrap();
        assert_eq!(
            (c.vendor.as_str(), c.product.as_str(), c.version.as_str()),
            ("apache", "log4j", "2.14.1")
        );
        let c = parse(r"cpe:2.3:a:apache:xerces-c\+\+:3.2.3:*:*:*:*:*:*:*").unwrap();
        assert_eq!(c.product, "xerces-c++");
        let c = parse("cpe:/a:openssl:openssl:1.0.1f").unwrap();
        assert_eq!((c.part.as_str(), c.version.as_str()), ("a", "1.0.1f"));
        assert!(parse("cpe:2.3:x:a:b:1").is_none());
        assert!(parse("pkg:npm/x@1").is_none());
    }

    #[test]
    fn the_guessed_order_is_numeric_by_part() {
        assert_eq!(compare("2.14.1", "2.15.0"), Ordering::Less);
        assert_eq!(compare("2.10", "2.9"), Ordering::Greater);
        assert_eq!(compare("1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(compare("1.0.1f", "1.0.1g"), Ordering::Less);
        assert_eq!(compare("1.0.2", "1.0.1g"), Ordering::Greater);
    }

    #[test]
    fn ranges_are_bounded_or_exact_and_star_means_every_version() {
        let r = CpeRange {
            cve: "CVE-2021-44228".into(),
            part: "a".into(),
            vendor: "apache".into(),
            product: "log4j".into(),
            version: "*".into(),
            start_including: Some("2.13.0".into()),
            start_excluding: None,
            end_including: None,
            end_excluding: Some("2.15.0".into()),
            criteria: String::new(),
            summary: String::new(),
        };
        let c = |v: &str| parse(&format!("cpe:2.3:a:apache:log4j:{v}:*:*:*:*:*:*:*")).unwrap();
        assert!(r.matches(&c("2.14.1")));
        assert!(!r.matches(&c("2.15.0")));
        assert!(!r.matches(&c("2.12.4")));
        assert!(!r.matches(&c("*")), "unknown version");
        let unbounded = CpeRange {
            start_including: None,
            end_excluding: None,
            ..r
        };
        assert!(
            unbounded.matches(&c("1.0")),
            "`*` with no bound: every version"
        );
        let exact = CpeRange {
            version: "2.14.1".into(),
            ..unbounded
        };
        assert!(exact.matches(&c("2.14.1")) && !exact.matches(&c("2.14.2")));
    }
}
