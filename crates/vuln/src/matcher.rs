//! Matching inventories against advisories. Advisories are compiled once into an index
//! by ecosystem and package name (each boundary version parsed once); a component is
//! looked up by its ecosystem and name, never by a CPE, and its version evaluated with
//! its ecosystem's ordering. Every finding carries its evidence.

use crate::advisory::{Advisory, CompiledAffected, RangeEvidence};
use crate::db::{Epss, KevEntry, Snapshot};
use crate::inventory::{Component, Inventory, SkippedComponent};
use crate::ssvc::{self, Exposure, KnownInputs, Outcome};
use crate::{Ecosystem, version};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

struct Entry {
    advisory: usize,
    affected: CompiledAffected,
}

/// Advisories compiled for matching, with the exploitation data.
pub struct Matcher {
    advisories: Vec<Advisory>,
    by_id: HashMap<String, usize>,
    index: HashMap<(Ecosystem, String), Vec<Entry>>,
    kev: HashMap<String, KevEntry>,
    ssvc: HashMap<String, KnownInputs>,
    epss: HashMap<String, Epss>,
    /// The NVD's CPE ranges, by (vendor, product).
    cpe: HashMap<(String, String), Vec<crate::cpe::CpeRange>>,
    pub stats: IndexStats,
}

/// What compiling the advisories found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IndexStats {
    pub advisories: usize,
    pub packages: usize,
    /// Affected entries of ecosystems whose versions Haechi cannot order, by ecosystem.
    pub unsupported_ecosystems: BTreeMap<String, usize>,
    /// Range boundaries that do not parse in their ecosystem (those ranges are unused).
    pub unparsable_boundaries: usize,
}

/// One vulnerable component, one advisory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    pub package: String,
    pub version: String,
    pub ecosystem: String,
    pub purl: String,
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    /// The versions that fix it (every `fixed` boundary of the advisory's entry).
    pub fixed: Vec<String>,
    pub kev: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev_due_date: Option<String>,
    /// The SSVC decision: Track, Track*, Attend or Act.
    pub ssvc: String,
    pub ssvc_tree: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<Epss>,
    /// RustSec's informational kind (`unmaintained`, `unsound`, `notice`), when the
    /// advisory is not a vulnerability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub informational: Option<String>,
    pub evidence: Evidence,
    /// A VEX statement applied to it (`haechi vuln scan --vex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vex: Option<crate::vex::VexApplied>,
    /// `low` for a finding by CPE (a component without a purl); absent: exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Evidence {
    /// How the component was identified: `purl` (an SBOM's package URL) or `lockfile`
    /// (the lockfile's ecosystem), both exact; or `cpe CRITERIA` for a component without
    /// a purl matched by its CPE (the finding is then low-confidence).
    pub matched_by: String,
    pub range: RangeEvidence,
    pub source: String,
    /// Where the component appears in the file (every place, if several).
    pub locations: Vec<String>,
}

/// The counts of one scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanSummary {
    pub files: usize,
    pub components_read: usize,
    pub components_matched: usize,
    pub findings: usize,
    pub skipped: usize,
    pub skipped_by_reason: BTreeMap<String, usize>,
    /// Every component that was not matched, with its reason.
    pub skipped_components: Vec<SkippedComponent>,
    /// Findings a VEX statement closed (not affected, fixed); KEV-listed ones never are.
    pub suppressed_by_vex: usize,
    /// Skipped components (no purl) matched by their CPE instead: low-confidence findings.
    pub cpe_matched: usize,
}

impl ScanSummary {
    fn skip(&mut self, s: SkippedComponent) {
        self.skipped += 1;
        *self
            .skipped_by_reason
            .entry(reason_class(&s.reason))
            .or_insert(0) += 1;
        self.skipped_components.push(s);
    }
}

/// The reason without the specifics, for counting (`'x' is not a Go version: …` →
/// `version not valid for its ecosystem`).
fn reason_class(reason: &str) -> String {
    if reason.contains(" is not a ") && reason.contains(" version") {
        "version not valid for its ecosystem".into()
    } else if reason.starts_with("invalid purl") {
        "invalid purl".into()
    } else if reason.starts_with("purl type") {
        "purl type without an OSV ecosystem".into()
    } else if reason.starts_with("not from a registry") {
        "not from a registry".into()
    } else if reason.starts_with("from a ") {
        "not from the ecosystem's registry".into()
    } else {
        reason.to_owned()
    }
}

