//! VEX: what suppliers and analysts say about a vulnerability in a product. Statements
//! are read from CycloneDX VEX (`vulnerabilities[].analysis` with `affects[].ref`) and
//! OpenVEX (`statements[]`), applied to findings (`not_affected` and `fixed` suppress a
//! finding, with the justification kept; a KEV-listed finding is never suppressed, only
//! annotated), and written back as OpenVEX.

use crate::matcher::Finding;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The four states OpenVEX names (CycloneDX's are mapped onto them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    NotAffected,
    Fixed,
    Affected,
    UnderInvestigation,
}

impl VexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Fixed => "fixed",
            VexStatus::Affected => "affected",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }

    /// Whether a finding with this status stops counting as open.
    pub fn closes(self) -> bool {
        matches!(self, VexStatus::NotAffected | VexStatus::Fixed)
    }
}

/// One statement: a vulnerability (and its aliases) in some products.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VexStatement {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    /// Package URLs; one without a version covers every version.
    pub products: Vec<String>,
    pub status: VexStatus,
    pub justification: Option<String>,
    pub detail: Option<String>,
    /// The document it came from.
    pub source: String,
}

/// A statement as applied to a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexApplied {
    pub status: VexStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub source: String,
    /// Set when the statement would suppress the finding but the finding is KEV-listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// Reads a CycloneDX VEX or OpenVEX document. Product references that are not package
/// URLs (bare `bom-ref`s) cannot be matched and are returned as the second value.
pub fn read(source: &str, text: &str) -> Result<(Vec<VexStatement>, Vec<String>), String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let openvex = doc
        .get("@context")
        .and_then(Value::as_str)
        .is_some_and(|c| c.contains("openvex"));
    if openvex {
        return openvex_statements(source, &doc);
    }
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return cyclonedx_statements(source, &doc);
    }
    Err("neither OpenVEX (@context) nor CycloneDX (bomFormat) VEX".into())
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn openvex_statements(
    source: &str,
    doc: &Value,
) -> Result<(Vec<VexStatement>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut unresolved = Vec::new();
    for (i, s) in doc
        .get("statements")
        .and_then(Value::as_array)
        .ok_or("OpenVEX without statements")?
        .iter()
        .enumerate()
    {
        let (vulnerability, aliases) = match s.get("vulnerability") {
            Some(Value::String(v)) => (v.clone(), Vec::new()),
            Some(v) => (
                v.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                strs(v.get("aliases")),
            ),
            None => return Err(format!("statement {i}: no vulnerability")),
        };
        let status = match s.get("status").and_then(Value::as_str) {
            Some("not_affected") => VexStatus::NotAffected,
            Some("fixed") => VexStatus::Fixed,
            Some("affected") => VexStatus::Affected,
            Some("under_investigation") => VexStatus::UnderInvestigation,
            other => return Err(format!("statement {i}: unknown status {other:?}")),
        };
        let mut products = Vec::new();
        for p in s
            .get("products")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let id = p
                .as_str()
                .or_else(|| p.get("@id").and_then(Value::as_str))
                .unwrap_or("");
            let purl = p
                .get("identifiers")
                .and_then(|x| x.get("purl"))
                .and_then(Value::as_str)
                .unwrap_or(id);
            if purl.starts_with("pkg:") {
                products.push(purl.to_owned());
            } else {
                unresolved.push(id.to_owned());
            }
        }
        out.push(VexStatement {
            vulnerability,
            aliases,
            products,
            status,
            justification: s
                .get("justification")
                .and_then(Value::as_str)
                .map(str::to_owned),
            detail: s
                .get("impact_statement")
                .or_else(|| s.get("status_notes"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            source: source.to_owned(),
        });
    }
    Ok((out, unresolved))
}

fn cyclonedx_statements(
    source: &str,
    doc: &Value,
) -> Result<(Vec<VexStatement>, Vec<String>), String> {
    let mut out = Vec::new();
    let mut unresolved = Vec::new();
    for v in doc
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .ok_or("CycloneDX document without vulnerabilities: not a VEX")?
    {
        let Some(analysis) = v.get("analysis") else {
            continue; // a vulnerability without an analysis states nothing
        };
        let state = analysis.get("state").and_then(Value::as_str).unwrap_or("");
        let (status, implied) = match state {
            "not_affected" => (VexStatus::NotAffected, None),
            "false_positive" => (VexStatus::NotAffected, Some("false_positive")),
            "resolved" | "resolved_with_pedigree" => (VexStatus::Fixed, None),
            "exploitable" => (VexStatus::Affected, None),
            "in_triage" => (VexStatus::UnderInvestigation, None),
            other => return Err(format!("unknown analysis state '{other}'")),
        };
        let mut products = Vec::new();
        for a in v
            .get("affects")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let r = a.get("ref").and_then(Value::as_str).unwrap_or("");
            // A BOM-Link (`urn:cdx:serial/version#ref`) names the ref after the `#`.
            let r = r.rsplit_once('#').map_or(r, |(_, frag)| frag);
            if r.starts_with("pkg:") {
                products.push(r.to_owned());
            } else {
                unresolved.push(r.to_owned());
            }
        }
        out.push(VexStatement {
            vulnerability: v.get("id").and_then(Value::as_str).unwrap_or("").to_owned(),
            aliases: Vec::new(),
            products,
            status,
            justification: analysis
                .get("justification")
                .and_then(Value::as_str)
                .or(implied)
                .map(str::to_owned),
            detail: analysis
                .get("detail")
                .and_then(Value::as_str)
                .map(str::to_owned),
            source: source.to_owned(),
        });
    }
    Ok((out, unresolved))
}

