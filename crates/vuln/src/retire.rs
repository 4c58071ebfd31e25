//! JavaScript libraries served by a web site, found by their URL or file name and
//! matched to known vulnerabilities, with the Retire.js repository's data
//! (`jsrepository-v4.json`: per library, `uri` and `filename` patterns with a
//! `§§version§§` placeholder, and vulnerable ranges `atOrAbove`/`below`). Only the
//! passive extractors are used: nothing of a page is executed.

use regex::Regex;
use serde::Serialize;
use serde_json::Value;
use std::cmp::Ordering;

/// What `§§version§§` stands for in the repository's patterns (Retire.js's own). It
/// also takes in a `.min` or `.slim` that follows the version; [`clean_version`] drops it.
const VERSION: &str = "[0-9][0-9.a-z_\\-]+";

/// A version as a file name writes it, without the variant words that follow it
/// (`3.6.0.slim.min` → `3.6.0`): trailing dot-separated parts of letters only.
fn clean_version(v: &str) -> &str {
    let mut v = v.trim_end_matches(['.', '-']);
    while let Some((head, tail)) = v.rsplit_once('.') {
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_alphabetic()) {
            v = head;
        } else {
            break;
        }
    }
    v
}

/// One vulnerability of a library, with the range it affects.
#[derive(Clone, Debug, Serialize)]
pub struct RetireVuln {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_or_above: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below: Option<String>,
    pub severity: String,
    pub summary: String,
    pub cves: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ghsa: Option<String>,
    pub info: Vec<String>,
}

struct Library {
    name: String,
    uri: Vec<Regex>,
    filename: Vec<Regex>,
    vulns: Vec<RetireVuln>,
}

/// The repository, patterns compiled.
pub struct RetireRepo {
    libraries: Vec<Library>,
}

/// A library found at a URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub library: String,
    pub version: String,
    /// `uri` or `filename`: which pattern found it.
    pub by: &'static str,
}

fn compile(patterns: Option<&Value>) -> Vec<Regex> {
    patterns
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter_map(|p| Regex::new(&p.replace("§§version§§", VERSION)).ok())
                .collect()
        })
        .unwrap_or_default()
}

impl RetireRepo {
    /// Reads `jsrepository-v4.json`; patterns the regex engine cannot compile (look-around)
    /// are left out.
    pub fn parse(text: &str) -> Result<RetireRepo, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        let obj = doc
            .as_object()
            .ok_or("not a Retire.js repository (an object of libraries)")?;
        let mut libraries = Vec::new();
        for (name, lib) in obj {
            let Some(extractors) = lib.get("extractors") else {
                continue;
            };
            let vulns = lib
                .get("vulnerabilities")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|v| {
                    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
                    let ids = v.get("identifiers").cloned().unwrap_or(Value::Null);
                    RetireVuln {
                        at_or_above: s("atOrAbove"),
                        below: s("below"),
                        severity: s("severity").unwrap_or_default(),
                        summary: ids
                            .get("summary")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        cves: ids
                            .get("CVE")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|c| c.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        ghsa: ids
                            .get("githubID")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        info: v
                            .get("info")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|c| c.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect();
            libraries.push(Library {
                name: name.clone(),
                uri: compile(extractors.get("uri")),
                filename: compile(extractors.get("filename")),
                vulns,
            });
        }
        if libraries.is_empty() {
            return Err("no library with extractors: not a Retire.js repository".into());
        }
        Ok(RetireRepo { libraries })
    }

    /// The libraries a script URL names, by the `uri` patterns (on the whole URL) and the
    /// `filename` patterns (on its last path segment).
    pub fn detect_url(&self, url: &str) -> Vec<Detection> {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let file = path.rsplit('/').next().unwrap_or(path);
        let mut out: Vec<Detection> = Vec::new();
        for lib in &self.libraries {
            let found = lib
                .uri
                .iter()
                .find_map(|r| {
                    r.captures(path)
                        .and_then(|c| c.get(1))
                        .map(|m| (m.as_str(), "uri"))
                })
                .or_else(|| {
                    lib.filename.iter().find_map(|r| {
                        r.captures(file)
                            .and_then(|c| c.get(1))
                            .map(|m| (m.as_str(), "filename"))
                    })
                });
            if let Some((version, by)) = found {
                let version = clean_version(version).to_owned();
                if !out
                    .iter()
                    .any(|d| d.library == lib.name && d.version == version)
                {
                    out.push(Detection {
                        library: lib.name.clone(),
                        version,
                        by,
                    });
                }
            }
        }
        out
    }

    /// The vulnerabilities of a library at a version.
    pub fn vulnerabilities(&self, library: &str, version: &str) -> Vec<&RetireVuln> {
        self.libraries
            .iter()
            .filter(|l| l.name == library)
            .flat_map(|l| l.vulns.iter())
            .filter(|v| {
                v.at_or_above
                    .as_deref()
                    .is_none_or(|a| compare(version, a).is_ge())
                    && v.below
                        .as_deref()
                        .is_none_or(|b| compare(version, b).is_lt())
            })
            .collect()
    }

    pub fn libraries(&self) -> usize {
        self.libraries.len()
    }
}

enum Part<'a> {
    Num(u64),
    Text(&'a str),
}

fn part(s: Option<&str>) -> Part<'_> {
    match s {
        None | Some("") => Part::Num(0),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            Part::Num(p.parse().unwrap_or(u64::MAX))
        }
        Some(p) => Part::Text(p),
    }
}

/// Retire.js's version order: parts split at `.` and `-`, numbers numerically, words
/// alphabetically, a number above a word, a missing part as 0.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (x, y): (Vec<&str>, Vec<&str>) =
        (a.split(['.', '-']).collect(), b.split(['.', '-']).collect());
    for i in 0..x.len().max(y.len()) {
        let o = match (part(x.get(i).copied()), part(y.get(i).copied())) {
            (Part::Num(p), Part::Num(q)) => p.cmp(&q),
            (Part::Text(p), Part::Text(q)) => p.cmp(q),
            (Part::Num(_), Part::Text(_)) => Ordering::Greater,
            (Part::Text(_), Part::Num(_)) => Ordering::Less,
        };
        if o.is_ne() {
            return o;
        }
    }
    Ordering::Equal
}