impl Matcher {
    pub fn new(snapshot: Snapshot) -> Matcher {
        let mut stats = IndexStats {
            advisories: snapshot.advisories.len(),
            ..IndexStats::default()
        };
        let mut index: HashMap<(Ecosystem, String), Vec<Entry>> = HashMap::new();
        for (i, a) in snapshot.advisories.iter().enumerate() {
            if a.withdrawn.is_some() {
                continue;
            }
            for affected in &a.affected {
                let Some(eco) = Ecosystem::from_osv_name(&affected.package.ecosystem) else {
                    *stats
                        .unsupported_ecosystems
                        .entry(affected.package.ecosystem.clone())
                        .or_insert(0) += 1;
                    continue;
                };
                let compiled = CompiledAffected::compile(eco, affected);
                stats.unparsable_boundaries += compiled.unparsable.len();
                index
                    .entry((eco, eco.name_key(&affected.package.name)))
                    .or_default()
                    .push(Entry {
                        advisory: i,
                        affected: compiled,
                    });
            }
        }
        stats.packages = index.len();
        let by_id = snapshot
            .advisories
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        let mut cpe: HashMap<(String, String), Vec<crate::cpe::CpeRange>> = HashMap::new();
        for r in snapshot.cpe {
            cpe.entry((r.vendor.clone(), r.product.clone()))
                .or_default()
                .push(r);
        }
        Matcher {
            advisories: snapshot.advisories,
            by_id,
            index,
            kev: snapshot.kev,
            ssvc: snapshot.ssvc,
            epss: snapshot.epss,
            cpe,
            stats,
        }
    }

