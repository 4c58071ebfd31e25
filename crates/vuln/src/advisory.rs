//! The advisory model: the OSV schema (the format RustSec, PyPA, Go and GitHub publish),
//! into which the other formats are converted on import, and the evaluation of an
//! affected entry's ranges against one version, with the evidence of the decision.

use crate::Ecosystem;
use crate::version::{self, Version};
use serde::{Deserialize, Deserializer, Serialize};
use std::cmp::Ordering;

/// One advisory in OSV form.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub modified: String,
    #[serde(default, deserialize_with = "nullable")]
    pub published: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub aliases: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub summary: String,
    #[serde(default, deserialize_with = "nullable")]
    pub details: String,
    #[serde(default, deserialize_with = "nullable")]
    pub severity: Vec<Severity>,
    #[serde(default, deserialize_with = "nullable")]
    pub affected: Vec<Affected>,
    #[serde(default, deserialize_with = "nullable")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Severity {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub score: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Package {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default)]
    pub package: Package,
    #[serde(default, deserialize_with = "nullable")]
    pub ranges: Vec<Range>,
    #[serde(default, deserialize_with = "nullable")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// `null` reads as the type's default (OSV writers emit `"aliases": null`).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Advisory {
    /// The CVE ids among the id and the aliases.
    pub fn cves(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|a| a.starts_with("CVE-"))
    }

    /// The CVSS vector of the advisory, newest version first.
    pub fn cvss_vector(&self) -> Option<&str> {
        ["CVSS_V4", "CVSS_V3", "CVSS_V2"].iter().find_map(|k| {
            self.severity
                .iter()
                .find(|s| s.kind == *k)
                .map(|s| s.score.as_str())
        })
    }

    /// RustSec's informational kind (`unmaintained`, `unsound`, `notice`), if any.
    pub fn informational(&self) -> Option<&str> {
        self.affected
            .iter()
            .find_map(|a| a.database_specific.as_ref()?.get("informational")?.as_str())
    }
}

/// What one boundary of a compiled range says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
}

/// A range's events with their versions parsed once, sorted by version (`introduced: 0`
/// first).
#[derive(Clone, Debug)]
pub struct CompiledRange {
    pub kind: String,
    events: Vec<(EventKind, Option<Version>, String)>,
}

/// The affected entry of one advisory for one package, ready to evaluate versions.
#[derive(Clone, Debug)]
pub struct CompiledAffected {
    pub ecosystem: Ecosystem,
    pub ranges: Vec<CompiledRange>,
    /// The explicitly listed affected versions, as written.
    pub versions: Vec<String>,
    /// Boundaries that could not be parsed (the range they belong to is not used).
    pub unparsable: Vec<String>,
}

/// Why a version was found affected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeEvidence {
    /// `SEMVER`, `ECOSYSTEM`, or `versions` for an explicit list.
    pub range_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
}

impl CompiledAffected {
    pub fn compile(ecosystem: Ecosystem, affected: &Affected) -> CompiledAffected {
        let mut ranges = Vec::new();
        let mut unparsable = Vec::new();
        for range in &affected.ranges {
            if range.kind != "SEMVER" && range.kind != "ECOSYSTEM" {
                continue;
            }
            let mut events = Vec::with_capacity(range.events.len());
            let mut ok = true;
            for e in &range.events {
                let (kind, text) = match (&e.introduced, &e.fixed, &e.last_affected) {
                    (Some(t), _, _) => (EventKind::Introduced, t),
                    (_, Some(t), _) => (EventKind::Fixed, t),
                    (_, _, Some(t)) => (EventKind::LastAffected, t),
                    _ => continue, // `limit` bounds GIT ranges only
                };
                if kind == EventKind::Introduced && text == "0" {
                    events.push((kind, None, text.clone()));
                    continue;
                }
                match version::parse(ecosystem, text) {
                    Ok(v) => events.push((kind, Some(v), text.clone())),
                    Err(err) => {
                        unparsable.push(err.to_string());
                        ok = false;
                    }
                }
            }
            if ok {
                events.sort_by(|a, b| match (&a.1, &b.1) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp_same(y),
                });
                ranges.push(CompiledRange {
                    kind: range.kind.clone(),
                    events,
                });
            }
        }
        CompiledAffected {
            ecosystem,
            ranges,
            versions: affected.versions.clone(),
            unparsable,
        }
    }

    /// Whether `version` (written `text`) is affected, by OSV's evaluation: the
    /// explicit list first, then each range's events in version order.
    pub fn affects(&self, version: &Version, text: &str) -> Option<RangeEvidence> {
        if self.versions.iter().any(|v| v == text) {
            return Some(RangeEvidence {
                range_type: "versions".into(),
                introduced: None,
                fixed: None,
                last_affected: None,
            });
        }
        self.ranges.iter().find_map(|r| r.affects(version))
    }

    /// Every `fixed` boundary of the entry, in version order (the upgrade targets). A
    /// Composer bound `X-dev` (how Composer reads `<X`) is the release `X` to upgrade to.
    pub fn fixed_versions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.ranges {
            for (kind, _, text) in &r.events {
                let text = match self.ecosystem {
                    Ecosystem::Packagist => text.strip_suffix("-dev").unwrap_or(text),
                    _ => text,
                };
                if *kind == EventKind::Fixed && !out.iter().any(|o| o == text) {
                    out.push(text.to_owned());
                }
            }
        }
        out
    }
}

