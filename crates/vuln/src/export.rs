//! Findings shared with CISOs and partners, in the formats their tools read: CSAF 2.0
//! (the `csaf_vex` profile), CycloneDX 1.6 VEX and OpenVEX ([`crate::vex::to_openvex`]).
//! A document covers the findings given — one institution's, or one advisory's across
//! institutions — and carries its TLP marking (CSAF's `distribution.tlp`).

use crate::matcher::Finding;
use crate::vex::VexStatus;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// The four TLP labels CSAF 2.0 knows (it predates TLP 2.0's CLEAR and AMBER+STRICT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tlp {
    White,
    Green,
    Amber,
    Red,
}

impl Tlp {
    pub fn parse(s: &str) -> Option<Tlp> {
        match s.to_ascii_lowercase().as_str() {
            "white" | "clear" => Some(Tlp::White),
            "green" => Some(Tlp::Green),
            "amber" | "amber+strict" => Some(Tlp::Amber),
            "red" => Some(Tlp::Red),
            _ => None,
        }
    }

    fn csaf(self) -> &'static str {
        match self {
            Tlp::White => "WHITE",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::Red => "RED",
        }
    }
}

/// Who publishes and when.
pub struct Meta<'a> {
    pub publisher: &'a str,
    pub namespace: &'a str,
    pub title: &'a str,
    pub tracking_id: &'a str,
    /// RFC 3339.
    pub now: &'a str,
    pub tlp: Tlp,
}

/// A UUID (version 4 layout) derived from `seed` and the time: unique per document.
fn uuid(seed: &str, now: &str) -> String {
    let mut parts = [0u64; 2];
    for (i, p) in parts.iter_mut().enumerate() {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (seed, now, i, std::process::id()).hash(&mut h);
        *p = h.finish();
    }
    let b: Vec<u8> = parts.iter().flat_map(|p| p.to_be_bytes()).collect();
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{}",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6] & 0x0f,
        b[7],
        8 | (b[8] & 0x3),
        b[8] >> 4,
        b[9],
        b[10..16]
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    )
}

/// The findings grouped by advisory, each advisory's products (purls) in order.
fn by_advisory<'a>(findings: &[&'a Finding]) -> BTreeMap<&'a str, Vec<&'a Finding>> {
    let mut out: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        out.entry(f.id.as_str()).or_default().push(f);
    }
    out
}

fn status_of(f: &Finding) -> VexStatus {
    f.vex.as_ref().map_or(VexStatus::Affected, |v| v.status)
}

/// CSAF's justification labels for OpenVEX's (section 3.2.3.5 of CSAF 2.0).
fn csaf_flag(justification: Option<&str>) -> &'static str {
    match justification.unwrap_or("") {
        "component_not_present" => "component_not_present",
        "vulnerable_code_not_present" => "vulnerable_code_not_present",
        "vulnerable_code_cannot_be_controlled_by_adversary" => {
            "vulnerable_code_cannot_be_controlled_by_adversary"
        }
        "inline_mitigations_already_exist" => "inline_mitigations_already_exist",
        _ => "vulnerable_code_not_in_execute_path",
    }
}