    /// The advisories (ids) whose ranges hold this version of a package.
    pub fn advisories_affecting(
        &self,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
    ) -> Vec<String> {
        let Ok(parsed) = version::parse(ecosystem, version) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = Vec::new();
        for e in self
            .index
            .get(&(ecosystem, ecosystem.name_key(name)))
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let id = &self.advisories[e.advisory].id;
            if !ids.contains(id) && e.affected.affects(&parsed, version).is_some() {
                ids.push(id.clone());
            }
        }
        ids
    }

    /// Every version any advisory names as fixing something in this package: the
    /// versions known to exist that an upgrade can aim at, offline.
    pub fn known_fixed_versions(&self, ecosystem: Ecosystem, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self
            .index
            .get(&(ecosystem, ecosystem.name_key(name)))
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            for v in e.affected.fixed_versions() {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// Scans one inventory; findings are added to `out` and counts to `summary`.
    pub fn scan(
        &self,
        inv: &Inventory,
        exposure: Exposure,
        out: &mut Vec<Finding>,
        summary: &mut ScanSummary,
    ) {
        summary.files += 1;
        summary.components_read += inv.components.len() + inv.skipped.len();
        for s in &inv.skipped {
            summary.skip(s.clone());
        }
        // The same package at the same version may appear in many places (npm's
        // nested folders): it is one finding with every location.
        let mut seen: HashMap<(Ecosystem, String, String), Vec<&Component>> = HashMap::new();
        let mut order = Vec::new();
        for c in &inv.components {
            let key = (
                c.ecosystem,
                c.ecosystem.name_key(&c.name),
                c.version.clone(),
            );
            let places = seen.entry(key.clone()).or_default();
            if places.is_empty() {
                order.push(key);
            }
            places.push(c);
        }
        for key in order {
            let places = &seen[&key];
            let c = places[0];
            let parsed = match version::parse(c.ecosystem, &c.version) {
                Ok(v) => v,
                Err(e) => {
                    summary.skip(SkippedComponent {
                        name: c.name.clone(),
                        version: c.version.clone(),
                        location: c.location.clone(),
                        reason: e.to_string(),
                        cpe: None,
                    });
                    continue;
                }
            };
            let before = out.len();
            if let Some(entries) = self.index.get(&(key.0, key.1.clone())) {
                let mut reported: Vec<usize> = Vec::new();
                for e in entries {
                    if reported.contains(&e.advisory) {
                        continue;
                    }
                    if let Some(range) = e.affected.affects(&parsed, &c.version) {
                        reported.push(e.advisory);
                        out.push(self.finding(c, places, e, range, inv, exposure));
                    }
                }
            }
            if out.len() > before {
                summary.components_matched += 1;
                summary.findings += out.len() - before;
            }
        }
        self.scan_cpe(inv, exposure, out, summary);
    }

    /// Matches advisories (new or changed ones, by id) against every stored component
    /// of their packages: a new advisory reaches every inventory without a sweep.
    pub fn rematch(
        &self,
        db: &crate::AdvisoryDb,
        ids: &[String],
    ) -> crate::Result<Vec<(crate::assets::Placement, Finding)>> {
        let mut out = Vec::new();
        for id in ids {
            let Some(&idx) = self.by_id.get(id) else {
                continue; // withdrawn, or of an ecosystem without an order
            };
            let mut packages: Vec<(Ecosystem, String)> = Vec::new();
            for affected in &self.advisories[idx].affected {
                if let Some(eco) = Ecosystem::from_osv_name(&affected.package.ecosystem) {
                    let key = (eco, eco.name_key(&affected.package.name));
                    if !packages.contains(&key) {
                        packages.push(key);
                    }
                }
            }
            for key in packages {
                let Some(entries) = self.index.get(&key) else {
                    continue;
                };
                for (placement, c) in db.components_of(key.0, &key.1)? {
                    let Ok(parsed) = version::parse(c.ecosystem, &c.version) else {
                        continue;
                    };
                    let hit = entries
                        .iter()
                        .filter(|e| e.advisory == idx)
                        .find_map(|e| e.affected.affects(&parsed, &c.version).map(|r| (e, r)));
                    if let Some((e, range)) = hit {
                        let inv = Inventory {
                            source: placement.source.clone(),
                            format: placement.format.clone(),
                            ..Inventory::default()
                        };
                        let f = self.finding(&c, &[&c], e, range, &inv, placement.exposure);
                        out.push((placement, f));
                    }
                }
            }
        }
        Ok(out)
    }

    fn finding(
        &self,
        c: &Component,
        places: &[&Component],
        e: &Entry,
        range: RangeEvidence,
        inv: &Inventory,
        exposure: Exposure,
    ) -> Finding {
        let a = &self.advisories[e.advisory];
        let kev = a.cves().find_map(|cve| self.kev.get(cve));
        let known = a
            .cves()
            .find_map(|cve| self.ssvc.get(cve))
            .cloned()
            .unwrap_or_default();
        let outcome = ssvc::decide(&known, kev.is_some(), exposure);
        Finding {
            package: c.name.clone(),
            version: c.version.clone(),
            ecosystem: c.ecosystem.osv_name().to_owned(),
            purl: c.purl.clone(),
            id: a.id.clone(),
            aliases: a.aliases.clone(),
            summary: a.summary.clone(),
            fixed: e.affected.fixed_versions(),
            kev: kev.is_some(),
            kev_due_date: kev.map(|k| k.due_date.clone()),
            ssvc: outcome.decision.as_str().to_owned(),
            ssvc_tree: outcome,
            cvss: a.cvss_vector().map(str::to_owned),
            epss: a.cves().find_map(|cve| self.epss.get(cve)).copied(),
            informational: a.informational().map(str::to_owned),
            evidence: Evidence {
                matched_by: if inv.format.starts_with("cyclonedx") || inv.format.starts_with("spdx")
                {
                    "purl".to_owned()
                } else {
                    "lockfile".to_owned()
                },
                range,
                source: inv.source.clone(),
                locations: places.iter().map(|p| p.location.clone()).collect(),
            },
            vex: None,
            confidence: None,
        }
    }

    /// Low-confidence findings of components that have a CPE and no purl.
    fn scan_cpe(
        &self,
        inv: &Inventory,
        exposure: Exposure,
        out: &mut Vec<Finding>,
        summary: &mut ScanSummary,
    ) {
        if self.cpe.is_empty() {
            return;
        }
        for s in &inv.skipped {
            let Some(cpe) = s.cpe.as_deref().and_then(crate::cpe::parse) else {
                continue;
            };
            let Some(ranges) = self.cpe.get(&(cpe.vendor.clone(), cpe.product.clone())) else {
                continue;
            };
            // The component's own version when the CPE does not say one.
            let cpe = if matches!(cpe.version.as_str(), "*" | "-") && !s.version.is_empty() {
                crate::cpe::Cpe {
                    version: s.version.clone(),
                    ..cpe
                }
            } else {
                cpe
            };
            let before = out.len();
            let mut seen: Vec<&str> = Vec::new();
            for r in ranges.iter().filter(|r| r.matches(&cpe)) {
                if seen.contains(&r.cve.as_str()) {
                    continue;
                }
                seen.push(&r.cve);
                let kev = self.kev.get(&r.cve);
                let known = self.ssvc.get(&r.cve).cloned().unwrap_or_default();
                let outcome = ssvc::decide(&known, kev.is_some(), exposure);
                out.push(Finding {
                    package: s.name.clone(),
                    version: cpe.version.clone(),
                    ecosystem: "CPE".into(),
                    purl: String::new(),
                    id: r.cve.clone(),
                    aliases: Vec::new(),
                    summary: r.summary.clone(),
                    fixed: r.end_excluding.iter().cloned().collect(),
                    kev: kev.is_some(),
                    kev_due_date: kev.map(|k| k.due_date.clone()),
                    ssvc: outcome.decision.as_str().to_owned(),
                    ssvc_tree: outcome,
                    cvss: None,
                    epss: self.epss.get(&r.cve).copied(),
                    informational: None,
                    evidence: Evidence {
                        matched_by: format!("cpe {}", r.criteria),
                        range: RangeEvidence {
                            range_type: "CPE".into(),
                            introduced: r
                                .start_including
                                .clone()
                                .or_else(|| r.start_excluding.clone()),
                            fixed: r.end_excluding.clone(),
                            last_affected: r.end_including.clone(),
                        },
                        source: inv.source.clone(),
                        locations: vec![s.location.clone()],
                    },
                    vex: None,
                    confidence: Some("low".into()),
                });
            }
            if out.len() > before {
                summary.cpe_matched += 1;
                summary.findings += out.len() - before;
            }
        }
    }
}