impl CompiledRange {
    fn affects(&self, v: &Version) -> Option<RangeEvidence> {
        let mut vulnerable = false;
        let mut introduced: Option<&str> = None;
        for (kind, bound, text) in &self.events {
            let at_or_below =
                |b: &Option<Version>| b.as_ref().is_none_or(|b| b.cmp_same(v).is_le());
            match kind {
                EventKind::Introduced if at_or_below(bound) => {
                    vulnerable = true;
                    introduced = Some(text);
                }
                EventKind::Fixed if at_or_below(bound) => vulnerable = false,
                EventKind::LastAffected
                    if bound.as_ref().is_some_and(|b| b.cmp_same(v).is_lt()) =>
                {
                    vulnerable = false
                }
                _ => {}
            }
        }
        if !vulnerable {
            return None;
        }
        // The boundary that ends the interval the version is in.
        let end = self.events.iter().find(|(kind, bound, _)| {
            *kind != EventKind::Introduced
                && bound.as_ref().is_some_and(|b| {
                    b.cmp_same(v).is_gt()
                        || (*kind == EventKind::LastAffected && b.cmp_same(v).is_eq())
                })
        });
        Some(RangeEvidence {
            range_type: self.kind.clone(),
            introduced: introduced.map(str::to_owned),
            fixed: end.filter(|e| e.0 == EventKind::Fixed).map(|e| e.2.clone()),
            last_affected: end
                .filter(|e| e.0 == EventKind::LastAffected)
                .map(|e| e.2.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affected(json: &str) -> CompiledAffected {
        let a: Affected = serde_json::from_str(json).unwrap();
        CompiledAffected::compile(Ecosystem::PyPI, &a)
    }

    fn hit(c: &CompiledAffected, v: &str) -> Option<RangeEvidence> {
        c.affects(&version::parse(Ecosystem::PyPI, v).unwrap(), v)
    }

    #[test]
    fn ranges_evaluate_as_osv_specifies() {
        let c = affected(
            r#"{"package":{"ecosystem":"PyPI","name":"x"},"ranges":[{"type":"ECOSYSTEM",
            "events":[{"introduced":"5.0"},{"fixed":"5.2"},{"introduced":"4.0"},{"fixed":"4.3"}]}]}"#,
        );
        assert!(hit(&c, "3.9").is_none());
        let e = hit(&c, "4.2.1").unwrap();
        assert_eq!(
            (e.introduced.as_deref(), e.fixed.as_deref()),
            (Some("4.0"), Some("4.3"))
        );
        assert!(hit(&c, "4.3").is_none());
        assert!(hit(&c, "5.1rc1").is_some());
        assert!(hit(&c, "5.2").is_none());
        assert_eq!(c.fixed_versions(), ["4.3", "5.2"]);
    }

    #[test]
    fn last_affected_is_inclusive_and_lists_match_exactly() {
        let c = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"last_affected":"1.4"}]}],
            "versions":["9.9"]}"#,
        );
        assert!(hit(&c, "1.4").is_some());
        assert!(hit(&c, "1.4.post1").is_none());
        assert_eq!(hit(&c, "9.9").unwrap().range_type, "versions");
    }

    #[test]
    fn unparsable_boundaries_are_kept_as_reasons() {
        let c = affected(
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version!"}]}]}"#,
        );
        assert!(c.ranges.is_empty());
        assert_eq!(c.unparsable.len(), 1);
    }
}