/// Same package (type, namespace, name) and, when the statement gives one, the same
/// version; qualifiers and subpaths do not matter.
fn product_covers(product: &str, purl: &str) -> bool {
    let (Ok(p), Ok(f)) = (
        product.parse::<packageurl::PackageUrl<'_>>(),
        purl.parse::<packageurl::PackageUrl<'_>>(),
    ) else {
        return false;
    };
    p.ty() == f.ty()
        && p.namespace() == f.namespace()
        && p.name() == f.name()
        && p.version().is_none_or(|v| Some(v) == f.version())
}

fn names(f: &Finding) -> impl Iterator<Item = &str> {
    std::iter::once(f.id.as_str()).chain(f.aliases.iter().map(String::as_str))
}

/// Applies statements to findings: each finding gets the first statement that covers
/// it; the closed ones (not affected, fixed) are moved out and returned, except
/// KEV-listed ones, which stay with the statement noted.
pub fn apply(statements: &[VexStatement], findings: &mut Vec<Finding>) -> Vec<Finding> {
    let mut suppressed = Vec::new();
    let mut kept = Vec::with_capacity(findings.len());
    for mut f in findings.drain(..) {
        let hit = statements.iter().find(|s| {
            let ids: Vec<&str> = std::iter::once(s.vulnerability.as_str())
                .chain(s.aliases.iter().map(String::as_str))
                .collect();
            names(&f).any(|n| ids.contains(&n))
                && s.products.iter().any(|p| product_covers(p, &f.purl))
        });
        if let Some(s) = hit {
            let never = s.status.closes() && f.kev;
            f.vex = Some(VexApplied {
                status: s.status,
                justification: s.justification.clone(),
                detail: s.detail.clone(),
                source: s.source.clone(),
                kept: never.then(|| "KEV-listed findings are never suppressed".to_owned()),
            });
            if s.status.closes() && !never {
                suppressed.push(f);
                continue;
            }
        }
        kept.push(f);
    }
    *findings = kept;
    suppressed
}

/// An OpenVEX 0.2.0 document of findings: open ones `affected` (or what a statement
/// said), closed ones with their status and justification.
pub fn to_openvex(author: &str, timestamp: &str, findings: &[&Finding]) -> Value {
    let statements: Vec<Value> = findings
        .iter()
        .map(|f| {
            let (status, justification, detail) = match &f.vex {
                Some(v) => (v.status, v.justification.clone(), v.detail.clone()),
                None => (VexStatus::Affected, None, None),
            };
            let mut s = json!({
                "vulnerability": {"name": f.id, "aliases": f.aliases},
                "products": [{"@id": f.purl}],
                "status": status.as_str(),
            });
            if let Some(j) = justification {
                s["justification"] = json!(j);
            }
            if let Some(d) = detail {
                s["impact_statement"] = json!(d);
            }
            if status == VexStatus::Affected {
                s["action_statement"] = json!(if f.fixed.is_empty() {
                    "No fixed version is known: mitigate or replace the component".to_owned()
                } else {
                    format!("Upgrade {} to {}", f.package, f.fixed.join(" or "))
                });
            }
            s
        })
        .collect();
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:haechi:vex:{}", timestamp.replace([':', '-'], "")),
        "author": author,
        "timestamp": timestamp,
        "version": 1,
        "statements": statements,
    })
}
