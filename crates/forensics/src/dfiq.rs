//! Investigation questions for an incident, from Google's DFIQ catalog (Digital Forensics
//! Investigative Questions, Apache-2.0; scenarios → facets → questions → approaches).
//! Questions and facets carry ATT&CK technique tags (`T1053.005`); an incident's
//! techniques (its alerts' `attack.t…` tags) select the questions tagged with the same
//! technique, its base technique or one of its sub-techniques, and the untagged questions
//! of a facet so tagged (a question's own tags decide for it). Each question comes with why it was chosen, its approaches' steps, and
//! a Haechi query where one fits the data Haechi holds.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The largest catalog file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Deserialize)]
struct Raw {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    parent_ids: Option<Vec<String>>,
    #[serde(default)]
    approaches: Option<Vec<RawApproach>>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawApproach {
    name: String,
    #[serde(default)]
    steps: Option<Vec<Step>>,
}

/// One step of an approach: collection, processing or analysis.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Step {
    pub name: String,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// An approach to answering a question.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Approach {
    pub name: String,
    pub steps: Vec<Step>,
}

/// A question of the catalog.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Question {
    pub id: String,
    pub name: String,
    pub techniques: Vec<String>,
    /// The facets (`F1022`) it belongs to.
    pub facets: Vec<String>,
    pub approaches: Vec<Approach>,
}

/// The catalog: questions, and the facets and scenarios they hang from.
#[derive(Debug, Default)]
pub struct Catalog {
    pub questions: Vec<Question>,
    /// Facet id → (name, technique tags, scenario ids).
    pub facets: BTreeMap<String, (String, Vec<String>, Vec<String>)>,
    /// Scenario id → name.
    pub scenarios: BTreeMap<String, String>,
}

/// A question chosen for an incident.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Asked {
    #[serde(flatten)]
    pub question: Question,
    /// Why: `T1053.005 (question tag)`, `T1053 (facet F1022: …)`.
    pub because: Vec<String>,
    /// A Haechi search that starts answering it over the institution's events.
    pub haechi_query: Option<String>,
}

fn is_technique(tag: &str) -> bool {
    let t = tag.trim();
    t.len() >= 5
        && t.starts_with('T')
        && t[1..5].bytes().all(|b| b.is_ascii_digit())
        && (t.len() == 5
            || (t.len() == 9 && &t[5..6] == "." && t[6..].bytes().all(|b| b.is_ascii_digit())))
}

fn related(a: &str, b: &str) -> bool {
    let base = |t: &str| t.split('.').next().unwrap_or(t).to_owned();
    a == b || (base(a) == base(b) && (!a.contains('.') || !b.contains('.')))
}