/// A CSAF 2.0 `csaf_vex` document of the findings.
pub fn to_csaf(meta: &Meta<'_>, findings: &[&Finding]) -> Value {
    // One product per distinct purl.
    let mut products: BTreeMap<&str, String> = BTreeMap::new();
    for f in findings {
        let n = products.len() + 1;
        products
            .entry(f.purl.as_str())
            .or_insert_with(|| format!("CSAFPID-{n:04}"));
    }
    let full_product_names: Vec<Value> = findings
        .iter()
        .filter_map(|f| products.get(f.purl.as_str()).map(|id| (id, f)))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .map(|(id, f)| {
            json!({
                "name": format!("{} {}", f.package, f.version),
                "product_id": id,
                "product_identification_helper": {"purl": f.purl},
            })
        })
        .collect();
    let vulnerabilities: Vec<Value> = by_advisory(findings)
        .into_iter()
        .map(|(id, fs)| {
            let first = fs[0];
            let pid = |f: &Finding| products[f.purl.as_str()].clone();
            let ids_of = |st: VexStatus| -> Vec<String> {
                let mut v: Vec<String> = fs.iter().filter(|f| status_of(f) == st).map(|f| pid(f)).collect();
                v.sort();
                v.dedup();
                v
            };
            let mut status = serde_json::Map::new();
            for (key, st) in [
                ("known_affected", VexStatus::Affected),
                ("known_not_affected", VexStatus::NotAffected),
                ("fixed", VexStatus::Fixed),
                ("under_investigation", VexStatus::UnderInvestigation),
            ] {
                let ids = ids_of(st);
                if !ids.is_empty() {
                    status.insert(key.into(), json!(ids));
                }
            }
            let mut v = json!({
                "ids": [{"system_name": system_name(id), "text": id}],
                "notes": [{
                    "category": "description",
                    "text": if first.summary.is_empty() { format!("{id} in {}", first.package) } else { first.summary.clone() },
                    "title": "Summary",
                }],
                "product_status": status,
            });
            if let Some(cve) = std::iter::once(id).chain(first.aliases.iter().map(String::as_str)).find(|a| a.starts_with("CVE-")) {
                v["cve"] = json!(cve);
            }
            let affected = ids_of(VexStatus::Affected);
            if !affected.is_empty() {
                let fixed: Vec<&str> = fs.iter().flat_map(|f| f.fixed.iter().map(String::as_str)).collect();
                v["remediations"] = json!([if fixed.is_empty() {
                    json!({"category": "none_available", "details": "No fixed version is known: mitigate or replace the component.", "product_ids": affected})
                } else {
                    json!({"category": "vendor_fix", "details": format!("Upgrade to {}.", dedup(fixed).join(" or ")), "product_ids": affected})
                }]);
            }
            let not_affected: Vec<&Finding> = fs.iter().copied().filter(|f| status_of(f) == VexStatus::NotAffected).collect();
            if !not_affected.is_empty() {
                let mut flags: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                for f in &not_affected {
                    flags
                        .entry(csaf_flag(f.vex.as_ref().and_then(|x| x.justification.as_deref())))
                        .or_default()
                        .push(pid(f));
                }
                v["flags"] = json!(flags
                    .into_iter()
                    .map(|(label, mut ids)| {
                        ids.sort();
                        ids.dedup();
                        json!({"label": label, "product_ids": ids})
                    })
                    .collect::<Vec<_>>());
            }
            v
        })
        .collect();
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "distribution": {"tlp": {"label": meta.tlp.csaf(), "url": "https://www.first.org/tlp/"}},
            "publisher": {"category": "coordinator", "name": meta.publisher, "namespace": meta.namespace},
            "title": meta.title,
            "tracking": {
                "id": meta.tracking_id,
                "status": "final",
                "version": "1",
                "revision_history": [{"date": meta.now, "number": "1", "summary": "Initial version."}],
                "initial_release_date": meta.now,
                "current_release_date": meta.now,
                "generator": {"engine": {"name": "Haechi", "version": env!("CARGO_PKG_VERSION")}},
            },
        },
        "product_tree": {"full_product_names": full_product_names},
        "vulnerabilities": vulnerabilities,
    })
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    let mut seen = Vec::new();
    v.retain(|x| {
        let new = !seen.contains(x);
        seen.push(*x);
        new
    });
    v
}

fn system_name(id: &str) -> &'static str {
    match id.split('-').next().unwrap_or("") {
        "GHSA" => "GitHub Security Advisory",
        "RUSTSEC" => "RustSec",
        "PYSEC" => "PyPA",
        "GO" => "Go Vulnerability Database",
        "RUBYSEC" => "RubySec",
        "FRIENDSOFPHP" => "FriendsOfPHP",
        "NSWG" => "Node.js Security WG",
        "CVE" => "CVE",
        _ => "OSV",
    }
}

