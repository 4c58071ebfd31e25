//! SBOM readers written against the specifications, tolerant across their versions:
//! CycloneDX 1.2–1.6 (JSON and XML, nested components), SPDX 2.2/2.3 (JSON and
//! tag-value) and SPDX 3.0 (JSON-LD `@graph`). The subject of the document (CycloneDX
//! `metadata.component`) is not a dependency and is not read.

use super::Inventory;
use serde_json::Value;

pub fn read_json(source: &str, doc: &Value) -> Result<Inventory, String> {
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        return Ok(cyclonedx_json(source, doc));
    }
    if let Some(v) = doc.get("spdxVersion").and_then(Value::as_str) {
        return Ok(spdx2_json(source, v, doc));
    }
    if doc.get("@graph").is_some() {
        return Ok(spdx3_json(source, doc));
    }
    Err("JSON that is neither CycloneDX (bomFormat) nor SPDX (spdxVersion, @graph)".into())
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn cyclonedx_json(source: &str, doc: &Value) -> Inventory {
    let spec = str_of(doc, "specVersion");
    let mut inv = Inventory::new(source, format!("cyclonedx-json {spec}"));
    if let Some(list) = doc.get("components").and_then(Value::as_array) {
        cyclonedx_components(&mut inv, list, "components");
    }
    inv
}

fn cyclonedx_components(inv: &mut Inventory, list: &[Value], path: &str) {
    for (i, c) in list.iter().enumerate() {
        let location = format!("{path}[{i}]");
        let group = str_of(c, "group");
        let base = str_of(c, "name");
        let name = if group.is_empty() {
            base.to_owned()
        } else {
            format!("{group}/{base}")
        };
        let version = str_of(c, "version");
        let cpe = c.get("cpe").and_then(Value::as_str);
        match c
            .get("purl")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            Some(purl) => inv.add_purl(purl, &name, version, location.clone(), cpe),
            None => inv.unidentified(&name, version, location.clone(), cpe),
        }
        if let Some(children) = c.get("components").and_then(Value::as_array) {
            cyclonedx_components(inv, children, &format!("{location}.components"));
        }
    }
}

pub fn read_cyclonedx_xml(source: &str, text: &str) -> Result<Inventory, String> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts)
        .map_err(|e| format!("invalid XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "bom" {
        return Err(format!(
            "XML root <{}> is not a CycloneDX <bom>",
            root.tag_name().name()
        ));
    }
    let spec = root
        .tag_name()
        .namespace()
        .and_then(|ns| ns.rsplit('/').next())
        .unwrap_or("");
    let mut inv = Inventory::new(source, format!("cyclonedx-xml {spec}"));
    if let Some(components) = child(root, "components") {
        xml_components(&mut inv, components, "bom/components");
    }
    Ok(inv)
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|n| n.is_element() && n.tag_name().name() == name)
}

fn child_text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    child(node, name)
        .and_then(|n| n.text())
        .unwrap_or("")
        .trim()
}

fn xml_components(inv: &mut Inventory, list: roxmltree::Node<'_, '_>, path: &str) {
    let components = list
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "component");
    for (i, c) in components.enumerate() {
        let location = format!("{path}/component[{}]", i + 1);
        let group = child_text(c, "group");
        let base = child_text(c, "name");
        let name = if group.is_empty() {
            base.to_owned()
        } else {
            format!("{group}/{base}")
        };
        let version = child_text(c, "version");
        let cpe = Some(child_text(c, "cpe")).filter(|s| !s.is_empty());
        match Some(child_text(c, "purl")).filter(|p| !p.is_empty()) {
            Some(purl) => inv.add_purl(purl, &name, version, location.clone(), cpe),
            None => inv.unidentified(&name, version, location.clone(), cpe),
        }
        if let Some(children) = child(c, "components") {
            xml_components(inv, children, &format!("{location}/components"));
        }
    }
}

