//! What an institution runs: components read from SBOMs (CycloneDX 1.2–1.6 JSON and
//! XML, SPDX 2.2/2.3 JSON and tag-value, SPDX 3.0 JSON-LD) and from lockfiles and
//! manifests (Cargo, npm, yarn, pnpm, Poetry, Pipenv, pip, Go, Composer, Bundler,
//! Maven). The readers are tolerant of version differences but never silent: every
//! component that cannot be used is kept in [`Inventory::skipped`] with the reason.

mod lockfile;
mod sbom;

use crate::Ecosystem;
use crate::ecosystem::{PurlError, parse_purl};
use serde::Serialize;
use std::path::Path;

/// The largest file read as an SBOM or lockfile.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// The most components one file may hold.
pub const MAX_COMPONENTS: usize = 2_000_000;

/// One component: a package at a version, of a known ecosystem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Component {
    pub ecosystem: Ecosystem,
    /// The name as the ecosystem writes it (`group:artifact` for Maven).
    pub name: String,
    pub version: String,
    pub purl: String,
    /// Where in the file it was (a JSON path, an element, a line).
    pub location: String,
}

/// A component that could not be used, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedComponent {
    pub name: String,
    pub version: String,
    pub location: String,
    pub reason: String,
    /// A CPE the SBOM gave for it, if any (for low-confidence matching).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
}

/// The components read from one file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inventory {
    pub source: String,
    /// `cyclonedx-json 1.4`, `spdx-tag-value 2.2`, `package-lock.json v3`, …
    pub format: String,
    pub components: Vec<Component>,
    pub skipped: Vec<SkippedComponent>,
    /// The version ranges the file says its packages require of each other (npm's
    /// package-lock), for checking that an upgrade keeps them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
}

/// One package's requirement on another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Constraint {
    pub ecosystem: Ecosystem,
    pub package: String,
    /// The range as written (`^4.17.0`).
    pub range: String,
    /// Who requires it (`express@4.17.1`, or `the project`).
    pub required_by: String,
}

/// A file that could not be read as an SBOM or lockfile at all.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ReadError {
    pub path: String,
    pub reason: String,
}

impl Inventory {
    fn new(source: &str, format: impl Into<String>) -> Inventory {
        Inventory {
            source: source.to_owned(),
            format: format.into(),
            ..Inventory::default()
        }
    }

    /// Adds a component named by its ecosystem; the purl is written for it.
    fn add(&mut self, ecosystem: Ecosystem, name: &str, version: &str, location: String) {
        if self.components.len() + self.skipped.len() >= MAX_COMPONENTS {
            return;
        }
        if version.is_empty() {
            self.skip(name, version, location, "no version");
            return;
        }
        self.components.push(Component {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            purl: ecosystem.purl(name, version),
            location,
        });
    }

    /// Adds a component named by a purl (the version from the purl, else `version`).
    fn add_purl(
        &mut self,
        purl: &str,
        name: &str,
        version: &str,
        location: String,
        cpe: Option<&str>,
    ) {
        match parse_purl(purl) {
            Ok(p) => {
                let v = p
                    .version
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .unwrap_or(version);
                if v.is_empty() {
                    self.skip(name, version, location, "no version");
                    return;
                }
                if self.components.len() + self.skipped.len() >= MAX_COMPONENTS {
                    return;
                }
                self.components.push(Component {
                    ecosystem: p.ecosystem,
                    name: p.name,
                    version: v.to_owned(),
                    purl: purl.to_owned(),
                    location,
                });
            }
            Err(e) => {
                let reason = match &e {
                    PurlError::UnsupportedType(_) => e.to_string(),
                    PurlError::Invalid(_) => format!("{e} ('{purl}')"),
                };
                self.skipped.push(SkippedComponent {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    location,
                    reason,
                    cpe: cpe.map(str::to_owned),
                });
            }
        }
    }

    fn skip(&mut self, name: &str, version: &str, location: String, reason: &str) {
        if self.components.len() + self.skipped.len() >= MAX_COMPONENTS {
            return;
        }
        self.skipped.push(SkippedComponent {
            name: name.to_owned(),
            version: version.to_owned(),
            location,
            reason: reason.to_owned(),
            cpe: None,
        });
    }

    /// A component without a purl or ecosystem: skipped, keeping its CPE if given.
    fn unidentified(&mut self, name: &str, version: &str, location: String, cpe: Option<&str>) {
        if self.components.len() + self.skipped.len() >= MAX_COMPONENTS {
            return;
        }
        self.skipped.push(SkippedComponent {
            name: name.to_owned(),
            version: version.to_owned(),
            location,
            reason: "no package URL: the ecosystem is unknown".into(),
            cpe: cpe.map(str::to_owned),
        });
    }
}

/// Reads one SBOM or lockfile, recognised by its name and content.
pub fn read_file(path: &Path) -> Result<Inventory, ReadError> {
    let shown = path.display().to_string();
    let fail = |reason: String| ReadError {
        path: shown.clone(),
        reason,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(fail(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    read_text(&name, &shown, &text).map_err(fail)
}

/// Reads a document given its file name (which picks lockfile formats) and content.
pub fn read_text(file_name: &str, source: &str, text: &str) -> Result<Inventory, String> {
    if let Some(inv) = lockfile::read(file_name, source, text)? {
        return Ok(inv);
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(trimmed).map_err(|e| format!("invalid JSON: {e}"))?;
        return sbom::read_json(source, &value);
    }
    if trimmed.starts_with('<') {
        return sbom::read_cyclonedx_xml(source, trimmed);
    }
    if trimmed.starts_with("SPDXVersion:") || trimmed.contains("\nSPDXVersion:") {
        return Ok(sbom::read_spdx_tag_value(source, trimmed));
    }
    Err(format!(
        "'{file_name}' is neither a known lockfile nor an SBOM (CycloneDX, SPDX)"
    ))
}