/// A CycloneDX 1.6 VEX document of the findings: the components and, per advisory, the
/// analysis and the components it affects.
pub fn to_cyclonedx(meta: &Meta<'_>, findings: &[&Finding]) -> Value {
    let mut components: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        components.entry(f.purl.as_str()).or_insert(f);
    }
    let components: Vec<Value> = components
        .into_iter()
        .map(|(purl, f)| json!({"type": "library", "bom-ref": purl, "name": f.package, "version": f.version, "purl": purl}))
        .collect();
    let vulnerabilities: Vec<Value> = by_advisory(findings)
        .into_iter()
        .flat_map(|(id, fs)| {
            // One entry per analysis state: CycloneDX states one analysis per vulnerability.
            let mut by_state: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
            for f in fs {
                let state = match status_of(f) {
                    VexStatus::Affected => "exploitable",
                    VexStatus::NotAffected => "not_affected",
                    VexStatus::Fixed => "resolved",
                    VexStatus::UnderInvestigation => "in_triage",
                };
                by_state.entry(state).or_default().push(f);
            }
            by_state.into_iter().map(move |(state, fs)| {
                let first = fs[0];
                let mut analysis = json!({"state": state});
                if let Some(x) = first.vex.as_ref() {
                    if let Some(j) = &x.justification {
                        analysis["justification"] = json!(cyclonedx_justification(j));
                    }
                    if let Some(d) = &x.detail {
                        analysis["detail"] = json!(d);
                    }
                }
                if state == "exploitable" {
                    analysis["response"] = json!(if first.fixed.is_empty() { vec!["workaround_available"] } else { vec!["update"] });
                    if !first.fixed.is_empty() {
                        analysis["detail"] = json!(format!("Upgrade {} to {}.", first.package, first.fixed.join(" or ")));
                    }
                }
                let mut refs: Vec<&str> = fs.iter().map(|f| f.purl.as_str()).collect();
                refs.sort();
                refs.dedup();
                json!({
                    "id": id,
                    "source": {"name": system_name(id)},
                    "references": first.aliases.iter().map(|a| json!({"id": a, "source": {"name": system_name(a)}})).collect::<Vec<_>>(),
                    "description": first.summary,
                    "analysis": analysis,
                    "affects": refs.into_iter().map(|r| json!({"ref": r})).collect::<Vec<_>>(),
                })
            })
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid(meta.tracking_id, meta.now)),
        "version": 1,
        "metadata": {
            "timestamp": meta.now,
            "tools": {"components": [{"type": "application", "name": "Haechi", "version": env!("CARGO_PKG_VERSION")}]},
            "properties": [{"name": "haechi:tlp", "value": meta.tlp.csaf()}],
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}

/// CycloneDX's `impactAnalysisJustification` for an OpenVEX justification.
fn cyclonedx_justification(j: &str) -> &'static str {
    match j {
        "component_not_present" => "requires_dependency",
        "vulnerable_code_not_present" => "code_not_present",
        "vulnerable_code_not_in_execute_path" => "code_not_reachable",
        "vulnerable_code_cannot_be_controlled_by_adversary" => "protected_by_mitigating_control",
        "inline_mitigations_already_exist" => "protected_by_mitigating_control",
        "code_not_reachable" => "code_not_reachable",
        "code_not_present" => "code_not_present",
        _ => "code_not_reachable",
    }
}

/// A CycloneDX 1.6 SBOM of inventories read from lockfiles and manifests (SBOM
/// generation for those who have none): one component per distinct package URL, with
/// where it was found; the subject as `metadata.component`.
pub fn to_cyclonedx_sbom(
    subject: &str,
    subject_version: &str,
    now: &str,
    inventories: &[crate::inventory::Inventory],
) -> Value {
    let mut seen: BTreeMap<&str, Value> = BTreeMap::new();
    for inv in inventories {
        for c in &inv.components {
            if seen.contains_key(c.purl.as_str()) {
                continue;
            }
            let (group, name) = split_name(c.ecosystem, &c.name);
            let mut v = json!({
                "type": "library",
                "bom-ref": c.purl,
                "name": name,
                "version": c.version,
                "purl": c.purl,
                "properties": [
                    {"name": "haechi:source", "value": inv.source},
                    {"name": "haechi:location", "value": c.location},
                ],
            });
            if let Some(g) = group {
                v["group"] = json!(g);
            }
            seen.insert(c.purl.as_str(), v);
        }
    }
    let mut subject_component =
        json!({"type": "application", "bom-ref": "subject", "name": subject});
    if !subject_version.is_empty() {
        subject_component["version"] = json!(subject_version);
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid(subject, now)),
        "version": 1,
        "metadata": {
            "timestamp": now,
            "tools": {"components": [{"type": "application", "name": "Haechi", "version": env!("CARGO_PKG_VERSION")}]},
            "component": subject_component,
        },
        "components": seen.into_values().collect::<Vec<_>>(),
    })
}

/// CycloneDX's group and name: Maven `group:artifact`, npm `@scope/name`, Composer
/// `vendor/package`; others (Go module paths included) keep their whole name.
fn split_name(eco: crate::Ecosystem, name: &str) -> (Option<&str>, &str) {
    use crate::Ecosystem;
    match eco {
        Ecosystem::Maven => name
            .split_once(':')
            .map_or((None, name), |(g, a)| (Some(g), a)),
        Ecosystem::Npm if name.starts_with('@') => name
            .split_once('/')
            .map_or((None, name), |(g, a)| (Some(g), a)),
        Ecosystem::Packagist => name
            .split_once('/')
            .map_or((None, name), |(g, a)| (Some(g), a)),
        _ => (None, name),
    }
}