fn spdx2_json(source: &str, version: &str, doc: &Value) -> Inventory {
    let mut inv = Inventory::new(source, format!("spdx-json {version}"));
    let Some(packages) = doc.get("packages").and_then(Value::as_array) else {
        return inv;
    };
    for (i, p) in packages.iter().enumerate() {
        let id = str_of(p, "SPDXID");
        let location = format!("packages[{i}] {id}");
        let name = str_of(p, "name");
        let version = str_of(p, "versionInfo");
        let refs = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let locator = |types: &[&str]| {
            refs.iter()
                .find(|r| types.contains(&str_of(r, "referenceType")))
                .map(|r| str_of(r, "referenceLocator"))
        };
        let cpe = locator(&["cpe23Type", "cpe22Type"]);
        match locator(&["purl"]) {
            Some(purl) => inv.add_purl(purl, name, version, location, cpe),
            None => inv.unidentified(name, version, location, cpe),
        }
    }
    inv
}

/// SPDX 3.0 JSON-LD: `software_Package` elements of the graph (the `software_` prefix
/// of the compacted context is optional here).
fn spdx3_json(source: &str, doc: &Value) -> Inventory {
    let mut inv = Inventory::new(source, "spdx-jsonld 3.0");
    let Some(graph) = doc.get("@graph").and_then(Value::as_array) else {
        return inv;
    };
    let field = |e: &Value, key: &str| -> String {
        e.get(format!("software_{key}"))
            .or_else(|| e.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    for (i, e) in graph.iter().enumerate() {
        let ty = str_of(e, "type");
        if ty != "software_Package" && ty != "Package" {
            continue;
        }
        let location = format!("@graph[{i}] {}", str_of(e, "spdxId"));
        let name = str_of(e, "name");
        let version = field(e, "packageVersion");
        let identifiers = e
            .get("externalIdentifier")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let identifier = |kind: &str| {
            identifiers
                .iter()
                .find(|x| str_of(x, "externalIdentifierType") == kind)
                .map(|x| str_of(x, "identifier").to_owned())
        };
        let purl = Some(field(e, "packageUrl"))
            .filter(|p| !p.is_empty())
            .or_else(|| identifier("packageUrl"));
        let cpe = identifier("cpe23").or_else(|| identifier("cpe22"));
        match purl {
            Some(purl) => inv.add_purl(&purl, name, &version, location, cpe.as_deref()),
            None => inv.unidentified(name, &version, location, cpe.as_deref()),
        }
    }
    inv
}

/// SPDX 2.x tag-value: `PackageName:` opens a package; `PackageVersion:` and
/// `ExternalRef: <category> <type> <locator>` describe it; `<text>` blocks are skipped.
pub fn read_spdx_tag_value(source: &str, text: &str) -> Inventory {
    #[derive(Default)]
    struct Pkg {
        name: String,
        version: String,
        purl: Option<String>,
        cpe: Option<String>,
        line: usize,
    }
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("SPDXVersion:"))
        .map(|v| v.trim().trim_start_matches("SPDX-").to_owned())
        .unwrap_or_default();
    let mut inv = Inventory::new(source, format!("spdx-tag-value {version}"));
    let mut packages: Vec<Pkg> = Vec::new();
    let mut in_text = false;
    for (n, line) in text.lines().enumerate() {
        if in_text {
            if line.contains("</text>") {
                in_text = false;
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.starts_with("<text>") && !value.contains("</text>") {
            in_text = true;
        }
        match key.trim() {
            "PackageName" => packages.push(Pkg {
                name: value.to_owned(),
                line: n + 1,
                ..Pkg::default()
            }),
            "PackageVersion" => {
                if let Some(p) = packages.last_mut() {
                    p.version = value.to_owned();
                }
            }
            "ExternalRef" => {
                let mut parts = value.split_whitespace();
                let (_category, ty, locator) = (parts.next(), parts.next(), parts.next());
                if let (Some(p), Some(ty), Some(locator)) = (packages.last_mut(), ty, locator) {
                    match ty {
                        "purl" => p.purl = Some(locator.to_owned()),
                        "cpe23Type" | "cpe22Type" => p.cpe = Some(locator.to_owned()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    for p in packages {
        let location = format!("line {}", p.line);
        match &p.purl {
            Some(purl) => inv.add_purl(purl, &p.name, &p.version, location, p.cpe.as_deref()),
            None => inv.unidentified(&p.name, &p.version, location, p.cpe.as_deref()),
        }
    }
    inv
}