impl Catalog {
    /// Reads `scenarios/`, `facets/` and `questions/` YAML files under `dir`.
    pub fn load(dir: &Path) -> Result<Catalog, String> {
        let mut catalog = Catalog::default();
        for sub in ["scenarios", "facets", "questions"] {
            let folder = dir.join(sub);
            let mut files: Vec<_> = std::fs::read_dir(&folder)
                .map_err(|e| format!("{}: {e}", folder.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            for path in files {
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                if size > MAX_FILE_BYTES {
                    return Err(format!("{}: larger than a DFIQ file", path.display()));
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let raw: Raw = yaml_serde::from_str(&text)
                    .map_err(|e| format!("{}: not a DFIQ document: {e}", path.display()))?;
                let tags = raw.tags.clone().unwrap_or_default();
                let techniques: Vec<String> = tags
                    .iter()
                    .filter(|t| is_technique(t))
                    .map(|t| t.trim().to_owned())
                    .collect();
                let parents = raw.parent_ids.clone().unwrap_or_default();
                match raw.kind.as_str() {
                    "scenario" => {
                        catalog.scenarios.insert(raw.id, raw.name);
                    }
                    "facet" => {
                        catalog
                            .facets
                            .insert(raw.id, (raw.name, techniques, parents));
                    }
                    "question" => catalog.questions.push(Question {
                        id: raw.id,
                        name: raw.name,
                        techniques,
                        facets: parents,
                        approaches: raw
                            .approaches
                            .unwrap_or_default()
                            .into_iter()
                            .map(|a| Approach {
                                name: a.name,
                                steps: a.steps.unwrap_or_default(),
                            })
                            .collect(),
                    }),
                    other => {
                        return Err(format!("{}: unknown DFIQ type '{other}'", path.display()));
                    }
                }
            }
        }
        Ok(catalog)
    }

    /// The questions for an incident's techniques, in catalog order.
    pub fn questions_for(&self, techniques: &BTreeSet<String>) -> Vec<Asked> {
        let mut out = Vec::new();
        for q in &self.questions {
            let mut because = Vec::new();
            for t in techniques {
                if q.techniques.iter().any(|qt| related(qt, t)) {
                    because.push(format!("{t} (question tag)"));
                }
                // A question with techniques of its own is chosen by them alone.
                if !q.techniques.is_empty() {
                    continue;
                }
                for f in &q.facets {
                    if let Some((name, tags, _)) = self.facets.get(f)
                        && tags.iter().any(|ft| related(ft, t))
                    {
                        because.push(format!("{t} (facet {f}: {name})"));
                    }
                }
            }
            if !because.is_empty() {
                because.dedup();
                out.push(Asked {
                    haechi_query: haechi_query(&q.techniques, techniques),
                    question: q.clone(),
                    because,
                });
            }
        }
        out
    }
}

/// Haechi searches that start answering questions about a technique, over the events
/// Haechi normalizes (Windows event codes, process creation, network and DNS fields).
fn haechi_query(question: &[String], incident: &BTreeSet<String>) -> Option<String> {
    const QUERIES: [(&str, &str); 10] = [
        (
            "T1053.005",
            "event.code:(4698 OR 4699 OR 4702 OR 106 OR 200)",
        ),
        (
            "T1053",
            "event.code:(4698 OR 4699 OR 4702) OR process.name:(schtasks.exe OR at.exe OR crontab)",
        ),
        ("T1543.003", "event.code:(7045 OR 4697)"),
        ("T1136", "event.code:(4720 OR 4722)"),
        ("T1021.001", "event.code:(4624 OR 4778) AND source.ip:*"),
        ("T1021", "event.code:4624 AND source.ip:*"),
        ("T1547.001", "event.code:(12 OR 13 OR 14)"),
        ("T1071.004", "dns.question.name:*"),
        ("T1048", "destination.bytes:>=10000000"),
        ("T1078", "event.code:(4624 OR 4625 OR 4648)"),
    ];
    let wanted: Vec<&String> = question
        .iter()
        .filter(|qt| incident.iter().any(|t| related(qt, t)))
        .chain(incident.iter())
        .collect();
    for t in wanted {
        if let Some((_, q)) = QUERIES.iter().find(|(k, _)| *k == t.as_str()) {
            return Some((*q).to_owned());
        }
        let base = t.split('.').next().unwrap_or(t);
        if let Some((_, q)) = QUERIES.iter().find(|(k, _)| *k == base) {
            return Some((*q).to_owned());
        }
    }
    None
}

/// The ATT&CK techniques of Sigma-style tags (`attack.t1053.005` → `T1053.005`).
pub fn techniques_of_tags<'a>(tags: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    tags.into_iter()
        .filter_map(|t| t.strip_prefix("attack."))
        .map(|t| t.to_uppercase())
        .filter(|t| is_technique(t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_tags_are_read_and_related_by_base() {
        let tags = [
            "attack.t1053.005",
            "attack.persistence",
            "attack.T1021",
            "cve.2021-1",
        ]
        .map(String::from);
        let t = techniques_of_tags(tags.iter());
        assert_eq!(t.into_iter().collect::<Vec<_>>(), ["T1021", "T1053.005"]);
        assert!(related("T1053", "T1053.005") && related("T1053.005", "T1053.005"));
        assert!(
            !related("T1053.002", "T1053.005"),
            "siblings are different questions"
        );
    }
}

#[cfg(test)]
mod query_tests {
    #[test]
    fn every_haechi_query_parses() {
        for t in [
            "T1053.005",
            "T1053",
            "T1543.003",
            "T1136",
            "T1021.001",
            "T1021",
            "T1547.001",
            "T1071.004",
            "T1048",
            "T1078",
        ] {
            let q = super::haechi_query(&[], &[t.to_owned()].into()).unwrap();
            haechi_query::parse(&q).unwrap_or_else(|e| panic!("{t}: {q}: {e}"));
        }
    }
}
